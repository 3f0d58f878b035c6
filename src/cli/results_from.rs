//! `run --only A B --results-from DIR`: the results the selected phases' dependencies had in
//! the timelines found in DIR (each dependency from the run that ran it, as `timeline merge`
//! picks it).

use std::collections::HashMap;
use std::path::Path;

use super::load::shown;
use super::timelines;
use crate::error::Error;
use crate::outputs::command_result;
use crate::pipeline::Pipeline;
use crate::state::{PhaseStatus, PipelineState};

/// For every phase of `pipeline` outside `selected` (positions), the result its dependents
/// get: the recorded result of each dependency of a selected phase (`None` for a skipped
/// one), `None` for the others, which nothing selected reads. A dependency without a
/// completed or skipped result in `dir` is an error naming it.
pub fn given(
    pipeline: &Pipeline,
    selected: &[usize],
    dir: Option<&Path>,
) -> Result<HashMap<String, Option<serde_json::Value>>, Error> {
    let phases = pipeline.phases();
    let mut keep = vec![false; phases.len()];
    for &i in selected {
        keep[i] = true;
    }
    // Each outside dependency, with the first selected phase that needs it.
    let mut needed: Vec<(usize, usize)> = Vec::new();
    for &s in selected {
        for &d in pipeline.graph().deps(s) {
            if !keep[d] && !needed.iter().any(|(n, _)| *n == d) {
                needed.push((d, s));
            }
        }
    }
    needed.sort_unstable();
    let mut given: HashMap<String, Option<serde_json::Value>> = phases
        .iter()
        .zip(&keep)
        .filter(|(_, k)| !**k)
        .map(|(p, _)| (p.name.clone(), None))
        .collect();
    let Some(&(first, by)) = needed.first() else { return Ok(given) };
    let Some(dir) = dir else {
        return Err(Error::usage(
            format!(
                "`{}` needs the result of `{}`, which `--only` does not run",
                phases[by].name, phases[first].name
            ),
            format!(
                "pass `--results-from DIR`, a folder holding a timeline where `{}` completed or \
                 was skipped, or run `{}` too",
                phases[first].name, phases[first].name
            ),
        ));
    };
    let found = timelines::find(&[dir.to_path_buf()], None)?;
    let recorded = if found.timelines.is_empty() {
        None
    } else {
        let merged = super::timeline_merge::merge_found(&found)?;
        if merged.timeline.pipeline != pipeline.name() {
            return Err(Error::usage(
                format!(
                    "the timelines in `{}` record pipeline `{}`, not `{}`",
                    shown(dir),
                    merged.timeline.pipeline,
                    pipeline.name()
                ),
                "pass the folder holding this pipeline's partial timelines",
            ));
        }
        Some(merged)
    };
    for (d, by) in needed {
        let name = &phases[d].name;
        let entry = recorded.as_ref().and_then(|m| {
            let k = m.timeline.phases.iter().position(|p| &p.name == name)?;
            Some((&m.timeline.phases[k], m.origins[k]))
        });
        let result = match entry {
            // An up-to-date phase's outputs are those recorded at its last success.
            Some((p, _)) if matches!(p.status, PhaseStatus::Completed | PhaseStatus::UpToDate) => {
                let code = p.attempts.last().and_then(|a| a.exit_code).unwrap_or(0);
                Some(command_result(code, &p.outputs))
            }
            Some((p, _)) if p.status == PhaseStatus::Skipped => None,
            other => {
                let why = match other {
                    Some((p, Some(i))) => {
                        format!("it is {} in `{}`", p.status.as_str(), shown(&found.paths[i]))
                    }
                    _ if found.timelines.is_empty() => {
                        format!("no timeline is in `{}`", shown(dir))
                    }
                    _ => format!("no timeline in `{}` ran it", shown(dir)),
                };
                return Err(Error::usage(
                    format!(
                        "`{}` needs the result of `{name}`, which has no completed or skipped \
                         result in `{}`: {why}",
                        phases[by].name,
                        shown(dir)
                    ),
                    format!(
                        "run `{name}` first and put its timeline in `{}`, or run it too: \
                         `--only {} {name}`",
                        shown(dir),
                        phases[by].name
                    ),
                ));
            }
        };
        given.insert(name.clone(), result);
    }
    Ok(given)
}

/// The phases a run with `given` phases runs, alone, their dependencies on the given ones
/// dropped (all of `pipeline` without `given`).
pub fn running(
    pipeline: &Pipeline,
    given: Option<&HashMap<String, Option<serde_json::Value>>>,
) -> Result<Pipeline, Error> {
    let Some(given) = given else { return Ok(pipeline.clone()) };
    let keep: Vec<bool> = pipeline.phases().iter().map(|p| !given.contains_key(&p.name)).collect();
    pipeline
        .only(&keep)
        .map_err(|e| Error::usage(e.to_string(), "report this: narrowing a valid pipeline failed"))
}

/// The state of the phases of `shown` alone, when the run had others (for the summary of a
/// `--only` run).
pub fn ran(state: &PipelineState, shown: &Pipeline) -> Option<PipelineState> {
    if shown.phases().len() == state.phases.len() {
        return None;
    }
    let phases = state.phases.iter().filter(|p| shown.get(&p.name).is_some()).cloned().collect();
    let mut ran = PipelineState::from_phases(state.name.clone(), phases);
    ran.status = state.status;
    ran.elapsed = state.elapsed;
    Some(ran)
}

/// `--only --dry-run`: which results come from the recorded timelines.
pub fn note(
    pipeline: &Pipeline,
    shown: &Pipeline,
    given: &std::collections::HashMap<String, Option<serde_json::Value>>,
) -> String {
    let mut used: Vec<&str> = shown
        .phases()
        .iter()
        .filter_map(|p| pipeline.get(&p.name))
        .flat_map(|p| p.depends_on.iter().map(String::as_str))
        .filter(|d| shown.get(d).is_none() && given.contains_key(*d))
        .collect();
    used.sort_unstable();
    used.dedup();
    if used.is_empty() {
        return String::new();
    }
    let list: Vec<String> = used
        .iter()
        .map(|d| match given.get(*d) {
            Some(Some(_)) => format!("{d} (completed)"),
            _ => format!("{d} (skipped: null)"),
        })
        .collect();
    format!("results from recorded timelines: {}\n", list.join(", "))
}
