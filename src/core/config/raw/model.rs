//! The raw form's types: Milo.toml as written, every value with its span.

use std::ops::Range;

/// A value and the bytes of Milo.toml it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// Its span in the source.
    pub span: Range<usize>,
}

/// A duration as written: a humantime string or a number of seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum RawDuration {
    /// `"10m"`.
    Text(String),
    /// `1.5`.
    Seconds(f64),
}

/// A phase's `packages` as written.
#[derive(Debug, Clone, PartialEq)]
pub enum RawPackages {
    /// `"workspace"`, `"default"` (or anything else, rejected by validation).
    Word(String),
    /// A list of package names.
    List(Vec<At<String>>),
}

/// `[pipeline]`.
#[derive(Debug, Clone, Default)]
pub struct RawPipeline {
    /// `name`.
    pub name: Option<At<String>>,
    /// `fail_fast`.
    pub fail_fast: Option<At<bool>>,
    /// `capture_output`.
    pub capture_output: Option<At<bool>>,
    /// `output`: how phase output is shown without bars.
    pub output: Option<At<String>>,
    /// `jobs`.
    pub jobs: Option<At<i64>>,
    /// `timeline`.
    pub timeline: Option<At<String>>,
    /// `env`, in key order.
    pub env: Vec<(At<String>, At<String>)>,
    /// `affected_global`: globs of files whose change affects every package.
    pub affected_global: Vec<At<String>>,
    /// `[pipeline.export]`: how `cargo milo export` writes CI jobs.
    pub export: Option<RawExport>,
    /// `[[pipeline.phase]]`, in declaration order.
    pub phases: Vec<RawPhase>,
    /// The length of the file, where a "missing" problem points.
    pub end: usize,
}

/// `[pipeline.export]`.
#[derive(Debug, Clone, Default)]
pub struct RawExport {
    /// `install`: the command that installs cargo-milo in a job.
    pub install: Option<At<String>>,
    /// `setup`: commands a phase's job runs before the phase.
    pub setup: Vec<At<String>>,
    /// `runs_on`: the GitHub Actions runner label.
    pub runs_on: Option<At<String>>,
    /// `image`: the GitLab CI image (`""`: none, the runner's default).
    pub image: Option<At<String>>,
    /// `tags`: GitLab CI runner tags.
    pub tags: Vec<At<String>>,
}

/// One `[[pipeline.phase]]`.
#[derive(Debug, Clone, Default)]
pub struct RawPhase {
    /// The span of the whole phase table.
    pub span: Range<usize>,
    /// `name`.
    pub name: Option<At<String>>,
    /// `description`.
    pub description: Option<At<String>>,
    /// `cmd`.
    pub cmd: Option<At<String>>,
    /// `args`; the outer span covers the array.
    pub args: Option<At<Vec<At<String>>>>,
    /// `depends_on`.
    pub depends_on: Vec<At<String>>,
    /// `parallel`.
    pub parallel: Option<At<bool>>,
    /// `weight`.
    pub weight: Option<At<i64>>,
    /// `max_logs`.
    pub max_logs: Option<At<i64>>,
    /// `timeout`.
    pub timeout: Option<At<RawDuration>>,
    /// `cwd`.
    pub cwd: Option<At<String>>,
    /// `env`.
    pub env: Vec<(At<String>, At<String>)>,
    /// `keep_daemons`.
    pub keep_daemons: Option<At<bool>>,
    /// `policy`.
    pub policy: RawPolicy,
    /// `packages`: one instance per package.
    pub packages: Option<At<RawPackages>>,
    /// `inputs`: globs of the files the phase reads; the outer span covers the array.
    pub inputs: Option<At<Vec<At<String>>>>,
    /// `outputs`: globs of the files the phase writes.
    pub outputs: Option<At<Vec<At<String>>>>,
    /// `env_inputs`: process environment variables the phase depends on.
    pub env_inputs: Option<At<Vec<At<String>>>>,
}

/// A phase's `policy` table.
#[derive(Debug, Clone, Default)]
pub struct RawPolicy {
    /// `on_fail`.
    pub on_fail: Option<At<String>>,
    /// `max_retries`.
    pub max_retries: Option<At<i64>>,
    /// `retry_delay`.
    pub retry_delay: Option<At<RawDuration>>,
    /// `retry_backoff`.
    pub retry_backoff: Option<At<String>>,
}

impl RawPipeline {
    /// Whether a phase has `packages`: validating the file then needs the workspace.
    pub fn uses_packages(&self) -> bool {
        self.phases.iter().any(|p| p.packages.is_some())
    }
}
