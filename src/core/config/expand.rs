//! Per-package phases become instances: one phase per selected package, named
//! `<phase>:<package>`, with placeholders filled, `MILO_PACKAGE` / `MILO_PACKAGE_DIR` set and
//! every dependency resolved to instance names (SPEC §9). Every wrong reference is reported,
//! located; nothing is expanded until all are right.

use std::collections::HashMap;
use std::ops::Range;

use super::placeholder::{self, Values};
use super::raw::{At, RawPackages, RawPhase};
use super::references::{duplicate, unknown_dependency};
use crate::diagnostic::Diagnostic;
use crate::glob::escape;
use crate::phase::{Handler, Instance, Phase};
use crate::suggest::closest;
use crate::workspace::Workspace;

/// A declared phase, before expansion.
pub(super) struct Template<'a> {
    /// The phase as written.
    pub raw: &'a RawPhase,
    /// Its name.
    pub name: &'a At<String>,
    /// The validated phase; `None` when it has problems (already reported).
    pub phase: Option<Phase>,
}

/// The phases after expansion.
pub(super) struct Expanded {
    /// Single phases and instances, in declaration order (instances in selection order).
    pub phases: Vec<Phase>,
    /// For each phase, the span of the `depends_on` entry behind each of its dependencies.
    pub dep_spans: Vec<Vec<Range<usize>>>,
}

/// Whether a template runs once or once per package.
enum Kind {
    Single,
    /// The selected members, in order.
    PerPackage(Vec<usize>),
    /// Its `packages` is wrong (reported): references to it are not checked further.
    Broken,
}

/// What one `depends_on` entry means, by template index.
#[derive(Clone, Copy)]
enum Target {
    /// A single phase.
    Single(usize),
    /// From an instance: the same package's instance of a per-package phase.
    SamePackage(usize),
    /// From a single phase: every instance of a per-package phase.
    Every(usize),
    /// `^name`: the instances of the members this package depends on.
    Caret(usize),
    /// `name:pkg`: one instance (template, member).
    One(usize, usize),
}

/// Expands `templates` over `workspace`, recording every problem in `problems`. Returns the
/// phases only when every template is valid and nothing new went wrong.
pub(super) fn expand(
    templates: &[Template<'_>],
    workspace: Option<&Workspace>,
    problems: &mut Vec<Diagnostic>,
) -> Option<Expanded> {
    let before = problems.len();
    let mut by_name: HashMap<&str, usize> = HashMap::with_capacity(templates.len());
    for (i, t) in templates.iter().enumerate() {
        if let Some(&first) = by_name.get(t.name.value.as_str()) {
            problems.push(duplicate(&t.name.value, &templates[first].name.span, &t.name.span));
        } else {
            by_name.insert(&t.name.value, i);
        }
    }
    let kinds: Vec<Kind> =
        templates.iter().map(|t| kind(t.raw, t.name, workspace, problems)).collect();
    let names: Vec<&str> = templates.iter().map(|t| t.name.value.as_str()).collect();
    let resolver = Resolver { templates, kinds: &kinds, by_name, names, workspace };
    let targets: Vec<Vec<Option<Target>>> = (0..templates.len())
        .map(|i| {
            let deps = &templates[i].raw.depends_on;
            deps.iter().map(|d| resolver.resolve(i, d, problems)).collect()
        })
        .collect();
    if problems.len() > before || templates.iter().any(|t| t.phase.is_none()) {
        return None;
    }
    Some(resolver.instantiate(&targets))
}

/// A template's kind: its `packages` resolved against the workspace.
fn kind(
    raw: &RawPhase,
    name: &At<String>,
    workspace: Option<&Workspace>,
    problems: &mut Vec<Diagnostic>,
) -> Kind {
    let Some(packages) = &raw.packages else { return Kind::Single };
    let Some(ws) = workspace else {
        problems.push(
            Diagnostic::new(
                format!("phase `{}` has `packages`, outside a Cargo workspace", name.value),
                packages.span.clone(),
            )
            .label("no Cargo.toml above Milo.toml")
            .help("run cargo milo inside a Cargo project, or remove `packages`"),
        );
        return Kind::Broken;
    };
    let member_names = || ws.members.iter().map(|m| m.name.as_str());
    let selected = match &packages.value {
        RawPackages::Word(word) if word == "workspace" => (0..ws.members.len()).collect(),
        RawPackages::Word(word) if word == "default" => ws.default_members.clone(),
        RawPackages::Word(word) => {
            let mut d = Diagnostic::new(
                format!("invalid `packages` value \"{word}\""),
                packages.span.clone(),
            )
            .label("expected \"workspace\", \"default\" or a list of package names");
            d = if ws.member(word).is_some() {
                d.help(format!("for one package, write a list: `packages = [\"{word}\"]`"))
            } else if let Some(guess) = closest(word, ["workspace", "default"]) {
                d.help(format!("did you mean \"{guess}\"?"))
            } else {
                d.help("use \"workspace\" (every member), \"default\" (default-members) or a list of names")
            };
            problems.push(d);
            return Kind::Broken;
        }
        RawPackages::List(list) => {
            let mut selected = Vec::with_capacity(list.len());
            let mut ok = true;
            for entry in list {
                match ws.member(&entry.value) {
                    Some(m) if !selected.contains(&m) => selected.push(m),
                    Some(_) => {}
                    None => {
                        ok = false;
                        problems.push(unknown_package(&entry.value, entry.span.clone(), ws));
                    }
                }
            }
            if !ok {
                return Kind::Broken;
            }
            selected
        }
    };
    if selected.is_empty() {
        problems.push(
            Diagnostic::new(
                format!("phase `{}` selects no package", name.value),
                packages.span.clone(),
            )
            .label("empty selection")
            .note(format!("workspace members: {}", quoted(member_names())))
            .help("name at least one package, or use \"workspace\""),
        );
        return Kind::Broken;
    }
    Kind::PerPackage(selected)
}

fn unknown_package(name: &str, span: Range<usize>, ws: &Workspace) -> Diagnostic {
    let members = ws.members.iter().map(|m| m.name.as_str());
    let d = Diagnostic::new(format!("no package named `{name}` in the workspace"), span)
        .label("not a workspace member")
        .note(format!("workspace members: {}", quoted(members.clone())));
    match closest(name, members) {
        Some(guess) => d.help(format!("did you mean `{guess}`?")),
        None => d.help("name a member of the workspace (see `cargo metadata --no-deps`)"),
    }
}

fn quoted<'a>(names: impl Iterator<Item = &'a str>) -> String {
    names.map(|n| format!("`{n}`")).collect::<Vec<_>>().join(", ")
}

struct Resolver<'t, 'a> {
    templates: &'t [Template<'a>],
    kinds: &'t [Kind],
    by_name: HashMap<&'a str, usize>,
    names: Vec<&'a str>,
    workspace: Option<&'t Workspace>,
}

impl Resolver<'_, '_> {
    /// What entry `dep` of template `from` means; `None` (and a problem) when it is wrong.
    fn resolve(
        &self,
        from: usize,
        dep: &At<String>,
        problems: &mut Vec<Diagnostic>,
    ) -> Option<Target> {
        let who = self.names[from];
        let (caret, rest) = match dep.value.strip_prefix('^') {
            Some(rest) => (true, rest),
            None => (false, dep.value.as_str()),
        };
        let (name, package) = match rest.split_once(':') {
            Some((name, package)) if !caret => (name, Some(package)),
            _ => (rest, None),
        };
        let Some(&target) = self.by_name.get(name) else {
            problems.push(unknown_dependency(who, name, dep.span.clone(), &self.names));
            return None;
        };
        let problem = |message: String, label: &str, help: String| {
            Diagnostic::new(message, dep.span.clone()).label(label).help(help)
        };
        let from_kind = &self.kinds[from];
        match (&self.kinds[target], from_kind) {
            (Kind::Broken, _) | (_, Kind::Broken) => None,
            (Kind::Single, _) if caret => {
                problems.push(problem(
                    format!("`^{name}` needs a per-package `{name}`"),
                    "not a per-package phase",
                    format!("depend on `{name}` without `^`, or give `{name}` a `packages` key"),
                ));
                None
            }
            (Kind::PerPackage(_), Kind::Single) if caret => {
                problems.push(problem(
                    format!("`^{name}` in phase `{who}`, which has no `packages`"),
                    "`^` needs a package to follow",
                    format!("depend on `{name}` (every instance), or add `packages` to `{who}`"),
                ));
                None
            }
            (Kind::PerPackage(_), Kind::PerPackage(_)) if caret => Some(Target::Caret(target)),
            (Kind::Single, _) if package.is_some() => {
                problems.push(problem(
                    format!("`{name}` has no per-package instances"),
                    "not a per-package phase",
                    format!("depend on `{name}`"),
                ));
                None
            }
            (Kind::PerPackage(selected), _) if package.is_some() => {
                let package = package.unwrap_or_default();
                let ws = self.workspace?;
                let Some(member) = ws.member(package) else {
                    problems.push(unknown_package(package, dep.span.clone(), ws));
                    return None;
                };
                if selected.contains(&member) {
                    return Some(Target::One(target, member));
                }
                problems.push(self.no_instance(dep, name, &[member], selected));
                None
            }
            (Kind::Single, _) => Some(Target::Single(target)),
            (Kind::PerPackage(_), Kind::Single) => Some(Target::Every(target)),
            (Kind::PerPackage(selected), Kind::PerPackage(mine)) => {
                let missing: Vec<usize> =
                    mine.iter().copied().filter(|m| !selected.contains(m)).collect();
                if missing.is_empty() {
                    return Some(Target::SamePackage(target));
                }
                problems.push(self.no_instance(dep, name, &missing, selected));
                None
            }
        }
    }

    /// `name` has no instance for the `missing` members.
    fn no_instance(
        &self,
        dep: &At<String>,
        name: &str,
        missing: &[usize],
        selected: &[usize],
    ) -> Diagnostic {
        let Some(ws) = self.workspace else {
            return Diagnostic::new(format!("`{name}` has no instance here"), dep.span.clone());
        };
        let package_names =
            |list: &[usize]| quoted(list.iter().map(|&m| ws.members[m].name.as_str()));
        let plural = if missing.len() == 1 { "package" } else { "packages" };
        Diagnostic::new(
            format!("`{name}` has no instance for {plural} {}", package_names(missing)),
            dep.span.clone(),
        )
        .label("no such instance")
        .note(format!("`{name}` runs for {}", package_names(selected)))
        .help(format!(
            "select those packages in `{name}` too, or depend on one instance (`{name}:PACKAGE`) or on `^{name}`"
        ))
    }

    /// The instances and single phases, with dependencies as names.
    fn instantiate(&self, targets: &[Vec<Option<Target>>]) -> Expanded {
        // Where each template's instances start, and each member's instance of it.
        let mut index: Vec<Vec<Option<String>>> = Vec::with_capacity(self.templates.len());
        let members = self.workspace.map_or(0, |ws| ws.members.len());
        for (t, kind) in self.templates.iter().zip(self.kinds) {
            let mut names = vec![None; members];
            if let Kind::PerPackage(selected) = kind
                && let Some(ws) = self.workspace
            {
                for &m in selected {
                    names[m] = Some(format!("{}:{}", t.name.value, ws.members[m].name));
                }
            }
            index.push(names);
        }
        let mut phases = Vec::new();
        let mut dep_spans = Vec::new();
        for (t, template) in self.templates.iter().enumerate() {
            let Some(phase) = &template.phase else { continue };
            let entries = template.raw.depends_on.iter().map(|d| d.span.clone());
            let resolved: Vec<(Target, Range<usize>)> =
                targets[t].iter().zip(entries).filter_map(|(t, s)| t.map(|t| (t, s))).collect();
            let collect = |member: Option<usize>| {
                let mut deps = Deps::default();
                for (target, span) in &resolved {
                    deps.add_for(*target, member, span, self, &index);
                }
                deps
            };
            if let (Kind::PerPackage(selected), Some(ws)) = (&self.kinds[t], self.workspace) {
                for &m in selected {
                    let deps = collect(Some(m));
                    phases.push(instance(phase, &template.name.value, ws, m, deps.names));
                    dep_spans.push(deps.spans);
                }
            } else {
                let deps = collect(None);
                phases.push(Phase { depends_on: deps.names, ..phase.clone() });
                dep_spans.push(deps.spans);
            }
        }
        Expanded { phases, dep_spans }
    }
}

/// A phase's dependencies being collected: names, each once, with the entry behind it.
#[derive(Default)]
struct Deps {
    names: Vec<String>,
    spans: Vec<Range<usize>>,
}

impl Deps {
    fn push(&mut self, name: String, span: &Range<usize>) {
        if !self.names.contains(&name) {
            self.names.push(name);
            self.spans.push(span.clone());
        }
    }

    /// The names `target` stands for, from member `member`'s instance (`None`: a single
    /// phase).
    fn add_for(
        &mut self,
        target: Target,
        member: Option<usize>,
        span: &Range<usize>,
        resolver: &Resolver<'_, '_>,
        index: &[Vec<Option<String>>],
    ) {
        let mut add = |t: usize, m: usize| {
            if let Some(name) = &index[t][m] {
                self.push(name.clone(), span);
            }
        };
        let Some(ws) = resolver.workspace else {
            if let Target::Single(t) = target {
                self.push(resolver.names[t].to_owned(), span);
            }
            return;
        };
        match (target, member) {
            (Target::Single(t), _) => self.push(resolver.names[t].to_owned(), span),
            (Target::Every(t), _) => (0..ws.members.len()).for_each(|m| add(t, m)),
            (Target::One(t, m), _) | (Target::SamePackage(t), Some(m)) => add(t, m),
            (Target::Caret(t), Some(m)) => {
                // Through members `t` does not select, on to the nearest ones it does, so
                // the order between selected packages holds.
                let mut seen = vec![false; ws.members.len()];
                let mut stack = ws.build_deps(m);
                stack.reverse();
                while let Some(d) = stack.pop() {
                    if std::mem::replace(&mut seen[d], true) {
                        continue;
                    }
                    if index[t][d].is_some() {
                        add(t, d);
                    } else {
                        stack.extend(ws.build_deps(d).into_iter().rev());
                    }
                }
            }
            (Target::SamePackage(_) | Target::Caret(_), None) => {}
        }
    }
}

/// Template `phase` for member `m`: its strings filled, its package in its environment.
fn instance(phase: &Phase, name: &str, ws: &Workspace, m: usize, depends_on: Vec<String>) -> Phase {
    let member = &ws.members[m];
    let dir = member.dir.to_string_lossy();
    let manifest = member.manifest_path.to_string_lossy();
    let values = Values { package: &member.name, package_dir: &dir, manifest_path: &manifest };
    let fill = |text: &str| placeholder::fill(text, &values);
    let handler = match &phase.handler {
        Handler::Shell(cmd) => Handler::Shell(fill(cmd)),
        Handler::Args(args) => Handler::Args(args.iter().map(|a| fill(a)).collect()),
        Handler::Func(f) => Handler::Func(f.clone()),
    };
    let mut env: std::collections::BTreeMap<String, String> =
        phase.env.iter().map(|(k, v)| (k.clone(), fill(v))).collect();
    env.insert("MILO_PACKAGE".to_owned(), member.name.clone());
    env.insert("MILO_PACKAGE_DIR".to_owned(), dir.clone().into_owned());
    // In globs, the values match literally: a folder named `a[1]` is not a class.
    let (glob_package, glob_dir, glob_manifest) =
        (escape(&member.name), escape(&dir), escape(&manifest));
    let glob_values =
        Values { package: &glob_package, package_dir: &glob_dir, manifest_path: &glob_manifest };
    let fill_globs =
        |globs: &[String]| globs.iter().map(|g| placeholder::fill(g, &glob_values)).collect();
    let instance = Instance { phase: name.to_owned(), package: member.name.clone() };
    Phase {
        name: instance.name(),
        handler,
        description: fill(&phase.description),
        depends_on,
        cwd: phase.cwd.as_ref().map(|c| fill(&c.to_string_lossy()).into()),
        env,
        instance: Some(instance),
        inputs: phase.inputs.as_deref().map(fill_globs),
        outputs: fill_globs(&phase.outputs),
        ..phase.clone()
    }
}

#[cfg(test)]
#[path = "expand_tests.rs"]
mod tests;
