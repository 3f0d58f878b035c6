//! `cargo milo export github|gitlab`: the pipeline as CI jobs, one per phase (per-package
//! instances included), with `needs:` from the graph.
//!
//! Each job runs `cargo milo run --only PHASE --results-from target/milo/jobs` after
//! fetching the partial timelines of the jobs it needs into `target/milo/jobs/<job>/`, and
//! keeps its own `target/milo/jobs/<job>/` as an artifact, also when it fails. A last job
//! (always run) merges them all with `cargo milo timeline merge` and writes the reports.
//!
//! The YAML is built as data (`serde_norway` values) rather than from a text template:
//! commands and names come from Milo.toml, and a serializer quotes them right where a
//! template would need an escaping rule for every YAML context.

#[cfg(feature = "export")]
mod github;
#[cfg(feature = "export")]
mod gitlab;
#[cfg(feature = "export")]
mod yaml;

use std::fmt;
use std::path::{Path, PathBuf};

use crate::paths::normalize;
use crate::phase::{Handler, Phase};
use crate::pipeline::Pipeline;

/// The folder (relative to the repository root) each job's partial timeline goes to, in a
/// subfolder named after the job.
pub const JOBS_DIR: &str = "target/milo/jobs";
/// The folder the merge job writes the merged timeline and the reports to.
pub const OUT_DIR: &str = "target/milo";
/// The name of the job that merges the partial timelines and writes the reports.
pub const REPORT_JOB: &str = "milo-report";

/// `[pipeline.export]`: how the jobs get cargo-milo and what runs them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportSettings {
    /// The command that installs cargo-milo in a job.
    pub install: String,
    /// Commands a phase's job runs before the phase (a toolchain, a cache).
    pub setup: Vec<String>,
    /// The GitHub Actions runner label.
    pub runs_on: String,
    /// The GitLab CI image (`None`: the runner's default).
    pub image: Option<String>,
    /// GitLab CI runner tags.
    pub tags: Vec<String>,
}

impl Default for ExportSettings {
    fn default() -> Self {
        Self {
            install: "cargo install cargo-milo --locked".to_owned(),
            setup: Vec::new(),
            runs_on: "ubuntu-latest".to_owned(),
            image: Some("rust:latest".to_owned()),
            tags: Vec::new(),
        }
    }
}

/// The CI system to write for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ci {
    /// A GitHub Actions workflow.
    Github,
    /// A GitLab CI `.gitlab-ci.yml`.
    Gitlab,
}

/// What the export needs to know about where the pipeline lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExportContext {
    /// The repository's root (absolute): jobs run there, and every phase's `cwd` must be
    /// inside it.
    pub root: PathBuf,
    /// The `-f` argument jobs pass to find Milo.toml from the root (`None`: the search from
    /// the root finds it).
    pub config: Option<String>,
    /// The command that regenerates the file, named in its header.
    pub command: String,
}

/// Why a pipeline cannot be exported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExportError {
    /// The phase runs a closure, which only exists inside the program that built it.
    Closure {
        /// The phase.
        phase: String,
    },
    /// The phase's `cwd` is outside the repository, which a CI job does not have.
    CwdOutside {
        /// The phase.
        phase: String,
        /// Its working directory.
        cwd: PathBuf,
    },
    /// Two phases (or a phase and the merge job) get the same job name.
    Collision {
        /// The first phase.
        first: String,
        /// The second phase; `None` for the merge job.
        second: Option<String>,
        /// The name both get.
        job: String,
    },
    /// The YAML could not be written.
    Yaml(String),
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Closure { phase } => write!(
                f,
                "phase `{phase}` runs a closure, which a CI job cannot run: only commands export"
            ),
            Self::CwdOutside { phase, cwd } => write!(
                f,
                "phase `{phase}` runs in `{}`, outside the repository a CI job checks out",
                cwd.display()
            ),
            Self::Collision { first, second: Some(second), job } => {
                write!(f, "phases `{first}` and `{second}` would both be the CI job `{job}`")
            }
            Self::Collision { first, second: None, job } => write!(
                f,
                "phase `{first}` would be the CI job `{job}`, the name of the job that merges the timelines"
            ),
            Self::Yaml(e) => write!(f, "could not write the YAML: {e}"),
        }
    }
}

impl std::error::Error for ExportError {}

/// One CI job: a phase, its names and the jobs it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// The phase's name.
    pub phase: String,
    /// The job's key in the YAML (its id, which `needs:` names).
    pub key: String,
    /// The folder (and artifact) name of its partial timeline: `[A-Za-z0-9_-]` only.
    pub folder: String,
    /// The positions of the jobs it needs.
    pub needs: Vec<usize>,
}

/// The pipeline as the CI file of `ci`.
#[cfg(feature = "export")]
pub fn export(pipeline: &Pipeline, ci: Ci, context: &ExportContext) -> Result<String, ExportError> {
    let jobs = jobs(pipeline, ci, context)?;
    let text = match ci {
        Ci::Github => github::workflow(pipeline, &jobs, context),
        Ci::Gitlab => gitlab::pipeline(pipeline, &jobs, context),
    };
    text.map_err(|e| ExportError::Yaml(e.to_string()))
}

/// The jobs of `pipeline`, in declaration order: every phase must be a command that runs
/// inside the repository, and job names must not collide.
pub fn jobs(pipeline: &Pipeline, ci: Ci, context: &ExportContext) -> Result<Vec<Job>, ExportError> {
    for phase in pipeline.phases() {
        check(phase, pipeline, &context.root)?;
    }
    let mut jobs: Vec<Job> = Vec::with_capacity(pipeline.phases().len());
    for (i, phase) in pipeline.phases().iter().enumerate() {
        let folder = slug(&phase.name);
        let key = match ci {
            Ci::Github => folder.clone(),
            Ci::Gitlab => gitlab_name(&phase.name),
        };
        if key == REPORT_JOB {
            return Err(ExportError::Collision {
                first: phase.name.clone(),
                second: None,
                job: key,
            });
        }
        if let Some(other) = jobs.iter().find(|j| j.key == key || j.folder == folder) {
            let job = if other.key == key { key } else { folder };
            return Err(ExportError::Collision {
                first: other.phase.clone(),
                second: Some(phase.name.clone()),
                job,
            });
        }
        let needs = pipeline.graph().deps(i).to_vec();
        jobs.push(Job { phase: phase.name.clone(), key, folder, needs });
    }
    Ok(jobs)
}

/// A phase a CI job can run: a command whose working directory is inside `root`.
fn check(phase: &Phase, pipeline: &Pipeline, root: &Path) -> Result<(), ExportError> {
    if matches!(phase.handler, Handler::Func(_)) {
        return Err(ExportError::Closure { phase: phase.name.clone() });
    }
    if let Some(cwd) = &phase.cwd {
        let base = pipeline.settings().dir.as_deref().unwrap_or(root);
        let resolved = normalize(&base.join(cwd));
        if !resolved.starts_with(normalize(root)) {
            // As written in Milo.toml: relative to its folder.
            let cwd = cwd.strip_prefix(base).unwrap_or(cwd).to_path_buf();
            return Err(ExportError::CwdOutside { phase: phase.name.clone(), cwd });
        }
    }
    Ok(())
}

/// A GitHub Actions job id (`[A-Za-z_][A-Za-z0-9_-]*`), also a safe folder and artifact
/// name: every other character becomes `-` (`test:core` → `test-core`), a leading digit
/// gets a `_`.
pub fn slug(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '-' })
        .collect();
    if !out.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        out.insert(0, '_');
    }
    out
}

/// Top-level keys of `.gitlab-ci.yml` that are not jobs, and job names GitLab reserves.
const GITLAB_RESERVED: &[&str] = &[
    "default",
    "include",
    "stages",
    "variables",
    "workflow",
    "image",
    "services",
    "cache",
    "before_script",
    "after_script",
    "types",
    "pages",
    "spec",
    "true",
    "false",
    "nil",
];

/// A GitLab CI job name: the phase's name, unless GitLab reserves it (`variables` →
/// `variables-phase`).
pub fn gitlab_name(name: &str) -> String {
    if GITLAB_RESERVED.contains(&name) { format!("{name}-phase") } else { name.to_owned() }
}

/// `word` as one POSIX shell word: as is when it is plain, else single-quoted.
pub fn sh_quote(word: &str) -> String {
    let plain = !word.is_empty()
        && word.chars().all(|c| c.is_ascii_alphanumeric() || "_-./:=@%+,".contains(c));
    if plain { word.to_owned() } else { format!("'{}'", word.replace('\'', r"'\''")) }
}

/// The command a job runs for its phase.
pub fn run_command(job: &Job, context: &ExportContext) -> String {
    format!(
        "{} run --only {} --results-from {JOBS_DIR} --timeline {JOBS_DIR}/{}/timeline.json",
        milo(context),
        sh_quote(&job.phase),
        job.folder
    )
}

/// `cargo milo`, with `-f` when Milo.toml is not found from the root.
fn milo(context: &ExportContext) -> String {
    match &context.config {
        Some(config) => format!("cargo milo -f {}", sh_quote(config)),
        None => "cargo milo".to_owned(),
    }
}

/// The merge job's commands: merge, then the `JUnit` and HTML reports beside the timeline.
pub fn merge_commands() -> Vec<String> {
    let timeline = format!("{OUT_DIR}/timeline.json");
    vec![
        format!("cargo milo timeline merge {JOBS_DIR} -o {timeline}"),
        format!("cargo milo report {timeline} --format junit -o {OUT_DIR}/junit.xml"),
        format!("cargo milo report {timeline} --format html -o {OUT_DIR}/report.html"),
    ]
}

/// The comment at the top of the file.
#[cfg(feature = "export")]
fn header(pipeline: &Pipeline, context: &ExportContext) -> String {
    format!(
        "# Pipeline `{}` of Milo.toml as CI jobs, one per phase: each runs\n\
         # `cargo milo run --only PHASE` with the results of the jobs it needs, and a last\n\
         # job merges their timelines and writes the reports. Written by\n\
         # `{}`: run it again when Milo.toml changes.\n",
        pipeline.name(),
        context.command,
    )
}

#[cfg(test)]
mod tests;
