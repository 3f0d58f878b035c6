//! Processes that leave their phase's process group (`setsid`, daemons) escape the group
//! signals. On Linux cargo-milo becomes their reaper (`PR_SET_CHILD_SUBREAPER`), so that once
//! every phase has ended, whatever is left is its child and can be ended too.
//!
//! CLI only: a library caller's process may have children of its own.

/// Makes this process the reaper of its orphaned descendants. Returns whether it took effect.
pub fn adopt() -> bool {
    #[cfg(target_os = "linux")]
    {
        nix::sys::prctl::set_child_subreaper(true).is_ok()
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Kills and reaps every child process still alive. Call it when every phase has ended: any
/// child left then is a descendant that escaped its phase's group. Returns how many it ended.
pub fn end_all() -> usize {
    #[cfg(target_os = "linux")]
    {
        use nix::sys::signal::{Signal, kill};
        use nix::sys::wait::waitpid;
        use nix::unistd::Pid;

        let mut ended = 0;
        // A killed escapee's own children are adopted in turn: a few rounds catch a chain.
        for _ in 0..8 {
            let pids = children();
            if pids.is_empty() {
                break;
            }
            for pid in pids {
                let pid = Pid::from_raw(pid);
                if kill(pid, Signal::SIGKILL).is_ok() {
                    ended += 1;
                }
                let _ = waitpid(pid, None);
            }
        }
        ended
    }
    #[cfg(not(target_os = "linux"))]
    {
        0
    }
}

/// The pids of this process's children, from `/proc/self/task/*/children`.
#[cfg(target_os = "linux")]
fn children() -> Vec<i32> {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return Vec::new() };
    let mut pids: Vec<i32> = tasks
        .flatten()
        .filter_map(|task| std::fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| text.split_whitespace().filter_map(|p| p.parse().ok()).collect::<Vec<_>>())
        .collect();
    pids.sort_unstable();
    pids.dedup();
    pids
}
