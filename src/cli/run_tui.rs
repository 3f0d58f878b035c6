//! `cargo milo run --tui`: the executor runs on its own thread while the detail view owns
//! the terminal on this one.

use std::time::{Duration, Instant};

use crate::error::Error;
use crate::exec::CancelToken;
use crate::exec::{Finished, Run, RunOptions};
use crate::pipeline::Pipeline;
use crate::tui::live::{Live, Outcome};
use crate::tui::terminal;
use crate::view::ViewState;

/// Whether `--tui` can be honoured here; prints a note when it cannot.
pub fn usable() -> bool {
    let usable = terminal::is_interactive();
    if !usable {
        eprintln!("note: --tui needs a terminal (stdin and stdout); showing plain output instead");
    }
    usable
}

/// Runs `pipeline` like [`exec::run`](crate::exec::run), drawn by the detail view. Output is
/// always captured: passed through, it would draw over the view.
///
/// The view stays open after the run ends, until `q`. `q` (or Esc, Ctrl-C) before the end
/// cancels the run as Ctrl-C would; so do SIGTERM and SIGHUP. Either way the terminal is
/// restored before this waits for the executor to wind down, and the returned state is the
/// executor's final one (`cancelled` when stopped).
pub fn run(pipeline: &Pipeline, mut options: RunOptions) -> Result<Finished, Error> {
    // Output passed straight through would draw over the view: the view shows it instead.
    if !options.capture.unwrap_or(pipeline.settings().capture_output) {
        eprintln!("note: --tui shows phase output itself: capturing it despite --no-capture");
    }
    options.capture = Some(true);
    let cancel = options.cancel.clone();
    let live = Live::new();
    let closer = live.closer();
    // Subscribed before the first action, and starting from the same state as the store:
    // the view's copy folds exactly what the store folds.
    options.background.push(live.consumer());
    let run = Run::new(pipeline, options)?;
    let initial = run.handle().snapshot();
    let executor = std::thread::Builder::new()
        .name("milo-executor".into())
        .spawn(move || {
            let result = run.execute();
            if result.is_err() {
                closer.close();
            }
            result
        })
        .map_err(|e| Error::system("starting the executor thread", e))?;
    let outcome = live.run(ViewState::new(initial).live());
    if matches!(outcome, Ok(Outcome::Interrupted)) {
        wait_for_signal_handler(&cancel);
    }
    let stop = outcome.as_ref().map_or(true, |o| o.cancels_run());
    // A signal may have cancelled already; a second cancel would mean "kill at once".
    if stop && !cancel.is_cancelled() {
        cancel.cancel();
    }
    if stop {
        eprintln!("note: stopping the run: running phases get SIGTERM, then SIGKILL");
    }
    let result =
        executor.join().map_err(|_| Error::Panicked { thread: "milo-executor".to_owned() })?;
    outcome.map_err(|e| Error::terminal("drawing the detail view", e))?;
    result
}

/// SIGINT and SIGTERM reach the run's own handler too, which cancels the run. Give it a
/// moment, so that cancelling here is not a second cancel (which kills at once).
fn wait_for_signal_handler(cancel: &CancelToken) {
    let deadline = Instant::now() + Duration::from_millis(500);
    while !cancel.is_cancelled() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
}
