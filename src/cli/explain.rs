//! `cargo milo explain [PHASE]...`: whether each phase would run, and why.

use std::path::Path;

use super::load::{load, print};
use super::{ExplainArgs, GlobalArgs};
use crate::error::{Error, Level, render_message};
use crate::fingerprint::Fingerprints;
use crate::load::Loaded;
use crate::observe::{Observer, records};
use crate::pipeline::Pipeline;
use crate::uptodate::{Verdict, explain};

/// Prints, per phase (the named ones, or all, in execution order), `up to date` or `would
/// run: <the first difference>`; with `-v`, every difference. Runs nothing.
pub fn execute(global: &GlobalArgs, args: &ExplainArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    let pipeline = loaded.pipeline.select_targets(&args.phases)?;
    let verdicts = verdicts(&loaded, &pipeline, false, global)?;
    let named = |i: &usize| {
        let phase = &pipeline.phases()[*i];
        args.phases.is_empty()
            || args.phases.iter().any(|t| {
                *t == phase.name || phase.instance.as_ref().is_some_and(|inst| *t == inst.phase)
            })
    };
    let shown: Vec<usize> = pipeline.graph().execution_order().into_iter().filter(named).collect();
    print(&explain(&pipeline, &verdicts, &shown, global.verbose > 0));
    Ok(())
}

/// The verdicts `run --dry-run` shows, as `explain` says them: `None` when no phase has
/// `inputs` (then nothing is read, and the timeline's place is not looked up).
pub fn plan_verdicts(
    loaded: &Loaded,
    pipeline: &Pipeline,
    force: bool,
    global: &GlobalArgs,
) -> Result<Option<Vec<Verdict>>, Error> {
    if pipeline.phases().iter().all(|p| p.inputs.is_none()) {
        return Ok(None);
    }
    verdicts(loaded, pipeline, force, global).map(Some)
}

/// Every phase's verdict against the fingerprints beside the timeline (which may ask
/// `cargo metadata` where the timeline goes); a broken fingerprints file is a warning.
pub fn verdicts(
    loaded: &Loaded,
    pipeline: &Pipeline,
    force: bool,
    global: &GlobalArgs,
) -> Result<Vec<Verdict>, Error> {
    let timeline = loaded.timeline()?;
    let (records, problem) = if force {
        (Fingerprints::default(), None)
    } else {
        records::load(&records::beside(&timeline))
    };
    if let Some(problem) = problem.filter(|_| !global.quiet) {
        let styled = super::color::styled(&super::color::stderr(global.color));
        eprintln!("{}", render_message(Level::Warning, &problem.to_string(), &[], None, styled));
    }
    let observer = Observer::new(pipeline, timeline.parent().filter(|p| p != &Path::new("")));
    Ok(observer.verdicts(pipeline, &records, force))
}
