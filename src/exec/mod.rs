//! The executor: runs a [`Pipeline`] for real, the only part of a run with side effects.
//!
//! It owns the clock, starts phases as the [`schedule`](crate::schedule) allows, captures
//! their output, applies their policies, and dispatches every change as an [`Action`] into a
//! [`Store`]. It never changes state itself: subscribers (progress, the timeline writer, the
//! detail view, your own code) see exactly what the reducer folded.
//!
//! ```no_run
//! use milo::exec::{run, RunOptions};
//! use milo::{Phase, Pipeline, PipelineStatus};
//! let pipeline = Pipeline::new("ci")
//!     .phase(Phase::cmd("fmt", "cargo fmt --check").parallel(true))
//!     .phase(Phase::cmd("test", "cargo test").depends_on(["fmt"]))
//!     .build()?;
//! let options = RunOptions { timeline: Some("target/milo/timeline.json".into()), ..RunOptions::default() };
//! let finished = run(&pipeline, options)?;
//! assert_eq!(finished.state.status, PipelineStatus::Completed);
//! assert!(finished.timeline_error.is_none(), "the timeline shows how the run ended");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Action`]: crate::Action
//! [`Store`]: crate::Store

mod attempt;
mod command;
mod engine;
pub mod event;
mod func;
mod poll;
pub mod process;
mod record;
mod run;
pub mod signals;

use std::collections::HashMap;
use std::io;
use std::os::unix::net::UnixStream;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use event::{AttemptId, Event, EventSink, Exit};
pub use process::{ChildProcess, CommandRequest, Direct, ProcessSpawner, Spawner, Started};
pub use record::Finished;
pub use run::Run;

use crate::artifact::Notify;
use crate::error::Error;
use crate::pipeline::Pipeline;
use crate::store::Subscriber;
use crate::subscriber_thread::Consumer;

/// A request to stop a run, shareable between threads (Ctrl-C handlers, UIs, callers).
///
/// The first [`cancel`](Self::cancel) stops the run gracefully: running process groups get
/// SIGTERM, then SIGKILL after the grace period. A second one kills them at once.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<CancelInner>);

#[derive(Debug, Default)]
struct CancelInner {
    count: AtomicU32,
    waker: Mutex<Option<(SyncSender<Event>, event::Waker)>>,
    /// Where SIGINT and SIGTERM write a byte each ([`signals::cancel_on_signals`]).
    signals: Mutex<Option<UnixStream>>,
    /// Set by the same signal handler right after its byte: a byte waits to be counted.
    signalled: Arc<AtomicBool>,
}

impl CancelToken {
    /// A token nobody has cancelled yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Asks the run to stop (again: to stop now).
    pub fn cancel(&self) {
        self.0.count.fetch_add(1, Ordering::SeqCst);
        if let Some((tx, waker)) = &*self.0.waker.lock().unwrap_or_else(PoisonError::into_inner) {
            event::wake(tx);
            waker.wake();
        }
    }

    /// Whether [`cancel`](Self::cancel) was called.
    pub fn is_cancelled(&self) -> bool {
        self.times() > 0
    }

    /// How many times [`cancel`](Self::cancel) was called (a signal routed here by
    /// [`signals::cancel_on_signals`] counts as a call).
    pub fn times(&self) -> u32 {
        if self.0.signalled.load(Ordering::SeqCst) {
            self.absorb_signals();
        }
        self.0.count.load(Ordering::SeqCst)
    }

    fn set_waker(&self, tx: Option<(SyncSender<Event>, event::Waker)>) {
        *self.0.waker.lock().unwrap_or_else(PoisonError::into_inner) = tx;
    }

    fn set_signals(&self, socket: Option<UnixStream>) {
        *self.0.signals.lock().unwrap_or_else(PoisonError::into_inner) = socket;
    }

    /// A handle on the socket the signals write to, for a run to poll.
    fn signal_socket(&self) -> Option<UnixStream> {
        let socket = self.0.signals.lock().unwrap_or_else(PoisonError::into_inner);
        socket.as_ref().and_then(|s| s.try_clone().ok())
    }

    /// The flag a signal sets after writing its byte.
    fn signalled(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.0.signalled)
    }

    /// Counts the signals that arrived since the last call as cancellations.
    fn absorb_signals(&self) {
        // Cleared before the socket is read: a signal meanwhile sets it again.
        self.0.signalled.store(false, Ordering::SeqCst);
        let socket = self.0.signals.lock().unwrap_or_else(PoisonError::into_inner);
        let Some(mut socket) = socket.as_ref() else { return };
        let mut bytes = [0u8; 64];
        while let Ok(n @ 1..) = io::Read::read(&mut socket, &mut bytes) {
            let n = u32::try_from(n).unwrap_or(u32::MAX);
            self.0.count.fetch_add(n, Ordering::SeqCst);
        }
    }
}

/// How to run a pipeline. `None` fields fall back to the pipeline's own settings.
pub struct RunOptions {
    /// Most phases at once (`None`: the pipeline's `jobs`; 0: available parallelism).
    pub jobs: Option<usize>,
    /// Cancel running phases when one fails with `on_fail = "stop"`.
    pub fail_fast: Option<bool>,
    /// Capture output into the store (`false` passes it straight through).
    pub capture: Option<bool>,
    /// Write the timeline here, and every phase's full log under `logs/` beside it. The run
    /// holds a lock on this folder from start to end: a second run with a timeline in the
    /// same folder waits for it (and says so through [`notify`](Self::notify)).
    /// Phases with `inputs` are skipped while up to date, against the `fingerprints.json`
    /// beside it (without a timeline, every phase runs).
    pub timeline: Option<PathBuf>,
    /// Run every phase, up to date or not (successes are still recorded).
    pub force: bool,
    /// Rank phases by these durations (seconds by name) instead of the previous timeline's.
    pub durations: Option<HashMap<String, f64>>,
    /// Stops the run when cancelled.
    pub cancel: CancelToken,
    /// More store subscribers, in order, called on the executor's thread while the state is
    /// locked: for quick work only (counting, forwarding to a channel). A subscriber that
    /// writes somewhere belongs in [`background`](Self::background).
    pub subscribers: Vec<Subscriber>,
    /// Store subscribers run on the run's
    /// [`SubscriberThread`](crate::subscriber_thread::SubscriberThread), in order, after the
    /// writer of the log files (so a phase's log is complete when they see it end): for
    /// output to a terminal, a file, a socket. They see every action in dispatch order (with
    /// the state it produced, for a [`Consumer::State`]); the run returns once they have
    /// handled the last one. When they fall behind by
    /// [`QUEUE`](crate::subscriber_thread::QUEUE) messages, the executor waits for them (and
    /// phases wait on their output): memory stays bounded.
    pub background: Vec<Consumer>,
    /// Hears what the run has to say beside its state: that it waits for another run's
    /// lock, that a log or the timeline could not be written. Called on whichever thread
    /// noticed; `None` (the default) says nothing: the failures are still in the timeline's
    /// `warnings` and in [`Finished::warnings`].
    pub notify: Option<Notify>,
    /// When another run holds the lock on the timeline's folder: wait until it ends (the
    /// default; [`notify`](Self::notify) hears [`Notice::Waiting`](crate::artifact::Notice)),
    /// or, when `false`, fail at once with a usage error naming the folder (for a server that
    /// must answer now).
    pub wait_for_lock: bool,
    /// Time between SIGTERM and SIGKILL when cancelling.
    pub grace: Duration,
    /// How long to wait for a phase's pipes to close after its direct child exits, before
    /// its process group is killed.
    pub drain: Duration,
    /// Starts command phases (replace it to run phases somewhere else, or in tests).
    pub spawner: Arc<dyn Spawner>,
    /// Phases that do not run (`run --only`), by name: they count as done, their dependents
    /// get these results (`None`: null, as for a skipped phase), and they stay pending in
    /// the state and the timeline.
    pub given: HashMap<String, Option<serde_json::Value>>,
}

impl Default for RunOptions {
    fn default() -> Self {
        Self {
            jobs: None,
            fail_fast: None,
            capture: None,
            timeline: None,
            force: false,
            durations: None,
            cancel: CancelToken::new(),
            subscribers: Vec::new(),
            background: Vec::new(),
            notify: None,
            wait_for_lock: true,
            grace: Duration::from_secs(3),
            drain: Duration::from_millis(300),
            spawner: Arc::new(ProcessSpawner),
            given: HashMap::new(),
        }
    }
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("jobs", &self.jobs)
            .field("fail_fast", &self.fail_fast)
            .field("capture", &self.capture)
            .field("timeline", &self.timeline)
            .field("force", &self.force)
            .field("subscribers", &self.subscribers.len())
            .field("background", &self.background.len())
            .field("grace", &self.grace)
            .field("drain", &self.drain)
            .field("given", &self.given.len())
            .finish_non_exhaustive()
    }
}

/// Runs `pipeline` to its end and returns the final state, with what of its record could
/// not be written ([`Finished`]).
///
/// A failed or cancelled pipeline is still `Ok`: look at
/// [`PipelineState::status`](crate::PipelineState::status). So is a run whose final timeline
/// could not be written ([`Finished::timeline_error`]): the run's outcome stands. `Err`
/// means the run could not be set up, and nothing ran (for example, the timeline's folder
/// cannot be created, or the run was cancelled while waiting for another run's lock).
pub fn run(pipeline: &Pipeline, options: RunOptions) -> Result<Finished, Error> {
    Run::new(pipeline, options)?.execute()
}

/// The jobs a run uses: `requested`, or the available parallelism when 0.
pub fn effective_jobs(requested: usize) -> usize {
    if requested == 0 {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    } else {
        requested
    }
}

#[cfg(test)]
mod tests;
