//! The store: dispatch → reduce → notify subscribers; the published "active pipeline".

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::action::Action;
use crate::reducer::apply;
use crate::state::PipelineState;

/// A subscriber: called after every action with the action and the new state.
pub type Subscriber = Box<dyn FnMut(&Action, &PipelineState) + Send>;

/// Most actions staged for the forwarders before they get them, even while held.
const STAGE: usize = 1024;

/// A forwarder: handed the actions of each dispatch, in order, once the state has changed and
/// the store's lock is released (see [`Store::forward`]).
pub type Forwarder = Box<dyn FnMut(&mut Vec<Action>) + Send>;

/// Holds the pipeline state and folds every dispatched action into it.
///
/// One thread dispatches (the executor); subscribers run on that thread, in the order they
/// subscribed, after the state has changed, while the state is locked: they must be quick.
/// Slow work (writing to a terminal, a file, a socket) belongs on another thread: a
/// [`forward`](Self::forward)er hands each action over once the lock is released (the
/// `SubscriberThread` of the `milo` crate runs subscribers that way). Other threads read
/// the latest state through a [`StateHandle`], which locks briefly and never copies unless
/// asked to.
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
    forwarders: Vec<Forwarder>,
    /// The actions not forwarded yet: the first `staged`. Kept between dispatches: a
    /// forwarder that takes them leaves a used buffer of its own in their place, whose old
    /// actions are dropped one by one as new ones take their slots.
    outbox: Vec<Action>,
    staged: usize,
    /// Whether forwarding waits for [`flush`](Self::flush).
    hold: bool,
}

impl Store {
    /// A store holding `initial`.
    pub fn new(initial: PipelineState) -> Self {
        Self {
            state: StateHandle(Arc::new(Mutex::new(initial))),
            subscribers: Vec::new(),
            forwarders: Vec::new(),
            outbox: Vec::new(),
            staged: 0,
            hold: false,
        }
    }

    /// Adds a subscriber, called after every later action.
    pub fn subscribe(&mut self, subscriber: impl FnMut(&Action, &PipelineState) + Send + 'static) {
        self.subscribers.push(Box::new(subscriber));
    }

    /// Adds a forwarder, handed every later action, in dispatch order, after the subscribers
    /// and once the state's lock is released: the actions of one [`dispatch`](Self::dispatch)
    /// or [`dispatch_all`](Self::dispatch_all) call come as one batch (a pipe read's lines
    /// travel together). The forwarder may take them (`std::mem::take`, or swap in a used
    /// buffer of its own: the next dispatches refill it, dropping its old actions one by one
    /// as they go); whatever it leaves there is dropped the same way. The last forwarder gets
    /// the batch itself, the others a copy.
    ///
    /// A forwarder typically sends the batch into a channel read by another thread; if it
    /// blocks (a bounded channel that is full), `dispatch` waits for it — back-pressure on
    /// the dispatching thread — while readers of the state through a [`StateHandle`] do not.
    pub fn forward(&mut self, forwarder: impl FnMut(&mut Vec<Action>) + Send + 'static) {
        self.forwarders.push(Box::new(forwarder));
    }

    /// With `true`, forwarders get the actions dispatched since the last
    /// [`flush`](Self::flush) only when it comes, as one batch, instead of after every
    /// dispatch; `false` (the default) flushes and goes back to forwarding at once. A
    /// dispatcher that knows when it is about to wait — the executor, before it polls —
    /// thus wakes a subscriber thread once per turn of its loop, not once per action.
    pub fn hold_forwarding(&mut self, hold: bool) {
        self.hold = hold;
        if !hold {
            self.flush();
        }
    }

    /// Hands the actions held since the last flush to the forwarders, as one batch.
    pub fn flush(&mut self) {
        if self.staged > 0 {
            self.outbox.truncate(self.staged);
            self.staged = 0;
            forward(&mut self.forwarders, &mut self.outbox);
        }
    }

    /// Folds `action` into the state, notifies every subscriber, then forwards it (or holds
    /// it for the next [`flush`](Self::flush)).
    pub fn dispatch(&mut self, action: Action) {
        {
            let mut guard = self.state.lock();
            apply(&mut guard, &action);
            for subscriber in &mut self.subscribers {
                subscriber(&action, &guard);
            }
        }
        if !self.forwarders.is_empty() {
            stage(&mut self.outbox, self.staged, action);
            self.staged += 1;
            if !self.hold {
                self.flush();
            }
        }
    }

    /// Folds each action in turn, notifying subscribers after each, holding the lock once
    /// for all of them (a batch of log lines); then forwards them, in order (or holds them
    /// for the next [`flush`](Self::flush)).
    pub fn dispatch_all(&mut self, actions: impl IntoIterator<Item = Action>) {
        let keep = !self.forwarders.is_empty();
        let mut actions = actions.into_iter().peekable();
        while actions.peek().is_some() {
            {
                let mut guard = self.state.lock();
                for action in actions.by_ref().take(STAGE) {
                    apply(&mut guard, &action);
                    for subscriber in &mut self.subscribers {
                        subscriber(&action, &guard);
                    }
                    if keep {
                        stage(&mut self.outbox, self.staged, action);
                        self.staged += 1;
                    }
                }
            }
            // A long batch goes in parts: a small outbox stays in the cache.
            if !self.hold || self.staged >= STAGE {
                self.flush();
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

/// Puts `action` in slot `i` of `outbox`, dropping the action it held from an earlier
/// dispatch: a line freed as the next is made keeps the allocator on its fast path (freed
/// in a burst of a whole batch, 2 M lines cost a third more).
fn stage(outbox: &mut Vec<Action>, i: usize, action: Action) {
    match outbox.get_mut(i) {
        Some(slot) => *slot = action,
        None => outbox.push(action),
    }
}

/// Hands `batch` to every forwarder (copies to all but the last).
fn forward(forwarders: &mut [Forwarder], batch: &mut Vec<Action>) {
    if let Some((last, others)) = forwarders.split_last_mut() {
        for forwarder in others {
            forwarder(&mut batch.clone());
        }
        last(batch);
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("subscribers", &self.subscribers.len())
            .field("forwarders", &self.forwarders.len())
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
/// clears it. The executor publishes its store's handle while it runs, and clears it with
/// [`clear_active_pipeline`] when the run ends.
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

/// Clears the active pipeline if it is still `handle`, and leaves it alone otherwise: a run
/// that ends clears its own handle, never that of a run which started after it.
///
/// ```
/// use std::sync::{Arc, Barrier};
/// use milo::{Phase, Pipeline};
/// use serde_json::json;
/// // A doc test runs in a process of its own: only these two runs publish here.
/// let both_running = Arc::new(Barrier::new(2));
/// let first_ended = Arc::new(Barrier::new(2));
/// let meet = Arc::clone(&both_running);
/// // The second run starts once the first has published (its phase runs): it publishes last.
/// let (published, first_published) = std::sync::mpsc::channel();
/// let first = Pipeline::new("first")
///     .phase(Phase::func("wait", move |_ctx| {
///         published.send(()).ok();
///         meet.wait();
///         Ok::<_, std::io::Error>(json!(null))
///     }))
///     .build()?;
/// let (meet, ended) = (Arc::clone(&both_running), Arc::clone(&first_ended));
/// let second = Pipeline::new("second")
///     .phase(Phase::func("probe", move |_ctx| {
///         meet.wait();
///         ended.wait();
///         Ok::<_, std::io::Error>(json!(milo::with_active_pipeline(|s| s.name.clone())))
///     }))
///     .build()?;
/// let first = std::thread::spawn(move || first.run(Default::default()).map(|_| ()));
/// first_published.recv()?;
/// let second = std::thread::spawn(move || second.run(Default::default()));
/// first.join().expect("first run")?;
/// first_ended.wait();
/// let state = second.join().expect("second run")?.state;
/// let seen = state.phase("probe").and_then(|p| p.result.clone());
/// assert_eq!(seen, Some(json!("second")), "the first run to end left the second published");
/// assert!(milo::active_pipeline().is_none(), "cleared when the last run ends");
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn clear_active_pipeline(handle: &StateHandle) {
    let mut active = ACTIVE.lock().unwrap_or_else(PoisonError::into_inner);
    if active.as_ref().is_some_and(|published| Arc::ptr_eq(&published.0, &handle.0)) {
        *active = None;
    }
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
/// let state = pipeline.run(Default::default())?.state;
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
    fn forwarders_get_each_dispatch_as_a_batch_once_the_lock_is_released() {
        let mut store = store();
        let handle = store.handle();
        let (tx, rx) = mpsc::channel();
        let tx2 = tx.clone();
        let label = |a: &Action| match a {
            Action::PhaseLog { line, .. } => line.to_string(),
            other => other.phase().unwrap_or("pipeline").to_owned(),
        };
        store.forward(move |batch| {
            // A blocking forwarder must not hold readers up: the state is unlocked here.
            let free = handle.0.try_lock().is_ok();
            tx.send(("first", batch.iter().map(label).collect::<Vec<_>>(), free)).expect("send");
        });
        store.forward(move |batch| {
            let taken = std::mem::take(batch);
            tx2.send(("second", taken.iter().map(label).collect(), true)).expect("send");
        });
        let log = |line: &str| Action::PhaseLog {
            name: "a".into(),
            line: line.into(),
            stream: crate::action::Stream::Stdout,
            t: 0.1,
        };
        store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
        store.dispatch_all([log("x"), log("y")]);
        store.dispatch(Action::PipelineComplete { t: 1.0 });
        let got: Vec<_> = rx.try_iter().collect();
        let batch = |labels: &[&str]| labels.iter().map(|l| (*l).to_owned()).collect::<Vec<_>>();
        assert_eq!(
            got,
            [
                ("first", batch(&["a"]), true),
                ("second", batch(&["a"]), true),
                ("first", batch(&["x", "y"]), true),
                ("second", batch(&["x", "y"]), true),
                ("first", batch(&["pipeline"]), true),
                ("second", batch(&["pipeline"]), true),
            ]
        );
        assert_eq!(store.with_state(|s| s.phases[0].logs.total()), 2);
    }

    #[test]
    fn held_actions_are_forwarded_together_at_the_flush() {
        let mut store = store();
        let (tx, rx) = mpsc::channel();
        store.forward(move |batch| tx.send(batch.len()).expect("send"));
        store.hold_forwarding(true);
        store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
        store.dispatch(Action::PhaseCancelled { name: "a".into(), t: 0.5 });
        assert_eq!(rx.try_iter().count(), 0, "held until the flush");
        // The state is not held: readers see every action at once.
        assert_eq!(store.with_state(|s| s.phases[0].status), PhaseStatus::Cancelled);
        store.flush();
        store.flush();
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [2], "one batch, once");
        store.dispatch(Action::PipelineCancelled { t: 1.0 });
        store.hold_forwarding(false);
        store.dispatch(Action::PipelineCancelled { t: 1.0 });
        assert_eq!(rx.try_iter().collect::<Vec<_>>(), [1, 1], "released, then at once");
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
