//! What a closure handler gets: its dependencies' results, the attempt, and output writers.

use std::collections::BTreeMap;
use std::io::{self, Write};

/// The context handed to a [`Phase::func`](crate::Phase::func) closure.
///
/// Lines written to [`stdout`](Self::stdout) and [`stderr`](Self::stderr) are captured
/// exactly like a command's output: each becomes a `PhaseLog` action with its stream.
pub struct PhaseContext {
    pipeline: String,
    phase: String,
    attempt: u32,
    results: BTreeMap<String, Option<serde_json::Value>>,
    stdout: Box<dyn Write + Send>,
    stderr: Box<dyn Write + Send>,
}

impl PhaseContext {
    /// Builds a context. The executor calls this; tests may too.
    pub fn new(
        pipeline: impl Into<String>,
        phase: impl Into<String>,
        attempt: u32,
        results: BTreeMap<String, Option<serde_json::Value>>,
        stdout: Box<dyn Write + Send>,
        stderr: Box<dyn Write + Send>,
    ) -> Self {
        Self { pipeline: pipeline.into(), phase: phase.into(), attempt, results, stdout, stderr }
    }

    /// The pipeline's name.
    pub fn pipeline(&self) -> &str {
        &self.pipeline
    }

    /// This phase's name.
    pub fn phase(&self) -> &str {
        &self.phase
    }

    /// The attempt number, from 1.
    pub fn attempt(&self) -> u32 {
        self.attempt
    }

    /// The result of direct dependency `name`: `None` when it was skipped or is not a
    /// direct dependency.
    pub fn dependency(&self, name: &str) -> Option<&serde_json::Value> {
        self.results.get(name).and_then(Option::as_ref)
    }

    /// Every direct dependency's result (`None` for a skipped one).
    pub fn results(&self) -> &BTreeMap<String, Option<serde_json::Value>> {
        &self.results
    }

    /// A writer whose lines are captured as the phase's stdout.
    pub fn stdout(&mut self) -> &mut (dyn Write + Send) {
        &mut *self.stdout
    }

    /// A writer whose lines are captured as the phase's stderr.
    pub fn stderr(&mut self) -> &mut (dyn Write + Send) {
        &mut *self.stderr
    }

    /// Flushes both writers (the executor does this after the closure returns).
    pub fn flush(&mut self) -> io::Result<()> {
        self.stdout.flush()?;
        self.stderr.flush()
    }
}

impl std::fmt::Debug for PhaseContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PhaseContext")
            .field("pipeline", &self.pipeline)
            .field("phase", &self.phase)
            .field("attempt", &self.attempt)
            .field("results", &self.results)
            .finish_non_exhaustive()
    }
}
