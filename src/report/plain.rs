//! Plain output (CI logs, pipes, `TERM=dumb`): what [`Printer`] says for each action, in the
//! chosen mode and CI flavour, written to one stream so that lines, blocks and CI markup
//! keep their order; a block's body is copied from the phase's full log. A timer thread
//! prints the still-running lines, since a silent phase sends nothing to print them on, and
//! flushes the captured lines buffered since its last look (a write per line would cost a
//! system call per line).

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::PathBuf;
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::action::Action;
use crate::ci::printer::{Printer, Sink};
use crate::subscriber_thread::Consumer;

/// Prints a run's plain output (see the [module](self) docs): use it through [`Plain`].
pub struct PlainReporter {
    decide: Decide,
    print: Print,
}

impl std::fmt::Debug for PlainReporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlainReporter")
            .field("printer", &self.decide.printer)
            .field("logs", &self.print.logs)
            .finish_non_exhaustive()
    }
}

/// Deciding what each action prints: cheap, on the dispatching thread.
struct Decide {
    printer: Printer,
    /// When the pipeline started on this process's clock, and its `t` then.
    started: Option<(Instant, f64)>,
}

/// How much of a log one read takes when a phase's output is copied out.
const ECHO_BUF: usize = 256 * 1024;

/// Printing it: slow (a terminal, a pipe, copying logs), on the subscriber thread.
struct Print {
    out: BufWriter<Box<dyn Write + Send>>,
    logs: Option<PathBuf>,
}

impl Sink for Print {
    fn text(&mut self, text: &str) {
        // A reader gone (a closed pipe) is no reason to stop the run.
        let _ = self.out.write_all(text.as_bytes());
    }

    fn log(&mut self, name: &str) {
        let Some(dir) = &self.logs else { return };
        if let Ok(file) = File::open(dir.join(format!("{name}.log"))) {
            // Through a buffer of its own size: `io::copy` into the `BufWriter` of a trait
            // object would go 8 KiB at a time (12,800 reads for a 100 MB log).
            let _ = io::copy(&mut io::BufReader::with_capacity(ECHO_BUF, file), &mut self.out);
        }
    }
}

/// What a batch of actions prints, decided and not printed yet: text, with phases' logs
/// copied in between.
#[derive(Debug, Default)]
struct Pieces {
    parts: Vec<Piece>,
    /// Whether an event is among them (shown at once; captured lines wait for the timer).
    flush: bool,
}

#[derive(Debug)]
enum Piece {
    Text(String),
    Log(String),
}

impl Sink for Pieces {
    fn text(&mut self, text: &str) {
        match self.parts.last_mut() {
            Some(Piece::Text(last)) => last.push_str(text),
            _ => self.parts.push(Piece::Text(text.to_owned())),
        }
    }

    fn log(&mut self, name: &str) {
        self.parts.push(Piece::Log(name.to_owned()));
    }
}

impl Pieces {
    fn print(self, print: &mut Print) {
        for part in self.parts {
            match part {
                Piece::Text(text) => print.text(&text),
                Piece::Log(name) => print.log(&name),
            }
        }
        if self.flush {
            let _ = print.out.flush();
        }
    }
}

impl Decide {
    fn on_action(&mut self, action: &Action, sink: &mut dyn Sink) {
        if let Action::PipelineStart { t, .. } = action {
            self.started = Some((Instant::now(), *t));
        }
        self.printer.on_action(action, sink);
    }

    /// The still-running lines due now.
    fn ticks(&mut self) -> Pieces {
        let mut pieces = Pieces::default();
        if let Some((at, t)) = self.started {
            self.printer.tick(t + at.elapsed().as_secs_f64(), &mut pieces);
        }
        pieces
    }
}

impl PlainReporter {
    /// A reporter printing what `printer` says to `out`, blocks from the full logs in `logs`
    /// (`None`: output is not captured, blocks are empty).
    pub fn new(printer: Printer, out: Box<dyn Write + Send>, logs: Option<PathBuf>) -> Self {
        Self {
            decide: Decide { printer, started: None },
            print: Print { out: BufWriter::with_capacity(64 * 1024, out), logs },
        }
    }

    /// A reporter printing to standard output.
    pub fn stdout(printer: Printer, logs: Option<PathBuf>) -> Self {
        Self::new(printer, Box::new(io::stdout()), logs)
    }
}

/// A [`PlainReporter`] at work: its deciding half on the dispatching thread, its printing
/// half on the run's subscriber thread ([`consumer`](Self::consumer)), and a timer thread
/// that asks it every `period` for still-running lines and flushes what it buffered (so a
/// captured line reaches the log at most `period` after it was printed). The timer stops
/// when this is finished or dropped.
#[derive(Debug)]
pub struct Plain {
    decide: Arc<Mutex<Decide>>,
    print: Arc<Mutex<Print>>,
    timer: Option<(Sender<()>, JoinHandle<()>)>,
}

impl std::fmt::Debug for Decide {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Decide").field("printer", &self.printer).finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Print {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Print").field("logs", &self.logs).finish_non_exhaustive()
    }
}

impl Plain {
    /// Starts the timer of `reporter`, waking every `period`.
    pub fn start(reporter: PlainReporter, period: Duration) -> io::Result<Self> {
        let decide = Arc::new(Mutex::new(reporter.decide));
        let print = Arc::new(Mutex::new(reporter.print));
        let (stop, stopped) = mpsc::channel::<()>();
        let (timer_decide, timer_print) = (Arc::clone(&decide), Arc::clone(&print));
        let thread =
            std::thread::Builder::new().name("milo-plain-timer".into()).spawn(move || {
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(period) {
                    let ticks = lock(&timer_decide).ticks();
                    let mut print = lock(&timer_print);
                    ticks.print(&mut print);
                    let _ = print.out.flush();
                }
            })?;
        Ok(Self { decide, print, timer: Some((stop, thread)) })
    }

    /// The run's [`Consumer`]: it decides what each batch prints where it is dispatched and
    /// prints it on the subscriber thread, after the log writer has closed a finished
    /// phase's log, so a slow stdout or a large log stalls no phase.
    pub fn consumer(&self) -> Consumer {
        let (decide, print) = (Arc::clone(&self.decide), Arc::clone(&self.print));
        Consumer::near(move |batch, jobs| {
            let mut pieces = Pieces::default();
            let mut decide = lock(&decide);
            for action in batch {
                decide.on_action(action, &mut pieces);
                pieces.flush |= action.is_status_change();
            }
            drop(decide);
            if !pieces.parts.is_empty() {
                let print = Arc::clone(&print);
                jobs.run(move || pieces.print(&mut lock(&print)));
            }
        })
    }

    /// A store subscriber that decides and prints each action where it is dispatched.
    pub fn subscriber(&self) -> impl FnMut(&Action) + Send + 'static {
        let (decide, print) = (Arc::clone(&self.decide), Arc::clone(&self.print));
        move |action| {
            let mut print = lock(&print);
            lock(&decide).on_action(action, &mut *print);
            if action.is_status_change() {
                let _ = print.out.flush();
            }
        }
    }

    /// Stops the timer and prints the end of the run (see [`Printer::finish`]).
    pub fn finish(mut self, failures: &str, annotations: &str, summary: &str) {
        self.stop();
        let mut print = lock(&self.print);
        lock(&self.decide).printer.finish(failures, annotations, summary, &mut *print);
        let _ = print.out.flush();
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

/// A half of the reporter, whoever panicked holding it: printing goes on.
fn lock<T>(half: &Mutex<T>) -> MutexGuard<'_, T> {
    half.lock().unwrap_or_else(PoisonError::into_inner)
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
        let reporter = PlainReporter::new(
            printer(OutputMode::Grouped, 60.0),
            Box::new(out.clone()),
            Some(logs.path().to_owned()),
        );
        let plain = Plain::start(reporter, Duration::from_secs(3600)).expect("timer thread");
        let mut subscriber = plain.subscriber();
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
            subscriber(&action);
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
