//! A large recorded timeline (shared by the size test and `benches/reports.rs`): `phases`
//! phases of `lines` retained lines each; every 20th failed with a compiler error among
//! warnings, every 10th passed on its second attempt, the rest passed.

use std::collections::BTreeMap;
use std::sync::Arc;

use milo::timeline::{SCHEMA_VERSION, Timeline, TimelineAttempt, TimelineLog, TimelinePhase};
use milo::{PhaseStatus, PipelineStatus, Stream};

/// The timeline.
pub fn large_timeline(phases: usize, lines: usize) -> Timeline {
    let phases: Vec<TimelinePhase> = (0..phases).map(|i| phase(i, lines)).collect();
    let elapsed = phases.iter().filter_map(|p| p.end).fold(0.0, f64::max);
    Timeline {
        schema_version: SCHEMA_VERSION,
        pipeline: "large".into(),
        status: PipelineStatus::Failed,
        started_at: Some("2026-11-28T14:00:00Z".into()),
        elapsed,
        progress: 0.95,
        milo_version: "0.1.0".into(),
        affected: None,
        phases,
        warnings: Vec::new(),
    }
}

fn phase(i: usize, lines: usize) -> TimelinePhase {
    let start = (i % 50) as f64 * 2.0;
    let failed = i % 20 == 7;
    let flaky = i % 10 == 3;
    let mut attempts = vec![TimelineAttempt {
        attempt: 1,
        start,
        end: Some(start + 1.5),
        exit_code: Some(if failed || flaky { 101 } else { 0 }),
        error: (failed || flaky).then(|| "exit code 101".to_owned()),
    }];
    if flaky {
        attempts.push(TimelineAttempt {
            attempt: 2,
            start: start + 2.0,
            end: Some(start + 3.0),
            exit_code: Some(0),
            error: None,
        });
    }
    let logs = (0..lines)
        .map(|j| {
            let line: Arc<str> = match j {
                3 if failed => "error[E0308]: mismatched types".into(),
                4 if failed => format!(" --> src/phase_{i}.rs:12:5").into(),
                _ => format!("warning: unused variable `x{j}` in crate phase-{i} <&> at line {j}")
                    .into(),
            };
            let stream = if j % 3 == 0 { Stream::Stderr } else { Stream::Stdout };
            TimelineLog { line, stream, t: start + j as f64 * 0.001 }
        })
        .collect::<Vec<_>>();
    let end = attempts.last().and_then(|a| a.end);
    TimelinePhase {
        name: format!("phase-{i:04}"),
        description: format!("Phase number {i}"),
        status: if failed { PhaseStatus::Failed } else { PhaseStatus::Completed },
        depends_on: if i == 0 { Vec::new() } else { vec![format!("phase-{:04}", i / 2)] },
        weight: 1,
        parallel: true,
        start: Some(start),
        end,
        elapsed: end.unwrap_or(start) - start,
        attempt: u32::try_from(attempts.len()).unwrap_or(1),
        max_attempts: 3,
        attempts,
        error: failed.then(|| "exit code 101".to_owned()),
        log_count: logs.len(),
        lines_total: lines as u64 * 3,
        logs,
        log_file: Some(format!("logs/phase-{i:04}.log")),
        outputs: BTreeMap::new(),
        phase: None,
        package: None,
    }
}
