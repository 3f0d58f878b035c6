//! Joining the partial timelines of one pipeline (`cargo milo timeline merge`): each phase
//! from the run that ran it, every time on one clock.
//!
//! ```
//! use milo::merge::merge;
//! use milo::{Action, Phase, Pipeline, PipelineState, PhaseStatus, Timeline, reduce};
//! let pipeline = Pipeline::new("ci")
//!     .phase(Phase::cmd("build", "true"))
//!     .phase(Phase::cmd("test", "true").depends_on(["build"]))
//!     .build()?;
//! // Two machines, each ran one phase; the second started 60 s after the first.
//! let run = |start: &str, phase: &str| {
//!     let actions = [
//!         Action::PipelineStart { started_at: start.into(), t: 0.0 },
//!         Action::PhaseStart { name: phase.into(), attempt: 1, t: 0.0 },
//!         Action::PhaseComplete { name: phase.into(), result: serde_json::json!({}), t: 2.0 },
//!         Action::PipelineComplete { t: 2.0 },
//!     ];
//!     Timeline::from_state(&actions.iter().fold(PipelineState::new(&pipeline), reduce))
//! };
//! let merged = merge(&[run("2026-01-01T00:01:00Z", "test"), run("2026-01-01T00:00:00Z", "build")])?;
//! let test = &merged.timeline.phases[1];
//! assert_eq!((test.name.as_str(), test.status, test.start), ("test", PhaseStatus::Completed, Some(60.0)));
//! assert_eq!(merged.origins, [Some(1), Some(0)]);
//! assert_eq!(merged.timeline.started_at.as_deref(), Some("2026-01-01T00:00:00Z"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

use std::collections::HashMap;
use std::fmt;
use std::time::SystemTime;

use crate::state::{PhaseStatus, PipelineStatus, progress};
use crate::timeline::{Timeline, TimelinePhase};

/// The merged timeline and where each of its phases came from.
#[derive(Debug, Clone, PartialEq)]
pub struct Merged {
    /// The joined timeline.
    pub timeline: Timeline,
    /// For each phase of [`timeline`](Self::timeline), the index of the input that ran it
    /// (`None`: no input did; the phase is pending). Its `log_file` is still relative to
    /// that input's folder.
    pub origins: Vec<Option<usize>>,
}

/// Why timelines cannot be merged; `index` is the position of the offending input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MergeError {
    /// Nothing to merge.
    Empty,
    /// Input `index` records pipeline `found`, the first input `expected`.
    OtherPipeline {
        /// The offending input.
        index: usize,
        /// The first input's pipeline.
        expected: String,
        /// This input's pipeline.
        found: String,
    },
    /// Input `index` has schema version `found`, the first input `expected`.
    OtherSchema {
        /// The offending input.
        index: usize,
        /// The first input's version.
        expected: u32,
        /// This input's version.
        found: u32,
    },
    /// Input `index` has a `started_at` that is not an RFC 3339 time.
    BadStart {
        /// The offending input.
        index: usize,
        /// The value found.
        started_at: String,
    },
}

impl fmt::Display for MergeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => write!(f, "no timeline to merge"),
            Self::OtherPipeline { index, expected, found } => {
                write!(f, "timeline {index} records pipeline `{found}`, the first one `{expected}`")
            }
            Self::OtherSchema { index, expected, found } => {
                write!(f, "timeline {index} has schema version {found}, the first one {expected}")
            }
            Self::BadStart { index, started_at } => {
                write!(f, "timeline {index} has an invalid started_at `{started_at}`")
            }
        }
    }
}

impl std::error::Error for MergeError {}

/// Joins partial timelines of one pipeline: each phase is taken from the input that ran it
/// (the latest run, when several did), its times re-based on the earliest input's clock
/// through each input's `started_at`; a phase that no input ran stays pending. The
/// pipeline's status is the worst of its phases' (failed, cancelled, running, pending,
/// completed), its progress the weight of completed and skipped phases.
///
/// Phases keep the order of the first input that lists them.
pub fn merge(timelines: &[Timeline]) -> Result<Merged, MergeError> {
    let first = timelines.first().ok_or(MergeError::Empty)?;
    for (index, t) in timelines.iter().enumerate().skip(1) {
        if t.pipeline != first.pipeline {
            return Err(MergeError::OtherPipeline {
                index,
                expected: first.pipeline.clone(),
                found: t.pipeline.clone(),
            });
        }
        if t.schema_version != first.schema_version {
            return Err(MergeError::OtherSchema {
                index,
                expected: first.schema_version,
                found: t.schema_version,
            });
        }
    }
    let starts = timelines
        .iter()
        .enumerate()
        .map(|(index, t)| {
            t.started_at
                .as_deref()
                .map(|s| {
                    humantime::parse_rfc3339_weak(s)
                        .map_err(|_| MergeError::BadStart { index, started_at: s.to_owned() })
                })
                .transpose()
        })
        .collect::<Result<Vec<Option<SystemTime>>, _>>()?;
    let base = starts.iter().enumerate().filter_map(|(i, s)| s.map(|s| (s, i))).min();
    // Seconds from the earliest start to each input's start.
    let offsets: Vec<f64> = starts
        .iter()
        .map(|s| match (s, base) {
            (Some(s), Some((b, _))) => s.duration_since(b).map_or(0.0, |d| d.as_secs_f64()),
            _ => 0.0,
        })
        .collect();

    // Each phase name once, in the order of the first input listing it; for each, the input
    // whose run of it started last.
    let mut order: Vec<&str> = Vec::new();
    let mut chosen: HashMap<&str, Pick> = HashMap::new();
    for (i, t) in timelines.iter().enumerate() {
        for (k, p) in t.phases.iter().enumerate() {
            let ran = (p.status != PhaseStatus::Pending)
                .then(|| (offsets[i] + p.start.unwrap_or(0.0), i));
            let pick = Pick { ran, input: i, at: k };
            match chosen.get_mut(p.name.as_str()) {
                None => {
                    order.push(&p.name);
                    chosen.insert(&p.name, pick);
                }
                Some(best) => {
                    if let Some(run) = ran
                        && best.ran.is_none_or(|b| run >= b)
                    {
                        *best = pick;
                    }
                }
            }
        }
    }

    let mut origins = Vec::with_capacity(order.len());
    let mut phases = Vec::with_capacity(order.len());
    for name in &order {
        let Pick { ran, input: i, at: k } = chosen[name];
        let mut phase = timelines[i].phases[k].clone();
        if ran.is_some() {
            shift(&mut phase, offsets[i]);
            origins.push(Some(i));
        } else {
            phase.log_file = None;
            origins.push(None);
        }
        phases.push(phase);
    }

    let elapsed = timelines
        .iter()
        .zip(&offsets)
        .filter(|(t, _)| t.started_at.is_some())
        .map(|(t, o)| o + t.elapsed)
        .fold(0.0, f64::max);
    let total: u64 = phases.iter().map(|p| p.weight).sum();
    let done: u64 = phases.iter().filter(|p| p.status.is_done()).map(|p| p.weight).sum();
    let status = phases.iter().map(|p| pipeline_status(p.status)).max_by_key(|s| rank(*s));
    let timeline = Timeline {
        schema_version: first.schema_version,
        pipeline: first.pipeline.clone(),
        status: status.unwrap_or(PipelineStatus::Completed),
        started_at: base.and_then(|(_, i)| timelines[i].started_at.clone()),
        elapsed: secs(elapsed),
        progress: progress(done, total),
        milo_version: env!("CARGO_PKG_VERSION").to_owned(),
        affected: timelines.iter().find_map(|t| t.affected.clone()),
        phases,
        // A log that was cut short in a partial timeline is cut short in the merged one.
        warnings: timelines.iter().flat_map(|t| t.warnings.iter().cloned()).collect(),
    };
    Ok(Merged { timeline, origins })
}

/// The entry a merged phase is taken from.
#[derive(Debug, Clone, Copy)]
struct Pick {
    /// When its run started, on the earliest input's clock, and the input (the latest run
    /// wins); `None` when it did not run.
    ran: Option<(f64, usize)>,
    /// The input.
    input: usize,
    /// Its position in the input's phases.
    at: usize,
}

/// What a phase's status says about its pipeline.
fn pipeline_status(status: PhaseStatus) -> PipelineStatus {
    match status {
        PhaseStatus::Completed | PhaseStatus::Skipped | PhaseStatus::UpToDate => {
            PipelineStatus::Completed
        }
        PhaseStatus::Pending => PipelineStatus::Pending,
        PhaseStatus::Running | PhaseStatus::Retrying => PipelineStatus::Running,
        PhaseStatus::Cancelled => PipelineStatus::Cancelled,
        PhaseStatus::Failed => PipelineStatus::Failed,
    }
}

/// How bad a pipeline status is: the merged pipeline takes its phases' worst.
fn rank(status: PipelineStatus) -> u8 {
    match status {
        PipelineStatus::Completed => 0,
        PipelineStatus::Pending => 1,
        PipelineStatus::Running => 2,
        PipelineStatus::Cancelled => 3,
        PipelineStatus::Failed => 4,
    }
}

/// Moves every time of `phase` `by` seconds later.
fn shift(phase: &mut TimelinePhase, by: f64) {
    if by == 0.0 {
        return;
    }
    let at = |x: f64| secs(x + by);
    phase.start = phase.start.map(at);
    phase.end = phase.end.map(at);
    for a in &mut phase.attempts {
        a.start = at(a.start);
        a.end = a.end.map(at);
    }
    for l in &mut phase.logs {
        l.t = at(l.t);
    }
}

/// Rounds seconds to the microsecond, as the timeline writer does.
fn secs(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
#[path = "merge_tests.rs"]
mod tests;
