//! The executor loop: one thread owns the clock, the schedule and every attempt in flight,
//! and turns what the children and the helper threads report into actions.
//!
//! Each turn: look at the cancellation token, start what the plan allows, wait for a pipe,
//! an exit, an event or the next deadline, act on it. What to do after a failed attempt is
//! decided by [`after_failure`]; what an attempt does next by its
//! [state](super::attempt::Stage).

mod checking;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;
use std::sync::mpsc::{Receiver, SyncSender};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::action::{Action, Stream};
use crate::artifact::REWRITE_EVERY;
use crate::clock::{Clock, RealClock, wall_clock_rfc3339};
use crate::exec::attempt::{Attempt, EXIT_FD, Ending, Outcome, Stage, Work, after};
use crate::exec::command;
use crate::exec::event::{AttemptId, Event, EventSink, Waker};
use crate::exec::func::{self, FuncJob};
use crate::exec::poll::{self, Poller};
use crate::exec::run::Run;
use crate::failure::{AfterFailure, after_failure};
use crate::lines::LineBatch;
use crate::phase::{Handler, Phase};
use crate::schedule::{Ready, Slot};

/// How many events may wait for the executor: readers block beyond it, which bounds memory
/// whatever a phase prints.
pub(super) const QUEUE: usize = 64;
/// The longest the loop sleeps without looking at the cancellation token.
const POLL: Duration = Duration::from_millis(250);

/// The loop's working state, borrowed from a [`Run`].
pub(super) struct Engine<'a> {
    run: &'a mut Run,
    clock: RealClock,
    tx: SyncSender<Event>,
    waker: Waker,
    poller: Poller,
    /// Where pipes are read into.
    buf: Vec<u8>,
    /// Which phases wait, run and ended, and which may start.
    ready: Ready,
    attempts: Vec<u32>,
    results: Vec<Option<serde_json::Value>>,
    live: HashMap<AttemptId, Attempt>,
    /// When each phase waiting to retry starts again (`None`: a delay too long to reach).
    retry_at: BTreeMap<usize, Option<Instant>>,
    next_id: u64,
    /// Whether a phase ended since the plan was last asked what to start.
    replan: bool,
    /// SIGCHLD was just routed to the poller: a child may have exited before, unheard.
    reap_due: bool,
    /// When the timeline's rewrites start, unless the run is over before.
    rewrites_at: Option<Instant>,
    stopping: bool,
    failed: bool,
    interrupted: u32,
    /// Phases whose up-to-date check runs on a thread (they hold their slot meanwhile).
    checking: HashSet<usize>,
    /// A line to put in a phase's output when its first attempt starts (why it runs when
    /// that is worth a note).
    notes: HashMap<usize, String>,
}

impl<'a> Engine<'a> {
    pub(super) fn new(
        run: &'a mut Run,
        clock: RealClock,
        tx: SyncSender<Event>,
        waker: Waker,
        poller: Poller,
    ) -> Self {
        let n = run.names.len();
        // `run --only`: the phases that do not run count as done, with their recorded results.
        let mut ready = Ready::new(&run.plan);
        let mut results = vec![None; n];
        for (i, result) in &run.given {
            ready.end(*i, Slot::Done);
            results[*i].clone_from(result);
        }
        Self {
            run,
            clock,
            tx,
            waker,
            poller,
            buf: vec![0; 64 * 1024],
            ready,
            attempts: vec![0; n],
            results,
            live: HashMap::new(),
            retry_at: BTreeMap::new(),
            next_id: 0,
            replan: true,
            reap_due: false,
            rewrites_at: after(Instant::now(), REWRITE_EVERY),
            stopping: false,
            failed: false,
            interrupted: 0,
            checking: HashSet::new(),
            notes: HashMap::new(),
        }
    }

    /// Runs the pipeline from `PipelineStart` to its last action.
    pub(super) fn main_loop(&mut self, rx: &Receiver<Event>) {
        let t = self.t();
        self.dispatch(Action::PipelineStart { started_at: wall_clock_rfc3339(), t });
        loop {
            self.check_cancel();
            self.start_ready();
            if self.live.is_empty() && self.retry_at.is_empty() && self.checking.is_empty() {
                break;
            }
            let now = Instant::now();
            let next = self.next_deadline().into_iter().chain(self.rewrites_at).min();
            let wait = next.map_or(POLL, |d| d.saturating_duration_since(now));
            // What this turn dispatched goes to the subscriber thread before the loop sleeps.
            self.run.store.flush();
            self.wait(rx, wait.min(POLL));
            self.check_deadlines();
            if self.rewrites_at.is_some_and(|at| at <= Instant::now()) {
                self.rewrites_at = None;
                self.run.recorder.start_rewrites();
            }
        }
        let t = self.t();
        let end = if self.interrupted > 0 {
            Action::PipelineCancelled { t }
        } else if self.failed || self.ready.slots().iter().any(|s| *s != Slot::Done) {
            Action::PipelineFailed { t }
        } else {
            Action::PipelineComplete { t }
        };
        self.dispatch(end);
    }

    fn t(&self) -> f64 {
        self.clock.now()
    }

    fn dispatch(&mut self, action: Action) {
        self.run.store.dispatch(action);
    }

    fn phase(&self, idx: usize) -> &Phase {
        &self.run.pipeline.phases()[idx]
    }

    // --- Cancelling and starting ---------------------------------------------------------

    fn check_cancel(&mut self) {
        let times = self.run.cancel.times();
        if times <= self.interrupted {
            return;
        }
        let first = self.interrupted == 0;
        self.interrupted = times;
        if first {
            self.stopping = true;
            // Phases still being checked never started: they stay pending.
            self.checking.clear();
            self.cancel_all();
        }
        if times >= 2 {
            let now = Instant::now();
            for attempt in self.live.values_mut() {
                attempt.kill_now(now);
            }
        }
    }

    fn start_ready(&mut self) {
        let now = Instant::now();
        let due: Vec<usize> = self
            .retry_at
            .iter()
            .filter(|(_, at)| at.is_some_and(|at| at <= now))
            .map(|(i, _)| *i)
            .collect();
        for idx in due {
            self.retry_at.remove(&idx);
            self.start_attempt(idx);
        }
        if self.stopping {
            return;
        }
        // The plan answers the same while no phase ended (the phases it returned, once
        // started, free nothing): ask it again only then. Starting a phase can end it at
        // once (a spawn failure), hence the loop.
        while self.replan {
            self.replan = false;
            let next = self.ready.next(self.run.jobs);
            if next.is_empty() {
                return;
            }
            for idx in next {
                self.begin(idx);
            }
            if self.stopping {
                return;
            }
        }
    }

    fn start_attempt(&mut self, idx: usize) {
        self.attempts[idx] += 1;
        let number = self.attempts[idx];
        let id = AttemptId(self.next_id);
        self.next_id += 1;
        let t = self.t();
        let name = Arc::clone(&self.run.names[idx]);
        self.dispatch(Action::PhaseStart { name, attempt: number, t });
        if let Some(note) = self.notes.remove(&idx) {
            let mut batch = LineBatch::default();
            batch.push(note.as_bytes());
            self.dispatch_lines(idx, Stream::Stderr, batch);
        }
        let sink = EventSink { id, tx: self.tx.clone(), waker: self.waker.clone() };
        let pipeline = Arc::clone(&self.run.pipeline);
        let phase = &pipeline.phases()[idx];
        let timeout_at = phase.timeout.and_then(|d| after(Instant::now(), d));
        let work = match &phase.handler {
            Handler::Func(f) => {
                let job = FuncJob {
                    f: Arc::clone(f),
                    pipeline: pipeline.name().to_owned(),
                    phase: phase.name.clone(),
                    attempt: number,
                    results: command::dependency_results(self.run, &self.results, idx),
                    capture: self.run.capture,
                };
                func::spawn(job, sink)
                    .map(|()| Work::Closure { timeout_at })
                    .map_err(|e| format!("failed to start a thread: {e}"))
            }
            Handler::Shell(_) | Handler::Args(_) => {
                command::start(self.run, &self.results, idx, number, &sink)
                    .map(|cmd| Work::Command { cmd, stage: Stage::Running { timeout_at } })
            }
        };
        match work {
            Ok(work) => {
                let attempt = Attempt { idx, number, work };
                if attempt.exit_needs_sigchld() && self.poller.ring_on_exits() {
                    self.reap_due = true;
                }
                self.live.insert(id, attempt);
            }
            Err(error) => self.attempt_failed(idx, number, error, None),
        }
    }

    // --- Waiting and hearing -------------------------------------------------------------

    /// Waits up to `timeout` for anything: a readable pipe of a direct child, a child's exit
    /// (its pidfd, else SIGCHLD), an event from another thread, or a cancellation; then
    /// handles it all.
    fn wait(&mut self, rx: &Receiver<Event>, timeout: Duration) {
        let timeout = if self.reap_due { Duration::ZERO } else { timeout };
        let wakeup = self.poller.wait(&self.live, timeout);
        if wakeup.signalled {
            // Counted now (its flag may not be set yet), acted on at the top of the loop.
            self.run.cancel.absorb_signals();
        }
        for event in rx.try_iter().take(QUEUE) {
            self.handle(event);
        }
        for (id, k) in wakeup.ready {
            if k == EXIT_FD {
                self.reap_one(id);
            } else {
                self.read_pipe(id, k);
            }
        }
        let sigchld = wakeup.rang && self.poller.rings_on_exits();
        if sigchld || self.poller.deaf() || std::mem::take(&mut self.reap_due) {
            self.reap();
        }
    }

    fn handle(&mut self, event: Event) {
        let drain = self.run.drain;
        match event {
            Event::Lines { id, stream, lines } => {
                if let Some(attempt) = self.live.get(&id) {
                    self.dispatch_lines(attempt.idx, stream, lines);
                }
            }
            Event::Drained { id } => self.advance(id, |a| a.closed(None)),
            Event::Finished { id, exit } => self.advance(id, |a| a.closed(Some(exit))),
            Event::Exited { id, exit } => {
                self.advance(id, |a| a.exited(exit, Instant::now(), drain));
            }
            Event::Returned { id, result } => self.advance(id, |a| a.returned(result)),
            Event::Checked(checked) => self.checked(*checked),
            Event::Wake => {}
        }
    }

    /// Moves attempt `id` on with `step`; finishes it when `step` says it is over.
    fn advance(&mut self, id: AttemptId, step: impl FnOnce(&mut Attempt) -> Option<Ending>) {
        let Some(attempt) = self.live.get_mut(&id) else { return };
        if let Some(ending) = step(attempt) {
            self.finish(id, ending);
        }
    }

    /// Reads what pipe `k` of a direct child has, as lines.
    fn read_pipe(&mut self, id: AttemptId, k: usize) {
        let Some(attempt) = self.live.get_mut(&id) else { return };
        let idx = attempt.idx;
        let Some(pipe) = attempt.pipe_mut(k) else { return };
        let (lines, closed) = poll::read(pipe, &mut self.buf);
        let stream = pipe.stream;
        if !lines.is_empty() {
            self.dispatch_lines(idx, stream, lines);
        }
        if closed {
            self.advance(id, |a| a.pipe_closed(k));
        }
    }

    /// The lines of one read as one action: its subscribers (the log file, the ring, the
    /// echo) take them whole.
    fn dispatch_lines(&mut self, idx: usize, stream: Stream, lines: LineBatch) {
        let name = Arc::clone(&self.run.names[idx]);
        let t = self.clock.now();
        self.dispatch(Action::PhaseLogs { name, stream, t, lines: Arc::new(lines) });
    }

    /// Asks the direct child of attempt `id`, whose exit descriptor is readable, for its exit.
    fn reap_one(&mut self, id: AttemptId) {
        let (now, drain) = (Instant::now(), self.run.drain);
        self.advance(id, |a| a.try_exit().and_then(|exit| a.exited(exit, now, drain)));
    }

    /// Asks each direct child whose exit is unknown whether it has exited.
    fn reap(&mut self) {
        let now = Instant::now();
        let drain = self.run.drain;
        let mut ended = Vec::new();
        for (id, attempt) in &mut self.live {
            if let Some(exit) = attempt.try_exit()
                && let Some(ending) = attempt.exited(exit, now, drain)
            {
                ended.push((*id, ending));
            }
        }
        for (id, ending) in ended {
            self.finish(id, ending);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let live = self.live.values().filter_map(Attempt::deadline);
        live.chain(self.retry_at.values().copied().flatten()).min()
    }

    fn check_deadlines(&mut self) {
        let now = Instant::now();
        let due: Vec<AttemptId> = self
            .live
            .iter()
            .filter(|(_, a)| a.deadline().is_some_and(|d| d <= now))
            .map(|(id, _)| *id)
            .collect();
        let drain = self.run.drain;
        for id in due {
            self.advance(id, |a| a.deadline_passed(now, drain));
        }
    }

    // --- Ending ------------------------------------------------------------------------

    /// The attempt is over: clean its group up, then apply the outcome.
    fn finish(&mut self, id: AttemptId, ending: Ending) {
        let Some(attempt) = self.live.remove(&id) else { return };
        let (idx, number) = (attempt.idx, attempt.number);
        let cmd = attempt.command();
        if let Some(cmd) = cmd {
            cmd.signal(Signal::SIGKILL);
        }
        let outcome = ending.outcome(self.phase(idx), cmd.map(|c| c.output.as_path()));
        // The group is gone: nothing of this attempt reads its context file any more.
        if let Work::Command { cmd, .. } = attempt.work {
            self.run.scratch.release(cmd.context);
        }
        match outcome {
            Outcome::Completed(result) => self.completed(idx, result),
            Outcome::Failed { error, exit_code } => {
                self.attempt_failed(idx, number, error, exit_code);
            }
            Outcome::Cancelled => self.cancelled(idx),
        }
    }

    fn completed(&mut self, idx: usize, result: serde_json::Value) {
        self.record(idx, &result);
        self.results[idx] = Some(result.clone());
        self.set_slot(idx, Slot::Done);
        let (name, t) = (Arc::clone(&self.run.names[idx]), self.t());
        self.dispatch(Action::PhaseComplete { name, result, t });
    }

    fn cancelled(&mut self, idx: usize) {
        self.set_slot(idx, Slot::Dead);
        let (name, t) = (Arc::clone(&self.run.names[idx]), self.t());
        self.dispatch(Action::PhaseCancelled { name, t });
    }

    /// Carries out what the phase's policy says after a failed attempt.
    fn attempt_failed(&mut self, idx: usize, attempt: u32, error: String, exit_code: Option<i32>) {
        let policy = self.phase(idx).policy;
        let next = after_failure(&policy, attempt, error, self.interrupted > 0, self.run.fail_fast);
        let (name, t) = (Arc::clone(&self.run.names[idx]), self.t());
        match next {
            AfterFailure::Cancel => self.cancelled(idx),
            AfterFailure::Retry { delay, error } => {
                self.retry_at.insert(idx, after(Instant::now(), delay));
                let delay = delay.as_secs_f64();
                self.dispatch(Action::PhaseRetry { name, attempt, error, exit_code, delay, t });
            }
            AfterFailure::Skip { error } => {
                self.results[idx] = None;
                self.set_slot(idx, Slot::Done);
                self.dispatch(Action::PhaseSkipped { name, error, exit_code, t });
            }
            AfterFailure::Stop { error, cancel_running } => {
                self.set_slot(idx, Slot::Dead);
                self.failed = true;
                self.stopping = true;
                self.dispatch(Action::PhaseFailed { name, error, exit_code, t });
                if cancel_running {
                    self.cancel_all();
                }
            }
        }
    }

    /// A phase ended (done or dead): the plan may start others.
    fn set_slot(&mut self, idx: usize, slot: Slot) {
        self.ready.end(idx, slot);
        self.replan = true;
    }

    /// Cancels every attempt in flight: TERM now, KILL after the grace period; phases
    /// waiting to retry are cancelled at once, and so are closures (which cannot be stopped
    /// from outside: they are left to finish on their own).
    fn cancel_all(&mut self) {
        let waiting: Vec<usize> = std::mem::take(&mut self.retry_at).into_keys().collect();
        for idx in waiting {
            self.cancelled(idx);
        }
        let (now, grace) = (Instant::now(), self.run.grace);
        let ended: Vec<(AttemptId, Ending)> = self
            .live
            .iter_mut()
            .filter_map(|(id, a)| a.cancel(now, grace).map(|ending| (*id, ending)))
            .collect();
        for (id, ending) in ended {
            self.finish(id, ending);
        }
    }
}

impl Drop for Engine<'_> {
    fn drop(&mut self) {
        // Whatever happened, no phase's processes outlive the run.
        for cmd in self.live.values().filter_map(Attempt::command) {
            cmd.signal(Signal::SIGKILL);
        }
    }
}
