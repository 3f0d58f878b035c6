//! One attempt in flight: what it runs, the state it is in, and the deadline of that state.
//!
//! A closure runs until it returns (or is left behind). A command goes
//! `Running` → (`Draining`) → over, or, when the executor steps in, `Cancelling` (SIGTERM sent)
//! and `Killed` (SIGKILL sent) before it is over. Each transition returns the attempt's
//! [`Ending`] once it is over; the executor then removes the attempt and applies it.

use std::io::PipeReader;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use nix::sys::signal::Signal;

use crate::action::Stream;
use crate::exec::event::Exit;
use crate::exec::process::{ChildProcess, signal_group};
use crate::lines::LineSplitter;
use crate::outputs;
use crate::phase::{Handler, Phase};

/// The index [`Attempt::open_fds`] gives a direct child's exit descriptor (its pipes are 0
/// and 1).
pub(super) const EXIT_FD: usize = 2;

/// After a SIGKILL, how long to wait for pipes to close before giving up on them.
const ABANDON_AFTER: Duration = Duration::from_millis(500);

/// `now + d`, or `None` (never) when `d` reaches past what an `Instant` can hold: a huge
/// timeout or delay from the library builder must not panic.
pub(super) fn after(now: Instant, d: Duration) -> Option<Instant> {
    now.checked_add(d)
}

/// One attempt of one phase.
#[derive(Debug)]
pub(super) struct Attempt {
    /// The phase's index in the pipeline.
    pub(super) idx: usize,
    /// Its number (1-based).
    pub(super) number: u32,
    /// What runs, and how far it has got.
    pub(super) work: Work,
}

/// What an attempt runs.
#[derive(Debug)]
pub(super) enum Work {
    /// A closure on a thread of its own. Threads cannot be killed: on a timeout or a
    /// cancellation the attempt ends at once and the closure is left to finish unseen.
    Closure {
        /// When it times out.
        timeout_at: Option<Instant>,
    },
    /// A command's process group.
    Command {
        /// Its processes, pipes and files.
        cmd: Command,
        /// How far it has got.
        stage: Stage,
    },
}

/// A started command: its process group, how the executor hears of it, its files.
#[derive(Debug)]
pub(super) struct Command {
    /// The phase's process group (`None`: the spawner did not make one).
    pub(super) pgid: Option<i32>,
    /// Its `$MILO_OUTPUT` file.
    pub(super) output: PathBuf,
    /// Its own `$MILO_CONTEXT` file (not the shared empty one), reused once it is over.
    pub(super) context: Option<PathBuf>,
    /// How its exit and output reach the executor.
    pub(super) watch: Watch,
}

/// How the executor learns what a command does.
pub(super) enum Watch {
    /// The executor polls the pipes itself, and asks the child for its exit when its exit
    /// descriptor is readable (else on SIGCHLD).
    Direct {
        /// The direct child.
        child: Box<dyn ChildProcess>,
        /// Its stdout and stderr while they are open (`None` when not captured).
        pipes: [Option<Pipe>; 2],
        /// Readable once the child has exited; dropped when its exit is known.
        exit_fd: Option<OwnedFd>,
    },
    /// The spawner reports lines and the exit as events.
    Reported {
        /// Until it reports that the pipes closed.
        open: bool,
    },
}

impl std::fmt::Debug for Watch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Direct { pipes, .. } => {
                let open = pipes.iter().flatten().count();
                f.debug_struct("Direct").field("open_pipes", &open).finish_non_exhaustive()
            }
            Self::Reported { open } => f.debug_struct("Reported").field("open", open).finish(),
        }
    }
}

/// One captured pipe of a direct child.
#[derive(Debug)]
pub(super) struct Pipe {
    /// The read end.
    pub(super) reader: PipeReader,
    /// The partial line read so far.
    pub(super) splitter: LineSplitter,
    /// Which stream it carries.
    pub(super) stream: Stream,
    /// Whether it was widened, after a read that filled the buffer.
    pub(super) wide: bool,
}

impl Pipe {
    /// A fresh pipe of `stream`.
    pub(super) fn new(reader: PipeReader, stream: Stream) -> Self {
        Self { reader, splitter: LineSplitter::new(), stream, wide: false }
    }
}

/// How far a command has got, with the deadline that belongs to it.
#[derive(Debug)]
pub(super) enum Stage {
    /// The direct child runs (its pipes may already be closed).
    Running {
        /// When it times out.
        timeout_at: Option<Instant>,
    },
    /// The direct child exited; something it started still holds its pipes.
    Draining {
        /// How the direct child ended.
        exit: Exit,
        /// When it times out.
        timeout_at: Option<Instant>,
        /// When the group is killed to close the pipes.
        until: Option<Instant>,
    },
    /// The run is cancelled: the group got SIGTERM.
    Cancelling {
        /// Whether the direct child has exited.
        exited: bool,
        /// When the group gets SIGKILL.
        kill_at: Option<Instant>,
    },
    /// The group got SIGKILL.
    Killed {
        /// Why.
        cause: Cause,
        /// Whether the direct child has exited.
        exited: bool,
        /// When its pipes are given up.
        abandon_at: Option<Instant>,
    },
}

/// Why the executor killed a command's group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Cause {
    /// Its timeout passed.
    Timeout,
    /// The run was cancelled.
    Cancel,
    /// Its direct child had exited like this, but the pipes stayed open past the drain time.
    Drain(Exit),
}

/// How an attempt ended.
#[derive(Debug)]
pub(super) enum Ending {
    /// The closure returned this.
    Returned(Result<serde_json::Value, String>),
    /// The command exited like this, and its pipes are closed (or given up).
    Exited(Exit),
    /// Its timeout passed.
    TimedOut,
    /// The run was cancelled.
    Cancelled,
}

/// What an ended attempt amounts to for its phase.
#[derive(Debug)]
pub(super) enum Outcome {
    /// It succeeded with this result.
    Completed(serde_json::Value),
    /// It failed.
    Failed {
        /// Why, as shown to people.
        error: String,
        /// The exit code, when it exited with one.
        exit_code: Option<i32>,
    },
    /// It was cancelled.
    Cancelled,
}

impl Attempt {
    /// The earliest moment something must happen to it without being told.
    pub(super) fn deadline(&self) -> Option<Instant> {
        match &self.work {
            Work::Closure { timeout_at } => *timeout_at,
            Work::Command { stage, .. } => match stage {
                Stage::Running { timeout_at } => *timeout_at,
                Stage::Draining { timeout_at, until, .. } => earliest(*timeout_at, *until),
                Stage::Cancelling { kill_at, .. } => *kill_at,
                Stage::Killed { abandon_at, .. } => *abandon_at,
            },
        }
    }

    /// Acts on a deadline that has passed by `now`.
    pub(super) fn deadline_passed(&mut self, now: Instant, drain: Duration) -> Option<Ending> {
        let passed = |at: &Option<Instant>| at.is_some_and(|at| at <= now);
        let (cmd, stage) = match &mut self.work {
            Work::Closure { timeout_at } => return passed(timeout_at).then_some(Ending::TimedOut),
            Work::Command { cmd, stage } => (cmd, stage),
        };
        let next = match stage {
            Stage::Running { timeout_at } if passed(timeout_at) => {
                killed(cmd, Cause::Timeout, false, now, ABANDON_AFTER.max(drain))
            }
            Stage::Draining { timeout_at, .. } if passed(timeout_at) => {
                killed(cmd, Cause::Timeout, true, now, ABANDON_AFTER.max(drain))
            }
            // Its direct child is gone, but something still holds its pipes.
            Stage::Draining { exit, until, .. } if passed(until) => {
                killed(cmd, Cause::Drain(exit.clone()), true, now, ABANDON_AFTER)
            }
            Stage::Cancelling { exited, kill_at } if passed(kill_at) => {
                killed(cmd, Cause::Cancel, *exited, now, ABANDON_AFTER)
            }
            // Whatever still holds the pipes (or did not die) is left behind.
            Stage::Killed { cause, abandon_at, .. } if passed(abandon_at) => {
                cmd.close_pipes();
                return Some(ending(cause));
            }
            _ => return None,
        };
        *stage = next;
        None
    }

    /// The direct child's exit became known.
    pub(super) fn exited(&mut self, exit: Exit, now: Instant, drain: Duration) -> Option<Ending> {
        let Work::Command { cmd, stage } = &mut self.work else { return None };
        match stage {
            Stage::Running { timeout_at } => {
                if !cmd.pipes_open() {
                    return Some(Ending::Exited(exit));
                }
                let timeout_at = *timeout_at;
                *stage = Stage::Draining { exit, timeout_at, until: after(now, drain) };
                None
            }
            Stage::Draining { .. } => None,
            Stage::Cancelling { exited, .. } => {
                *exited = true;
                (!cmd.pipes_open()).then_some(Ending::Cancelled)
            }
            Stage::Killed { cause, exited, .. } => {
                *exited = true;
                (!cmd.pipes_open()).then(|| ending(cause))
            }
        }
    }

    /// Every pipe is closed now; `exit` is the direct child's, when it came with the news.
    pub(super) fn closed(&mut self, exit: Option<Exit>) -> Option<Ending> {
        let Work::Command { cmd, stage } = &mut self.work else { return None };
        cmd.close_pipes();
        match stage {
            Stage::Running { .. } => exit.or_else(|| cmd.try_exit()).map(Ending::Exited),
            Stage::Draining { exit, .. } => Some(Ending::Exited(exit.clone())),
            Stage::Cancelling { exited, .. } => {
                (*exited || exit.is_some() || cmd.try_exit().is_some()).then_some(Ending::Cancelled)
            }
            Stage::Killed { cause, exited, .. } => {
                (*exited || exit.is_some() || cmd.try_exit().is_some()).then(|| ending(cause))
            }
        }
    }

    /// Pipe `k` of a direct child reached its end.
    pub(super) fn pipe_closed(&mut self, k: usize) -> Option<Ending> {
        let Work::Command { cmd, .. } = &mut self.work else { return None };
        if let Watch::Direct { pipes, .. } = &mut cmd.watch {
            pipes[k] = None;
        }
        if cmd.pipes_open() { None } else { self.closed(None) }
    }

    /// A closure returned.
    pub(super) fn returned(&self, result: Result<serde_json::Value, String>) -> Option<Ending> {
        matches!(self.work, Work::Closure { .. }).then_some(Ending::Returned(result))
    }

    /// The run is cancelled: SIGTERM now, SIGKILL after `grace`. A closure ends at once.
    pub(super) fn cancel(&mut self, now: Instant, grace: Duration) -> Option<Ending> {
        let (cmd, stage) = match &mut self.work {
            Work::Closure { .. } => return Some(Ending::Cancelled),
            Work::Command { cmd, stage } => (cmd, stage),
        };
        let exited = match stage {
            Stage::Running { .. } => false,
            Stage::Draining { .. } => true,
            Stage::Cancelling { .. } => return None,
            // Already SIGKILLed: only the reason changes.
            Stage::Killed { cause, .. } => {
                *cause = Cause::Cancel;
                return None;
            }
        };
        cmd.signal(Signal::SIGTERM);
        *stage = Stage::Cancelling { exited, kill_at: after(now, grace) };
        None
    }

    /// Cancelled again: SIGKILL now.
    pub(super) fn kill_now(&mut self, now: Instant) {
        if let Work::Command { cmd, stage } = &mut self.work {
            let exited = match stage {
                Stage::Running { .. } => false,
                Stage::Draining { .. } => true,
                Stage::Cancelling { exited, .. } | Stage::Killed { exited, .. } => *exited,
            };
            *stage = killed(cmd, Cause::Cancel, exited, now, ABANDON_AFTER);
        }
    }

    /// The direct child's exit, when it is due and has happened.
    pub(super) fn try_exit(&mut self) -> Option<Exit> {
        let Work::Command { cmd, stage } = &mut self.work else { return None };
        match stage {
            Stage::Running { .. }
            | Stage::Cancelling { exited: false, .. }
            | Stage::Killed { exited: false, .. } => cmd.try_exit(),
            _ => None,
        }
    }

    /// Pipe `k` of a direct child, while it is open.
    pub(super) fn pipe_mut(&mut self, k: usize) -> Option<&mut Pipe> {
        match &mut self.work {
            Work::Command { cmd: Command { watch: Watch::Direct { pipes, .. }, .. }, .. } => {
                pipes.get_mut(k)?.as_mut()
            }
            _ => None,
        }
    }

    /// What to poll for a direct child: its open pipes by their index, and its exit
    /// descriptor (index [`EXIT_FD`]) while its exit is unknown.
    pub(super) fn open_fds(&self) -> impl Iterator<Item = (usize, BorrowedFd<'_>)> {
        let watched = match &self.work {
            Work::Command {
                cmd: Command { watch: Watch::Direct { pipes, exit_fd, .. }, .. },
                ..
            } => Some((pipes, exit_fd)),
            _ => None,
        };
        watched.into_iter().flat_map(|(pipes, exit_fd)| {
            let pipes = pipes.iter().enumerate();
            let pipes = pipes.filter_map(|(k, p)| p.as_ref().map(|p| (k, p.reader.as_fd())));
            pipes.chain(exit_fd.as_ref().map(|fd| (EXIT_FD, fd.as_fd())))
        })
    }

    /// Whether only SIGCHLD can tell of its exit: a direct child without an exit descriptor.
    pub(super) fn exit_needs_sigchld(&self) -> bool {
        matches!(
            self.work,
            Work::Command { cmd: Command { watch: Watch::Direct { exit_fd: None, .. }, .. }, .. }
        )
    }

    /// The command, for a closure `None`.
    pub(super) fn command(&self) -> Option<&Command> {
        match &self.work {
            Work::Command { cmd, .. } => Some(cmd),
            Work::Closure { .. } => None,
        }
    }
}

impl Command {
    /// Signals the whole group (a group already gone is fine).
    pub(super) fn signal(&self, signal: Signal) {
        if let Some(pgid) = self.pgid {
            signal_group(pgid, signal);
        }
    }

    fn pipes_open(&self) -> bool {
        match &self.watch {
            Watch::Direct { pipes, .. } => pipes.iter().any(Option::is_some),
            Watch::Reported { open } => *open,
        }
    }

    fn close_pipes(&mut self) {
        match &mut self.watch {
            Watch::Direct { pipes, .. } => *pipes = [None, None],
            Watch::Reported { open } => *open = false,
        }
    }

    fn try_exit(&mut self) -> Option<Exit> {
        match &mut self.watch {
            Watch::Direct { child, exit_fd, .. } => {
                let exit = child.try_exit();
                if exit.is_some() {
                    // Reaped: its pidfd would stay readable and wake every poll.
                    *exit_fd = None;
                }
                exit
            }
            Watch::Reported { .. } => None,
        }
    }
}

/// SIGKILLs `cmd`'s group: the `Killed` stage, its pipes given up after `wait`.
fn killed(cmd: &Command, cause: Cause, exited: bool, now: Instant, wait: Duration) -> Stage {
    cmd.signal(Signal::SIGKILL);
    Stage::Killed { cause, exited, abandon_at: after(now, wait) }
}

/// How a killed command ended, by why it was killed.
fn ending(cause: &Cause) -> Ending {
    match cause {
        Cause::Timeout => Ending::TimedOut,
        Cause::Cancel => Ending::Cancelled,
        Cause::Drain(exit) => Ending::Exited(exit.clone()),
    }
}

fn earliest(a: Option<Instant>, b: Option<Instant>) -> Option<Instant> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

impl Ending {
    /// What the ending means for `phase`; a command's outputs are read from `output`.
    pub(super) fn outcome(self, phase: &Phase, output: Option<&Path>) -> Outcome {
        let failed = |error: String, exit_code| Outcome::Failed { error, exit_code };
        match self {
            Self::Cancelled => Outcome::Cancelled,
            Self::TimedOut => {
                let limit = phase.timeout.unwrap_or_default();
                failed(format!("timed out after {}", humantime::format_duration(limit)), None)
            }
            Self::Returned(Ok(value)) => Outcome::Completed(value),
            Self::Returned(Err(error)) => failed(error, None),
            Self::Exited(Exit::Code(0)) => {
                let outputs = output
                    .and_then(|p| std::fs::read(p).ok())
                    .map(|b| outputs::parse(&String::from_utf8_lossy(&b)))
                    .unwrap_or_default();
                Outcome::Completed(outputs::command_result(0, &outputs))
            }
            Self::Exited(Exit::Code(code)) => {
                let error = if code == 127 && matches!(phase.handler, Handler::Shell(_)) {
                    "exit code 127 (command not found)".to_owned()
                } else {
                    format!("exit code {code}")
                };
                failed(error, Some(code))
            }
            Self::Exited(Exit::Signal(sig)) => failed(format!("killed by signal {sig}"), None),
            Self::Exited(Exit::Lost(why)) => failed(why, None),
        }
    }
}

#[cfg(test)]
mod tests;
