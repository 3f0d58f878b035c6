//! The store: dispatch → reduce → notify subscribers; the published "active pipeline".

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::action::Action;
use crate::reducer::apply;
use crate::state::PipelineState;

/// A subscriber: called after every action with the action and the new state.
pub type Subscriber = Box<dyn FnMut(&Action, &PipelineState) + Send>;

/// Holds the pipeline state and folds every dispatched action into it.
///
/// One thread dispatches (the executor); subscribers run on that thread, in the order they
/// subscribed, after the state has changed. Other threads read the latest state through a
/// [`StateHandle`], which locks briefly and never copies unless asked to.
///
/// ```
/// use std::sync::{Arc, atomic::{AtomicUsize, Ordering}};
/// use milo::{Action, Phase, Pipeline, PipelineState, Store};
/// let pipeline = Pipeline::new("ci").phase(Phase::cmd("a", "true")).build()?;
/// let mut store = Store::new(PipelineState::new(&pipeline));
/// let seen = Arc::new(AtomicUsize::new(0));
/// let counter = Arc::clone(&seen);
/// store.subscribe(move |_action, _state| { counter.fetch_add(1, Ordering::Relaxed); });
/// store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
/// assert_eq!(seen.load(Ordering::Relaxed), 1);
/// # Ok::<(), milo::PipelineError>(())
/// ```
pub struct Store {
    state: StateHandle,
    subscribers: Vec<Subscriber>,
}

impl Store {
    /// A store holding `initial`.
    pub fn new(initial: PipelineState) -> Self {
        Self { state: StateHandle(Arc::new(Mutex::new(initial))), subscribers: Vec::new() }
    }

    /// Adds a subscriber, called after every later action.
    pub fn subscribe(&mut self, subscriber: impl FnMut(&Action, &PipelineState) + Send + 'static) {
        self.subscribers.push(Box::new(subscriber));
    }

    /// Folds `action` into the state, then notifies every subscriber.
    #[allow(clippy::needless_pass_by_value)] // owned: callers build actions to hand over
    pub fn dispatch(&mut self, action: Action) {
        let mut guard = self.state.lock();
        apply(&mut guard, &action);
        for subscriber in &mut self.subscribers {
            subscriber(&action, &guard);
        }
    }

    /// Folds each action in turn, notifying subscribers after each, holding the lock once
    /// for all of them (a batch of log lines).
    pub fn dispatch_all(&mut self, actions: impl IntoIterator<Item = Action>) {
        let mut guard = self.state.lock();
        for action in actions {
            apply(&mut guard, &action);
            for subscriber in &mut self.subscribers {
                subscriber(&action, &guard);
            }
        }
    }

    /// Runs `f` over the current state.
    pub fn with_state<R>(&self, f: impl FnOnce(&PipelineState) -> R) -> R {
        f(&self.state.lock())
    }

    /// A copy of the current state.
    pub fn state(&self) -> PipelineState {
        self.state.snapshot()
    }

    /// A handle other threads can read the latest state through.
    pub fn handle(&self) -> StateHandle {
        self.state.clone()
    }

    /// Consumes the store, returning the final state.
    pub fn into_state(self) -> PipelineState {
        match Arc::try_unwrap(self.state.0) {
            Ok(mutex) => mutex.into_inner().unwrap_or_else(PoisonError::into_inner),
            Err(shared) => shared.lock().unwrap_or_else(PoisonError::into_inner).clone(),
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("subscribers", &self.subscribers.len())
            .finish_non_exhaustive()
    }
}

/// A shared, read-only view of a store's latest state.
#[derive(Clone, Debug)]
pub struct StateHandle(Arc<Mutex<PipelineState>>);

impl StateHandle {
    fn lock(&self) -> MutexGuard<'_, PipelineState> {
        // A subscriber that panicked leaves a state that is still whole: reduce is total.
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` over the latest state, holding the lock only for the call.
    pub fn with<R>(&self, f: impl FnOnce(&PipelineState) -> R) -> R {
        f(&self.lock())
    }

    /// A copy of the latest state.
    pub fn snapshot(&self) -> PipelineState {
        self.lock().clone()
    }
}

// One per process. Tests that read it run in a process of their own (the doc tests below):
// in a shared test binary, any test that runs a pipeline publishes and clears it meanwhile.
static ACTIVE: Mutex<Option<StateHandle>> = Mutex::new(None);

/// Publishes `handle` as the active pipeline, the one [`active_pipeline`] reads; `None`
/// clears it. The executor publishes its store's handle while it runs.
///
/// ```
/// use milo::{Action, Phase, PhaseStatus, Pipeline, PipelineState, Store};
/// // A doc test runs in a process of its own: nothing else publishes here.
/// assert!(milo::active_pipeline().is_none());
/// let pipeline = Pipeline::new("ci").phase(Phase::cmd("a", "true")).build()?;
/// let mut store = Store::new(PipelineState::new(&pipeline));
/// milo::set_active_pipeline(Some(store.handle()));
/// store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
/// // Readers on any thread see the store's latest state, not a copy made when published.
/// let seen = std::thread::spawn(|| milo::active_pipeline().map(|s| s.phases[0].status));
/// assert_eq!(seen.join().expect("reader"), Some(PhaseStatus::Running));
/// milo::set_active_pipeline(None);
/// assert!(milo::active_pipeline().is_none());
/// # Ok::<(), milo::PipelineError>(())
/// ```
pub fn set_active_pipeline(handle: Option<StateHandle>) {
    *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = handle;
}

/// The latest state of the active pipeline, if one is published: how a run is going, read
/// from any thread (a monitor, a server, a phase of the run itself).
///
/// ```
/// use milo::{Phase, PhaseStatus, Pipeline};
/// use serde_json::json;
/// // A doc test runs in a process of its own: only this run publishes here.
/// let pipeline = Pipeline::new("ci")
///     .phase(Phase::func("probe", |_ctx| {
///         let me = milo::active_pipeline().and_then(|s| s.phase("probe").map(|p| p.status));
///         Ok::<_, std::io::Error>(json!(me == Some(PhaseStatus::Running)))
///     }))
///     .build()?;
/// let state = pipeline.run(Default::default())?;
/// let probe = state.phase("probe").and_then(|p| p.result.clone());
/// assert_eq!(probe, Some(json!(true)), "while it runs, the run is the active pipeline");
/// assert!(milo::active_pipeline().is_none(), "cleared when the run ends");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn active_pipeline() -> Option<PipelineState> {
    let handle = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner).clone();
    handle.map(|h| h.snapshot())
}

/// Runs `f` over the active pipeline's latest state without copying it, if one is published
/// (the MCP server's watcher fingerprints it five times a second this way).
///
/// ```
/// use milo::{Phase, Pipeline, PipelineState, Store};
/// // A doc test runs in a process of its own: nothing else publishes here.
/// assert_eq!(milo::with_active_pipeline(|s| s.phases.len()), None);
/// let pipeline = Pipeline::new("ci").phase(Phase::cmd("a", "true")).build()?;
/// let store = Store::new(PipelineState::new(&pipeline));
/// milo::set_active_pipeline(Some(store.handle()));
/// assert_eq!(milo::with_active_pipeline(|s| s.name.clone()).as_deref(), Some("ci"));
/// milo::set_active_pipeline(None);
/// # Ok::<(), milo::PipelineError>(())
/// ```
pub fn with_active_pipeline<R>(f: impl FnOnce(&PipelineState) -> R) -> Option<R> {
    let handle = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner).clone();
    handle.map(|h| h.with(f))
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;

    use super::*;
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;
    use crate::state::PhaseStatus;

    fn store() -> Store {
        let p = Pipeline::new("s").phase(Phase::cmd("a", "true")).build().expect("valid");
        Store::new(PipelineState::new(&p))
    }

    #[test]
    fn subscribers_see_the_new_state_in_order() {
        let mut store = store();
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        store.subscribe(move |_, s| tx.send(("first", s.phases[0].status)).expect("send"));
        store.subscribe(move |_, s| tx2.send(("second", s.phases[0].status)).expect("send"));
        store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
        let got: Vec<_> = rx.try_iter().collect();
        assert_eq!(got, [("first", PhaseStatus::Running), ("second", PhaseStatus::Running)]);
    }

    #[test]
    fn handle_reads_from_another_thread() {
        let mut store = store();
        let handle = store.handle();
        store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
        let status =
            std::thread::spawn(move || handle.with(|s| s.phases[0].status)).join().expect("join");
        assert_eq!(status, PhaseStatus::Running);
    }
}
