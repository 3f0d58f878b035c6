//! The timeline artifact on disk: `timeline.json` (atomic, throttled, final) and every
//! phase's complete log under `logs/` beside it.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::action::Action;
use crate::error::Error;
use crate::state::PhaseStatus;
use crate::store::{StateHandle, Store};
use crate::timeline::Timeline;

/// The folder, relative to the timeline, holding each phase's full log.
pub const LOG_DIR: &str = "logs";
/// The most often the timeline is rewritten while the pipeline runs.
const THROTTLE: Duration = Duration::from_millis(200);
/// The most often log files are flushed while phases run.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// The log file of phase `name` for the timeline at `timeline`.
pub fn log_path(timeline: &Path, name: &str) -> PathBuf {
    timeline.parent().unwrap_or(Path::new(".")).join(LOG_DIR).join(format!("{name}.log"))
}

/// How long each phase that completed took in the timeline at `path`, if it can be read.
pub fn previous_durations(path: &Path) -> Option<HashMap<String, f64>> {
    let text = fs::read_to_string(path).ok()?;
    let timeline: Timeline = serde_json::from_str(&text).ok()?;
    let durations: HashMap<String, f64> = timeline
        .phases
        .iter()
        .filter(|p| p.status == PhaseStatus::Completed)
        .map(|p| {
            let last = p.attempts.last().and_then(|a| a.end.map(|e| e - a.start));
            (p.name.clone(), last.unwrap_or(p.elapsed).max(0.0))
        })
        .collect();
    Some(durations)
}

/// Writes `timeline` to `path` atomically: a temporary file beside it, then a rename, so a
/// reader sees the old document or the new one, never a part.
pub fn write_atomic(path: &Path, timeline: &Timeline) -> Result<(), Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".timeline-").suffix(".tmp");
    // A temporary file is private (0600); the timeline is an artifact others upload and read,
    // so it gets a normal file's mode (0644, less the umask).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let tmp =
        builder.tempfile_in(dir).map_err(|e| Error::io("creating a temporary file in", dir, e))?;
    let mut out = BufWriter::new(tmp);
    serde_json::to_writer_pretty(&mut out, timeline)
        .map_err(|e| Error::io("writing the timeline", path, e.into()))?;
    out.write_all(b"\n").map_err(|e| Error::io("writing the timeline", path, e))?;
    let tmp =
        out.into_inner().map_err(|e| Error::io("writing the timeline", path, e.into_error()))?;
    tmp.persist(path).map_err(|e| Error::io("writing the timeline", path, e.error))?;
    Ok(())
}

struct Shared {
    dirty: AtomicBool,
    stop: Mutex<bool>,
    wake: Condvar,
}

/// Keeps `timeline.json` and `logs/<phase>.log` up to date from the store.
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
    /// Prepares the timeline's folder and its `logs/` folder.
    pub fn create(path: &Path) -> Result<Self, Error> {
        if path.is_dir() || path.as_os_str().to_string_lossy().ends_with(['/', '\\']) {
            return Err(Error::usage(
                format!("the timeline path `{}` is a folder", path.display()),
                format!("pass a file path, e.g. `{}`", path.join("timeline.json").display()),
            ));
        }
        let logs = log_path(path, "x");
        let logs = logs.parent().unwrap_or(Path::new(LOG_DIR));
        fs::create_dir_all(logs).map_err(|e| Error::io("creating the folder", logs, e))?;
        Ok(Self {
            path: path.to_owned(),
            shared: Arc::new(Shared {
                dirty: AtomicBool::new(false),
                stop: Mutex::new(false),
                wake: Condvar::new(),
            }),
            thread: None,
        })
    }

    /// Subscribes to `store`: log lines go to the log files as they come, and the timeline
    /// is rewritten (throttled) by a thread of its own. Writes the initial timeline, and
    /// fails (before anything runs) when it cannot.
    pub fn attach(&mut self, store: &mut Store) -> Result<(), Error> {
        // A previous run's logs of these phases would pass for this run's. Listing the
        // folder costs a call or two; trying to remove every phase's log cost one each.
        store.with_state(|state| {
            let names: HashSet<&str> = state.phases.iter().map(|p| &*p.name).collect();
            let logs = log_path(&self.path, "x");
            let Some(dir) = logs.parent() else { return };
            for entry in fs::read_dir(dir).into_iter().flatten().flatten() {
                let file = entry.file_name();
                let stem = file.to_str().and_then(|f| f.strip_suffix(".log"));
                if stem.is_some_and(|s| names.contains(s)) {
                    let _ = fs::remove_file(entry.path());
                }
            }
        });
        let mut logs = LogFiles::new(self.path.clone());
        let shared = Arc::clone(&self.shared);
        store.subscribe(move |action, _state| {
            logs.on_action(action);
            if !shared.dirty.load(Ordering::Relaxed) && !shared.dirty.swap(true, Ordering::Relaxed)
            {
                shared.wake.notify_one();
            }
        });
        let handle = store.handle();
        write_atomic(&self.path, &handle.with(Timeline::from_state))?;
        let shared = Arc::clone(&self.shared);
        let path = self.path.clone();
        self.thread = std::thread::Builder::new()
            .name("milo-timeline".into())
            .spawn(move || background(&shared, &path, &handle))
            .ok();
        Ok(())
    }

    /// Stops the background writer and writes the final timeline.
    pub fn finish(mut self, handle: &StateHandle) -> Result<(), Error> {
        *self.shared.stop.lock().unwrap_or_else(PoisonError::into_inner) = true;
        self.shared.wake.notify_all();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        write_atomic(&self.path, &handle.with(Timeline::from_state))
    }
}

fn background(shared: &Shared, path: &Path, handle: &StateHandle) {
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
            let timeline = handle.with(Timeline::from_state);
            let _ = write_atomic(path, &timeline);
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

/// The log file of each phase, opened at its first line (a phase that prints nothing gets
/// none) and closed when the phase ends, so that open files never pile up: every spawn
/// would pay for them.
struct LogFiles {
    path: PathBuf,
    files: Vec<Option<BufWriter<File>>>,
    /// The attempt header still to write before the phase's next line.
    header: Vec<Option<String>>,
    index: HashMap<Arc<str>, usize>,
    /// The phase of the previous line and its slot: lines come in runs of one phase.
    last: Option<(Arc<str>, usize)>,
    /// When the files were last flushed, in the run's seconds.
    flushed: f64,
}

impl LogFiles {
    fn new(path: PathBuf) -> Self {
        Self {
            path,
            files: Vec::new(),
            header: Vec::new(),
            index: HashMap::new(),
            last: None,
            flushed: 0.0,
        }
    }

    fn slot(&mut self, name: &Arc<str>) -> usize {
        if let Some((_, i)) = self.last.as_ref().filter(|(n, _)| Arc::ptr_eq(n, name)) {
            return *i;
        }
        let i = if let Some(&i) = self.index.get(name) {
            i
        } else {
            self.index.insert(Arc::clone(name), self.files.len());
            self.files.push(None);
            self.header.push(None);
            self.files.len() - 1
        };
        self.last = Some((Arc::clone(name), i));
        i
    }

    fn write_line(&mut self, name: &Arc<str>, line: &str) {
        let i = self.slot(name);
        if self.files[i].is_none() {
            let path = log_path(&self.path, name);
            let Ok(file) = OpenOptions::new().create(true).append(true).open(path) else {
                return;
            };
            self.files[i] = Some(BufWriter::with_capacity(64 * 1024, file));
        }
        let header = self.header[i].take();
        if let Some(f) = self.files[i].as_mut() {
            if let Some(h) = header {
                let _ = f.write_all(h.as_bytes());
            }
            let _ = f.write_all(line.as_bytes());
            let _ = f.write_all(b"\n");
        }
    }

    fn on_action(&mut self, action: &Action) {
        match action {
            Action::PhaseLog { name, line, t, .. } => {
                self.write_line(name, line);
                // The action's own time: reading a clock per line would cost more than
                // writing the line.
                if *t - self.flushed >= FLUSH_EVERY.as_secs_f64() {
                    self.flush_all(*t);
                }
            }
            Action::PhaseStart { name, attempt, t } => {
                let i = self.slot(name);
                self.header[i] = Some(format!("=== {name}: attempt {attempt} (at {t:.3}s) ===\n"));
            }
            Action::PhaseRetry { name, .. } => {
                let i = self.slot(name);
                if let Some(f) = self.files[i].as_mut() {
                    let _ = f.flush();
                }
            }
            Action::PhaseComplete { name, .. }
            | Action::PhaseSkipped { name, .. }
            | Action::PhaseFailed { name, .. }
            | Action::PhaseCancelled { name, .. } => {
                let i = self.slot(name);
                if let Some(mut f) = self.files[i].take() {
                    let _ = f.flush();
                }
            }
            Action::PipelineStart { .. }
            | Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => self.flush_all(action.t()),
        }
    }

    fn flush_all(&mut self, t: f64) {
        for f in self.files.iter_mut().flatten() {
            let _ = f.flush();
        }
        self.flushed = t;
    }
}
