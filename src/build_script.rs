//! Running a pipeline from a build script (`build.rs`).
//!
//! ```no_run
//! // build.rs
//! fn main() -> Result<(), milo::build_script::BuildError> {
//!     milo::build_script::run("Milo.toml")?;
//!     Ok(())
//! }
//! ```
//!
//! [`run`] prints `cargo:rerun-if-changed=` for the file and for every phase's `inputs` (each
//! glob's folder, or the files a glob in the package's own folder matches) and
//! `cargo:rerun-if-env-changed=` for its `env_inputs`, draws no bars, writes the timeline,
//! every phase's full log and the fingerprints under `$OUT_DIR/milo/` (so a phase whose inputs
//! did not change is not run again when cargo reruns the script), and on failure prints each
//! failed phase's error and output tail, then a summary, as `cargo:warning=` lines. A log or
//! timeline that could not be written is a `cargo:warning=` too; the build's outcome is the
//! pipeline's. The
//! returned [`BuildError`] prints as a plain message, so returning it from `main` fails the
//! build with that message.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::artifact::Notice;
use crate::error::Error;
use crate::exec::RunOptions;
use crate::pipeline::Pipeline;
use crate::state::{PhaseStatus, PipelineState, PipelineStatus};

/// How many output lines of a failed phase are shown as warnings.
const TAIL_LINES: usize = 20;

/// Why the build script failed. Its `Debug` is its message, so that `main` returning it
/// prints something a person can read.
pub struct BuildError {
    message: String,
    state: Option<Box<PipelineState>>,
}

impl BuildError {
    /// The final state of the run, when the pipeline ran.
    pub fn state(&self) -> Option<&PipelineState> {
        self.state.as_deref()
    }
}

impl fmt::Display for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl fmt::Debug for BuildError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuildError {}

impl From<Error> for BuildError {
    fn from(e: Error) -> Self {
        Self { message: e.to_string(), state: None }
    }
}

/// Runs the Milo.toml at `path` (relative to the package root, where build scripts run).
///
/// A file that cannot be read or is invalid fails before anything runs, with the same
/// located message `cargo milo check` prints:
///
/// ```
/// let err = milo::build_script::run("no/such/Milo.toml").unwrap_err();
/// assert!(err.to_string().contains("no/such/Milo.toml"), "{err}");
/// assert!(err.state().is_none(), "nothing ran");
/// ```
pub fn run(path: impl AsRef<Path>) -> Result<PipelineState, BuildError> {
    let path = path.as_ref();
    println!("cargo:rerun-if-changed={}", path.display());
    let pipeline = Pipeline::from_path(path).inspect_err(|e| warn_lines(&e.to_string()))?;
    run_pipeline(&pipeline)
}

/// Runs a pipeline built in code the same way [`run`] runs a file.
pub fn run_pipeline(pipeline: &Pipeline) -> Result<PipelineState, BuildError> {
    let timeline = out_dir()?.join("milo").join("timeline.json");
    print!("{}", rerun_lines(pipeline, &timeline));
    let notify = Arc::new(|notice: &Notice<'_>| match notice {
        // Cargo builds one package's build script at a time: there is no lock to wait for.
        Notice::WriteFailed(failure) => {
            warn_lines(&format!("milo: {failure}; {}", failure.consequence()));
        }
        Notice::FingerprintsIgnored(problem) => warn_lines(&format!("milo: {problem}")),
        _ => {}
    });
    let options = RunOptions {
        timeline: Some(timeline.clone()),
        notify: Some(notify),
        ..RunOptions::default()
    };
    let finished = pipeline.run(options)?;
    if let Some(failure) = &finished.timeline_error {
        warn_lines(&format!("milo: {failure}; the timeline does not show how the run ended"));
    }
    let state = finished.state;
    if state.status == PipelineStatus::Completed {
        return Ok(state);
    }
    let report = failure_report(&state, &timeline);
    warn_lines(&report);
    let message = format!(
        "milo: pipeline `{}` {}: {} (timeline: {})",
        state.name,
        state.status.as_str(),
        failed_names(&state),
        timeline.display()
    );
    Err(BuildError { message, state: Some(Box::new(state)) })
}

/// What cargo must watch to rerun the script when a phase's inputs may have changed.
fn rerun_lines(pipeline: &Pipeline, timeline: &Path) -> String {
    let observer = crate::observe::Observer::new(pipeline, timeline.parent());
    let mut out = String::new();
    for phase in pipeline.phases() {
        for path in observer.watch_paths(phase) {
            let _ = writeln!(out, "cargo:rerun-if-changed={}", path.display());
        }
        for name in &phase.env_inputs {
            let _ = writeln!(out, "cargo:rerun-if-env-changed={name}");
        }
    }
    out
}

fn out_dir() -> Result<PathBuf, BuildError> {
    std::env::var_os("OUT_DIR").map(PathBuf::from).ok_or_else(|| BuildError {
        message: "milo: OUT_DIR is not set: call milo::build_script from a build script \
                  (build.rs), or use Pipeline::run elsewhere"
            .to_owned(),
        state: None,
    })
}

/// Each failed phase's error and output excerpt (lines that look like errors, then the
/// tail), then a one-line summary.
pub fn failure_report(state: &PipelineState, timeline: &Path) -> String {
    let mut out = String::new();
    for p in state.phases.iter().filter(|p| p.status == PhaseStatus::Failed) {
        let error = p.error.as_deref().unwrap_or("failed");
        let _ = writeln!(out, "phase `{}` failed: {error}", p.name);
        // The lines that look like errors first, then the tail.
        let limits = crate::excerpt::Limits { tail: TAIL_LINES, ..Default::default() };
        out.push_str(&crate::report::excerpts::from_ring(p, limits).to_text("  | "));
    }
    let _ = write!(
        out,
        "pipeline `{}` {}: {}; full logs beside {}",
        state.name,
        state.status.as_str(),
        crate::format::status_counts(state.phases.iter().map(|p| p.status)),
        timeline.display()
    );
    out
}

fn failed_names(state: &PipelineState) -> String {
    let failed: Vec<String> = state
        .phases
        .iter()
        .filter(|p| p.status == PhaseStatus::Failed)
        .map(|p| format!("`{}` ({})", p.name, p.error.as_deref().unwrap_or("failed")))
        .collect();
    if failed.is_empty() { "no phase failed".to_owned() } else { failed.join(", ") }
}

/// Prints every line of `text` as a `cargo:warning=` line (cargo shows one warning a line).
fn warn_lines(text: &str) {
    print!("{}", warning_lines(text));
}

fn warning_lines(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 16 * text.lines().count());
    for line in text.lines() {
        let _ = writeln!(out, "cargo:warning={line}");
    }
    out
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::action::{Action, Stream};
    use crate::phase::Phase;
    use crate::reducer::reduce;

    #[test]
    fn report_names_the_failed_phase_and_its_tail() {
        let pipeline = Pipeline::new("codegen")
            .phase(Phase::cmd("ok", "true"))
            .phase(Phase::cmd("bad", "false"))
            .phase(Phase::cmd("later", "true").depends_on(["bad"]))
            .build()
            .expect("valid");
        let actions = [
            Action::PhaseStart { name: "ok".into(), attempt: 1, t: 0.0 },
            Action::PhaseComplete { name: "ok".into(), result: json!({"exit_code": 0}), t: 0.1 },
            Action::PhaseStart { name: "bad".into(), attempt: 1, t: 0.1 },
            Action::PhaseLog {
                name: "bad".into(),
                line: "no such table".into(),
                stream: Stream::Stderr,
                t: 0.2,
            },
            Action::PhaseFailed {
                name: "bad".into(),
                error: "exit code 1".into(),
                exit_code: Some(1),
                t: 0.3,
            },
            Action::PipelineFailed { t: 0.3 },
        ];
        let state = actions.iter().fold(PipelineState::new(&pipeline), reduce);
        let report = failure_report(&state, Path::new("/out/milo/timeline.json"));
        assert_eq!(
            report,
            "phase `bad` failed: exit code 1\n  | no such table\n\
             pipeline `codegen` failed: 1 completed, 1 failed, 0 skipped, 0 cancelled, 1 not run; \
             full logs beside /out/milo/timeline.json"
        );
        assert_eq!(failed_names(&state), "`bad` (exit code 1)");
    }

    #[test]
    fn config_errors_become_located_warning_lines() {
        let text = "[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\nweight = -1\n";
        let e = Pipeline::from_toml_str(text).expect_err("invalid");
        let warnings = warning_lines(&e.to_string());
        assert!(warnings.lines().all(|l| l.starts_with("cargo:warning=")), "{warnings}");
        assert!(!warnings.contains('\x1b'), "no styles in cargo's output: {warnings:?}");
        for needle in [
            "cargo:warning=error: `weight` must be >= 0, found -1\n",
            "cargo:warning= --> Milo.toml:4:10\n",
            "cargo:warning=4 | weight = -1\n",
        ] {
            assert!(warnings.contains(needle), "{needle:?} in\n{warnings}");
        }
        assert_eq!(
            BuildError::from(e).to_string(),
            warnings.replace("cargo:warning=", "").trim_end()
        );
    }

    #[test]
    fn inputs_and_env_inputs_are_watched() {
        let dir = tempfile::tempdir().expect("temp dir");
        std::fs::create_dir_all(dir.path().join("schema")).expect("mkdir");
        std::fs::write(dir.path().join("gen.sh"), "").expect("write");
        std::fs::write(dir.path().join("top.proto"), "").expect("write");
        let pipeline = Pipeline::new("codegen")
            .phase(Phase::cmd("plain", "true"))
            .phase(
                Phase::cmd("gen", "./gen.sh")
                    .inputs(["schema/**/*.sql", "gen.sh", "*.proto"])
                    .env_inputs(["PROTOC"]),
            )
            .dir(dir.path())
            .build()
            .expect("valid");
        let root = dir.path().display();
        assert_eq!(
            rerun_lines(&pipeline, &dir.path().join("out/milo/timeline.json")),
            format!(
                "cargo:rerun-if-changed={root}/gen.sh\ncargo:rerun-if-changed={root}/schema\n\
                 cargo:rerun-if-changed={root}/top.proto\ncargo:rerun-if-env-changed=PROTOC\n"
            )
        );
    }

    #[test]
    fn build_error_debug_is_its_message() {
        let e = BuildError { message: "milo: pipeline `x` failed".into(), state: None };
        assert_eq!(format!("{e:?}"), "milo: pipeline `x` failed");
    }
}
