//! A named phase of a pipeline: its handler, dependencies, weight and failure policy.

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use crate::context::PhaseContext;

/// The default number of log lines kept in state per phase.
pub const DEFAULT_MAX_LOGS: usize = 200;

/// The longest delay exponential backoff waits between two attempts.
pub const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// What happens when a phase's handler fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFail {
    /// The phase fails, the pipeline fails, and no new phase starts.
    #[default]
    Stop,
    /// The phase is skipped with its error; its dependents run with a null result for it.
    Skip,
    /// The phase is tried again, up to `max_retries` more times.
    Retry,
}

/// How the delay between retries grows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Backoff {
    /// Every retry waits `retry_delay`.
    #[default]
    Fixed,
    /// Retry `n` waits `retry_delay * 2^(n-1)`, capped at [`MAX_BACKOFF`].
    Exponential,
}

/// Failure policy for a phase: stop, skip or retry, and how retries wait.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PhasePolicy {
    /// What a failure does.
    pub on_fail: OnFail,
    /// Extra attempts after the first when `on_fail` is [`OnFail::Retry`].
    pub max_retries: u32,
    /// The base delay between attempts.
    pub retry_delay: Duration,
    /// How the delay grows from one retry to the next.
    pub retry_backoff: Backoff,
}

impl Default for PhasePolicy {
    fn default() -> Self {
        Self {
            on_fail: OnFail::Stop,
            max_retries: 0,
            retry_delay: Duration::from_secs(1),
            retry_backoff: Backoff::Fixed,
        }
    }
}

impl PhasePolicy {
    /// A retry policy with `max_retries` extra attempts and a fixed delay.
    pub fn retry(max_retries: u32, retry_delay: Duration) -> Self {
        Self { on_fail: OnFail::Retry, max_retries, retry_delay, retry_backoff: Backoff::Fixed }
    }

    /// The skip policy: a failure marks the phase skipped and the pipeline goes on.
    pub fn skip() -> Self {
        Self { on_fail: OnFail::Skip, ..Self::default() }
    }

    /// How many attempts the phase gets in all.
    pub fn max_attempts(&self) -> u32 {
        match self.on_fail {
            OnFail::Retry => self.max_retries.saturating_add(1),
            OnFail::Stop | OnFail::Skip => 1,
        }
    }
}

/// The delay before the attempt that follows failed attempt `attempt` (1-based).
///
/// ```
/// use std::time::Duration;
/// use milo::{retry_delay, Backoff, PhasePolicy};
/// let mut policy = PhasePolicy::retry(5, Duration::from_secs(1));
/// policy.retry_backoff = Backoff::Exponential;
/// assert_eq!(retry_delay(&policy, 3), Duration::from_secs(4));
/// assert_eq!(retry_delay(&policy, 10), Duration::from_secs(30));
/// ```
pub fn retry_delay(policy: &PhasePolicy, attempt: u32) -> Duration {
    match policy.retry_backoff {
        Backoff::Fixed => policy.retry_delay,
        Backoff::Exponential => {
            let exp = attempt.saturating_sub(1).min(31);
            let factor = f64::from(1u32 << exp);
            let secs = policy.retry_delay.as_secs_f64() * factor;
            if secs.is_finite() && secs < MAX_BACKOFF.as_secs_f64() {
                Duration::from_secs_f64(secs)
            } else {
                MAX_BACKOFF
            }
        }
    }
}

/// The error type a closure handler returns.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// A closure handler: gets the phase context, returns the phase's result.
pub type PhaseFn =
    Arc<dyn Fn(&mut PhaseContext) -> Result<serde_json::Value, BoxError> + Send + Sync + 'static>;

/// What a phase runs.
#[derive(Clone)]
pub enum Handler {
    /// A command line run by `/bin/sh -c`.
    Shell(String),
    /// A program and its arguments, executed directly without a shell.
    Args(Vec<String>),
    /// A Rust closure (library use only).
    Func(PhaseFn),
}

impl fmt::Debug for Handler {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Shell(cmd) => f.debug_tuple("Shell").field(cmd).finish(),
            Self::Args(args) => f.debug_tuple("Args").field(args).finish(),
            Self::Func(_) => f.write_str("Func(..)"),
        }
    }
}

impl Handler {
    /// A short human description: the command line, or `<closure>`.
    pub fn describe(&self) -> String {
        match self {
            Self::Shell(cmd) => cmd.clone(),
            Self::Args(args) => args
                .iter()
                .map(|a| {
                    if a.is_empty() || a.contains(char::is_whitespace) {
                        format!("{a:?}")
                    } else {
                        a.clone()
                    }
                })
                .collect::<Vec<_>>()
                .join(" "),
            Self::Func(_) => "<closure>".to_owned(),
        }
    }
}

/// Which per-package phase and package an instance belongs to (`test:core` is phase `test`
/// for package `core`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Instance {
    /// The per-package phase's name, as declared.
    pub phase: String,
    /// The package.
    pub package: String,
}

impl Instance {
    /// The instance's name: `<phase>:<package>`.
    pub fn name(&self) -> String {
        format!("{}:{}", self.phase, self.package)
    }
}

/// A named pipeline phase: its handler (a command or a closure), dependencies, weight,
/// policy and limits.
#[derive(Debug, Clone)]
pub struct Phase {
    /// Unique name: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
    pub name: String,
    /// What the phase runs.
    pub handler: Handler,
    /// One line of description, shown by `list` and in the timeline.
    pub description: String,
    /// Names of the phases that must be completed or skipped first.
    pub depends_on: Vec<String>,
    /// Whether the phase may run beside other parallel phases.
    pub parallel: bool,
    /// Progress weight.
    pub weight: u64,
    /// Failure policy.
    pub policy: PhasePolicy,
    /// Log lines kept in state (0 keeps none; the log file keeps all).
    pub max_logs: usize,
    /// Kill the phase after this long.
    pub timeout: Option<Duration>,
    /// Working directory (commands only); `None` is the pipeline's directory.
    pub cwd: Option<PathBuf>,
    /// Extra environment for this phase, applied after the pipeline's.
    pub env: BTreeMap<String, String>,
    /// For an instance of a per-package phase, its phase and package.
    pub instance: Option<Instance>,
    /// Leave the processes this phase starts outside its process group (daemons it starts
    /// on purpose: a compiler cache server, a database for tests) running after the run.
    /// Only `cargo milo run` ends such processes (on Linux); a library run never looks.
    pub keep_daemons: bool,
    /// Globs of the files the phase reads (relative to the pipeline's folder). `Some`: the
    /// phase is skipped while they, its command, `cwd`, environment and dependencies'
    /// results are as at its last success (see [`crate::fingerprint`]); `None`: it always
    /// runs.
    pub inputs: Option<Vec<String>>,
    /// Globs of the files the phase writes: while one of them matches nothing, or a file
    /// it wrote at its last success is gone, the phase runs. Needs `inputs`.
    pub outputs: Vec<String>,
    /// Process environment variables whose values are part of the fingerprint. Needs
    /// `inputs`.
    pub env_inputs: Vec<String>,
}

impl Phase {
    fn with_handler(name: impl Into<String>, handler: Handler) -> Self {
        Self {
            name: name.into(),
            handler,
            description: String::new(),
            depends_on: Vec::new(),
            parallel: false,
            weight: 1,
            policy: PhasePolicy::default(),
            max_logs: DEFAULT_MAX_LOGS,
            timeout: None,
            cwd: None,
            env: BTreeMap::new(),
            instance: None,
            keep_daemons: false,
            inputs: None,
            outputs: Vec::new(),
            env_inputs: Vec::new(),
        }
    }

    /// A phase that runs `line` through `/bin/sh -c`.
    ///
    /// ```
    /// let fmt = milo::Phase::cmd("fmt", "cargo fmt --check").parallel(true);
    /// assert!(fmt.parallel);
    /// ```
    pub fn cmd(name: impl Into<String>, line: impl Into<String>) -> Self {
        Self::with_handler(name, Handler::Shell(line.into()))
    }

    /// A phase that executes a program directly, without a shell.
    pub fn args<I, S>(name: impl Into<String>, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self::with_handler(name, Handler::Args(args.into_iter().map(Into::into).collect()))
    }

    /// A phase that runs a Rust closure. The closure's `Ok` value is the phase's result,
    /// handed to its dependents; an `Err` (or a panic) fails the attempt.
    ///
    /// The closure runs on a thread of its own. Threads cannot be killed: on a timeout or a
    /// cancellation the phase ends at once and the closure is left to finish in the background,
    /// its later output discarded.
    pub fn func<F, E>(name: impl Into<String>, f: F) -> Self
    where
        F: Fn(&mut PhaseContext) -> Result<serde_json::Value, E> + Send + Sync + 'static,
        E: Into<BoxError>,
    {
        let f: PhaseFn = Arc::new(move |ctx: &mut PhaseContext| f(ctx).map_err(Into::into));
        Self::with_handler(name, Handler::Func(f))
    }

    /// Adds dependencies.
    #[must_use]
    pub fn depends_on<I, S>(mut self, deps: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.depends_on.extend(deps.into_iter().map(Into::into));
        self
    }

    /// Sets whether the phase may run beside other parallel phases.
    #[must_use]
    pub fn parallel(mut self, parallel: bool) -> Self {
        self.parallel = parallel;
        self
    }

    /// Sets the progress weight.
    #[must_use]
    pub fn weight(mut self, weight: u64) -> Self {
        self.weight = weight;
        self
    }

    /// Sets the description.
    #[must_use]
    pub fn description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Sets the failure policy.
    #[must_use]
    pub fn policy(mut self, policy: PhasePolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets how many log lines the state keeps.
    #[must_use]
    pub fn max_logs(mut self, max_logs: usize) -> Self {
        self.max_logs = max_logs;
        self
    }

    /// Sets a timeout.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(timeout);
        self
    }

    /// Sets the working directory.
    #[must_use]
    pub fn cwd(mut self, cwd: impl Into<PathBuf>) -> Self {
        self.cwd = Some(cwd.into());
        self
    }

    /// Adds an environment variable.
    #[must_use]
    pub fn env(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.env.insert(key.into(), value.into());
        self
    }

    /// Sets whether the processes this phase starts outside its process group keep running
    /// after the run (see [`Phase::keep_daemons`](Self#structfield.keep_daemons)).
    #[must_use]
    pub fn keep_daemons(mut self, keep: bool) -> Self {
        self.keep_daemons = keep;
        self
    }

    /// Adds input globs (relative to the pipeline's folder): the phase then runs only when
    /// they, its command, `cwd`, environment or dependencies' results changed since its last
    /// success. `inputs([] as [&str; 0])` fingerprints everything but files.
    ///
    /// ```
    /// use milo::{Phase, Pipeline};
    /// let codegen = Phase::cmd("codegen", "./gen.sh")
    ///     .inputs(["proto/**/*.proto", "gen.sh"])
    ///     .outputs(["src/generated/*.rs"])
    ///     .env_inputs(["PROTOC"]);
    /// assert!(Pipeline::new("p").phase(codegen).build().is_ok());
    /// let bad = Phase::cmd("x", "true").inputs(["src/[a.rs"]);
    /// assert!(Pipeline::new("p").phase(bad).build().is_err());
    /// ```
    #[must_use]
    pub fn inputs<I, S>(mut self, globs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.inputs.get_or_insert_with(Vec::new).extend(globs.into_iter().map(Into::into));
        self
    }

    /// Adds output globs: the phase runs while one matches nothing or a file it wrote at its
    /// last success is gone. Needs [`inputs`](Self::inputs).
    #[must_use]
    pub fn outputs<I, S>(mut self, globs: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.outputs.extend(globs.into_iter().map(Into::into));
        self
    }

    /// Adds names of process environment variables whose values the fingerprint covers
    /// (their values are stored hashed). Needs [`inputs`](Self::inputs).
    #[must_use]
    pub fn env_inputs<I, S>(mut self, names: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.env_inputs.extend(names.into_iter().map(Into::into));
        self
    }
}

/// Whether `phase` may carry `name`: a valid name, or `<phase>:<package>` for an instance.
pub fn is_valid_phase_name(name: &str, instance: Option<&Instance>) -> bool {
    match instance {
        None => is_valid_name(name),
        Some(i) => {
            is_valid_name(&i.phase)
                && !i.package.is_empty()
                && !i.package.contains(|c: char| c == ':' || c.is_whitespace())
                && name.strip_prefix(i.phase.as_str()).and_then(|r| r.strip_prefix(':'))
                    == Some(i.package.as_str())
        }
    }
}

/// Whether `name` is a valid phase name: `[A-Za-z0-9][A-Za-z0-9_.-]*`.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_delay_is_constant() {
        let p = PhasePolicy::retry(3, Duration::from_millis(250));
        assert_eq!(retry_delay(&p, 1), Duration::from_millis(250));
        assert_eq!(retry_delay(&p, 3), Duration::from_millis(250));
    }

    #[test]
    fn exponential_doubles_and_caps() {
        let mut p = PhasePolicy::retry(40, Duration::from_millis(500));
        p.retry_backoff = Backoff::Exponential;
        assert_eq!(retry_delay(&p, 1), Duration::from_millis(500));
        assert_eq!(retry_delay(&p, 2), Duration::from_secs(1));
        assert_eq!(retry_delay(&p, 4), Duration::from_secs(4));
        assert_eq!(retry_delay(&p, 7), MAX_BACKOFF);
        assert_eq!(retry_delay(&p, 40), MAX_BACKOFF);
    }

    #[test]
    fn attempts_follow_the_policy() {
        assert_eq!(PhasePolicy::default().max_attempts(), 1);
        assert_eq!(PhasePolicy::skip().max_attempts(), 1);
        assert_eq!(PhasePolicy::retry(2, Duration::ZERO).max_attempts(), 3);
    }

    #[test]
    fn names() {
        for ok in ["a", "fmt", "build-release", "v1.2_x", "9lives"] {
            assert!(is_valid_name(ok), "{ok}");
        }
        for bad in ["", "-a", "_a", "a b", "a/b", "é", ".x", "test:core"] {
            assert!(!is_valid_name(bad), "{bad}");
        }
        let core = Instance { phase: "test".into(), package: "core".into() };
        assert!(is_valid_phase_name("test:core", Some(&core)));
        assert_eq!(core.name(), "test:core");
        assert!(!is_valid_phase_name("test:app", Some(&core)));
        assert!(!is_valid_phase_name("test:core", None));
        let spaced = Instance { phase: "test".into(), package: "a b".into() };
        assert!(!is_valid_phase_name("test:a b", Some(&spaced)));
    }
}
