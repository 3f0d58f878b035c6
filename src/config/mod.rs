//! Milo.toml: discovery, the raw spanned form, validation into a [`Pipeline`].
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
mod pieces;
pub mod raw;
pub mod validate;

use std::path::{Path, PathBuf};

pub use duration::{format_duration, from_seconds, parse_duration};

use crate::diagnostic::{self, Diagnostic};
use crate::discover;
use crate::error::Error;
use crate::pipeline::Pipeline;

/// Where to look for Milo.toml.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f/--config`: this file, no search.
    pub config: Option<PathBuf>,
    /// `--manifest-path`: search from this Cargo.toml's folder.
    pub manifest_path: Option<PathBuf>,
    /// The folder to search from (normally the current directory).
    pub cwd: PathBuf,
    /// Render diagnostics with ANSI colors.
    pub color: bool,
}

/// A loaded, validated Milo.toml.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file that was read.
    pub path: PathBuf,
    /// The pipeline it describes (relative paths already resolved against its folder).
    pub pipeline: Pipeline,
    /// Where the timeline goes: `timeline` from the file, else `<target dir>/milo/timeline.json`.
    pub timeline: PathBuf,
}

/// Finds, reads and validates Milo.toml.
pub fn load(options: &LoadOptions) -> Result<Loaded, Error> {
    let path = locate(options)?;
    let bytes = std::fs::read(&path).map_err(|e| Error::io("could not read", &path, e))?;
    let shown = display_path(&path, &options.cwd);
    let text = decode(bytes, &shown)?;
    let dir = path.parent().map_or_else(|| options.cwd.clone(), Path::to_path_buf);
    let (pipeline, timeline) = parse_in(&text, &shown, &dir, options.color)?;
    let timeline = timeline.unwrap_or_else(|| {
        discover::target_dir(&dir, &options.cwd, |key| std::env::var_os(key))
            .join("milo")
            .join("timeline.json")
    });
    Ok(Loaded { path, pipeline, timeline })
}

/// Parses and validates Milo.toml text as if read from `path`: relative paths resolve against
/// `path`'s folder. Returns the pipeline and the `timeline` path when the file sets one.
pub fn parse_str(text: &str, path: &Path) -> Result<(Pipeline, Option<PathBuf>), Error> {
    // A bare file name has an empty parent: its folder is the current one.
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let dir = dir.to_path_buf();
    parse_in(text, &path.display().to_string(), &dir, false)
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
        Ok((raw, problems)) => {
            validate::validate(&raw, problems, Path::new(""), String::new).err().unwrap_or_default()
        }
    }
}

fn parse_in(
    text: &str,
    shown: &str,
    dir: &Path,
    color: bool,
) -> Result<(Pipeline, Option<PathBuf>), Error> {
    let fail =
        |problems: &[Diagnostic]| Error::Config(diagnostic::render(shown, text, problems, color));
    let (raw, problems) = raw::parse(text).map_err(|e| fail(&e))?;
    validate::validate(&raw, problems, dir, || folder_name(dir)).map_err(|e| fail(&e))
}

/// The file to read: `-f`, or a search from `--manifest-path`'s folder or the cwd.
fn locate(options: &LoadOptions) -> Result<PathBuf, Error> {
    if let Some(config) = &options.config {
        let path = options.cwd.join(config);
        if !path.is_file() {
            return Err(Error::usage(
                format!("config file `{}` does not exist or is not a file", config.display()),
                "check the path given to -f/--config",
            ));
        }
        return Ok(path);
    }
    let start = match &options.manifest_path {
        Some(manifest) => {
            let manifest = options.cwd.join(manifest);
            if !manifest.is_file() {
                let problem = if manifest.is_dir() { "is a folder" } else { "does not exist" };
                return Err(Error::usage(
                    format!("manifest path `{}` {problem}", manifest.display()),
                    "pass the path of a Cargo.toml to --manifest-path",
                ));
            }
            manifest.parent().map_or_else(|| options.cwd.clone(), Path::to_path_buf)
        }
        None => options.cwd.clone(),
    };
    discover::find(&start).map_err(|searched| {
        let last = searched.last().map_or_else(|| start.clone(), Clone::clone);
        Error::usage(
            format!(
                "could not find `{}` in `{}` or any parent folder up to `{}`",
                discover::FILE_NAME,
                start.display(),
                last.display()
            ),
            "run `cargo milo init` to create one, or pass its path with -f/--config",
        )
    })
}

fn decode(bytes: Vec<u8>, shown: &str) -> Result<String, Error> {
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes()).into_owned();
        let d = Diagnostic::new("the file is not valid UTF-8", at..at)
            .label("invalid byte here")
            .help("save Milo.toml as UTF-8");
        Error::Config(diagnostic::render(shown, &text, &[d], false))
    })
}

/// `path` relative to `cwd` when it is inside it, as cargo shows paths.
fn display_path(path: &Path, cwd: &Path) -> String {
    path.strip_prefix(cwd).unwrap_or(path).display().to_string()
}

fn folder_name(dir: &Path) -> String {
    let dir = if dir.as_os_str().is_empty() { Path::new(".") } else { dir };
    let absolute = std::path::absolute(dir).unwrap_or_else(|_| dir.to_path_buf());
    absolute
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "pipeline".to_owned())
}
