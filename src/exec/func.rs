//! Closure handlers: run on a thread of their own with writers whose lines are captured.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::thread;

use crate::action::Stream;
use crate::context::PhaseContext;
use crate::exec::event::EventSink;
use crate::lines::{LineBatch, LineSplitter};
use crate::phase::PhaseFn;

/// A writer that turns what a closure writes into captured lines.
struct CaptureWriter {
    splitter: LineSplitter,
    stream: Stream,
    sink: EventSink,
}

impl Write for CaptureWriter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut lines = LineBatch::default();
        self.splitter.push_into(buf, &mut lines);
        if self.sink.lines(self.stream, lines) {
            Ok(buf.len())
        } else {
            Err(io::Error::new(io::ErrorKind::BrokenPipe, "the pipeline has ended"))
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for CaptureWriter {
    fn drop(&mut self) {
        let mut lines = LineBatch::default();
        self.splitter.finish(|l| lines.push(l));
        self.sink.lines(self.stream, lines);
    }
}

/// What a closure attempt needs.
pub(crate) struct FuncJob {
    pub f: PhaseFn,
    pub pipeline: String,
    pub phase: String,
    pub attempt: u32,
    pub results: BTreeMap<String, Option<serde_json::Value>>,
    pub capture: bool,
}

/// Starts the closure on its own thread; its result (or panic) arrives as `Returned`.
pub(crate) fn spawn(job: FuncJob, sink: EventSink) -> io::Result<()> {
    thread::Builder::new().name(format!("milo-{}", job.phase)).spawn(move || {
        let (out, err): (Box<dyn Write + Send>, Box<dyn Write + Send>) = if job.capture {
            (
                Box::new(CaptureWriter {
                    splitter: LineSplitter::new(),
                    stream: Stream::Stdout,
                    sink: sink.clone(),
                }),
                Box::new(CaptureWriter {
                    splitter: LineSplitter::new(),
                    stream: Stream::Stderr,
                    sink: sink.clone(),
                }),
            )
        } else {
            (Box::new(io::stdout()), Box::new(io::stderr()))
        };
        let mut ctx =
            PhaseContext::new(job.pipeline, job.phase, job.attempt, job.results, out, err);
        let f = job.f;
        let outcome = catch_unwind(AssertUnwindSafe(|| f(&mut ctx)));
        let _ = ctx.flush();
        // Dropping the context flushes a last unterminated line before the result is sent.
        drop(ctx);
        let result = match outcome {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(e)) => Err(e.to_string()),
            Err(panic) => Err(format!("panicked: {}", panic_message(&*panic))),
        };
        sink.returned(result);
    })?;
    Ok(())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_owned()
    }
}
