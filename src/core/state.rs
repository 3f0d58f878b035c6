//! Observable pipeline state: what the reducer folds actions into.

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

use crate::action::Stream;
use crate::affected::Affected;
use crate::lines::LineBatch;
use crate::phase::Instance;
use crate::pipeline::Pipeline;

/// Weighted progress: done weight over total weight, 1.0 when the total is 0.
pub fn progress(done_weight: u64, total_weight: u64) -> f64 {
    if total_weight == 0 { 1.0 } else { (done_weight as f64 / total_weight as f64).clamp(0.0, 1.0) }
}

/// Runtime status of one phase.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PhaseStatus {
    /// Not started (and, at the end of a run, never started).
    #[default]
    Pending,
    /// An attempt is running.
    Running,
    /// An attempt failed; the next one starts after a delay.
    Retrying,
    /// Succeeded.
    Completed,
    /// Failed for good.
    Failed,
    /// Failed under `on_fail = "skip"`; counts as done.
    Skipped,
    /// Cancelled while running (fail-fast or an interrupt).
    Cancelled,
    /// Not run: its inputs, command, environment and dependencies' results are as at its last
    /// success, whose result it hands on; counts as done.
    #[serde(rename = "up_to_date")]
    UpToDate,
}

impl PhaseStatus {
    /// Whether the status is final: completed, failed, skipped, cancelled or up to date.
    pub fn is_terminal(self) -> bool {
        matches!(
            self,
            Self::Completed | Self::Failed | Self::Skipped | Self::Cancelled | Self::UpToDate
        )
    }

    /// Whether dependents may start: completed, skipped or up to date.
    pub fn is_done(self) -> bool {
        matches!(self, Self::Completed | Self::Skipped | Self::UpToDate)
    }

    /// Whether the phase is in flight: running or waiting to retry.
    pub fn is_active(self) -> bool {
        matches!(self, Self::Running | Self::Retrying)
    }

    /// The lowercase name used in the timeline and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Retrying => "retrying",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Skipped => "skipped",
            Self::Cancelled => "cancelled",
            Self::UpToDate => "up_to_date",
        }
    }
}

/// Status of the whole pipeline.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, serde::Serialize, serde::Deserialize,
)]
#[cfg_attr(feature = "schema", derive(schemars::JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum PipelineStatus {
    /// Not started.
    #[default]
    Pending,
    /// Running.
    Running,
    /// Every selected phase completed, was skipped or was up to date.
    Completed,
    /// A phase failed.
    Failed,
    /// Interrupted.
    Cancelled,
}

impl PipelineStatus {
    /// The lowercase name used in the timeline and in messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Running => "running",
            Self::Completed => "completed",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether the pipeline has ended.
    pub fn is_terminal(self) -> bool {
        matches!(self, Self::Completed | Self::Failed | Self::Cancelled)
    }
}

/// One captured output line: its text, its stream and when it was printed.
#[derive(Debug, Clone, PartialEq)]
pub struct LogLine {
    /// The text, without its terminator.
    pub line: Arc<str>,
    /// Where it was written.
    pub stream: Stream,
    /// Seconds since the pipeline started.
    pub t: f64,
}

/// The last `cap` lines of a phase, plus a count of every line seen.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct LogRing {
    lines: VecDeque<LogLine>,
    cap: usize,
    total: u64,
}

impl LogRing {
    /// An empty ring keeping at most `cap` lines (0 keeps none).
    pub fn new(cap: usize) -> Self {
        Self { lines: VecDeque::new(), cap, total: 0 }
    }

    /// Appends a line, dropping the oldest when full.
    pub fn push(&mut self, line: LogLine) {
        self.total += 1;
        if self.cap == 0 {
            return;
        }
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        self.lines.push_back(line);
    }

    /// Appends every line of `batch`, as many [`push`](Self::push)es would: all are
    /// counted, and only the last ones the ring can hold are made into lines.
    pub fn push_batch(&mut self, batch: &LineBatch, stream: Stream, t: f64) {
        self.total += batch.len() as u64;
        if self.cap == 0 {
            return;
        }
        for line in batch.tail(self.cap) {
            if self.lines.len() == self.cap {
                self.lines.pop_front();
            }
            self.lines.push_back(LogLine { line: Arc::from(line), stream, t });
        }
    }

    /// The retained lines, oldest first.
    pub fn lines(&self) -> &VecDeque<LogLine> {
        &self.lines
    }

    /// How many lines are retained (≤ `cap`).
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Whether no line is retained.
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The most lines kept.
    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Every line ever pushed, retained or not.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The newest line.
    pub fn last(&self) -> Option<&LogLine> {
        self.lines.back()
    }

    /// Rebuilds a ring from recorded lines (for `view` over a timeline).
    pub fn from_parts(lines: impl IntoIterator<Item = LogLine>, cap: usize, total: u64) -> Self {
        let mut ring = Self::new(cap);
        for line in lines {
            ring.push(line);
        }
        ring.total = ring.total.max(total);
        ring
    }
}

/// One attempt of a phase.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    /// The attempt number, from 1.
    pub attempt: u32,
    /// When it started, seconds since the pipeline started.
    pub start: f64,
    /// When it ended.
    pub end: Option<f64>,
    /// The exit code, when a process exited with one.
    pub exit_code: Option<i32>,
    /// Why it failed.
    pub error: Option<String>,
}

/// Runtime state of one phase: status, attempts, times, error, result and retained lines.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseState {
    /// The phase's name.
    pub name: Arc<str>,
    /// Its description.
    pub description: String,
    /// Its dependencies.
    pub depends_on: Vec<String>,
    /// Its progress weight.
    pub weight: u64,
    /// Whether it may run beside others.
    pub parallel: bool,
    /// How many attempts it gets in all.
    pub max_attempts: u32,
    /// Current status.
    pub status: PhaseStatus,
    /// The current (or last) attempt, 0 before the first.
    pub attempt: u32,
    /// When the first attempt started.
    pub started_at: Option<f64>,
    /// When the phase reached a terminal status.
    pub ended_at: Option<f64>,
    /// Every attempt so far.
    pub attempts: Vec<AttemptRecord>,
    /// The last error.
    pub error: Option<String>,
    /// While retrying: seconds until the next attempt, as dispatched.
    pub retry_delay: Option<f64>,
    /// Retained output.
    pub logs: LogRing,
    /// The result on completion (for an up-to-date phase, the one recorded at its last
    /// success).
    pub result: Option<serde_json::Value>,
    /// For an instance of a per-package phase, its phase and package.
    pub instance: Option<Instance>,
}

impl PhaseState {
    /// Seconds the phase has run: to its end, or to `now` while it runs.
    pub fn elapsed(&self, now: f64) -> f64 {
        match (self.started_at, self.ended_at) {
            (Some(start), Some(end)) => (end - start).max(0.0),
            (Some(start), None) => (now - start).max(0.0),
            (None, _) => 0.0,
        }
    }
}

/// Observable state of a pipeline run: what every subscriber (bars, detail view, timeline)
/// draws from.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PipelineState {
    /// The pipeline's name.
    pub name: String,
    /// Every phase of the run, in declaration order.
    pub phases: Vec<PhaseState>,
    /// The phase started last.
    pub current_phase: Option<Arc<str>>,
    /// Wall-clock start (RFC 3339), once started.
    pub started_at: Option<String>,
    /// Seconds since the start, as of the latest action.
    pub elapsed: f64,
    /// Weighted progress in [0, 1].
    pub progress: f64,
    /// Status of the run.
    pub status: PipelineStatus,
    /// Where each phase's full log lives, relative to the timeline (e.g. `logs`).
    pub log_dir: Option<String>,
    /// `run --affected`: the packages the run was narrowed to, and why.
    pub affected: Option<Arc<Affected>>,
    pub(crate) done_weight: u64,
    pub(crate) total_weight: u64,
    index: HashMap<Arc<str>, usize>,
}

impl PipelineState {
    /// The initial state of `pipeline`: every phase pending.
    pub fn new(pipeline: &Pipeline) -> Self {
        let phases = pipeline
            .phases()
            .iter()
            .map(|p| PhaseState {
                name: Arc::from(p.name.as_str()),
                description: p.description.clone(),
                depends_on: p.depends_on.clone(),
                weight: p.weight,
                parallel: p.parallel,
                max_attempts: p.policy.max_attempts(),
                status: PhaseStatus::Pending,
                attempt: 0,
                started_at: None,
                ended_at: None,
                attempts: Vec::new(),
                error: None,
                retry_delay: None,
                logs: LogRing::new(p.max_logs),
                result: None,
                instance: p.instance.clone(),
            })
            .collect();
        let mut state = Self::from_phases(pipeline.name().to_owned(), phases);
        state.affected = pipeline.affected_shared();
        state
    }

    /// A state over already-built phase states (used to rebuild one from a timeline).
    pub fn from_phases(name: String, phases: Vec<PhaseState>) -> Self {
        let index = phases.iter().enumerate().map(|(i, p)| (Arc::clone(&p.name), i)).collect();
        let total_weight = phases.iter().map(|p| p.weight).sum();
        let done_weight = phases.iter().filter(|p| p.status.is_done()).map(|p| p.weight).sum();
        let mut state = Self { name, phases, done_weight, total_weight, index, ..Self::default() };
        state.progress = progress(state.done_weight, state.total_weight);
        state
    }

    /// The phase called `name`.
    pub fn phase(&self, name: &str) -> Option<&PhaseState> {
        self.index.get(name).map(|&i| &self.phases[i])
    }

    /// The position of phase `name` in [`phases`](Self::phases).
    pub fn index_of(&self, name: &str) -> Option<usize> {
        self.index.get(name).copied()
    }

    pub(crate) fn phase_mut(&mut self, name: &str) -> Option<&mut PhaseState> {
        // Actions usually carry a clone of the state's own name: in a small pipeline, a
        // pointer comparison finds it without hashing (this runs once per log line).
        let small = self.phases.len() <= 16;
        if let Some(i) = self
            .phases
            .iter()
            .take_while(|_| small)
            .position(|p| std::ptr::eq(p.name.as_ptr(), name.as_ptr()))
        {
            return self.phases.get_mut(i);
        }
        let i = *self.index.get(name)?;
        self.phases.get_mut(i)
    }

    /// Total weight of every phase.
    pub fn total_weight(&self) -> u64 {
        self.total_weight
    }

    /// Weight of completed, skipped and up-to-date phases.
    pub fn done_weight(&self) -> u64 {
        self.done_weight
    }
}
