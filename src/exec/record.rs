//! What a run leaves behind: its timeline and logs, written off the executor's thread, and
//! [`Finished`], the final state with whatever of the record could not be written.

use std::path::Path;

use crate::artifact::{FolderLock, Notice, Notify, Recorded, TimelineWriter, WriteFailure};
use crate::error::Error;
use crate::exec::CancelToken;
use crate::state::PipelineState;
use crate::store::{Store, Subscriber};
use crate::subscriber_thread::{Consumer, SubscriberThread};

/// A run that ended: its final state, and what of its record could not be written.
///
/// A failed or cancelled pipeline is a finished run too: look at `state.status`. A write
/// that failed does not change the run's outcome; it is reported here (and, while the run
/// went on, through [`RunOptions::notify`](super::RunOptions::notify)).
#[derive(Debug)]
pub struct Finished {
    /// The final state.
    pub state: PipelineState,
    /// Files that could not be fully written while the run went on (the first failure of
    /// each, in order): a phase's log, a rewrite of the timeline. The timeline lists them
    /// under `warnings`.
    pub warnings: Vec<WriteFailure>,
    /// The final timeline could not be written: the file on disk, if any, does not show
    /// how the run ended.
    pub timeline_error: Option<WriteFailure>,
}

/// The timeline writer, the lock on its folder and the subscriber thread of one run.
#[derive(Debug, Default)]
pub(super) struct Recorder {
    // Fields drop in order: the lock goes last, after everything was written.
    thread: Option<SubscriberThread>,
    writer: Option<TimelineWriter>,
    lock: Option<FolderLock>,
}

impl Recorder {
    /// Prepares the timeline's folder, when there is a timeline, and takes its lock:
    /// waiting while another run holds it (`wait`), or refusing at once.
    pub(super) fn new(
        timeline: Option<&Path>,
        cancel: &CancelToken,
        notify: Option<Notify>,
        wait: bool,
    ) -> Result<Self, Error> {
        let Some(path) = timeline else { return Ok(Self::default()) };
        let folder = crate::artifact::folder(path);
        let writer = TimelineWriter::create(path, notify.clone())?;
        let lock = if wait {
            FolderLock::acquire(folder, cancel, move || {
                if let Some(notify) = notify {
                    notify(&Notice::Waiting { folder });
                }
            })?
        } else {
            FolderLock::try_acquire(folder)?
        };
        Ok(Self { thread: None, writer: Some(writer), lock: Some(lock) })
    }

    /// Subscribes everything to `store`: `subscribers` on the store itself (the executor's
    /// thread), then the log writer and `background` on the subscriber thread, in order.
    pub(super) fn attach(
        &mut self,
        store: &mut Store,
        subscribers: Vec<Subscriber>,
        background: Vec<Consumer>,
    ) -> Result<(), Error> {
        let mut on_thread = Vec::with_capacity(background.len() + 1);
        if let Some(writer) = &mut self.writer {
            on_thread.push(writer.attach(store)?);
        }
        on_thread.extend(background);
        for s in subscribers {
            store.subscribe(s);
        }
        if !on_thread.is_empty() {
            let thread = SubscriberThread::attach(store, on_thread)
                .map_err(|e| Error::system("starting the subscriber thread", e))?;
            self.thread = Some(thread);
        }
        Ok(())
    }

    /// Reports a write failure of a file of the record the writer does not write itself
    /// (the fingerprints); without a timeline there is no such file.
    pub(super) fn report(&self, failure: WriteFailure) {
        if let Some(writer) = &self.writer {
            writer.report(failure);
        }
    }

    /// The run has lasted [`REWRITE_EVERY`](crate::artifact::REWRITE_EVERY): from now on the
    /// timeline is rewritten as the state changes (a shorter run writes it at its start and
    /// its end only, and starts no thread for it).
    pub(super) fn start_rewrites(&mut self) {
        if let Some(writer) = &mut self.writer {
            writer.start_rewrites();
        }
    }

    /// Lets the subscriber thread handle every action, writes the final timeline, releases
    /// the folder's lock. A subscriber's panic goes on unwinding here, once all is written.
    pub(super) fn finish(self, store: Store) -> Finished {
        let panic = self.thread.and_then(|t| t.finish().err());
        let recorded = match self.writer {
            Some(writer) => writer.finish(&store.handle()),
            None => Recorded { warnings: Vec::new(), timeline_error: None },
        };
        drop(self.lock);
        let state = store.into_state();
        if let Some(panic) = panic {
            std::panic::resume_unwind(panic);
        }
        Finished { state, warnings: recorded.warnings, timeline_error: recorded.timeline_error }
    }
}
