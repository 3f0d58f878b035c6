//! Every phase's complete output in `logs/<phase>.log`, in two halves: [`LogBuffers`] copies
//! each line into its phase's buffer on the dispatching thread, where the line was just
//! made; [`LogFiles`] writes full buffers out on the subscriber thread, where a slow disk
//! stalls nobody.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::failure::{Record, WriteFailure};
use super::log_path;
use super::writer::Shared;
use crate::action::Action;
use crate::subscriber_thread::Jobs;

/// The most often buffered lines are written out while phases run.
const FLUSH_EVERY: Duration = Duration::from_millis(200);
/// A phase's buffer is written out once it holds this much.
const CHUNK: usize = 64 * 1024;

/// One phase's lines not written out yet.
struct Pending {
    name: Arc<str>,
    bytes: Vec<u8>,
    /// The attempt header still to write before the phase's next line.
    header: Option<String>,
    /// Its log must not be written (a previous run's could not be removed).
    skip: bool,
    /// Whether it printed before: its first line is written out at once, so that its log
    /// exists as soon as it prints (readers complete a quiet phase's log from the kept lines).
    printed: bool,
}

/// The dispatching thread's half: each phase's lines, buffered, sent to [`LogFiles`] as
/// jobs on the subscriber thread when a buffer is full, every [`FLUSH_EVERY`], when an
/// attempt ends (closing the file when the phase ends), and at the pipeline's end.
pub(super) struct LogBuffers {
    files: Arc<Mutex<LogFiles>>,
    pending: Vec<Pending>,
    index: HashMap<Arc<str>, usize>,
    /// The phase of the previous line and its slot: lines come in runs of one phase.
    last: Option<(Arc<str>, usize)>,
    /// Emptied buffers, back from the subscriber thread to be filled again.
    spare: Arc<Mutex<Vec<Vec<u8>>>>,
    skip: HashSet<String>,
    /// When the buffers were last sent, in the run's seconds.
    flushed: f64,
}

impl LogBuffers {
    /// Buffers for the log files beside the timeline at `path`; failures go to `shared`;
    /// the phases in `skip` get no log.
    pub(super) fn new(path: PathBuf, shared: Arc<Shared>, skip: HashSet<String>) -> Self {
        let files = LogFiles { path, shared, files: Vec::new() };
        Self {
            files: Arc::new(Mutex::new(files)),
            pending: Vec::new(),
            index: HashMap::new(),
            last: None,
            spare: Arc::new(Mutex::new(Vec::new())),
            skip,
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
            self.index.insert(Arc::clone(name), self.pending.len());
            self.pending.push(Pending {
                name: Arc::clone(name),
                bytes: Vec::new(),
                header: None,
                skip: self.skip.contains(&**name),
                printed: false,
            });
            self.pending.len() - 1
        };
        self.last = Some((Arc::clone(name), i));
        i
    }

    /// Handles one action; `jobs` takes what is to be written out.
    pub(super) fn on_action(&mut self, action: &Action, jobs: &Jobs) {
        match action {
            Action::PhaseLog { name, line, t, .. } => {
                self.append(name, &[line.as_bytes(), b"\n"], jobs);
                self.send_every(*t, jobs);
            }
            Action::PhaseLogs { name, lines, t, .. } => {
                let i = self.slot(name);
                if lines.text().len() >= CHUNK && !self.pending[i].skip {
                    // A big read goes out as it is, after what was buffered before it: the
                    // batch is shared, not copied.
                    self.append(name, &[], jobs);
                    self.send(i, jobs);
                    self.pending[i].printed = true;
                    let (files, name, lines) =
                        (Arc::clone(&self.files), Arc::clone(name), Arc::clone(lines));
                    jobs.run(move || lock(&files).write(i, &name, lines.text().as_bytes()));
                } else {
                    // The batch's text is its lines, each ended by `\n`.
                    self.append(name, &[lines.text().as_bytes()], jobs);
                }
                self.send_every(*t, jobs);
            }
            Action::PhaseStart { name, attempt, t } => {
                let i = self.slot(name);
                self.pending[i].header =
                    Some(format!("=== {name}: attempt {attempt} (at {t:.3}s) ===\n"));
            }
            Action::PhaseRetry { name, .. } => {
                let i = self.slot(name);
                self.send(i, jobs);
            }
            Action::PhaseComplete { name, .. }
            | Action::PhaseSkipped { name, .. }
            | Action::PhaseFailed { name, .. }
            | Action::PhaseCancelled { name, .. } => {
                // Written and closed before the subscriber thread sees the phase end: the
                // plain reporter prints the whole file then.
                let i = self.slot(name);
                self.send(i, jobs);
                let files = Arc::clone(&self.files);
                jobs.run(move || lock(&files).close(i));
            }
            // An up-to-date phase prints nothing: it gets no log file.
            Action::PhaseUpToDate { .. } => {}
            Action::PipelineStart { .. }
            | Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => self.send_all(jobs),
        }
    }

    /// Buffers `parts` (whole lines with their `\n`, after the attempt's header if it is
    /// still to write) for phase `name`'s log, sending the buffer out when it is full or
    /// holds the phase's first line.
    fn append(&mut self, name: &Arc<str>, parts: &[&[u8]], jobs: &Jobs) {
        let i = self.slot(name);
        let p = &mut self.pending[i];
        if p.skip {
            return;
        }
        if let Some(header) = p.header.take() {
            p.bytes.extend_from_slice(header.as_bytes());
        }
        for part in parts {
            p.bytes.extend_from_slice(part);
        }
        if p.bytes.len() >= CHUNK || (!parts.is_empty() && !std::mem::replace(&mut p.printed, true))
        {
            self.send(i, jobs);
        }
    }

    /// Sends every buffer at most every [`FLUSH_EVERY`] of the run's time. The action's own
    /// time: reading a clock per line would cost more than copying the line.
    fn send_every(&mut self, t: f64, jobs: &Jobs) {
        if t - self.flushed >= FLUSH_EVERY.as_secs_f64() {
            self.send_all(jobs);
            self.flushed = t;
        }
    }

    /// Sends phase `i`'s buffered lines to be written out.
    fn send(&mut self, i: usize, jobs: &Jobs) {
        if self.pending[i].bytes.is_empty() {
            return;
        }
        let fresh = lock(&self.spare).pop().unwrap_or_default();
        let bytes = std::mem::replace(&mut self.pending[i].bytes, fresh);
        let (files, spare, name) =
            (Arc::clone(&self.files), Arc::clone(&self.spare), Arc::clone(&self.pending[i].name));
        jobs.run(move || {
            let mut bytes = bytes;
            lock(&files).write(i, &name, &bytes);
            bytes.clear();
            lock(&spare).push(bytes);
        });
    }

    fn send_all(&mut self, jobs: &Jobs) {
        for i in 0..self.pending.len() {
            self.send(i, jobs);
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // A job that panicked leaves files that are still files.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One phase's log file.
enum LogFile {
    /// Not open: the phase has not printed yet, or its attempt is over.
    Closed,
    Open(File),
    /// A write failed (reported once): the rest of the run's output of this phase is not
    /// written, rather than written with a hole in it.
    Broken,
}

/// The subscriber thread's half: the files, opened at a phase's first write (a phase that
/// prints nothing gets none) and closed when the phase ends, so that open files never pile
/// up: every spawn would pay for them.
pub(super) struct LogFiles {
    path: PathBuf,
    shared: Arc<Shared>,
    files: Vec<LogFile>,
}

impl LogFiles {
    fn write(&mut self, i: usize, name: &str, bytes: &[u8]) {
        if self.files.len() <= i {
            self.files.resize_with(i + 1, || LogFile::Closed);
        }
        if matches!(self.files[i], LogFile::Closed) {
            match OpenOptions::new().create(true).append(true).open(log_path(&self.path, name)) {
                Ok(file) => self.files[i] = LogFile::Open(file),
                Err(e) => return self.fail(i, name, e),
            }
        }
        if let LogFile::Open(file) = &mut self.files[i]
            && let Err(e) = file.write_all(bytes)
        {
            self.fail(i, name, e);
        }
    }

    fn close(&mut self, i: usize) {
        if let Some(file @ LogFile::Open(_)) = self.files.get_mut(i) {
            *file = LogFile::Closed;
        }
    }

    /// Reports the first failure of a phase's log, and writes no more of it.
    fn fail(&mut self, i: usize, name: &str, source: io::Error) {
        self.files[i] = LogFile::Broken;
        self.shared.report(WriteFailure {
            record: Record::Log { phase: name.to_owned() },
            path: log_path(&self.path, name),
            source,
        });
    }
}
