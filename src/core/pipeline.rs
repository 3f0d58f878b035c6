//! The pipeline: a validated list of phases with its graph and run settings.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

mod select;

use crate::affected::Affected;
use crate::ci::OutputMode;
use crate::export::ExportSettings;

use crate::graph::{Graph, GraphError};
use crate::phase::{Handler, Phase, is_valid_phase_name};

/// Why a pipeline could not be built.
#[derive(Debug, Clone, PartialEq)]
pub enum PipelineError {
    /// A phase name is not `[A-Za-z0-9][A-Za-z0-9_.-]*`.
    InvalidName(String),
    /// A command phase has an empty command.
    EmptyCommand(String),
    /// The graph is malformed: duplicates, unknown dependencies or cycles.
    Graph(Vec<GraphError>),
    /// An `inputs` or `outputs` entry is not a glob.
    InvalidGlob {
        /// The phase.
        phase: String,
        /// The entry.
        glob: String,
        /// Why it is not a glob.
        reason: String,
    },
    /// An `env_inputs` entry is not an environment variable name.
    InvalidEnvInput {
        /// The phase.
        phase: String,
        /// The entry.
        name: String,
    },
    /// A phase has `outputs` or `env_inputs` but no `inputs`: they would never matter.
    NeedsInputs {
        /// The phase.
        phase: String,
        /// `outputs` or `env_inputs`.
        key: &'static str,
    },
}

impl fmt::Display for PipelineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidName(name) => write!(
                f,
                "invalid phase name `{name}`: use letters, digits, `_`, `.` and `-`, starting with a letter or digit"
            ),
            Self::EmptyCommand(name) => write!(f, "phase `{name}` has an empty command"),
            Self::InvalidGlob { phase, glob, reason } => {
                write!(f, "phase `{phase}`: invalid glob `{glob}`: {reason}")
            }
            Self::InvalidEnvInput { phase, name } => write!(
                f,
                "phase `{phase}`: `env_inputs` entry `{name}` is not an environment variable name"
            ),
            Self::NeedsInputs { phase, key } => write!(
                f,
                "phase `{phase}` has `{key}` but no `inputs`: add `inputs` (the files it reads, or `[]`)"
            ),
            Self::Graph(errors) => {
                for (i, e) in errors.iter().enumerate() {
                    if i > 0 {
                        f.write_str("\n")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for PipelineError {}

impl PipelineError {
    /// The cycle, when that is what is wrong.
    pub fn cycle(&self) -> Option<&crate::graph::CycleError> {
        match self {
            Self::Graph(errors) => errors.iter().find_map(|e| match e {
                GraphError::Cycle { cycle, .. } => Some(cycle),
                _ => None,
            }),
            _ => None,
        }
    }
}

/// A validated pipeline: phases with unique names, known dependencies and no cycle.
#[derive(Debug, Clone)]
pub struct Pipeline {
    name: String,
    phases: Vec<Phase>,
    graph: Graph,
    settings: PipelineSettings,
    affected: Option<Arc<Affected>>,
}

/// Pipeline-wide settings, from `[pipeline]` in Milo.toml or the builder.
#[derive(Debug, Clone, PartialEq)]
pub struct PipelineSettings {
    /// Cancel running phases when one fails with `on_fail = "stop"`.
    pub fail_fast: bool,
    /// Capture handler output into the store.
    pub capture_output: bool,
    /// How phase output is shown without bars (`output`); `None`: by where it goes
    /// (grouped in CI, prefixed elsewhere).
    pub output: Option<OutputMode>,
    /// Most phases at once; 0 = available parallelism.
    pub jobs: usize,
    /// Added to every phase's environment.
    pub env: BTreeMap<String, String>,
    /// The folder relative `cwd`s resolve against (Milo.toml's folder); `None` = current dir.
    pub dir: Option<PathBuf>,
    /// Globs (relative to `dir`) of files whose change affects every package under
    /// `run --affected`.
    pub affected_global: Vec<String>,
    /// How `cargo milo export` writes CI jobs (`[pipeline.export]`).
    pub export: ExportSettings,
}

impl Default for PipelineSettings {
    fn default() -> Self {
        Self {
            fail_fast: false,
            capture_output: true,
            output: None,
            jobs: 0,
            env: BTreeMap::new(),
            dir: None,
            affected_global: Vec::new(),
            export: ExportSettings::default(),
        }
    }
}

impl Pipeline {
    /// Starts building a pipeline called `name`.
    ///
    /// ```
    /// use milo::{Phase, Pipeline};
    /// let pipeline = Pipeline::new("build")
    ///     .phase(Phase::cmd("discover", "true"))
    ///     .phase(Phase::cmd("parse", "true").depends_on(["discover"]))
    ///     .phase(Phase::cmd("render", "true").depends_on(["parse"]).parallel(true))
    ///     .phase(Phase::cmd("assets", "true").depends_on(["parse"]).parallel(true))
    ///     .phase(Phase::cmd("write", "true").depends_on(["render", "assets"]))
    ///     .build()?;
    /// assert_eq!(pipeline.execution_order(), ["discover", "parse", "assets", "render", "write"]);
    /// # Ok::<(), milo::PipelineError>(())
    /// ```
    #[allow(clippy::new_ret_no_self)]
    pub fn new(name: impl Into<String>) -> PipelineBuilder {
        PipelineBuilder {
            name: name.into(),
            phases: Vec::new(),
            settings: PipelineSettings::default(),
        }
    }

    /// Validates `phases` into a pipeline.
    pub fn from_parts(
        name: impl Into<String>,
        phases: Vec<Phase>,
        settings: PipelineSettings,
    ) -> Result<Self, PipelineError> {
        Self::from_parts_or_back(name.into(), phases, settings).map_err(|(e, _)| e)
    }

    /// Like [`from_parts`](Self::from_parts), handing the phases back with the error (to
    /// locate it without building the graph twice).
    pub(crate) fn from_parts_or_back(
        name: String,
        phases: Vec<Phase>,
        settings: PipelineSettings,
    ) -> Result<Self, (PipelineError, Vec<Phase>)> {
        for phase in &phases {
            if !is_valid_phase_name(&phase.name, phase.instance.as_ref()) {
                return Err((PipelineError::InvalidName(phase.name.clone()), phases));
            }
            let empty = match &phase.handler {
                Handler::Shell(cmd) => cmd.trim().is_empty(),
                Handler::Args(args) => args.first().is_none_or(String::is_empty),
                Handler::Func(_) => false,
            };
            if empty {
                return Err((PipelineError::EmptyCommand(phase.name.clone()), phases));
            }
            if let Err(e) = check_freshness(phase) {
                return Err((e, phases));
            }
        }
        match Graph::new(&phases) {
            Ok(graph) => Ok(Self { name, phases, graph, settings, affected: None }),
            Err(errors) => Err((PipelineError::Graph(errors), phases)),
        }
    }

    /// The pipeline's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The phases in declaration order.
    pub fn phases(&self) -> &[Phase] {
        &self.phases
    }

    /// The phase called `name`.
    pub fn get(&self, name: &str) -> Option<&Phase> {
        self.phases.iter().find(|p| p.name == name)
    }

    /// The dependency graph (indexes follow [`phases`](Self::phases)).
    pub fn graph(&self) -> &Graph {
        &self.graph
    }

    /// Pipeline-wide settings.
    pub fn settings(&self) -> &PipelineSettings {
        &self.settings
    }

    /// Mutable pipeline-wide settings (command-line overrides).
    pub fn settings_mut(&mut self) -> &mut PipelineSettings {
        &mut self.settings
    }

    /// The deterministic topological order: level by level, each sorted by name.
    pub fn execution_order(&self) -> Vec<&str> {
        self.graph.execution_order().into_iter().map(|i| self.phases[i].name.as_str()).collect()
    }
}

/// Checks a phase's `inputs`, `outputs` and `env_inputs`.
fn check_freshness(phase: &Phase) -> Result<(), PipelineError> {
    let globs = phase.inputs.iter().flatten().chain(&phase.outputs);
    for glob in globs {
        if let Err(reason) = crate::glob::parse(glob) {
            let (phase, glob) = (phase.name.clone(), glob.clone());
            return Err(PipelineError::InvalidGlob { phase, glob, reason });
        }
    }
    if let Some(name) = phase.env_inputs.iter().find(|n| !is_env_name(n)) {
        return Err(PipelineError::InvalidEnvInput {
            phase: phase.name.clone(),
            name: name.clone(),
        });
    }
    if phase.inputs.is_none() {
        let key = if !phase.outputs.is_empty() {
            "outputs"
        } else if !phase.env_inputs.is_empty() {
            "env_inputs"
        } else {
            return Ok(());
        };
        return Err(PipelineError::NeedsInputs { phase: phase.name.clone(), key });
    }
    Ok(())
}

/// Whether `name` can name an environment variable: not empty, no `=` and no NUL.
pub fn is_env_name(name: &str) -> bool {
    !name.is_empty() && !name.contains(['=', '\0'])
}

/// Builds a [`Pipeline`]; [`build`](Self::build) validates.
#[derive(Debug, Clone)]
#[must_use]
pub struct PipelineBuilder {
    name: String,
    phases: Vec<Phase>,
    settings: PipelineSettings,
}

impl PipelineBuilder {
    /// Adds a phase.
    pub fn phase(mut self, phase: Phase) -> Self {
        self.phases.push(phase);
        self
    }

    /// Cancel running phases when one fails with `on_fail = "stop"`.
    pub fn fail_fast(mut self, fail_fast: bool) -> Self {
        self.settings.fail_fast = fail_fast;
        self
    }

    /// Capture handler output into the store (default on).
    pub fn capture_output(mut self, capture: bool) -> Self {
        self.settings.capture_output = capture;
        self
    }

    /// Most phases at once; 0 = available parallelism.
    pub fn jobs(mut self, jobs: usize) -> Self {
        self.settings.jobs = jobs;
        self
    }

    /// Adds an environment variable for every phase.
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.settings.env.insert(key.into(), value.into());
        self
    }

    /// The folder relative `cwd`s resolve against.
    pub fn dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.settings.dir = Some(dir.into());
        self
    }

    /// Validates the phases: names, commands, dependencies, cycles.
    pub fn build(self) -> Result<Pipeline, PipelineError> {
        Pipeline::from_parts(self.name, self.phases, self.settings)
    }
}

impl Pipeline {
    /// A new pipeline with `phase` appended, validated; `self` is left untouched.
    pub fn extend(&self, phase: Phase) -> Result<Self, PipelineError> {
        let mut phases = self.phases.clone();
        phases.push(phase);
        Self::from_parts(self.name.clone(), phases, self.settings.clone())
    }
}

/// `&pipeline >> phase`: a new pipeline with `phase` appended.
/// The original is left untouched; the result is validated like any construction.
///
/// ```
/// use milo::{Phase, Pipeline};
/// let base = Pipeline::new("build").phase(Phase::cmd("compile", "true")).build()?;
/// let extended = (&base >> Phase::cmd("health", "true").depends_on(["compile"]))?;
/// assert_eq!(base.phases().len(), 1);
/// assert_eq!(extended.execution_order(), ["compile", "health"]);
/// // Chains, and a bad phase is an error, not a panic:
/// let chained = &base >> Phase::cmd("a", "true") >> Phase::cmd("b", "true").depends_on(["nope"]);
/// assert!(chained.is_err());
/// # Ok::<(), milo::PipelineError>(())
/// ```
impl std::ops::Shr<Phase> for &Pipeline {
    type Output = Result<Pipeline, PipelineError>;

    fn shr(self, phase: Phase) -> Self::Output {
        self.extend(phase)
    }
}

/// `pipeline >> phase`, consuming the pipeline.
impl std::ops::Shr<Phase> for Pipeline {
    type Output = Result<Pipeline, PipelineError>;

    fn shr(self, phase: Phase) -> Self::Output {
        self.extend(phase)
    }
}

/// `(pipeline >> a) >> b`: chaining keeps the first error.
impl std::ops::Shr<Phase> for Result<Pipeline, PipelineError> {
    type Output = Result<Pipeline, PipelineError>;

    fn shr(self, phase: Phase) -> Self::Output {
        self?.extend(phase)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Pipeline {
        Pipeline::new("p").phase(Phase::cmd("a", "true")).build().expect("valid")
    }

    #[test]
    fn shr_leaves_the_original_unchanged() {
        let original = base();
        let extended = (&original >> Phase::cmd("b", "true").depends_on(["a"])).expect("valid");
        assert_eq!(original.execution_order(), ["a"]);
        assert_eq!(extended.execution_order(), ["a", "b"]);
    }

    #[test]
    fn shr_validates() {
        let err = (base() >> Phase::cmd("b", "true").depends_on(["b"])).expect_err("self loop");
        assert_eq!(
            err.cycle().map(ToString::to_string).as_deref(),
            Some("circular dependency: b → b")
        );
        let err = (base() >> Phase::cmd("a", "true")).expect_err("duplicate");
        assert!(err.to_string().contains("duplicate phase name `a`"), "{err}");
    }

    #[test]
    fn construction_rejects_bad_names_and_empty_commands() {
        let err = Pipeline::new("p").phase(Phase::cmd("-x", "true")).build().expect_err("bad name");
        assert!(matches!(err, PipelineError::InvalidName(n) if n == "-x"));
        let err = Pipeline::new("p").phase(Phase::cmd("x", "  ")).build().expect_err("empty");
        assert!(matches!(err, PipelineError::EmptyCommand(n) if n == "x"));
        let err = Pipeline::new("p").phase(Phase::args("x", Vec::<String>::new())).build();
        assert!(err.is_err());
    }
}
