//! Plain progress: one line per phase event, no escape codes (CI logs, pipes, `TERM=dumb`).

use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;

use crate::action::Action;
use crate::format::{delay, duration, mark};
use crate::state::{PhaseStatus, PipelineState};

/// Prints `✓ build 3.21s`, `✗ test exit code 1`, `↻ flaky retry 2/3 in 2s` as phases move.
///
/// With `echo_logs` (the folder of the full logs), each finished phase's whole output is
/// copied to `out` first, in one block, so parallel phases never mix.
pub struct PlainReporter {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    echo_logs: Option<PathBuf>,
}

impl std::fmt::Debug for PlainReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainReporter").field("echo_logs", &self.echo_logs).finish_non_exhaustive()
    }
}

impl PlainReporter {
    /// A reporter writing phase output to `out` and event lines to `err`.
    pub fn new(
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        echo_logs: Option<PathBuf>,
    ) -> Self {
        Self { out, err, echo_logs }
    }

    /// Standard output and standard error.
    pub fn stdio(echo_logs: Option<PathBuf>) -> Self {
        Self::new(Box::new(io::stdout()), Box::new(io::stderr()), echo_logs)
    }

    /// Handles one action (use it as a store subscriber).
    pub fn on_action(&mut self, action: &Action, state: &PipelineState) {
        if !action.is_status_change() {
            return;
        }
        let Some(name) = action.phase() else { return };
        let Some(phase) = state.phase(name) else { return };
        let line = match action {
            Action::PhaseComplete { .. } => {
                format!(
                    "{} {name} {}",
                    mark(PhaseStatus::Completed),
                    duration(phase.elapsed(state.elapsed))
                )
            }
            Action::PhaseFailed { error, .. } => {
                format!("{} {name} {error}", mark(PhaseStatus::Failed))
            }
            Action::PhaseSkipped { error, .. } => {
                format!("{} {name} skipped: {error}", mark(PhaseStatus::Skipped))
            }
            Action::PhaseCancelled { .. } => {
                format!("{} {name} cancelled", mark(PhaseStatus::Cancelled))
            }
            Action::PhaseRetry { attempt, error, delay: pause, .. } => format!(
                "{} {name} retry {}/{} in {}: {error}",
                mark(PhaseStatus::Retrying),
                attempt + 1,
                phase.max_attempts,
                delay(*pause),
            ),
            Action::PhaseStart { .. }
            | Action::PhaseLog { .. }
            | Action::PipelineStart { .. }
            | Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => return,
        };
        if phase.status.is_terminal() && phase.logs.total() > 0 {
            self.echo(name);
        }
        // One write per event: stderr is unbuffered, and `writeln!` would make two.
        let mut line = line;
        line.push('\n');
        let _ = self.err.write_all(line.as_bytes());
        let _ = self.err.flush();
    }

    /// Copies phase `name`'s full log to `out`.
    fn echo(&mut self, name: &str) {
        let Some(dir) = &self.echo_logs else { return };
        let _ = self.err.flush();
        if let Ok(mut file) = File::open(dir.join(format!("{name}.log"))) {
            let _ = io::copy(&mut file, &mut self.out);
            let _ = self.out.flush();
        }
    }
}
