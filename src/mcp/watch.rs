//! Noticing change: five times a second, a cheap look at where the timeline comes from (the
//! metadata of the file another `cargo milo run` rewrites, or a fingerprint of a state in this
//! process) and at Milo.toml. Each change bumps a generation; each bump is at most one
//! `resources/updated` per subscribed URI, so subscribers hear at most five a second.
//!
//! Polling metadata rather than `notify`: the timeline is replaced by a rename, which an
//! inotify watch on the file loses (the folder would have to be watched and filtered), a
//! state in this process has no file at all, and one `stat` every 200 ms costs nothing.

use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::Path;
use std::sync::Weak;
use std::time::{Duration, SystemTime};

use tokio::sync::watch;

use super::resources::Live;
use super::server::Shared;
use crate::state::PipelineState;
use crate::store::with_active_pipeline;

/// How often the sources are looked at: at most five notifications a second.
pub const PERIOD: Duration = Duration::from_millis(200);

/// Counters that move when what a resource shows has changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Generations {
    /// The timeline (and so the phase logs).
    pub timeline: u64,
    /// Milo.toml.
    pub config: u64,
}

/// What a look at a source saw; a different look means a change.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Look {
    /// A state in this process, by fingerprint.
    State(u64),
    /// A file, by identity, size and modification time.
    File { inode: u64, len: u64, modified: Option<SystemTime> },
    /// Nothing there.
    #[default]
    Nothing,
}

/// Starts watching for `shared` (until it is dropped); subscribers read the generations.
pub(crate) fn spawn(shared: Weak<Shared>) -> watch::Receiver<Generations> {
    let (tx, rx) = watch::channel(Generations::default());
    tokio::spawn(async move {
        let mut ticks = tokio::time::interval(PERIOD);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let (mut timeline, mut config) = (None, None);
        loop {
            ticks.tick().await;
            let Some(shared) = shared.upgrade() else { return };
            let now = (look_at_timeline(&shared), shared.project.config_path().map(|p| file(&p)));
            drop(shared);
            let mut next = *tx.borrow();
            if timeline.replace(now.0).is_some_and(|before| before != now.0) {
                next.timeline += 1;
            }
            if config.replace(now.1).is_some_and(|before| before != now.1) {
                next.config += 1;
            }
            tx.send_if_modified(|current| std::mem::replace(current, next) != next);
        }
    });
    rx
}

fn look_at_timeline(shared: &Shared) -> Look {
    match shared.live() {
        Live::Own(handle) => Look::State(handle.with(fingerprint)),
        Live::Active => with_active_pipeline(fingerprint).map_or(Look::Nothing, Look::State),
        Live::File(path) => file(&path),
        Live::Nothing => Look::Nothing,
    }
}

/// Changes whenever an action changes what the timeline shows: each action changes a
/// status, an attempt or a line count, and `elapsed` follows the actions' times.
fn fingerprint(state: &PipelineState) -> u64 {
    let mut h = DefaultHasher::new();
    state.name.hash(&mut h);
    state.status.hash(&mut h);
    state.elapsed.to_bits().hash(&mut h);
    for p in &state.phases {
        p.status.hash(&mut h);
        p.attempt.hash(&mut h);
        p.logs.total().hash(&mut h);
    }
    h.finish()
}

fn file(path: &Path) -> Look {
    let Ok(meta) = std::fs::metadata(path) else { return Look::Nothing };
    let inode = std::os::unix::fs::MetadataExt::ino(&meta);
    Look::File { inode, len: meta.len(), modified: meta.modified().ok() }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Action;
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;
    use crate::reducer::reduce;

    #[test]
    fn every_action_changes_the_fingerprint() {
        let pipeline = Pipeline::new("p").phase(Phase::cmd("a", "true")).build().expect("valid");
        let actions = [
            Action::PipelineStart { started_at: "2026-01-01T00:00:00Z".into(), t: 0.0 },
            Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 },
            Action::PhaseLog {
                name: "a".into(),
                line: "x".into(),
                stream: crate::action::Stream::Stdout,
                t: 0.0,
            },
            Action::PhaseComplete { name: "a".into(), result: serde_json::Value::Null, t: 0.0 },
            Action::PipelineComplete { t: 0.0 },
        ];
        let mut state = PipelineState::new(&pipeline);
        let mut seen = vec![fingerprint(&state)];
        for action in &actions {
            state = reduce(state, action);
            let now = fingerprint(&state);
            assert!(!seen.contains(&now), "{action:?} left the fingerprint as it was");
            seen.push(now);
        }
    }

    #[test]
    fn a_rewritten_file_looks_different() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("t.json");
        assert_eq!(file(&path), Look::Nothing);
        std::fs::write(dir.path().join("new"), "{}").expect("write");
        std::fs::rename(dir.path().join("new"), &path).expect("rename");
        let first = file(&path);
        // The same size, written the same way, in the same instant: the inode differs.
        std::fs::write(dir.path().join("new"), "{}").expect("write");
        std::fs::rename(dir.path().join("new"), &path).expect("rename");
        assert_ne!(file(&path), first);
    }
}
