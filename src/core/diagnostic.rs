//! Located messages about a source file, rendered rustc/cargo style with annotate-snippets:
//! `error: …`, `--> Milo.toml:12:7`, the line, carets, `= help: …`.

use std::fmt::Write as _;
use std::ops::Range;

use annotate_snippets::{AnnotationKind, Group, Level, Renderer, Snippet};

/// One problem in a source file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// What is wrong, one line: "unknown key `depend_on`".
    pub message: String,
    /// The offending bytes of the source; `None` for a problem with the whole file.
    pub span: Option<Range<usize>>,
    /// A short label under the carets.
    pub label: String,
    /// Other places worth showing (e.g. the first of two duplicates), with their labels.
    pub related: Vec<(Range<usize>, String)>,
    /// Notes: extra facts ("available phases: a, b").
    pub notes: Vec<String>,
    /// What to do about it ("did you mean `depends_on`?").
    pub help: Vec<String>,
}

impl Diagnostic {
    /// A problem at `span`.
    pub fn new(message: impl Into<String>, span: Range<usize>) -> Self {
        Self {
            message: message.into(),
            span: Some(span),
            label: String::new(),
            related: Vec::new(),
            notes: Vec::new(),
            help: Vec::new(),
        }
    }

    /// A problem with no particular place in the file.
    pub fn whole_file(message: impl Into<String>) -> Self {
        Self { span: None, ..Self::new(message, 0..0) }
    }

    /// Sets the label under the carets.
    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = label.into();
        self
    }

    /// Adds a secondary place.
    #[must_use]
    pub fn related(mut self, span: Range<usize>, label: impl Into<String>) -> Self {
        self.related.push((span, label.into()));
        self
    }

    /// Adds a note.
    #[must_use]
    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// Adds a help line.
    #[must_use]
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help.push(help.into());
        self
    }

    /// Where the problem starts: (line, column), both 1-based, columns counted in characters.
    pub fn location(&self, source: &str) -> Option<(usize, usize)> {
        self.span.as_ref().map(|span| line_column(source, span.start))
    }
}

/// The 1-based line and character column of byte `offset` in `source`.
pub fn line_column(source: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(source, offset);
    let before = &source[..offset];
    let line = before.bytes().filter(|&b| b == b'\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    (line, column)
}

fn floor_char_boundary(source: &str, offset: usize) -> usize {
    let mut offset = offset.min(source.len());
    while !source.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// Clamps `span` into `source` on character boundaries, so the renderer never sees a span
/// that splits a character or runs past the end.
fn clamp(source: &str, span: &Range<usize>) -> Range<usize> {
    let start = floor_char_boundary(source, span.start);
    let end = floor_char_boundary(source, span.end.max(start));
    start..end
}

/// The most diagnostics rendered in full; the rest are counted in the summary.
pub const MAX_SHOWN: usize = 50;

/// Renders the diagnostics about `source` (shown as `path`), separated by blank lines and
/// followed by a summary line when there is more than one. Only the first [`MAX_SHOWN`]
/// are drawn, so a file with thousands of problems still answers at once.
pub fn render(path: &str, source: &str, diagnostics: &[Diagnostic], styled: bool) -> String {
    let renderer = if styled { Renderer::styled() } else { Renderer::plain() };
    let lines = LineIndex::new(source);
    let mut out = String::new();
    for d in diagnostics.iter().take(MAX_SHOWN) {
        if !out.is_empty() {
            out.push_str("\n\n");
        }
        out.push_str(&render_one(&renderer, path, source, &lines, d));
    }
    if diagnostics.len() > 1 {
        let hidden = diagnostics.len().saturating_sub(MAX_SHOWN);
        let mut summary =
            format!("could not load `{path}` due to {} previous errors", diagnostics.len());
        if hidden > 0 {
            let _ = write!(summary, " ({hidden} not shown; fix these and check again)");
        }
        out.push_str("\n\n");
        out.push_str(&renderer.render(&[Group::with_title(Level::ERROR.primary_title(summary))]));
    }
    out
}

/// Where each line starts, to number the lines of a snippet without rescanning the file.
struct LineIndex {
    newlines: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> Self {
        Self { newlines: source.match_indices('\n').map(|(i, _)| i).collect() }
    }

    /// The 1-based number of the line holding byte `offset`.
    fn line(&self, offset: usize) -> usize {
        self.newlines.partition_point(|&nl| nl < offset) + 1
    }
}

/// The whole lines of `source` that `spans` touch, and the number of the first one: the
/// renderer then works on a few lines, not on the whole file, for each diagnostic.
fn window<'a>(
    source: &str,
    lines: &LineIndex,
    spans: impl Iterator<Item = &'a Range<usize>>,
) -> (Range<usize>, usize) {
    let (mut lo, mut hi) = (usize::MAX, 0);
    for span in spans {
        let span = clamp(source, span);
        lo = lo.min(span.start);
        hi = hi.max(span.end);
    }
    let lo = lo.min(source.len());
    let hi = hi.max(lo);
    let start = source[..lo].rfind('\n').map_or(0, |i| i + 1);
    let end = source[hi..].find('\n').map_or(source.len(), |i| hi + i);
    (start..end, lines.line(start))
}

fn render_one(
    renderer: &Renderer,
    path: &str,
    source: &str,
    lines: &LineIndex,
    d: &Diagnostic,
) -> String {
    let title = Level::ERROR.primary_title(d.message.as_str());
    let mut group = match &d.span {
        Some(span) => {
            let (win, first_line) = window(
                source,
                lines,
                std::iter::once(span).chain(d.related.iter().map(|(s, _)| s)),
            );
            let text = &source[win.clone()];
            let local = |s: &Range<usize>| {
                let s = clamp(source, s);
                s.start - win.start..s.end - win.start
            };
            let mut snippet =
                Snippet::source(text).line_start(first_line).path(path).fold(true).annotation(
                    AnnotationKind::Primary.span(local(span)).label(non_empty(&d.label)),
                );
            for (span, label) in &d.related {
                snippet = snippet
                    .annotation(AnnotationKind::Context.span(local(span)).label(label.as_str()));
            }
            title.element(snippet)
        }
        None => Group::with_title(title).element(annotate_snippets::Origin::path(path)),
    };
    for note in &d.notes {
        group = group.element(Level::NOTE.message(note.as_str()));
    }
    for help in &d.help {
        group = group.element(Level::HELP.message(help.as_str()));
    }
    renderer.render(&[group])
}

fn non_empty(label: &str) -> Option<&str> {
    (!label.is_empty()).then_some(label)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_and_column_count_characters() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_column(src, 0), (1, 1));
        assert_eq!(line_column(src, 6), (2, 1));
        assert_eq!(line_column(src, 10), (2, 4));
        assert_eq!(line_column(src, 999), (3, 1));
    }

    #[test]
    fn renders_location_caret_and_help() {
        let src = "[pipeline]\nnmae = \"x\"\n";
        let d = Diagnostic::new("unknown key `nmae`", 11..15)
            .label("unknown key")
            .help("did you mean `name`?");
        let text = render("Milo.toml", src, &[d], false);
        assert!(text.starts_with("error: unknown key `nmae`"), "{text}");
        assert!(text.contains("--> Milo.toml:2:1"), "{text}");
        assert!(text.contains("^^^^ unknown key"), "{text}");
        assert!(text.contains("help: did you mean `name`?"), "{text}");
    }

    #[test]
    fn snippets_keep_file_line_numbers() {
        let src = "a = 1\nb = 2\n\nc = 3\nd = 4\n";
        let d = Diagnostic::new("bad `d`", 19..20).related(6..7, "see `b`");
        let text = render("f", src, &[d], false);
        assert!(text.contains("--> f:5:1"), "{text}");
        assert!(text.contains("2 | b = 2"), "{text}");
        assert!(text.contains("5 | d = 4"), "{text}");
        assert!(!text.contains("a = 1"), "{text}");
    }

    #[test]
    fn only_the_first_diagnostics_are_drawn() {
        let src = "x\n".repeat(MAX_SHOWN + 10);
        let ds: Vec<Diagnostic> = (0..MAX_SHOWN + 10)
            .map(|i| Diagnostic::new(format!("problem {i}"), 2 * i..2 * i + 1))
            .collect();
        let text = render("f", &src, &ds, false);
        assert!(text.contains(&format!("problem {}", MAX_SHOWN - 1)), "{text}");
        assert!(!text.contains(&format!("problem {MAX_SHOWN}")), "{text}");
        assert!(text.contains(&format!("due to {} previous errors (10 not shown", MAX_SHOWN + 10)));
    }

    #[test]
    fn spans_out_of_range_or_inside_a_character_do_not_panic() {
        let src = "é";
        let ds = [
            Diagnostic::new("x", 1..99),
            Diagnostic::new("y", std::ops::Range { start: 50, end: 2 }),
        ];
        let text = render("f", src, &ds, false);
        assert!(text.contains("2 previous errors"), "{text}");
    }
}
