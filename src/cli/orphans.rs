//! Processes that leave their phase's process group (`setsid`, daemons) escape the group
//! signals. On Linux cargo-milo becomes their reaper (`PR_SET_CHILD_SUBREAPER`), so that once
//! every phase has ended, whatever is left is its child: it ends those that really left their
//! phase's group — unless their phase keeps its daemons (`keep_daemons`, `--keep-daemons`) —
//! and silently reaps the rest (the phases' own processes, killed with their group).
//!
//! CLI only: a library caller's process may have children of its own.

use std::io;
use std::sync::{Arc, Mutex, PoisonError};

use crate::exec::{CommandRequest, EventSink, Spawner, Started};
use crate::pipeline::Pipeline;

/// Which escaped processes stay running after the run.
#[derive(Debug, Default)]
pub struct Keep {
    /// Every one (`--keep-daemons`).
    pub all: bool,
    /// The pipeline whose phases are named in `phases`.
    pub pipeline: String,
    /// Phases with `keep_daemons = true`.
    pub phases: Vec<String>,
}

impl Keep {
    /// What `pipeline` keeps, everything when `all`.
    pub fn of(pipeline: &Pipeline, all: bool) -> Self {
        let phases = pipeline.phases().iter().filter(|p| p.keep_daemons);
        Self {
            all,
            pipeline: pipeline.name().to_owned(),
            phases: phases.map(|p| p.name.clone()).collect(),
        }
    }

    /// Whether a process that escaped from phase `phase` of pipeline `pipeline` (as its
    /// inherited `MILO_PIPELINE` / `MILO_PHASE` say; `None` when unknown) stays running.
    fn keeps(&self, from: Option<(&str, &str)>) -> bool {
        self.all
            || from.is_some_and(|(pipeline, phase)| {
                pipeline == self.pipeline && self.phases.iter().any(|p| p == phase)
            })
    }
}

/// This process adopts the phases' orphans and knows the phases' process groups.
#[derive(Debug, Clone, Default)]
pub struct Adoption {
    groups: Arc<Mutex<Vec<i32>>>,
}

impl Adoption {
    /// Makes this process the reaper of its orphaned descendants; `None` where that is not
    /// possible (outside Linux, such processes go to init and cannot be found).
    pub fn start() -> Option<Self> {
        #[cfg(target_os = "linux")]
        {
            nix::sys::prctl::set_child_subreaper(true).ok().map(|()| Self::default())
        }
        #[cfg(not(target_os = "linux"))]
        {
            None
        }
    }

    /// `spawner`, recording the process group of every phase it starts.
    pub fn record(&self, spawner: Arc<dyn Spawner>) -> Arc<dyn Spawner> {
        Arc::new(Recording { inner: spawner, groups: Arc::clone(&self.groups) })
    }

    /// Call it when every phase has ended. Every child left then is a zombie (reaped), a
    /// process of a phase's group (killed with it: reaped), or one that left its group:
    /// ended, unless `keep` keeps it. Returns how many of those it ended.
    pub fn end_escaped(&self, keep: &Keep) -> usize {
        #[cfg(target_os = "linux")]
        {
            let mut groups = self.groups.lock().unwrap_or_else(PoisonError::into_inner).clone();
            groups.sort_unstable();
            linux::end_escaped(&groups, keep)
        }
        #[cfg(not(target_os = "linux"))]
        {
            let _ = keep;
            0
        }
    }
}

/// A spawner that writes down each phase's process group.
struct Recording {
    inner: Arc<dyn Spawner>,
    groups: Arc<Mutex<Vec<i32>>>,
}

impl Spawner for Recording {
    fn spawn(&self, request: &CommandRequest, sink: &EventSink) -> io::Result<Started> {
        let started = self.inner.spawn(request, sink)?;
        if let Some(pgid) = started.pgid {
            self.groups.lock().unwrap_or_else(PoisonError::into_inner).push(pgid);
        }
        Ok(started)
    }
}

#[cfg(target_os = "linux")]
mod linux {
    use nix::sys::signal::{Signal, kill};
    use nix::sys::wait::waitpid;
    use nix::unistd::Pid;

    use super::Keep;

    /// What a child process of cargo-milo is, once every phase has ended.
    enum Child {
        /// Dead, waiting to be reaped.
        Zombie,
        /// Alive in a phase's process group (already sent SIGKILL with it).
        InGroup,
        /// Alive outside every phase's group; from this pipeline and phase, when its
        /// environment says so.
        Escaped(Option<(String, String)>),
    }

    pub(super) fn end_escaped(groups: &[i32], keep: &Keep) -> usize {
        let mut ended = 0;
        let mut kept = Vec::new();
        // An ended escapee's own children are adopted in turn: a few rounds catch a chain.
        for _ in 0..8 {
            let pids: Vec<i32> = children().into_iter().filter(|p| !kept.contains(p)).collect();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let Some(child) = inspect(pid, groups) else { continue };
                if let Child::Escaped(from) = &child
                    && keep.keeps(from.as_ref().map(|(pl, ph)| (pl.as_str(), ph.as_str())))
                {
                    kept.push(pid);
                    continue;
                }
                let pid = Pid::from_raw(pid);
                if !matches!(child, Child::Zombie) {
                    let killed = kill(pid, Signal::SIGKILL).is_ok();
                    ended += usize::from(killed && matches!(child, Child::Escaped(_)));
                }
                let _ = waitpid(pid, None);
            }
        }
        ended
    }

    /// The pids of this process's children, from `/proc/self/task/*/children`.
    fn children() -> Vec<i32> {
        let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
        let mut pids: Vec<i32> = tasks
            .flatten()
            .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
            .flat_map(|text| {
                text.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<_>>()
            })
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }

    /// What child `pid` is; `None` when it is gone.
    fn inspect(pid: i32, groups: &[i32]) -> Option<Child> {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        let (state, pgrp) = parse_stat(&stat)?;
        Some(if matches!(state, 'Z' | 'X') {
            Child::Zombie
        } else if groups.binary_search(&pgrp).is_ok() {
            Child::InGroup
        } else {
            Child::Escaped(origin(pid))
        })
    }

    /// The state and process group from `/proc/PID/stat`: `pid (comm) state ppid pgrp …`,
    /// where `comm` may hold spaces and parentheses.
    pub(super) fn parse_stat(stat: &str) -> Option<(char, i32)> {
        let rest = &stat[stat.rfind(')')? + 1..];
        let mut fields = rest.split_whitespace();
        let state = fields.next()?.chars().next()?;
        let pgrp = fields.nth(1)?.parse().ok()?;
        Some((state, pgrp))
    }

    /// The pipeline and phase a process came from, by the `MILO_PIPELINE` and `MILO_PHASE`
    /// it inherited (as it was started: `/proc/PID/environ`).
    fn origin(pid: i32) -> Option<(String, String)> {
        let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
        let var = |name: &[u8]| {
            environ.split(|&b| b == 0).find_map(|entry| {
                let value = entry.strip_prefix(name)?.strip_prefix(b"=")?;
                Some(String::from_utf8_lossy(value).into_owned())
            })
        };
        Some((var(b"MILO_PIPELINE")?, var(b"MILO_PHASE")?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keep_names_phases_of_its_own_pipeline_or_everything() {
        let keep =
            Keep { all: false, pipeline: "ci".into(), phases: vec!["db".into(), "cache".into()] };
        assert!(keep.keeps(Some(("ci", "db"))));
        assert!(!keep.keeps(Some(("ci", "test"))));
        assert!(!keep.keeps(Some(("other", "db"))), "a nested pipeline's phase of the same name");
        assert!(!keep.keeps(None), "a process that cleared its environment");
        let all = Keep { all: true, ..Keep::default() };
        assert!(all.keeps(None) && all.keeps(Some(("x", "y"))));
    }

    #[cfg(target_os = "linux")]
    #[test]
    fn stat_lines_give_state_and_group_whatever_the_command_name() {
        assert_eq!(linux::parse_stat("42 (sleep) S 1 40 40 0 -1"), Some(('S', 40)));
        assert_eq!(linux::parse_stat("42 (a) b (c) Z 7 41 41 0"), Some(('Z', 41)));
        assert_eq!(linux::parse_stat("42 (sleep"), None);
        assert_eq!(linux::parse_stat(""), None);
    }
}
