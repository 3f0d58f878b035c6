//! Milo.toml text → a validated [`Pipeline`]: the raw spanned form, then validation with
//! located diagnostics. Pure: finding and reading the file is [`crate::load`]'s job.
//!
//! ```
//! let text = r#"
//! [[pipeline.phase]]
//! name = "test"
//! cmd = "cargo test"
//! "#;
//! let (pipeline, timeline) = milo::config::parse_str(text, "ci/Milo.toml".as_ref())?;
//! assert_eq!(pipeline.name(), "ci");
//! assert_eq!(pipeline.execution_order(), ["test"]);
//! assert!(timeline.is_none());
//! # Ok::<(), milo::Error>(())
//! ```

mod duration;
mod expand;
mod export;
mod freshness;
pub mod placeholder;
pub mod raw;
mod references;
pub mod validate;

use std::path::{Path, PathBuf};

pub use duration::{format_duration, from_seconds, parse_duration};

use crate::diagnostic::Diagnostic;
use crate::error::Error;
use crate::pipeline::Pipeline;
use crate::workspace::Workspace;

/// Parses and validates Milo.toml text as if read from `path`: relative paths resolve against
/// `path`'s folder, and a pipeline without `name` is named after that folder. Returns the
/// pipeline and the `timeline` path when the file sets one.
///
/// Per-package phases need the workspace: see [`parse_with`].
pub fn parse_str(text: &str, path: &Path) -> Result<(Pipeline, Option<PathBuf>), Error> {
    // A bare file name has an empty parent: its folder is the current one.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    parse_in(text, path, dir, || Ok(None))
}

/// Like [`parse_str`], with per-package phases expanded over `workspace`.
///
/// ```
/// use milo::workspace::{DepKind, Workspace};
/// let ws = Workspace::from_dirs("/ws", [
///     ("core", "/ws/core".into(), vec![]),
///     ("app", "/ws/app".into(), vec![("/ws/core".into(), DepKind::Normal)]),
/// ]);
/// let text = r#"
/// [[pipeline.phase]]
/// name = "build"
/// packages = "workspace"
/// cmd = "cargo build -p {package}"
/// depends_on = ["^build"]
/// "#;
/// let (pipeline, _) = milo::config::parse_with(text, "/ws/Milo.toml".as_ref(), &ws)?;
/// assert_eq!(pipeline.execution_order(), ["build:core", "build:app"]);
/// assert_eq!(pipeline.get("build:app").unwrap().depends_on, ["build:core"]);
/// # Ok::<(), milo::Error>(())
/// ```
pub fn parse_with(
    text: &str,
    path: &Path,
    workspace: &Workspace,
) -> Result<(Pipeline, Option<PathBuf>), Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    parse_in(text, path, dir, || Ok(Some(workspace)))
}

/// Every problem in `text`, located; empty when the file is valid. For callers that report
/// problems their own way (a build script's `cargo:warning` lines).
///
/// ```
/// let text = "[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\nweight = -1\n";
/// let problems = milo::config::diagnostics(text);
/// assert_eq!(problems.len(), 1);
/// assert_eq!(problems[0].message, "`weight` must be >= 0, found -1");
/// assert_eq!(problems[0].location(text), Some((4, 10)));
/// ```
pub fn diagnostics(text: &str) -> Vec<Diagnostic> {
    match raw::parse(text) {
        Err(syntax) => syntax,
        Ok((raw, problems)) => validate::validate(&raw, problems, Path::new(""), String::new, None)
            .err()
            .unwrap_or_default(),
    }
}

/// Parses and validates `text`, shown in messages as `shown`, with relative paths resolved
/// against `dir`. `workspace` is asked only when a phase has `packages` (`None`: outside a
/// Cargo workspace). A problem is an [`Error::Config`] holding the text and every
/// diagnostic.
pub(crate) fn parse_in<'w>(
    text: &str,
    shown: &Path,
    dir: &Path,
    workspace: impl FnOnce() -> Result<Option<&'w Workspace>, Error>,
) -> Result<(Pipeline, Option<PathBuf>), Error> {
    let fail = |problems: Vec<Diagnostic>| Error::config(shown, text, problems);
    let (raw, problems) = raw::parse(text).map_err(fail)?;
    let workspace = if raw.uses_packages() { workspace()? } else { None };
    validate::validate(&raw, problems, dir, || folder_name(dir), workspace).map_err(fail)
}

/// The last component of `dir`, the default pipeline name; `pipeline` when it has none
/// (`.`, `/`). The loader passes absolute folders, so `.` only comes from library callers.
fn folder_name(dir: &Path) -> String {
    dir.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "pipeline".to_owned())
}
