//! What a run could not record: a log or timeline write that failed, reported once per file
//! and listed in the timeline, and the notices a run gives the person running it.

use std::collections::HashSet;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use crate::timeline::TimelineWarning;

/// Which file of the run's record a [`WriteFailure`] is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A phase's full log, `logs/<phase>.log`.
    Log {
        /// The phase.
        phase: String,
    },
    /// A previous run's log of a phase of this run, which had to go.
    StaleLog {
        /// The phase.
        phase: String,
    },
    /// The timeline document.
    Timeline,
    /// The fingerprints of the phases that succeeded (`fingerprints.json`).
    Fingerprints,
}

/// A file of the run's record that could not be written: the run went on without it.
#[derive(Debug)]
pub struct WriteFailure {
    /// Which file.
    pub record: Record,
    /// Its path.
    pub path: PathBuf,
    /// What the system said.
    pub source: io::Error,
}

impl WriteFailure {
    /// What the failure costs, as the person reading the warning needs to know it.
    pub fn consequence(&self) -> &'static str {
        match self.record {
            Record::Log { .. } => {
                "the rest of this phase's output is not in its log file; the run goes on"
            }
            Record::StaleLog { .. } => {
                "this phase's output is not written there, so that the old log does not pass \
                 for this run's; the run goes on"
            }
            Record::Timeline => {
                "the timeline on disk lags behind the run until a later write succeeds; the \
                 run goes on"
            }
            Record::Fingerprints => {
                "the phases that succeeded are not recorded, so they run again next time; the \
                 run goes on"
            }
        }
    }

    /// What to do about it, when the cause says.
    pub fn help(&self) -> Option<String> {
        use io::ErrorKind as K;
        let folder = self.path.parent().unwrap_or(Path::new("."));
        Some(match self.source.kind() {
            K::IsADirectory => format!(
                "a folder is in the way: remove or rename `{}`, then run again",
                self.path.display()
            ),
            K::StorageFull | K::QuotaExceeded => {
                format!("free some disk space where `{}` is, then run again", folder.display())
            }
            K::PermissionDenied | K::ReadOnlyFilesystem => format!(
                "make `{}` writable, or write the timeline elsewhere with `--timeline PATH`",
                folder.display()
            ),
            K::NotFound => format!(
                "`{}` disappeared while the run went on: leave it in place until the run ends",
                folder.display()
            ),
            _ => return None,
        })
    }

    /// The timeline's entry for this failure; `folder` is the timeline's folder, which
    /// paths inside it are written relative to.
    pub fn to_timeline(&self, folder: &Path) -> TimelineWarning {
        let path = self.path.strip_prefix(folder).unwrap_or(&self.path);
        let phase = match &self.record {
            Record::Log { phase } | Record::StaleLog { phase } => Some(phase.clone()),
            Record::Timeline | Record::Fingerprints => None,
        };
        TimelineWarning { path: path.display().to_string(), phase, message: self.to_string() }
    }
}

impl fmt::Display for WriteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.record {
            Record::Log { phase } => write!(f, "could not write the log of phase `{phase}`")?,
            Record::StaleLog { phase } => {
                write!(f, "could not remove the previous run's log of phase `{phase}`")?;
            }
            Record::Timeline => f.write_str("could not write the timeline")?,
            Record::Fingerprints => f.write_str("could not write the fingerprints")?,
        }
        write!(f, " `{}`: {}", self.path.display(), self.source)
    }
}

impl std::error::Error for WriteFailure {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.source)
    }
}

/// Something a run tells the person running it, beside its state.
#[derive(Debug)]
#[non_exhaustive]
pub enum Notice<'a> {
    /// Another run holds the lock on the timeline's folder: this one waits until it ends.
    Waiting {
        /// The timeline's folder.
        folder: &'a Path,
    },
    /// A file of the record could not be written (the first failure of that file; the run
    /// goes on, and the timeline lists it under `warnings`).
    WriteFailed(&'a WriteFailure),
    /// The fingerprints file could not be used (it is broken, or of another version): every
    /// phase with `inputs` runs, and is recorded anew.
    FingerprintsIgnored(&'a crate::observe::records::Unusable),
}

/// Receives a run's [`Notice`]s, on whichever thread noticed them.
pub type Notify = Arc<dyn Fn(&Notice<'_>) + Send + Sync>;

/// The write failures of one run: the first of each file, in order.
pub(crate) struct Failures {
    list: Mutex<(Vec<WriteFailure>, HashSet<PathBuf>)>,
    notify: Option<Notify>,
}

impl Failures {
    pub(crate) fn new(notify: Option<Notify>) -> Self {
        Self { list: Mutex::new((Vec::new(), HashSet::new())), notify }
    }

    /// Records `failure` unless its file failed before; says whether it was new.
    pub(crate) fn report(&self, failure: WriteFailure) -> bool {
        {
            let mut list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
            if !list.1.insert(failure.path.clone()) {
                return false;
            }
            if let Some(notify) = &self.notify {
                // Told before it joins the list, so the notice precedes any timeline that
                // lists it; under the lock, so notices come in the list's order.
                notify(&Notice::WriteFailed(&failure));
            }
            list.0.push(failure);
        }
        true
    }

    /// The timeline's `warnings`.
    pub(crate) fn to_timeline(&self, folder: &Path) -> Vec<TimelineWarning> {
        let list = self.list.lock().unwrap_or_else(PoisonError::into_inner);
        list.0.iter().map(|f| f.to_timeline(folder)).collect()
    }

    /// Every failure, taken out.
    pub(crate) fn take(&self) -> Vec<WriteFailure> {
        std::mem::take(&mut self.list.lock().unwrap_or_else(PoisonError::into_inner).0)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn log_failure(kind: io::ErrorKind) -> WriteFailure {
        WriteFailure {
            record: Record::Log { phase: "test".into() },
            path: "/t/milo/logs/test.log".into(),
            source: io::Error::from(kind),
        }
    }

    #[test]
    fn a_failure_names_the_file_the_cause_and_what_to_do() {
        let f = log_failure(io::ErrorKind::IsADirectory);
        assert_eq!(
            f.to_string(),
            "could not write the log of phase `test` `/t/milo/logs/test.log`: is a directory"
        );
        assert_eq!(
            f.help().as_deref(),
            Some(
                "a folder is in the way: remove or rename `/t/milo/logs/test.log`, then run again"
            )
        );
        let full = log_failure(io::ErrorKind::StorageFull);
        assert_eq!(
            full.help().as_deref(),
            Some("free some disk space where `/t/milo/logs` is, then run again")
        );
        assert!(log_failure(io::ErrorKind::Other).help().is_none());
    }

    #[test]
    fn the_timeline_lists_paths_relative_to_its_folder() {
        let w = log_failure(io::ErrorKind::StorageFull).to_timeline(Path::new("/t/milo"));
        assert_eq!(w.path, "logs/test.log");
        assert_eq!(w.phase.as_deref(), Some("test"));
        assert!(w.message.starts_with("could not write the log of phase `test`"), "{}", w.message);
    }

    #[test]
    fn each_file_is_reported_once() {
        let told = Arc::new(AtomicUsize::new(0));
        let count = Arc::clone(&told);
        let failures = Failures::new(Some(Arc::new(move |_: &Notice<'_>| {
            count.fetch_add(1, Ordering::SeqCst);
        })));
        assert!(failures.report(log_failure(io::ErrorKind::StorageFull)));
        assert!(!failures.report(log_failure(io::ErrorKind::StorageFull)));
        let timeline = WriteFailure {
            record: Record::Timeline,
            path: "/t/milo/timeline.json".into(),
            source: io::Error::from(io::ErrorKind::StorageFull),
        };
        assert!(failures.report(timeline));
        assert_eq!(told.load(Ordering::SeqCst), 2);
        let paths: Vec<String> =
            failures.to_timeline(Path::new("/t/milo")).into_iter().map(|w| w.path).collect();
        assert_eq!(paths, ["logs/test.log", "timeline.json"]);
        assert_eq!(failures.take().len(), 2);
        assert!(failures.take().is_empty());
    }
}
