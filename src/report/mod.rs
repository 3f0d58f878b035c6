//! Progress for people: plain lines for logs and pipes, indicatif bars for terminals.

#[cfg(feature = "progress")]
pub mod bars;
pub mod plain;

use std::fmt::Write as _;

use crate::format::duration;
use crate::state::{PhaseStatus, PipelineState};

/// The summary table printed at the end: phase, status, attempts, time.
pub fn summary(state: &PipelineState) -> String {
    let width = state.phases.iter().map(|p| p.name.chars().count()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ = writeln!(out, "{:<width$}  {:<9}  {:>8}  {:>8}", "phase", "status", "attempts", "time");
    for p in &state.phases {
        let time =
            if p.started_at.is_some() { duration(p.elapsed(state.elapsed)) } else { "-".into() };
        let _ = writeln!(
            out,
            "{:<width$}  {:<9}  {:>8}  {:>8}",
            p.name,
            p.status.as_str(),
            p.attempts.len(),
            time
        );
    }
    let _ = write!(
        out,
        "pipeline {} {} in {}",
        state.name,
        state.status.as_str(),
        duration(state.elapsed)
    );
    out
}

/// The last `n` kept lines of each failed phase, under a header naming the full log.
pub fn failure_tails(state: &PipelineState, n: usize, log_dir: Option<&std::path::Path>) -> String {
    let mut out = String::new();
    for p in state.phases.iter().filter(|p| p.status == PhaseStatus::Failed) {
        let lines = p.logs.lines();
        let skip = lines.len().saturating_sub(n);
        let _ = write!(out, "--- {} failed: {} ", p.name, p.error.as_deref().unwrap_or("failed"));
        match log_dir {
            Some(dir) => {
                let _ = writeln!(
                    out,
                    "(last {} of {} lines; full log: {}) ---",
                    lines.len() - skip,
                    p.logs.total(),
                    dir.join(format!("{}.log", p.name)).display()
                );
            }
            None => {
                let _ =
                    writeln!(out, "(last {} of {} lines) ---", lines.len() - skip, p.logs.total());
            }
        }
        for l in lines.iter().skip(skip) {
            let _ = writeln!(out, "{}", l.line);
        }
    }
    out
}
