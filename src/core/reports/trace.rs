//! Chrome trace-event JSON, for Perfetto and `chrome://tracing`: the pipeline is a process,
//! each phase sits on a lane (a thread) that no other phase uses at the same time, and each
//! attempt and each wait between attempts is one complete (`X`) slice. Times are
//! microseconds since the pipeline start.

use serde::Serialize;
use serde_json::{Value, json};

use super::{SliceKind, Span, slices};
use crate::timeline::Timeline;

/// The process id of the pipeline.
const PID: u32 = 1;

#[derive(Serialize)]
struct Event<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    cat: &'a str,
    ph: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<u64>,
    pid: u32,
    tid: u32,
    args: Value,
}

/// Seconds as whole microseconds (rounding keeps `a ≤ b` true of the results).
fn micros(secs: f64) -> u64 {
    // Times are finite and non-negative (see `slices`); the product fits easily.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let us = (secs * 1e6).round() as u64;
    us
}

/// Assigns each span a lane (from 1) so that the spans of one lane never overlap: spans in
/// order of start, each on the lowest lane free by then.
pub fn lanes(spans: &[Option<Span>]) -> Vec<u32> {
    let mut order: Vec<usize> = (0..spans.len()).filter(|&i| spans[i].is_some()).collect();
    order.sort_by(|&a, &b| {
        let (a_start, b_start) =
            (spans[a].map_or(0.0, |s| s.start), spans[b].map_or(0.0, |s| s.start));
        a_start.total_cmp(&b_start).then(a.cmp(&b))
    });
    // The end of the last span on each lane, in whole microseconds as the trace has them.
    let mut free_at: Vec<u64> = Vec::new();
    let mut lane = vec![0; spans.len()];
    for i in order {
        let Some(span) = spans[i] else { continue };
        let (start, end) = (micros(span.start), micros(span.end));
        let slot = free_at.iter().position(|&f| f <= start).unwrap_or_else(|| {
            free_at.push(0);
            free_at.len() - 1
        });
        free_at[slot] = end;
        lane[i] = u32::try_from(slot + 1).unwrap_or(u32::MAX);
    }
    lane
}

/// The trace of `timeline`.
pub fn render(timeline: &Timeline) -> String {
    let per_phase: Vec<_> = timeline.phases.iter().map(|p| slices(p, timeline)).collect();
    let spans: Vec<Option<Span>> = per_phase
        .iter()
        .map(|s| Some(Span { start: s.first()?.span.start, end: s.last()?.span.end }))
        .collect();
    let lane = lanes(&spans);
    let lanes_used = lane.iter().copied().max().unwrap_or(0);
    let mut events = Vec::with_capacity(per_phase.iter().map(Vec::len).sum::<usize>() + 8);
    events.push(Event {
        name: "process_name",
        cat: "",
        ph: "M",
        ts: None,
        dur: None,
        pid: PID,
        tid: 0,
        args: json!({ "name": format!("{} ({})", timeline.pipeline, timeline.status.as_str()) }),
    });
    let names: Vec<String> = (1..=lanes_used).map(|l| format!("lane {l}")).collect();
    for (tid, name) in (1..=lanes_used).zip(&names) {
        events.push(Event {
            name: "thread_name",
            cat: "",
            ph: "M",
            ts: None,
            dur: None,
            pid: PID,
            tid,
            args: json!({ "name": name }),
        });
    }
    for ((phase, slices), &tid) in timeline.phases.iter().zip(&per_phase).zip(&lane) {
        for slice in slices {
            let (start, end) = (micros(slice.span.start), micros(slice.span.end));
            let (cat, args) = match slice.kind {
                SliceKind::RetryWait => {
                    ("retry wait", json!({ "phase": phase.name, "after attempt": slice.attempt }))
                }
                SliceKind::Attempt | SliceKind::FailedAttempt => (
                    "attempt",
                    json!({
                        "phase": phase.name,
                        "attempt": slice.attempt,
                        "exit code": slice.exit_code,
                        "error": slice.error,
                        "status": phase.status.as_str(),
                    }),
                ),
            };
            events.push(Event {
                name: &phase.name,
                cat,
                ph: "X",
                ts: Some(start),
                dur: Some(end - start),
                pid: PID,
                tid,
                args,
            });
        }
    }
    let document = json!({
        "traceEvents": events,
        "displayTimeUnit": "ms",
        "otherData": {
            "pipeline": timeline.pipeline,
            "status": timeline.status.as_str(),
            "started_at": timeline.started_at,
            "milo_version": timeline.milo_version,
        },
    });
    serde_json::to_string(&document).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use proptest::prelude::*;

    use super::*;
    use crate::reports::fixture::sample;
    use crate::state::PhaseStatus;
    use crate::timeline::{TimelineAttempt, TimelinePhase};

    /// Every `X` event: (tid, ts, dur, cat, name).
    fn slices_of(trace: &str) -> Vec<(u64, u64, u64, String, String)> {
        let value: Value = serde_json::from_str(trace).expect("valid JSON");
        value["traceEvents"]
            .as_array()
            .expect("events")
            .iter()
            .filter(|e| e["ph"] == "X")
            .map(|e| {
                (
                    e["tid"].as_u64().expect("tid"),
                    e["ts"].as_u64().expect("ts in whole microseconds"),
                    e["dur"].as_u64().expect("dur"),
                    e["cat"].as_str().unwrap_or_default().to_owned(),
                    e["name"].as_str().unwrap_or_default().to_owned(),
                )
            })
            .collect()
    }

    fn assert_lanes_never_overlap(slices: &[(u64, u64, u64, String, String)]) {
        let mut by_lane: HashMap<u64, Vec<(u64, u64)>> = HashMap::new();
        for (tid, ts, dur, _, _) in slices {
            by_lane.entry(*tid).or_default().push((*ts, ts + dur));
        }
        for (lane, mut spans) in by_lane {
            spans.sort_unstable();
            for w in spans.windows(2) {
                assert!(w[0].1 <= w[1].0, "lane {lane}: {:?} overlaps {:?}", w[0], w[1]);
            }
        }
    }

    #[test]
    fn every_attempt_and_wait_is_a_slice_in_microseconds() {
        let trace = render(&sample());
        let slices = slices_of(&trace);
        let attempts = slices.iter().filter(|s| s.3 == "attempt").count();
        assert_eq!(attempts, sample().phases.iter().map(|p| p.attempts.len()).sum::<usize>());
        let waits: Vec<_> = slices.iter().filter(|s| s.3 == "retry wait").collect();
        assert_eq!(waits.len(), 2, "flaky and build waited once each");
        let flaky_wait = waits.iter().find(|s| s.4 == "flaky").expect("flaky's wait");
        assert_eq!((flaky_wait.1, flaky_wait.2), (300_000, 1_000_000));
        assert_lanes_never_overlap(&slices);
        // Five phases ran at once at 0.2 s; lint started at 0.5 s on evil's lane, free at 0.4 s.
        let lanes: std::collections::HashSet<u64> = slices.iter().map(|s| s.0).collect();
        assert_eq!(lanes.len(), 5);
        assert!(trace.contains("\"process_name\""), "{trace}");
    }

    #[test]
    fn a_lane_is_reused_once_free() {
        let s = |start, end| Some(Span { start, end });
        assert_eq!(
            lanes(&[s(0.0, 1.0), s(0.5, 2.0), s(1.0, 3.0), None, s(2.0, 2.5)]),
            [1, 2, 1, 0, 2]
        );
    }

    fn phase(i: usize, attempts: Vec<(f64, Option<f64>, bool)>) -> TimelinePhase {
        let mut p = sample().phases[0].clone();
        p.name = format!("p{i}");
        p.status = PhaseStatus::Completed;
        p.attempts = attempts
            .into_iter()
            .zip(1..)
            .map(|((start, end, failed), attempt)| TimelineAttempt {
                attempt,
                start,
                end,
                exit_code: None,
                error: failed.then(|| "exit code 1".to_owned()),
            })
            .collect();
        p
    }

    proptest! {
        #[test]
        fn lanes_never_overlap_and_every_attempt_is_a_slice(
            phases in prop::collection::vec(
                prop::collection::vec(
                    (0.0f64..100.0, prop::option::of(0.0f64..100.0), any::<bool>()),
                    0..4,
                ),
                0..40,
            ),
            elapsed in 0.0f64..120.0,
        ) {
            let mut timeline = sample();
            timeline.elapsed = elapsed;
            timeline.phases = phases.into_iter().enumerate().map(|(i, a)| phase(i, a)).collect();
            let slices = slices_of(&render(&timeline));
            assert_lanes_never_overlap(&slices);
            let attempts = slices.iter().filter(|s| s.3 == "attempt").count();
            prop_assert_eq!(
                attempts,
                timeline.phases.iter().map(|p| p.attempts.len()).sum::<usize>()
            );
            for p in &timeline.phases {
                let lanes: std::collections::HashSet<u64> =
                    slices.iter().filter(|s| s.4 == p.name).map(|s| s.0).collect();
                prop_assert!(lanes.len() <= 1, "a phase stays on its lane");
            }
        }
    }
}
