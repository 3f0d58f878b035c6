//! Reads parsed TOML into the raw form: known keys, value types, spans.
//!
//! This layer only checks shape (TOML syntax, known keys, value types). Unknown keys and
//! wrong types are collected as diagnostics and the value is treated as absent, so one pass
//! reports every problem; [`validate`](crate::config::validate) checks meaning.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::model::{At, RawDuration, RawExport, RawPackages, RawPhase, RawPipeline, RawPolicy};
use crate::diagnostic::Diagnostic;
use crate::suggest::closest;

/// Parses `source` in one go.
pub(super) fn parse_whole(source: &str) -> Result<(RawPipeline, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (doc, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        return Err(errors.iter().map(|e| syntax(source, e)).collect());
    }
    let mut reader = Reader::new(0);
    let pipeline = RawPipeline { end: source.len(), ..reader.document(doc.get_ref()) };
    Ok((pipeline, reader.problems))
}

fn syntax(source: &str, e: &toml::de::Error) -> Diagnostic {
    let message = e.message().trim_end().to_owned();
    let (first, rest) = message.split_once('\n').unwrap_or((&message, ""));
    let mut d = match e.span() {
        Some(span) => Diagnostic::new(format!("invalid TOML: {first}"), span).label(first),
        None => Diagnostic::whole_file(format!("invalid TOML: {first}")),
    };
    if !rest.trim().is_empty() {
        d = d.note(rest.trim());
    }
    if d.span.as_ref().is_some_and(|s| s.start >= source.len()) {
        d = d.help("the file ends early: close every string, array and table");
    }
    d
}

const TOP_KEYS: &[&str] = &["pipeline"];
const PIPELINE_KEYS: &[&str] = &[
    "name",
    "fail_fast",
    "capture_output",
    "output",
    "jobs",
    "timeline",
    "env",
    "affected_global",
    "export",
    "phase",
];
const EXPORT_KEYS: &[&str] = &["install", "setup", "runs_on", "image", "tags"];
const PHASE_KEYS: &[&str] = &[
    "name",
    "description",
    "cmd",
    "args",
    "depends_on",
    "parallel",
    "weight",
    "max_logs",
    "timeout",
    "cwd",
    "env",
    "keep_daemons",
    "policy",
    "packages",
    "inputs",
    "outputs",
    "env_inputs",
];
const POLICY_KEYS: &[&str] = &["on_fail", "max_retries", "retry_delay", "retry_backoff"];

/// Names other tools use for our keys (GitHub Actions, just, make), too far apart for a
/// spelling suggestion: `needs` → `depends_on`.
const ALIASES: &[(&str, &str)] = &[
    ("needs", "depends_on"),
    ("deps", "depends_on"),
    ("dependencies", "depends_on"),
    ("after", "depends_on"),
    ("requires", "depends_on"),
    ("run", "cmd"),
    ("command", "cmd"),
    ("script", "cmd"),
    ("shell", "cmd"),
    ("argv", "args"),
    ("working-directory", "cwd"),
    ("working_directory", "cwd"),
    ("workdir", "cwd"),
    ("dir", "cwd"),
    ("environment", "env"),
    ("desc", "description"),
    ("timeout-minutes", "timeout"),
    ("retries", "max_retries"),
    ("retry", "max_retries"),
    ("backoff", "retry_backoff"),
    ("delay", "retry_delay"),
    ("on_failure", "on_fail"),
    ("on-failure", "on_fail"),
    ("phases", "phase"),
    ("steps", "phase"),
    ("parallelism", "jobs"),
    ("members", "packages"),
    ("runs-on", "runs_on"),
    ("before_script", "setup"),
    ("install_command", "install"),
    ("crates", "packages"),
    ("package", "packages"),
    ("sources", "inputs"),
    ("generates", "outputs"),
];

type Entry<'a, 'i> = (&'a Spanned<std::borrow::Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

/// Reads a parsed TOML document (or a piece of one) into the raw form.
pub(super) struct Reader {
    /// Shape problems found so far.
    pub(super) problems: Vec<Diagnostic>,
    /// Where the parsed text starts in the whole file (chunks of a big file start later).
    offset: usize,
}

impl Reader {
    /// A span of the parsed text as a span of the whole file.
    fn at(&self, span: Range<usize>) -> Range<usize> {
        span.start + self.offset..span.end + self.offset
    }

    /// A reader for text that starts at byte `offset` of the file.
    pub(super) fn new(offset: usize) -> Self {
        Self { problems: Vec::new(), offset }
    }

    pub(super) fn document(&mut self, doc: &DeTable<'_>) -> RawPipeline {
        let mut pipeline = RawPipeline::default();
        for (key, value) in doc {
            match key.get_ref().as_ref() {
                "pipeline" => {
                    if let Some(table) = self.table(key.get_ref(), value) {
                        pipeline = self.pipeline(table);
                    }
                }
                other if PIPELINE_KEYS.contains(&other) => self.problems.push(
                    Diagnostic::new(
                        format!("`{other}` belongs in [pipeline]"),
                        self.at(key.span()),
                    )
                    .label("at the top level")
                    .help(format!("move `{other}` under a `[pipeline]` header")),
                ),
                _ => self.unknown((key, value), TOP_KEYS, "at the top level"),
            }
        }
        pipeline
    }

    fn pipeline(&mut self, table: &DeTable<'_>) -> RawPipeline {
        let mut p = RawPipeline::default();
        for (key, value) in table {
            let k = key.get_ref().as_ref();
            match k {
                "name" => p.name = self.string(k, value),
                "fail_fast" => p.fail_fast = self.boolean(k, value),
                "capture_output" => p.capture_output = self.boolean(k, value),
                "output" => p.output = self.string(k, value),
                "jobs" => p.jobs = self.integer(k, value),
                "timeline" => p.timeline = self.string(k, value),
                "env" => p.env = self.env(k, value),
                "affected_global" => {
                    p.affected_global = self.string_list(k, value).unwrap_or_default();
                }
                "export" => {
                    if let Some(table) = self.table("pipeline.export", value) {
                        p.export = Some(self.export(table));
                    }
                }
                "phase" => p.phases = self.phases(value),
                _ => self.unknown((key, value), PIPELINE_KEYS, "in [pipeline]"),
            }
        }
        p
    }

    pub(super) fn phases(&mut self, value: &Spanned<DeValue<'_>>) -> Vec<RawPhase> {
        let DeValue::Array(items) = value.get_ref() else {
            self.problems.push(
                Diagnostic::new(
                    "`pipeline.phase` must be an array of tables",
                    self.at(value.span()),
                )
                .label(format!("found {}", describe(value.get_ref())))
                .help("declare each phase under its own `[[pipeline.phase]]` header"),
            );
            return Vec::new();
        };
        let mut phases = Vec::with_capacity(items.len());
        for item in items {
            if let Some(table) = self.table("pipeline.phase", item) {
                phases.push(self.phase(table, self.at(item.span())));
            }
        }
        phases
    }

    fn phase(&mut self, table: &DeTable<'_>, span: Range<usize>) -> RawPhase {
        let mut p = RawPhase { span, ..RawPhase::default() };
        for (key, value) in table {
            let k = key.get_ref().as_ref();
            match k {
                "name" => p.name = self.string(k, value),
                "description" => p.description = self.string(k, value),
                "cmd" => p.cmd = self.string(k, value),
                "args" => p.args = self.spanned_list(k, value),
                "inputs" => p.inputs = self.spanned_list(k, value),
                "outputs" => p.outputs = self.spanned_list(k, value),
                "env_inputs" => p.env_inputs = self.spanned_list(k, value),
                "depends_on" => p.depends_on = self.string_list(k, value).unwrap_or_default(),
                "parallel" => p.parallel = self.boolean(k, value),
                "weight" => p.weight = self.integer(k, value),
                "max_logs" => p.max_logs = self.integer(k, value),
                "timeout" => p.timeout = self.duration(k, value),
                "cwd" => p.cwd = self.string(k, value),
                "env" => p.env = self.env(k, value),
                "keep_daemons" => p.keep_daemons = self.boolean(k, value),
                "policy" => {
                    if let Some(policy) = self.table(k, value) {
                        p.policy = self.policy(policy);
                    }
                }
                "packages" => p.packages = self.packages(value),
                _ => self.unknown((key, value), PHASE_KEYS, "in a phase"),
            }
        }
        p
    }

    fn export(&mut self, table: &DeTable<'_>) -> RawExport {
        let mut e = RawExport::default();
        for (key, value) in table {
            let k = key.get_ref().as_ref();
            match k {
                "install" => e.install = self.string(k, value),
                "setup" => e.setup = self.string_list(k, value).unwrap_or_default(),
                "runs_on" => e.runs_on = self.string(k, value),
                "image" => e.image = self.string(k, value),
                "tags" => e.tags = self.string_list(k, value).unwrap_or_default(),
                _ => self.unknown((key, value), EXPORT_KEYS, "in [pipeline.export]"),
            }
        }
        e
    }

    fn policy(&mut self, table: &DeTable<'_>) -> RawPolicy {
        let mut p = RawPolicy::default();
        for (key, value) in table {
            let k = key.get_ref().as_ref();
            match k {
                "on_fail" => p.on_fail = self.string(k, value),
                "max_retries" => p.max_retries = self.integer(k, value),
                "retry_delay" => p.retry_delay = self.duration(k, value),
                "retry_backoff" => p.retry_backoff = self.string(k, value),
                _ => self.unknown((key, value), POLICY_KEYS, "in a policy"),
            }
        }
        p
    }

    fn unknown(&mut self, (key, _value): Entry<'_, '_>, known: &[&str], place: &str) {
        let name = key.get_ref().as_ref();
        let mut d = Diagnostic::new(format!("unknown key `{name}` {place}"), self.at(key.span()))
            .label("unknown key");
        // A key that is valid one level up or down is a misplaced key, not a typo.
        let home = [
            (POLICY_KEYS, "inside the phase's `policy = { ... }`"),
            (PHASE_KEYS, "in a `[[pipeline.phase]]`"),
            (PIPELINE_KEYS, "under `[pipeline]`"),
            (EXPORT_KEYS, "under `[pipeline.export]`"),
        ]
        .into_iter()
        .find(|(keys, _)| *keys != known && keys.contains(&name));
        let alias = ALIASES
            .iter()
            .find(|(from, to)| *from == name.to_ascii_lowercase() && known.contains(to))
            .map(|(_, to)| *to);
        d = match (home, alias.or_else(|| closest(name, known.iter().copied()))) {
            (Some((_, home)), _) => d.help(format!("`{name}` belongs {home}")),
            (None, Some(guess)) => d.help(format!("did you mean `{guess}`?")),
            (None, None) => d.note(format!("expected one of: {}", quoted_list(known))),
        };
        self.problems.push(d);
    }

    fn mismatch(&mut self, key: &str, expected: &str, value: &Spanned<DeValue<'_>>) {
        self.problems.push(
            Diagnostic::new(
                format!("`{key}` must be {expected}, found {}", describe(value.get_ref())),
                self.at(value.span()),
            )
            .label(format!("expected {expected}")),
        );
    }

    fn table<'a, 'i>(
        &mut self,
        key: &str,
        value: &'a Spanned<DeValue<'i>>,
    ) -> Option<&'a DeTable<'i>> {
        if let DeValue::Table(t) = value.get_ref() {
            Some(t)
        } else {
            self.mismatch(key, "a table", value);
            None
        }
    }

    fn string(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<At<String>> {
        if let DeValue::String(s) = value.get_ref() {
            Some(At { value: s.to_string(), span: self.at(value.span()) })
        } else {
            self.mismatch(key, "a string", value);
            None
        }
    }

    fn boolean(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<At<bool>> {
        if let DeValue::Boolean(b) = value.get_ref() {
            Some(At { value: *b, span: self.at(value.span()) })
        } else {
            self.mismatch(key, "`true` or `false`", value);
            None
        }
    }

    fn integer(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<At<i64>> {
        let DeValue::Integer(n) = value.get_ref() else {
            self.mismatch(key, "an integer", value);
            return None;
        };
        if let Ok(n) = i64::from_str_radix(n.as_str(), n.radix()) {
            Some(At { value: n, span: self.at(value.span()) })
        } else {
            self.problems.push(
                Diagnostic::new(format!("`{key}` is too large"), self.at(value.span()))
                    .label("does not fit in 64 bits"),
            );
            None
        }
    }

    fn duration(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<At<RawDuration>> {
        let raw = match value.get_ref() {
            DeValue::String(s) => RawDuration::Text(s.to_string()),
            DeValue::Integer(n) => match i64::from_str_radix(n.as_str(), n.radix()) {
                #[allow(clippy::cast_precision_loss)]
                Ok(n) => RawDuration::Seconds(n as f64),
                Err(_) => RawDuration::Seconds(f64::INFINITY),
            },
            DeValue::Float(f) => RawDuration::Seconds(f.as_str().parse().unwrap_or(f64::NAN)),
            _ => {
                self.mismatch(key, "a duration (\"90s\", \"1h 30m\") or seconds", value);
                return None;
            }
        };
        Some(At { value: raw, span: self.at(value.span()) })
    }

    fn string_list(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Option<Vec<At<String>>> {
        let DeValue::Array(items) = value.get_ref() else {
            self.mismatch(key, "an array of strings", value);
            if let DeValue::String(s) = value.get_ref()
                && let Some(d) = self.problems.last_mut()
            {
                *d = d.clone().help(format!("write a list: `{key} = [{s:?}]`"));
            }
            return None;
        };
        let mut list = Vec::with_capacity(items.len());
        for item in items {
            if let Some(s) = self.string(&format!("{key} entry"), item) {
                list.push(s);
            }
        }
        Some(list)
    }

    /// A list of strings with the span of the whole array.
    fn spanned_list(
        &mut self,
        key: &str,
        value: &Spanned<DeValue<'_>>,
    ) -> Option<At<Vec<At<String>>>> {
        self.string_list(key, value).map(|list| At { value: list, span: self.at(value.span()) })
    }

    fn packages(&mut self, value: &Spanned<DeValue<'_>>) -> Option<At<RawPackages>> {
        let packages = match value.get_ref() {
            DeValue::String(s) => RawPackages::Word(s.to_string()),
            DeValue::Array(_) => RawPackages::List(self.string_list("packages", value)?),
            _ => {
                self.mismatch(
                    "packages",
                    "\"workspace\", \"default\" or an array of package names",
                    value,
                );
                return None;
            }
        };
        Some(At { value: packages, span: self.at(value.span()) })
    }

    fn env(&mut self, key: &str, value: &Spanned<DeValue<'_>>) -> Vec<(At<String>, At<String>)> {
        let Some(table) = self.table(key, value) else { return Vec::new() };
        let mut vars = Vec::with_capacity(table.len());
        for (name, value) in table {
            let name = At { value: name.get_ref().to_string(), span: self.at(name.span()) };
            if let DeValue::String(s) = value.get_ref() {
                vars.push((name, At { value: s.to_string(), span: self.at(value.span()) }));
            } else {
                self.problems.push(
                    Diagnostic::new(
                        format!(
                            "environment variable `{}` must be a string, found {}",
                            name.value,
                            describe(value.get_ref())
                        ),
                        self.at(value.span()),
                    )
                    .label("expected a string")
                    .help("quote the value, e.g. `RUST_BACKTRACE = \"1\"`"),
                );
            }
        }
        vars
    }
}

/// "a string", "an integer", … for messages.
fn describe(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

fn quoted_list(items: &[&str]) -> String {
    items.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_key_with_spans() {
        let src = r#"
[pipeline]
name = "ci"
jobs = 0x10
env = { A = "1" }

[[pipeline.phase]]
name = "b"
args = ["x", "y"]
depends_on = ["a"]
timeout = "10m"
policy = { on_fail = "retry", retry_delay = 2 }
"#;
        let (p, problems) = parse_whole(src).expect("valid TOML");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(p.jobs.map(|j| j.value), Some(16));
        assert_eq!(p.env[0].1.value, "1");
        let phase = &p.phases[0];
        let name = phase.name.as_ref().expect("name");
        assert_eq!(&src[name.span.clone()], "\"b\"");
        assert_eq!(phase.args.as_ref().map(|a| a.value.len()), Some(2));
        assert_eq!(
            phase.policy.retry_delay.as_ref().map(|d| &d.value),
            Some(&RawDuration::Seconds(2.0))
        );
    }

    #[test]
    fn collects_unknown_keys_and_wrong_types() {
        let src = "[pipeline]\nnmae = 1\n[[pipeline.phase]]\nweight = \"x\"\ndepend_on = []\n";
        let (_, problems) = parse_whole(src).expect("valid TOML");
        let messages: Vec<&str> = problems.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(problems.len(), 3, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("`nmae`")));
        assert!(messages.iter().any(|m| m.contains("`weight` must be an integer, found a string")));
        assert!(problems.iter().any(|d| d.help.iter().any(|h| h.contains("`depends_on`"))));
    }

    #[test]
    fn other_tools_names_are_recognised() {
        let src = "[[pipeline.phase]]\nname = \"a\"\nrun = \"x\"\nneeds = []\nworking-directory = \".\"\n";
        let (_, problems) = parse_whole(src).expect("valid TOML");
        let help: Vec<&str> =
            problems.iter().flat_map(|d| d.help.iter().map(String::as_str)).collect();
        assert_eq!(
            help,
            // Keys come in TOML's sorted order here; validation sorts by position.
            ["did you mean `depends_on`?", "did you mean `cmd`?", "did you mean `cwd`?"]
        );
    }

    #[test]
    fn syntax_errors_are_located() {
        let Err(errors) = parse_whole("[pipeline\nname = 1\n") else { panic!("expected an error") };
        assert!(errors[0].span.is_some());
        assert!(errors[0].message.starts_with("invalid TOML"));
    }
}
