//! Every phase's complete output in `logs/<phase>.log`, written as its lines come.

use std::collections::{HashMap, HashSet};
use std::fs::{File, OpenOptions};
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::failure::{Record, WriteFailure};
use super::log_path;
use super::writer::Shared;
use crate::action::Action;

/// The most often log files are flushed while phases run.
const FLUSH_EVERY: Duration = Duration::from_millis(200);

/// One phase's log file.
enum LogFile {
    /// Not open: the phase has not printed yet, or its attempt is over.
    Closed,
    Open(BufWriter<File>),
    /// A write failed (reported once): the rest of the run's output of this phase is not
    /// written, rather than written with a hole in it.
    Broken,
}

/// The log file of each phase, opened at its first line (a phase that prints nothing gets
/// none) and closed when the phase ends, so that open files never pile up: every spawn
/// would pay for them.
pub(super) struct LogFiles {
    path: PathBuf,
    shared: Arc<Shared>,
    files: Vec<LogFile>,
    names: Vec<Arc<str>>,
    /// The attempt header still to write before the phase's next line.
    header: Vec<Option<String>>,
    index: HashMap<Arc<str>, usize>,
    /// The phase of the previous line and its slot: lines come in runs of one phase.
    last: Option<(Arc<str>, usize)>,
    /// Phases whose log must not be written (a previous run's could not be removed).
    broken: HashSet<String>,
    /// When the files were last flushed, in the run's seconds.
    flushed: f64,
}

impl LogFiles {
    /// Log files beside the timeline at `path`; failures go to `shared`.
    pub(super) fn new(path: PathBuf, shared: Arc<Shared>, broken: HashSet<String>) -> Self {
        Self {
            path,
            shared,
            files: Vec::new(),
            names: Vec::new(),
            header: Vec::new(),
            index: HashMap::new(),
            last: None,
            broken,
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
            let file =
                if self.broken.contains(&**name) { LogFile::Broken } else { LogFile::Closed };
            self.files.push(file);
            self.names.push(Arc::clone(name));
            self.header.push(None);
            self.files.len() - 1
        };
        self.last = Some((Arc::clone(name), i));
        i
    }

    fn write_line(&mut self, name: &Arc<str>, line: &str) {
        let i = self.slot(name);
        if matches!(self.files[i], LogFile::Closed) {
            let path = log_path(&self.path, name);
            match OpenOptions::new().create(true).append(true).open(path) {
                Ok(file) => {
                    self.files[i] = LogFile::Open(BufWriter::with_capacity(64 * 1024, file));
                }
                Err(e) => {
                    self.fail(i, e);
                    return;
                }
            }
        }
        let LogFile::Open(f) = &mut self.files[i] else { return };
        let mut written = Ok(());
        if let Some(h) = self.header[i].take() {
            written = f.write_all(h.as_bytes());
        }
        let written =
            written.and_then(|()| f.write_all(line.as_bytes())).and_then(|()| f.write_all(b"\n"));
        if let Err(e) = written {
            self.fail(i, e);
        }
    }

    /// Handles one action (a subscriber: on the subscriber thread, off the executor's).
    pub(super) fn on_action(&mut self, action: &Action) {
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
                self.flush(i);
            }
            Action::PhaseComplete { name, .. }
            | Action::PhaseSkipped { name, .. }
            | Action::PhaseFailed { name, .. }
            | Action::PhaseCancelled { name, .. } => {
                // Flushed and closed before later subscribers see the action: the plain
                // reporter prints the whole file next.
                let i = self.slot(name);
                self.flush(i);
                if matches!(self.files[i], LogFile::Open(_)) {
                    self.files[i] = LogFile::Closed;
                }
            }
            Action::PipelineStart { .. }
            | Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => self.flush_all(action.t()),
        }
    }

    fn flush(&mut self, i: usize) {
        if let LogFile::Open(f) = &mut self.files[i]
            && let Err(e) = f.flush()
        {
            self.fail(i, e);
        }
    }

    fn flush_all(&mut self, t: f64) {
        for i in 0..self.files.len() {
            self.flush(i);
        }
        self.flushed = t;
    }

    /// Reports the first failure of a phase's log, and writes no more of it.
    fn fail(&mut self, i: usize, source: io::Error) {
        if let LogFile::Open(f) = std::mem::replace(&mut self.files[i], LogFile::Broken) {
            // Dropped without the flush a `BufWriter` tries on drop: it failed already.
            drop(f.into_parts());
        }
        self.shared.report(WriteFailure {
            record: Record::Log { phase: self.names[i].to_string() },
            path: log_path(&self.path, &self.names[i]),
            source,
        });
    }
}
