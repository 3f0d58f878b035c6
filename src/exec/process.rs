//! Starting command phases: the [`Spawner`] seam and the real one, built on duct.
//!
//! Each phase gets its own process group, so that a timeout, a cancellation or the end of
//! the phase can signal everything it started (grandchildren included) at once.

use std::io;
use std::path::PathBuf;
use std::sync::OnceLock;

use crate::exec::event::{EventSink, Exit};

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
    pub pipes: Option<(io::PipeReader, io::PipeReader)>,
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

/// The real spawner: duct, a process group per phase. The child and its pipes go back to the
/// executor, which polls them with everything else.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessSpawner;

impl Spawner for ProcessSpawner {
    fn spawn(&self, request: &CommandRequest, _sink: &EventSink) -> io::Result<Started> {
        let mut expr = duct::cmd(&request.program, &request.args).dir(&request.cwd).unchecked();
        // One /dev/null for every phase: a dup is cheaper than opening it each time.
        expr = match dev_null() {
            Some(null) => expr.stdin_file(null),
            None => expr.stdin_null(),
        };
        for (k, v) in &request.env {
            expr = expr.env(k, v);
        }
        expr = expr.before_spawn(|cmd| {
            std::os::unix::process::CommandExt::process_group(cmd, 0);
            Ok(())
        });
        let mut pipes = None;
        if request.capture {
            let (out_r, out_w) = io::pipe()?;
            let (err_r, err_w) = io::pipe()?;
            expr = expr.stdout_file(out_w).stderr_file(err_w);
            pipes = Some((out_r, err_r));
        }
        let handle = expr.start();
        // The expression holds our copies of the pipes' write ends: close them now, so
        // the readers see the end of the stream when the phase's processes are gone.
        drop(expr);
        let handle = handle?;
        let pgid = handle.pids().first().and_then(|&p| i32::try_from(p).ok());
        Ok(Started { pgid, direct: Some(Direct { child: Box::new(handle), pipes }) })
    }
}

/// A duplicate of a /dev/null opened once.
fn dev_null() -> Option<std::fs::File> {
    static NULL: OnceLock<Option<std::fs::File>> = OnceLock::new();
    NULL.get_or_init(|| std::fs::File::open("/dev/null").ok()).as_ref()?.try_clone().ok()
}

fn exit_of(status: std::process::ExitStatus) -> Exit {
    if let Some(code) = status.code() {
        return Exit::Code(code);
    }
    if let Some(sig) = std::os::unix::process::ExitStatusExt::signal(&status) {
        return Exit::Signal(sig);
    }
    Exit::Lost(format!("unknown exit status {status}"))
}

/// Sends `signal` to process group `pgid`; a group that is already gone is fine.
pub(crate) fn signal_group(pgid: i32, signal: nix::sys::signal::Signal) {
    if pgid > 0 {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), signal);
    }
}
