//! One self-contained HTML page (inline CSS, JS and SVG; nothing fetched): a header, a Gantt
//! chart of attempts and retry waits on the run's time axis, and per phase its status,
//! attempts, error, excerpt and retained lines. Rendered with minijinja from
//! `templates/report.html`, which escapes every value; the two blocks of output lines are
//! escaped here, line by line, and marked safe in the template.

use std::fmt::Write as _;

use serde::Serialize;

use super::{
    Excerpts, SliceKind, duration, escape_html, excerpt_of, flaky_note, glyph, has_failure,
    not_run_reason, shown_error, slices,
};
use crate::action::Stream;
use crate::excerpt::{Excerpt, Part};
use crate::format::status_counts;
use crate::state::PhaseStatus;
use crate::timeline::{Timeline, TimelinePhase};

/// The template.
const TEMPLATE: &str = include_str!("../../../templates/report.html");

/// Width of the chart's time axis, in pixels.
const AXIS_WIDTH: f64 = 960.0;
/// Width of the phase names left of the axis.
const LABEL_WIDTH: f64 = 200.0;
/// Height of one phase's row.
const ROW_HEIGHT: u32 = 18;
/// Height of the axis labels above the rows.
const AXIS_HEIGHT: u32 = 24;
/// Longest phase name drawn in the chart (the list shows it whole).
const LABEL_CHARS: usize = 28;

#[derive(Serialize)]
struct Page<'a> {
    pipeline: &'a str,
    status: &'static str,
    glyph: &'static str,
    started_at: Option<String>,
    elapsed: String,
    counts: String,
    milo_version: &'a str,
    chart: Chart<'a>,
    phases: Vec<PhaseView<'a>>,
}

#[derive(Serialize)]
struct Chart<'a> {
    width: f64,
    height: u32,
    label_width: f64,
    ticks: Vec<Tick>,
    rows: Vec<Row<'a>>,
}

#[derive(Serialize)]
struct Tick {
    x: f64,
    label: String,
}

#[derive(Serialize)]
struct Row<'a> {
    y: u32,
    id: String,
    label: String,
    name: &'a str,
    status: &'static str,
    bars: Vec<Bar>,
}

#[derive(Serialize)]
struct Bar {
    x: f64,
    width: f64,
    class: &'static str,
    title: String,
}

#[derive(Serialize)]
struct PhaseView<'a> {
    id: String,
    name: &'a str,
    description: &'a str,
    status: &'static str,
    glyph: &'static str,
    open: bool,
    elapsed: String,
    attempts: Vec<AttemptView<'a>>,
    error: Option<&'a str>,
    reason: Option<String>,
    note: Option<String>,
    excerpt: Option<String>,
    logs: String,
    log_count: usize,
    lines_total: u64,
    log_file: Option<&'a str>,
}

#[derive(Serialize)]
struct AttemptView<'a> {
    n: u32,
    start: String,
    elapsed: String,
    exit_code: Option<i32>,
    error: Option<&'a str>,
}

/// The page of `timeline`.
pub fn render(timeline: &Timeline, excerpts: &Excerpts) -> String {
    let mut env = minijinja::Environment::new();
    // `.html`: every `{{ value }}` is HTML-escaped.
    if let Err(e) = env.add_template("report.html", TEMPLATE) {
        return broken(&e);
    }
    let page = page(timeline, excerpts);
    match env.get_template("report.html").and_then(|t| {
        t.render(
            minijinja::context! { page => minijinja::Value::from(minijinja::value::Serde(&page)) },
        )
    }) {
        Ok(text) => text,
        Err(e) => broken(&e),
    }
}

/// A page saying the template failed (a bug: the template ships with the binary).
fn broken(e: &minijinja::Error) -> String {
    format!(
        "<!doctype html><title>cargo milo report</title><p>report template error: {}",
        escape_html(&e.to_string())
    )
}

fn page<'a>(timeline: &'a Timeline, excerpts: &Excerpts) -> Page<'a> {
    Page {
        pipeline: &timeline.pipeline,
        status: timeline.status.as_str(),
        glyph: match timeline.status {
            crate::state::PipelineStatus::Completed => "✓",
            crate::state::PipelineStatus::Failed => "✗",
            crate::state::PipelineStatus::Cancelled => "⊘",
            _ => "▶",
        },
        started_at: timeline.started_at.as_deref().map(when),
        elapsed: duration(timeline.elapsed),
        counts: format!(
            "{} phases: {}",
            timeline.phases.len(),
            status_counts(timeline.phases.iter().map(|p| p.status))
        ),
        milo_version: &timeline.milo_version,
        chart: chart(timeline),
        phases: timeline
            .phases
            .iter()
            .enumerate()
            .map(|(i, p)| phase_view(i, p, timeline, excerpts))
            .collect(),
    }
}

fn round(x: f64) -> f64 {
    (x * 10.0).round() / 10.0
}

fn chart(timeline: &Timeline) -> Chart<'_> {
    let axis = timeline.elapsed.max(1e-3);
    let x = |t: f64| round(LABEL_WIDTH + t / axis * AXIS_WIDTH);
    let step = tick_step(axis);
    let ticks = (0..=10_000)
        .map(|i| f64::from(i) * step)
        .take_while(|&t| t <= axis + 1e-9)
        .map(|t| Tick { x: x(t), label: tick_label(t, step) })
        .collect();
    let rows: Vec<Row> = timeline
        .phases
        .iter()
        .enumerate()
        .map(|(i, phase)| {
            let bars = slices(phase, timeline)
                .into_iter()
                .map(|s| {
                    let last = s.attempt == phase.attempt;
                    let (class, what) = match s.kind {
                        SliceKind::Attempt | SliceKind::FailedAttempt
                            if last && phase.status == PhaseStatus::Cancelled =>
                        {
                            ("cancel", format!("attempt {}: cancelled", s.attempt))
                        }
                        SliceKind::RetryWait => {
                            ("wait", format!("waiting after attempt {}", s.attempt))
                        }
                        SliceKind::FailedAttempt => (
                            "fail",
                            format!("attempt {}: {}", s.attempt, s.error.unwrap_or("failed")),
                        ),
                        SliceKind::Attempt if phase.status.is_active() => {
                            ("run", format!("attempt {}: running", s.attempt))
                        }
                        SliceKind::Attempt => ("ok", format!("attempt {}", s.attempt)),
                    };
                    let (left, right) = (x(s.span.start), x(s.span.end));
                    Bar {
                        x: left,
                        // At least a pixel, so an instant phase still shows.
                        width: round((right - left).max(1.0)),
                        class,
                        title: format!(
                            "{}: {what}, {} → {} ({})",
                            phase.name,
                            duration(s.span.start),
                            duration(s.span.end),
                            duration(s.span.end - s.span.start)
                        ),
                    }
                })
                .collect();
            let index = u32::try_from(i).unwrap_or(u32::MAX);
            Row {
                y: AXIS_HEIGHT.saturating_add(index.saturating_mul(ROW_HEIGHT)),
                id: format!("phase-{i}"),
                label: label(&phase.name),
                name: &phase.name,
                status: phase.status.as_str(),
                bars,
            }
        })
        .collect();
    let count = u32::try_from(rows.len()).unwrap_or(u32::MAX);
    Chart {
        width: LABEL_WIDTH + AXIS_WIDTH + 40.0,
        height: AXIS_HEIGHT.saturating_add(count.saturating_mul(ROW_HEIGHT)).saturating_add(4),
        label_width: LABEL_WIDTH,
        ticks,
        rows,
    }
}

/// A round step that puts at most ten ticks on an axis `axis` seconds long.
fn tick_step(axis: f64) -> f64 {
    const STEPS: [f64; 16] = [
        0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0,
        1800.0,
    ];
    STEPS
        .into_iter()
        .find(|s| axis / s <= 10.0)
        .unwrap_or_else(|| (axis / 10.0 / 3600.0).ceil() * 3600.0)
}

/// `15s` rather than `15.00s` when the ticks are whole seconds.
fn tick_label(t: f64, step: f64) -> String {
    if step >= 1.0 && t < 60.0 { format!("{t:.0}s") } else { duration(t) }
}

/// `2026-11-28 14:00:00 UTC` from RFC 3339 (`2026-11-28T14:00:00.123Z`); other text as is.
fn when(started_at: &str) -> String {
    match started_at.strip_suffix('Z').and_then(|s| s.split_once('T')) {
        Some((day, time)) => format!("{day} {} UTC", time.split('.').next().unwrap_or(time)),
        None => started_at.to_owned(),
    }
}

fn label(name: &str) -> String {
    if name.chars().count() <= LABEL_CHARS {
        return name.to_owned();
    }
    let mut out: String = name.chars().take(LABEL_CHARS - 1).collect();
    out.push('…');
    out
}

fn phase_view<'a>(
    i: usize,
    phase: &'a TimelinePhase,
    timeline: &Timeline,
    excerpts: &Excerpts,
) -> PhaseView<'a> {
    let failed = has_failure(phase);
    PhaseView {
        id: format!("phase-{i}"),
        name: &phase.name,
        description: &phase.description,
        status: phase.status.as_str(),
        glyph: glyph(phase.status),
        open: phase.status == PhaseStatus::Failed,
        elapsed: if phase.start.is_some() { duration(phase.elapsed) } else { String::new() },
        attempts: phase
            .attempts
            .iter()
            .map(|a| AttemptView {
                n: a.attempt,
                start: duration(a.start),
                elapsed: a.end.map(|e| duration(e - a.start)).unwrap_or_default(),
                exit_code: a.exit_code,
                error: a.error.as_deref(),
            })
            .collect(),
        error: shown_error(phase),
        reason: not_run_reason(phase, timeline),
        note: flaky_note(phase),
        excerpt: failed.then(|| excerpt_html(&excerpt_of(phase, excerpts))),
        logs: logs_html(phase),
        log_count: phase.logs.len(),
        lines_total: phase.lines_total,
        log_file: phase.log_file.as_deref(),
    }
}

/// The excerpt, escaped: lines that look like errors marked, gaps as `⋮ N lines`.
fn excerpt_html(excerpt: &Excerpt) -> String {
    let mut out = String::new();
    let errors = excerpt.errors.last().map_or(0, |l| l.number);
    for part in excerpt.parts() {
        match part {
            Part::Line(line) if line.number <= errors => {
                let _ = writeln!(out, "<span class=\"hit\">{}</span>", escape_html(&line.text));
            }
            Part::Line(line) => {
                let _ = writeln!(out, "{}", escape_html(&line.text));
            }
            Part::Gap(n) => {
                let _ = writeln!(out, "<span class=\"gap\">⋮ {n} lines</span>");
            }
        }
    }
    out
}

/// The retained lines, escaped, stderr lines marked.
fn logs_html(phase: &TimelinePhase) -> String {
    let size: usize = phase.logs.iter().map(|l| l.line.len() + 1).sum();
    let mut out = String::with_capacity(size + size / 8);
    for log in &phase.logs {
        if log.stream == Stream::Stderr {
            out.push_str("<span class=\"stderr\">");
            out.push_str(&escape_html(&log.line));
            out.push_str("</span>\n");
        } else {
            out.push_str(&escape_html(&log.line));
            out.push('\n');
        }
    }
    out
}

#[cfg(test)]
mod tests;
