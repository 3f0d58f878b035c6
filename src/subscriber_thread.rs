//! Store subscribers on a thread of their own, off the dispatching thread.
//!
//! The executor dispatches every action while it reads pipes and schedules phases; a
//! subscriber that writes to a terminal, a file or a socket would stall all of that. A
//! [`SubscriberThread`] takes such subscribers ([`Consumer`]s) and the store hands it each
//! dispatch's actions once the state's lock is released ([`Store::forward`]):
//!
//! - a [`Consumer::State`] gets each action on the thread with the state it produced (the
//!   thread folds its own copy with the same reducer: exactly what a subscriber on the
//!   store would have seen);
//! - a [`Consumer::Actions`] gets each action on the thread, alone (no second fold);
//! - a [`Consumer::Near`] sees each batch on the dispatching thread, where the actions are
//!   still in that thread's cache, does the cheap part there (deciding what to print,
//!   copying lines into a buffer) and sends the slow part as [`Jobs`] (printing, writing
//!   the buffer out), which the thread runs in order with everything else. The log files
//!   and the plain reporter work so: handing every line to another thread cost more than
//!   the work itself.
//!
//! When no consumer needs the actions on the thread, they never leave the dispatching
//! thread.

use std::any::Any;
use std::io;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::thread::JoinHandle;

use crate::action::Action;
use crate::reducer::apply;
use crate::state::PipelineState;
use crate::store::{Store, Subscriber};

/// Most messages waiting for the thread: batches of actions (what one flush of the store
/// delivers) and jobs (a printed line, at most 64 KiB of log). When the thread falls behind
/// (a terminal that stopped reading, a slow disk), the store's dispatch waits for room: the
/// executor stops reading pipes and the phases block on their output. Memory stays bounded
/// — this many messages waiting, as many handled batches on their way back to be reused —
/// whatever phases print.
pub const QUEUE: usize = 4;

/// A subscriber that needs the actions only.
pub type ActionSubscriber = Box<dyn FnMut(&Action) + Send>;

/// A subscriber's half that runs on the dispatching thread: it sees each batch there and
/// sends the slow work to the subscriber thread as [`Jobs`].
pub type Near = Box<dyn FnMut(&[Action], &Jobs) + Send>;

/// One subscriber on a [`SubscriberThread`] (see the [module](self) docs).
pub enum Consumer {
    /// Called on the thread with each action and the state it produced. For these the
    /// thread folds its own copy of the state: a second reducer pass per action.
    State(Subscriber),
    /// Called on the thread with each action alone (it keeps whatever it needs itself).
    Actions(ActionSubscriber),
    /// Called on the dispatching thread with each batch, before the thread sees it; keep it
    /// quick, and send anything slow as a job.
    Near(Near),
}

impl Consumer {
    /// A subscriber of actions and the state they produced.
    pub fn state(f: impl FnMut(&Action, &PipelineState) + Send + 'static) -> Self {
        Self::State(Box::new(f))
    }

    /// A subscriber of actions alone.
    pub fn actions(f: impl FnMut(&Action) + Send + 'static) -> Self {
        Self::Actions(Box::new(f))
    }

    /// A subscriber that sees batches on the dispatching thread and sends jobs.
    pub fn near(f: impl FnMut(&[Action], &Jobs) + Send + 'static) -> Self {
        Self::Near(Box::new(f))
    }
}

impl std::fmt::Debug for Consumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::State(_) => "Consumer::State",
            Self::Actions(_) => "Consumer::Actions",
            Self::Near(_) => "Consumer::Near",
        })
    }
}

/// What the subscriber thread's channel carries.
enum Message {
    Actions(Vec<Action>),
    Job(Box<dyn FnOnce() + Send>),
    Stop,
}

/// Sends work to a [`SubscriberThread`], run in order with everything sent before it.
pub struct Jobs(SyncSender<Message>);

impl Jobs {
    /// Runs `job` on the subscriber thread, after everything sent before it. Waits while the
    /// thread's queue is full (back-pressure, as for batches).
    pub fn run(&self, job: impl FnOnce() + Send + 'static) {
        // Gone only when a subscriber panicked; `finish` reports that.
        let _ = self.0.send(Message::Job(Box::new(job)));
    }
}

impl std::fmt::Debug for Jobs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Jobs")
    }
}

/// Runs store subscribers on a thread of its own, in dispatch order (see the
/// [module](self) docs).
///
/// Every subscriber sees every action, in the order the store dispatched them, and the
/// thread does every job in the order sent; for one batch, the subscribers run in the order
/// given, [`Near`] ones (and their jobs) first. One subscriber can therefore rely on what an
/// earlier one did with the same action (the plain reporter prints a phase's log file after
/// the log writer has closed it).
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use milo::subscriber_thread::{Consumer, SubscriberThread};
/// use milo::{Action, Phase, Pipeline, PipelineState, PhaseStatus, Store};
/// let pipeline = Pipeline::new("ci").phase(Phase::cmd("a", "true")).build()?;
/// let mut store = Store::new(PipelineState::new(&pipeline));
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let record = Arc::clone(&seen);
/// let slow = move |_: &Action, state: &PipelineState| {
///     // Runs on the subscriber thread: writing to a slow terminal here stalls nobody.
///     record.lock().unwrap().push(state.phases[0].status);
/// };
/// let thread = SubscriberThread::attach(&mut store, vec![Consumer::state(slow)])?;
/// store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
/// thread.finish().expect("no subscriber panicked"); // every action has been handled
/// assert_eq!(*seen.lock().unwrap(), [PhaseStatus::Running]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct SubscriberThread {
    tx: SyncSender<Message>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for SubscriberThread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SubscriberThread").finish_non_exhaustive()
    }
}

impl SubscriberThread {
    /// Starts a thread running `subscribers` and forwards every later action of `store` to
    /// it. The thread's copy of the state (kept when a subscriber wants it) starts as the
    /// store's state now.
    pub fn attach(store: &mut Store, subscribers: Vec<Consumer>) -> io::Result<Self> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        // Handled batches go back to the store to be refilled: lines are freed on the thread
        // that made them, as it makes new ones, which keeps the allocator on its fast path
        // (freed by this thread, 2 M lines cost half as much again).
        let (done_tx, done) = mpsc::sync_channel::<Vec<Action>>(QUEUE);
        let (mut near, far): (Vec<Consumer>, Vec<Consumer>) =
            subscribers.into_iter().partition(|s| matches!(s, Consumer::Near(_)));
        let wants_state = far.iter().any(|s| matches!(s, Consumer::State(_)));
        let state = if wants_state { store.state() } else { PipelineState::default() };
        let sends_actions = !far.is_empty();
        let thread = std::thread::Builder::new()
            .name("milo-subscribers".into())
            .spawn(move || serve(&rx, &done_tx, wants_state, state, far))?;
        let jobs = Jobs(tx.clone());
        store.forward(move |batch| {
            for consumer in &mut near {
                if let Consumer::Near(near) = consumer {
                    near(batch, &jobs);
                }
            }
            if sends_actions {
                let batch = std::mem::replace(batch, done.try_recv().unwrap_or_default());
                // Gone only when a subscriber panicked; `finish` reports that.
                let _ = jobs.0.send(Message::Actions(batch));
            }
        });
        Ok(Self { tx, thread: Some(thread) })
    }

    /// Waits until the subscribers have handled every action dispatched so far, then ends
    /// the thread. `Err` carries the panic of a subscriber that panicked (the later
    /// subscribers and actions were not run).
    pub fn finish(mut self) -> Result<(), Box<dyn Any + Send>> {
        self.stop()
    }

    fn stop(&mut self) -> Result<(), Box<dyn Any + Send>> {
        let Some(thread) = self.thread.take() else { return Ok(()) };
        // Fails only when the thread is gone already (a panic): join says why.
        let _ = self.tx.send(Message::Stop);
        thread.join()
    }
}

impl Drop for SubscriberThread {
    fn drop(&mut self) {
        // Not finished (a run that never executed, an unwinding executor): still let the
        // subscribers see everything they were sent; a panic was printed when it happened.
        let _ = self.stop();
    }
}

fn serve(
    rx: &Receiver<Message>,
    done: &SyncSender<Vec<Action>>,
    fold: bool,
    mut state: PipelineState,
    mut subscribers: Vec<Consumer>,
) {
    while let Ok(message) = rx.recv() {
        let batch = match message {
            Message::Actions(batch) => batch,
            Message::Job(job) => {
                job();
                continue;
            }
            Message::Stop => return,
        };
        for action in &batch {
            if fold {
                apply(&mut state, action);
            }
            for subscriber in &mut subscribers {
                match subscriber {
                    Consumer::State(s) => s(action, &state),
                    Consumer::Actions(s) => s(action),
                    // Run on the dispatching thread (`attach` keeps them there).
                    Consumer::Near(_) => {}
                }
            }
        }
        // Full only when the store stopped forwarding: then it is dropped here.
        let _ = done.try_send(batch);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Barrier, Mutex};

    use super::*;
    use crate::action::Stream;
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;
    use crate::state::PhaseStatus;

    fn store() -> Store {
        let p = Pipeline::new("s").phase(Phase::cmd("a", "true")).build().expect("valid");
        Store::new(PipelineState::new(&p))
    }

    fn log(line: &str) -> Action {
        Action::PhaseLog { name: "a".into(), line: line.into(), stream: Stream::Stdout, t: 0.1 }
    }

    #[test]
    fn subscribers_see_every_action_in_order_with_the_folded_state() {
        let mut store = store();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (first, second) = (Arc::clone(&seen), Arc::clone(&seen));
        let thread = SubscriberThread::attach(
            &mut store,
            vec![
                Consumer::state(move |a: &Action, s: &PipelineState| {
                    first.lock().expect("lock").push(format!(
                        "1 {} {:?} {}",
                        a.phase().unwrap_or("-"),
                        s.phases[0].status,
                        s.phases[0].logs.total()
                    ));
                }),
                Consumer::actions(move |a: &Action| {
                    let what = if a.is_status_change() { "status" } else { "line" };
                    second.lock().expect("lock").push(format!("2 {what}"));
                }),
            ],
        )
        .expect("thread");
        store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
        store.dispatch_all([log("x"), log("y")]);
        thread.finish().expect("no panic");
        assert_eq!(
            *seen.lock().expect("lock"),
            ["1 a Running 0", "2 status", "1 a Running 1", "2 line", "1 a Running 2", "2 line"]
        );
        assert_eq!(store.with_state(|s| s.phases[0].status), PhaseStatus::Running);
    }

    #[test]
    fn near_subscribers_see_batches_where_they_are_dispatched_and_their_jobs_come_first() {
        let mut store = store();
        let order = Arc::new(Mutex::new(Vec::new()));
        let (near_log, far_log) = (Arc::clone(&order), Arc::clone(&order));
        let dispatcher = std::thread::current().id();
        let thread = SubscriberThread::attach(
            &mut store,
            vec![
                Consumer::actions(move |a: &Action| {
                    let what = if a.is_status_change() { "status" } else { "line" };
                    far_log.lock().expect("lock").push(format!("far {what}"));
                }),
                Consumer::near(move |batch: &[Action], jobs: &Jobs| {
                    assert_eq!(std::thread::current().id(), dispatcher);
                    let (log, n) = (Arc::clone(&near_log), batch.len());
                    jobs.run(move || log.lock().expect("lock").push(format!("job of {n}")));
                }),
            ],
        )
        .expect("thread");
        store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
        store.dispatch_all([log("x"), log("y")]);
        thread.finish().expect("no panic");
        assert_eq!(
            *order.lock().expect("lock"),
            ["job of 1", "far status", "job of 2", "far line", "far line"]
        );
    }

    #[test]
    fn a_slow_subscriber_does_not_hold_the_state_lock() {
        // The subscriber reads the store's state while the dispatcher waits for it: with
        // subscribers called under the lock, this would deadlock.
        let mut store = store();
        let handle = store.handle();
        let gate = Arc::new(Barrier::new(2));
        let inside = Arc::clone(&gate);
        let statuses = Arc::new(Mutex::new(Vec::new()));
        let record = Arc::clone(&statuses);
        let thread = SubscriberThread::attach(
            &mut store,
            vec![Consumer::actions(move |_: &Action| {
                inside.wait();
                record.lock().expect("lock").push(handle.with(|s| s.phases[0].status));
            })],
        )
        .expect("thread");
        store.dispatch(Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 });
        // The store is free while its subscriber thread works: read it, then let it go on.
        assert_eq!(store.with_state(|s| s.phases[0].status), PhaseStatus::Running);
        gate.wait();
        thread.finish().expect("no panic");
        assert_eq!(*statuses.lock().expect("lock"), [PhaseStatus::Running]);
    }

    #[test]
    fn a_panicking_subscriber_is_reported_by_finish_and_does_not_block_dispatch() {
        let mut store = store();
        let thread = SubscriberThread::attach(
            &mut store,
            vec![Consumer::actions(|_: &Action| panic!("subscriber broke"))],
        )
        .expect("thread");
        // More actions than the queue holds: none may block on the dead thread.
        for i in 0..QUEUE * 2 {
            store.dispatch(log(&i.to_string()));
        }
        let panic = thread.finish().expect_err("the panic");
        assert_eq!(panic.downcast_ref::<&str>(), Some(&"subscriber broke"));
    }
}
