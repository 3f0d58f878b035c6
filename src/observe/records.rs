//! `fingerprints.json` beside the timeline: read at the start of a run (a missing file is an
//! empty one; a broken one is a warning and an empty one), written atomically at each change.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::fingerprint::{FORMAT_VERSION, Fingerprints};

/// The file's name, in the timeline's folder.
pub const FILE_NAME: &str = "fingerprints.json";

/// The fingerprints file of the timeline at `timeline`.
pub fn beside(timeline: &Path) -> PathBuf {
    timeline.parent().unwrap_or(Path::new(".")).join(FILE_NAME)
}

/// Why the fingerprints file was not used: everything with `inputs` runs and is recorded
/// again.
#[derive(Debug)]
pub struct Unusable {
    /// The file.
    pub path: PathBuf,
    /// What is wrong with it.
    pub problem: String,
}

impl fmt::Display for Unusable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "ignoring `{}`: {}; every phase with `inputs` runs and is recorded again",
            self.path.display(),
            self.problem
        )
    }
}

impl std::error::Error for Unusable {}

/// Reads the fingerprints at `path`: none when the file does not exist, none and the reason
/// when it cannot be read or parsed, or was written by another format version.
pub fn load(path: &Path) -> (Fingerprints, Option<Unusable>) {
    let unusable = |problem: String| Some(Unusable { path: path.to_owned(), problem });
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return (Fingerprints::default(), None);
        }
        Err(e) => return (Fingerprints::default(), unusable(format!("it cannot be read: {e}"))),
    };
    match serde_json::from_str::<Fingerprints>(&text) {
        Ok(f) if f.version == FORMAT_VERSION => (f, None),
        Ok(f) => (
            Fingerprints::default(),
            unusable(format!(
                "it has format version {}, this cargo-milo writes {FORMAT_VERSION}",
                f.version
            )),
        ),
        Err(e) => (Fingerprints::default(), unusable(format!("it is not valid: {e}"))),
    }
}

/// Writes `fingerprints` to `path` atomically (a temporary file beside it, then a rename).
pub fn save(path: &Path, fingerprints: &Fingerprints) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp =
        tempfile::Builder::new().prefix(".fingerprints-").suffix(".tmp").tempfile_in(dir)?;
    let text = serde_json::to_vec(fingerprints).map_err(std::io::Error::other)?;
    tmp.write_all(&text)?;
    tmp.write_all(b"\n")?;
    tmp.persist(path).map_err(|e| e.error)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, BTreeSet};

    use super::*;
    use crate::fingerprint::{Observation, Record};

    #[test]
    fn saved_fingerprints_load_back_and_bad_files_are_ignored_with_a_reason() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = beside(&dir.path().join("milo/timeline.json"));
        let (empty, problem) = load(&path);
        assert!(empty.phases.is_empty() && problem.is_none(), "a missing file is an empty one");
        let mut f = Fingerprints::default();
        let record = Record::new(
            Observation::default(),
            BTreeMap::new(),
            BTreeSet::new(),
            serde_json::json!({}),
        );
        f.phases.insert("gen".into(), record);
        save(&path, &f).expect("save");
        assert_eq!(load(&path).0, f);

        std::fs::write(&path, "{\"version\": 1, \"phases\": {\"gen\": 3}}").expect("write");
        let (got, problem) = load(&path);
        assert!(got.phases.is_empty());
        let problem = problem.expect("a broken file is reported").to_string();
        assert!(
            problem.starts_with(&format!("ignoring `{}`: it is not valid:", path.display())),
            "{problem}"
        );
        assert!(
            problem.ends_with("every phase with `inputs` runs and is recorded again"),
            "{problem}"
        );

        std::fs::write(&path, "{\"version\": 99, \"phases\": {}}").expect("write");
        let problem = load(&path).1.expect("another version").to_string();
        assert!(problem.contains("format version 99, this cargo-milo writes 1"), "{problem}");
    }
}
