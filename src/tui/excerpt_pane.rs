//! The top of an expanded failed phase: the lines of its output that look like errors
//! (`error[E0308]` blocks, panics, failed tests), above the scrolling log, so the cause is
//! on screen even when the tail is all warnings.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};

use crate::excerpt::{ExcerptLine, Limits};
use crate::state::PhaseStatus;
use crate::view::ViewState;

/// The selected phase's lines that look like errors, when it failed, except those among its
/// last `visible` lines: the log pane shows those.
pub fn lines(view: &ViewState, visible: usize) -> Vec<ExcerptLine> {
    let Some(phase) = view.selected_phase().filter(|p| p.status == PhaseStatus::Failed) else {
        return Vec::new();
    };
    let limits = Limits { tail: visible, ..Limits::default() };
    crate::report::excerpts::from_ring(phase, limits).errors
}

/// Rows the pane takes out of `room` body rows for `lines` lines: a title and the lines,
/// at most a third of the room, none when fewer than 12 rows are left.
pub fn rows(lines: usize, room: u16) -> u16 {
    if lines == 0 || room < 12 {
        return 0;
    }
    u16::try_from(lines + 1).unwrap_or(u16::MAX).min(room / 3)
}

/// Draws the title and as many lines as fit.
pub fn render(lines: &[ExcerptLine], area: Rect, buf: &mut Buffer) {
    if area.is_empty() || lines.is_empty() {
        return;
    }
    let shown = usize::from(area.height - 1).min(lines.len());
    let title = if shown < lines.len() {
        format!("─ looks like errors ({shown} of {} lines) ", lines.len())
    } else {
        "─ looks like errors ".to_owned()
    };
    let style = Style::new().fg(Color::Red).add_modifier(Modifier::BOLD);
    let (x, _) = buf.set_stringn(area.x, area.y, &title, area.width.into(), style);
    let rest = area.right().saturating_sub(x);
    buf.set_stringn(x, area.y, "─".repeat(rest.into()), rest.into(), Style::new().fg(Color::Red));
    let number_width = lines.last().map_or(1, |l| l.number.to_string().len());
    let dim = Style::new().fg(Color::DarkGray);
    for (row, line) in lines.iter().take(shown).enumerate() {
        let y = area.y + 1 + u16::try_from(row).unwrap_or(u16::MAX);
        let label = format!("{:>number_width$} ┃ ", line.number);
        let (x, _) = buf.set_stringn(area.x, y, &label, area.width.into(), dim);
        let width = usize::from(area.right().saturating_sub(x));
        buf.set_stringn(
            x,
            y,
            super::render::clean(&line.text),
            width,
            Style::new().fg(Color::LightRed),
        );
    }
}
