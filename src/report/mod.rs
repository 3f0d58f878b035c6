//! Progress for people: plain lines for logs and pipes, indicatif bars for terminals.

#[cfg(feature = "progress")]
pub mod bars;
pub mod excerpts;
#[cfg(feature = "reports")]
pub mod github;
pub mod plain;

use std::fmt::Write as _;
use std::path::Path;

use crate::excerpt::Excerpt;
use crate::format::duration;
use crate::state::{PhaseState, PipelineState};

/// A random token of 32 hex digits: GitHub's stop-commands fence and output delimiters must
/// not be guessable by what a phase prints.
pub fn token() -> String {
    let mut bytes = [0u8; 16];
    if getrandom::fill(&mut bytes).is_err() {
        // No OS randomness: the standard library's per-process random hash keys instead.
        use std::hash::{BuildHasher, Hasher};
        for chunk in bytes.chunks_mut(8) {
            let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
            hasher.write_u32(std::process::id());
            chunk.copy_from_slice(&hasher.finish().to_le_bytes());
        }
    }
    bytes.iter().fold(String::with_capacity(32), |mut hex, b| {
        let _ = write!(hex, "{b:02x}");
        hex
    })
}

/// The summary table printed at the end: phase, status, attempts, time.
pub fn summary(state: &PipelineState) -> String {
    let width = state.phases.iter().map(|p| p.name.chars().count()).max().unwrap_or(5).max(5);
    let mut out = String::new();
    let _ =
        writeln!(out, "{:<width$}  {:<10}  {:>8}  {:>8}", "phase", "status", "attempts", "time");
    for p in &state.phases {
        let time =
            if p.started_at.is_some() { duration(p.elapsed(state.elapsed)) } else { "-".into() };
        let _ = writeln!(
            out,
            "{:<width$}  {:<10}  {:>8}  {:>8}",
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

/// Each failed phase's excerpt — the lines that look like errors, then the tail — under a
/// header naming its full log (see [`failure_block`]), from excerpts already read
/// ([`excerpts::of_failures`]).
#[cfg(feature = "reports")]
pub fn failure_blocks(
    state: &PipelineState,
    excerpts: &crate::reports::Excerpts,
    log_dir: Option<&Path>,
) -> String {
    let mut out = String::new();
    for p in state.phases.iter().filter(|p| p.status == crate::state::PhaseStatus::Failed) {
        if let Some(excerpt) = excerpts.get(&*p.name) {
            out.push_str(&failure_block(p, excerpt, log_dir));
        }
    }
    out
}

/// One failed phase's header (naming its full log, in `log_dir`) and excerpt.
pub fn failure_block(phase: &PhaseState, excerpt: &Excerpt, log_dir: Option<&Path>) -> String {
    let log = log_dir.map(|dir| dir.join(format!("{}.log", phase.name)));
    let mut out =
        format!("--- {} failed: {} (", phase.name, phase.error.as_deref().unwrap_or("failed"));
    if excerpt.total == 0 {
        out.push_str("no output");
    } else if excerpt.errors.is_empty() {
        let _ = write!(out, "last {} of {} lines", excerpt.tail.len(), excerpt.total);
    } else {
        let _ = write!(
            out,
            "errors first, then last {} of {} lines",
            excerpt.tail.len(),
            excerpt.total
        );
    }
    if let Some(log) = log.filter(|_| phase.logs.total() > 0) {
        let _ = write!(out, "; full log: {}", log.display());
    }
    out.push_str(") ---\n");
    out.push_str(&excerpt.to_text(""));
    out
}
