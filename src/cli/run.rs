//! `cargo milo run`: load, select targets, plan or execute, report, exit code.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::load::{current_dir, load, print};
use super::orphans::{Adoption, Keep};
use super::run_output::{Display, Ended, Say};
use super::{GlobalArgs, RunArgs};
use crate::artifact::{Notice, Notify, WriteFailure};
use crate::error::{EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, Error, Level, render_message};
use crate::exec::{self, CancelToken, Finished, RunOptions, effective_jobs};
use crate::pipeline::Pipeline;
use crate::state::{PipelineState, PipelineStatus};
use crate::uptodate::Verdict;

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
        let verdicts = super::explain::plan_verdicts(&loaded, &shown, args.force, global)?;
        let mut text = plan(&shown, verdicts.as_deref());
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
    let display = Display::choose(global, args, pipeline.settings());
    let mut options = RunOptions {
        timeline: Some(timeline.clone()),
        cancel,
        force: args.force,
        ..RunOptions::default()
    };
    if let Some(given) = given {
        options.given = given;
    }
    let (say, plain) = display.attach(tui, &pipeline, &shown, log_dir.as_deref(), &mut options)?;
    // The detail view owns the terminal: its run's first warning waits for the end.
    let warned = Arc::new(AtomicBool::new(false));
    let styled = super::color::styled(&super::color::stderr(global.color));
    options.notify = Some(notifier(global.quiet, !tui, Arc::clone(&warned), say, styled));
    let adoption = Adoption::start();
    if let Some(adoption) = &adoption {
        options.spawner = adoption.record(options.spawner);
    }
    let finished =
        if tui { super::run_tui::run(&pipeline, options)? } else { exec::run(&pipeline, options)? };
    let keep = Keep::of(&pipeline, args.keep_daemons);
    let escaped = adoption.map_or(0, |a| a.end_escaped(&keep));
    if escaped > 0 && !global.quiet {
        let message = format!(
            "ended {escaped} process(es) that a phase left running outside its process group \
             (started with setsid or as a daemon)"
        );
        let help = "to leave a phase's daemons running, set `keep_daemons = true` on it, or pass \
                    --keep-daemons";
        eprintln!("{}", render_message(Level::Warning, &message, &[], Some(help), styled));
    }
    let Finished { state, warnings, timeline_error } = finished;
    let ran = super::results_from::ran(&state, &shown);
    let ended = Ended { loaded: &loaded, shown: &shown, state: ran.as_ref().unwrap_or(&state) };
    let ci = display.finish(plain, &ended, log_dir.as_deref());
    record_failures(&warnings, timeline_error.as_ref(), &state, &warned, styled);
    // Reports are written whatever the outcome: a failed or cancelled run needs them most.
    let mut timeline_doc = crate::timeline::Timeline::from_state(&state);
    let folder = crate::artifact::folder(&timeline);
    timeline_doc.warnings = warnings.iter().map(|w| w.to_timeline(folder)).collect();
    let mut unwritten = super::report::write_all(&args.reports, &timeline_doc, &timeline);
    unwritten.extend(ci.write_files(&timeline_doc, &timeline));
    if state.status == PipelineStatus::Completed && !unwritten.is_empty() {
        // The run passed, but what CI was told to upload is missing: that fails the command.
        let first = unwritten.remove(0);
        report_errors(&unwritten, global);
        return Err(first);
    }
    report_errors(&unwritten, global);
    Error::outcome(&state)
}

/// What the CLI says of a run's notices: the wait for another run's lock (as cargo says
/// it), and, when `live`, the first write failure in full as it happens (`warned`); the
/// rest are counted at the end.
fn notifier(quiet: bool, live: bool, warned: Arc<AtomicBool>, say: Say, styled: bool) -> Notify {
    Arc::new(move |notice: &Notice<'_>| match notice {
        Notice::Waiting { folder } if !quiet => {
            say(&format!("Blocking waiting for file lock on {}", folder.display()));
        }
        Notice::FingerprintsIgnored(problem) if !quiet => {
            say(&render_message(Level::Warning, &problem.to_string(), &[], None, styled));
        }
        Notice::WriteFailed(failure) if live && !warned.swap(true, Ordering::Relaxed) => {
            say(&warning(failure, styled));
        }
        _ => {}
    })
}

/// After the run: the first write failure when it was not shown live, how many more there
/// were, and a final timeline that could not be written (the exit code stays the run's).
fn record_failures(
    warnings: &[WriteFailure],
    timeline_error: Option<&WriteFailure>,
    state: &PipelineState,
    warned: &AtomicBool,
    styled: bool,
) {
    if let Some(first) = warnings.first().filter(|_| !warned.load(Ordering::Relaxed)) {
        eprintln!("{}", warning(first, styled));
    }
    if warnings.len() > 1 {
        let message = format!(
            "{} more files of the run's record could not be fully written; the timeline lists \
             them all under `warnings`",
            warnings.len() - 1
        );
        eprintln!("{}", render_message(Level::Warning, &message, &[], None, styled));
    }
    if let Some(failure) = timeline_error {
        let code = Error::outcome(state).err().map_or(EXIT_OK, |e| e.exit_code());
        eprintln!("{}", final_timeline_error(failure, code, styled));
    }
}

/// `warning: could not write …` with what it costs and what to do.
fn warning(failure: &WriteFailure, styled: bool) -> String {
    let help = failure.help();
    let notes = [failure.consequence()];
    render_message(Level::Warning, &failure.to_string(), &notes, help.as_deref(), styled)
}

/// The final timeline could not be written: where, why, and that the exit code is the run's.
fn final_timeline_error(failure: &WriteFailure, code: u8, styled: bool) -> String {
    let outcome = match code {
        EXIT_OK => "the pipeline completed",
        EXIT_INTERRUPTED => "the run was interrupted",
        EXIT_FAILED => "the pipeline failed",
        _ => "the run ended",
    };
    let on_disk = if failure.path.is_file() {
        "the timeline on disk is from earlier in the run: it does not show how the run ended"
    } else {
        "there is no timeline on disk"
    };
    let note = format!("{on_disk}; {outcome} (exit code {code})");
    let help = failure.help();
    render_message(Level::Error, &failure.to_string(), &[&note], help.as_deref(), styled)
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

/// The plan: each level of the graph, its phases with their commands, parallel or alone,
/// and for a phase with `inputs` its verdict (`[up to date]`, `[would run: … changed]`).
pub fn plan(pipeline: &Pipeline, verdicts: Option<&[Verdict]>) -> String {
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
            let verdict = verdicts
                .and_then(|v| v.get(i))
                .filter(|_| p.inputs.is_some())
                .map(|v| format!("  [{v}]"))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "  {:<width$}  {how}  {}{after}{verdict}",
                p.name,
                p.handler.describe()
            );
        }
    }
    out
}
