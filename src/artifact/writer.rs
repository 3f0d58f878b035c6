//! Keeps the timeline and the log files up to date while a run goes on.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::failure::{Failures, Notify, Record, WriteFailure};
use super::logs::LogBuffers;
use super::{LOG_DIR, folder, log_path, write_atomic, write_timeline};
use crate::error::Error;
use crate::store::{StateHandle, Store};
use crate::subscriber_thread::Consumer;
use crate::timeline::Timeline;

/// The most often the timeline is rewritten while the pipeline runs.
const THROTTLE: Duration = Duration::from_millis(200);

/// What the log files and the background rewrites share with the writer.
pub(super) struct Shared {
    dirty: AtomicBool,
    stop: Mutex<bool>,
    wake: Condvar,
    failures: Failures,
}

impl Shared {
    /// Records a write failure (the first of its file) for the timeline's `warnings`.
    pub(super) fn report(&self, failure: WriteFailure) {
        if self.failures.report(failure) {
            self.mark_dirty();
        }
    }

    fn mark_dirty(&self) {
        if !self.dirty.load(Ordering::Relaxed) && !self.dirty.swap(true, Ordering::Relaxed) {
            self.wake.notify_one();
        }
    }
}

/// What the record of a run came to (see [`TimelineWriter::finish`]).
#[derive(Debug)]
pub struct Recorded {
    /// Files that could not be fully written while the run went on (the first failure of
    /// each, in order); the timeline lists them under `warnings`.
    pub warnings: Vec<WriteFailure>,
    /// The final timeline could not be written: the file on disk, if any, does not show the
    /// run's end.
    pub timeline_error: Option<WriteFailure>,
}

/// Keeps `timeline.json` and `logs/<phase>.log` up to date from the store. A run holds the
/// folder's [`FolderLock`](super::FolderLock) while it writes them.
pub struct TimelineWriter {
    path: PathBuf,
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for TimelineWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimelineWriter").field("path", &self.path).finish_non_exhaustive()
    }
}

impl TimelineWriter {
    /// Prepares the timeline's folder and its `logs/` folder; `notify` will hear every write
    /// failure.
    pub fn create(path: &Path, notify: Option<Notify>) -> Result<Self, Error> {
        if path.is_dir() || path.as_os_str().to_string_lossy().ends_with(['/', '\\']) {
            return Err(Error::usage(
                format!("the timeline path `{}` is a folder", path.display()),
                format!("pass a file path, e.g. `{}`", path.join("timeline.json").display()),
            ));
        }
        let logs = folder(path).join(LOG_DIR);
        fs::create_dir_all(&logs).map_err(|e| Error::io("creating the folder", &logs, e))?;
        Ok(Self {
            path: path.to_owned(),
            shared: Arc::new(Shared {
                dirty: AtomicBool::new(false),
                stop: Mutex::new(false),
                wake: Condvar::new(),
                failures: Failures::new(notify),
            }),
            thread: None,
        })
    }

    /// Reports a write failure of another file of the run's record (the fingerprints): the
    /// first of its file is heard by `notify` and listed under the timeline's `warnings`.
    pub fn report(&self, failure: WriteFailure) {
        self.shared.report(failure);
    }

    /// Removes the previous run's logs of the store's phases, writes the initial timeline
    /// (failing, before anything runs, when it cannot), and starts rewriting it (throttled)
    /// on a thread of its own as the state changes.
    ///
    /// Returns the log writer, a [`Consumer::Near`] for a
    /// [`SubscriberThread`](crate::subscriber_thread::SubscriberThread): it buffers each line
    /// for its phase's log on the dispatching thread and has the subscriber thread write the
    /// buffers out (and wakes the rewrites). Put first, the thread's other subscribers see
    /// a phase end once its log is complete.
    pub fn attach(&mut self, store: &mut Store) -> Result<Consumer, Error> {
        let broken = store.with_state(|state| {
            let names: HashSet<&str> = state.phases.iter().map(|p| &*p.name).collect();
            self.remove_stale_logs(&names)
        });
        let mut logs = LogBuffers::new(self.path.clone(), Arc::clone(&self.shared), broken);
        let shared = Arc::clone(&self.shared);
        let handle = store.handle();
        write_atomic(&self.path, &project(&self.path, &self.shared, &handle))?;
        let background = Arc::clone(&self.shared);
        let path = self.path.clone();
        self.thread = std::thread::Builder::new()
            .name("milo-timeline".into())
            .spawn(move || rewrite(&background, &path, &handle))
            .ok();
        Ok(Consumer::near(move |batch, jobs| {
            for action in batch {
                logs.on_action(action, jobs);
            }
            shared.mark_dirty();
        }))
    }

    /// A previous run's logs of these phases would pass for this run's: removes them, and
    /// returns the phases whose old log could not go (reported; their log is not written).
    fn remove_stale_logs(&self, names: &HashSet<&str>) -> HashSet<String> {
        let mut broken = HashSet::new();
        let Some(dir) = log_path(&self.path, "x").parent().map(Path::to_owned) else {
            return broken;
        };
        // Listing the folder costs a call or two; trying to remove every phase's log cost
        // one each.
        for entry in fs::read_dir(&dir).into_iter().flatten().flatten() {
            let file = entry.file_name();
            let Some(stem) = file.to_str().and_then(|f| f.strip_suffix(".log")) else {
                continue;
            };
            // A folder in the way is not a log: writing the log reports it.
            if !names.contains(stem) || entry.file_type().is_ok_and(|t| t.is_dir()) {
                continue;
            }
            match fs::remove_file(entry.path()) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    broken.insert(stem.to_owned());
                    self.shared.report(WriteFailure {
                        record: Record::StaleLog { phase: stem.to_owned() },
                        path: entry.path(),
                        source: e,
                    });
                }
                _ => {}
            }
        }
        broken
    }

    fn stop_rewrites(&mut self) {
        *self.shared.stop.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            // The thread only writes files: a panic there leaves nothing to undo.
            let _ = t.join();
        }
    }

    /// Stops the background rewrites and writes the final timeline.
    /// The log writer must have seen its last action (its subscriber thread finished).
    pub fn finish(mut self, handle: &StateHandle) -> Recorded {
        self.stop_rewrites();
        let timeline_error =
            write_timeline(&self.path, &project(&self.path, &self.shared, handle)).err().map(
                |source| WriteFailure { record: Record::Timeline, path: self.path.clone(), source },
            );
        Recorded { warnings: self.shared.failures.take(), timeline_error }
    }
}

impl Drop for TimelineWriter {
    fn drop(&mut self) {
        // Not finished (a run that never executed): stop rewriting a timeline nobody runs.
        self.stop_rewrites();
    }
}

/// The timeline of the state now, with the write failures so far.
fn project(path: &Path, shared: &Shared, handle: &StateHandle) -> Timeline {
    let mut timeline = handle.with(Timeline::from_state);
    timeline.warnings = shared.failures.to_timeline(folder(path));
    timeline
}

/// Rewrites the timeline whenever the state changed, at most once per [`THROTTLE`], until
/// told to stop.
fn rewrite(shared: &Shared, path: &Path, handle: &StateHandle) {
    let mut stop = shared.stop.lock().unwrap_or_else(PoisonError::into_inner);
    // The initial timeline was just written: the first rewrite waits its turn too, so a
    // short run writes it at start, at most every interval, and at the end.
    stop = throttle(shared, stop);
    loop {
        if *stop {
            return;
        }
        if shared.dirty.swap(false, Ordering::Relaxed) {
            drop(stop);
            if let Err(source) = write_timeline(path, &project(path, shared, handle)) {
                let record = Record::Timeline;
                shared.report(WriteFailure { record, path: path.to_owned(), source });
            }
            stop = throttle(shared, shared.stop.lock().unwrap_or_else(PoisonError::into_inner));
        } else {
            stop =
                shared.wake.wait_timeout(stop, THROTTLE).unwrap_or_else(PoisonError::into_inner).0;
        }
    }
}

/// Waits the throttle interval, unless told to stop.
fn throttle<'a>(shared: &Shared, mut stop: MutexGuard<'a, bool>) -> MutexGuard<'a, bool> {
    let deadline = Instant::now() + THROTTLE;
    while !*stop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        stop = shared.wake.wait_timeout(stop, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    stop
}
