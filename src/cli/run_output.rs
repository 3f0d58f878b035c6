//! How `run` shows itself: bars on a terminal, plain output elsewhere (its mode and CI
//! flavour, SPEC §10), or nothing but the end with `-q`; and the end of the run — failed
//! phases' excerpts, CI annotations, the summary, GitHub's step summary and outputs.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::{GlobalArgs, ProgressChoice, RunArgs};
use crate::ci::printer::Printer;
use crate::ci::{Flavour, Framing, OutputMode};
use crate::error::Error;
use crate::exec::RunOptions;
use crate::pipeline::{Pipeline, PipelineSettings};
use crate::report::github::Github;
use crate::report::plain::{Plain, PlainReporter};
use crate::report::{self, excerpts};
use crate::reports::Excerpts;
use crate::state::{PipelineState, PipelineStatus};
use crate::subscriber_thread::Consumer;
use crate::timeline::Timeline;

/// Prints a line on stderr beside the progress display.
pub(super) type Say = Arc<dyn Fn(&str) + Send + Sync>;

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Plain,
    #[cfg(feature = "progress")]
    Bars,
}

/// What `run` shows, chosen from the command line, Milo.toml and the environment.
#[derive(Debug)]
pub(super) struct Display {
    mode: Mode,
    output: OutputMode,
    framing: Framing,
}

/// A finished run, as its end is shown.
pub(super) struct Ended<'a> {
    /// Where the pipeline came from.
    pub loaded: &'a crate::load::Loaded,
    /// The phases that ran (all but `--only`'s given ones).
    pub shown: &'a Pipeline,
    /// Their final state.
    pub state: &'a PipelineState,
}

/// What is left to do for CI once the end is printed.
#[derive(Debug)]
pub(super) struct CiEnd {
    github: Option<Github>,
    excerpts: Excerpts,
}

impl Display {
    /// Bars on a terminal (unless `--progress never`, or `--output` / `--ci github|gitlab`
    /// ask for plain output), plain output elsewhere, nothing live with `-q`. The flavour is
    /// `--ci`, else the CI service the environment names; the output mode `--output`, else
    /// `output` in Milo.toml, else the flavour's default.
    pub(super) fn choose(global: &GlobalArgs, args: &RunArgs, settings: &PipelineSettings) -> Self {
        let flavour =
            args.ci.map_or_else(|| Flavour::detect(|k| std::env::var(k).ok()), Flavour::from);
        let output = args
            .output
            .map(OutputMode::from)
            .or(settings.output)
            .unwrap_or_else(|| flavour.default_mode());
        // Only GitHub's fences need a token (from the OS's randomness: a system call).
        let token = if flavour == Flavour::Github { report::token() } else { String::new() };
        Self { mode: mode(global, args), output, framing: Framing::new(flavour, token) }
    }

    /// Puts the live display on the run's subscriber thread, where writing to the terminal
    /// never stalls the run (nothing with `tui`: the detail view shows the run); returns how
    /// to print a line beside it, and the plain output to end once the run is over.
    pub(super) fn attach(
        &self,
        tui: bool,
        pipeline: &Pipeline,
        shown: &Pipeline,
        log_dir: Option<&Path>,
        options: &mut RunOptions,
    ) -> Result<(Say, Option<Plain>), Error> {
        let say: Say = Arc::new(|line| eprintln!("{line}"));
        match if tui { Mode::Quiet } else { self.mode } {
            Mode::Quiet => Ok((say, None)),
            Mode::Plain => {
                let every = crate::ci::ticks::EVERY;
                let printer = Printer::new(shown, self.output, self.framing.clone(), every);
                let logs = log_dir.filter(|_| pipeline.settings().capture_output);
                let reporter = PlainReporter::stdout(printer, logs.map(Path::to_owned));
                // Captured lines reach the log within 50 ms of the reporter.
                let plain = Plain::start(reporter, Duration::from_millis(50))
                    .map_err(|e| Error::system("starting the plain output's timer thread", e))?;
                options.background.push(plain.consumer());
                Ok((say, Some(plain)))
            }
            #[cfg(feature = "progress")]
            Mode::Bars => {
                let mut bars = report::bars::Bars::new(shown);
                let say = Arc::new(bars.printer());
                options.background.push(Consumer::state(move |a, s| bars.on_action(a, s)));
                Ok((say, None))
            }
        }
    }

    /// Prints the end of the run: failed phases' excerpts (captured text: fenced in CI),
    /// GitHub's annotations, then the summary table — or, with `-q`, its last line when the
    /// run did not pass. The bars printed the excerpts above themselves as phases failed.
    pub(super) fn finish(
        &self,
        plain: Option<Plain>,
        ended: &Ended<'_>,
        logs: Option<&Path>,
    ) -> CiEnd {
        let state = ended.state;
        let excerpts = excerpts::of_failures(state, logs);
        let github = (self.framing.flavour() == Flavour::Github)
            .then(|| Github::from_env(&repository_root(ended.loaded)));
        let annotations = github
            .as_ref()
            .map(|g| g.annotations(ended.shown, state, &excerpts))
            .unwrap_or_default();
        let failures = || report::failure_blocks(state, &excerpts, logs);
        let summary = report::summary(state);
        match (self.mode, plain) {
            (Mode::Plain, Some(plain)) => plain.finish(&failures(), &annotations, &summary),
            (Mode::Quiet, _) => {
                let mut out = String::new();
                let failures = failures();
                if !failures.is_empty() {
                    self.framing.open_fence(&mut out);
                    out.push_str(&failures);
                    self.framing.close_fence(&mut out);
                }
                out.push_str(&annotations);
                if state.status != PipelineStatus::Completed {
                    out.push_str(summary.lines().last().unwrap_or_default());
                    out.push('\n');
                }
                eprint!("{out}");
            }
            _ => eprintln!("{summary}"),
        }
        CiEnd { github, excerpts }
    }
}

impl CiEnd {
    /// On GitHub, appends the step summary and the step outputs (see
    /// [`Github::write_files`]); returns what could not be written.
    pub(super) fn write_files(&self, timeline: &Timeline, path: &Path) -> Vec<Error> {
        self.github
            .as_ref()
            .map(|g| g.write_files(timeline, path, &self.excerpts))
            .unwrap_or_default()
    }
}

fn mode(global: &GlobalArgs, args: &RunArgs) -> Mode {
    if global.quiet {
        return Mode::Quiet;
    }
    let terminal =
        std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    // Asking for an output mode or a CI service on the command line asks for plain output.
    let plain_asked =
        args.output.is_some() || args.ci.is_some_and(|ci| Flavour::from(ci) != Flavour::None);
    let bars = match args.progress {
        ProgressChoice::Always => true,
        ProgressChoice::Never => false,
        ProgressChoice::Auto => terminal && !plain_asked,
    };
    #[cfg(feature = "progress")]
    if bars && !args.no_capture {
        return Mode::Bars;
    }
    #[cfg(not(feature = "progress"))]
    let _ = bars; // built without indicatif: there are no bars to draw
    Mode::Plain
}

/// Where annotations' paths start when `GITHUB_WORKSPACE` is not set: the Cargo workspace,
/// else Milo.toml's folder.
fn repository_root(loaded: &crate::load::Loaded) -> PathBuf {
    match loaded.cargo.project() {
        Some(project) => project.root.clone(),
        None => loaded.path.parent().map_or_else(|| ".".into(), Path::to_owned),
    }
}
