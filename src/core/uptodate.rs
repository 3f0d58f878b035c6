//! Whether a phase is up to date, and if not, why: the pure decision over a [`Record`] and an
//! [`Observation`], and the verdicts of a whole pipeline for `explain` and `run --dry-run`.

use std::collections::BTreeMap;
use std::fmt;

use crate::fingerprint::{Digest, Fingerprints, Observation, Record, fingerprint};
use crate::pipeline::Pipeline;

/// Why a phase runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The phase has no `inputs`: it always runs.
    NoInputs,
    /// `run --force`.
    Forced,
    /// An `inputs` glob matches no file: the phase always runs.
    UnmatchedInput(String),
    /// An input file could not be read.
    Unreadable {
        /// The file.
        path: String,
        /// The system's message.
        reason: String,
    },
    /// No success is recorded.
    NeverSucceeded,
    /// It started again after its last success and has not succeeded since.
    LastRunUnfinished,
    /// Its command changed.
    CommandChanged,
    /// Its working directory changed.
    CwdChanged,
    /// A declared or `env_inputs` variable changed (or appeared, or went away).
    EnvChanged(String),
    /// An input file's contents changed.
    InputChanged(String),
    /// A file newly matches `inputs`.
    InputAdded(String),
    /// A file no longer matches `inputs` (or is gone).
    InputRemoved(String),
    /// A dependency's result differs from the one it last ran with.
    DependencyChanged(String),
    /// It depends on a phase it did not depend on then.
    DependencyAdded(String),
    /// It no longer depends on a phase it depended on then.
    DependencyRemoved(String),
    /// A file `outputs` matched after its last success is gone.
    OutputMissing(String),
    /// An `outputs` glob matches no file.
    UnmatchedOutput(String),
    /// Every part matches but the recorded fingerprint does not (the file was edited).
    FingerprintChanged,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoInputs => f.write_str("no `inputs`, so it always runs"),
            Self::Forced => f.write_str("--force"),
            Self::UnmatchedInput(glob) => write!(f, "no file matches inputs glob `{glob}`"),
            Self::Unreadable { path, reason } => write!(f, "{path} could not be read ({reason})"),
            Self::NeverSucceeded => f.write_str("no success recorded"),
            Self::LastRunUnfinished => f.write_str("its last run was not recorded as a success"),
            Self::CommandChanged => f.write_str("command changed"),
            Self::CwdChanged => f.write_str("cwd changed"),
            Self::EnvChanged(name) => write!(f, "{name} changed"),
            Self::InputChanged(path) => write!(f, "{path} changed"),
            Self::InputAdded(path) => write!(f, "{path} added"),
            Self::InputRemoved(path) => write!(f, "{path} removed"),
            Self::DependencyChanged(name) => write!(f, "{name}'s result changed"),
            Self::DependencyAdded(name) => write!(f, "now depends on {name}"),
            Self::DependencyRemoved(name) => write!(f, "no longer depends on {name}"),
            Self::OutputMissing(path) => write!(f, "output {path} missing"),
            Self::UnmatchedOutput(glob) => write!(f, "no file matches outputs glob `{glob}`"),
            Self::FingerprintChanged => f.write_str("its recorded fingerprint differs"),
        }
    }
}

/// A dependency's result as a check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Dependency {
    /// Known: the digest of its result (`None`: it was skipped).
    Result(Option<Digest>),
    /// It runs first, so its result is not known yet (`explain`, `--dry-run`).
    WouldRun,
}

/// Whether a phase runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Nothing changed since its last success: it does not run.
    UpToDate,
    /// Up to date, unless the results of these phases, which run first, change.
    Unless(Vec<String>),
    /// It runs, for these reasons (never empty; the first is the one to tell).
    Run(Vec<Reason>),
}

impl Verdict {
    /// Whether the phase runs for sure.
    pub fn runs(&self) -> bool {
        matches!(self, Self::Run(_))
    }
}

impl fmt::Display for Verdict {
    /// `up to date`, `up to date unless build's result changes`, or `would run: src/a.proto
    /// changed (+2 more)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::UpToDate => f.write_str("up to date"),
            Self::Unless(names) => {
                let quoted: Vec<String> = names.iter().map(|n| format!("{n}'s")).collect();
                let (verb, who) =
                    if names.len() == 1 { ("changes", "it") } else { ("change", "they") };
                write!(
                    f,
                    "up to date unless {} result {verb} ({who} will run)",
                    quoted.join(" or ")
                )
            }
            Self::Run(reasons) => {
                let first = reasons.first().map(ToString::to_string).unwrap_or_default();
                write!(f, "would run: {first}")?;
                if reasons.len() > 1 {
                    write!(f, " (+{} more)", reasons.len() - 1)?;
                }
                Ok(())
            }
        }
    }
}

/// Decides whether a phase with `inputs` is up to date: `record` is its last success (if
/// any), `observation` what it is now, `dependencies` its dependencies' results by name.
/// Reasons come in a fixed order: what makes it always run, then the record's parts
/// (command, cwd, environment, dependencies — a cause upstream comes before its effects —
/// input files by path, outputs).
pub fn decide(
    record: Option<&Record>,
    observation: &Observation,
    dependencies: &BTreeMap<String, Dependency>,
) -> Verdict {
    let mut reasons: Vec<Reason> =
        observation.unmatched.iter().cloned().map(Reason::UnmatchedInput).collect();
    reasons.extend(
        observation
            .unreadable
            .iter()
            .map(|u| Reason::Unreadable { path: u.path.clone(), reason: u.reason.clone() }),
    );
    let Some(record) = record else {
        reasons.push(Reason::NeverSucceeded);
        return Verdict::Run(reasons);
    };
    if record.rerun {
        reasons.push(Reason::LastRunUnfinished);
    }
    if record.command != observation.command {
        reasons.push(Reason::CommandChanged);
    }
    if record.cwd != observation.cwd {
        reasons.push(Reason::CwdChanged);
    }
    diff(&record.env, &observation.env, &mut reasons, |name, _| Reason::EnvChanged(name.into()));
    let mut pending = Vec::new();
    let mut known = BTreeMap::new();
    for (name, dependency) in dependencies {
        match dependency {
            Dependency::WouldRun => pending.push(name.clone()),
            Dependency::Result(digest) => {
                known.insert(name.clone(), *digest);
            }
        }
    }
    for (name, dependency) in dependencies {
        match (record.dependencies.get(name), dependency) {
            (None, _) => reasons.push(Reason::DependencyAdded(name.clone())),
            (Some(before), Dependency::Result(now)) if before != now => {
                reasons.push(Reason::DependencyChanged(name.clone()));
            }
            _ => {}
        }
    }
    for name in record.dependencies.keys().filter(|n| !dependencies.contains_key(*n)) {
        reasons.push(Reason::DependencyRemoved(name.clone()));
    }
    diff(&record.inputs, &observation.inputs, &mut reasons, |path, change| match change {
        Change::Changed => Reason::InputChanged(path.into()),
        Change::Added => Reason::InputAdded(path.into()),
        Change::Removed => Reason::InputRemoved(path.into()),
    });
    let before = reasons.len();
    for path in record.outputs.iter().filter(|p| !observation.outputs.contains(*p)) {
        reasons.push(Reason::OutputMissing(path.clone()));
    }
    // A glob left empty by a missing file says nothing more.
    if reasons.len() == before {
        reasons.extend(observation.unmatched_outputs.iter().cloned().map(Reason::UnmatchedOutput));
    }
    if reasons.is_empty()
        && pending.is_empty()
        && fingerprint(observation, &known) != record.fingerprint
    {
        reasons.push(Reason::FingerprintChanged);
    }
    match (reasons.is_empty(), pending.is_empty()) {
        (false, _) => Verdict::Run(reasons),
        (true, true) => Verdict::UpToDate,
        (true, false) => Verdict::Unless(pending),
    }
}

enum Change {
    Changed,
    Added,
    Removed,
}

/// The keys whose values differ between `before` and `now`, in key order.
fn diff<V: PartialEq>(
    before: &BTreeMap<String, V>,
    now: &BTreeMap<String, V>,
    reasons: &mut Vec<Reason>,
    reason: impl Fn(&str, Change) -> Reason,
) {
    let mut keys: Vec<&String> = before.keys().chain(now.keys()).collect();
    keys.sort();
    keys.dedup();
    for key in keys {
        match (before.get(key), now.get(key)) {
            (Some(a), Some(b)) if a != b => reasons.push(reason(key, Change::Changed)),
            (Some(_), None) => reasons.push(reason(key, Change::Removed)),
            (None, Some(_)) => reasons.push(reason(key, Change::Added)),
            _ => {}
        }
    }
}

/// The verdict of every phase of `pipeline` (by index), as a run would decide them:
/// `observations[i]` is phase `i` now (`None`: it has no `inputs`), `records` the last
/// successes, `root` the pipeline's folder ([`Digest::of_result`]). A dependency that runs
/// makes its dependents wait on its result ([`Verdict::Unless`]); one that is up to date
/// hands on its recorded result.
pub fn verdicts(
    pipeline: &Pipeline,
    records: &Fingerprints,
    observations: &[Option<Observation>],
    force: bool,
    root: &str,
) -> Vec<Verdict> {
    let phases = pipeline.phases();
    let mut verdicts: Vec<Option<Verdict>> = vec![None; phases.len()];
    for i in pipeline.graph().execution_order() {
        let verdict = match observations.get(i).and_then(Option::as_ref) {
            _ if force => Verdict::Run(vec![Reason::Forced]),
            None => Verdict::Run(vec![Reason::NoInputs]),
            Some(observation) => {
                let mut inherited: Vec<String> = Vec::new();
                let deps: BTreeMap<String, Dependency> = pipeline
                    .graph()
                    .deps(i)
                    .iter()
                    .map(|&d| {
                        let name = phases[d].name.clone();
                        let recorded =
                            records.phases.get(&name).map(|r| Digest::of_result(&r.result, root));
                        let dependency = match (&verdicts[d], recorded) {
                            (Some(Verdict::Unless(names)), Some(digest)) => {
                                inherited.extend(names.iter().cloned());
                                Dependency::Result(Some(digest))
                            }
                            (Some(Verdict::UpToDate), Some(digest)) => {
                                Dependency::Result(Some(digest))
                            }
                            _ => Dependency::WouldRun,
                        };
                        (name, dependency)
                    })
                    .collect();
                let record = records.phases.get(&phases[i].name);
                match decide(record, observation, &deps) {
                    Verdict::UpToDate if !inherited.is_empty() => {
                        Verdict::Unless(sorted(inherited))
                    }
                    Verdict::Unless(mut names) => {
                        names.extend(inherited);
                        Verdict::Unless(sorted(names))
                    }
                    other => other,
                }
            }
        };
        verdicts[i] = Some(verdict);
    }
    verdicts.into_iter().map(|v| v.unwrap_or(Verdict::Run(vec![Reason::NoInputs]))).collect()
}

/// `explain`'s text: one line per phase of `shown` (indexes into `pipeline`, in execution
/// order), its name and verdict; with `verbose`, every reason under a phase that runs.
///
/// ```text
/// codegen  would run: proto/a.proto changed (+1 more)
///            proto/a.proto changed
///            PROTOC changed
/// build    up to date
/// ```
pub fn explain(
    pipeline: &Pipeline,
    verdicts: &[Verdict],
    shown: &[usize],
    verbose: bool,
) -> String {
    use std::fmt::Write as _;
    let phases = pipeline.phases();
    let width = shown.iter().map(|&i| phases[i].name.chars().count()).max().unwrap_or(0);
    let mut out = String::new();
    for &i in shown {
        let Some(verdict) = verdicts.get(i) else { continue };
        let _ = writeln!(out, "{:<width$}  {verdict}", phases[i].name);
        if let (true, Verdict::Run(reasons)) = (verbose, verdict)
            && reasons.len() > 1
        {
            for reason in reasons {
                let _ = writeln!(out, "{:<width$}    {reason}", "");
            }
        }
    }
    out
}

fn sorted(mut names: Vec<String>) -> Vec<String> {
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
#[path = "uptodate_tests.rs"]
mod tests;
