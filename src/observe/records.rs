//! `fingerprints.json` beside the timeline: read at the start of a run (a missing file is an
//! empty one; a broken one is a warning and an empty one), written atomically.
//!
//! Rewriting the whole file is not cheap (200 phases of 100 inputs: 2.1 MB, 10 ms a save), so
//! a run does not rewrite it as each phase starts: it appends the phase's name to a journal
//! beside it ([`JOURNAL_NAME`], a line each), and a phase named there is taken as started
//! again and not finished ([`Record::rerun`]) until the next full save, which empties it.

use std::fmt;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::fingerprint::{FORMAT_VERSION, Fingerprints, Record};

/// The file's name, in the timeline's folder.
pub const FILE_NAME: &str = "fingerprints.json";

/// The journal of phases started since the file was last written, beside it.
pub const JOURNAL_NAME: &str = "fingerprints.started";

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

/// The journal beside the fingerprints file `path`.
fn journal(path: &Path) -> PathBuf {
    path.with_file_name(JOURNAL_NAME)
}

/// Notes in the journal that phase `name` started: its record stands for nothing until the
/// next [`save`].
pub fn started(path: &Path, name: &str) -> std::io::Result<()> {
    let mut line = serde_json::to_string(name).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = std::fs::OpenOptions::new().create(true).append(true).open(journal(path))?;
    file.write_all(line.as_bytes())
}

/// Marks the records of the phases the journal names; a line that is not a name (a run
/// died writing it) marks them all.
fn apply_journal(path: &Path, fingerprints: &mut Fingerprints) {
    let Ok(text) = std::fs::read_to_string(journal(path)) else { return };
    for line in text.lines() {
        match serde_json::from_str::<String>(line) {
            Ok(name) => {
                if let Some(record) = fingerprints.phases.get_mut(&name) {
                    record.rerun = true;
                }
            }
            Err(_) => fingerprints.phases.values_mut().for_each(|r: &mut Record| r.rerun = true),
        }
    }
}

/// Reads the fingerprints at `path` (and the journal beside it): none when the file does not
/// exist, none and the reason when it cannot be read or parsed, or was written by another
/// format version.
pub fn load(path: &Path) -> (Fingerprints, Option<Unusable>) {
    let (mut fingerprints, problem) = load_file(path);
    apply_journal(path, &mut fingerprints);
    (fingerprints, problem)
}

fn load_file(path: &Path) -> (Fingerprints, Option<Unusable>) {
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

/// Writes `fingerprints` to `path` atomically (a temporary file beside it, then a rename),
/// then empties the journal (the file now holds what it said).
pub fn save(path: &Path, fingerprints: &Fingerprints) -> std::io::Result<()> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let mut tmp =
        tempfile::Builder::new().prefix(".fingerprints-").suffix(".tmp").tempfile_in(dir)?;
    let text = serde_json::to_vec(fingerprints).map_err(std::io::Error::other)?;
    tmp.write_all(&text)?;
    tmp.write_all(b"\n")?;
    tmp.persist(path).map_err(|e| e.error)?;
    match std::fs::remove_file(journal(path)) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
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

    #[test]
    fn a_started_phase_stands_for_nothing_until_the_next_save() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join(FILE_NAME);
        let record = |_| {
            Record::new(
                Observation::default(),
                BTreeMap::new(),
                BTreeSet::new(),
                serde_json::json!({}),
            )
        };
        let phases = ["a", "b", "c"].into_iter().map(|n| (n.to_owned(), record(n))).collect();
        let f = Fingerprints { phases, ..Fingerprints::default() };
        save(&path, &f).expect("save");
        started(&path, "b").expect("journal");
        started(&path, "never recorded").expect("journal");
        let reruns = |f: &Fingerprints| -> Vec<String> {
            f.phases.iter().filter(|(_, r)| r.rerun).map(|(n, _)| n.clone()).collect()
        };
        let loaded = load(&path).0;
        assert_eq!(reruns(&loaded), ["b"]);
        save(&path, &loaded).expect("save");
        assert!(!dir.path().join(JOURNAL_NAME).exists(), "a save empties the journal");
        assert_eq!(reruns(&load(&path).0), ["b"], "the file holds the mark now");
        save(&path, &f).expect("save");
        std::fs::write(dir.path().join(JOURNAL_NAME), "\"a\"\n\"c").expect("a torn line");
        assert_eq!(reruns(&load(&path).0), ["a", "b", "c"], "a torn line marks them all");
    }
}
