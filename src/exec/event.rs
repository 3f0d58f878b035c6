//! What the threads around the executor tell it: lines, closed pipes, exits, closure results.

use std::sync::Arc;
use std::sync::mpsc::{SyncSender, TrySendError};

use crate::action::Stream;
use crate::lines::LineBatch;

/// Identifies one attempt of one phase; events from an attempt the executor has given up on
/// (an abandoned closure, a pipe held past its drain) are recognised and dropped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct AttemptId(pub u64);

/// How a process ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exit {
    /// It exited with this code.
    Code(i32),
    /// It was killed by this signal.
    Signal(i32),
    /// Waiting for it failed.
    Lost(String),
}

/// A message to the executor thread.
#[derive(Debug)]
pub enum Event {
    /// Complete lines from one stream, in order.
    Lines {
        /// The attempt.
        id: AttemptId,
        /// Which stream.
        stream: Stream,
        /// The lines, decoded.
        lines: LineBatch,
    },
    /// Every captured pipe reached its end, after an earlier [`Exited`](Self::Exited)
    /// (a grandchild held them for a while).
    Drained {
        /// The attempt.
        id: AttemptId,
    },
    /// The direct child exited and every captured pipe is closed: the usual end, as one
    /// event.
    Finished {
        /// The attempt.
        id: AttemptId,
        /// How.
        exit: Exit,
    },
    /// The direct child exited while its pipes are still open.
    Exited {
        /// The attempt.
        id: AttemptId,
        /// How.
        exit: Exit,
    },
    /// A closure handler returned (its writers are already flushed).
    Returned {
        /// The attempt.
        id: AttemptId,
        /// Its value, or the error / panic message.
        result: Result<serde_json::Value, String>,
    },
    /// A phase's up-to-date check is done (it ran on a thread of its own).
    Checked(Box<crate::observe::checks::Checked>),
    /// Nothing happened, but look at the cancellation token.
    Wake,
}

/// Where an attempt's threads send their events.
#[derive(Debug, Clone)]
pub struct EventSink {
    pub(crate) id: AttemptId,
    pub(crate) tx: SyncSender<Event>,
    pub(crate) waker: Waker,
}

/// Wakes the executor's wait (a byte on a socket it polls).
#[derive(Debug, Clone, Default)]
pub struct Waker(Option<Arc<std::os::unix::net::UnixStream>>);

impl Waker {
    /// A waker writing to `stream` (non-blocking).
    pub(crate) fn new(stream: std::os::unix::net::UnixStream) -> Self {
        Self(Some(Arc::new(stream)))
    }

    /// Wakes the executor; never blocks.
    pub fn wake(&self) {
        if let Some(s) = &self.0 {
            let _ = std::io::Write::write(&mut &**s, &[1]);
        }
    }
}

impl EventSink {
    /// The attempt this sink reports for.
    pub fn id(&self) -> AttemptId {
        self.id
    }

    /// Sends lines; `false` when the executor is gone.
    pub fn lines(&self, stream: Stream, lines: LineBatch) -> bool {
        if lines.is_empty() {
            return true;
        }
        let sent = self.tx.send(Event::Lines { id: self.id, stream, lines }).is_ok();
        self.waker.wake();
        sent
    }

    /// Reports that the pipes closed after the exit was reported.
    pub fn drained(&self) {
        let _ = self.tx.send(Event::Drained { id: self.id });
        self.waker.wake();
    }

    /// Reports the exit with every pipe closed.
    pub fn finished(&self, exit: Exit) {
        let _ = self.tx.send(Event::Finished { id: self.id, exit });
        self.waker.wake();
    }

    /// Reports the direct child's exit while its pipes are open.
    pub fn exited(&self, exit: Exit) {
        let _ = self.tx.send(Event::Exited { id: self.id, exit });
        self.waker.wake();
    }

    /// Reports a closure's result.
    pub fn returned(&self, result: Result<serde_json::Value, String>) {
        let _ = self.tx.send(Event::Returned { id: self.id, result });
        self.waker.wake();
    }
}

/// Wakes the executor without blocking (a full queue wakes it anyway).
pub(crate) fn wake(tx: &SyncSender<Event>) {
    match tx.try_send(Event::Wake) {
        Ok(()) | Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {}
    }
}
