//! Globs to files: each glob's literal folder is walked (once for all globs that share it)
//! and every file under it matched.
//!
//! Walking `inputs` skips what git ignores (`.gitignore` files, `.git/info/exclude`, the
//! global excludes file, and `.ignore` files), in a git repository or not, through the
//! `ignore` crate — the walker ripgrep uses — so `**/*.rs` never descends into `target/` or
//! `node_modules/`. What a glob names is taken as named: a literal path is always an input,
//! and the walk starts inside a glob's literal folder even when that folder is ignored
//! (`src/generated/*.rs` finds generated files). Walking `outputs` ignores nothing: outputs
//! are usually ignored files. Every walk skips `.git` and the run's own folder (the timeline,
//! logs and fingerprints).
//!
//! Links are not followed into folders. A symbolic link to a regular file counts by that
//! file; any other link (dangling, a loop, to a folder) counts by its target's text, as git
//! stores it. A FIFO, socket or device that a glob matches cannot be hashed (reading a FIFO
//! would block): it is reported unreadable, so the phase runs with a note.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use globset::GlobMatcher;

use crate::fingerprint::Unreadable;
use crate::glob::{matcher, split};

/// What a list of globs matched.
#[derive(Debug, Default)]
pub(crate) struct Matched {
    /// Each matched file: the path as recorded (`/`-separated, relative to the root when
    /// under it, else as the glob wrote it) and the path to read.
    pub files: BTreeMap<String, PathBuf>,
    /// Each matched link that does not lead to a regular file, keyed like `files`: counted
    /// by its target's text.
    pub links: BTreeMap<String, PathBuf>,
    /// The globs that matched no file, in order.
    pub unmatched: Vec<String>,
    /// Folders that could not be read while walking.
    pub unreadable: Vec<Unreadable>,
}

impl Matched {
    /// Files and links: every path that was matched and can be counted.
    pub fn names(self) -> impl Iterator<Item = String> {
        self.files.into_keys().chain(self.links.into_keys())
    }

    /// A matched entry: a regular file (or a link to one), another link, or something that
    /// cannot be hashed.
    fn add(&mut self, name: String, path: PathBuf, regular: bool, link: bool) {
        if regular {
            self.files.insert(name, path);
        } else if link {
            self.links.insert(name, path);
        } else {
            let reason = "not a regular file (a FIFO, socket or device)".to_owned();
            self.unreadable.push(Unreadable { path: name, reason });
        }
    }
}

/// Where globs resolve and what every walk skips.
#[derive(Debug, Clone)]
pub(crate) struct Walker {
    /// The folder relative globs start from (Milo.toml's).
    pub root: PathBuf,
    /// A folder never walked (the run's own), as given and canonical.
    pub skip: Option<(PathBuf, PathBuf)>,
}

/// The globs sharing one literal folder; `None` for a literal folder taken whole.
type Group = Vec<(usize, Option<GlobMatcher>)>;

impl Walker {
    /// The files `globs` match; `ignores`: skip what git ignores below each glob's folder.
    pub fn matching(&self, globs: &[String], ignores: bool) -> Matched {
        let mut out = Matched::default();
        let mut hit = vec![false; globs.len()];
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        for (i, glob) in globs.iter().enumerate() {
            let s = split(glob);
            if s.literal {
                let path = self.root.join(&s.base);
                match std::fs::metadata(&path) {
                    Ok(meta) if meta.is_dir() => groups.entry(s.base).or_default().push((i, None)),
                    Ok(meta) => {
                        let regular = meta.is_file();
                        let link = !regular && path.is_symlink();
                        out.add(self.recorded(s.base), path, regular, link);
                        hit[i] = true;
                    }
                    // A dangling link is there, and counts.
                    Err(_) if path.is_symlink() => {
                        out.add(self.recorded(s.base), path, false, true);
                        hit[i] = true;
                    }
                    Err(_) => {}
                }
            } else if let Ok(m) = matcher(glob) {
                groups.entry(s.base).or_default().push((i, Some(m)));
            }
        }
        for (base, group) in &groups {
            self.walk(base, group, ignores, &mut hit, &mut out);
        }
        out.unmatched =
            globs.iter().zip(&hit).filter(|(_, h)| !**h).map(|(g, _)| g.clone()).collect();
        out
    }

    fn walk(&self, base: &str, group: &Group, ignores: bool, hit: &mut [bool], out: &mut Matched) {
        let dir = self.root.join(base);
        let mut builder = ignore::WalkBuilder::new(&dir);
        builder.standard_filters(ignores).hidden(false).require_git(false).follow_links(false);
        let skip = self.skip.clone();
        builder.filter_entry(move |e| {
            let is_dir = e.file_type().is_some_and(|t| t.is_dir());
            !(is_dir
                && e.depth() > 0
                && (e.file_name() == ".git" || is_skipped(e.path(), skip.as_ref())))
        });
        for entry in builder.build() {
            let entry = match entry {
                Ok(entry) => entry,
                Err(e) => {
                    // A missing literal folder is only a glob that matches nothing.
                    if e.io_error().is_some_and(|io| io.kind() == std::io::ErrorKind::NotFound)
                        && !dir.exists()
                    {
                        continue;
                    }
                    let path = error_path(&e).unwrap_or_else(|| dir.clone());
                    let reason = e.to_string();
                    out.unreadable.push(Unreadable { path: self.shown(&path), reason });
                    continue;
                }
            };
            let Some(kind) = entry.file_type().filter(|t| !t.is_dir()) else { continue };
            let Ok(rel) = entry.path().strip_prefix(&dir) else { continue };
            let shown = join(base, rel);
            let mut matched = false;
            for (i, m) in group {
                if m.as_ref().is_none_or(|m| m.is_match(&shown)) {
                    hit[*i] = true;
                    matched = true;
                }
            }
            if matched {
                let link = kind.is_symlink();
                let regular = kind.is_file() || (link && entry.path().is_file());
                out.add(self.recorded(shown), entry.into_path(), regular, link);
            }
        }
    }

    /// A matched path as recorded: an absolute one under the root (a `{package_dir}`
    /// placeholder's) relative to it, so `explain` names `core/src/lib.rs`.
    fn recorded(&self, matched: String) -> String {
        if matched.starts_with('/') { self.shown(Path::new(&matched)) } else { matched }
    }

    /// `path` as recorded: relative to the root when under it.
    pub fn shown(&self, path: &Path) -> String {
        let rel = path.strip_prefix(&self.root).unwrap_or(path);
        let text = slashes(rel);
        if text.is_empty() { ".".to_owned() } else { text }
    }
}

fn is_skipped(path: &Path, skip: Option<&(PathBuf, PathBuf)>) -> bool {
    let Some((given, canonical)) = skip else { return false };
    // The name first: canonicalizing every folder would cost a call each.
    path.file_name() == given.file_name()
        && (path == given || std::fs::canonicalize(path).is_ok_and(|p| &p == canonical))
}

fn error_path(e: &ignore::Error) -> Option<PathBuf> {
    match e {
        ignore::Error::WithPath { path, .. } => Some(path.clone()),
        ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
            error_path(err)
        }
        _ => None,
    }
}

/// `base` and a path below it, `/`-separated.
fn join(base: &str, rel: &Path) -> String {
    let rel = slashes(rel);
    match (base.is_empty(), base.ends_with('/')) {
        (true, _) => rel,
        (false, true) => format!("{base}{rel}"),
        (false, false) => format!("{base}/{rel}"),
    }
}

/// A path's components joined by `/`.
fn slashes(path: &Path) -> String {
    let parts: Vec<_> = path.components().map(|c| c.as_os_str().to_string_lossy()).collect();
    let joined = parts.join("/");
    // An absolute path's first component is `/` itself.
    joined.strip_prefix("//").map_or(joined.clone(), |rest| format!("/{rest}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().expect("temp dir");
        for f in files {
            let path = dir.path().join(f);
            std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
            std::fs::write(&path, f).expect("write");
        }
        dir
    }

    fn walker(dir: &tempfile::TempDir, skip: Option<&str>) -> Walker {
        let skip = skip.map(|s| {
            let p = dir.path().join(s);
            (p.clone(), std::fs::canonicalize(&p).unwrap_or(p))
        });
        Walker { root: dir.path().to_path_buf(), skip }
    }

    fn names(m: &Matched) -> Vec<&str> {
        m.files.keys().map(String::as_str).collect()
    }

    fn globs(list: &[&str]) -> Vec<String> {
        list.iter().map(|g| (*g).to_owned()).collect()
    }

    #[test]
    fn globs_match_below_their_folder_sorted_and_once() {
        let dir =
            tree(&["proto/a.proto", "proto/x/b.proto", "proto/c.txt", "gen.sh", "other/d.proto"]);
        let m = walker(&dir, None)
            .matching(&globs(&["proto/**/*.proto", "gen.sh", "proto/*.proto"]), true);
        assert_eq!(names(&m), ["gen.sh", "proto/a.proto", "proto/x/b.proto"]);
        assert!(m.unmatched.is_empty());
        let none = walker(&dir, None).matching(&globs(&["*.rs", "missing.txt", "nowhere/*"]), true);
        assert!(none.files.is_empty());
        assert_eq!(none.unmatched, ["*.rs", "missing.txt", "nowhere/*"]);
        assert!(none.unreadable.is_empty(), "{:?}", none.unreadable);
    }

    #[test]
    fn a_literal_folder_means_everything_in_it() {
        let dir = tree(&["proto/a.proto", "proto/x/b.proto"]);
        let m = walker(&dir, None).matching(&globs(&["proto"]), true);
        assert_eq!(names(&m), ["proto/a.proto", "proto/x/b.proto"]);
    }

    #[test]
    fn ignored_files_are_skipped_unless_named() {
        let dir = tree(&[
            ".gitignore",
            "src/a.rs",
            "src/gen/g.rs",
            "src/scratch.rs",
            "target/debug/x.rs",
            ".git/HEAD.rs",
            ".github/ci.rs",
        ]);
        std::fs::write(dir.path().join(".gitignore"), "/target\nsrc/gen/\nscratch.rs\n")
            .expect("write");
        let w = walker(&dir, None);
        let m = w.matching(&globs(&["**/*.rs"]), true);
        assert_eq!(names(&m), [".github/ci.rs", "src/a.rs"]);
        let named = w.matching(&globs(&["src/gen/*.rs", "src/scratch.rs"]), true);
        assert_eq!(names(&named), ["src/gen/g.rs", "src/scratch.rs"]);
        let outputs = w.matching(&globs(&["**/*.rs"]), false);
        assert_eq!(
            names(&outputs),
            [".github/ci.rs", "src/a.rs", "src/gen/g.rs", "src/scratch.rs", "target/debug/x.rs"]
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_that_lead_nowhere_count_and_fifos_are_unreadable() {
        let dir = tree(&["in/a.txt", "sub/x.txt"]);
        let link = |target: &str, name: &str| {
            std::os::unix::fs::symlink(target, dir.path().join(name)).expect("symlink");
        };
        link("a.txt", "in/to_file");
        link("missing", "in/dangling");
        link("../sub", "in/to_dir");
        link("loop", "in/loop");
        link("missing", "named");
        let made = std::process::Command::new("mkfifo").arg(dir.path().join("in/fifo")).status();
        assert!(made.is_ok_and(|s| s.success()), "mkfifo (coreutils) makes a FIFO");
        let w = walker(&dir, None);
        let m = w.matching(&globs(&["in/*", "named"]), true);
        assert_eq!(names(&m), ["in/a.txt", "in/to_file"]);
        let links: Vec<&str> = m.links.keys().map(String::as_str).collect();
        assert_eq!(links, ["in/dangling", "in/loop", "in/to_dir", "named"]);
        assert!(m.unmatched.is_empty(), "a dangling literal link matched: {:?}", m.unmatched);
        let fifo = Unreadable {
            path: "in/fifo".into(),
            reason: "not a regular file (a FIFO, socket or device)".into(),
        };
        assert_eq!(m.unreadable, std::slice::from_ref(&fifo));
        assert_eq!(w.matching(&globs(&["in/fifo"]), true).unreadable, [fifo], "named, too");
    }

    #[test]
    fn the_runs_own_folder_is_never_walked() {
        let dir = tree(&["target/milo/timeline.json", "target/milo/logs/a.log", "src/a.json"]);
        let m = walker(&dir, Some("target/milo")).matching(&globs(&["**/*"]), false);
        assert_eq!(names(&m), ["src/a.json"]);
    }

    #[test]
    fn parents_and_absolute_globs_are_recorded_as_written() {
        let dir = tree(&["shared/s.proto", "app/Milo.toml"]);
        let w = Walker { root: dir.path().join("app"), skip: None };
        assert_eq!(names(&w.matching(&globs(&["../shared/*.proto"]), true)), ["../shared/s.proto"]);
        let abs =
            format!("{}/shared/*.proto", crate::glob::escape(&dir.path().display().to_string()));
        let m = w.matching(&[abs], true);
        let expected = format!("{}/shared/s.proto", dir.path().display());
        assert_eq!(names(&m), [expected.as_str()]);
        assert_eq!(w.shown(&dir.path().join("app/x/y")), "x/y");
        // Under the root (a `{package_dir}` placeholder's folder): recorded relative to it.
        let app = crate::glob::escape(&dir.path().join("app").display().to_string());
        let under = w.matching(&[format!("{app}/*.toml"), format!("{app}/Milo.toml")], true);
        assert_eq!(names(&under), ["Milo.toml"]);
        assert_eq!(w.shown(&dir.path().join("app")), ".");
    }
}
