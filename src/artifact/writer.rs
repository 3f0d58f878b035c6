//! Keeps the timeline and the log files up to date while a run goes on.

use std::collections::HashSet;
use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use super::failure::{Failures, Notify, Record, WriteFailure};
use super::incremental::{Dirty, Incremental, snapshot};
use super::logs::LogBuffers;
use super::{LOG_DIR, folder, log_path};
use crate::error::Error;
use crate::store::{StateHandle, Store};
use crate::subscriber_thread::Consumer;

/// The most often the timeline is rewritten while the pipeline runs.
pub const REWRITE_EVERY: Duration = Duration::from_millis(200);

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
///
/// Each write serialises only the phases that changed since the last one (and those
/// running) and copies the others from the file on disk ([`incremental`](super::incremental)),
/// so a rewrite of a run of 8,000 phases costs what a few phases cost. The rewrites run on a
/// thread of their own, started only when the run lasts beyond the first interval
/// ([`start_rewrites`](Self::start_rewrites)): a short run writes its timeline at the start and
/// at the end, and starts no thread for it.
pub struct TimelineWriter {
    path: PathBuf,
    shared: Arc<Shared>,
    /// The file as last written, while no thread rewrites it.
    file: Option<Incremental>,
    /// What the rewrites need: the store's state, and the phases that changed.
    source: Option<(StateHandle, Arc<Dirty>)>,
    /// The rewrites' thread, which hands the file back when it stops.
    thread: Option<JoinHandle<Incremental>>,
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
        let example = path.join("timeline.json");
        super::check_output_path(path, "the timeline", &example.display().to_string())?;
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
            file: Some(Incremental::default()),
            source: None,
            thread: None,
        })
    }

    /// Reports a write failure of another file of the run's record (the fingerprints): the
    /// first of its file is heard by `notify` and listed under the timeline's `warnings`.
    pub fn report(&self, failure: WriteFailure) {
        self.shared.report(failure);
    }

    /// Removes the previous run's logs of the store's phases, writes the initial timeline
    /// (failing, before anything runs, when it cannot), and keeps track of the phases that
    /// change (a subscriber of `store`, on the dispatching thread, under the store's lock),
    /// for the rewrites.
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
        let dirty = Arc::new(Dirty::new(store.with_state(|s| s.phases.len())));
        let marks = Arc::clone(&dirty);
        store.subscribe(move |action, state| {
            if let Some(i) = action.phase().and_then(|name| state.index_of(name)) {
                marks.mark(i);
            }
        });
        let file = self.file.get_or_insert_with(Incremental::default);
        write(&self.path, &self.shared, &handle, &dirty, file)
            .map_err(|e| Error::io("writing the timeline", &self.path, e))?;
        self.source = Some((handle, dirty));
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

    /// Starts rewriting the timeline (throttled) on a thread of its own as the state changes:
    /// the run has lasted the first interval since the initial write. Once only.
    pub fn start_rewrites(&mut self) {
        let (Some((handle, dirty)), Some(file)) = (&self.source, self.file.take()) else {
            return;
        };
        let (shared, path) = (Arc::clone(&self.shared), self.path.clone());
        let (handle, dirty) = (handle.clone(), Arc::clone(dirty));
        let thread = std::thread::Builder::new()
            .name("milo-timeline".into())
            .spawn(move || rewrite(&shared, &path, &handle, &dirty, file));
        match thread {
            Ok(thread) => self.thread = Some(thread),
            // No thread: the timeline is written at the end only, whole.
            Err(_) => self.file = Some(Incremental::default()),
        }
    }

    fn stop_rewrites(&mut self) {
        *self.shared.stop.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            // The thread only writes files: a panic there leaves nothing to undo, and the
            // next write is whole.
            self.file = Some(t.join().unwrap_or_default());
        }
    }

    /// Stops the background rewrites and writes the final timeline.
    /// The log writer must have seen its last action (its subscriber thread finished).
    pub fn finish(mut self, handle: &StateHandle) -> Recorded {
        self.stop_rewrites();
        let mut file = self.file.take().unwrap_or_default();
        let dirty = match &self.source {
            Some((_, dirty)) => Arc::clone(dirty),
            None => Arc::new(Dirty::new(0)),
        };
        let timeline_error =
            write(&self.path, &self.shared, handle, &dirty, &mut file).err().map(|source| {
                WriteFailure { record: Record::Timeline, path: self.path.clone(), source }
            });
        Recorded { warnings: self.shared.failures.take(), timeline_error }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Drop for TimelineWriter {
    fn drop(&mut self) {
        // Not finished (a run that never executed): stop rewriting a timeline nobody runs.
        self.stop_rewrites();
    }
}

/// Writes the timeline of the state now, with the write failures so far: the phases that
/// changed serialised, the others copied from the last write; the whole document when that
/// cannot be (nothing written yet, a file changed behind the writer, a failed write).
fn write(
    path: &Path,
    shared: &Shared,
    handle: &StateHandle,
    dirty: &Dirty,
    file: &mut Incremental,
) -> std::io::Result<()> {
    let mut first = true;
    loop {
        let all = file.needs_all();
        let mut snap = handle.with(|state| snapshot(state, dirty, all));
        snap.head.warnings = shared.failures.to_timeline(folder(path));
        match file.write(path, &snap) {
            Err(_) if first && !all => first = false,
            written => return written,
        }
    }
}

/// Rewrites the timeline whenever the state changed, at most once per [`REWRITE_EVERY`], until
/// told to stop; hands the file back.
fn rewrite(
    shared: &Shared,
    path: &Path,
    handle: &StateHandle,
    dirty: &Dirty,
    mut file: Incremental,
) -> Incremental {
    // Started once the first interval has passed: a change is written at once.
    let mut stop = lock(&shared.stop);
    loop {
        if *stop {
            return file;
        }
        if shared.dirty.swap(false, Ordering::Relaxed) {
            drop(stop);
            if let Err(source) = write(path, shared, handle, dirty, &mut file) {
                let record = Record::Timeline;
                shared.report(WriteFailure { record, path: path.to_owned(), source });
            }
            stop = throttle(shared, lock(&shared.stop));
        } else {
            stop = shared
                .wake
                .wait_timeout(stop, REWRITE_EVERY)
                .unwrap_or_else(PoisonError::into_inner)
                .0;
        }
    }
}

/// Waits the throttle interval, unless told to stop.
fn throttle<'a>(shared: &Shared, mut stop: MutexGuard<'a, bool>) -> MutexGuard<'a, bool> {
    let deadline = Instant::now() + REWRITE_EVERY;
    while !*stop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break;
        }
        stop = shared.wake.wait_timeout(stop, left).unwrap_or_else(PoisonError::into_inner).0;
    }
    stop
}
