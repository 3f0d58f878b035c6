//! Plain output (CI logs, pipes, `TERM=dumb`): what [`Printer`] says for each action, in the
//! chosen mode and CI flavour, written to one stream so that lines, blocks and CI markup
//! keep their order; a block's body is copied from the phase's full log; a timer thread
//! prints the still-running lines, since a silent phase sends nothing to print them on, and
//! flushes the captured lines buffered since its last look (a write per line would cost a
//! system call per line).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::action::Action;
use crate::ci::printer::{Printer, Sink};

/// Prints a run's plain output (see the [module](self) docs).
///
/// It needs the actions only (no state): run it on a
/// [`SubscriberThread`](crate::subscriber_thread::SubscriberThread) after the log writer (as
/// `RunOptions::background` does), so that copying a large log stalls no phase and the log
/// is complete when the phase's end reaches the reporter.
pub struct PlainReporter {
    printer: Printer,
    out: BufWriter<Box<dyn Write + Send>>,
    logs: Option<PathBuf>,
    /// When the pipeline started on this process's clock, and its `t` then.
    started: Option<(Instant, f64)>,
}

impl std::fmt::Debug for PlainReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainReporter")
            .field("printer", &self.printer)
            .field("logs", &self.logs)
            .finish_non_exhaustive()
    }
}

/// The printer's output: text, and phases' log files copied.
struct Writer<'a> {
    out: &'a mut dyn Write,
    logs: Option<&'a Path>,
}

impl Sink for Writer<'_> {
    fn text(&mut self, text: &str) {
        // A reader gone (a closed pipe) is no reason to stop the run.
        let _ = self.out.write_all(text.as_bytes());
    }

    fn log(&mut self, name: &str) {
        let Some(dir) = self.logs else { return };
        if let Ok(mut file) = File::open(dir.join(format!("{name}.log"))) {
            let _ = io::copy(&mut file, self.out);
        }
    }
}

impl PlainReporter {
    /// A reporter printing what `printer` says to `out`, blocks from the full logs in `logs`
    /// (`None`: output is not captured, blocks are empty).
    pub fn new(printer: Printer, out: Box<dyn Write + Send>, logs: Option<PathBuf>) -> Self {
        Self { printer, out: BufWriter::with_capacity(64 * 1024, out), logs, started: None }
    }

    /// A reporter printing to standard output.
    pub fn stdout(printer: Printer, logs: Option<PathBuf>) -> Self {
        Self::new(printer, Box::new(io::stdout()), logs)
    }

    /// Handles one action (a subscriber that needs no state).
    pub fn on_action(&mut self, action: &Action) {
        if let Action::PipelineStart { t, .. } = action {
            self.started = Some((Instant::now(), *t));
        }
        let mut writer = Writer { out: &mut self.out, logs: self.logs.as_deref() };
        self.printer.on_action(action, &mut writer);
        // Events show at once; captured lines wait for the timer (or a full buffer).
        if action.is_status_change() {
            let _ = self.out.flush();
        }
    }

    /// Prints the still-running lines due now, and what is buffered.
    pub fn tick(&mut self) {
        if let Some((at, t)) = self.started {
            let mut writer = Writer { out: &mut self.out, logs: self.logs.as_deref() };
            self.printer.tick(t + at.elapsed().as_secs_f64(), &mut writer);
        }
        let _ = self.out.flush();
    }

    /// Prints the end of the run (see [`Printer::finish`]).
    pub fn finish(&mut self, failures: &str, annotations: &str, summary: &str) {
        let mut writer = Writer { out: &mut self.out, logs: self.logs.as_deref() };
        self.printer.finish(failures, annotations, summary, &mut writer);
        let _ = self.out.flush();
    }
}

/// A [`PlainReporter`] shared by the run's subscriber thread and a timer thread that asks it
/// every `period` for still-running lines and to flush what it buffered (so a captured line
/// reaches the log at most `period` after the reporter got it). The timer stops when this is
/// finished or dropped.
#[derive(Debug)]
pub struct Plain {
    reporter: Arc<Mutex<PlainReporter>>,
    timer: Option<(Sender<()>, JoinHandle<()>)>,
}

impl Plain {
    /// Starts the timer of `reporter`, waking every `period`.
    pub fn start(reporter: PlainReporter, period: Duration) -> io::Result<Self> {
        let reporter = Arc::new(Mutex::new(reporter));
        let (stop, stopped) = mpsc::channel::<()>();
        let shared = Arc::clone(&reporter);
        let thread =
            std::thread::Builder::new().name("milo-plain-timer".into()).spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                    lock(&shared).tick();
                }
            })?;
        Ok(Self { reporter, timer: Some((stop, thread)) })
    }

    /// The store subscriber that hands the reporter each action.
    pub fn subscriber(&self) -> impl FnMut(&Action) + Send + 'static {
        let reporter = Arc::clone(&self.reporter);
        move |action| lock(&reporter).on_action(action)
    }

    /// Stops the timer and prints the end of the run (see [`Printer::finish`]).
    pub fn finish(mut self, failures: &str, annotations: &str, summary: &str) {
        self.stop();
        lock(&self.reporter).finish(failures, annotations, summary);
    }

    fn stop(&mut self) {
        if let Some((stop, thread)) = self.timer.take() {
            drop(stop);
            let _ = thread.join();
        }
    }
}

impl Drop for Plain {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The reporter, whoever panicked holding it: printing goes on.
fn lock(reporter: &Mutex<PlainReporter>) -> MutexGuard<'_, PlainReporter> {
    reporter.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::action::Stream;
    use crate::ci::{Flavour, Framing, OutputMode};
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;

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

    fn printer(mode: OutputMode, every: f64) -> Printer {
        let pipeline = Pipeline::new("p").phase(Phase::cmd("loud", "true")).build().expect("valid");
        Printer::new(&pipeline, mode, Framing::new(Flavour::Github, "T0K"), every)
    }

    #[test]
    fn a_block_is_copied_from_the_full_log_inside_its_fenced_group() {
        let logs = tempfile::tempdir().expect("temp dir");
        std::fs::write(logs.path().join("loud.log"), "=== loud: attempt 1 ===\n::error::x\n")
            .expect("log");
        let out = Shared::default();
        let mut plain = PlainReporter::new(
            printer(OutputMode::Grouped, 60.0),
            Box::new(out.clone()),
            Some(logs.path().to_owned()),
        );
        let loud: Arc<str> = "loud".into();
        for action in [
            Action::PhaseStart { name: Arc::clone(&loud), attempt: 1, t: 1.0 },
            Action::PhaseLog {
                name: Arc::clone(&loud),
                line: "x".into(),
                stream: Stream::Stdout,
                t: 1.5,
            },
            Action::PhaseComplete { name: loud, result: serde_json::json!({}), t: 4.25 },
        ] {
            plain.on_action(&action);
        }
        assert_eq!(
            out.text(),
            "▶ loud\n::group::✓ loud 3.25s\n::stop-commands::T0K\n=== loud: attempt 1 ===\n\
             ::error::x\n::T0K::\n::endgroup::\n"
        );
    }

    #[test]
    fn the_timer_prints_still_running_lines_of_a_silent_phase() {
        let out = Shared::default();
        // A line after 10 ms of silence, looked for every millisecond.
        let reporter =
            PlainReporter::new(printer(OutputMode::Grouped, 0.01), Box::new(out.clone()), None);
        let plain = Plain::start(reporter, Duration::from_millis(1)).expect("timer thread");
        let mut subscriber = plain.subscriber();
        subscriber(&Action::PipelineStart { started_at: "2026-11-28T14:00:00Z".into(), t: 0.0 });
        subscriber(&Action::PhaseStart { name: "loud".into(), attempt: 1, t: 0.0 });
        // No action comes: only the timer can print the line this waits for.
        let deadline = Instant::now() + Duration::from_secs(60);
        while !out.text().contains("… loud running ") {
            assert!(Instant::now() < deadline, "no still-running line: {}", out.text());
            std::thread::sleep(Duration::from_millis(5));
        }
        plain.finish("", "", "pipeline p cancelled in 1s");
        assert!(out.text().starts_with("▶ loud\n… loud running "), "{}", out.text());
        assert!(out.text().ends_with("\npipeline p cancelled in 1s\n"), "{}", out.text());
    }
}
