//! Error excerpts: from a failed phase's output, the lines that look like errors first —
//! rustc/cargo `error:` / `error[E…]` blocks with their `-->` location and snippet, `panicked
//! at`, test `FAILED` lines and `---- name stdout ----` blocks, `test result: FAILED` — then
//! the tail, both bounded. Also the source locations of compiler errors and panics, for CI
//! annotations.
//!
//! Phases are arbitrary commands, so this reads text; every pattern lives in this file
//! ([`classify`]). Lines are pushed one at a time ([`ExcerptBuilder::push`]), so a full log
//! file can be read without holding it, and only the lines kept are copied.

use std::borrow::Cow;
use std::collections::VecDeque;
use std::fmt::Write as _;

/// How much an excerpt keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// The most lines that look like errors.
    pub error_lines: usize,
    /// The most lines of one error block (a longer one is cut).
    pub block_lines: usize,
    /// The last lines.
    pub tail: usize,
    /// The most source locations.
    pub locations: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { error_lines: 40, block_lines: 30, tail: 20, locations: 10 }
    }
}

/// What kind of error a block is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `error: …` / `error[E0308]: …` from rustc, cargo or clippy (or `Error: …` from a
    /// `main` returning an error), with the snippet under it.
    Compiler,
    /// `thread '…' panicked at file:line:col:` and the message under it.
    Panic,
    /// `test name ... FAILED` (libtest) or `FAIL [ 0.1s] name` (nextest).
    FailedTest,
    /// `---- name stdout ----`: a failed test's captured output.
    TestOutput,
    /// `test result: FAILED. …`.
    TestSummary,
}

impl Kind {
    /// Whether the block is its header line alone.
    fn single_line(self) -> bool {
        matches!(self, Self::FailedTest | Self::TestSummary)
    }
}

/// What one line is, as far as excerpts care.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The first line of an error block.
    Header(Kind),
    /// `warning: …` (or rustc's `aborting due to …`): ends a block, never starts one.
    Warning,
    /// `   Compiling foo`, `    Finished …`: cargo's status lines end a block.
    Status,
    /// `stack backtrace:` or ``note: run with `RUST_BACKTRACE` ``: noise that ends a panic.
    Backtrace,
    /// `failures:`, `successes:`: libtest's lists end a test's output.
    TestList,
    /// An empty line.
    Blank,
    /// Anything else.
    Text,
}

/// Cargo's status verbs, right-aligned in 12 columns.
const CARGO_STATUS: &[&str] = &[
    "Compiling",
    "Checking",
    "Finished",
    "Running",
    "Doc-tests",
    "Documenting",
    "Fresh",
    "Building",
    "Downloading",
    "Downloaded",
    "Updating",
    "Locking",
    "Adding",
    "Blocking",
    "Fixed",
    "Installing",
    "Starting",
];

/// Every pattern: what `line` (escape codes removed) is.
fn classify(line: &str) -> Class {
    let trimmed = line.trim_start();
    if trimmed.is_empty() {
        return Class::Blank;
    }
    // rustc's `aborting due to N previous errors` repeats what the blocks above said.
    if line.starts_with("warning:")
        || line.starts_with("warning[")
        || line.starts_with("error: aborting due to")
    {
        return Class::Warning;
    }
    if line.starts_with("error[") && line.contains("]: ")
        || line.starts_with("error: ")
        || line.starts_with("Error: ")
    {
        return Class::Header(Kind::Compiler);
    }
    if line.starts_with("thread '") && line.contains(" panicked at ") {
        return Class::Header(Kind::Panic);
    }
    if line.starts_with("---- ")
        && (line.ends_with(" stdout ----") || line.ends_with(" stderr ----"))
    {
        return Class::Header(Kind::TestOutput);
    }
    if line.starts_with("test ") && line.ends_with(" FAILED") || trimmed.starts_with("FAIL [") {
        return Class::Header(Kind::FailedTest);
    }
    if line.starts_with("test result: FAILED") {
        return Class::Header(Kind::TestSummary);
    }
    if line == "failures:" || line == "successes:" {
        return Class::TestList;
    }
    if line.starts_with("stack backtrace:") || line.starts_with("note: run with `RUST_BACKTRACE") {
        return Class::Backtrace;
    }
    let indent = line.len() - trimmed.len();
    if (1..=12).contains(&indent)
        && CARGO_STATUS.iter().any(|v| trimmed.strip_prefix(v).is_some_and(|r| r.starts_with(' ')))
    {
        return Class::Status;
    }
    Class::Text
}

/// Whether a line of class `class` ends an open block of kind `kind`.
fn ends(kind: Kind, class: Class) -> bool {
    !matches!(
        (kind, class),
        (Kind::TestOutput, Class::Header(Kind::Panic) | Class::Blank | Class::Text)
            | (Kind::Compiler | Kind::Panic, Class::Text)
            | (Kind::Compiler, Class::Backtrace)
    )
}

/// `line` without ANSI escape sequences (and a trailing `\r`); borrowed when it has none.
pub fn strip_escapes(line: &str) -> Cow<'_, str> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if !line.contains('\x1b') {
        return Cow::Borrowed(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\x1b' {
            out.push(c);
            continue;
        }
        match chars.peek() {
            // CSI: parameters, then one final byte in @..~.
            Some('[') => {
                chars.next();
                for c in chars.by_ref() {
                    if ('@'..='~').contains(&c) {
                        break;
                    }
                }
            }
            // OSC (hyperlinks): up to BEL or ESC \.
            Some(']') => {
                while let Some(c) = chars.next() {
                    if c == '\x07' || c == '\x1b' && chars.next_if_eq(&'\\').is_some() {
                        break;
                    }
                }
            }
            _ => {}
        }
    }
    Cow::Owned(out)
}

/// A source location an error points at (for `::error file=…,line=…,col=…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorLocation {
    /// The file, as the tool printed it (relative to where it ran, or absolute).
    pub file: String,
    /// The line, from 1.
    pub line: u32,
    /// The column, from 1.
    pub column: u32,
    /// `error[E0308]`, `error` or `panic`.
    pub title: String,
    /// `mismatched types`, or the panic's message.
    pub message: String,
}

/// `file:line:col` (the file may itself hold `:`, as `C:\…` does).
fn parse_location(text: &str) -> Option<(String, u32, u32)> {
    let mut parts = text.trim().rsplitn(3, ':');
    let column = parts.next()?.parse().ok()?;
    let line = parts.next()?.parse().ok()?;
    let file = parts.next()?.trim();
    (!file.is_empty()).then(|| (file.to_owned(), line, column))
}

/// One kept line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExcerptLine {
    /// Its number in the output it came from, from 1.
    pub number: u64,
    /// The text, as printed.
    pub text: String,
}

/// One piece of an excerpt, in the order to show them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Part<'a> {
    /// A line.
    Line(&'a ExcerptLine),
    /// Lines left out between the previous line and the next.
    Gap(u64),
}

/// A failed phase's output cut down: the lines that look like errors, then the tail.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Excerpt {
    /// Lines that look like errors, in output order, all before the tail.
    pub errors: Vec<ExcerptLine>,
    /// The last lines.
    pub tail: Vec<ExcerptLine>,
    /// How many lines were read.
    pub total: u64,
    /// Where errors point in the source, in output order.
    pub locations: Vec<ErrorLocation>,
    /// The number of the first line that looks like an error (in `errors`, or in the tail).
    pub first_error: Option<u64>,
}

impl Excerpt {
    /// The excerpt of `lines` (numbered from 1).
    pub fn of<'a>(lines: impl IntoIterator<Item = &'a str>, limits: Limits) -> Self {
        let mut builder = ExcerptBuilder::new(limits);
        for line in lines {
            builder.push(line);
        }
        builder.finish()
    }

    /// Whether it shows nothing.
    pub fn is_empty(&self) -> bool {
        self.errors.is_empty() && self.tail.is_empty()
    }

    /// The first line that looks like an error, escape codes removed.
    pub fn first_error(&self) -> Option<Cow<'_, str>> {
        let number = self.first_error?;
        let line = self.errors.iter().chain(&self.tail).find(|l| l.number == number)?;
        Some(strip_escapes(&line.text))
    }

    /// The lines to show, errors first, with a [`Part::Gap`] wherever lines were left out
    /// between two shown ones.
    pub fn parts(&self) -> impl Iterator<Item = Part<'_>> {
        let mut previous: Option<u64> = None;
        self.errors.iter().chain(&self.tail).flat_map(move |line| {
            let gap =
                previous.filter(|&p| line.number > p + 1).map(|p| Part::Gap(line.number - p - 1));
            previous = Some(line.number);
            gap.into_iter().chain(std::iter::once(Part::Line(line)))
        })
    }

    /// The excerpt as text, each line after `indent`, gaps as `⋮ N lines`.
    pub fn to_text(&self, indent: &str) -> String {
        let mut out = String::new();
        for part in self.parts() {
            match part {
                Part::Line(line) => {
                    let _ = writeln!(out, "{indent}{}", line.text);
                }
                Part::Gap(n) => {
                    let _ =
                        writeln!(out, "{indent}⋮ {n} {}", if n == 1 { "line" } else { "lines" });
                }
            }
        }
        out
    }
}

/// The block being read.
#[derive(Debug)]
struct Open {
    kind: Kind,
    /// Lines read since the header, the header included.
    lines: usize,
}

/// A compiler error whose `-->` line has not come yet, or a panic whose message has not.
#[derive(Debug)]
enum Pending {
    Arrow { title: String, message: String },
    Message(usize),
}

/// Builds an [`Excerpt`] one line at a time.
#[derive(Debug)]
pub struct ExcerptBuilder {
    limits: Limits,
    number: u64,
    read: u64,
    open: Option<Open>,
    pending: Option<Pending>,
    excerpt: Excerpt,
    tail: VecDeque<ExcerptLine>,
}

impl ExcerptBuilder {
    /// An empty builder.
    pub fn new(limits: Limits) -> Self {
        Self::starting_at(1, limits)
    }

    /// An empty builder whose first line is number `first` (for a ring that dropped lines).
    pub fn starting_at(first: u64, limits: Limits) -> Self {
        Self {
            limits,
            number: first.saturating_sub(1),
            read: 0,
            open: None,
            pending: None,
            excerpt: Excerpt::default(),
            tail: VecDeque::with_capacity(limits.tail),
        }
    }

    /// Reads the next line.
    pub fn push(&mut self, line: &str) {
        self.number += 1;
        self.read += 1;
        let text = strip_escapes(line);
        let class = classify(&text);
        self.locate(&text, class);
        if self.open.as_ref().is_some_and(|open| ends(open.kind, class)) {
            self.close();
        }
        if self.open.is_none()
            && let Class::Header(kind) = class
        {
            self.open = Some(Open { kind, lines: 0 });
        }
        self.keep_if_error(line, class);
        if self.open.as_ref().is_some_and(|open| open.kind.single_line()) {
            self.close();
        }
        self.keep_in_tail(line);
    }

    /// Ends the open block; blank lines at its end are not worth showing.
    fn close(&mut self) {
        if let Some(open) = self.open.take() {
            let first = self.number + 1 - open.lines as u64;
            while self
                .excerpt
                .errors
                .last()
                .is_some_and(|l| l.number > first && l.text.trim().is_empty())
            {
                self.excerpt.errors.pop();
            }
        }
    }

    fn keep_if_error(&mut self, line: &str, class: Class) {
        let Some(open) = &mut self.open else { return };
        open.lines += 1;
        if open.lines > self.limits.block_lines
            || self.excerpt.errors.len() >= self.limits.error_lines
            // The blank line libtest prints under `---- name stdout ----`.
            || class == Class::Blank && open.lines == 2
        {
            return;
        }
        self.excerpt.first_error.get_or_insert(self.number);
        self.excerpt.errors.push(ExcerptLine { number: self.number, text: line.to_owned() });
    }

    fn keep_in_tail(&mut self, line: &str) {
        if self.limits.tail == 0 {
            return;
        }
        let mut text = if self.tail.len() == self.limits.tail {
            self.tail.pop_front().map(|l| l.text).unwrap_or_default()
        } else {
            String::new()
        };
        text.clear();
        text.push_str(line);
        self.tail.push_back(ExcerptLine { number: self.number, text });
    }

    /// Notes where a compiler error or a panic points.
    fn locate(&mut self, text: &str, class: Class) {
        match (self.pending.take(), class) {
            (_, Class::Header(Kind::Compiler)) => {
                let (title, message) = text.split_once(": ").unwrap_or((text, ""));
                self.pending = Some(Pending::Arrow {
                    title: title.to_owned(),
                    message: message.trim().to_owned(),
                });
            }
            (_, Class::Header(Kind::Panic)) => self.locate_panic(text),
            (Some(Pending::Arrow { title, message }), Class::Text) => {
                let at = text.trim_start().strip_prefix("--> ").and_then(parse_location);
                match at {
                    Some((file, line, column)) => {
                        self.located(ErrorLocation { file, line, column, title, message });
                    }
                    None => self.pending = Some(Pending::Arrow { title, message }),
                }
            }
            (Some(Pending::Message(i)), Class::Text) => {
                if let Some(location) = self.excerpt.locations.get_mut(i) {
                    text.trim().clone_into(&mut location.message);
                }
            }
            (Some(Pending::Message(i)), Class::Blank) => self.pending = Some(Pending::Message(i)),
            _ => {}
        }
    }

    fn locate_panic(&mut self, text: &str) {
        let Some((_, at)) = text.split_once(" panicked at ") else { return };
        // `panicked at src/lib.rs:7:19:` (message below), or before Rust 1.73
        // `panicked at 'message', src/lib.rs:7:19`.
        let (message, at) = match at.strip_prefix('\'').and_then(|a| a.rsplit_once("', ")) {
            Some((message, at)) => (message.to_owned(), at),
            None => (String::new(), at.strip_suffix(':').unwrap_or(at)),
        };
        let Some((file, line, column)) = parse_location(at) else { return };
        let waiting = message.is_empty();
        let title = "panic".to_owned();
        if self.located(ErrorLocation { file, line, column, title, message }) && waiting {
            self.pending = Some(Pending::Message(self.excerpt.locations.len() - 1));
        }
    }

    fn located(&mut self, location: ErrorLocation) -> bool {
        if self.excerpt.locations.len() >= self.limits.locations {
            return false;
        }
        self.excerpt.locations.push(location);
        true
    }

    /// The excerpt: error lines that fall in the tail are shown there, once.
    pub fn finish(mut self) -> Excerpt {
        self.close();
        let tail: Vec<ExcerptLine> = self.tail.into();
        if let Some(first) = tail.first() {
            self.excerpt.errors.retain(|l| l.number < first.number);
        }
        // A block cut by the tail keeps no dangling blank line.
        while self.excerpt.errors.last().is_some_and(|l| l.text.trim().is_empty()) {
            self.excerpt.errors.pop();
        }
        self.excerpt.tail = tail;
        self.excerpt.total = self.read;
        self.excerpt
    }
}

#[cfg(test)]
mod tests;
