//! `cargo milo timeline merge FILE|DIR... -o OUT`: joins the partial timelines of one
//! pipeline (the jobs of an exported CI pipeline) into one, with their logs beside it.

use std::path::{Path, PathBuf};

use super::load::{current_dir, shown};
use super::timelines::{self, Found};
use super::{GlobalArgs, MergeArgs};
use crate::artifact::{LOG_DIR, check_output_path, write_atomic};
use crate::error::{Error, Level, render_message};
use crate::merge::{MergeError, Merged, merge};
use crate::state::PhaseStatus;

/// Merges the timelines found in the inputs into `-o OUT`. The exit code says whether the
/// merge worked, not how the pipeline went (a CI job goes on to write the reports).
pub fn execute(global: &GlobalArgs, args: &MergeArgs) -> Result<(), Error> {
    let out = current_dir()?.join(&args.output);
    let example = args.output.join("timeline.json");
    check_output_path(&out, "the merged timeline", &example.display().to_string())?;
    let found = timelines::find(&args.inputs, Some(&out))?;
    let merged = merge_found(&found)?;
    let dir = out.parent().unwrap_or(Path::new(".")).to_path_buf();
    std::fs::create_dir_all(&dir).map_err(|e| Error::io("creating the folder", &dir, e))?;
    let mut merged = merged;
    let styled = super::color::styled(&super::color::stderr(global.color));
    for warning in copy_logs(&mut merged, &found, &dir)? {
        if !global.quiet {
            eprintln!("{}", render_message(Level::Warning, &warning, &[], None, styled));
        }
    }
    write_atomic(&out, &merged.timeline)?;
    if !global.quiet {
        let t = &merged.timeline;
        let ran = t.phases.iter().filter(|p| p.status != PhaseStatus::Pending).count();
        eprintln!(
            "      Merged {} timeline(s) of `{}` into `{}`: {ran} of {} phases ran, pipeline {}",
            found.paths.len(),
            t.pipeline,
            shown(&out),
            t.phases.len(),
            t.status.as_str()
        );
    }
    Ok(())
}

/// Merges what was found, naming the files in errors.
pub fn merge_found(found: &Found) -> Result<Merged, Error> {
    let path = |i: usize| found.paths.get(i).map_or_else(|| "?".into(), |p| shown(p));
    merge(&found.timelines).map_err(|e| match e {
        MergeError::Empty => Error::usage(
            "no timeline found to merge",
            "pass timeline files, or the folders the jobs' artifacts were unpacked in \
             (`*.json` files are searched recursively)",
        ),
        MergeError::OtherPipeline { index, expected, found } => Error::usage(
            format!(
                "`{}` records pipeline `{found}`, but `{}` records `{expected}`",
                path(index),
                path(0)
            ),
            "merge the timelines of one pipeline: pass only the artifacts of its jobs",
        ),
        MergeError::OtherSchema { index, expected, found } => Error::usage(
            format!(
                "`{}` has schema version {found}, but `{}` has {expected}",
                path(index),
                path(0)
            ),
            "record every part with the same cargo-milo version",
        ),
        MergeError::BadStart { index, started_at } => Error::usage(
            format!("`{}` has an invalid `started_at`: `{started_at}`", path(index)),
            "`started_at` must be an RFC 3339 time, as `cargo milo run` writes it",
        ),
    })
}

/// Copies each phase's log from beside the timeline that ran it to `dir/logs/<phase>.log`
/// and points its `log_file` there. A log that is missing is named in a warning and its
/// `log_file` dropped, so the merged timeline never points at nothing.
fn copy_logs(merged: &mut Merged, found: &Found, dir: &Path) -> Result<Vec<String>, Error> {
    let logs = dir.join(LOG_DIR);
    let mut warnings = Vec::new();
    let mut created = false;
    for (phase, origin) in merged.timeline.phases.iter_mut().zip(&merged.origins) {
        let (Some(i), Some(rel)) = (origin, phase.log_file.take()) else { continue };
        let source = found.paths[*i].parent().unwrap_or(Path::new(".")).join(&rel);
        if !source.is_file() {
            warnings.push(format!(
                "the log of `{}` is not at `{}`: the merged timeline has none for it",
                phase.name,
                shown(&source)
            ));
            continue;
        }
        if !created {
            std::fs::create_dir_all(&logs)
                .map_err(|e| Error::io("creating the folder", &logs, e))?;
            created = true;
        }
        let file = format!("{}.log", phase.name);
        let target: PathBuf = logs.join(&file);
        let same =
            source.canonicalize().ok().zip(target.canonicalize().ok()).is_some_and(|(a, b)| a == b);
        if !same {
            std::fs::copy(&source, &target)
                .map_err(|e| Error::io("copying a log to", &target, e))?;
        }
        phase.log_file = Some(format!("{LOG_DIR}/{file}"));
    }
    Ok(warnings)
}
