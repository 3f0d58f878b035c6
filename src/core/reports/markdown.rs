//! The Markdown summary (GitHub's step summary): a status table, a Mermaid gantt of the
//! run, and each failed phase's excerpt in a `<details>` block, within a size limit.

use std::fmt::Write as _;

use super::{
    Excerpts, duration, escape_html as html, excerpt_of, flaky_note, glyph, has_failure,
    shown_error, slices,
};
use crate::format::status_counts;
use crate::state::PipelineStatus;
use crate::timeline::{Timeline, TimelinePhase};

/// The most GitHub shows of one step's summary: 1 MiB.
pub const STEP_SUMMARY_LIMIT: usize = 1 << 20;
/// The most text of the gantt: GitHub's Mermaid refuses diagrams past 50,000 characters.
const GANTT_LIMIT: usize = 40_000;

/// The summary of `timeline`, at most `limit` bytes: what does not fit is left out, and a
/// note says so.
pub fn render(timeline: &Timeline, excerpts: &Excerpts, limit: usize) -> String {
    let mut doc = Document { out: String::new(), limit, cut: Vec::new() };
    doc.push(&heading(timeline));
    table(&mut doc, timeline);
    doc.push(&gantt(timeline));
    let mut failed = 0;
    for phase in timeline.phases.iter().filter(|p| has_failure(p)) {
        if !doc.push(&failure(phase, excerpts)) {
            failed += 1;
        }
    }
    if failed > 0 {
        doc.cut.push(format!("the output of {failed} failed phase(s)"));
    }
    doc.finish()
}

/// Text that stops growing at its limit, remembering what it left out.
struct Document {
    out: String,
    limit: usize,
    cut: Vec<String>,
}

/// Room kept for the note saying what was left out.
const NOTE_ROOM: usize = 512;

impl Document {
    /// Appends `text` when it fits; says whether it did.
    fn push(&mut self, text: &str) -> bool {
        if self.out.len() + text.len() + NOTE_ROOM > self.limit {
            return false;
        }
        self.out.push_str(text);
        true
    }

    fn finish(mut self) -> String {
        if !self.cut.is_empty() {
            let note = format!(
                "\n> **Truncated** to stay under {} KiB: left out {}. The timeline artifact \
                 (`timeline.json`, `logs/`) has everything.\n",
                self.limit / 1024,
                self.cut.join(", ")
            );
            let room = self.limit.saturating_sub(self.out.len());
            if note.len() <= room {
                self.out.push_str(&note);
            }
        }
        self.out
    }
}

fn heading(timeline: &Timeline) -> String {
    let mark = match timeline.status {
        PipelineStatus::Completed => "✓",
        PipelineStatus::Failed => "✗",
        PipelineStatus::Cancelled => "⊘",
        PipelineStatus::Pending | PipelineStatus::Running => "▶",
    };
    let mut out = format!(
        "## {mark} cargo milo: `{}` {} in {}\n\n",
        inline(&timeline.pipeline),
        timeline.status.as_str(),
        duration(timeline.elapsed)
    );
    let _ = writeln!(
        out,
        "{} phases: {}.\n",
        timeline.phases.len(),
        status_counts(timeline.phases.iter().map(|p| p.status))
    );
    out
}

fn table(doc: &mut Document, timeline: &Timeline) {
    doc.push("| | phase | status | attempts | time | error |\n|---|---|---|---:|---:|---|\n");
    let mut left_out = 0;
    for phase in &timeline.phases {
        let time = if phase.start.is_some() { duration(phase.elapsed) } else { "-".to_owned() };
        let row = format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            glyph(phase.status),
            cell(&phase.name),
            phase.status.as_str(),
            phase.attempts.len(),
            time,
            cell(
                &shown_error(phase)
                    .map(str::to_owned)
                    .or_else(|| flaky_note(phase))
                    .unwrap_or_default()
            ),
        );
        if left_out > 0 || !doc.push(&row) {
            left_out += 1;
        }
    }
    doc.push("\n");
    if left_out > 0 {
        doc.cut.push(format!("{left_out} rows of the table"));
    }
}

/// A Mermaid gantt of every phase that ran: failed ones `crit`, others `done`, running
/// ones `active`; on the wall clock when the start is known.
fn gantt(timeline: &Timeline) -> String {
    let origin = timeline
        .started_at
        .as_deref()
        .and_then(|s| humantime::parse_rfc3339(s).ok())
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map_or(0, |d| d.as_millis());
    let ms = |secs: f64| {
        // Finite, non-negative seconds (see `slices`).
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let ms = (secs * 1000.0).round() as u128;
        origin + ms
    };
    let axis = if timeline.elapsed >= 3600.0 { "%H:%M" } else { "%H:%M:%S" };
    let mut out = format!(
        "```mermaid\ngantt\n    title {}\n    dateFormat x\n    axisFormat {axis}\n    section phases\n",
        mermaid_text(&timeline.pipeline)
    );
    let mut left_out = 0;
    for (i, phase) in timeline.phases.iter().enumerate() {
        let slices = slices(phase, timeline);
        let (Some(first), Some(last)) = (slices.first(), slices.last()) else { continue };
        let tag = match phase.status {
            crate::state::PhaseStatus::Failed => "crit, ",
            crate::state::PhaseStatus::Running | crate::state::PhaseStatus::Retrying => "active, ",
            crate::state::PhaseStatus::Completed => "done, ",
            _ => "",
        };
        let (start, end) = (ms(first.span.start), ms(last.span.end));
        // A task of no length is not drawn: give it a millisecond.
        let line = format!(
            "    {} :{tag}p{i}, {start}, {}\n",
            mermaid_text(&phase.name),
            end.max(start + 1)
        );
        if left_out > 0 || out.len() + line.len() > GANTT_LIMIT {
            left_out += 1;
        } else {
            out.push_str(&line);
        }
    }
    out.push_str("```\n\n");
    if left_out > 0 {
        let _ = writeln!(out, "_The gantt leaves out {left_out} phases to stay drawable._\n");
    }
    out
}

fn failure(phase: &TimelinePhase, excerpts: &Excerpts) -> String {
    let excerpt = excerpt_of(phase, excerpts);
    let text = excerpt.to_text("");
    let fence = fence_for(&text);
    let mut out = format!(
        "<details open><summary>{} <code>{}</code> {}: {}</summary>\n\n",
        glyph(phase.status),
        html(&phase.name),
        phase.status.as_str(),
        html(phase.error.as_deref().unwrap_or("failed"))
    );
    let shown = excerpt.errors.len() + excerpt.tail.len();
    let _ = writeln!(
        out,
        "{} of {} lines{}{}:\n",
        shown,
        excerpt.total,
        if excerpt.errors.is_empty() { " (the last ones)" } else { ", errors first" },
        phase
            .log_file
            .as_deref()
            .map(|f| format!("; full log: `{}`", inline(f)))
            .unwrap_or_default(),
    );
    let _ = write!(out, "{fence}text\n{text}{fence}\n\n</details>\n\n");
    out
}

/// A code fence longer than any run of backticks in `text`.
fn fence_for(text: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    "`".repeat(longest.max(2) + 1)
}

/// Text for a table cell: one line, no `|`, no markup.
fn cell(text: &str) -> String {
    html(text).replace('|', "\\|").replace(['\n', '\r'], " ")
}

/// Text inside backticks: no backticks, one line.
fn inline(text: &str) -> String {
    text.replace('`', "'").replace(['\n', '\r'], " ")
}

/// Text for a Mermaid gantt: `:`, `;` and `#` would end or break a task.
fn mermaid_text(text: &str) -> String {
    text.replace([':', ';', '#', '\n', '\r'], " ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reports::fixture::sample;

    #[test]
    fn table_gantt_and_failures() {
        let text = render(&sample(), &Excerpts::new(), STEP_SUMMARY_LIMIT);
        assert!(text.starts_with("## ✗ cargo milo: `ci` failed in 2.00s\n"), "{text}");
        assert!(text.contains("| ✗ | build | failed | 2 | 2.00s | retries exhausted after 2 attempts: exit code 101 |\n"), "{text}");
        assert!(
            text.contains("| ✓ | flaky | completed | 2 | 1.50s | passed on attempt 2 of 3 |\n"),
            "{text}"
        );
        assert!(text.contains("| · | deploy | pending | 0 | - |  |\n"), "{text}");
        assert!(text.contains("| ✓ | evil | completed | 1 | 0.30s |  |\n"), "{text}");
        // 2026-11-28T14:00:00Z is 1,795,874,400,000 ms after the epoch.
        assert!(text.contains("```mermaid\ngantt\n    title ci\n    dateFormat x\n"), "{text}");
        assert!(text.contains("    build :crit, p2, 1795874400000, 1795874402000\n"), "{text}");
        assert!(text.contains("    fmt :done, p0, 1795874400000, 1795874400500\n"), "{text}");
        assert!(!text.contains(" deploy :"), "a phase that never ran has no task");
        let build = text.find("<summary>✗ <code>build</code> failed").expect("build's details");
        let lint = text.find("<summary>↷ <code>lint</code> skipped").expect("lint's details");
        assert!(build < lint);
        let details = &text[build..lint];
        assert!(
            details.contains("```text\nerror[E0308]: mismatched types\n --> src/main.rs:2:18\n"),
            "{details}"
        );
        assert!(details.contains("  |                  ^^^^^^^ expected `u32`, found `&str`\n⋮ 11 lines\nwarning: unreachable 10\n"), "{details}");
        assert!(
            details.ends_with("warning: unreachable 29\n```\n\n</details>\n\n<details open>"),
            "{details}"
        );
        assert!(!text.contains("Truncated"));
    }

    #[test]
    fn it_stays_under_its_limit_and_says_what_it_left_out() {
        let mut timeline = sample();
        let build = timeline.phases[2].clone();
        for i in 0..400 {
            let mut p = build.clone();
            p.name = format!("build{i}");
            timeline.phases.push(p);
        }
        let full = render(&timeline, &Excerpts::new(), STEP_SUMMARY_LIMIT);
        assert!(full.len() > 64 * 1024, "{}", full.len());
        let limit = 64 * 1024;
        let text = render(&timeline, &Excerpts::new(), limit);
        assert!(text.len() <= limit, "{}", text.len());
        assert!(
            text.contains("> **Truncated** to stay under 64 KiB: left out the output of"),
            "{text}"
        );
        assert!(text.ends_with("has everything.\n"));
        // Every `<details>` that was started is closed.
        assert_eq!(text.matches("<details").count(), text.matches("</details>").count());
    }

    #[test]
    fn markup_cannot_escape_its_place() {
        let mut timeline = sample();
        timeline.phases[2].error = Some("a | b <img src=x> `tick`".into());
        if let Some(last) = timeline.phases[2].logs.last_mut() {
            last.line = "``` ```` </details>".into();
        }
        let text = render(&timeline, &Excerpts::new(), STEP_SUMMARY_LIMIT);
        assert!(text.contains("| a \\| b &lt;img src=x&gt; `tick` |"), "{text}");
        assert!(text.contains("failed: a | b &lt;img src=x&gt; `tick`</summary>"), "{text}");
        assert!(text.contains("`````text\n"), "a fence longer than the longest run: {text}");
        assert_eq!(fence_for("no ticks"), "```");
        assert_eq!(mermaid_text("a:b;c#d"), "a b c d");
    }
}
