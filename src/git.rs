//! The files changed since a revision, from the `git` binary: committed since the merge base
//! of the revision and `HEAD`, plus uncommitted and untracked ones. Every way this can fail
//! is an error that says what to do; never an empty answer.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::error::Error;

/// What changed since a revision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Changes {
    /// The merge base of the revision and `HEAD`.
    pub merge_base: String,
    /// The changed files (absolute), each once.
    pub files: Vec<PathBuf>,
}

/// The files changed between `rev` and the working tree of the repository holding `dir`.
pub fn changes_since(dir: &Path, rev: &str) -> Result<Changes, Error> {
    let top = git(dir, ["rev-parse", "--show-toplevel"])?;
    if !top.status.success() {
        return Err(Error::usage(
            format!(
                "`--affected {rev}` needs a git repository, and `{}` is in none",
                dir.display()
            ),
            "run it in a git checkout (`git init` to start one), or drop --affected to run everything",
        ));
    }
    let top = PathBuf::from(text(&top.stdout).trim_end_matches(['\n', '\r']));
    let top = top.canonicalize().unwrap_or(top);
    let commit = format!("{rev}^{{commit}}");
    let resolved = git(&top, ["rev-parse", "--verify", "--quiet", "--end-of-options", &commit])?;
    if !resolved.status.success() {
        return Err(missing(&top, rev, "does not name a commit here")?);
    }
    let resolved = text(&resolved.stdout).trim().to_owned();
    let base = git(&top, ["merge-base", &resolved, "HEAD"])?;
    if !base.status.success() {
        return Err(missing(&top, rev, "has no common ancestor with HEAD here")?);
    }
    let merge_base = text(&base.stdout).trim().to_owned();
    let mut files = Vec::new();
    for args in [
        &["diff", "--name-only", "--no-renames", "-z", &merge_base][..],
        &["ls-files", "--others", "--exclude-standard", "-z"],
    ] {
        let out = git(&top, args.iter().copied())?;
        if !out.status.success() {
            return Err(Error::usage(
                format!("`git {}` failed: {}", args.join(" "), text(&out.stderr).trim()),
                "check the repository with `git status`",
            ));
        }
        for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
            let file = top.join(String::from_utf8_lossy(name).as_ref());
            if !files.contains(&file) {
                files.push(file);
            }
        }
    }
    Ok(Changes { merge_base, files })
}

/// `rev` is missing or unrelated: say how to get it, shallow clones first.
fn missing(top: &Path, rev: &str, problem: &str) -> Result<Error, Error> {
    let shallow = git(top, ["rev-parse", "--is-shallow-repository"])?;
    if text(&shallow.stdout).trim() == "true" {
        return Ok(Error::usage(
            format!("`{rev}` {problem}: this is a shallow clone without its history"),
            format!(
                "fetch the history: `git fetch --unshallow` (or `git fetch --deepen=100`, or `git fetch origin {rev}`); in GitHub Actions, `fetch-depth: 0`"
            ),
        ));
    }
    Ok(Error::usage(
        format!("`{rev}` {problem}"),
        format!(
            "check the name (`git branch -a`, `git log --oneline`), or fetch it: `git fetch origin {rev}`"
        ),
    ))
}

fn git<I, S>(dir: &Path, args: I) -> Result<Output, Error>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    Command::new("git").arg("-C").arg(dir).args(args).stdin(Stdio::null()).output().map_err(|e| {
        Error::usage(
            format!("`--affected` needs git, which could not run: {e}"),
            "install git, or drop --affected to run everything",
        )
    })
}

fn text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    String::from_utf8_lossy(bytes)
}
