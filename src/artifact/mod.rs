//! The run's record on disk: `timeline.json` (atomic, throttled, final), every phase's
//! complete log under `logs/` beside it, and the lock that keeps two runs from writing them
//! at once. What cannot be written is reported, never ignored ([`WriteFailure`]).

mod failure;
mod incremental;
mod lock;
mod logs;
mod writer;

use std::collections::HashMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

pub use failure::{Notice, Notify, Record, WriteFailure};
pub use lock::{FolderLock, LOCK_FILE};
pub use writer::{REWRITE_EVERY, Recorded, TimelineWriter};

use crate::error::Error;
use crate::state::PhaseStatus;
use crate::timeline::Timeline;

/// The folder, relative to the timeline, holding each phase's full log.
pub const LOG_DIR: &str = "logs";

/// The log file of phase `name` for the timeline at `timeline`.
pub fn log_path(timeline: &Path, name: &str) -> PathBuf {
    folder(timeline).join(LOG_DIR).join(format!("{name}.log"))
}

/// The folder of the timeline at `timeline` (`.` for a bare file name).
pub fn folder(timeline: &Path) -> &Path {
    timeline.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."))
}

/// Refuses `path` as a file to write by renaming a temporary file over it: a folder (or a
/// path ending in `/`), and anything that exists but is not a regular file (`/dev/null`, a
/// FIFO), which the rename would replace — as root, `--timeline /dev/null` would otherwise
/// leave a regular file where the device was. `what` names the file in the message ("the
/// timeline"); `example` is a file path the help suggests.
pub fn check_output_path(path: &Path, what: &str, example: &str) -> Result<(), Error> {
    let shown = path.display();
    if path.is_dir() || path.as_os_str().to_string_lossy().ends_with(['/', '\\']) {
        return Err(Error::usage(
            format!("{what} path `{shown}` is a folder"),
            format!("pass a file path, e.g. `{example}`"),
        ));
    }
    if fs::metadata(path).is_ok_and(|meta| !meta.is_file()) {
        return Err(Error::usage(
            format!("{what} path `{shown}` is not a regular file (a device, a FIFO or a socket)"),
            format!(
                "pass a file path, e.g. `{example}`: {what} is written beside it and renamed \
                 over it, which would replace `{shown}`"
            ),
        ));
    }
    Ok(())
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
    write_timeline(path, timeline).map_err(|e| Error::io("writing the timeline", path, e))
}

fn write_timeline(path: &Path, timeline: &Timeline) -> io::Result<()> {
    let mut out = BufWriter::new(temp_beside(path)?);
    serde_json::to_writer_pretty(&mut out, timeline)?;
    out.write_all(b"\n")?;
    let tmp = out.into_inner().map_err(io::IntoInnerError::into_error)?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// A temporary file beside the timeline at `path`, to be renamed over it once written.
fn temp_beside(path: &Path) -> io::Result<tempfile::NamedTempFile> {
    let mut builder = tempfile::Builder::new();
    builder.prefix(".timeline-").suffix(".tmp");
    // A temporary file is private (0600); the timeline is an artifact others upload and read,
    // so it gets a normal file's mode (0644, less the umask).
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    builder.tempfile_in(folder(path))
}
