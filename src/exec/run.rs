//! A prepared run: the store and its subscribers, the plan, the settings and the scratch
//! folder; [`Run::execute`] hands them to the executor loop and records the end.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::Duration;

use crate::action::Action;
use crate::artifact::{Notice, Record, WriteFailure};
use crate::clock::RealClock;
use crate::error::Error;
use crate::exec::command::Scratch;
use crate::exec::engine::{Engine, QUEUE};
use crate::exec::poll::Poller;
use crate::exec::record::{Finished, Recorder};
use crate::exec::{CancelToken, RunOptions, Spawner, effective_jobs};
use crate::observe::checks::Checks;
use crate::pipeline::Pipeline;
use crate::schedule::Plan;
use crate::state::PipelineState;
use crate::store::{StateHandle, Store, clear_active_pipeline, set_active_pipeline};

/// A prepared run: the store exists (subscribe to it, hand its state to other threads),
/// nothing has started. [`execute`](Self::execute) runs it.
pub struct Run {
    pub(super) pipeline: Arc<Pipeline>,
    pub(super) store: Store,
    pub(super) names: Vec<Arc<str>>,
    pub(super) plan: Plan,
    pub(super) jobs: usize,
    pub(super) fail_fast: bool,
    pub(super) capture: bool,
    pub(super) cancel: CancelToken,
    pub(super) grace: Duration,
    pub(super) drain: Duration,
    pub(super) spawner: Arc<dyn Spawner>,
    pub(super) recorder: Recorder,
    pub(super) scratch: Scratch,
    /// `run --only`: the phases that do not run (by position) and the results they hand on.
    pub(super) given: Vec<(usize, Option<serde_json::Value>)>,
    /// The up-to-date checks (with a timeline only: the fingerprints live beside it).
    pub(super) checks: Option<Checks>,
}

impl Run {
    /// Prepares a run of `pipeline`: with a timeline path, takes the lock on its folder
    /// (waiting while another run holds it, unless `options.wait_for_lock` is off); builds
    /// the store; subscribes `options.subscribers`, and the log writer then
    /// `options.background` on the subscriber thread.
    pub fn new(pipeline: &Pipeline, options: RunOptions) -> Result<Self, Error> {
        let settings = pipeline.settings();
        let mut state = PipelineState::new(pipeline);
        let timeline = options.timeline.as_deref();
        // Locked first: the previous timeline is read whole, not while another run writes it.
        let notify = options.notify.clone();
        let mut recorder =
            Recorder::new(timeline, &options.cancel, options.notify, options.wait_for_lock)?;
        // Read under the lock too: another run may be recording a success.
        let checks = timeline.map(|path| {
            let (checks, problem) = Checks::open(pipeline, path, options.force);
            if let (Some(problem), Some(notify)) = (&problem, &notify) {
                notify(&Notice::FingerprintsIgnored(problem));
            }
            checks
        });
        let durations = match options.durations {
            Some(d) => Some(d),
            None => timeline.and_then(crate::artifact::previous_durations),
        };
        let plan = Plan::new(pipeline, durations.as_ref());
        if timeline.is_some() {
            state.log_dir = Some(crate::artifact::LOG_DIR.to_owned());
        }
        let names: Vec<Arc<str>> = state.phases.iter().map(|p| Arc::clone(&p.name)).collect();
        let mut given = options.given;
        let given =
            names.iter().enumerate().filter_map(|(i, n)| Some((i, given.remove(&**n)?))).collect();
        let mut store = Store::new(state);
        recorder.attach(&mut store, options.subscribers, options.background)?;
        let scratch = Scratch::new()?;
        Ok(Self {
            pipeline: Arc::new(pipeline.clone()),
            store,
            names,
            plan,
            // One phase runs alone whatever `jobs` says: the machine's parallelism (a dozen
            // cgroup reads when `jobs` is 0) is not worth asking for.
            jobs: match pipeline.phases().len() {
                0 | 1 => 1,
                _ => effective_jobs(options.jobs.unwrap_or(settings.jobs)),
            },
            fail_fast: options.fail_fast.unwrap_or(settings.fail_fast),
            capture: options.capture.unwrap_or(settings.capture_output),
            cancel: options.cancel,
            grace: options.grace,
            drain: options.drain,
            spawner: options.spawner,
            recorder,
            scratch,
            given,
            checks,
        })
    }

    /// The store's state, readable from other threads while the run goes on.
    pub fn handle(&self) -> StateHandle {
        self.store.handle()
    }

    /// Adds a subscriber on the executor's thread (after the options' subscribers).
    pub fn subscribe(&mut self, subscriber: impl FnMut(&Action, &PipelineState) + Send + 'static) {
        self.store.subscribe(subscriber);
    }

    /// Runs the pipeline to its end and returns the final state (see [`run`](super::run)).
    pub fn execute(mut self) -> Result<Finished, Error> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let (poller, waker) = Poller::new(self.cancel.signal_socket())
            .map_err(|e| Error::system("creating the executor's wake-up socket", e))?;
        self.cancel.set_waker(Some((tx.clone(), waker.clone())));
        set_active_pipeline(Some(self.store.handle()));
        // Forwarded once per turn of the loop (see `Store::hold_forwarding`).
        self.store.hold_forwarding(true);
        let mut engine = Engine::new(&mut self, RealClock::start(), tx, waker, poller);
        engine.main_loop(&rx);
        // Dropping the loop ends whatever is left of the phases, then stops hearing SIGCHLD.
        drop(engine);
        if let Some(checks) = self.checks.as_mut()
            && let Err(source) = checks.finish()
        {
            let path = checks.path().to_owned();
            self.recorder.report(WriteFailure { record: Record::Fingerprints, path, source });
        }
        self.cancel.set_waker(None);
        clear_active_pipeline(&self.store.handle());
        self.store.hold_forwarding(false);
        Ok(self.recorder.finish(self.store))
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Run")
            .field("pipeline", &self.pipeline.name())
            .field("jobs", &self.jobs)
            .finish_non_exhaustive()
    }
}
