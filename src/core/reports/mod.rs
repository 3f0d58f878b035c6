//! Reports from a recorded [`Timeline`]: `JUnit` XML, Chrome trace events, a self-contained
//! HTML page and the Markdown step summary. Each is a pure function from the timeline (and
//! the failed phases' [`Excerpt`]s, when the caller read them from the full logs) to text;
//! writing files is the caller's business.

pub mod html;
pub mod junit;
pub mod markdown;
pub mod trace;

use std::borrow::Cow;
use std::collections::HashMap;

use crate::excerpt::{Excerpt, Limits};
use crate::state::{PhaseStatus, PipelineStatus};
use crate::timeline::{Timeline, TimelinePhase};

pub(crate) use crate::format::{duration, mark as glyph};

/// A report format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// `JUnit` XML: a testsuite for the pipeline, a testcase per phase.
    Junit,
    /// Chrome trace-event JSON (Perfetto, `chrome://tracing`).
    Trace,
    /// One self-contained HTML page.
    Html,
    /// The Markdown step summary.
    Markdown,
}

impl Format {
    /// Every format, in the order help lists them.
    pub const ALL: [Self; 4] = [Self::Junit, Self::Trace, Self::Html, Self::Markdown];

    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Junit => "junit",
            Self::Trace => "trace",
            Self::Html => "html",
            Self::Markdown => "markdown",
        }
    }

    /// The format named `name`.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.name() == name)
    }
}

/// The excerpts of failed phases, by phase name, read from their full logs. A failed phase
/// missing here gets the excerpt of its retained lines.
pub type Excerpts = HashMap<String, Excerpt>;

/// Renders `timeline` as `format`.
pub fn render(format: Format, timeline: &Timeline, excerpts: &Excerpts) -> String {
    match format {
        Format::Junit => junit::render(timeline, excerpts),
        Format::Trace => trace::render(timeline),
        Format::Html => html::render(timeline, excerpts),
        Format::Markdown => markdown::render(timeline, excerpts, markdown::STEP_SUMMARY_LIMIT),
    }
}

/// Whether a phase ended in a failure worth an excerpt: failed, or skipped after failing
/// (`on_fail = "skip"`).
pub fn has_failure(phase: &TimelinePhase) -> bool {
    match phase.status {
        PhaseStatus::Failed => true,
        PhaseStatus::Skipped => phase.error.is_some(),
        _ => false,
    }
}

/// The excerpt of a failed phase: the one read from its full log, else one of its retained
/// lines.
pub fn excerpt_of<'a>(phase: &TimelinePhase, excerpts: &'a Excerpts) -> Cow<'a, Excerpt> {
    if let Some(excerpt) = excerpts.get(&phase.name) {
        return Cow::Borrowed(excerpt);
    }
    let dropped = phase.lines_total.saturating_sub(phase.logs.len() as u64);
    let mut builder = crate::excerpt::ExcerptBuilder::starting_at(dropped + 1, Limits::default());
    for log in &phase.logs {
        builder.push(&log.line);
    }
    Cow::Owned(builder.finish())
}

/// Why a phase has no result of its own: skipped, cancelled, up to date (its result is the
/// one recorded at its last success), or never started (and why not).
pub fn not_run_reason(phase: &TimelinePhase, timeline: &Timeline) -> Option<String> {
    Some(match phase.status {
        PhaseStatus::Completed | PhaseStatus::Failed => return None,
        PhaseStatus::UpToDate => {
            "up to date: nothing it depends on changed since its last success".to_owned()
        }
        PhaseStatus::Skipped => match &phase.error {
            Some(error) => format!("skipped after failing (on_fail = \"skip\"): {error}"),
            None => "skipped".to_owned(),
        },
        PhaseStatus::Cancelled => match timeline.status {
            PipelineStatus::Cancelled => "cancelled: the run was interrupted".to_owned(),
            _ => "cancelled: another phase failed (fail_fast)".to_owned(),
        },
        PhaseStatus::Running | PhaseStatus::Retrying => {
            "still running when the timeline was written".to_owned()
        }
        PhaseStatus::Pending => {
            let blocked = phase.depends_on.iter().find_map(|dep| {
                let dep = timeline.phases.iter().find(|p| &p.name == dep)?;
                (!dep.status.is_done()).then_some(dep)
            });
            match (blocked, timeline.status) {
                (Some(dep), _) => format!(
                    "never started: its dependency `{}` {}",
                    dep.name,
                    match dep.status {
                        PhaseStatus::Pending => "never started",
                        status => status.as_str(),
                    }
                ),
                (None, PipelineStatus::Cancelled) => {
                    "never started: the run was interrupted".to_owned()
                }
                (None, PipelineStatus::Failed) => {
                    "never started: the pipeline stopped after a failure".to_owned()
                }
                (None, _) => "never started".to_owned(),
            }
        }
    })
}

/// The error to show for a phase: none for one that passed (even after failed attempts).
pub fn shown_error(phase: &TimelinePhase) -> Option<&str> {
    if phase.status == PhaseStatus::Completed { None } else { phase.error.as_deref() }
}

/// `passed on attempt 2 of 3` for a phase that passed after failed attempts.
pub fn flaky_note(phase: &TimelinePhase) -> Option<String> {
    (phase.status == PhaseStatus::Completed && phase.attempts.len() > 1)
        .then(|| format!("passed on attempt {} of {}", phase.attempt, phase.max_attempts))
}

/// A span of time, seconds since the pipeline start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Span {
    /// Start.
    pub start: f64,
    /// End, never before the start.
    pub end: f64,
}

/// What a slice of a phase's time was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SliceKind {
    /// An attempt that succeeded (or still runs).
    Attempt,
    /// An attempt that failed.
    FailedAttempt,
    /// The wait between a failed attempt and the next.
    RetryWait,
}

/// One slice of a phase's time on the pipeline's axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Slice<'a> {
    /// What it was.
    pub kind: SliceKind,
    /// When.
    pub span: Span,
    /// The attempt (for a wait, the attempt it waited after).
    pub attempt: u32,
    /// The attempt's exit code.
    pub exit_code: Option<i32>,
    /// The attempt's error.
    pub error: Option<&'a str>,
}

/// A phase's attempts and the waits between them, in order, never overlapping (a running
/// attempt ends at the timeline's `elapsed`; times out of order are clamped forward).
pub fn slices<'a>(phase: &'a TimelinePhase, timeline: &Timeline) -> Vec<Slice<'a>> {
    let mut out = Vec::with_capacity(phase.attempts.len() * 2);
    let mut at = f64::NEG_INFINITY;
    for (i, attempt) in phase.attempts.iter().enumerate() {
        let start = finite(attempt.start).max(at);
        if i > 0 && start > at {
            out.push(Slice {
                kind: SliceKind::RetryWait,
                span: Span { start: at, end: start },
                attempt: phase.attempts[i - 1].attempt,
                exit_code: None,
                error: None,
            });
        }
        let end = finite(attempt.end.unwrap_or(timeline.elapsed)).max(start);
        let failed = attempt.error.is_some();
        out.push(Slice {
            kind: if failed { SliceKind::FailedAttempt } else { SliceKind::Attempt },
            span: Span { start, end },
            attempt: attempt.attempt,
            exit_code: attempt.exit_code,
            error: attempt.error.as_deref(),
        });
        at = end;
    }
    out
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped, escape codes and other control
/// characters but tabs removed. Borrowed when there is nothing to change.
pub fn escape_html(text: &str) -> Cow<'_, str> {
    let clean = |c: char| matches!(c, '&' | '<' | '>' | '"' | '\'') || c.is_control() && c != '\t';
    if !text.contains(clean) {
        return Cow::Borrowed(text);
    }
    let text = crate::excerpt::strip_escapes(text);
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\t' => out.push('\t'),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

fn finite(x: f64) -> f64 {
    if x.is_finite() { x.max(0.0) } else { 0.0 }
}

#[cfg(test)]
pub(crate) mod fixture;
