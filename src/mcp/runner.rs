//! The server's own run: at most one at a time, on a thread of its own, cancelled and
//! waited for when the server ends so that no phase outlives it.

use std::path::PathBuf;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;

use crate::error::Error;
use crate::exec::{CancelToken, Finished, Run, RunOptions};
use crate::pipeline::Pipeline;
use crate::state::{PipelineState, PipelineStatus};
use crate::store::StateHandle;

/// A run this server started.
#[derive(Debug)]
struct OwnRun {
    pipeline: String,
    handle: StateHandle,
    cancel: CancelToken,
    thread: Option<JoinHandle<Result<Finished, Error>>>,
    ended: Option<Ended>,
}

/// How the last run ended, once its thread is joined.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Ended {
    /// It ran to its end with this status.
    Status(PipelineStatus),
    /// It could not be carried out or recorded.
    Error(String),
}

/// Why a run was not started.
#[derive(Debug)]
pub(crate) enum Refused {
    /// Another run of this server is in progress.
    Busy {
        /// The running pipeline's name.
        pipeline: String,
    },
    /// The run could not be set up (for example, the timeline cannot be written).
    Setup(Error),
}

/// Starts, cancels and outlives the server's runs.
#[derive(Debug, Default)]
pub(crate) struct Runner {
    current: Mutex<Option<OwnRun>>,
}

impl Runner {
    fn lock(&self) -> MutexGuard<'_, Option<OwnRun>> {
        self.current.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts `pipeline` on a thread of its own, recording its timeline at `timeline`.
    /// Output is always captured: the server's stdout carries the protocol.
    pub fn start(
        &self,
        pipeline: &Pipeline,
        timeline: Option<PathBuf>,
        jobs: Option<usize>,
    ) -> Result<(), Refused> {
        let mut current = self.lock();
        if let Some(run) = current.as_ref().filter(|r| !r.over()) {
            return Err(Refused::Busy { pipeline: run.pipeline.clone() });
        }
        if let Some(mut previous) = current.take() {
            previous.join();
        }
        let cancel = CancelToken::new();
        let options = RunOptions {
            jobs,
            capture: Some(true),
            timeline,
            cancel: cancel.clone(),
            // A request is answered now: another run writing the timeline folder refuses
            // this one rather than holding the server up until it ends.
            wait_for_lock: false,
            ..RunOptions::default()
        };
        let run = Run::new(pipeline, options).map_err(Refused::Setup)?;
        let handle = run.handle();
        let thread = std::thread::Builder::new()
            .name("milo-mcp-run".into())
            .spawn(move || run.execute())
            .map_err(|e| Refused::Setup(Error::system("starting the run's thread", e)))?;
        *current = Some(OwnRun {
            pipeline: pipeline.name().to_owned(),
            handle,
            cancel,
            thread: Some(thread),
            ended: None,
        });
        Ok(())
    }

    /// The state of the run in progress, if one is.
    pub fn running(&self) -> Option<StateHandle> {
        self.lock().as_ref().filter(|r| !r.finished()).map(|r| r.handle.clone())
    }

    /// Cancels the run in progress: `Ok(pipeline)`, or `Err(how the last one ended)`.
    pub fn cancel(&self) -> Result<String, Option<(String, Ended)>> {
        let mut current = self.lock();
        match current.as_mut() {
            Some(run) if !run.over() => {
                run.cancel.cancel();
                Ok(run.pipeline.clone())
            }
            Some(run) => Err(Some((run.pipeline.clone(), run.join()))),
            None => Err(None),
        }
    }

    /// Cancels the run in progress and waits for it: every phase has ended on return.
    pub fn shutdown(&self) {
        let run = self.lock().take();
        if let Some(mut run) = run {
            run.cancel.cancel();
            run.join();
        }
    }
}

impl OwnRun {
    fn finished(&self) -> bool {
        self.thread.as_ref().is_none_or(JoinHandle::is_finished)
    }

    /// Whether the run is over as the agent sees it: its state has its final status (the
    /// last action; the thread then only writes the final timeline, which `join` waits for),
    /// or its thread ended. Deciding by the thread alone, `cancel` right after the timeline
    /// said `cancelled` would answer "cancelling" again.
    fn over(&self) -> bool {
        let ended = |s: &PipelineState| {
            matches!(
                s.status,
                PipelineStatus::Completed | PipelineStatus::Failed | PipelineStatus::Cancelled
            )
        };
        self.handle.with(ended) || self.finished()
    }

    /// Waits for the thread (once) and says how the run ended.
    fn join(&mut self) -> Ended {
        if let Some(thread) = self.thread.take() {
            self.ended = Some(match thread.join() {
                Ok(Ok(finished)) => Ended::Status(finished.state.status),
                Ok(Err(e)) => Ended::Error(e.to_string()),
                Err(_) => Ended::Error("the run's thread panicked".to_owned()),
            });
        }
        self.ended.clone().unwrap_or_else(|| Ended::Status(self.handle.with(|s| s.status)))
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        self.shutdown();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::action::Action;
    use crate::phase::Phase;
    use crate::store::Store;

    /// A run whose state says `action` happened last while its thread still works (it waits
    /// for the test), as a run's thread does while it writes the final timeline.
    fn lingering(action: Option<Action>) -> (Runner, mpsc::Sender<()>) {
        let pipeline = Pipeline::new("p").phase(Phase::cmd("a", "true")).build().expect("valid");
        let mut store = Store::new(PipelineState::new(&pipeline));
        store.dispatch(Action::PipelineStart { started_at: String::new(), t: 0.0 });
        if let Some(action) = action {
            store.dispatch(action);
        }
        let (release, released) = mpsc::channel::<()>();
        let handle = store.handle();
        let thread = std::thread::spawn(move || {
            let _ = released.recv();
            Ok(Finished { state: store.into_state(), warnings: Vec::new(), timeline_error: None })
        });
        let run = OwnRun {
            pipeline: "p".into(),
            handle,
            cancel: CancelToken::new(),
            thread: Some(thread),
            ended: None,
        };
        (Runner { current: Mutex::new(Some(run)) }, release)
    }

    #[test]
    fn a_run_whose_state_has_ended_is_over_before_its_thread_is() {
        let (runner, release) = lingering(Some(Action::PipelineCancelled { t: 1.0 }));
        let run = runner.lock();
        let run = run.as_ref().expect("a run");
        assert!(!run.finished(), "the thread is still at work");
        assert!(run.over(), "the state says it ended: a cancel must not be taken again");
        drop(release);
    }

    #[test]
    fn a_run_still_running_is_not_over() {
        let (runner, release) = lingering(None);
        assert!(!runner.lock().as_ref().expect("a run").over());
        assert_eq!(runner.cancel(), Ok("p".to_owned()), "cancelled now");
        drop(release);
    }
}
