//! `cargo milo run`: load, select targets, plan or execute, report, exit code.

use std::fmt::Write as _;
use std::io::IsTerminal;

use super::load::{current_dir, load, print};
use super::orphans::{Adoption, Keep};
use super::{GlobalArgs, ProgressChoice, RunArgs};
use crate::error::Error;
use crate::exec::{self, CancelToken, RunOptions, effective_jobs};
use crate::pipeline::Pipeline;
use crate::report::{self, plain::PlainReporter};
use crate::state::{PipelineState, PipelineStatus};

/// Runs the pipeline (or prints its plan with `--dry-run`).
pub fn execute(global: &GlobalArgs, args: &RunArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    // `--only`: the whole pipeline runs with the other phases given (done, not run), so the
    // timeline lists every phase.
    let (mut pipeline, given) = if args.only {
        let selected = loaded.pipeline.only_targets(&args.targets)?;
        let given =
            super::results_from::given(&loaded.pipeline, &selected, args.results_from.as_deref())?;
        (loaded.pipeline.clone(), Some(given))
    } else {
        (loaded.pipeline.select_targets(&args.targets)?, None)
    };
    overrides(&mut pipeline, args);
    if let Some(rev) = &args.affected {
        let affected = loaded.affected(rev)?;
        pipeline = pipeline.keep_affected(affected).map_err(|e| {
            Error::usage(e.to_string(), "report this: narrowing a valid pipeline failed")
        })?;
    }
    // What the plan, the bars and the summary show: with `--only`, the phases that run.
    let shown = super::results_from::running(&pipeline, given.as_ref())?;
    let verbose = global.verbose > 0 && !global.quiet;
    if args.dry_run {
        if verbose {
            note_workspace(&loaded);
        }
        let mut text = plan(&shown);
        if let Some(given) = &given {
            text.push_str(&super::results_from::note(&pipeline, &shown, given));
        }
        print(&text);
        return Ok(());
    }
    if verbose && let Some(affected) = pipeline.affected() {
        eprint!("{}", affected.describe());
    }
    super::report::check(&args.reports)?;
    // `--tui`: the detail view draws the run instead of bars or lines (cli/run_tui.rs).
    let tui = args.tui && super::run_tui::usable();
    let (timeline, source) = match &args.timeline {
        Some(p) if p.is_relative() => (current_dir()?.join(p), "--timeline".to_owned()),
        Some(p) => (p.clone(), "--timeline".to_owned()),
        None => loaded.explained_timeline()?,
    };
    if verbose {
        note_workspace(&loaded);
        eprintln!("note: timeline `{}` ({source})", timeline.display());
    }
    let log_dir = timeline.parent().map(|d| d.join(crate::artifact::LOG_DIR));
    let cancel = CancelToken::new();
    let _signals = exec::signals::cancel_on_signals(cancel.clone())
        .map_err(|e| Error::system("installing the Ctrl-C and SIGTERM handlers", e))?;
    let mode = mode(global, args);
    let mut options =
        RunOptions { timeline: Some(timeline.clone()), cancel, ..RunOptions::default() };
    if let Some(given) = given {
        options.given = given;
    }
    match if tui { Mode::Quiet } else { mode } {
        Mode::Quiet => {}
        Mode::Plain => {
            let capture = pipeline.settings().capture_output;
            let mut reporter = PlainReporter::stdio(log_dir.clone().filter(|_| capture));
            options.subscribers.push(Box::new(move |a, s| reporter.on_action(a, s)));
        }
        #[cfg(feature = "progress")]
        Mode::Bars => {
            let mut bars = report::bars::Bars::new(&shown);
            options.subscribers.push(Box::new(move |a, s| bars.on_action(a, s)));
        }
    }
    let adoption = Adoption::start();
    if let Some(adoption) = &adoption {
        options.spawner = adoption.record(options.spawner);
    }
    let state =
        if tui { super::run_tui::run(&pipeline, options)? } else { exec::run(&pipeline, options)? };
    let keep = Keep::of(&pipeline, args.keep_daemons);
    let escaped = adoption.map_or(0, |a| a.end_escaped(&keep));
    if escaped > 0 && !global.quiet {
        eprintln!(
            "warning: ended {escaped} process(es) that a phase left running outside its process \
             group (started with setsid or as a daemon)\n  \
             = help: to leave a phase's daemons running, set `keep_daemons = true` on it, or \
             pass --keep-daemons"
        );
    }
    let ran = super::results_from::ran(&state, &shown);
    finish(ran.as_ref().unwrap_or(&state), mode, log_dir.as_deref());
    // Reports are written whatever the outcome: a failed or cancelled run needs them most.
    let timeline_doc = crate::timeline::Timeline::from_state(&state);
    let mut unwritten = super::report::write_all(&args.reports, &timeline_doc, &timeline);
    if state.status == PipelineStatus::Completed && !unwritten.is_empty() {
        // The run passed, but what CI was told to upload is missing: that fails the command.
        let first = unwritten.remove(0);
        report_errors(&unwritten, global);
        return Err(first);
    }
    report_errors(&unwritten, global);
    Error::outcome(&state)
}

/// Prints errors that do not change the outcome (a report that could not be written).
fn report_errors(errors: &[Error], global: &GlobalArgs) {
    use std::io::Write as _;
    let mut stderr = super::color::stderr(global.color);
    for error in errors {
        let text = error.render(super::color::styled(&stderr));
        let _ = writeln!(stderr, "{text}");
    }
}

/// The settings the command line overrides: `-j`, `--fail-fast`, `--no-capture`.
fn overrides(pipeline: &mut Pipeline, args: &RunArgs) {
    let settings = pipeline.settings_mut();
    if let Some(jobs) = args.jobs {
        settings.jobs = jobs;
    }
    if args.fail_fast {
        settings.fail_fast = true;
    } else if args.no_fail_fast {
        settings.fail_fast = false;
    }
    if args.no_capture {
        settings.capture_output = false;
    }
}

/// `-v`: which workspace, and whether cargo was asked.
fn note_workspace(loaded: &crate::load::Loaded) {
    match loaded.cargo.describe() {
        Some(workspace) => eprintln!("note: workspace {workspace}"),
        None => eprintln!("note: no Cargo workspace (no Cargo.toml above Milo.toml)"),
    }
}

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Quiet,
    Plain,
    #[cfg(feature = "progress")]
    Bars,
}

fn mode(global: &GlobalArgs, args: &RunArgs) -> Mode {
    if global.quiet {
        return Mode::Quiet;
    }
    let terminal =
        std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb");
    let bars = match args.progress {
        ProgressChoice::Always => true,
        ProgressChoice::Never => false,
        ProgressChoice::Auto => terminal,
    };
    #[cfg(feature = "progress")]
    if bars && !args.no_capture {
        return Mode::Bars;
    }
    #[cfg(not(feature = "progress"))]
    let _ = bars; // built without indicatif: there are no bars to draw
    Mode::Plain
}

/// What is printed after the run: failed phases' tails (where they were not shown in
/// full), then the summary table or, with `-q`, its last line.
fn finish(state: &PipelineState, mode: Mode, log_dir: Option<&std::path::Path>) {
    let mut out = String::new();
    // Plain mode printed each phase's whole output, bars printed failed tails above them.
    if mode == Mode::Quiet {
        out.push_str(&report::failure_tails(state, 20, log_dir));
    }
    let summary = report::summary(state);
    if mode == Mode::Quiet {
        if state.status != PipelineStatus::Completed {
            out.push_str(summary.lines().last().unwrap_or_default());
            out.push('\n');
        }
    } else {
        out.push_str(&summary);
        out.push('\n');
    }
    eprint!("{out}");
}

/// The plan: each level of the graph, its phases with their commands, parallel or alone.
pub fn plan(pipeline: &Pipeline) -> String {
    let settings = pipeline.settings();
    let mut out = pipeline.affected().map(crate::affected::Affected::describe).unwrap_or_default();
    let _ = writeln!(
        out,
        "plan for `{}`: {} phases, jobs {}, fail-fast {}",
        pipeline.name(),
        pipeline.phases().len(),
        effective_jobs(settings.jobs),
        if settings.fail_fast { "on" } else { "off" }
    );
    let width = pipeline.phases().iter().map(|p| p.name.len()).max().unwrap_or(0);
    for (n, level) in pipeline.graph().levels().iter().enumerate() {
        let _ = writeln!(out, "step {}:", n + 1);
        let mut level = level.clone();
        level.sort_by(|&a, &b| pipeline.phases()[a].name.cmp(&pipeline.phases()[b].name));
        for i in level {
            let p = &pipeline.phases()[i];
            let how = if p.parallel { "parallel" } else { "alone   " };
            let after = if p.depends_on.is_empty() {
                String::new()
            } else {
                format!("  (after {})", p.depends_on.join(", "))
            };
            let _ = writeln!(out, "  {:<width$}  {how}  {}{after}", p.name, p.handler.describe());
        }
    }
    out
}
