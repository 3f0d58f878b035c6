//! Milo.toml as written: every value with the byte span it came from.
//!
//! This layer only checks shape (TOML syntax, known keys, value types). Unknown keys and
//! wrong types are collected as diagnostics and the value is treated as absent, so one pass
//! reports every problem; [`validate`](super::validate) checks meaning.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::diagnostic::Diagnostic;
use crate::suggest::closest;

/// A value and the bytes of Milo.toml it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct At<T> {
    /// The value.
    pub value: T,
    /// Its span in the source.
    pub span: Range<usize>,
}

/// A duration as written: a humantime string or a number of seconds.
#[derive(Debug, Clone, PartialEq)]
pub enum RawDuration {
    /// `"10m"`.
    Text(String),
    /// `1.5`.
    Seconds(f64),
}

/// `[pipeline]`.
#[derive(Debug, Clone, Default)]
pub struct RawPipeline {
    /// `name`.
    pub name: Option<At<String>>,
    /// `fail_fast`.
    pub fail_fast: Option<At<bool>>,
    /// `capture_output`.
    pub capture_output: Option<At<bool>>,
    /// `jobs`.
    pub jobs: Option<At<i64>>,
    /// `timeline`.
    pub timeline: Option<At<String>>,
    /// `env`, in key order.
    pub env: Vec<(At<String>, At<String>)>,
    /// `[[pipeline.phase]]`, in declaration order.
    pub phases: Vec<RawPhase>,
    /// Whether a `[pipeline]` table exists at all.
    pub present: bool,
}

/// One `[[pipeline.phase]]`.
#[derive(Debug, Clone, Default)]
pub struct RawPhase {
    /// The span of the whole phase table.
    pub span: Range<usize>,
    /// `name`.
    pub name: Option<At<String>>,
    /// `description`.
    pub description: Option<At<String>>,
    /// `cmd`.
    pub cmd: Option<At<String>>,
    /// `args`; the outer span covers the array.
    pub args: Option<At<Vec<At<String>>>>,
    /// `depends_on`.
    pub depends_on: Vec<At<String>>,
    /// `parallel`.
    pub parallel: Option<At<bool>>,
    /// `weight`.
    pub weight: Option<At<i64>>,
    /// `max_logs`.
    pub max_logs: Option<At<i64>>,
    /// `timeout`.
    pub timeout: Option<At<RawDuration>>,
    /// `cwd`.
    pub cwd: Option<At<String>>,
    /// `env`.
    pub env: Vec<(At<String>, At<String>)>,
    /// `policy`.
    pub policy: RawPolicy,
}

/// A phase's `policy` table.
#[derive(Debug, Clone, Default)]
pub struct RawPolicy {
    /// `on_fail`.
    pub on_fail: Option<At<String>>,
    /// `max_retries`.
    pub max_retries: Option<At<i64>>,
    /// `retry_delay`.
    pub retry_delay: Option<At<RawDuration>>,
    /// `retry_backoff`.
    pub retry_backoff: Option<At<String>>,
}

const TOP_KEYS: &[&str] = &["pipeline"];
const PIPELINE_KEYS: &[&str] =
    &["name", "fail_fast", "capture_output", "jobs", "timeline", "env", "phase"];
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
    "policy",
];
const POLICY_KEYS: &[&str] = &["on_fail", "max_retries", "retry_delay", "retry_backoff"];

/// Parses `source`. TOML syntax errors are returned as the error (nothing else can be
/// trusted then); shape problems come back beside the raw pipeline.
pub fn parse(source: &str) -> Result<(RawPipeline, Vec<Diagnostic>), Vec<Diagnostic>> {
    if source.len() > 2 * CHUNK
        && let Some(pipeline) = parse_chunked(source, CHUNK)
    {
        return Ok((pipeline, Vec::new()));
    }
    parse_whole(source)
}

/// Parses `source` in one go.
fn parse_whole(source: &str) -> Result<(RawPipeline, Vec<Diagnostic>), Vec<Diagnostic>> {
    let (doc, errors) = DeTable::parse_recoverable(source);
    if !errors.is_empty() {
        return Err(errors.iter().map(|e| syntax(source, e)).collect());
    }
    let mut reader = Reader { problems: Vec::new(), offset: 0 };
    let pipeline = reader.document(doc.get_ref());
    Ok((pipeline, reader.problems))
}

/// The size of the pieces a big file is parsed in.
const CHUNK: usize = 256 * 1024;

/// The header every phase starts with; big files are cut just before it.
const PHASE_HEADER: &str = "[[pipeline.phase]]";

/// Parses a big, valid file piece by piece, so the TOML parser's token and event buffers
/// stay small (for 100,000 phases they would otherwise take hundreds of MB).
///
/// Each piece after the first starts at a line that is exactly `[[pipeline.phase]]`, so it
/// holds whole phases and nothing else; appending them is what TOML does with
/// `[[pipeline.phase]]`. Anything unexpected — a syntax error (a cut inside a multi-line
/// string leaves the piece before it unterminated), a piece holding another table, a shape
/// problem — returns `None` and the whole file is parsed at once, so diagnostics are exactly
/// those of a whole-file parse.
fn parse_chunked(source: &str, chunk: usize) -> Option<RawPipeline> {
    let mut cuts = vec![0];
    let mut headers = vec![0usize];
    let mut line_start = 0;
    for line in source.split_inclusive('\n') {
        // Count every header (`[[pipeline.phase]] # note` too); cut only before bare ones.
        if line.trim_start().starts_with(PHASE_HEADER) {
            // A piece holds at least one header, the first piece included.
            if line.trim() == PHASE_HEADER
                && headers[headers.len() - 1] > 0
                && line_start - cuts[cuts.len() - 1] >= chunk
            {
                cuts.push(line_start);
                headers.push(0);
            }
            *headers.last_mut()? += 1;
        }
        line_start += line.len();
    }
    cuts.push(source.len());
    // The first piece must hold a header too, so any conflict between the headers and what
    // comes before them shows up inside one piece.
    if headers.len() < 2 || headers[0] == 0 {
        return None;
    }
    let mut pipeline = None::<RawPipeline>;
    for (bounds, &expected) in cuts.windows(2).zip(&headers) {
        let doc = DeTable::parse(&source[bounds[0]..bounds[1]]).ok()?;
        let mut reader = Reader { problems: Vec::new(), offset: bounds[0] };
        let doc = doc.get_ref();
        let phases = if let Some(p) = &mut pipeline {
            let (key, table) = doc.iter().next().filter(|_| doc.len() == 1)?;
            let DeValue::Table(table) = table.get_ref() else { return None };
            let (phase_key, value) = table.iter().next().filter(|_| table.len() == 1)?;
            if key.get_ref() != "pipeline" || phase_key.get_ref() != "phase" {
                return None;
            }
            let phases = reader.phases(value);
            let count = phases.len();
            p.phases.extend(phases);
            count
        } else {
            let mut p = reader.document(doc);
            p.phases.reserve_exact(headers.iter().sum::<usize>().saturating_sub(p.phases.len()));
            let count = p.phases.len();
            pipeline = Some(p);
            count
        };
        // Phases the headers do not account for (an inline `phase = [...]`) or a problem:
        // let the whole-file parse decide and report.
        if phases != expected || !reader.problems.is_empty() {
            return None;
        }
    }
    pipeline
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

type Entry<'a, 'i> = (&'a Spanned<std::borrow::Cow<'i, str>>, &'a Spanned<DeValue<'i>>);

struct Reader {
    problems: Vec<Diagnostic>,
    /// Where the parsed text starts in the whole file (chunks of a big file start later).
    offset: usize,
}

impl Reader {
    /// A span of the parsed text as a span of the whole file.
    fn at(&self, span: Range<usize>) -> Range<usize> {
        span.start + self.offset..span.end + self.offset
    }

    fn document(&mut self, doc: &DeTable<'_>) -> RawPipeline {
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
        let mut p = RawPipeline { present: true, ..RawPipeline::default() };
        for (key, value) in table {
            let k = key.get_ref().as_ref();
            match k {
                "name" => p.name = self.string(k, value),
                "fail_fast" => p.fail_fast = self.boolean(k, value),
                "capture_output" => p.capture_output = self.boolean(k, value),
                "jobs" => p.jobs = self.integer(k, value),
                "timeline" => p.timeline = self.string(k, value),
                "env" => p.env = self.env(k, value),
                "phase" => p.phases = self.phases(value),
                _ => self.unknown((key, value), PIPELINE_KEYS, "in [pipeline]"),
            }
        }
        p
    }

    fn phases(&mut self, value: &Spanned<DeValue<'_>>) -> Vec<RawPhase> {
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
                "args" => {
                    p.args = self
                        .string_list(k, value)
                        .map(|list| At { value: list, span: self.at(value.span()) });
                }
                "depends_on" => p.depends_on = self.string_list(k, value).unwrap_or_default(),
                "parallel" => p.parallel = self.boolean(k, value),
                "weight" => p.weight = self.integer(k, value),
                "max_logs" => p.max_logs = self.integer(k, value),
                "timeout" => p.timeout = self.duration(k, value),
                "cwd" => p.cwd = self.string(k, value),
                "env" => p.env = self.env(k, value),
                "policy" => {
                    if let Some(policy) = self.table(k, value) {
                        p.policy = self.policy(policy);
                    }
                }
                _ => self.unknown((key, value), PHASE_KEYS, "in a phase"),
            }
        }
        p
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
        ]
        .into_iter()
        .find(|(keys, _)| *keys != known && keys.contains(&name));
        d = match (home, closest(name, known.iter().copied())) {
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
    use std::fmt::Write as _;

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
        let (p, problems) = parse(src).expect("valid TOML");
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
        let (_, problems) = parse(src).expect("valid TOML");
        let messages: Vec<&str> = problems.iter().map(|d| d.message.as_str()).collect();
        assert_eq!(problems.len(), 3, "{messages:?}");
        assert!(messages.iter().any(|m| m.contains("`nmae`")));
        assert!(messages.iter().any(|m| m.contains("`weight` must be an integer, found a string")));
        assert!(problems.iter().any(|d| d.help.iter().any(|h| h.contains("`depends_on`"))));
    }

    fn phases(n: usize, prefix: &str) -> String {
        let mut text = String::new();
        for i in 0..n {
            let _ = write!(
                text,
                "\n[[pipeline.phase]]\nname = \"{prefix}{i}\"\ncmd = \"echo {i}\"\ndepends_on = [\"{prefix}{}\"]\n",
                i.saturating_sub(1)
            );
            if i % 1000 == 7 {
                text.push_str("[pipeline.phase.policy]\non_fail = \"skip\"\n");
            }
        }
        text
    }

    fn big_file(n: usize, extra: &str) -> String {
        format!("[pipeline]\nname = \"big\"\n{}{extra}", phases(n, "p"))
    }

    fn summary(p: &RawPipeline) -> Vec<(String, Range<usize>, usize, Option<String>)> {
        p.phases
            .iter()
            .map(|ph| {
                let name = ph.name.as_ref().expect("name");
                (
                    name.value.clone(),
                    name.span.clone(),
                    ph.depends_on.len(),
                    ph.policy.on_fail.as_ref().map(|o| o.value.clone()),
                )
            })
            .collect()
    }

    #[test]
    fn big_files_parse_in_pieces_exactly_like_whole() {
        let text = big_file(20_000, "");
        assert!(text.len() > 2 * CHUNK);
        let pieces = parse_chunked(&text, CHUNK).expect("a clean big file parses in pieces");
        let (whole, problems) = parse_whole(&text).expect("valid");
        assert!(problems.is_empty());
        assert_eq!(pieces.phases.len(), 20_000);
        assert_eq!(summary(&pieces), summary(&whole));
        assert_eq!(pieces.name, whole.name);
        let last = pieces.phases.last().and_then(|p| p.name.as_ref()).expect("name");
        assert_eq!(&text[last.span.clone()], "\"p19999\"");
    }

    #[test]
    fn big_files_with_anything_unusual_are_parsed_whole() {
        // A table after the phases, a problem, a syntax error, an inline phase array.
        for extra in
            ["\n[pipeline.env]\nA = \"1\"\n", "\nweight = -1\nnmae = 1\n", "\n[[pipeline.phase]\n"]
        {
            let text = big_file(20_000, extra);
            assert!(parse_chunked(&text, CHUNK).is_none(), "{extra:?}");
        }
        let inline = format!(
            "[pipeline]\nphase = [{{ name = \"x\", cmd = \"y\" }}]\n{}",
            phases(20_000, "p")
        );
        assert!(parse_chunked(&inline, CHUNK).is_none());
        // A cut inside a multi-line string leaves the piece before it unterminated.
        let mut text = big_file(10_000, "");
        text.push_str("description = \"\"\"\n");
        text.push_str(&"x\n".repeat(CHUNK));
        text.push_str("[[pipeline.phase]]\n\"\"\"\n");
        text.push_str(&phases(10_000, "q"));
        assert!(parse_chunked(&text, CHUNK).is_none());
        let (raw, problems) = parse(&text).expect("valid TOML");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(raw.phases.len(), 20_000);
    }

    /// A small file with the unusual shapes pieces must respect: subtables, dotted keys,
    /// comments, a multi-line string holding a header line, a table after the phases.
    const VARIED: &str = r#"[pipeline]
name = "v"
env = { A = "1" }

[[pipeline.phase]]
name = "a"
cmd = "echo a"
[pipeline.phase.policy]
on_fail = "retry"

[[pipeline.phase]]
name = "b"
description = """
[[pipeline.phase]]
not a header"""
args = ["x", "y"]
depends_on = ["a"]

[[pipeline.phase]]   # a comment
name = "c"
policy.on_fail = "skip"
env.B = "2"

[[pipeline.phase]]
name = "d"
cmd = 'echo d'
depends_on = ["b", "c"]
timeout = "1m"

[[pipeline.phase]]
name = "e"
cmd = "x"
"#;

    proptest::proptest! {
        /// Whenever pieces succeed, they give exactly what the whole-file parse gives.
        #[test]
        fn pieces_agree_with_the_whole_file(
            edits in proptest::collection::vec((0usize..2000, 0usize..4, "[a-z\\[\\]\"=\n .#]{0,6}"), 0..4),
            chunk in 1usize..400,
            fake_header in proptest::bool::ANY,
        ) {
            let mut text = if fake_header { VARIED.to_owned() } else { plain() };
            for (at, len, insert) in &edits {
                let at = (*at).min(text.len());
                let end = (at + len).min(text.len());
                if text.is_char_boundary(at) && text.is_char_boundary(end) {
                    text.replace_range(at..end, insert);
                }
            }
            if let Some(pieces) = parse_chunked(&text, chunk) {
                let (whole, problems) = parse_whole(&text).expect("pieces parsed, so the file does");
                proptest::prop_assert!(problems.is_empty());
                proptest::prop_assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
            }
        }
    }

    /// VARIED without the header line inside its multi-line string.
    fn plain() -> String {
        VARIED.replace("\"\"\"\n[[pipeline.phase]]\n", "\"\"\"\n")
    }

    #[test]
    fn the_varied_file_is_cut_into_pieces() {
        let text = plain();
        let pieces = parse_chunked(&text, 1).expect("clean");
        let (whole, problems) = parse_whole(&text).expect("valid");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
        assert_eq!(whole.phases.len(), 5);
        // A cut inside the multi-line string fails the piece before it: parse whole.
        assert!(parse_chunked(VARIED, 1).is_none());
        assert_eq!(parse_whole(VARIED).expect("valid").0.phases.len(), 5);
    }

    #[test]
    fn syntax_errors_are_located() {
        let Err(errors) = parse("[pipeline\nname = 1\n") else { panic!("expected an error") };
        assert!(errors[0].span.is_some());
        assert!(errors[0].message.starts_with("invalid TOML"));
    }
}
