//! Plain progress: one line per phase event, no escape codes (CI logs, pipes, `TERM=dumb`).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;

use crate::action::Action;
use crate::format::{delay, duration, mark};
use crate::pipeline::Pipeline;
use crate::state::PhaseStatus;

/// Prints `✓ build 3.21s`, `✗ test exit code 1`, `↻ flaky retry 2/3 in 2s` as phases move.
///
/// With `echo_logs` (the folder of the full logs), each finished phase's whole output is
/// copied to `out` first, in one block, so parallel phases never mix. It needs the actions
/// only (no state): run it on a
/// [`SubscriberThread`](crate::subscriber_thread::SubscriberThread) after the log writer (as
/// `RunOptions::background` does), so that copying a large log stalls no phase and the log
/// is complete when the phase's end reaches the reporter.
pub struct PlainReporter {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    echo_logs: Option<PathBuf>,
    /// How many attempts each phase may take.
    max_attempts: HashMap<String, u32>,
    /// When each phase's first attempt started.
    started: HashMap<Arc<str>, f64>,
    /// The phases that printed a line, and the last one that did (lines come in runs).
    printed: HashSet<Arc<str>>,
    last_printed: Option<Arc<str>>,
}

impl std::fmt::Debug for PlainReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainReporter").field("echo_logs", &self.echo_logs).finish_non_exhaustive()
    }
}

impl PlainReporter {
    /// A reporter of `pipeline`'s run writing phase output to `out` and event lines to `err`.
    pub fn new(
        pipeline: &Pipeline,
        out: Box<dyn Write + Send>,
        err: Box<dyn Write + Send>,
        echo_logs: Option<PathBuf>,
    ) -> Self {
        let max_attempts =
            pipeline.phases().iter().map(|p| (p.name.clone(), p.policy.max_attempts())).collect();
        Self {
            out,
            err,
            echo_logs,
            max_attempts,
            started: HashMap::new(),
            printed: HashSet::new(),
            last_printed: None,
        }
    }

    /// Standard output and standard error.
    pub fn stdio(pipeline: &Pipeline, echo_logs: Option<PathBuf>) -> Self {
        Self::new(pipeline, Box::new(io::stdout()), Box::new(io::stderr()), echo_logs)
    }

    /// Handles one action (a subscriber that needs no state).
    pub fn on_action(&mut self, action: &Action) {
        match action {
            Action::PhaseLog { name, .. } => {
                if !self.last_printed.as_ref().is_some_and(|last| Arc::ptr_eq(last, name)) {
                    self.printed.insert(Arc::clone(name));
                    self.last_printed = Some(Arc::clone(name));
                }
            }
            Action::PhaseStart { name, t, .. } => {
                self.started.entry(Arc::clone(name)).or_insert(*t);
            }
            Action::PhaseComplete { name, .. }
            | Action::PhaseSkipped { name, .. }
            | Action::PhaseFailed { name, .. }
            | Action::PhaseCancelled { name, .. } => {
                if self.printed.contains(name) {
                    self.echo(name);
                }
                self.event(action);
            }
            Action::PhaseRetry { .. } => self.event(action),
            Action::PipelineStart { .. }
            | Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => {}
        }
    }

    fn event(&mut self, action: &Action) {
        let Some(line) = self.event_line(action) else { return };
        // One write per event: stderr is unbuffered, and `writeln!` would make two.
        let _ = self.err.write_all(line.as_bytes());
        let _ = self.err.flush();
    }

    /// The line a phase's action prints, ending in `\n`; `None` for actions that print none.
    fn event_line(&self, action: &Action) -> Option<String> {
        let mut line = match action {
            Action::PhaseComplete { name, t, .. } => {
                let start = self.started.get(name).copied().unwrap_or(*t);
                let took = duration((t - start).max(0.0));
                format!("{} {name} {took}", mark(PhaseStatus::Completed))
            }
            Action::PhaseFailed { name, error, .. } => {
                format!("{} {name} {error}", mark(PhaseStatus::Failed))
            }
            Action::PhaseSkipped { name, error, .. } => {
                format!("{} {name} skipped: {error}", mark(PhaseStatus::Skipped))
            }
            Action::PhaseCancelled { name, .. } => {
                format!("{} {name} cancelled", mark(PhaseStatus::Cancelled))
            }
            Action::PhaseRetry { name, attempt, error, delay: pause, .. } => format!(
                "{} {name} retry {}/{} in {}: {error}",
                mark(PhaseStatus::Retrying),
                attempt + 1,
                self.max_attempts.get(&**name).copied().unwrap_or(attempt + 1),
                delay(*pause),
            ),
            Action::PhaseStart { .. }
            | Action::PhaseLog { .. }
            | Action::PipelineStart { .. }
            | Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => return None,
        };
        line.push('\n');
        Some(line)
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

#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use super::*;
    use crate::action::Stream;
    use crate::phase::{Phase, PhasePolicy};

    #[derive(Clone, Default)]
    struct Shared(Arc<Mutex<Vec<u8>>>);

    impl Write for Shared {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().expect("lock").extend_from_slice(buf);
            Ok(buf.len())
        }

        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl Shared {
        fn text(&self) -> String {
            String::from_utf8_lossy(&self.0.lock().expect("lock")).into_owned()
        }
    }

    #[test]
    fn events_print_one_line_each_and_a_phase_that_printed_gets_its_log_copied() {
        let logs = tempfile::tempdir().expect("temp dir");
        std::fs::write(logs.path().join("loud.log"), "=== loud: attempt 1 ===\nhello\n")
            .expect("log");
        let pipeline = Pipeline::new("p")
            .phase(Phase::cmd("loud", "true"))
            .phase(Phase::cmd("flaky", "true").policy(PhasePolicy::retry(2, Duration::ZERO)))
            .build()
            .expect("valid");
        let (out, err) = (Shared::default(), Shared::default());
        let mut plain = PlainReporter::new(
            &pipeline,
            Box::new(out.clone()),
            Box::new(err.clone()),
            Some(logs.path().to_owned()),
        );
        let loud: Arc<str> = "loud".into();
        let actions = [
            Action::PhaseStart { name: Arc::clone(&loud), attempt: 1, t: 1.0 },
            Action::PhaseLog {
                name: Arc::clone(&loud),
                line: "hello".into(),
                stream: Stream::Stdout,
                t: 1.5,
            },
            Action::PhaseComplete { name: loud, result: serde_json::json!({}), t: 4.25 },
            Action::PhaseStart { name: "flaky".into(), attempt: 1, t: 4.25 },
            Action::PhaseRetry {
                name: "flaky".into(),
                attempt: 1,
                error: "exit code 1".into(),
                exit_code: Some(1),
                delay: 2.0,
                t: 5.0,
            },
            Action::PhaseFailed {
                name: "flaky".into(),
                error: "boom".into(),
                exit_code: None,
                t: 6.0,
            },
        ];
        for action in &actions {
            plain.on_action(action);
        }
        assert_eq!(
            err.text(),
            "✓ loud 3.25s\n↻ flaky retry 2/3 in 2s: exit code 1\n✗ flaky boom\n"
        );
        // `flaky` printed nothing: no log of it is looked for.
        assert_eq!(out.text(), "=== loud: attempt 1 ===\nhello\n");
    }
}
