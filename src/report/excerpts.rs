//! Excerpts of failed phases read from their full logs (`logs/<phase>.log`), so that an
//! error printed long before the retained lines is still found; the retained lines when the
//! log cannot be read.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::path::Path;

use crate::excerpt::{Excerpt, ExcerptBuilder, Limits};
use crate::state::PhaseState;

/// The excerpt of the last attempt in the log file at `path` of phase `name`, or `None`
/// when it cannot be read.
pub fn from_log(path: &Path, name: &str, limits: Limits) -> Option<Excerpt> {
    let mut reader = BufReader::new(File::open(path).ok()?);
    // Each attempt starts with `=== name: attempt N (at 1.234s) ===`: excerpts are of the last.
    let header = format!("=== {name}: attempt ");
    let mut builder = ExcerptBuilder::new(limits);
    let mut bytes = Vec::new();
    let mut number = 0u64;
    loop {
        bytes.clear();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => return None,
        }
        number += 1;
        let line = String::from_utf8_lossy(&bytes);
        let line = line.strip_suffix('\n').unwrap_or(&line);
        if line.starts_with(&header) && line.ends_with(" ===") {
            builder = ExcerptBuilder::starting_at(number + 1, limits);
            continue;
        }
        builder.push(line);
    }
    Some(builder.finish())
}

/// The excerpt of a phase's retained lines, numbered as printed.
pub fn from_ring(phase: &PhaseState, limits: Limits) -> Excerpt {
    let dropped = phase.logs.total().saturating_sub(phase.logs.len() as u64);
    let mut builder = ExcerptBuilder::starting_at(dropped + 1, limits);
    for line in phase.logs.lines() {
        builder.push(&line.line);
    }
    builder.finish()
}

/// The excerpt of a phase: from its full log in `log_dir` when there is one, else from its
/// retained lines.
pub fn of_phase(phase: &PhaseState, log_dir: Option<&Path>, limits: Limits) -> Excerpt {
    log_dir
        .filter(|_| phase.logs.total() > 0)
        .and_then(|dir| from_log(&dir.join(format!("{}.log", phase.name)), &phase.name, limits))
        .unwrap_or_else(|| from_ring(phase, limits))
}

/// The excerpts of a finished run's failed phases (skipped after failing too), read once
/// from their full logs in `log_dir` (from the retained lines where a log cannot be read).
#[cfg(feature = "reports")]
pub fn of_failures(
    state: &crate::state::PipelineState,
    log_dir: Option<&Path>,
) -> crate::reports::Excerpts {
    use crate::state::PhaseStatus;
    state
        .phases
        .iter()
        .filter(|p| {
            p.status == PhaseStatus::Failed || p.status == PhaseStatus::Skipped && p.error.is_some()
        })
        .map(|p| (p.name.to_string(), of_phase(p, log_dir, Limits::default())))
        .collect()
}

/// The excerpts of a recorded timeline's failed phases, from the logs beside it (`dir` is
/// the timeline's folder). Only log paths inside that folder are read.
#[cfg(feature = "reports")]
pub fn for_timeline(timeline: &crate::timeline::Timeline, dir: &Path) -> crate::reports::Excerpts {
    timeline
        .phases
        .iter()
        .filter(|p| crate::reports::has_failure(p))
        .filter_map(|p| {
            let file = Path::new(p.log_file.as_deref()?);
            if !file.components().all(|c| matches!(c, std::path::Component::Normal(_))) {
                return None;
            }
            let excerpt = from_log(&dir.join(file), &p.name, Limits::default())?;
            Some((p.name.clone(), excerpt))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;

    use super::*;

    #[test]
    fn the_last_attempt_of_a_log_file_numbered_as_in_the_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("build.log");
        let mut text = String::from("=== build: attempt 1 (at 0.000s) ===\nerror: first try\n\n");
        text.push_str("=== build: attempt 2 (at 1.000s) ===\n");
        text.push_str("error[E0308]: mismatched types\n --> src/main.rs:2:18\n\n");
        for i in 0..100 {
            let _ = writeln!(text, "warning {i}");
        }
        std::fs::write(&path, text).expect("write log");
        let excerpt = from_log(&path, "build", Limits::default()).expect("readable");
        assert_eq!(excerpt.errors[0].text, "error[E0308]: mismatched types");
        assert_eq!(excerpt.errors[0].number, 5);
        assert_eq!(excerpt.locations.len(), 1, "the first attempt's error is not this one's");
        assert_eq!(excerpt.tail.last().map(|l| l.number), Some(107));
        assert!(from_log(&dir.path().join("none.log"), "none", Limits::default()).is_none());
    }
}
