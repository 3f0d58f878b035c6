//! Waiting for anything at once: the captured pipes and exit descriptors (pidfds) of every
//! direct child, and the wake-up socket that the other threads (closures, spawners that
//! report, cancellation) ring — and SIGCHLD, once a child without an exit descriptor runs.

use std::collections::HashMap;
use std::io::{self, Read};
use std::os::fd::AsFd;
use std::os::unix::net::UnixStream;
use std::time::Duration;

use nix::poll::{PollFd, PollFlags, PollTimeout, poll};

use crate::exec::attempt::{Attempt, Pipe};
use crate::exec::event::{AttemptId, Waker};
use crate::lines::LineBatch;

/// The executor's wait: one `poll` over the wake-up socket and every open pipe.
pub(super) struct Poller {
    wake_rx: UnixStream,
    /// Where SIGINT and SIGTERM write, when they cancel the run.
    signals: Option<UnixStream>,
    /// What SIGCHLD would ring, until it is routed there.
    wake_tx: Option<UnixStream>,
    /// SIGCHLD rings the socket.
    sigchld: Option<signal_hook::SigId>,
}

/// What a wait found.
#[derive(Debug, Default)]
pub(super) struct Wakeup {
    /// The socket rang: an event, a cancellation, or a child's exit (SIGCHLD).
    pub(super) rang: bool,
    /// SIGINT or SIGTERM arrived (left in their socket for the token to count).
    pub(super) signalled: bool,
    /// Readable pipes and exit descriptors: the attempt and the index
    /// ([`EXIT_FD`](super::attempt::EXIT_FD) for the exit).
    pub(super) ready: Vec<(AttemptId, usize)>,
}

impl Poller {
    /// The socket pair and the waker that rings it; `signals` is polled too.
    pub(super) fn new(signals: Option<UnixStream>) -> io::Result<(Self, Waker)> {
        let (wake_rx, wake_tx) = UnixStream::pair()?;
        wake_rx.set_nonblocking(true)?;
        wake_tx.set_nonblocking(true)?;
        let spare = wake_tx.try_clone().ok();
        Ok((Self { wake_rx, signals, wake_tx: spare, sigchld: None }, Waker::new(wake_tx)))
    }

    /// Routes SIGCHLD to the socket, for children without an exit descriptor: from now on
    /// every child's exit wakes the loop, which then asks its children which one it was.
    /// Returns whether it was routed just now (an exit before that rang nothing).
    pub(super) fn ring_on_exits(&mut self) -> bool {
        let Some(tx) = self.wake_tx.take() else { return false };
        self.sigchld =
            signal_hook::low_level::pipe::register(signal_hook::consts::SIGCHLD, tx).ok();
        true
    }

    /// Whether SIGCHLD rings the socket.
    pub(super) fn rings_on_exits(&self) -> bool {
        self.sigchld.is_some()
    }

    /// Whether exits of children without an exit descriptor go unheard (SIGCHLD could not
    /// be routed): the executor must then ask its children at every wake-up.
    pub(super) fn deaf(&self) -> bool {
        self.wake_tx.is_none() && self.sigchld.is_none()
    }

    /// Waits up to `timeout` for the socket, or a pipe or the exit of an attempt in `live`.
    pub(super) fn wait(&self, live: &HashMap<AttemptId, Attempt>, timeout: Duration) -> Wakeup {
        let mut wakeup = Wakeup::default();
        {
            let mut owners = Vec::new();
            let mut fds = vec![PollFd::new(self.wake_rx.as_fd(), PollFlags::POLLIN)];
            let signals = self.signals.as_ref().map(|s| PollFd::new(s.as_fd(), PollFlags::POLLIN));
            let first = 1 + usize::from(signals.is_some());
            fds.extend(signals);
            for (id, attempt) in live {
                for (k, fd) in attempt.open_fds() {
                    fds.push(PollFd::new(fd, PollFlags::POLLIN));
                    owners.push((*id, k));
                }
            }
            let ms = u16::try_from(timeout.as_millis().max(1)).unwrap_or(u16::MAX);
            if poll(&mut fds, PollTimeout::from(ms)).is_ok_and(|n| n > 0) {
                let hit = |f: &PollFd<'_>| f.revents().is_some_and(|r| !r.is_empty());
                wakeup.rang = hit(&fds[0]);
                wakeup.signalled = first == 2 && hit(&fds[1]);
                wakeup.ready = owners
                    .iter()
                    .zip(&fds[first..])
                    .filter(|(_, f)| hit(f))
                    .map(|(o, _)| *o)
                    .collect();
            }
        }
        if wakeup.rang {
            // A short read means the socket is empty: no second call just to see EAGAIN.
            let mut sink = [0u8; 256];
            while matches!((&self.wake_rx).read(&mut sink), Ok(n) if n == sink.len()) {}
        }
        wakeup
    }
}

impl Drop for Poller {
    fn drop(&mut self) {
        if let Some(id) = self.sigchld {
            signal_hook::low_level::unregister(id);
        }
    }
}

impl std::fmt::Debug for Poller {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Poller").field("sigchld", &self.sigchld.is_some()).finish_non_exhaustive()
    }
}

/// How much a pipe holds, and one read takes, once a phase has filled a read: a phase that
/// prints a lot is read in fewer, larger pieces (fewer wake-ups of the executor, of the
/// subscriber thread and of the phase itself, blocked on a full pipe less often).
const WIDE: usize = 1 << 20;

/// Reads what `pipe` has into `buf`: its complete lines, and whether it reached its end (then
/// the last partial line is among them). A read that fills `buf` widens the pipe and `buf`.
pub(super) fn read(pipe: &mut Pipe, buf: &mut Vec<u8>) -> (LineBatch, bool) {
    let n = loop {
        match pipe.reader.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => break other.unwrap_or(0),
        }
    };
    let mut lines = LineBatch::default();
    if n == 0 {
        pipe.splitter.finish(|l| lines.push(l));
    } else {
        pipe.splitter.push_into(&buf[..n], &mut lines);
    }
    if n == buf.len() && !pipe.wide {
        pipe.wide = true;
        widen(&pipe.reader);
        if buf.len() < WIDE {
            buf.resize(WIDE, 0);
        }
    }
    (lines, n == 0)
}

/// Asks for a [`WIDE`] pipe (best effort: the system's limit may be lower).
#[cfg(target_os = "linux")]
fn widen(pipe: &std::io::PipeReader) {
    let _ = rustix::pipe::fcntl_setpipe_size(pipe, WIDE);
}

#[cfg(not(target_os = "linux"))]
fn widen(_pipe: &std::io::PipeReader) {}
