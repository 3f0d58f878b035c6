//! The pure reducer: `reduce(state, &action) -> state`. No clock, no I/O.

use crate::action::Action;
use crate::state::{
    AttemptRecord, LogLine, PhaseState, PhaseStatus, PipelineState, PipelineStatus, progress,
};

/// Folds one action into the state: the pure function every change of state goes through.
///
/// The state is taken by value and changed in place, so a log line costs a ring push, not a
/// copy of the state. Actions naming an unknown phase, or trying to move a finished phase
/// back to running, leave the state as it is.
///
/// ```
/// use milo::{reduce, Action, Phase, Pipeline, PipelineState, PhaseStatus};
/// let pipeline = Pipeline::new("ci").phase(Phase::cmd("fmt", "cargo fmt --check")).build()?;
/// let mut state = PipelineState::new(&pipeline);
/// state = reduce(state, &Action::PhaseStart { name: "fmt".into(), attempt: 1, t: 0.0 });
/// assert_eq!(state.phase("fmt").unwrap().status, PhaseStatus::Running);
/// # Ok::<(), milo::PipelineError>(())
/// ```
#[must_use]
pub fn reduce(mut state: PipelineState, action: &Action) -> PipelineState {
    apply(&mut state, action);
    state
}

/// [`reduce`] in place: what the store calls, so no state is moved per action.
pub(crate) fn apply(state: &mut PipelineState, action: &Action) {
    if matches!(action, Action::PhaseLogs { lines, .. } if lines.is_empty()) {
        // No line, no change: as many `PhaseLog`s, none.
        return;
    }
    let t = action.t();
    if t > state.elapsed {
        state.elapsed = t;
    }
    match action {
        Action::PipelineStart { started_at, .. } => {
            state.status = PipelineStatus::Running;
            state.started_at = Some(started_at.clone());
        }
        Action::PipelineComplete { .. } => state.status = PipelineStatus::Completed,
        Action::PipelineFailed { .. } => state.status = PipelineStatus::Failed,
        Action::PipelineCancelled { .. } => state.status = PipelineStatus::Cancelled,
        Action::PhaseLog { name, line, stream, t } => {
            if let Some(phase) = state.phase_mut(name) {
                phase.logs.push(LogLine { line: line.clone(), stream: *stream, t: *t });
            }
        }
        Action::PhaseLogs { name, stream, t, lines } => {
            if let Some(phase) = state.phase_mut(name) {
                phase.logs.push_batch(lines, *stream, *t);
            }
        }
        Action::PhaseStart { name, attempt, t } => {
            let Some(phase) = state.phase_mut(name) else { return };
            if phase.status.is_terminal() {
                return;
            }
            phase.status = PhaseStatus::Running;
            phase.attempt = *attempt;
            phase.retry_delay = None;
            phase.started_at.get_or_insert(*t);
            phase.attempts.push(AttemptRecord {
                attempt: *attempt,
                start: *t,
                end: None,
                exit_code: None,
                error: None,
            });
            state.current_phase = Some(name.clone());
        }
        Action::PhaseRetry { name, error, exit_code, delay, t, .. } => {
            let Some(phase) = state.phase_mut(name) else { return };
            if phase.status.is_terminal() {
                return;
            }
            phase.status = PhaseStatus::Retrying;
            phase.error = Some(error.clone());
            phase.retry_delay = Some(*delay);
            close_attempt(phase, *t, *exit_code, Some(error));
        }
        Action::PhaseComplete { name, result, t } => {
            let exit_code = result.get("exit_code").and_then(serde_json::Value::as_i64);
            let exit_code = exit_code.and_then(|c| i32::try_from(c).ok());
            finish(state, name, PhaseStatus::Completed, *t, exit_code, None, |p| {
                p.result = Some(result.clone());
            });
        }
        Action::PhaseUpToDate { name, result, t } => {
            // Only a phase that has not started this run can be up to date.
            if state.phase(name).is_some_and(|p| p.status == PhaseStatus::Pending) {
                finish(state, name, PhaseStatus::UpToDate, *t, None, None, |p| {
                    p.result = Some(result.clone());
                });
            }
        }
        Action::PhaseSkipped { name, error, exit_code, t } => {
            finish(state, name, PhaseStatus::Skipped, *t, *exit_code, Some(error), |_| {});
        }
        Action::PhaseFailed { name, error, exit_code, t } => {
            finish(state, name, PhaseStatus::Failed, *t, *exit_code, Some(error), |_| {});
        }
        Action::PhaseCancelled { name, t } => {
            let error = "cancelled".to_owned();
            finish(state, name, PhaseStatus::Cancelled, *t, None, Some(&error), |_| {});
        }
    }
}

/// Moves phase `name` to a terminal status, closing its open attempt and counting its weight.
fn finish(
    state: &mut PipelineState,
    name: &str,
    status: PhaseStatus,
    t: f64,
    exit_code: Option<i32>,
    error: Option<&String>,
    extra: impl FnOnce(&mut PhaseState),
) {
    let Some(phase) = state.phase_mut(name) else { return };
    if phase.status.is_terminal() {
        return;
    }
    phase.status = status;
    phase.ended_at = Some(t);
    phase.retry_delay = None;
    if let Some(error) = error {
        phase.error = Some(error.clone());
    }
    close_attempt(phase, t, exit_code, error);
    extra(phase);
    if status.is_done() {
        let weight = phase.weight;
        state.done_weight += weight;
        state.progress = progress(state.done_weight, state.total_weight);
    }
}

fn close_attempt(phase: &mut PhaseState, t: f64, exit_code: Option<i32>, error: Option<&String>) {
    if let Some(last) = phase.attempts.last_mut().filter(|a| a.end.is_none()) {
        last.end = Some(t);
        last.exit_code = exit_code;
        last.error = error.cloned();
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::action::Stream;
    use crate::phase::{Phase, PhasePolicy};
    use crate::pipeline::Pipeline;

    fn pipeline() -> Pipeline {
        Pipeline::new("build")
            .phase(Phase::cmd("discover", "true"))
            .phase(Phase::cmd("parse", "true").depends_on(["discover"]).weight(3))
            .phase(Phase::cmd("render", "true").depends_on(["parse"]).max_logs(3))
            .build()
            .expect("valid pipeline")
    }

    fn name(s: &str) -> Arc<str> {
        Arc::from(s)
    }

    fn log(phase: &str, line: &str, t: f64) -> Action {
        Action::PhaseLog { name: name(phase), line: Arc::from(line), stream: Stream::Stdout, t }
    }

    fn status(state: &PipelineState, phase: &str) -> PhaseStatus {
        state.phase(phase).expect("phase").status
    }

    #[test]
    fn init_has_every_phase_pending() {
        let state = PipelineState::new(&pipeline());
        assert_eq!(state.name, "build");
        assert_eq!(state.status, PipelineStatus::Pending);
        let names: Vec<&str> = state.phases.iter().map(|p| &*p.name).collect();
        assert_eq!(names, ["discover", "parse", "render"]);
        assert!(state.phases.iter().all(|p| p.status == PhaseStatus::Pending && p.attempt == 0));
        assert!(state.progress.abs() < f64::EPSILON);
    }

    #[test]
    fn pipeline_start_runs_and_records_the_wall_clock() {
        let state = reduce(
            PipelineState::new(&pipeline()),
            &Action::PipelineStart { started_at: "2026-11-28T14:00:00Z".into(), t: 0.0 },
        );
        assert_eq!(state.status, PipelineStatus::Running);
        assert_eq!(state.started_at.as_deref(), Some("2026-11-28T14:00:00Z"));
    }

    #[test]
    fn start_marks_running_and_current() {
        let state = reduce(
            PipelineState::new(&pipeline()),
            &Action::PhaseStart { name: name("discover"), attempt: 1, t: 0.5 },
        );
        let p = state.phase("discover").expect("phase");
        assert_eq!(p.status, PhaseStatus::Running);
        assert_eq!(p.attempt, 1);
        assert_eq!(p.started_at, Some(0.5));
        assert_eq!(state.current_phase.as_deref(), Some("discover"));
        assert!((state.elapsed - 0.5).abs() < f64::EPSILON);
    }

    #[test]
    fn complete_sets_result_elapsed_and_progress() {
        let mut state = PipelineState::new(&pipeline());
        state = reduce(state, &Action::PhaseStart { name: name("parse"), attempt: 1, t: 1.0 });
        let result = json!({"exit_code": 0, "outputs": {"k": "v"}});
        state = reduce(
            state,
            &Action::PhaseComplete { name: name("parse"), result: result.clone(), t: 3.5 },
        );
        let p = state.phase("parse").expect("phase");
        assert_eq!(p.status, PhaseStatus::Completed);
        assert_eq!(p.result.as_ref(), Some(&result));
        assert!((p.elapsed(99.0) - 2.5).abs() < 1e-9);
        assert_eq!(p.attempts[0].exit_code, Some(0));
        assert!((state.progress - 0.6).abs() < 1e-9, "3 of 5 weight: {}", state.progress);
    }

    #[test]
    fn failed_records_error_and_keeps_progress() {
        let mut state = PipelineState::new(&pipeline());
        state = reduce(state, &Action::PhaseStart { name: name("discover"), attempt: 1, t: 0.0 });
        state = reduce(
            state,
            &Action::PhaseFailed {
                name: name("discover"),
                error: "exit code 3".into(),
                exit_code: Some(3),
                t: 1.0,
            },
        );
        let p = state.phase("discover").expect("phase");
        assert_eq!(p.status, PhaseStatus::Failed);
        assert_eq!(p.error.as_deref(), Some("exit code 3"));
        assert_eq!(p.attempts[0].exit_code, Some(3));
        assert!(state.progress.abs() < f64::EPSILON);
    }

    #[test]
    fn skipped_counts_for_progress() {
        let mut state = PipelineState::new(&pipeline());
        state = reduce(state, &Action::PhaseStart { name: name("discover"), attempt: 1, t: 0.0 });
        state = reduce(
            state,
            &Action::PhaseSkipped {
                name: name("discover"),
                error: "exit code 1".into(),
                exit_code: Some(1),
                t: 0.2,
            },
        );
        assert_eq!(status(&state, "discover"), PhaseStatus::Skipped);
        assert_eq!(state.phase("discover").expect("phase").error.as_deref(), Some("exit code 1"));
        assert!((state.progress - 0.2).abs() < 1e-9);
    }

    #[test]
    fn retry_state_then_second_attempt() {
        let mut state = PipelineState::new(&pipeline());
        state = reduce(state, &Action::PhaseStart { name: name("parse"), attempt: 1, t: 0.0 });
        state = reduce(
            state,
            &Action::PhaseRetry {
                name: name("parse"),
                attempt: 1,
                error: "exit code 1".into(),
                exit_code: Some(1),
                delay: 2.0,
                t: 0.5,
            },
        );
        let p = state.phase("parse").expect("phase");
        assert_eq!(p.status, PhaseStatus::Retrying);
        assert_eq!(p.attempt, 1);
        assert_eq!(p.error.as_deref(), Some("exit code 1"));
        assert_eq!(p.retry_delay, Some(2.0));
        state = reduce(state, &Action::PhaseStart { name: name("parse"), attempt: 2, t: 2.5 });
        let p = state.phase("parse").expect("phase");
        assert_eq!((p.status, p.attempt, p.attempts.len()), (PhaseStatus::Running, 2, 2));
        assert_eq!(p.started_at, Some(0.0), "the phase's start is its first attempt's");
        assert_eq!(p.retry_delay, None);
    }

    #[test]
    fn up_to_date_counts_as_done_and_hands_on_the_result() {
        let mut state = PipelineState::new(&pipeline());
        let result = json!({"exit_code": 0, "outputs": {"count": "3"}});
        let action = Action::PhaseUpToDate { name: name("parse"), result: result.clone(), t: 0.4 };
        state = reduce(state, &action);
        let p = state.phase("parse").expect("phase");
        assert_eq!(p.status, PhaseStatus::UpToDate);
        assert_eq!(p.result.as_ref(), Some(&result));
        assert_eq!((p.started_at, p.ended_at, p.attempts.len()), (None, Some(0.4), 0));
        assert!((state.progress - 0.6).abs() < 1e-9, "its weight is done: {}", state.progress);
        // A phase already started this run cannot be up to date.
        state = reduce(state, &Action::PhaseStart { name: name("render"), attempt: 1, t: 0.5 });
        let late = Action::PhaseUpToDate { name: name("render"), result, t: 0.6 };
        state = reduce(state, &late);
        assert_eq!(status(&state, "render"), PhaseStatus::Running);
    }

    #[test]
    fn log_appends_to_the_phase_only() {
        let mut state = PipelineState::new(&pipeline());
        state = reduce(state, &log("parse", "hello", 0.1));
        let p = state.phase("parse").expect("phase");
        assert_eq!(p.logs.len(), 1);
        assert_eq!(&*p.logs.lines()[0].line, "hello");
        assert_eq!(state.phase("discover").expect("phase").logs.len(), 0);
        assert_eq!(state.phase("render").expect("phase").logs.len(), 0);
    }

    #[test]
    fn log_ring_keeps_the_last_max_logs() {
        let mut state = PipelineState::new(&pipeline());
        for i in 0..10 {
            state = reduce(state, &log("render", &format!("line {i}"), f64::from(i)));
        }
        let p = state.phase("render").expect("phase");
        let lines: Vec<&str> = p.logs.lines().iter().map(|l| &*l.line).collect();
        assert_eq!(lines, ["line 7", "line 8", "line 9"]);
        assert_eq!(p.logs.total(), 10);
    }

    #[test]
    fn max_logs_zero_keeps_none_but_counts() {
        let p =
            Pipeline::new("p").phase(Phase::cmd("a", "true").max_logs(0)).build().expect("valid");
        let state = reduce(PipelineState::new(&p), &log("a", "x", 0.0));
        let a = state.phase("a").expect("phase");
        assert!(a.logs.is_empty());
        assert_eq!(a.logs.total(), 1);
    }

    #[test]
    fn logs_survive_status_changes() {
        let mut state = PipelineState::new(&pipeline());
        state = reduce(state, &Action::PhaseStart { name: name("discover"), attempt: 1, t: 0.0 });
        state = reduce(state, &log("discover", "before", 0.1));
        state = reduce(
            state,
            &Action::PhaseComplete {
                name: name("discover"),
                result: json!({"exit_code": 0}),
                t: 0.2,
            },
        );
        assert_eq!(&*state.phase("discover").expect("phase").logs.lines()[0].line, "before");
    }

    #[test]
    fn unrelated_actions_pass_through() {
        let before = PipelineState::new(&pipeline());
        for action in [
            log("nope", "x", 0.0),
            Action::PhaseStart { name: name("nope"), attempt: 1, t: 0.0 },
            Action::PhaseCancelled { name: name("nope"), t: 0.0 },
        ] {
            assert_eq!(reduce(before.clone(), &action), before);
        }
    }

    #[test]
    fn finished_phase_never_runs_again() {
        let mut state = PipelineState::new(&pipeline());
        state = reduce(state, &Action::PhaseStart { name: name("discover"), attempt: 1, t: 0.0 });
        state = reduce(state, &Action::PhaseCancelled { name: name("discover"), t: 0.1 });
        state = reduce(state, &Action::PhaseStart { name: name("discover"), attempt: 2, t: 0.2 });
        assert_eq!(status(&state, "discover"), PhaseStatus::Cancelled);
    }

    #[test]
    fn zero_total_weight_is_full_progress() {
        assert!((progress(0, 0) - 1.0).abs() < f64::EPSILON);
        let p = Pipeline::new("p").phase(Phase::cmd("a", "true").weight(0)).build().expect("valid");
        assert!((PipelineState::new(&p).progress - 1.0).abs() < f64::EPSILON);
    }

    #[test]
    fn retry_policy_sets_max_attempts() {
        let p = Pipeline::new("p")
            .phase(Phase::cmd("a", "true").policy(PhasePolicy::retry(2, std::time::Duration::ZERO)))
            .build()
            .expect("valid");
        assert_eq!(PipelineState::new(&p).phase("a").expect("phase").max_attempts, 3);
    }

    fn arb_action(phases: usize) -> impl Strategy<Value = Action> {
        let idx = 0..phases + 1; // one index past the end names an unknown phase
        let n = move |i: usize| name(&format!("p{i}"));
        prop_oneof![
            (idx.clone(), 1u32..4).prop_map(move |(i, a)| Action::PhaseStart {
                name: n(i),
                attempt: a,
                t: 1.0
            }),
            (idx.clone(), "[a-z]{0,5}").prop_map(move |(i, l)| log(&format!("p{i}"), &l, 1.0)),
            (idx.clone(), 1u32..4).prop_map(move |(i, a)| Action::PhaseRetry {
                name: n(i),
                attempt: a,
                error: "e".into(),
                exit_code: Some(1),
                delay: 0.5,
                t: 1.0
            }),
            idx.clone().prop_map(move |i| Action::PhaseComplete {
                name: n(i),
                result: json!({}),
                t: 2.0
            }),
            idx.clone().prop_map(move |i| Action::PhaseSkipped {
                name: n(i),
                error: "e".into(),
                exit_code: None,
                t: 2.0
            }),
            idx.clone().prop_map(move |i| Action::PhaseFailed {
                name: n(i),
                error: "e".into(),
                exit_code: None,
                t: 2.0
            }),
            idx.clone().prop_map(move |i| Action::PhaseUpToDate {
                name: n(i),
                result: json!({}),
                t: 2.0
            }),
            idx.prop_map(move |i| Action::PhaseCancelled { name: n(i), t: 2.0 }),
        ]
    }

    proptest! {
        #[test]
        fn invariants_hold_for_any_action_sequence(
            weights in proptest::collection::vec(0u64..5, 1..6),
            max_logs in 0usize..4,
            actions in proptest::collection::vec(arb_action(6), 0..80),
        ) {
            let mut builder = Pipeline::new("prop");
            for (i, w) in weights.iter().enumerate() {
                builder = builder.phase(Phase::cmd(format!("p{i}"), "true").weight(*w).max_logs(max_logs));
            }
            let pipeline = builder.build().expect("valid");
            let mut state = PipelineState::new(&pipeline);
            for action in &actions {
                let before: Vec<PhaseStatus> = state.phases.iter().map(|p| p.status).collect();
                state = reduce(state, action);
                prop_assert!((0.0..=1.0).contains(&state.progress));
                for (p, was) in state.phases.iter().zip(before) {
                    prop_assert!(p.logs.len() <= max_logs);
                    if was.is_terminal() {
                        prop_assert_eq!(p.status, was, "a terminal status never changes");
                    }
                }
                let done: u64 = state.phases.iter().filter(|p| p.status.is_done()).map(|p| p.weight).sum();
                prop_assert_eq!(done, state.done_weight());
            }
        }
    }
}
