//! Finding recorded timelines in files and folders, for `timeline merge` and
//! `run --results-from`.
//!
//! A file named on the command line must be a timeline. A folder is searched recursively
//! (CI artifacts unpack into nested folders; symbolic links to folders are not followed):
//! every `*.json` file whose top level has `schema_version` and `phases` is a timeline and
//! must parse; other JSON files (a trace report, fingerprints) are passed over.

use std::path::{Path, PathBuf};

use serde::de::IgnoredAny;

use super::view::parse_timeline;
use crate::error::Error;
use crate::timeline::Timeline;

/// The timelines found and the files they were read from (same positions).
#[derive(Debug, Default)]
pub struct Found {
    /// The files.
    pub paths: Vec<PathBuf>,
    /// What they hold.
    pub timelines: Vec<Timeline>,
}

/// The timelines of `inputs` (files and folders), in the order given and, inside a folder,
/// in path order. `skip` (the file a merge writes) is left out.
pub fn find(inputs: &[PathBuf], skip: Option<&Path>) -> Result<Found, Error> {
    let skip = skip.and_then(|s| s.canonicalize().ok());
    let mut found = Found::default();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|e| match e.kind() {
            std::io::ErrorKind::NotFound => Error::usage(
                format!("no file or folder at `{}`", input.display()),
                "pass timeline files, or the folders the jobs' artifacts were unpacked in",
            ),
            _ => Error::io("reading", input, e),
        })?;
        if meta.is_dir() {
            let mut files = Vec::new();
            json_files(input, &mut files)?;
            files.sort();
            for path in files {
                if skip.is_some() && path.canonicalize().ok() == skip {
                    continue;
                }
                let text = std::fs::read_to_string(&path)
                    .map_err(|e| Error::io("reading the timeline", &path, e))?;
                if looks_like_a_timeline(&text) {
                    found.timelines.push(parse_timeline(&path, &text)?);
                    found.paths.push(path);
                }
            }
        } else {
            found.timelines.push(super::view::read_timeline(input, "timeline merge")?);
            found.paths.push(input.clone());
        }
    }
    Ok(found)
}

/// Every `*.json` file under `dir`, recursively.
fn json_files(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), Error> {
    let entries = std::fs::read_dir(dir).map_err(|e| Error::io("reading the folder", dir, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| Error::io("reading the folder", dir, e))?;
        let path = entry.path();
        let Ok(kind) = entry.file_type() else { continue };
        if kind.is_dir() {
            json_files(&path, out)?;
        } else if path.extension().is_some_and(|e| e == "json") && path.is_file() {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether JSON text is meant to be a timeline: an object with `schema_version` and
/// `phases` (a broken timeline then gets its error, rather than being passed over).
fn looks_like_a_timeline(text: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Probe {
        schema_version: Option<IgnoredAny>,
        phases: Option<IgnoredAny>,
    }
    // An object: serde would take a sequence's items for a struct's fields.
    text.trim_start().starts_with('{')
        && serde_json::from_str::<Probe>(text)
            .is_ok_and(|p| p.schema_version.is_some() && p.phases.is_some())
}

#[cfg(test)]
mod tests {
    use super::looks_like_a_timeline;

    #[test]
    fn only_timelines_are_taken_for_timelines() {
        assert!(looks_like_a_timeline(r#"{"schema_version": 1, "phases": [], "x": {}}"#));
        assert!(looks_like_a_timeline(r#"{"schema_version": "1", "phases": 3}"#), "broken, named");
        assert!(!looks_like_a_timeline(r#"{"traceEvents": [], "phases": []}"#));
        assert!(!looks_like_a_timeline("[1, 2]"));
        assert!(!looks_like_a_timeline("not json"));
    }
}
