//! Starting command phases: the [`Spawner`] seam and the real one, built on duct.
//!
//! Each phase gets its own process group, so that a timeout, a cancellation or the end of
//! the phase can signal everything it started (grandchildren included) at once.

use std::collections::VecDeque;
use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Arc, Condvar, Mutex, OnceLock, PoisonError};
use std::thread;
use std::time::Duration;

use crate::action::Stream;
use crate::exec::event::{EventSink, Exit};
use crate::lines::{LineBatch, LineSplitter};

/// A command to start: a program, its arguments, where and with what environment.
#[derive(Debug, Clone)]
pub struct CommandRequest {
    /// The program (`sh` for a `cmd` phase).
    pub program: String,
    /// Its arguments.
    pub args: Vec<String>,
    /// The working directory.
    pub cwd: PathBuf,
    /// Variables added to the inherited environment, in order (later wins).
    pub env: Vec<(String, String)>,
    /// Capture stdout/stderr (else they are inherited).
    pub capture: bool,
}

/// A started command.
#[derive(Debug)]
pub struct Started {
    /// Its process group id (the child's pid), when it has its own group.
    pub pgid: Option<i32>,
    /// The child and its pipes, for the executor to watch itself; `None` when the spawner
    /// reports through the sink instead.
    pub direct: Option<Direct>,
}

/// A child the executor watches on its own thread: its pipes are polled with everything
/// else, and its exit is noticed on SIGCHLD, so no thread stands between a phase and the
/// executor.
pub struct Direct {
    /// The child.
    pub child: Box<dyn ChildProcess>,
    /// Its captured stdout and stderr (`None` when output passes through).
    pub pipes: Option<(os_pipe::PipeReader, os_pipe::PipeReader)>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct").field("pipes", &self.pipes.is_some()).finish_non_exhaustive()
    }
}

/// A started process the executor can ask about its exit without blocking.
pub trait ChildProcess: Send {
    /// `Some` once it has exited.
    fn try_exit(&self) -> Option<Exit>;
}

impl ChildProcess for duct::Handle {
    fn try_exit(&self) -> Option<Exit> {
        match self.try_wait() {
            Ok(Some(output)) => Some(exit_of(output.status)),
            Ok(None) => None,
            Err(e) => Some(Exit::Lost(e.to_string())),
        }
    }
}

/// Starts commands. The executor calls [`spawn`](Self::spawn) on its own thread. Either it
/// returns the child in [`Started::direct`], or it reports through `sink` from threads of
/// its own: captured lines, then either `finished` (exit with every pipe closed) or
/// `exited` followed by `drained`.
pub trait Spawner: Send + Sync {
    /// Starts `request`. An `Err` is a spawn failure (nothing runs, no event follows).
    fn spawn(&self, request: &CommandRequest, sink: &EventSink) -> io::Result<Started>;
}

/// The real spawner: duct, a process group per phase. On Unix the child and its pipes go
/// back to the executor, which polls them with everything else; elsewhere a pooled thread
/// per phase reads and waits.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessSpawner;

impl Spawner for ProcessSpawner {
    fn spawn(&self, request: &CommandRequest, sink: &EventSink) -> io::Result<Started> {
        let mut expr = duct::cmd(&request.program, &request.args).dir(&request.cwd).unchecked();
        // One /dev/null for every phase: a dup is cheaper than opening it each time.
        expr = match dev_null() {
            Some(null) => expr.stdin_file(null),
            None => expr.stdin_null(),
        };
        for (k, v) in &request.env {
            expr = expr.env(k, v);
        }
        #[cfg(unix)]
        {
            expr = expr.before_spawn(|cmd| {
                std::os::unix::process::CommandExt::process_group(cmd, 0);
                Ok(())
            });
        }
        let mut pipes = None;
        if request.capture {
            let (out_r, out_w) = os_pipe::pipe()?;
            let (err_r, err_w) = os_pipe::pipe()?;
            expr = expr.stdout_file(out_w).stderr_file(err_w);
            pipes = Some((out_r, err_r));
        }
        let handle = expr.start();
        // The expression holds our copies of the pipes' write ends: close them now, so
        // the readers see the end of the stream when the phase's processes are gone.
        drop(expr);
        let handle = handle?;
        let pgid = handle.pids().first().and_then(|&p| i32::try_from(p).ok());
        #[cfg(unix)]
        {
            let _ = sink;
            Ok(Started { pgid, direct: Some(Direct { child: Box::new(handle), pipes }) })
        }
        #[cfg(not(unix))]
        Self::watch_on_thread(handle, pipes, sink, pgid)
    }
}

impl ProcessSpawner {
    /// The portable way: a (pooled) thread per running phase reads both pipes and waits.
    #[cfg_attr(unix, allow(dead_code))]
    fn watch_on_thread(
        handle: duct::Handle,
        pipes: Option<(os_pipe::PipeReader, os_pipe::PipeReader)>,
        sink: &EventSink,
        pgid: Option<i32>,
    ) -> io::Result<Started> {
        let sink = sink.clone();
        on_pool(Box::new(move || match pipes {
            #[cfg(unix)]
            Some((out, err)) => monitor(&handle, out, err, &sink),
            #[cfg(not(unix))]
            Some((out, err)) => {
                let s2 = sink.clone();
                let t = thread::spawn(move || read_lines(err, Stream::Stderr, &s2));
                read_lines(out, Stream::Stdout, &sink);
                let _ = t.join();
                sink.finished(wait(&handle));
            }
            None => sink.finished(wait(&handle)),
        }))?;
        Ok(Started { pgid, direct: None })
    }
}

type Job = Box<dyn FnOnce() + Send>;

/// Threads that watch phases, kept for reuse: a phase's start costs no thread creation.
#[derive(Default)]
struct Pool {
    state: Mutex<PoolState>,
    wake: Condvar,
}

#[derive(Default)]
struct PoolState {
    jobs: VecDeque<Job>,
    idle: usize,
}

/// How long a pooled thread waits for work before it ends.
const POOL_IDLE: Duration = Duration::from_secs(10);

fn on_pool(job: Job) -> io::Result<()> {
    static POOL: OnceLock<Arc<Pool>> = OnceLock::new();
    let pool = POOL.get_or_init(Arc::default);
    {
        let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
        if state.idle > 0 {
            state.idle -= 1;
            state.jobs.push_back(job);
            pool.wake.notify_one();
            return Ok(());
        }
    }
    let pool = Arc::clone(pool);
    thread::Builder::new().name("milo-phase".into()).spawn(move || {
        let mut job = job;
        loop {
            job();
            let mut state = pool.state.lock().unwrap_or_else(PoisonError::into_inner);
            state.idle += 1;
            job = loop {
                if let Some(next) = state.jobs.pop_front() {
                    break next;
                }
                let (s, timeout) = pool
                    .wake
                    .wait_timeout(state, POOL_IDLE)
                    .unwrap_or_else(PoisonError::into_inner);
                state = s;
                if timeout.timed_out() && state.jobs.is_empty() {
                    state.idle -= 1;
                    return;
                }
            };
        }
    })?;
    Ok(())
}

/// A duplicate of a /dev/null opened once.
fn dev_null() -> Option<std::fs::File> {
    static NULL: OnceLock<Option<std::fs::File>> = OnceLock::new();
    NULL.get_or_init(|| std::fs::File::open("/dev/null").ok()).as_ref()?.try_clone().ok()
}

fn wait(handle: &duct::Handle) -> Exit {
    match handle.wait() {
        Ok(output) => exit_of(output.status),
        Err(e) => Exit::Lost(e.to_string()),
    }
}

/// Reads both pipes as data arrives and reports the direct child's exit as soon as it is
/// seen — also while a grandchild still holds the pipes open.
#[cfg(unix)]
fn monitor(
    handle: &duct::Handle,
    out: os_pipe::PipeReader,
    err: os_pipe::PipeReader,
    sink: &EventSink,
) {
    thread_local! {
        // Pooled threads keep their buffer: no fresh pages to fault in per phase.
        static BUF: std::cell::RefCell<Vec<u8>> = std::cell::RefCell::new(vec![0u8; 64 * 1024]);
    }
    BUF.with_borrow_mut(|buf| watch(handle, out, err, sink, buf));
}

#[cfg(unix)]
fn watch(
    handle: &duct::Handle,
    out: os_pipe::PipeReader,
    err: os_pipe::PipeReader,
    sink: &EventSink,
    buf: &mut [u8],
) {
    use nix::poll::{PollFd, PollFlags, PollTimeout, poll};
    use std::os::fd::AsFd;

    let mut streams = [
        Some((out, LineSplitter::new(), Stream::Stdout)),
        Some((err, LineSplitter::new(), Stream::Stderr)),
    ];
    let mut exited = false;
    let mut idle_ms: u16 = 10;
    while streams.iter().any(Option::is_some) {
        let open: Vec<usize> = (0..2).filter(|&i| streams[i].is_some()).collect();
        let ready: Vec<usize> = {
            let mut fds: Vec<PollFd<'_>> = open
                .iter()
                .filter_map(|&i| streams[i].as_ref())
                .map(|(r, _, _)| PollFd::new(r.as_fd(), PollFlags::POLLIN))
                .collect();
            let timeout = if exited { PollTimeout::NONE } else { PollTimeout::from(idle_ms) };
            match poll(&mut fds, timeout) {
                Ok(0) => Vec::new(),
                Ok(_) => open
                    .iter()
                    .zip(&fds)
                    .filter(|(_, f)| f.revents().is_some_and(|r| !r.is_empty()))
                    .map(|(&i, _)| i)
                    .collect(),
                Err(nix::errno::Errno::EINTR) => continue,
                Err(_) => break,
            }
        };
        if ready.is_empty() {
            // Quiet pipes: has the direct child gone, leaving them to a grandchild?
            if let Ok(Some(output)) = handle.try_wait() {
                exited = true;
                sink.exited(exit_of(output.status));
            }
            idle_ms = idle_ms.saturating_mul(2).min(100);
            continue;
        }
        for i in ready {
            let Some((reader, splitter, stream)) = streams[i].as_mut() else { continue };
            let n = loop {
                match reader.read(buf) {
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    other => break other.unwrap_or(0),
                }
            };
            let mut lines = LineBatch::default();
            if n == 0 {
                splitter.finish(|l| lines.push(l));
                let stream = *stream;
                streams[i] = None;
                sink.lines(stream, lines);
            } else {
                splitter.push(&buf[..n], |l| lines.push(l));
                if !sink.lines(*stream, lines) {
                    return;
                }
            }
        }
    }
    if exited {
        sink.drained();
    } else {
        sink.finished(wait(handle));
    }
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    #[cfg(unix)]
    {
        if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
            return Exit::Signal(sig);
        }
    }
    Exit::Lost(format!("unknown exit status {status}"))
}

/// Reads a pipe to its end, sending each read's complete lines as one batch.
#[cfg_attr(unix, allow(dead_code))] // the portable fallback
pub(crate) fn read_lines(mut reader: impl Read, stream: Stream, sink: &EventSink) {
    let mut splitter = LineSplitter::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut lines = LineBatch::default();
                splitter.push(&buf[..n], |l| lines.push(l));
                if !sink.lines(stream, lines) {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let mut lines = LineBatch::default();
    splitter.finish(|l| lines.push(l));
    sink.lines(stream, lines);
}

/// Sends `signal` to process group `pgid`; a group that is already gone is fine.
#[cfg(unix)]
pub(crate) fn signal_group(pgid: i32, signal: nix::sys::signal::Signal) {
    if pgid > 0 {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), signal);
    }
}
