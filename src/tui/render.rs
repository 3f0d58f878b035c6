//! Draws a [`ViewState`] into a ratatui buffer: a header with the weighted progress, the
//! phase list with a Gantt bar per phase, the expanded phase's retained lines, and a footer
//! with the keys.
//!
//! Only the visible window of a log ring is touched, so a frame costs the same with 100 or
//! 100,000 retained lines.

use std::borrow::Cow;
use std::fmt::Write as _;

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Scrollbar, ScrollbarOrientation, ScrollbarState, StatefulWidget, Widget};

use super::excerpt_pane;
use crate::excerpt::ExcerptLine;
use crate::format;
use crate::state::{PhaseState, PhaseStatus, PipelineStatus};
use crate::view::ViewState;

/// Where each part of the view goes in a given area.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Areas {
    /// Pipeline name, status, elapsed, progress.
    pub header: Rect,
    /// The phase list (empty when the pane needs the room).
    pub list: Rect,
    /// The title row of the expanded pane (or of the overview's preview of it).
    pub pane_title: Rect,
    /// The selected phase's error, when it has one.
    pub error: Rect,
    /// The expanded failed phase's lines that look like errors.
    pub excerpt: Rect,
    /// The visible log lines.
    pub logs: Rect,
    /// The keys.
    pub footer: Rect,
}

/// Splits `area` for `view`. The live loop uses this to tell the reducer how many log rows
/// are visible, so scrolling clamps to what is on screen.
pub fn layout(area: Rect, view: &ViewState) -> Areas {
    areas_for(area, view, view.expanded).0
}

/// The number of log rows the expanded pane of `view` has in `area`, expanded or not yet
/// (for [`ViewAction::Resize`]).
///
/// [`ViewAction::Resize`]: crate::view::ViewAction::Resize
pub fn log_height(area: Rect, view: &ViewState) -> usize {
    usize::from(areas_for(area, view, true).0.logs.height)
}

/// The areas, and the error lines of an expanded failed phase that the log pane's bottom
/// window does not show (drawn above it).
fn areas_for(area: Rect, view: &ViewState, expanded: bool) -> (Areas, Vec<ExcerptLine>) {
    let has_error = view.selected_phase().is_some_and(|p| p.error.is_some());
    let phases = view.pipeline.phases.len();
    let plain = split(area, phases, expanded, has_error, 0);
    if !expanded {
        return (plain, Vec::new());
    }
    let lines = excerpt_pane::lines(view, plain.logs.height.into());
    if lines.is_empty() {
        return (plain, lines);
    }
    (split(area, phases, true, has_error, lines.len()), lines)
}

fn split(area: Rect, phases: usize, expanded: bool, has_error: bool, excerpt: usize) -> Areas {
    let mut areas = Areas::default();
    if area.is_empty() {
        return areas;
    }
    let row = |y: u16, height: u16| Rect::new(area.x, y, area.width, height);
    let mut top = area.y;
    let mut bottom = area.bottom();
    areas.header = row(top, 1);
    top += 1;
    if area.height >= 5 {
        bottom -= 1;
        areas.footer = row(bottom, 1);
    }
    let body = bottom.saturating_sub(top);
    let phases = u16::try_from(phases).unwrap_or(u16::MAX);
    let list = if expanded {
        if body >= 10 { phases.min(body / 3) } else { 0 }
    } else if body.saturating_sub(phases) >= 4 {
        // Room to spare under the list: preview the selected phase's latest lines there.
        phases
    } else {
        areas.list = row(top, body);
        return areas;
    };
    areas.list = row(top, list);
    top += list;
    if top < bottom {
        areas.pane_title = row(top, 1);
        top += 1;
    }
    if has_error && bottom.saturating_sub(top) >= 3 {
        areas.error = row(top, 1);
        top += 1;
    }
    let excerpt = excerpt_pane::rows(excerpt, bottom.saturating_sub(top));
    areas.excerpt = row(top, excerpt);
    top += excerpt;
    areas.logs = row(top, bottom.saturating_sub(top));
    areas
}

impl Widget for &ViewState {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let (areas, excerpt) = areas_for(area, self, self.expanded);
        render_header(self, areas.header, buf);
        render_list(self, areas.list, buf, Some(self.selected));
        if let Some(phase) = self.selected_phase() {
            render_pane_title(self, phase, areas.pane_title, buf);
            render_error(phase, areas.error, buf);
            excerpt_pane::render(&excerpt, areas.excerpt, buf);
            let scroll = if self.expanded {
                self.log_scroll
            } else {
                phase.logs.len().saturating_sub(usize::from(areas.logs.height))
            };
            render_logs(phase, scroll, areas.logs, buf);
        }
        render_footer(self, areas.footer, buf);
    }
}

/// Draws only the header and the phase list, with no keys: for printing the overview once
/// where there is no terminal.
pub fn render_summary(view: &ViewState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    render_header(view, Rect { height: 1, ..area }, buf);
    let list = Rect { y: area.y + 1, height: area.height - 1, ..area };
    render_list(view, list, buf, None);
}

/// The mark ([`format::mark`]) and colour of a phase status.
pub fn status_glyph(status: PhaseStatus) -> (&'static str, Color) {
    let color = match status {
        PhaseStatus::Pending => Color::DarkGray,
        PhaseStatus::Running => Color::Cyan,
        PhaseStatus::Retrying | PhaseStatus::Skipped => Color::Yellow,
        PhaseStatus::Completed | PhaseStatus::UpToDate => Color::Green,
        PhaseStatus::Failed => Color::Red,
        PhaseStatus::Cancelled => Color::Magenta,
    };
    (format::mark(status), color)
}

fn pipeline_glyph(status: PipelineStatus) -> (&'static str, Color) {
    let color = match status {
        PipelineStatus::Pending => Color::DarkGray,
        PipelineStatus::Running => Color::Cyan,
        PipelineStatus::Completed => Color::Green,
        PipelineStatus::Failed => Color::Red,
        PipelineStatus::Cancelled => Color::Magenta,
    };
    (format::pipeline_mark(status), color)
}

/// `12345` as `12,345`.
fn grouped(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn render_header(view: &ViewState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let state = &view.pipeline;
    let (glyph, color) = pipeline_glyph(state.status);
    let line = Line::from(vec![
        Span::styled(format!(" {} ", state.name), Style::new().add_modifier(Modifier::BOLD)),
        Span::styled(format!(" {glyph} {} ", state.status.as_str()), Style::new().fg(color)),
        Span::raw(format!(" {} ", format::duration(view.clock()))),
    ]);
    let (x, _) = buf.set_line(area.x, area.y, &line, area.width);
    let label = format!(" {:>3.0}%", state.progress * 100.0);
    let room = area.right().saturating_sub(x + 1);
    let label_width = u16::try_from(label.len()).unwrap_or(u16::MAX);
    if room < label_width + 6 {
        return;
    }
    let bar = room - label_width;
    // The bar is at most a terminal wide: the cast cannot truncate.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let filled = ((f64::from(bar) * state.progress.clamp(0.0, 1.0)).round() as u16).min(bar);
    let x = x + 1;
    buf.set_stringn(x, area.y, "█".repeat(filled.into()), bar.into(), Style::new().fg(color));
    buf.set_stringn(
        x + filled,
        area.y,
        "░".repeat((bar - filled).into()),
        (bar - filled).into(),
        Style::new().fg(Color::DarkGray),
    );
    buf.set_stringn(x + bar, area.y, &label, label.len(), Style::new());
}

/// Column widths of the phase list at a given width: narrow terminals drop the Gantt bar
/// first, then the weight, then the attempt.
struct Columns {
    name: u16,
    attempt: u16,
    elapsed: u16,
    weight: u16,
    gantt: u16,
}

impl Columns {
    fn fit(view: &ViewState, width: u16) -> Self {
        let longest = view.pipeline.phases.iter().map(|p| p.name.chars().count()).max();
        let name = u16::try_from(longest.unwrap_or(4)).unwrap_or(u16::MAX).clamp(4, 24);
        let mut cols = Self { name, attempt: 6, elapsed: 8, weight: 5, gantt: 0 };
        // marker + glyph + space, then the name, then the fixed columns.
        let fixed = |c: &Self| 3 + c.name + c.attempt + c.elapsed + c.weight;
        let rest = width.saturating_sub(fixed(&cols) + 2);
        if rest >= 8 {
            cols.gantt = rest;
            return cols;
        }
        if fixed(&cols) > width {
            cols.weight = 0;
        }
        if fixed(&cols) > width {
            cols.attempt = 0;
        }
        if fixed(&cols) > width {
            cols.name = width.saturating_sub(3 + cols.elapsed).max(4);
        }
        cols
    }
}

fn render_list(view: &ViewState, area: Rect, buf: &mut Buffer, selected: Option<usize>) {
    let phases = &view.pipeline.phases;
    if area.is_empty() || phases.is_empty() {
        return;
    }
    let height = usize::from(area.height);
    let first = if phases.len() <= height {
        0
    } else {
        view.selected.saturating_sub(height / 2).min(phases.len() - height)
    };
    let cols = Columns::fit(view, area.width);
    let clock = view.clock();
    for (row, (index, phase)) in phases.iter().enumerate().skip(first).take(height).enumerate() {
        let y = area.y + u16::try_from(row).unwrap_or(u16::MAX);
        let is_selected = selected == Some(index);
        render_phase_row(view, phase, is_selected, &cols, clock, area.x, y, area.right(), buf);
    }
}

#[allow(clippy::too_many_arguments)]
fn render_phase_row(
    view: &ViewState,
    phase: &PhaseState,
    selected: bool,
    cols: &Columns,
    clock: f64,
    x: u16,
    y: u16,
    right: u16,
    buf: &mut Buffer,
) {
    let (glyph, color) = status_glyph(phase.status);
    let width = |x: u16| usize::from(right.saturating_sub(x));
    let marker = if selected { "▸" } else { " " };
    buf.set_stringn(x, y, marker, width(x), Style::new().add_modifier(Modifier::BOLD));
    buf.set_stringn(x + 1, y, glyph, width(x + 1), Style::new().fg(color));
    let mut name_style = Style::new();
    if selected {
        name_style = name_style.add_modifier(Modifier::BOLD | Modifier::REVERSED);
    }
    let name = truncate(&phase.name, cols.name.into());
    buf.set_stringn(x + 3, y, &name, width(x + 3).min(cols.name.into()), name_style);
    let mut cx = x + 3 + cols.name;
    let dim = Style::new().fg(Color::DarkGray);
    if cols.attempt > 0 {
        let text = if phase.attempt == 0 {
            String::new()
        } else {
            format!("{}/{}", phase.attempt, phase.max_attempts)
        };
        let style = if phase.attempt > 1 { Style::new().fg(Color::Yellow) } else { dim };
        right_aligned(buf, cx, y, cols.attempt, &text, style, right);
        cx += cols.attempt;
    }
    let elapsed = if phase.started_at.is_some() {
        format::duration(phase.elapsed(clock))
    } else {
        String::new()
    };
    right_aligned(buf, cx, y, cols.elapsed, &elapsed, Style::new(), right);
    cx += cols.elapsed;
    if cols.weight > 0 {
        right_aligned(buf, cx, y, cols.weight, &format!("w{}", phase.weight), dim, right);
        cx += cols.weight;
    }
    if cols.gantt > 0 {
        render_gantt(
            view,
            phase,
            cx + 2,
            y,
            cols.gantt.min(right.saturating_sub(cx + 2)),
            color,
            buf,
        );
    }
}

fn right_aligned(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    width: u16,
    text: &str,
    style: Style,
    right: u16,
) {
    let len = u16::try_from(text.chars().count()).unwrap_or(u16::MAX);
    let start = x + width.saturating_sub(len);
    if start < right {
        buf.set_stringn(start, y, text, usize::from(right - start), style);
    }
}

/// The phase's attempts as bars on the pipeline's time axis; waits between attempts dashed.
fn render_gantt(
    view: &ViewState,
    phase: &PhaseState,
    x: u16,
    y: u16,
    width: u16,
    color: Color,
    buf: &mut Buffer,
) {
    let Some(start) = phase.started_at else { return };
    if width == 0 {
        return;
    }
    let clock = view.clock();
    let axis = clock.max(1e-9);
    let cells = f64::from(width);
    // Positions are clamped to [0, width] before the cast.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let cell = |t: f64, up: bool| {
        let pos = (t / axis * cells).clamp(0.0, cells);
        (if up { pos.ceil() } else { pos.floor() }) as u16
    };
    let span = |from: f64, to: f64| {
        let a = cell(from, false).min(width - 1);
        let b = cell(to, true).max(a + 1).min(width);
        (a, b)
    };
    let end = phase.ended_at.unwrap_or(clock);
    let (a, b) = span(start, end);
    for cx in a..b {
        buf[(x + cx, y)].set_symbol("╌").set_style(Style::new().fg(Color::DarkGray));
    }
    for attempt in &phase.attempts {
        let (a, b) = span(attempt.start, attempt.end.unwrap_or(end));
        for cx in a..b {
            buf[(x + cx, y)].set_symbol("█").set_style(Style::new().fg(color));
        }
    }
}

fn render_pane_title(view: &ViewState, phase: &PhaseState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let logs = &phase.logs;
    let mut title = format!("─ {} · {} ─ ", phase.name, phase.status.as_str());
    if !view.expanded {
        title.push_str("latest lines ─ enter to scroll ");
    } else if logs.is_empty() {
        title.push_str("no lines ");
    } else {
        let first = view.log_scroll.min(logs.len() - 1) + 1;
        let last = (view.log_scroll + view.log_height).min(logs.len()).max(first);
        let _ = write!(
            title,
            "lines {}–{} of {} ",
            grouped(first as u64),
            grouped(last as u64),
            grouped(logs.len() as u64)
        );
    }
    if view.expanded && logs.total() > logs.len() as u64 {
        let _ = write!(title, "({} printed) ", grouped(logs.total()));
    }
    if view.expanded {
        title.push_str(if view.auto_follow { "─ following " } else { "─ paused " });
    }
    let style = Style::new().fg(Color::Blue).add_modifier(Modifier::BOLD);
    let (x, _) = buf.set_stringn(area.x, area.y, &title, area.width.into(), style);
    let rest = area.right().saturating_sub(x);
    buf.set_stringn(x, area.y, "─".repeat(rest.into()), rest.into(), Style::new().fg(Color::Blue));
}

fn render_error(phase: &PhaseState, area: Rect, buf: &mut Buffer) {
    let Some(error) = phase.error.as_deref() else { return };
    if area.is_empty() {
        return;
    }
    let (text, style) = if phase.status == PhaseStatus::Retrying {
        let next = phase.retry_delay.map(|d| format!("; retrying in {}", format::delay(d)));
        (
            format!(
                " {} attempt {}/{} failed: {error}{}",
                format::mark(PhaseStatus::Retrying),
                phase.attempt,
                phase.max_attempts,
                next.unwrap_or_default()
            ),
            Style::new().fg(Color::Yellow),
        )
    } else {
        let (glyph, color) = status_glyph(phase.status);
        (format!(" {glyph} {error}"), Style::new().fg(color).add_modifier(Modifier::BOLD))
    };
    buf.set_stringn(area.x, area.y, clean(&text), area.width.into(), style);
}

/// Draws the retained lines of `phase` from index `scroll` on, with a scrollbar when they do
/// not all fit. Only the visible window of the ring is read.
fn render_logs(phase: &PhaseState, scroll: usize, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let logs = &phase.logs;
    let dim = Style::new().fg(Color::DarkGray);
    if logs.is_empty() {
        // Say what is true: a phase that printed nothing has no output, whatever it keeps;
        // only lines printed and not kept are about `max_logs`.
        let note = match phase.status {
            PhaseStatus::Pending => " not started",
            PhaseStatus::UpToDate => " up to date: not run (nothing it depends on changed)",
            PhaseStatus::Running | PhaseStatus::Retrying if logs.total() == 0 => " no output yet",
            _ if logs.total() == 0 => " no output",
            _ if logs.cap() == 0 => " no lines kept (max_logs = 0)",
            _ => " no lines kept",
        };
        buf.set_stringn(area.x, area.y, note, area.width.into(), dim);
        return;
    }
    let height = usize::from(area.height);
    let scroll = scroll.min(logs.len().saturating_sub(height));
    let scrollbar = logs.len() > height && area.width > 20;
    let text_right = if scrollbar { area.right() - 1 } else { area.right() };
    // Line numbers count every line printed, so they match logs/<phase>.log.
    let dropped = logs.total().saturating_sub(logs.len() as u64);
    let number_width = grouped(logs.total()).len().max(1);
    let gutter = area.width >= 30;
    let stderr_style = Style::new().fg(Color::LightRed);
    for (row, line) in logs.lines().range(scroll..(scroll + height).min(logs.len())).enumerate() {
        let y = area.y + u16::try_from(row).unwrap_or(u16::MAX);
        let is_err = line.stream == crate::action::Stream::Stderr;
        let mut x = area.x;
        if gutter {
            let number = grouped(dropped + (scroll + row) as u64 + 1);
            let label = format!("{number:>number_width$} ");
            x = buf.set_stringn(x, y, &label, usize::from(text_right - x), dim).0;
        }
        let marker = if is_err { "!│ " } else { " │ " };
        let marker_style = if is_err { stderr_style.add_modifier(Modifier::BOLD) } else { dim };
        x = buf
            .set_stringn(x, y, marker, usize::from(text_right.saturating_sub(x)), marker_style)
            .0;
        let style = if is_err { stderr_style } else { Style::new() };
        buf.set_stringn(x, y, clean(&line.line), usize::from(text_right.saturating_sub(x)), style);
    }
    if scrollbar {
        let mut state = ScrollbarState::new(logs.len().saturating_sub(height))
            .position(scroll)
            .viewport_content_length(height);
        Scrollbar::new(ScrollbarOrientation::VerticalRight)
            .begin_symbol(None)
            .end_symbol(None)
            .track_style(dim)
            .render(area, buf, &mut state);
    }
}

fn render_footer(view: &ViewState, area: Rect, buf: &mut Buffer) {
    if area.is_empty() {
        return;
    }
    let running_live = view.live && !view.pipeline.status.is_terminal();
    let quit = if running_live { "stop run & quit" } else { "quit" };
    let keys: &[(&str, &str)] = if view.expanded {
        &[
            ("↑↓", "scroll"),
            ("esc", "back"),
            ("f", "follow"),
            ("g/G", "top/end"),
            ("PgUp/PgDn", "page"),
        ]
    } else {
        &[("↑↓", "select"), ("enter", "open")]
    };
    let key_style = Style::new().add_modifier(Modifier::BOLD);
    let what_style = Style::new().fg(Color::DarkGray);
    let pair = |key: &str, what: &str| {
        [Span::styled(format!(" {key}"), key_style), Span::styled(format!(" {what} "), what_style)]
    };
    // The way out stays in view however narrow the terminal: it is drawn at the right, and
    // the other keys are cut before it.
    let quit_line = Line::from(pair("q", quit).to_vec());
    let quit_width = u16::try_from(quit_line.width()).unwrap_or(u16::MAX).min(area.width);
    let room = usize::from(area.width - quit_width);
    let mut spans = Vec::with_capacity(keys.len() * 2 + 1);
    if view.live && view.pipeline.status.is_terminal() {
        spans.push(Span::styled(" run finished ·", key_style));
    }
    let mut used: usize = spans.iter().map(Span::width).sum();
    // Whole pairs only: a key cut in half helps nobody.
    for (key, what) in keys {
        let next = pair(key, what);
        let width = next.iter().map(Span::width).sum::<usize>();
        if used + width > room {
            break;
        }
        used += width;
        spans.extend(next);
    }
    buf.set_line(area.x, area.y, &Line::from(spans), area.width - quit_width);
    buf.set_line(area.right() - quit_width, area.y, &quit_line, quit_width);
}

/// Cuts `text` to `width` characters, ending with `…` when cut.
fn truncate(text: &str, width: usize) -> Cow<'_, str> {
    if text.chars().count() <= width {
        return Cow::Borrowed(text);
    }
    let mut out: String = text.chars().take(width.saturating_sub(1)).collect();
    out.push('…');
    Cow::Owned(out)
}

/// The longest prefix of a line worth cleaning: wider than any terminal, even with escapes.
const CLEAN_LIMIT: usize = 4096;

/// Makes a captured line safe to draw: ANSI escape sequences removed, tabs expanded, other
/// control characters dropped. Lines without any are borrowed as they are.
pub fn clean(line: &str) -> Cow<'_, str> {
    if !line.bytes().any(|b| b < 0x20 || b == 0x7f) {
        return Cow::Borrowed(line);
    }
    let mut end = line.len().min(CLEAN_LIMIT);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    // The stripper drops tabs: strip between them and expand them here, by visible column.
    let mut out = String::with_capacity(end);
    let mut column = 0;
    for (i, part) in line[..end].split('\t').enumerate() {
        if i > 0 {
            let pad = 4 - column % 4;
            out.extend(std::iter::repeat_n(' ', pad));
            column += pad;
        }
        for c in strip_ansi_escapes::strip_str(part).chars().filter(|c| !c.is_control()) {
            out.push(c);
            column += 1;
        }
    }
    Cow::Owned(out)
}
