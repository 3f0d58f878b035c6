//! Starting command phases: the [`Spawner`] seam and the real one, built on duct.
//!
//! Each phase gets its own process group, so that a timeout, a cancellation or the end of
//! the phase can signal everything it started (grandchildren included) at once.

use std::io::{self, Read};
use std::path::PathBuf;
use std::thread;

use crate::action::Stream;
use crate::exec::event::{EventSink, Exit};
use crate::lines::{LineSplitter, decode};

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
#[derive(Debug, Clone, Copy)]
pub struct Started {
    /// Its process group id (the child's pid), when it has its own group.
    pub pgid: Option<i32>,
}

/// Starts commands. The executor calls [`spawn`](Self::spawn) on its own thread; the
/// spawner must report through `sink`: lines and the end of each captured stream, then the
/// exit, from threads of its own.
pub trait Spawner: Send + Sync {
    /// Starts `request`. An `Err` is a spawn failure (nothing runs, no event follows).
    fn spawn(&self, request: &CommandRequest, sink: &EventSink) -> io::Result<Started>;
}

/// The real spawner: duct, a process group per phase, a reader thread per captured pipe
/// and a thread waiting for the exit.
#[derive(Debug, Default, Clone, Copy)]
pub struct ProcessSpawner;

impl Spawner for ProcessSpawner {
    fn spawn(&self, request: &CommandRequest, sink: &EventSink) -> io::Result<Started> {
        let mut expr =
            duct::cmd(&request.program, &request.args).dir(&request.cwd).stdin_null().unchecked();
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
        let mut readers = Vec::new();
        if request.capture {
            let (out_r, out_w) = os_pipe::pipe()?;
            let (err_r, err_w) = os_pipe::pipe()?;
            expr = expr.stdout_file(out_w).stderr_file(err_w);
            readers.push((out_r, Stream::Stdout));
            readers.push((err_r, Stream::Stderr));
        }
        let handle = expr.start();
        // The expression holds our copies of the pipes' write ends: close them now, so
        // the readers see the end of the stream when the phase's processes are gone.
        drop(expr);
        let handle = handle?;
        let pgid = handle.pids().first().and_then(|&p| i32::try_from(p).ok());
        for (reader, stream) in readers {
            let sink = sink.clone();
            thread::Builder::new()
                .name("milo-reader".into())
                .spawn(move || read_lines(reader, stream, &sink))?;
        }
        let sink = sink.clone();
        thread::Builder::new().name("milo-wait".into()).spawn(move || {
            let exit = match handle.wait() {
                Ok(output) => exit_of(output.status),
                Err(e) => Exit::Lost(e.to_string()),
            };
            sink.exited(exit);
        })?;
        Ok(Started { pgid })
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
pub(crate) fn read_lines(mut reader: impl Read, stream: Stream, sink: &EventSink) {
    let mut splitter = LineSplitter::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => {
                let mut lines = Vec::new();
                splitter.push(&buf[..n], |l| lines.push(decode(l)));
                if !sink.lines(stream, lines) {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => break,
        }
    }
    let mut lines = Vec::new();
    splitter.finish(|l| lines.push(decode(l)));
    sink.lines(stream, lines);
    sink.closed(stream);
}

/// Sends `signal` to process group `pgid`; a group that is already gone is fine.
#[cfg(unix)]
pub(crate) fn signal_group(pgid: i32, signal: nix::sys::signal::Signal) {
    if pgid > 0 {
        let _ = nix::sys::signal::killpg(nix::unistd::Pid::from_raw(pgid), signal);
    }
}
