//! Starting command phases: the [`Spawner`] seam and the real one, built on
//! [`std::process::Command`].
//!
//! Each phase gets its own process group, so that a timeout, a cancellation or the end of
//! the phase can signal everything it started (grandchildren included) at once.
//!
//! The real spawner stays on the standard library's `posix_spawn` path (a `vfork`-style
//! start on Linux): no closure runs in the child, the group, the working directory and the
//! descriptors are spawn attributes. The environment is inherited as it is, plus the
//! request's variables.

use std::io;
use std::os::fd::OwnedFd;
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
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
/// else, and so is its exit (through `exit_fd`, else SIGCHLD), so no thread stands between
/// a phase and the executor.
pub struct Direct {
    /// The child.
    pub child: Box<dyn ChildProcess>,
    /// Its captured stdout and stderr (`None` when output passes through).
    pub pipes: Option<(io::PipeReader, io::PipeReader)>,
    /// A descriptor that becomes readable when the child exits (a Linux pidfd). Without
    /// one, the executor hears exits through SIGCHLD.
    pub exit_fd: Option<OwnedFd>,
}

impl std::fmt::Debug for Direct {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Direct")
            .field("pipes", &self.pipes.is_some())
            .field("exit_fd", &self.exit_fd)
            .finish_non_exhaustive()
    }
}

/// A started process the executor can ask about its exit without blocking.
pub trait ChildProcess: Send {
    /// `Some` once it has exited (and has been reaped).
    fn try_exit(&mut self) -> Option<Exit>;
}

impl ChildProcess for std::process::Child {
    fn try_exit(&mut self) -> Option<Exit> {
        match self.try_wait() {
            Ok(Some(status)) => Some(exit_of(status)),
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

/// The real spawner: [`std::process::Command`], a process group per phase, stdin from
/// `/dev/null`. The child and its pipes go back to the executor, which polls them with
/// everything else.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessSpawner;

impl Spawner for ProcessSpawner {
    fn spawn(&self, request: &CommandRequest, _sink: &EventSink) -> io::Result<Started> {
        let mut cmd = Command::new(&request.program);
        cmd.args(&request.args).current_dir(&request.cwd).process_group(0);
        cmd.envs(request.env.iter().map(|(k, v)| (k, v)));
        cmd.stdin(dev_null().map_or_else(Stdio::null, Stdio::from));
        let mut pipes = None;
        if request.capture {
            let (out_r, out_w) = io::pipe()?;
            let (err_r, err_w) = io::pipe()?;
            cmd.stdout(out_w).stderr(err_w);
            pipes = Some((out_r, err_r));
        }
        let child = cmd.spawn();
        // The command holds our copies of the pipes' write ends: close them now, so the
        // readers see the end of the stream when the phase's processes are gone.
        drop(cmd);
        let child = child?;
        let pgid = i32::try_from(child.id()).ok();
        let exit_fd = exit_fd(&child);
        Ok(Started { pgid, direct: Some(Direct { child: Box::new(child), pipes, exit_fd }) })
    }
}

/// A pidfd of `child`: one descriptor in the executor's `poll` instead of a signal, a
/// handler, a socket write and an interrupted `poll` per exit. `None` on kernels before 5.3.
#[cfg(target_os = "linux")]
fn exit_fd(child: &std::process::Child) -> Option<OwnedFd> {
    use rustix::process::{Pid, PidfdFlags, pidfd_open};
    pidfd_open(Pid::from_child(child), PidfdFlags::empty()).ok()
}

#[cfg(not(target_os = "linux"))]
fn exit_fd(_child: &std::process::Child) -> Option<OwnedFd> {
    None
}

/// A duplicate of a /dev/null opened once (a `dup` is cheaper than an `open` per phase).
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
