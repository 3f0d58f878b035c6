//! Meaning checks over the raw form: names, handlers, numbers, enums, durations and the
//! graph. Every problem is collected; nothing stops at the first.

use std::collections::BTreeMap;
use std::ops::Range;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::duration::{from_seconds, parse_duration};
use super::expand::{self, Template};
use super::placeholder;
use super::raw::{At, RawDuration, RawPhase, RawPipeline, RawPolicy};
use crate::ci::OutputMode;
use crate::diagnostic::Diagnostic;
use crate::phase::{Backoff, Handler, OnFail, Phase, PhasePolicy, is_valid_name};
use crate::pipeline::{Pipeline, PipelineError, PipelineSettings, is_env_name};
use crate::workspace::Workspace;

/// The largest `weight`: a million phases of it still sum without overflow.
const MAX_WEIGHT: u64 = u32::MAX as u64;

/// The largest `max_retries`.
const MAX_RETRIES: u64 = 1_000_000;

/// The longest `timeout` or `retry_delay` (a year): longer is surely a typo, and deadlines
/// computed from it must not overflow.
const MAX_DURATION: Duration = Duration::from_secs(366 * 24 * 3600);

/// Checks `raw` and builds the pipeline; `problems` are the shape problems found while
/// reading it. Relative `cwd`s and `timeline` resolve against `dir`; `default_name` names a
/// pipeline without `name`; per-package phases expand over `workspace` (`None`: outside a
/// Cargo workspace). Returns every problem, sorted by position, when there is any.
pub fn validate(
    raw: &RawPipeline,
    problems: Vec<Diagnostic>,
    dir: &Path,
    default_name: impl FnOnce() -> String,
    workspace: Option<&Workspace>,
) -> Result<(Pipeline, Option<PathBuf>), Vec<Diagnostic>> {
    let mut v = Validator { problems };
    let settings = PipelineSettings {
        fail_fast: raw.fail_fast.as_ref().is_some_and(|b| b.value),
        capture_output: raw.capture_output.as_ref().is_none_or(|b| b.value),
        output: raw.output.as_ref().and_then(|mode| v.output_mode(mode)),
        jobs: raw.jobs.as_ref().map_or(0, |j| v.count("jobs", j)),
        env: v.env(&raw.env),
        dir: None,
        affected_global: v.globs(&raw.affected_global),
        export: super::export::settings(raw.export.as_ref(), &mut v.problems),
    };
    if let Some(name) = &raw.name
        && name.value.trim().is_empty()
    {
        v.problems.push(
            Diagnostic::new("the pipeline name is empty", name.span.clone())
                .label("empty name")
                .help("remove `name` to use the folder's name, or give a name"),
        );
    }
    if let Some(timeline) = &raw.timeline
        && timeline.value.is_empty()
    {
        v.problems.push(
            Diagnostic::new("`timeline` is empty", timeline.span.clone())
                .label("empty path")
                .help("remove `timeline` to use <target dir>/milo/timeline.json"),
        );
    }
    if raw.phases.is_empty() && v.problems.is_empty() {
        v.problems.push(
            Diagnostic::new("no phases: the file has no `[[pipeline.phase]]`", raw.end..raw.end)
                .label("expected a phase")
                .help("add one, e.g. `[[pipeline.phase]]` then `name = \"test\"` and `cmd = \"cargo test\"`"),
        );
    }
    if expands(raw) {
        let templates = raw.phases.iter().filter_map(|raw| {
            let phase = v.phase(raw);
            raw.name.as_ref().map(|name| Template { raw, name, phase })
        });
        let templates: Vec<Template> = templates.collect();
        v.self_loops(raw);
        let expanded = expand::expand(&templates, workspace, &mut v.problems);
        if let Some(expanded) = expanded.filter(|_| v.problems.is_empty()) {
            return v.build(
                raw,
                expanded.phases,
                Some(&expanded.dep_spans),
                settings,
                dir,
                default_name,
            );
        }
        return Err(v.sorted());
    }
    let mut phases: Vec<Phase> = Vec::with_capacity(raw.phases.len());
    phases.extend(raw.phases.iter().filter_map(|p| v.phase(p)));
    v.self_loops(raw);
    if v.problems.is_empty() {
        return v.build(raw, phases, None, settings, dir, default_name);
    }
    v.graph(raw);
    Err(v.sorted())
}

/// Whether the file has per-package phases or dependencies on them (`^x`, `x:pkg`).
fn expands(raw: &RawPipeline) -> bool {
    let special = |d: &At<String>| d.value.bytes().any(|b| b == b'^' || b == b':');
    raw.uses_packages() || raw.phases.iter().any(|p| p.depends_on.iter().any(special))
}

/// Collects problems while checking; its graph checks live in [`super::references`], its
/// checks of `inputs`, `outputs` and `env_inputs` in [`super::freshness`].
pub(super) struct Validator {
    /// Every problem found so far.
    pub(super) problems: Vec<Diagnostic>,
}

impl Validator {
    /// The problems, sorted by position.
    fn sorted(self) -> Vec<Diagnostic> {
        let mut problems = self.problems;
        problems.sort_by_key(|d| d.span.as_ref().map_or((0, 0), |s| (s.start, s.end)));
        problems
    }

    /// The pipeline of valid `phases`; the graph is checked once, while building. Expanded
    /// phases come with `dep_spans`, the entry behind each dependency.
    fn build(
        mut self,
        raw: &RawPipeline,
        mut phases: Vec<Phase>,
        dep_spans: Option<&[Vec<Range<usize>>]>,
        settings: PipelineSettings,
        dir: &Path,
        default_name: impl FnOnce() -> String,
    ) -> Result<(Pipeline, Option<PathBuf>), Vec<Diagnostic>> {
        for phase in &mut phases {
            if let Some(cwd) = &phase.cwd {
                phase.cwd = Some(dir.join(cwd));
            }
        }
        let settings = PipelineSettings { dir: Some(dir.to_path_buf()), ..settings };
        let name = raw.name.as_ref().map_or_else(default_name, |n| n.value.clone());
        match Pipeline::from_parts_or_back(name, phases, settings) {
            Ok(pipeline) => {
                return Ok((pipeline, raw.timeline.as_ref().map(|t| dir.join(&t.value))));
            }
            Err((PipelineError::Graph(errors), phases)) => {
                if let Some(spans) = dep_spans {
                    self.instance_graph_errors(&phases, spans, errors);
                } else {
                    let named = raw.phases.iter().filter_map(|p| p.name.as_ref().map(|n| (p, n)));
                    self.graph_errors(&named.collect::<Vec<_>>(), errors);
                }
            }
            Err((other, _)) => self.problems.push(Diagnostic::whole_file(other.to_string())),
        }
        Err(self.sorted())
    }

    /// A phase, or `None` when it has a problem (already recorded).
    fn phase(&mut self, raw: &RawPhase) -> Option<Phase> {
        let before = self.problems.len();
        let name = self.phase_name(raw);
        let handler = self.handler(raw, name.as_deref());
        let weight = raw.weight.as_ref().map_or(1, |w| self.bounded("weight", w, MAX_WEIGHT));
        let max_logs = raw
            .max_logs
            .as_ref()
            .map_or(crate::phase::DEFAULT_MAX_LOGS, |m| self.count("max_logs", m));
        let timeout = raw.timeout.as_ref().and_then(|t| self.duration("timeout", t));
        let policy = self.policy(&raw.policy);
        let env = self.env(&raw.env);
        if let Some(cwd) = &raw.cwd
            && cwd.value.is_empty()
        {
            self.problems.push(
                Diagnostic::new("`cwd` is empty", cwd.span.clone())
                    .label("empty path")
                    .help("remove `cwd` to run in Milo.toml's folder, or write `cwd = \".\"`"),
            );
        }
        if let Some(cwd) = &raw.cwd {
            self.no_nul("cwd", cwd);
        }
        let freshness = self.freshness(raw);
        self.problems.extend(placeholder::problems(raw));
        if self.problems.len() > before {
            return None;
        }
        let phase = Phase {
            name: name?,
            handler: handler?,
            description: raw.description.as_ref().map(|d| d.value.clone()).unwrap_or_default(),
            depends_on: raw.depends_on.iter().map(|d| d.value.clone()).collect(),
            parallel: raw.parallel.as_ref().is_some_and(|p| p.value),
            weight,
            policy,
            max_logs,
            timeout,
            cwd: raw.cwd.as_ref().map(|c| c.value.clone().into()),
            env,
            instance: None,
            keep_daemons: raw.keep_daemons.as_ref().is_some_and(|k| k.value),
            inputs: freshness.inputs,
            outputs: freshness.outputs,
            env_inputs: freshness.env_inputs,
        };
        Some(phase)
    }

    fn phase_name(&mut self, raw: &RawPhase) -> Option<String> {
        let Some(name) = &raw.name else {
            self.problems.push(
                Diagnostic::new("a phase has no `name`", header(&raw.span))
                    .label("this phase")
                    .help("add `name = \"...\"`: letters, digits, `_`, `.` and `-`"),
            );
            return None;
        };
        if !is_valid_name(&name.value) {
            self.problems.push(
                Diagnostic::new(format!("invalid phase name `{}`", name.value), name.span.clone())
                    .label("not a valid name")
                    .help("use letters, digits, `_`, `.` and `-`, starting with a letter or digit"),
            );
            return None;
        }
        Some(name.value.clone())
    }

    fn handler(&mut self, raw: &RawPhase, name: Option<&str>) -> Option<Handler> {
        let who = name.map_or_else(|| "a phase".to_owned(), |n| format!("phase `{n}`"));
        match (&raw.cmd, &raw.args) {
            (Some(cmd), Some(args)) => {
                self.problems.push(
                    Diagnostic::new(format!("{who} has both `cmd` and `args`"), args.span.clone())
                        .label("`args` here")
                        .related(cmd.span.clone(), "`cmd` here")
                        .help("keep one: `cmd` runs through the shell, `args` runs the program directly"),
                );
                None
            }
            (None, None) => {
                let span = raw.name.as_ref().map_or_else(|| header(&raw.span), |n| n.span.clone());
                self.problems.push(
                    Diagnostic::new(format!("{who} has neither `cmd` nor `args`"), span)
                        .label("nothing to run")
                        .help("add `cmd = \"...\"` (run by the shell) or `args = [\"program\", \"arg\"]`"),
                );
                None
            }
            (Some(cmd), None) => {
                if cmd.value.trim().is_empty() {
                    self.problems.push(
                        Diagnostic::new(format!("{who} has an empty `cmd`"), cmd.span.clone())
                            .label("empty command")
                            .help("write the command line to run, e.g. `cmd = \"cargo test\"`"),
                    );
                    return None;
                }
                if !self.no_nul("cmd", cmd) {
                    return None;
                }
                Some(Handler::Shell(cmd.value.clone()))
            }
            (None, Some(args)) => {
                if args.value.first().is_none_or(|a| a.value.is_empty()) {
                    let span = args.value.first().map_or(args.span.clone(), |a| a.span.clone());
                    self.problems.push(
                        Diagnostic::new(format!("{who} has an empty `args`"), span)
                            .label("no program")
                            .help("the first entry is the program, e.g. `args = [\"cargo\", \"test\"]`"),
                    );
                    return None;
                }
                // Every argument is checked, so each NUL gets its own message.
                let with_nul = args.value.iter().filter(|a| !self.no_nul("args", a)).count();
                if with_nul > 0 {
                    return None;
                }
                Some(Handler::Args(args.value.iter().map(|a| a.value.clone()).collect()))
            }
        }
    }

    fn policy(&mut self, raw: &RawPolicy) -> PhasePolicy {
        let mut policy = PhasePolicy::default();
        if let Some(on_fail) = &raw.on_fail {
            match on_fail.value.as_str() {
                "stop" => policy.on_fail = OnFail::Stop,
                "skip" => policy.on_fail = OnFail::Skip,
                "retry" => policy.on_fail = OnFail::Retry,
                _ => self.bad_choice("on_fail", on_fail, &["stop", "skip", "retry"]),
            }
        }
        if let Some(backoff) = &raw.retry_backoff {
            match backoff.value.as_str() {
                "fixed" => policy.retry_backoff = Backoff::Fixed,
                "exponential" => policy.retry_backoff = Backoff::Exponential,
                _ => self.bad_choice("retry_backoff", backoff, &["fixed", "exponential"]),
            }
        }
        if let Some(n) = &raw.max_retries {
            let n = self.bounded("max_retries", n, MAX_RETRIES);
            policy.max_retries = u32::try_from(n).unwrap_or(u32::MAX);
        }
        if let Some(delay) = raw.retry_delay.as_ref().and_then(|d| self.duration("retry_delay", d))
        {
            policy.retry_delay = delay;
        }
        policy
    }

    /// `output = "prefixed" | "grouped" | "errors"`.
    fn output_mode(&mut self, mode: &At<String>) -> Option<OutputMode> {
        let found = OutputMode::from_name(&mode.value);
        if found.is_none() {
            let names = OutputMode::ALL.map(OutputMode::name);
            self.bad_choice("output", mode, &names);
        }
        found
    }

    fn bad_choice(&mut self, key: &str, value: &At<String>, choices: &[&str]) {
        let list = choices.iter().map(|c| format!("\"{c}\"")).collect::<Vec<_>>().join(", ");
        let mut d = Diagnostic::new(
            format!("invalid `{key}` value \"{}\"", value.value),
            value.span.clone(),
        )
        .label(format!("expected one of {list}"));
        if let Some(guess) = crate::suggest::closest(&value.value, choices.iter().copied()) {
            d = d.help(format!("did you mean \"{guess}\"?"));
        } else {
            d = d.help(format!("use one of {list}"));
        }
        self.problems.push(d);
    }

    /// A non-negative integer as `usize`; records a problem and returns 0 otherwise.
    fn count(&mut self, key: &str, n: &At<i64>) -> usize {
        self.bounded(key, n, u64::MAX).try_into().unwrap_or(usize::MAX)
    }

    /// An integer in `0..=max`; records a problem and returns 0 otherwise. Bounds keep
    /// sums (total weight) and counters (attempts) from overflowing later.
    fn bounded(&mut self, key: &str, n: &At<i64>, max: u64) -> u64 {
        match u64::try_from(n.value) {
            Ok(v) if v <= max => v,
            Ok(_) => {
                self.problems.push(
                    Diagnostic::new(format!("`{key}` is too large: {}", n.value), n.span.clone())
                        .label(format!("at most {max}"))
                        .help(format!("use a whole number from 0 to {max} for `{key}`")),
                );
                0
            }
            Err(_) => {
                self.problems.push(
                    Diagnostic::new(
                        format!("`{key}` must be >= 0, found {}", n.value),
                        n.span.clone(),
                    )
                    .label("negative")
                    .help(format!("use a whole number of 0 or more for `{key}`")),
                );
                0
            }
        }
    }

    fn duration(&mut self, key: &str, raw: &At<RawDuration>) -> Option<Duration> {
        let parsed = match &raw.value {
            RawDuration::Text(text) => parse_duration(text),
            RawDuration::Seconds(s) => from_seconds(*s),
        };
        let parsed = parsed.and_then(|d| {
            if d <= MAX_DURATION { Ok(d) } else { Err("longer than a year".to_owned()) }
        });
        match parsed {
            Ok(d) => Some(d),
            Err(reason) => {
                let shown = match &raw.value {
                    RawDuration::Text(t) => format!("\"{t}\""),
                    RawDuration::Seconds(s) => format!("{s:?}"),
                };
                // humantime's "expected number at 0" says less than "not a duration".
                let useful = !reason.starts_with("expected number")
                    && !reason.starts_with("invalid character");
                let label = if useful {
                    format!("not a duration: {reason}")
                } else {
                    "not a duration".to_owned()
                };
                self.problems.push(
                    Diagnostic::new(format!("invalid `{key}` {shown}"), raw.span.clone())
                        .label(label)
                        .help("write a duration like \"90s\", \"10m\" or \"1h 30m\", or seconds as a number"),
                );
                None
            }
        }
    }

    /// Reports a NUL byte in `key`'s value (no program, argument or path may hold one);
    /// `true` when there is none.
    fn no_nul(&mut self, key: &str, value: &At<String>) -> bool {
        if !value.value.contains('\0') {
            return true;
        }
        self.problems.push(
            Diagnostic::new(format!("`{key}` contains a NUL byte"), value.span.clone())
                .label("NUL here")
                .help("remove the `\\u0000`: programs, arguments and paths cannot hold NUL"),
        );
        false
    }

    fn env(&mut self, vars: &[(At<String>, At<String>)]) -> BTreeMap<String, String> {
        let mut env = BTreeMap::new();
        for (key, value) in vars {
            if !is_env_name(&key.value) {
                self.problems.push(
                    Diagnostic::new(
                        format!("invalid environment variable name `{}`", key.value),
                        key.span.clone(),
                    )
                    .label("not a variable name")
                    .help("names must be non-empty and contain no `=` or NUL"),
                );
            } else if value.value.contains('\0') {
                self.problems.push(
                    Diagnostic::new(
                        format!("environment variable `{}` contains a NUL byte", key.value),
                        value.span.clone(),
                    )
                    .label("NUL here"),
                );
            } else {
                env.insert(key.value.clone(), value.value.clone());
            }
        }
        env
    }

    /// `affected_global`: each entry must be a glob.
    fn globs(&mut self, globs: &[At<String>]) -> Vec<String> {
        let values: Vec<String> = globs.iter().map(|g| g.value.clone()).collect();
        for (glob, value) in globs.iter().zip(&values) {
            if let Err(bad) = crate::affected::global_globs(std::slice::from_ref(value)) {
                self.problems.push(
                    Diagnostic::new(
                        format!("invalid glob `{}` in `affected_global`", glob.value),
                        glob.span.clone(),
                    )
                    .label(bad.error.kind().to_string())
                    .help("globs are relative to Milo.toml's folder: `*` stays in a folder, `**` crosses folders"),
                );
            }
        }
        values
    }
}

/// The first line of a table's span: its `[[pipeline.phase]]` header, not the whole body.
fn header(span: &Range<usize>) -> Range<usize> {
    span.start..span.start.saturating_add(1).max(span.end.min(span.start + 1))
}

#[cfg(test)]
#[path = "validate_tests.rs"]
mod tests;
