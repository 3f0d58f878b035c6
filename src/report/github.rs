//! GitHub Actions, the effects: the annotations of a finished run (with compiler errors'
//! files found in the repository), and `$GITHUB_STEP_SUMMARY` / `$GITHUB_OUTPUT` appended
//! when the run ends. The text itself is `ci::github`'s and `reports::markdown`'s.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Component, Path, PathBuf};

use crate::ci::github::{self, Failure};
use crate::error::Error;
use crate::excerpt::ErrorLocation;
use crate::pipeline::Pipeline;
use crate::reports::{Excerpts, markdown};
use crate::state::{PhaseStatus, PipelineState};
use crate::timeline::Timeline;

/// Where a GitHub run's files are: the repository root (`GITHUB_WORKSPACE`) annotations'
/// paths are relative to, and the step summary and output files, when the runner set them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Github {
    /// The repository root.
    pub root: PathBuf,
    /// `$GITHUB_STEP_SUMMARY`.
    pub step_summary: Option<PathBuf>,
    /// `$GITHUB_OUTPUT`.
    pub output: Option<PathBuf>,
}

impl Github {
    /// From the runner's environment; `root` when `GITHUB_WORKSPACE` is not set.
    pub fn from_env(root: &Path) -> Self {
        let path = |key: &str| std::env::var_os(key).filter(|v| !v.is_empty()).map(PathBuf::from);
        Self {
            root: path("GITHUB_WORKSPACE").unwrap_or_else(|| root.to_owned()),
            step_summary: path("GITHUB_STEP_SUMMARY"),
            output: path("GITHUB_OUTPUT"),
        }
    }

    /// The `::error` annotations of the run's failed phases (see
    /// [`ci::github::annotations`](github::annotations)), their compiler errors' files
    /// looked up from each phase's working folder.
    pub fn annotations(
        &self,
        pipeline: &Pipeline,
        state: &PipelineState,
        excerpts: &Excerpts,
    ) -> String {
        let failed: Vec<(&str, &str, _)> = state
            .phases
            .iter()
            .filter(|p| p.status == PhaseStatus::Failed)
            .filter_map(|p| {
                Some((&*p.name, p.error.as_deref().unwrap_or("failed"), excerpts.get(&*p.name)?))
            })
            .collect();
        let failures: Vec<Failure<'_>> = failed
            .iter()
            .map(|&(phase, error, excerpt)| Failure { phase, error, excerpt })
            .collect();
        let root = self.root.canonicalize().unwrap_or_else(|_| self.root.clone());
        github::annotations(&failures, |phase, location| {
            let cwd = working_dir(pipeline, phase)?;
            repository_path(&root, &cwd, location)
        })
    }

    /// Appends the Markdown summary to `$GITHUB_STEP_SUMMARY` (within what is left of the
    /// step's 1 MiB) and `status=` / `timeline=` to `$GITHUB_OUTPUT`, when set. Returns the
    /// errors, one per file that could not be written.
    pub fn write_files(
        &self,
        timeline: &Timeline,
        timeline_path: &Path,
        excerpts: &Excerpts,
    ) -> Vec<Error> {
        let mut errors = Vec::new();
        if let Some(path) = &self.step_summary {
            // The limit is the step's: what an earlier command of the step wrote counts.
            let used = std::fs::metadata(path).map_or(0, |m| m.len());
            let room = usize::try_from(used)
                .map_or(0, |used| markdown::STEP_SUMMARY_LIMIT.saturating_sub(used));
            let text = markdown::render(timeline, excerpts, room);
            if let Err(e) = append(path, &text) {
                errors.push(Error::io("cannot append the step summary to", path, e));
            }
        }
        if let Some(path) = &self.output {
            let delimiter = format!("milo_{}", super::token());
            let timeline_text = timeline_path.display().to_string();
            let text = github::output_lines(
                &[("status", timeline.status.as_str()), ("timeline", &timeline_text)],
                &delimiter,
            );
            if let Err(e) = append(path, &text) {
                errors.push(Error::io("cannot append the step outputs to", path, e));
            }
        }
        errors
    }
}

fn append(path: &Path, text: &str) -> std::io::Result<()> {
    let mut file = OpenOptions::new().append(true).create(true).open(path)?;
    file.write_all(text.as_bytes())?;
    file.flush()
}

/// The folder phase `name` ran in.
fn working_dir(pipeline: &Pipeline, name: &str) -> Option<PathBuf> {
    let phase = pipeline.phases().iter().find(|p| p.name == name)?;
    let base = match &pipeline.settings().dir {
        Some(dir) => dir.clone(),
        None => std::env::current_dir().ok()?,
    };
    Some(phase.cwd.as_ref().map_or_else(|| base.clone(), |c| base.join(c)))
}

/// The path of `location`'s file relative to `root` (with `/`), as GitHub names files in a
/// repository: the file as printed, found from the phase's folder `cwd` or else from `root`
/// (cargo prints workspace members' paths from the workspace root). `None` when it is not
/// in the repository.
pub fn repository_path(root: &Path, cwd: &Path, location: &ErrorLocation) -> Option<String> {
    let file = Path::new(&location.file);
    let found = if file.is_absolute() {
        file.to_owned()
    } else {
        [cwd.join(file), root.join(file)]
            .into_iter()
            .find(|p| p.exists())
            .unwrap_or_else(|| cwd.join(file))
    };
    let found = found.canonicalize().unwrap_or(found);
    let relative = found.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative
        .components()
        .map(|c| match c {
            Component::Normal(part) => part.to_str(),
            _ => None,
        })
        .collect();
    let parts = parts.filter(|p| !p.is_empty())?;
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(file: &str) -> ErrorLocation {
        ErrorLocation {
            file: file.to_owned(),
            line: 1,
            column: 1,
            title: "error".to_owned(),
            message: String::new(),
        }
    }

    #[test]
    fn files_are_found_from_the_phase_folder_then_the_root() {
        let dir = tempfile::tempdir().expect("temp dir");
        let root = dir.path().canonicalize().expect("canonical");
        std::fs::create_dir_all(root.join("crates/core/src")).expect("folders");
        std::fs::write(root.join("crates/core/src/lib.rs"), "").expect("file");
        std::fs::write(root.join("build.rs"), "").expect("file");
        let member = root.join("crates/core");
        let path = |file: &str| repository_path(&root, &member, &at(file));
        assert_eq!(path("src/lib.rs").as_deref(), Some("crates/core/src/lib.rs"));
        assert_eq!(path("crates/core/src/lib.rs").as_deref(), Some("crates/core/src/lib.rs"));
        assert_eq!(path("build.rs").as_deref(), Some("build.rs"), "from the root");
        assert_eq!(path("../../build.rs").as_deref(), Some("build.rs"));
        assert_eq!(path("src/missing.rs").as_deref(), Some("crates/core/src/missing.rs"));
        assert_eq!(path("/usr/lib/rustlib/src/rust/library/core/src/option.rs"), None);
        assert_eq!(path("../../../elsewhere.rs"), None);
    }
}
