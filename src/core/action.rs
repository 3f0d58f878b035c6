//! Every change of pipeline state, as data. The reducer folds these; every one carries `t`.

use std::sync::Arc;

use crate::lines::LineBatch;

/// Which output stream a captured line came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

impl Stream {
    /// `"stdout"` or `"stderr"`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Stdout => "stdout",
            Self::Stderr => "stderr",
        }
    }
}

/// An action dispatched into the [`Store`](crate::Store).
///
/// `t` is seconds since the pipeline started, read by the executor's clock: the reducer
/// never reads a clock itself. Names are `Arc<str>` so that a log line's action is cheap to
/// build and to hand to every subscriber.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    /// The pipeline starts; `started_at` is the wall-clock start in RFC 3339.
    PipelineStart {
        /// Wall-clock start, RFC 3339 (UTC).
        started_at: String,
        /// Seconds since the start (normally 0).
        t: f64,
    },
    /// Attempt `attempt` (from 1) of a phase starts.
    PhaseStart {
        /// The phase.
        name: Arc<str>,
        /// The attempt number, from 1.
        attempt: u32,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// One captured output line.
    PhaseLog {
        /// The phase.
        name: Arc<str>,
        /// The line, without its terminator.
        line: Arc<str>,
        /// Where it was written.
        stream: Stream,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// The lines one read of a pipe delivered, in order, at one time: folds exactly as the
    /// same lines sent one [`PhaseLog`](Self::PhaseLog) at a time would (each in the ring,
    /// every one counted), but costs one action, and keeps only the last lines that the ring
    /// can hold.
    PhaseLogs {
        /// The phase.
        name: Arc<str>,
        /// Where they were written.
        stream: Stream,
        /// Seconds since the pipeline started.
        t: f64,
        /// The lines, without their terminators.
        lines: Arc<LineBatch>,
    },
    /// Attempt `attempt` failed and another will follow after `delay` seconds.
    PhaseRetry {
        /// The phase.
        name: Arc<str>,
        /// The attempt that failed.
        attempt: u32,
        /// Why it failed.
        error: String,
        /// The exit code, when the process exited with one.
        exit_code: Option<i32>,
        /// Seconds until the next attempt.
        delay: f64,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// The phase succeeded with `result` (`{"exit_code": 0, "outputs": {..}}` for commands).
    PhaseComplete {
        /// The phase.
        name: Arc<str>,
        /// The phase's result, handed to its dependents.
        result: serde_json::Value,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// The phase did not run: nothing it depends on changed since its last success, whose
    /// `result` its dependents get. It counts as done.
    PhaseUpToDate {
        /// The phase.
        name: Arc<str>,
        /// The result recorded at its last success.
        result: serde_json::Value,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// The phase failed under `on_fail = "skip"`: it counts as done.
    PhaseSkipped {
        /// The phase.
        name: Arc<str>,
        /// Why it failed.
        error: String,
        /// The exit code, when the process exited with one.
        exit_code: Option<i32>,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// The phase failed for good.
    PhaseFailed {
        /// The phase.
        name: Arc<str>,
        /// Why it failed.
        error: String,
        /// The exit code, when the process exited with one.
        exit_code: Option<i32>,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// A running (or retrying) phase was cancelled.
    PhaseCancelled {
        /// The phase.
        name: Arc<str>,
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// Every phase completed or was skipped.
    PipelineComplete {
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// A phase failed and the pipeline stopped.
    PipelineFailed {
        /// Seconds since the pipeline started.
        t: f64,
    },
    /// The run was interrupted.
    PipelineCancelled {
        /// Seconds since the pipeline started.
        t: f64,
    },
}

impl Action {
    /// Seconds since the pipeline started, as carried by the action.
    pub fn t(&self) -> f64 {
        match self {
            Self::PipelineStart { t, .. }
            | Self::PhaseStart { t, .. }
            | Self::PhaseLog { t, .. }
            | Self::PhaseLogs { t, .. }
            | Self::PhaseRetry { t, .. }
            | Self::PhaseComplete { t, .. }
            | Self::PhaseUpToDate { t, .. }
            | Self::PhaseSkipped { t, .. }
            | Self::PhaseFailed { t, .. }
            | Self::PhaseCancelled { t, .. }
            | Self::PipelineComplete { t }
            | Self::PipelineFailed { t }
            | Self::PipelineCancelled { t } => *t,
        }
    }

    /// The phase the action is about, if any.
    pub fn phase(&self) -> Option<&str> {
        match self {
            Self::PhaseStart { name, .. }
            | Self::PhaseLog { name, .. }
            | Self::PhaseLogs { name, .. }
            | Self::PhaseRetry { name, .. }
            | Self::PhaseComplete { name, .. }
            | Self::PhaseUpToDate { name, .. }
            | Self::PhaseSkipped { name, .. }
            | Self::PhaseFailed { name, .. }
            | Self::PhaseCancelled { name, .. } => Some(name),
            Self::PipelineStart { .. }
            | Self::PipelineComplete { .. }
            | Self::PipelineFailed { .. }
            | Self::PipelineCancelled { .. } => None,
        }
    }

    /// Whether this action changes a status (everything but log lines).
    pub fn is_status_change(&self) -> bool {
        !matches!(self, Self::PhaseLog { .. } | Self::PhaseLogs { .. })
    }
}
