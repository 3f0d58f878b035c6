//! Problems between phases, located in Milo.toml: duplicate names, unknown dependencies and
//! cycles (through instances of per-package phases too), each pointed at the entry to fix.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::ops::Range;

use super::raw::{At, RawPhase, RawPipeline};
use super::validate::Validator;
use crate::diagnostic::Diagnostic;
use crate::graph::{CycleError, Graph, GraphError};
use crate::phase::Phase;

/// How many steps of a cycle are pointed at in the file.
const CYCLE_EDGES_SHOWN: usize = 8;

/// How many phase names a "missing dependency" note lists before "and N more".
const LIST_LIMIT: usize = 12;

/// Two phases named `name`: the second at `second`, the first at `first`.
pub(super) fn duplicate(name: &str, first: &Range<usize>, second: &Range<usize>) -> Diagnostic {
    Diagnostic::new(format!("duplicate phase name `{name}`"), second.clone())
        .label("defined again here")
        .related(first.clone(), "first defined here")
        .help("phase names must be unique: rename or remove one of them")
}

/// Phase `who` depends on `missing`, which no phase is called; `names` are the phases.
pub(super) fn unknown_dependency(
    who: &str,
    missing: &str,
    span: Range<usize>,
    names: &[&str],
) -> Diagnostic {
    missing_dependency(
        who,
        missing,
        span,
        names,
        crate::suggest::closest(missing, names.iter().copied()),
    )
}

fn missing_dependency(
    who: &str,
    missing: &str,
    span: Range<usize>,
    names: &[&str],
    suggestion: Option<&str>,
) -> Diagnostic {
    let d = Diagnostic::new(format!("phase `{who}` depends on unknown phase `{missing}`"), span)
        .label("no phase has this name")
        .note(format!("available phases: {}", list_names(names)));
    match suggestion {
        Some(s) => d.help(format!("did you mean `{s}`?")),
        None => d.help("depend on one of the available phases, or add the missing one"),
    }
}

impl Validator {
    /// A phase that depends on itself, pointed at the entry (also inside larger cycles).
    pub(super) fn self_loops(&mut self, raw: &RawPipeline) {
        for phase in &raw.phases {
            let Some(name) = &phase.name else { continue };
            if let Some(entry) = phase.depends_on.iter().find(|d| d.value == name.value) {
                self.problems.push(
                    Diagnostic::new(
                        format!("circular dependency: {0} → {0}", name.value),
                        entry.span.clone(),
                    )
                    .label(format!("`{0}` depends on `{0}`", name.value))
                    .help(format!(
                        "a phase cannot depend on itself: remove `{}` from its `depends_on`",
                        name.value
                    )),
                );
            }
        }
    }

    /// Duplicates, unknown dependencies and cycles, each pointed at the offending entry.
    pub(super) fn graph(&mut self, raw: &RawPipeline) {
        // Phases without a name cannot be depended on; leave them out of the graph.
        let phases: Vec<(&RawPhase, &At<String>)> =
            raw.phases.iter().filter_map(|p| p.name.as_ref().map(|n| (p, n))).collect();
        let names: Vec<&str> = phases.iter().map(|(_, n)| n.value.as_str()).collect();
        let deps: Vec<Vec<&str>> = phases
            .iter()
            .map(|(p, _)| p.depends_on.iter().map(|d| d.value.as_str()).collect())
            .collect();
        if let Err(errors) = Graph::from_names(&names, &deps) {
            self.graph_errors(&phases, errors);
        }
    }

    /// Locates graph errors; indexes in `errors` point into `phases`.
    pub(super) fn graph_errors(
        &mut self,
        phases: &[(&RawPhase, &At<String>)],
        errors: Vec<GraphError>,
    ) {
        let names: Vec<&str> = phases.iter().map(|(_, n)| n.value.as_str()).collect();
        for e in errors {
            let d = match e {
                GraphError::DuplicateName { name, first, second } => {
                    duplicate(&name, &phases[first].1.span, &phases[second].1.span)
                }
                GraphError::MissingDependency { phase, position, missing, suggestion } => {
                    let (p, n) = phases[phase];
                    let span = p.depends_on[position].span.clone();
                    missing_dependency(&n.value, &missing, span, &names, suggestion.as_deref())
                }
                // Self-dependencies are reported per phase above, also inside larger cycles.
                GraphError::Cycle { cycle, .. } if cycle.path.len() == 2 => continue,
                GraphError::Cycle { cycle, .. } => {
                    let Some(d) = cycle_diagnostic(&cycle, &cycle_edges(phases, &cycle.path))
                    else {
                        continue;
                    };
                    d
                }
            };
            self.problems.push(d);
        }
    }

    /// Locates the cycles among expanded `phases` (instance names in the path); `dep_spans`
    /// holds, for each phase, the entry behind each of its dependencies.
    pub(super) fn instance_graph_errors(
        &mut self,
        phases: &[Phase],
        dep_spans: &[Vec<Range<usize>>],
        errors: Vec<GraphError>,
    ) {
        let by_name: HashMap<&str, usize> =
            phases.iter().enumerate().map(|(i, p)| (p.name.as_str(), i)).collect();
        for e in errors {
            let GraphError::Cycle { cycle, .. } = e else {
                // Names and references were checked before expansion.
                self.problems.push(Diagnostic::whole_file(e.to_string()));
                continue;
            };
            let edges: Vec<(Range<usize>, String)> = cycle
                .path
                .windows(2)
                .filter_map(|step| {
                    let &from = by_name.get(step[0].as_str())?;
                    let k = phases[from].depends_on.iter().position(|d| *d == step[1])?;
                    let span = dep_spans.get(from)?.get(k)?.clone();
                    Some((span, format!("`{}` depends on `{}`", step[0], step[1])))
                })
                .collect();
            if let Some(d) = cycle_diagnostic(&cycle, &edges) {
                self.problems.push(d);
            }
        }
    }
}

/// A cycle pointed at its first edges (`edges`: the span and label of each step).
fn cycle_diagnostic(cycle: &CycleError, edges: &[(Range<usize>, String)]) -> Option<Diagnostic> {
    let ((first_span, first_label), rest) = edges.split_first()?;
    let mut d =
        Diagnostic::new(cycle_message(cycle), first_span.clone()).label(first_label.clone());
    for (span, label) in rest.iter().take(CYCLE_EDGES_SHOWN - 1) {
        d = d.related(span.clone(), label.clone());
    }
    if edges.len() > CYCLE_EDGES_SHOWN {
        d = d
            .note(format!("{} more dependencies close the cycle", edges.len() - CYCLE_EDGES_SHOWN));
    }
    Some(d.help("remove one of these dependencies to break the cycle"))
}

/// For each step `a → b` of a cycle path, the span of `b` in `a`'s `depends_on`.
fn cycle_edges(named: &[(&RawPhase, &At<String>)], path: &[String]) -> Vec<(Range<usize>, String)> {
    // A cycle may run through every phase: look phases up by name, not by scanning.
    let by_name: HashMap<&str, &RawPhase> =
        named.iter().map(|(phase, name)| (name.value.as_str(), *phase)).collect();
    path.windows(2)
        .filter_map(|step| {
            let phase = by_name.get(step[0].as_str())?;
            let entry = phase.depends_on.iter().find(|d| d.value == step[1])?;
            Some((entry.span.clone(), format!("`{}` depends on `{}`", step[0], step[1])))
        })
        .collect()
}

/// `circular dependency: a → b → a`, with the middle of a very long path left out.
fn cycle_message(cycle: &CycleError) -> String {
    let path = &cycle.path;
    if path.len() <= 2 * CYCLE_EDGES_SHOWN {
        return cycle.to_string();
    }
    let head = path[..CYCLE_EDGES_SHOWN].join(" → ");
    let tail = path[path.len() - 2..].join(" → ");
    let hidden = path.len() - CYCLE_EDGES_SHOWN - 2;
    format!("circular dependency: {head} → … {hidden} more … → {tail}")
}

fn list_names(names: &[&str]) -> String {
    let mut unique: Vec<&str> = Vec::with_capacity(names.len().min(LIST_LIMIT));
    for n in names {
        if !unique.contains(n) {
            unique.push(n);
            if unique.len() == LIST_LIMIT {
                break;
            }
        }
    }
    let mut text = unique.iter().map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ");
    if names.len() > LIST_LIMIT {
        let _ = write!(text, " and {} more", names.len() - LIST_LIMIT);
    }
    text
}
