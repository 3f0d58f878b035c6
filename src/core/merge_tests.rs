use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use proptest::prelude::*;

use super::*;
use crate::action::{Action, Stream};
use crate::outputs::command_result;
use crate::phase::{Phase, PhasePolicy};
use crate::pipeline::Pipeline;
use crate::reducer::reduce;
use crate::state::PipelineState;

/// How a generated phase ends.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    /// Completes with this many outputs.
    Complete(u8),
    /// Fails under `on_fail = "skip"`.
    Skip,
    /// Fails under `on_fail = "stop"`: nothing starts after it.
    Fail,
    /// Fails once, then completes.
    Flaky,
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => (0u8..3).prop_map(Outcome::Complete),
        1 => Just(Outcome::Skip),
        1 => Just(Outcome::Fail),
        1 => Just(Outcome::Flaky),
    ]
}

/// A pipeline of `p0`, `p1`, … where each phase depends on some earlier ones, how each ends,
/// how long each takes (ms), and the partial run (block) each phase belongs to.
#[derive(Debug, Clone)]
struct Case {
    deps: Vec<Vec<usize>>,
    outcomes: Vec<Outcome>,
    millis: Vec<u32>,
    blocks: Vec<usize>,
    runs: usize,
}

fn case() -> impl Strategy<Value = Case> {
    (1usize..8, 1usize..5).prop_flat_map(|(n, runs)| {
        let deps = (0..n)
            .map(|i| proptest::sample::subsequence((0..i).collect::<Vec<_>>(), 0..=i))
            .collect::<Vec<_>>();
        (
            deps,
            proptest::collection::vec(outcome(), n),
            proptest::collection::vec(1u32..5000, n),
            proptest::collection::vec(0..runs, n),
        )
            .prop_map(move |(deps, outcomes, millis, blocks)| Case {
                deps,
                outcomes,
                millis,
                blocks,
                runs,
            })
    })
}

fn name(i: usize) -> String {
    format!("p{i}")
}

fn pipeline(case: &Case) -> Pipeline {
    let mut builder = Pipeline::new("ci");
    for (i, deps) in case.deps.iter().enumerate() {
        let policy = match case.outcomes[i] {
            Outcome::Skip => PhasePolicy::skip(),
            Outcome::Flaky => PhasePolicy::retry(1, Duration::from_millis(100)),
            Outcome::Complete(_) | Outcome::Fail => PhasePolicy::default(),
        };
        let phase = Phase::cmd(name(i), "true")
            .depends_on(deps.iter().map(|&d| name(d)))
            .weight(u64::try_from(i % 3).unwrap_or(1))
            .policy(policy);
        builder = builder.phase(phase);
    }
    builder.build().expect("a valid pipeline")
}

/// One run of the whole pipeline on one clock: each action with the phase it is about, and
/// the time the run ends.
fn single_run(case: &Case) -> (Vec<(usize, Action)>, f64) {
    let n = case.deps.len();
    let mut done = vec![false; n];
    let mut failed = false;
    let mut t = 0.0;
    let mut events = Vec::new();
    for i in 0..n {
        if failed || !case.deps[i].iter().all(|&d| done[d]) {
            continue;
        }
        let name: std::sync::Arc<str> = name(i).into();
        let d = f64::from(case.millis[i]) / 1000.0;
        t += 0.25;
        events.push((i, Action::PhaseStart { name: name.clone(), attempt: 1, t }));
        events.push((
            i,
            Action::PhaseLog {
                name: name.clone(),
                line: format!("{name} says hello").into(),
                stream: Stream::Stdout,
                t: t + d / 2.0,
            },
        ));
        t += d;
        let complete = |k: u8, t: f64| {
            let outputs: BTreeMap<String, String> =
                (0..k).map(|j| (format!("k{j}"), format!("{name}-{j}"))).collect();
            Action::PhaseComplete { name: name.clone(), result: command_result(0, &outputs), t }
        };
        match case.outcomes[i] {
            Outcome::Complete(k) => {
                events.push((i, complete(k, t)));
                done[i] = true;
            }
            Outcome::Skip => {
                let error = "exit code 3".to_owned();
                events.push((i, Action::PhaseSkipped { name, error, exit_code: Some(3), t }));
                done[i] = true;
            }
            Outcome::Fail => {
                let error = "exit code 1".to_owned();
                events.push((i, Action::PhaseFailed { name, error, exit_code: Some(1), t }));
                failed = true;
            }
            Outcome::Flaky => {
                let retry = Action::PhaseRetry {
                    name: name.clone(),
                    attempt: 1,
                    error: "exit code 1".into(),
                    exit_code: Some(1),
                    delay: 0.1,
                    t,
                };
                events.push((i, retry));
                t += 0.1;
                events.push((i, Action::PhaseStart { name: name.clone(), attempt: 2, t }));
                t += d;
                events.push((i, complete(1, t)));
                done[i] = true;
            }
        }
    }
    (events, t)
}

fn base() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// The timeline of a run that started `shift` seconds after [`base`] and saw `events`
/// (times on the single run's clock).
fn record<'a>(
    pipeline: &Pipeline,
    shift: f64,
    events: impl Iterator<Item = &'a Action>,
    end: f64,
    failed: bool,
) -> Timeline {
    let mut state = PipelineState::new(pipeline);
    state.log_dir = Some("logs".into());
    let started_at = humantime::format_rfc3339_micros(base() + Duration::from_secs_f64(shift));
    let mut state =
        reduce(state, &Action::PipelineStart { started_at: started_at.to_string(), t: 0.0 });
    for action in events {
        let mut action = action.clone();
        match &mut action {
            Action::PhaseStart { t, .. }
            | Action::PhaseLog { t, .. }
            | Action::PhaseRetry { t, .. }
            | Action::PhaseComplete { t, .. }
            | Action::PhaseSkipped { t, .. }
            | Action::PhaseFailed { t, .. } => *t -= shift,
            _ => {}
        }
        state = reduce(state, &action);
    }
    let t = end - shift;
    let end = if failed { Action::PipelineFailed { t } } else { Action::PipelineComplete { t } };
    Timeline::from_state(&reduce(state, &end))
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Cut a run into partial runs (each phase in one of them, each with its own start), then
    /// merge them in any order: the phases, statuses, outputs, attempts and logs are the
    /// single run's, and its times too, on the earliest partial run's clock.
    #[test]
    fn merging_the_pieces_of_a_run_gives_the_run(case in case(), rotate in 0usize..4) {
        let pipeline = pipeline(&case);
        let (events, end) = single_run(&case);
        let failed = events.iter().any(|(_, a)| matches!(a, Action::PhaseFailed { .. }));
        let single = record(&pipeline, 0.0, events.iter().map(|(_, a)| a), end, failed);

        let mut partials: Vec<(usize, f64, Timeline)> = (0..case.runs)
            .map(|b| {
                let mine = || events.iter().filter(|(i, _)| case.blocks[*i] == b);
                // A partial run starts at (or before) the first of its phases.
                let shift = mine()
                    .find_map(|(_, a)| matches!(a, Action::PhaseStart { .. }).then(|| a.t()))
                    .map_or(0.0, |t| (t - 0.125).max(0.0));
                let failed = mine().any(|(_, a)| matches!(a, Action::PhaseFailed { .. }));
                (b, shift, record(&pipeline, shift, mine().map(|(_, a)| a), end, failed))
            })
            .collect();
        let rotate = rotate % partials.len();
        partials.rotate_left(rotate);
        let earliest = partials.iter().map(|(_, s, _)| *s).fold(f64::INFINITY, f64::min);
        let blocks: Vec<usize> = partials.iter().map(|(b, _, _)| *b).collect();
        let inputs: Vec<Timeline> = partials.into_iter().map(|(_, _, t)| t).collect();
        let merged = merge(&inputs).expect("one pipeline");

        let m = &merged.timeline;
        prop_assert_eq!(m.status, single.status);
        prop_assert!((m.progress - single.progress).abs() < 1e-9);
        prop_assert_eq!(m.phases.len(), single.phases.len());
        let close = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) => (a + earliest - b).abs() < 1e-5,
            (None, None) => true,
            _ => false,
        };
        for (k, (got, want)) in m.phases.iter().zip(&single.phases).enumerate() {
            prop_assert_eq!(&got.name, &want.name);
            prop_assert_eq!(got.status, want.status, "{}", got.name);
            prop_assert_eq!(&got.outputs, &want.outputs, "{}", got.name);
            prop_assert_eq!(&got.error, &want.error);
            prop_assert_eq!(got.attempts.len(), want.attempts.len());
            prop_assert_eq!(&got.log_file, &want.log_file);
            prop_assert!(close(got.start, want.start), "{}: {:?} vs {:?}", got.name, got.start, want.start);
            prop_assert!(close(got.end, want.end), "{}: {:?} vs {:?}", got.name, got.end, want.end);
            for (a, b) in got.attempts.iter().zip(&want.attempts) {
                prop_assert!(close(Some(a.start), Some(b.start)) && close(a.end, b.end));
                prop_assert_eq!(a.exit_code, b.exit_code);
            }
            let lines = |p: &TimelinePhase| p.logs.iter().map(|l| l.line.to_string()).collect::<Vec<_>>();
            prop_assert_eq!(lines(got), lines(want));
            for (a, b) in got.logs.iter().zip(&want.logs) {
                prop_assert!(close(Some(a.t), Some(b.t)));
            }
            // The phase comes from the partial run it was cut into, when it ran.
            let origin = merged.origins[k].map(|i| blocks[i]);
            let ran = want.status != PhaseStatus::Pending;
            prop_assert_eq!(origin, ran.then_some(case.blocks[k]));
        }
    }
}

/// A timeline of pipeline `pipeline` started at `started_at` where `ran` phases ended with
/// their statuses (the others pending).
fn timeline(pipeline: &str, started_at: &str, ran: &[(&str, PhaseStatus, f64)]) -> Timeline {
    let names = ["a", "b", "c"];
    let p = Pipeline::new(pipeline)
        .phase(Phase::cmd("a", "true"))
        .phase(Phase::cmd("b", "true").depends_on(["a"]))
        .phase(Phase::cmd("c", "true"))
        .build()
        .expect("valid");
    let mut actions = vec![Action::PipelineStart { started_at: started_at.into(), t: 0.0 }];
    for (name, status, t) in ran {
        assert!(names.contains(name));
        let name: std::sync::Arc<str> = (*name).into();
        actions.push(Action::PhaseStart { name: name.clone(), attempt: 1, t: *t });
        let end = t + 1.0;
        actions.push(match status {
            PhaseStatus::Completed => Action::PhaseComplete {
                name,
                result: serde_json::json!({"exit_code": 0, "outputs": {"at": t.to_string()}}),
                t: end,
            },
            PhaseStatus::Failed => Action::PhaseFailed {
                name,
                error: "exit code 1".into(),
                exit_code: Some(1),
                t: end,
            },
            PhaseStatus::Cancelled => Action::PhaseCancelled { name, t: end },
            _ => unreachable!("not a status these tests use"),
        });
    }
    Timeline::from_state(&actions.iter().fold(PipelineState::new(&p), reduce))
}

#[test]
fn the_latest_run_of_a_phase_wins() {
    let early = timeline("ci", "2026-01-01T00:00:00Z", &[("a", PhaseStatus::Failed, 0.0)]);
    let late = timeline("ci", "2026-01-01T00:00:10Z", &[("a", PhaseStatus::Completed, 0.0)]);
    for inputs in [vec![early.clone(), late.clone()], vec![late, early]] {
        let merged = merge(&inputs).expect("one pipeline");
        let a = &merged.timeline.phases[0];
        assert_eq!((a.status, a.start, a.end), (PhaseStatus::Completed, Some(10.0), Some(11.0)));
        assert_eq!(a.outputs["at"], "0");
    }
}

#[test]
fn the_pipeline_takes_the_worst_status_of_its_phases() {
    let at = "2026-01-01T00:00:00Z";
    let status = |runs: &[&[(&str, PhaseStatus, f64)]]| {
        let inputs: Vec<Timeline> = runs.iter().map(|r| timeline("ci", at, r)).collect();
        merge(&inputs).expect("one pipeline").timeline.status
    };
    let all = [("a", PhaseStatus::Completed, 0.0), ("b", PhaseStatus::Completed, 1.0)];
    let c_done: &[_] = &[("c", PhaseStatus::Completed, 0.0)];
    assert_eq!(status(&[&all, c_done]), PipelineStatus::Completed);
    // c never ran anywhere: not completed.
    assert_eq!(status(&[&all]), PipelineStatus::Pending);
    assert_eq!(status(&[&all, &[("c", PhaseStatus::Cancelled, 0.0)]]), PipelineStatus::Cancelled);
    let failed: &[_] = &[("a", PhaseStatus::Failed, 0.0)];
    assert_eq!(status(&[failed, &[("c", PhaseStatus::Cancelled, 0.0)]]), PipelineStatus::Failed);
    let merged = merge(&[timeline("ci", at, failed)]).expect("one");
    assert_eq!(merged.timeline.phases[1].status, PhaseStatus::Pending);
    assert_eq!(merged.origins, [Some(0), None, None]);
}

#[test]
fn different_pipelines_versions_or_clocks_are_refused() {
    let at = "2026-01-01T00:00:00Z";
    assert_eq!(merge(&[]), Err(MergeError::Empty));
    let err =
        merge(&[timeline("ci", at, &[]), timeline("ci", at, &[]), timeline("nightly", at, &[])]);
    assert_eq!(
        err,
        Err(MergeError::OtherPipeline { index: 2, expected: "ci".into(), found: "nightly".into() })
    );
    let mut newer = timeline("ci", at, &[]);
    newer.schema_version += 1;
    let err = merge(&[timeline("ci", at, &[]), newer]);
    let current = crate::timeline::SCHEMA_VERSION;
    assert_eq!(
        err,
        Err(MergeError::OtherSchema { index: 1, expected: current, found: current + 1 })
    );
    let err = merge(&[timeline("ci", at, &[]), timeline("ci", "yesterday", &[])]);
    assert_eq!(err, Err(MergeError::BadStart { index: 1, started_at: "yesterday".into() }));
}
