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
//! let state = run(&pipeline, options)?;
//! assert_eq!(state.status, PipelineStatus::Completed);
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
mod run;
pub mod signals;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

pub use event::{AttemptId, Event, EventSink, Exit};
pub use process::{ChildProcess, CommandRequest, Direct, ProcessSpawner, Spawner, Started};
pub use run::Run;

use crate::error::Error;
use crate::pipeline::Pipeline;
use crate::state::PipelineState;
use crate::store::Subscriber;

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

    /// How many times [`cancel`](Self::cancel) was called.
    pub fn times(&self) -> u32 {
        self.0.count.load(Ordering::SeqCst)
    }

    fn set_waker(&self, tx: Option<(SyncSender<Event>, event::Waker)>) {
        *self.0.waker.lock().unwrap_or_else(PoisonError::into_inner) = tx;
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
    /// Write the timeline here, and every phase's full log under `logs/` beside it.
    pub timeline: Option<PathBuf>,
    /// Rank phases by these durations (seconds by name) instead of the previous timeline's.
    pub durations: Option<HashMap<String, f64>>,
    /// Stops the run when cancelled.
    pub cancel: CancelToken,
    /// More store subscribers (progress, a detail view, your own), in order.
    pub subscribers: Vec<Subscriber>,
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
            durations: None,
            cancel: CancelToken::new(),
            subscribers: Vec::new(),
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
            .field("subscribers", &self.subscribers.len())
            .field("grace", &self.grace)
            .field("drain", &self.drain)
            .field("given", &self.given.len())
            .finish_non_exhaustive()
    }
}

/// Runs `pipeline` to its end and returns the final state.
///
/// A failed or cancelled pipeline is still `Ok`: look at
/// [`PipelineState::status`]. `Err` means the run could not be set up or recorded (for
/// example, the timeline's folder cannot be created).
pub fn run(pipeline: &Pipeline, options: RunOptions) -> Result<PipelineState, Error> {
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
