//! The executor loop: one thread owns the clock, the schedule and every running attempt,
//! and turns what its helper threads report into actions.

use std::collections::{BTreeMap, HashMap};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use crate::action::{Action, Stream};
use crate::artifact::TimelineWriter;
use crate::clock::{Clock, RealClock, wall_clock_rfc3339};
use crate::error::Error;
use crate::exec::event::{AttemptId, Event, EventSink, Exit, Waker};
use crate::exec::func::{self, FuncJob};
use crate::exec::process::{ChildProcess, CommandRequest, Started};
use crate::exec::{CancelToken, RunOptions, Spawner, effective_jobs};
use crate::lines::{LineBatch, LineSplitter};
use crate::outputs;
use crate::phase::{Handler, OnFail, Phase, retry_delay};
use crate::pipeline::Pipeline;
use crate::schedule::{Plan, Slot};
use crate::state::PipelineState;
use crate::store::{StateHandle, Store, set_active_pipeline};

/// How many events may wait for the executor: readers block beyond it, which bounds memory
/// whatever a phase prints.
const QUEUE: usize = 64;
/// After a SIGKILL, how long to wait for pipes to close before giving up on them.
const ABANDON_AFTER: Duration = Duration::from_millis(500);
/// The longest the loop sleeps without looking at the cancellation token.
const POLL: Duration = Duration::from_millis(250);

/// Why the executor is killing an attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kill {
    Timeout,
    Cancel,
}

/// One attempt in flight.
#[derive(Debug)]
struct Live {
    idx: usize,
    attempt: u32,
    pgid: Option<i32>,
    /// Whether captured pipes may still be open (cleared by `Drained` / `Finished`).
    open_streams: u8,
    exit: Option<Exit>,
    returned: Option<Result<serde_json::Value, String>>,
    is_func: bool,
    timeout_at: Option<Instant>,
    drain_until: Option<Instant>,
    kill_at: Option<Instant>,
    abandon_at: Option<Instant>,
    kill: Option<Kill>,
    output: Option<PathBuf>,
    /// Its own `$MILO_CONTEXT` file (not the shared empty one), reused once it is over.
    context: Option<PathBuf>,
    /// A child the loop watches itself (pipes polled here, exit seen on SIGCHLD).
    direct: Option<DirectLive>,
}

/// A directly watched child and its open pipes.
struct DirectLive {
    child: Box<dyn ChildProcess>,
    streams: [Option<(os_pipe::PipeReader, LineSplitter, Stream)>; 2],
}

impl std::fmt::Debug for DirectLive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DirectLive").finish_non_exhaustive()
    }
}

/// A prepared run: the store exists (subscribe to it, hand its state to other threads),
/// nothing has started. [`execute`](Self::execute) runs it.
pub struct Run {
    pipeline: Arc<Pipeline>,
    store: Store,
    names: Vec<Arc<str>>,
    plan: Plan,
    jobs: usize,
    fail_fast: bool,
    capture: bool,
    cancel: CancelToken,
    grace: Duration,
    drain: Duration,
    spawner: Arc<dyn Spawner>,
    writer: Option<TimelineWriter>,
    scratch: tempfile::TempDir,
    empty_context: Option<PathBuf>,
}

impl Run {
    /// Prepares a run of `pipeline`: builds the store, subscribes the timeline writer (when
    /// a timeline path is given) and then `options.subscribers`.
    pub fn new(pipeline: &Pipeline, options: RunOptions) -> Result<Self, Error> {
        let settings = pipeline.settings();
        let mut state = PipelineState::new(pipeline);
        let durations = match options.durations {
            Some(d) => Some(d),
            None => options.timeline.as_deref().and_then(crate::artifact::previous_durations),
        };
        let plan = Plan::new(pipeline, durations.as_ref());
        let mut writer = None;
        if let Some(path) = &options.timeline {
            state.log_dir = Some(crate::artifact::LOG_DIR.to_owned());
            writer = Some(TimelineWriter::create(path)?);
        }
        let names = state.phases.iter().map(|p| Arc::clone(&p.name)).collect();
        let mut store = Store::new(state);
        if let Some(w) = &mut writer {
            w.attach(&mut store)?;
        }
        for s in options.subscribers {
            store.subscribe(s);
        }
        let scratch = scratch_dir()?;
        Ok(Self {
            pipeline: Arc::new(pipeline.clone()),
            store,
            names,
            plan,
            jobs: effective_jobs(options.jobs.unwrap_or(settings.jobs)),
            fail_fast: options.fail_fast.unwrap_or(settings.fail_fast),
            capture: options.capture.unwrap_or(settings.capture_output),
            cancel: options.cancel,
            grace: options.grace,
            drain: options.drain,
            spawner: options.spawner,
            writer,
            scratch,
            empty_context: None,
        })
    }

    /// The store's state, readable from other threads while the run goes on.
    pub fn handle(&self) -> StateHandle {
        self.store.handle()
    }

    /// Adds a subscriber (after the timeline writer and the options' subscribers).
    pub fn subscribe(&mut self, subscriber: impl FnMut(&Action, &PipelineState) + Send + 'static) {
        self.store.subscribe(subscriber);
    }

    /// Runs the pipeline to its end and returns the final state (see [`run`](super::run)).
    pub fn execute(mut self) -> Result<PipelineState, Error> {
        let (tx, rx) = mpsc::sync_channel(QUEUE);
        let (wake_rx, wake_tx) = UnixStream::pair()
            .map_err(|e| Error::system("creating the executor's wake-up socket", e))?;
        let _ = wake_rx.set_nonblocking(true);
        let _ = wake_tx.set_nonblocking(true);
        // Every child's exit wakes the loop, which then asks its children which one it was.
        let sigchld = wake_tx.try_clone().ok().and_then(|w| {
            signal_hook::low_level::pipe::register(signal_hook::consts::SIGCHLD, w).ok()
        });
        let waker = Waker::new(wake_tx);
        self.cancel.set_waker(Some((tx.clone(), waker.clone())));
        set_active_pipeline(Some(self.store.handle()));
        let clock = RealClock::start();
        let mut engine = Engine::new(&mut self, clock, tx, waker, wake_rx, sigchld.is_some());
        engine.main_loop(&rx);
        drop(engine);
        if let Some(id) = sigchld {
            signal_hook::low_level::unregister(id);
        }
        self.cancel.set_waker(None);
        set_active_pipeline(None);
        let result = match self.writer.take() {
            Some(writer) => writer.finish(&self.store.handle()),
            None => Ok(()),
        };
        let state = self.store.into_state();
        result.map(|()| state)
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

/// The loop's working state, borrowed from a [`Run`].
struct Engine<'a> {
    run: &'a mut Run,
    clock: RealClock,
    tx: SyncSender<Event>,
    waker: Waker,
    wake_rx: UnixStream,
    /// Whether SIGCHLD wakes the loop (else children are asked at every wake-up).
    sigchld: bool,
    buf: Vec<u8>,
    slots: Vec<Slot>,
    attempts: Vec<u32>,
    results: Vec<Option<serde_json::Value>>,
    live: HashMap<AttemptId, Live>,
    /// When each phase waiting to retry starts again (`None`: a delay too long to reach).
    retry_at: BTreeMap<usize, Option<Instant>>,
    /// Context files of finished attempts, ready to be rewritten for the next ones.
    free_contexts: Vec<PathBuf>,
    /// How many context files were created (their names).
    contexts_made: usize,
    next_id: u64,
    /// Whether a phase ended since the plan was last asked what to start.
    replan: bool,
    stopping: bool,
    failed: bool,
    interrupted: u32,
}

impl<'a> Engine<'a> {
    fn new(
        run: &'a mut Run,
        clock: RealClock,
        tx: SyncSender<Event>,
        waker: Waker,
        wake_rx: UnixStream,
        sigchld: bool,
    ) -> Self {
        let n = run.names.len();
        Self {
            run,
            clock,
            tx,
            waker,
            wake_rx,
            sigchld,
            buf: vec![0; 64 * 1024],
            slots: vec![Slot::Waiting; n],
            attempts: vec![0; n],
            results: vec![None; n],
            live: HashMap::new(),
            retry_at: BTreeMap::new(),
            free_contexts: Vec::new(),
            contexts_made: 0,
            next_id: 0,
            replan: true,
            stopping: false,
            failed: false,
            interrupted: 0,
        }
    }

    fn t(&self) -> f64 {
        self.clock.now()
    }

    fn dispatch(&mut self, action: Action) {
        self.run.store.dispatch(action);
    }

    fn main_loop(&mut self, rx: &Receiver<Event>) {
        let t = self.t();
        self.dispatch(Action::PipelineStart { started_at: wall_clock_rfc3339(), t });
        loop {
            self.check_cancel();
            self.start_ready();
            if self.live.is_empty() && self.retry_at.is_empty() {
                break;
            }
            let now = Instant::now();
            let wait = self.next_deadline().map_or(POLL, |d| d.saturating_duration_since(now));
            self.wait(rx, wait.min(POLL));
            self.check_deadlines();
        }
        let t = self.t();
        let end = if self.interrupted > 0 {
            Action::PipelineCancelled { t }
        } else if self.failed || self.slots.iter().any(|s| *s != Slot::Done) {
            Action::PipelineFailed { t }
        } else {
            Action::PipelineComplete { t }
        };
        self.dispatch(end);
    }

    fn check_cancel(&mut self) {
        let times = self.run.cancel.times();
        if times <= self.interrupted {
            return;
        }
        let first = self.interrupted == 0;
        self.interrupted = times;
        if first {
            self.stopping = true;
            self.cancel_all();
        }
        if times >= 2 {
            self.kill_all_now();
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
            let next = self.run.plan.next(&self.slots, self.run.jobs);
            if next.is_empty() {
                return;
            }
            for idx in next {
                self.slots[idx] = Slot::Active;
                self.start_attempt(idx);
            }
            if self.stopping {
                return;
            }
        }
    }

    /// A phase ended (done or dead): the plan may start others.
    fn set_slot(&mut self, idx: usize, slot: Slot) {
        self.slots[idx] = slot;
        self.replan = true;
    }

    fn phase(&self, idx: usize) -> &Phase {
        &self.run.pipeline.phases()[idx]
    }

    fn start_attempt(&mut self, idx: usize) {
        self.attempts[idx] += 1;
        let attempt = self.attempts[idx];
        let id = AttemptId(self.next_id);
        self.next_id += 1;
        let t = self.t();
        let name = Arc::clone(&self.run.names[idx]);
        self.dispatch(Action::PhaseStart { name, attempt, t });
        let sink = EventSink { id, tx: self.tx.clone(), waker: self.waker.clone() };
        let pipeline = Arc::clone(&self.run.pipeline);
        let phase = &pipeline.phases()[idx];
        let timeout_at = phase.timeout.and_then(|d| after(Instant::now(), d));
        let mut live = Live {
            idx,
            attempt,
            pgid: None,
            open_streams: 0,
            exit: None,
            returned: None,
            is_func: false,
            timeout_at,
            drain_until: None,
            kill_at: None,
            abandon_at: None,
            kill: None,
            output: None,
            context: None,
            direct: None,
        };
        let started = match &phase.handler {
            Handler::Func(f) => {
                live.is_func = true;
                let job = FuncJob {
                    f: Arc::clone(f),
                    pipeline: self.run.pipeline.name().to_owned(),
                    phase: phase.name.clone(),
                    attempt,
                    results: self.dependency_results(idx),
                    capture: self.run.capture,
                };
                func::spawn(job, sink).map_err(|e| format!("failed to start a thread: {e}"))
            }
            Handler::Shell(_) | Handler::Args(_) => {
                self.start_command(phase, idx, attempt, &sink).map(|(started, output, context)| {
                    live.pgid = started.pgid;
                    live.output = Some(output);
                    live.context = context;
                    live.open_streams = u8::from(self.run.capture);
                    if let Some(direct) = started.direct {
                        let streams = match direct.pipes {
                            Some((out, err)) => [
                                Some((out, LineSplitter::new(), Stream::Stdout)),
                                Some((err, LineSplitter::new(), Stream::Stderr)),
                            ],
                            None => [None, None],
                        };
                        live.open_streams =
                            u8::try_from(streams.iter().flatten().count()).unwrap_or(0);
                        live.direct = Some(DirectLive { child: direct.child, streams });
                    }
                })
            }
        };
        match started {
            Ok(()) => {
                self.live.insert(id, live);
            }
            Err(error) => self.attempt_failed(idx, attempt, error, None),
        }
    }

    /// Every direct dependency's result (`None` for a skipped one).
    fn dependency_results(&self, idx: usize) -> BTreeMap<String, Option<serde_json::Value>> {
        self.run
            .pipeline
            .graph()
            .deps(idx)
            .iter()
            .map(|&d| (self.run.names[d].to_string(), self.results[d].clone()))
            .collect()
    }

    fn start_command(
        &mut self,
        phase: &Phase,
        idx: usize,
        attempt: u32,
        sink: &EventSink,
    ) -> Result<(Started, PathBuf, Option<PathBuf>), String> {
        let (context, owned) = self.context_file(idx)?;
        let result = self.spawn_command(phase, idx, attempt, sink, &context);
        let owned = owned.then_some(context);
        match result {
            Ok((started, output)) => Ok((started, output, owned)),
            Err(e) => {
                self.free_contexts.extend(owned);
                Err(e)
            }
        }
    }

    fn spawn_command(
        &self,
        phase: &Phase,
        idx: usize,
        attempt: u32,
        sink: &EventSink,
        context: &Path,
    ) -> Result<(Started, PathBuf), String> {
        let settings = self.run.pipeline.settings();
        let base = match &settings.dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        let cwd = phase.cwd.as_ref().map_or_else(|| base.clone(), |c| base.join(c));
        // A path no attempt has used: fresh without creating it (`>>` creates it), which
        // keeps a file creation off every phase's start.
        let output = self.run.scratch.path().join(format!("{idx}.{attempt}.output"));
        let mut env: Vec<(String, String)> =
            settings.env.iter().chain(&phase.env).map(|(k, v)| (k.clone(), v.clone())).collect();
        env.push(("MILO_PIPELINE".into(), self.run.pipeline.name().to_owned()));
        env.push(("MILO_PHASE".into(), phase.name.clone()));
        env.push(("MILO_ATTEMPT".into(), attempt.to_string()));
        env.push(("MILO_OUTPUT".into(), output.display().to_string()));
        env.push(("MILO_CONTEXT".into(), context.display().to_string()));
        let (program, args) = match &phase.handler {
            Handler::Shell(line) => shell(line),
            Handler::Args(argv) => match argv.split_first() {
                Some((p, rest)) => (p.clone(), rest.to_vec()),
                None => return Err("empty command".into()),
            },
            Handler::Func(_) => return Err("not a command".into()),
        };
        let request = CommandRequest { program, args, cwd, env, capture: self.run.capture };
        match self.run.spawner.spawn(&request, sink) {
            Ok(started) => Ok((started, output)),
            // Checked only when the spawn fails: a stat per phase otherwise.
            Err(_) if !request.cwd.is_dir() => {
                Err(format!("working directory not found: {}", request.cwd.display()))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                Err(format!("command not found: {}", request.program))
            }
            Err(e) => Err(format!("failed to start `{}`: {e}", request.program)),
        }
    }

    /// The `$MILO_CONTEXT` file for phase `idx`, and whether the attempt owns it: phases
    /// without dependencies share one file; the others get a file of a finished attempt
    /// back (rewritten), so that a long pipeline creates and deletes a handful, not one each.
    fn context_file(&mut self, idx: usize) -> Result<(PathBuf, bool), String> {
        let deps = self.run.pipeline.graph().deps(idx);
        if let (true, Some(p)) = (deps.is_empty(), &self.run.empty_context) {
            return Ok((p.clone(), false));
        }
        let text = outputs::context_json(
            deps.iter().map(|&d| (&*self.run.names[d], self.results[d].as_ref())),
        );
        let path = if deps.is_empty() {
            self.run.scratch.path().join("empty.context.json")
        } else if let Some(free) = self.free_contexts.pop() {
            free
        } else {
            self.contexts_made += 1;
            self.run.scratch.path().join(format!("{}.context.json", self.contexts_made))
        };
        if let Err(e) = std::fs::write(&path, text + "\n") {
            return Err(format!("cannot write {}: {e}", path.display()));
        }
        if deps.is_empty() {
            self.run.empty_context = Some(path.clone());
            return Ok((path, false));
        }
        Ok((path, true))
    }

    fn handle(&mut self, event: Event) {
        match event {
            Event::Lines { id, stream, lines } => self.lines(id, stream, &lines),
            Event::Drained { id } => {
                if let Some(live) = self.live.get_mut(&id) {
                    live.open_streams = 0;
                    self.maybe_finish(id);
                }
            }
            Event::Finished { id, exit } => {
                if let Some(live) = self.live.get_mut(&id) {
                    live.exit = Some(exit);
                    live.open_streams = 0;
                    self.maybe_finish(id);
                }
            }
            Event::Exited { id, exit } => {
                if let Some(live) = self.live.get_mut(&id) {
                    live.exit = Some(exit);
                    if live.open_streams > 0 && live.drain_until.is_none() {
                        live.drain_until = after(Instant::now(), self.run.drain);
                    }
                    self.maybe_finish(id);
                }
            }
            Event::Returned { id, result } => {
                if let Some(live) = self.live.get_mut(&id) {
                    live.returned = Some(result);
                    self.maybe_finish(id);
                }
            }
            Event::Wake => {}
        }
    }

    fn lines(&mut self, id: AttemptId, stream: Stream, lines: &LineBatch) {
        let Some(live) = self.live.get(&id) else { return };
        self.dispatch_lines(live.idx, stream, lines);
    }

    fn dispatch_lines(&mut self, idx: usize, stream: Stream, lines: &LineBatch) {
        let name = &self.run.names[idx];
        let t = self.clock.now();
        self.run.store.dispatch_all(lines.iter().map(|line| Action::PhaseLog {
            name: Arc::clone(name),
            line: Arc::from(line),
            stream,
            t,
        }));
    }

    /// Waits up to `timeout` for anything: a readable pipe of a direct child, a child's exit
    /// (SIGCHLD), an event from another thread, or a cancellation; then handles it all.
    fn wait(&mut self, rx: &Receiver<Event>, timeout: Duration) {
        use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
        use std::os::fd::AsFd;

        let mut ready: Vec<(AttemptId, usize)> = Vec::new();
        let mut woken = false;
        {
            let mut owners = Vec::new();
            let mut fds = vec![PollFd::new(self.wake_rx.as_fd(), PollFlags::POLLIN)];
            for (id, live) in &self.live {
                let Some(d) = &live.direct else { continue };
                for (k, s) in d.streams.iter().enumerate() {
                    if let Some((r, _, _)) = s {
                        fds.push(PollFd::new(r.as_fd(), PollFlags::POLLIN));
                        owners.push((*id, k));
                    }
                }
            }
            let ms = u16::try_from(timeout.as_millis().max(1)).unwrap_or(u16::MAX);
            if poll(&mut fds, PollTimeout::from(ms)).is_ok_and(|n| n > 0) {
                let hit = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
                woken = hit(&fds[0]);
                ready =
                    owners.iter().zip(&fds[1..]).filter(|(_, f)| hit(f)).map(|(o, _)| *o).collect();
            }
        }
        if woken {
            // A short read means the socket is empty: no second call just to see EAGAIN.
            let mut sink = [0u8; 256];
            while matches!(std::io::Read::read(&mut &self.wake_rx, &mut sink), Ok(n) if n == sink.len())
            {
            }
        }
        for event in rx.try_iter().take(QUEUE) {
            self.handle(event);
        }
        for (id, k) in ready {
            self.read_direct(id, k);
        }
        if woken || !self.sigchld {
            self.reap();
        }
    }

    /// Reads what one pipe of a direct child has, as lines.
    fn read_direct(&mut self, id: AttemptId, k: usize) {
        let Some(live) = self.live.get_mut(&id) else { return };
        let idx = live.idx;
        let Some(d) = live.direct.as_mut() else { return };
        let Some((reader, splitter, stream)) = d.streams[k].as_mut() else { return };
        let stream = *stream;
        let n = loop {
            match std::io::Read::read(reader, &mut self.buf) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                other => break other.unwrap_or(0),
            }
        };
        let mut lines = LineBatch::default();
        let closed = n == 0;
        if closed {
            splitter.finish(|l| lines.push(l));
            d.streams[k] = None;
            live.open_streams = live.open_streams.saturating_sub(1);
            if live.open_streams == 0 && live.exit.is_none() {
                live.exit = d.child.try_exit();
            }
        } else {
            splitter.push(&self.buf[..n], |l| lines.push(l));
        }
        if !lines.is_empty() {
            self.dispatch_lines(idx, stream, &lines);
        }
        if closed {
            self.maybe_finish(id);
        }
    }

    /// Asks each direct child whose exit is unknown whether it has exited.
    fn reap(&mut self) {
        let now = Instant::now();
        let mut done = Vec::new();
        for (id, live) in &mut self.live {
            let Some(d) = &live.direct else { continue };
            if live.exit.is_some() {
                continue;
            }
            if let Some(exit) = d.child.try_exit() {
                live.exit = Some(exit);
                if live.open_streams > 0 && live.drain_until.is_none() && live.kill.is_none() {
                    live.drain_until = after(now, self.run.drain);
                }
                done.push(*id);
            }
        }
        for id in done {
            self.maybe_finish(id);
        }
    }

    fn next_deadline(&self) -> Option<Instant> {
        let live = self.live.values().flat_map(|l| {
            [l.timeout_at.filter(|_| l.kill.is_none()), l.drain_until, l.kill_at, l.abandon_at]
        });
        live.flatten().chain(self.retry_at.values().copied().flatten()).min()
    }

    fn check_deadlines(&mut self) {
        let now = Instant::now();
        let ids: Vec<AttemptId> = self.live.keys().copied().collect();
        for id in ids {
            let Some(live) = self.live.get_mut(&id) else { continue };
            if live.kill.is_none() && live.timeout_at.is_some_and(|t| t <= now) {
                live.kill = Some(Kill::Timeout);
                if live.is_func {
                    self.finish(id);
                    continue;
                }
                kill_group(live.pgid);
                live.abandon_at = after(now, ABANDON_AFTER.max(self.run.drain));
            }
            if live.kill_at.is_some_and(|t| t <= now) {
                live.kill_at = None;
                kill_group(live.pgid);
                live.abandon_at = after(now, ABANDON_AFTER);
            }
            if live.drain_until.is_some_and(|t| t <= now) {
                // The direct child is gone but something still holds its pipes.
                live.drain_until = None;
                kill_group(live.pgid);
                live.abandon_at = after(now, ABANDON_AFTER);
            }
            if live.abandon_at.is_some_and(|t| t <= now) {
                live.abandon_at = None;
                if let Some(d) = live.direct.as_mut() {
                    d.streams = [None, None];
                }
                if live.exit.is_some() || live.is_func {
                    live.open_streams = 0;
                } else {
                    live.exit = Some(Exit::Lost("the process did not exit after SIGKILL".into()));
                    live.open_streams = 0;
                }
                self.maybe_finish(id);
            }
        }
    }

    fn maybe_finish(&mut self, id: AttemptId) {
        let Some(live) = self.live.get(&id) else { return };
        let ready = if live.is_func {
            live.returned.is_some()
        } else {
            live.exit.is_some() && live.open_streams == 0
        };
        if ready {
            self.finish(id);
        }
    }

    /// The attempt is over: clean its group up, then apply the outcome.
    fn finish(&mut self, id: AttemptId) {
        let Some(live) = self.live.remove(&id) else { return };
        kill_group(live.pgid);
        // The group is gone: nothing of this attempt reads its context file any more.
        self.free_contexts.extend(live.context);
        let (idx, attempt) = (live.idx, live.attempt);
        if live.kill == Some(Kill::Cancel) {
            self.cancelled(idx);
            return;
        }
        if live.kill == Some(Kill::Timeout) {
            let limit = self.phase(idx).timeout.unwrap_or_default();
            let error = format!("timed out after {}", humantime::format_duration(limit));
            self.attempt_failed(idx, attempt, error, None);
            return;
        }
        if live.is_func {
            match live.returned {
                Some(Ok(value)) => self.completed(idx, value),
                Some(Err(error)) => self.attempt_failed(idx, attempt, error, None),
                None => self.attempt_failed(idx, attempt, "no result".into(), None),
            }
            return;
        }
        match live.exit {
            Some(Exit::Code(0)) => {
                let outputs = live
                    .output
                    .as_deref()
                    .and_then(|p| std::fs::read(p).ok())
                    .map(|b| outputs::parse(&String::from_utf8_lossy(&b)))
                    .unwrap_or_default();
                self.completed(idx, outputs::command_result(0, &outputs));
            }
            Some(Exit::Code(code)) => {
                let error = if code == 127 && matches!(self.phase(idx).handler, Handler::Shell(_)) {
                    "exit code 127 (command not found)".to_owned()
                } else {
                    format!("exit code {code}")
                };
                self.attempt_failed(idx, attempt, error, Some(code));
            }
            Some(Exit::Signal(sig)) => {
                self.attempt_failed(idx, attempt, format!("killed by signal {sig}"), None);
            }
            Some(Exit::Lost(why)) => self.attempt_failed(idx, attempt, why, None),
            None => self.attempt_failed(idx, attempt, "the process vanished".into(), None),
        }
    }

    fn completed(&mut self, idx: usize, result: serde_json::Value) {
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

    /// Applies the policy to a failed attempt: retry, skip, or stop.
    fn attempt_failed(&mut self, idx: usize, attempt: u32, error: String, exit_code: Option<i32>) {
        let name = Arc::clone(&self.run.names[idx]);
        let policy = self.phase(idx).policy;
        let max = policy.max_attempts();
        let t = self.t();
        if self.interrupted > 0 {
            self.cancelled(idx);
            return;
        }
        if attempt < max {
            let delay = retry_delay(&policy, attempt);
            self.retry_at.insert(idx, after(Instant::now(), delay));
            let delay = delay.as_secs_f64();
            self.dispatch(Action::PhaseRetry { name, attempt, error, exit_code, delay, t });
            return;
        }
        let error = if max > 1 {
            format!("retries exhausted after {attempt} attempts: {error}")
        } else {
            error
        };
        if policy.on_fail == OnFail::Skip {
            self.results[idx] = None;
            self.set_slot(idx, Slot::Done);
            self.dispatch(Action::PhaseSkipped { name, error, exit_code, t });
            return;
        }
        self.set_slot(idx, Slot::Dead);
        self.failed = true;
        self.stopping = true;
        self.dispatch(Action::PhaseFailed { name, error, exit_code, t });
        if self.run.fail_fast {
            self.cancel_all();
        }
    }

    /// Cancels every attempt in flight: TERM now, KILL after the grace period; phases
    /// waiting to retry are cancelled at once.
    fn cancel_all(&mut self) {
        let waiting: Vec<usize> = std::mem::take(&mut self.retry_at).into_keys().collect();
        for idx in waiting {
            self.cancelled(idx);
        }
        let now = Instant::now();
        let mut funcs = Vec::new();
        for (id, live) in &mut self.live {
            if live.kill == Some(Kill::Cancel) {
                continue;
            }
            live.kill = Some(Kill::Cancel);
            if live.is_func {
                funcs.push(*id);
                continue;
            }
            term_group(live.pgid);
            live.kill_at = after(now, self.run.grace);
            if live.exit.is_some() {
                // Only pipes are left: the group gets the same treatment.
                live.drain_until = None;
            }
        }
        // A closure cannot be stopped from outside: it is left to finish on its own.
        for id in funcs {
            self.finish(id);
        }
    }

    fn kill_all_now(&mut self) {
        let now = Instant::now();
        for live in self.live.values_mut() {
            kill_group(live.pgid);
            live.kill_at = None;
            live.abandon_at = after(now, ABANDON_AFTER);
        }
    }
}

impl Drop for Engine<'_> {
    fn drop(&mut self) {
        // Whatever happened, no phase's processes outlive the run.
        for live in self.live.values() {
            kill_group(live.pgid);
        }
    }
}

/// `now + d`, or `None` (never) when `d` reaches past what an `Instant` can hold: a huge
/// timeout or delay from the library builder must not panic.
fn after(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

/// The platform shell and its arguments for a command line.
fn shell(line: &str) -> (String, Vec<String>) {
    if cfg!(windows) {
        ("cmd".into(), vec!["/C".into(), line.into()])
    } else {
        // An absolute path spares a PATH search on every phase; looked up once per process.
        static SH: OnceLock<&str> = OnceLock::new();
        let sh = SH.get_or_init(|| if Path::new("/bin/sh").exists() { "/bin/sh" } else { "sh" });
        ((*sh).into(), vec!["-c".into(), line.into()])
    }
}

/// A private folder for `$MILO_OUTPUT` and `$MILO_CONTEXT` files, on a memory file system
/// when there is one (creating files there is far cheaper than on disk).
fn scratch_dir() -> Result<tempfile::TempDir, Error> {
    let candidates =
        [std::env::var_os("XDG_RUNTIME_DIR").map(PathBuf::from), Some("/dev/shm".into())];
    for dir in candidates.into_iter().flatten() {
        if let Ok(tmp) = tempfile::Builder::new().prefix("milo-run-").tempdir_in(&dir) {
            return Ok(tmp);
        }
    }
    tempfile::Builder::new()
        .prefix("milo-run-")
        .tempdir()
        .map_err(|e| Error::io("creating a scratch folder in", std::env::temp_dir(), e))
}

#[cfg(unix)]
fn kill_group(pgid: Option<i32>) {
    if let Some(pgid) = pgid {
        crate::exec::process::signal_group(pgid, nix::sys::signal::Signal::SIGKILL);
    }
}

#[cfg(unix)]
fn term_group(pgid: Option<i32>) {
    if let Some(pgid) = pgid {
        crate::exec::process::signal_group(pgid, nix::sys::signal::Signal::SIGTERM);
    }
}

#[cfg(not(unix))]
fn kill_group(_pgid: Option<i32>) {}

#[cfg(not(unix))]
fn term_group(_pgid: Option<i32>) {}
