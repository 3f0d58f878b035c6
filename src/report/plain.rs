//! Plain progress: one line per phase event, no escape codes (CI logs, pipes, `TERM=dumb`).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::{Arc, Mutex, PoisonError};

use crate::action::Action;
use crate::format::{delay, duration, mark};
use crate::pipeline::Pipeline;
use crate::state::PhaseStatus;
use crate::subscriber_thread::Consumer;

/// Prints `✓ build 3.21s`, `✗ test exit code 1`, `↻ flaky retry 2/3 in 2s` as phases move.
///
/// With `echo_logs` (the folder of the full logs), each finished phase's whole output is
/// copied to `out` first, in one block, so parallel phases never mix. It needs the actions
/// only (no state). Use it as a store subscriber ([`on_action`](Self::on_action)), or as
/// a [`Consumer`] of a run's subscriber thread ([`into_consumer`](Self::into_consumer), as
/// the command line does), where copying a large log stalls no phase and the log is
/// complete when the reporter copies it.
pub struct PlainReporter {
    events: Events,
    print: Print,
}

/// What the reporter prints for an event: the phase whose log to copy first, and the line.
struct Event {
    echo: Option<Arc<str>>,
    line: String,
}

/// Decides what each action prints (cheap: it runs on the dispatching thread).
struct Events {
    /// How many attempts each phase may take.
    max_attempts: HashMap<String, u32>,
    /// When each phase's first attempt started.
    started: HashMap<Arc<str>, f64>,
    /// The phases that printed a line, and the last one that did (lines come in runs).
    printed: HashSet<Arc<str>>,
    last_printed: Option<Arc<str>>,
}

/// Where events are printed (slow: it writes to the terminal or a pipe).
struct Print {
    out: Box<dyn Write + Send>,
    err: Box<dyn Write + Send>,
    echo_logs: Option<PathBuf>,
}

impl std::fmt::Debug for PlainReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainReporter")
            .field("echo_logs", &self.print.echo_logs)
            .finish_non_exhaustive()
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
            events: Events {
                max_attempts,
                started: HashMap::new(),
                printed: HashSet::new(),
                last_printed: None,
            },
            print: Print { out, err, echo_logs },
        }
    }

    /// Standard output and standard error.
    pub fn stdio(pipeline: &Pipeline, echo_logs: Option<PathBuf>) -> Self {
        Self::new(pipeline, Box::new(io::stdout()), Box::new(io::stderr()), echo_logs)
    }

    /// Handles one action (a subscriber that needs no state).
    pub fn on_action(&mut self, action: &Action) {
        if let Some(event) = self.events.on_action(action) {
            self.print.event(&event);
        }
    }

    /// The reporter as a [`Consumer::Near`]: it decides what to print on the dispatching
    /// thread and prints on the subscriber thread, where a slow stdout stalls no phase.
    pub fn into_consumer(self) -> Consumer {
        let Self { mut events, print } = self;
        let print = Arc::new(Mutex::new(print));
        Consumer::near(move |batch, jobs| {
            for action in batch {
                if let Some(event) = events.on_action(action) {
                    let print = Arc::clone(&print);
                    jobs.run(move || {
                        print.lock().unwrap_or_else(PoisonError::into_inner).event(&event);
                    });
                }
            }
        })
    }
}

impl Events {
    fn on_action(&mut self, action: &Action) -> Option<Event> {
        match action {
            Action::PhaseLog { name, .. } => {
                if !self.last_printed.as_ref().is_some_and(|last| Arc::ptr_eq(last, name)) {
                    self.printed.insert(Arc::clone(name));
                    self.last_printed = Some(Arc::clone(name));
                }
                None
            }
            Action::PhaseStart { name, t, .. } => {
                self.started.entry(Arc::clone(name)).or_insert(*t);
                None
            }
            Action::PhaseComplete { name, .. }
            | Action::PhaseSkipped { name, .. }
            | Action::PhaseFailed { name, .. }
            | Action::PhaseCancelled { name, .. } => {
                let echo = self.printed.contains(name).then(|| Arc::clone(name));
                Some(Event { echo, line: self.line(action)? })
            }
            Action::PhaseRetry { .. } => Some(Event { echo: None, line: self.line(action)? }),
            Action::PipelineStart { .. }
            | Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => None,
        }
    }

    /// The line a phase's action prints, ending in `\n`; `None` for actions that print none.
    fn line(&self, action: &Action) -> Option<String> {
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
}

impl Print {
    fn event(&mut self, event: &Event) {
        if let Some(name) = &event.echo {
            self.echo(name);
        }
        // One write per event: stderr is unbuffered, and `writeln!` would make two.
        let _ = self.err.write_all(event.line.as_bytes());
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
