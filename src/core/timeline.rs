//! The timeline artifact: a pure projection of [`PipelineState`] into JSON-ready types.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::action::Stream;
use crate::affected::Affected;
use crate::phase::Instance;
use crate::state::{
    AttemptRecord, LogLine, LogRing, PhaseState, PhaseStatus, PipelineState, PipelineStatus,
};

/// The version of the timeline format this crate writes. Version 2 added the phase status
/// `up_to_date`; a reader of version 2 reads version 1 files as they are.
pub const SCHEMA_VERSION: u32 = 2;

/// The whole timeline document: the JSON record of one run, written while it runs and at
/// its end.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(title = "cargo-milo timeline", deny_unknown_fields))]
pub struct Timeline {
    /// Format version: 2 (version 1 had no `up_to_date` phase status; readers take both).
    #[cfg_attr(feature = "schema", schemars(range(min = 1, max = 2)))]
    pub schema_version: u32,
    /// The pipeline's name.
    pub pipeline: String,
    /// The pipeline's status.
    pub status: PipelineStatus,
    /// Wall-clock start, RFC 3339 (UTC); null before the start.
    pub started_at: Option<String>,
    /// Seconds since the start.
    pub elapsed: f64,
    /// Weighted progress in [0, 1].
    pub progress: f64,
    /// The cargo-milo version that wrote the file.
    pub milo_version: String,
    /// `run --affected REV`: the revision and the packages the run was narrowed to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub affected: Option<TimelineAffected>,
    /// Every phase, in declaration order.
    pub phases: Vec<TimelinePhase>,
    /// Files of the run's record that could not be fully written (absent when there are
    /// none): a log with a missing end, a timeline rewrite that failed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<TimelineWarning>,
}

/// A file of the run's record that could not be fully written; the run went on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct TimelineWarning {
    /// The file, relative to the timeline's folder when it is inside it.
    pub path: String,
    /// The phase whose log it is; null for the timeline itself.
    pub phase: Option<String>,
    /// What happened: the file and the cause, as the system put it.
    pub message: String,
}

/// What `run --affected REV` narrowed the run to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct TimelineAffected {
    /// The revision as given (`main`).
    pub base: String,
    /// The merge base of the revision and `HEAD` the changes were counted from.
    pub merge_base: String,
    /// The affected packages (the others' instances did not run).
    pub packages: Vec<TimelineAffectedPackage>,
}

/// An affected package and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct TimelineAffectedPackage {
    /// The package.
    pub name: String,
    /// Why it is affected: `3 files changed`, `depends on core`, `Cargo.lock changed
    /// (workspace-wide)`.
    pub reason: String,
}

impl From<&Affected> for TimelineAffected {
    fn from(a: &Affected) -> Self {
        Self {
            base: a.base.clone(),
            merge_base: a.merge_base.clone(),
            packages: a
                .packages
                .iter()
                .map(|p| TimelineAffectedPackage {
                    name: p.name.clone(),
                    reason: p.reason.to_string(),
                })
                .collect(),
        }
    }
}

/// One phase in the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct TimelinePhase {
    /// The phase's name.
    pub name: String,
    /// Its description.
    pub description: String,
    /// Its status.
    pub status: PhaseStatus,
    /// Its direct dependencies.
    pub depends_on: Vec<String>,
    /// Its progress weight.
    pub weight: u64,
    /// Whether it may run beside others.
    pub parallel: bool,
    /// Start of the first attempt, seconds since the pipeline start.
    pub start: Option<f64>,
    /// When it reached its final status.
    pub end: Option<f64>,
    /// Seconds it ran (to now while running).
    pub elapsed: f64,
    /// The current or last attempt, 0 before the first.
    pub attempt: u32,
    /// How many attempts it may take.
    #[serde(default = "one")]
    pub max_attempts: u32,
    /// Every attempt.
    pub attempts: Vec<TimelineAttempt>,
    /// The last error.
    pub error: Option<String>,
    /// Lines kept in `logs` (≤ `max_logs`).
    pub log_count: usize,
    /// Every line the phase printed.
    pub lines_total: u64,
    /// The kept lines.
    pub logs: Vec<TimelineLog>,
    /// The full log, relative to the timeline's folder.
    pub log_file: Option<String>,
    /// The `key=value` outputs of the phase.
    pub outputs: BTreeMap<String, String>,
    /// For an instance of a per-package phase (`test:core`): the phase (`test`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phase: Option<String>,
    /// For an instance of a per-package phase (`test:core`): the package (`core`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
}

fn one() -> u32 {
    1
}

/// One attempt of a phase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct TimelineAttempt {
    /// The attempt number, from 1.
    pub attempt: u32,
    /// Start, seconds since the pipeline start.
    pub start: f64,
    /// End, null while it runs.
    pub end: Option<f64>,
    /// The exit code, when a process exited with one.
    pub exit_code: Option<i32>,
    /// Why it failed.
    pub error: Option<String>,
}

/// One kept log line.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[cfg_attr(feature = "schema", schemars(deny_unknown_fields))]
pub struct TimelineLog {
    // Shared with the state, so projecting a timeline under the store's lock copies no text.
    /// The text.
    pub line: Arc<str>,
    /// `stdout` or `stderr`.
    pub stream: Stream,
    /// Seconds since the pipeline start.
    pub t: f64,
}

/// Rounds seconds to the microsecond, so files stay short and stable.
fn secs(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

impl Timeline {
    /// Projects a state into a timeline.
    pub fn from_state(state: &PipelineState) -> Self {
        let mut timeline = Self::head(state);
        timeline.phases = state.phases.iter().map(|p| TimelinePhase::of(p, state)).collect();
        timeline
    }

    /// The timeline of `state` without its phases (a writer that projects the phases that
    /// changed, one by one, with [`TimelinePhase::of`]).
    pub fn head(state: &PipelineState) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            pipeline: state.name.clone(),
            status: state.status,
            started_at: state.started_at.clone(),
            elapsed: secs(state.elapsed),
            progress: state.progress,
            milo_version: env!("CARGO_PKG_VERSION").to_owned(),
            affected: state.affected.as_deref().map(TimelineAffected::from),
            phases: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// Rebuilds a state from a recorded timeline (for `cargo milo view`).
    pub fn to_state(&self) -> PipelineState {
        let phases = self.phases.iter().map(TimelinePhase::to_state).collect();
        let mut state = PipelineState::from_phases(self.pipeline.clone(), phases);
        state.status = self.status;
        state.started_at.clone_from(&self.started_at);
        state.elapsed = self.elapsed;
        state.progress = self.progress;
        state
    }

    /// The JSON Schema of the timeline document.
    #[cfg(feature = "schema")]
    pub fn json_schema() -> serde_json::Value {
        serde_json::to_value(schemars::schema_for!(Timeline)).unwrap_or_default()
    }
}

impl TimelinePhase {
    /// Phase `p` of `state`, as the timeline shows it.
    pub fn of(p: &PhaseState, state: &PipelineState) -> Self {
        let outputs = p
            .result
            .as_ref()
            .and_then(|r| r.get("outputs"))
            .and_then(serde_json::Value::as_object)
            .map(|o| {
                o.iter()
                    .map(|(k, v)| {
                        (k.clone(), v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    })
                    .collect()
            })
            .unwrap_or_default();
        Self {
            name: p.name.to_string(),
            description: p.description.clone(),
            status: p.status,
            depends_on: p.depends_on.clone(),
            weight: p.weight,
            parallel: p.parallel,
            start: p.started_at.map(secs),
            end: p.ended_at.map(secs),
            elapsed: secs(p.elapsed(state.elapsed)),
            attempt: p.attempt,
            max_attempts: p.max_attempts,
            attempts: p
                .attempts
                .iter()
                .map(|a| TimelineAttempt {
                    attempt: a.attempt,
                    start: secs(a.start),
                    end: a.end.map(secs),
                    exit_code: a.exit_code,
                    error: a.error.clone(),
                })
                .collect(),
            error: p.error.clone(),
            log_count: p.logs.len(),
            lines_total: p.logs.total(),
            logs: p
                .logs
                .lines()
                .iter()
                .map(|l| TimelineLog { line: Arc::clone(&l.line), stream: l.stream, t: secs(l.t) })
                .collect(),
            // Only a phase that printed has a log file (of this run).
            log_file: state
                .log_dir
                .as_ref()
                .filter(|_| p.logs.total() > 0)
                .map(|dir| format!("{dir}/{}.log", p.name)),
            outputs,
            phase: p.instance.as_ref().map(|i| i.phase.clone()),
            package: p.instance.as_ref().map(|i| i.package.clone()),
        }
    }

    fn to_state(&self) -> PhaseState {
        let lines = self.logs.iter().map(|l| LogLine {
            line: Arc::clone(&l.line),
            stream: l.stream,
            t: l.t,
        });
        PhaseState {
            name: Arc::from(self.name.as_str()),
            description: self.description.clone(),
            depends_on: self.depends_on.clone(),
            weight: self.weight,
            parallel: self.parallel,
            max_attempts: self.max_attempts,
            status: self.status,
            attempt: self.attempt,
            started_at: self.start,
            ended_at: self.end,
            attempts: self
                .attempts
                .iter()
                .map(|a| AttemptRecord {
                    attempt: a.attempt,
                    start: a.start,
                    end: a.end,
                    exit_code: a.exit_code,
                    error: a.error.clone(),
                })
                .collect(),
            error: self.error.clone(),
            retry_delay: None,
            logs: LogRing::from_parts(lines, self.logs.len().max(self.log_count), self.lines_total),
            result: None,
            instance: self
                .phase
                .clone()
                .zip(self.package.clone())
                .map(|(phase, package)| Instance { phase, package }),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::action::Action;
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;
    use crate::reducer::reduce;

    fn finished_state() -> PipelineState {
        let pipeline = Pipeline::new("build")
            .phase(Phase::cmd("discover", "true").description("Find sources"))
            .phase(Phase::cmd("parse", "true").depends_on(["discover"]))
            .build()
            .expect("valid");
        let mut state = PipelineState::new(&pipeline);
        state.log_dir = Some("logs".into());
        let actions = [
            Action::PipelineStart { started_at: "2026-11-28T14:00:00Z".into(), t: 0.0 },
            Action::PhaseStart { name: "discover".into(), attempt: 1, t: 0.0 },
            Action::PhaseLog {
                name: "discover".into(),
                line: "found 3".into(),
                stream: Stream::Stdout,
                t: 0.1,
            },
            Action::PhaseComplete {
                name: "discover".into(),
                result: json!({"exit_code": 0, "outputs": {"count": "3"}}),
                t: 0.52,
            },
            Action::PhaseStart { name: "parse".into(), attempt: 1, t: 0.52 },
            Action::PhaseFailed {
                name: "parse".into(),
                error: "exit code 2".into(),
                exit_code: Some(2),
                t: 2.34,
            },
            Action::PipelineFailed { t: 2.34 },
        ];
        actions.iter().fold(state, reduce)
    }

    #[test]
    fn carries_the_reference_fields() {
        let value = serde_json::to_value(Timeline::from_state(&finished_state())).expect("json");
        assert_eq!(value["pipeline"], "build");
        assert_eq!(value["status"], "failed");
        assert_eq!(value["elapsed"], 2.34);
        assert_eq!(value["progress"], 0.5);
        let discover = &value["phases"][0];
        assert_eq!(discover["name"], "discover");
        assert_eq!(discover["status"], "completed");
        assert_eq!(discover["elapsed"], 0.52);
        assert_eq!(discover["attempt"], 1);
        assert_eq!(discover["error"], serde_json::Value::Null);
        assert_eq!(discover["log_count"], 1);
        assert_eq!(discover["log_file"], "logs/discover.log");
        assert_eq!(discover["outputs"]["count"], "3");
        let parse = &value["phases"][1];
        assert_eq!(parse["error"], "exit code 2");
        assert_eq!(parse["attempts"][0]["exit_code"], 2);
    }

    #[test]
    fn round_trips_through_json_and_state() {
        let timeline = Timeline::from_state(&finished_state());
        let text = serde_json::to_string(&timeline).expect("json");
        let back: Timeline = serde_json::from_str(&text).expect("parse");
        assert_eq!(back, timeline);
        let state = back.to_state();
        assert_eq!(state.phase("parse").map(|p| p.status), Some(PhaseStatus::Failed));
        assert_eq!(state.phase("discover").map(|p| p.logs.len()), Some(1));
    }

    #[test]
    fn up_to_date_phases_are_written_and_version_one_files_still_read() {
        let pipeline = Pipeline::new("p")
            .phase(Phase::cmd("gen", "true").inputs(["*.proto"]))
            .build()
            .expect("valid");
        let result = json!({"exit_code": 0, "outputs": {"v": "1"}});
        let state = reduce(
            PipelineState::new(&pipeline),
            &Action::PhaseUpToDate { name: "gen".into(), result, t: 0.25 },
        );
        let value = serde_json::to_value(Timeline::from_state(&state)).expect("json");
        assert_eq!(value["schema_version"], 2);
        assert_eq!(value["phases"][0]["status"], "up_to_date");
        assert_eq!(value["phases"][0]["outputs"]["v"], "1");
        assert_eq!(value["phases"][0]["start"], serde_json::Value::Null);
        assert_eq!(value["phases"][0]["end"], 0.25);

        let mut old = serde_json::to_value(Timeline::from_state(&finished_state())).expect("json");
        old["schema_version"] = json!(1);
        let old: Timeline = serde_json::from_value(old).expect("a version 1 timeline reads");
        assert_eq!(old.to_state().phase("parse").map(|p| p.status), Some(PhaseStatus::Failed));
    }

    #[cfg(feature = "schema")]
    #[test]
    fn checked_in_schema_matches_the_types() {
        let generated =
            serde_json::to_string_pretty(&Timeline::json_schema()).expect("json") + "\n";
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/timeline.schema.json");
        if std::env::var_os("MILO_BLESS").is_some() {
            std::fs::write(path, &generated).expect("write schema");
        }
        let checked_in = std::fs::read_to_string(path).unwrap_or_default();
        assert!(
            checked_in == generated,
            "schema/timeline.schema.json is out of date: run `MILO_BLESS=1 cargo test --lib timeline`"
        );
    }

    #[cfg(feature = "schema")]
    #[test]
    fn a_real_timeline_validates_against_the_schema() {
        let schema = Timeline::json_schema();
        let validator = jsonschema::validator_for(&schema).expect("valid schema");
        let instance = serde_json::to_value(Timeline::from_state(&finished_state())).expect("json");
        let errors: Vec<String> = validator.iter_errors(&instance).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let mut broken = instance.clone();
        broken["phases"][0]["status"] = json!("exploded");
        assert!(!validator.is_valid(&broken), "the schema must reject an unknown status");
        let mut up_to_date = instance.clone();
        up_to_date["phases"][0]["status"] = json!("up_to_date");
        assert!(validator.is_valid(&up_to_date), "version 2 knows `up_to_date`");
        let mut future = instance;
        future["schema_version"] = json!(3);
        assert!(!validator.is_valid(&future), "the schema names the versions it describes");
    }

    #[cfg(feature = "schema")]
    #[test]
    fn warnings_are_listed_only_when_there_are_some() {
        let mut timeline = Timeline::from_state(&finished_state());
        let quiet = serde_json::to_value(&timeline).expect("json");
        assert!(quiet.get("warnings").is_none(), "no `warnings` key without warnings");
        timeline.warnings.push(TimelineWarning {
            path: "logs/discover.log".into(),
            phase: Some("discover".into()),
            message: "could not write the log of phase `discover`: disk full".into(),
        });
        let value = serde_json::to_value(&timeline).expect("json");
        assert_eq!(value["warnings"][0]["path"], "logs/discover.log");
        let validator = jsonschema::validator_for(&Timeline::json_schema()).expect("schema");
        let errors: Vec<String> = validator.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{errors:?}");
        let back: Timeline = serde_json::from_value(value).expect("parse");
        assert_eq!(back, timeline);
    }
}
