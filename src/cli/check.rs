//! `cargo milo check`: validate Milo.toml and print a one-line summary.

use std::fmt::Write as _;

use super::GlobalArgs;
use super::load::{load, print, shown};
use crate::error::{Error, Level, render_message};
use crate::format;
use crate::observe::Observer;
use crate::pipeline::Pipeline;

/// Validates; prints `Milo.toml: 5 phases, 4 dependencies, ok` unless `-q`. With `-v`, also
/// the file read, the workspace and where the timeline goes (and how each was found). Warns
/// about `inputs` globs that match no file (such a phase always runs), unless a phase it
/// depends on declares `outputs` that may create the files.
pub fn execute(global: &GlobalArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    if !global.quiet {
        warn_unmatched(&loaded.pipeline, super::color::styled(&super::color::stderr(global.color)));
        let mut text = format!("{}\n", format::summary(&shown(&loaded.path), &loaded.pipeline));
        if global.verbose > 0 {
            let _ = writeln!(text, "  file:      {}", loaded.path.display());
            let (timeline, source) = loaded.explained_timeline()?;
            let workspace = loaded.cargo.describe();
            let workspace = workspace.as_deref().unwrap_or("none (no Cargo.toml above Milo.toml)");
            let _ = writeln!(text, "  workspace: {workspace}");
            let _ = writeln!(text, "  timeline:  {} ({source})", timeline.display());
        }
        print(&text);
    }
    Ok(())
}

/// `warning: phase `gen`: no file matches inputs glob `proto/*.proto`; while none does, the
/// phase always runs`.
fn warn_unmatched(pipeline: &Pipeline, styled: bool) {
    if pipeline.phases().iter().all(|p| p.inputs.is_none()) {
        return;
    }
    let observer = Observer::new(pipeline, None);
    let mut text = String::new();
    for (idx, phase) in pipeline.phases().iter().enumerate() {
        for glob in observer.unmatched_inputs(phase) {
            if produced(pipeline, idx, &glob, observer.root()) {
                continue;
            }
            let message = format!(
                "phase `{}`: no file matches inputs glob `{glob}`; while none does, the phase always runs",
                phase.name
            );
            let _ =
                writeln!(text, "{}", render_message(Level::Warning, &message, &[], None, styled));
        }
    }
    eprint!("{text}");
}

/// Whether a phase `idx` depends on (transitively) declares an `outputs` glob whose folder
/// overlaps `glob`'s: on a fresh checkout (codegen, then build) the files are yet to be made.
fn produced(pipeline: &Pipeline, idx: usize, glob: &str, root: &std::path::Path) -> bool {
    let upstream = pipeline.graph().closure(&[idx]);
    pipeline.phases().iter().enumerate().any(|(i, p)| {
        i != idx
            && upstream[i]
            && p.outputs.iter().any(|out| crate::glob::overlaps(root, out, glob))
    })
}
