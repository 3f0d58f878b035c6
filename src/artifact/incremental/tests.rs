//! A timeline rewritten in part is the document serialised whole, whatever changed between
//! the writes; a file changed behind the writer's back is written whole again.

use std::sync::Arc;

use proptest::prelude::*;

use super::*;
use crate::action::{Action, Stream};
use crate::lines::LineBatch;
use crate::phase::Phase;
use crate::pipeline::Pipeline;
use crate::reducer::reduce;
use crate::timeline::TimelineWarning;

const PHASES: usize = 5;

fn state() -> PipelineState {
    let mut builder = Pipeline::new("parts");
    for i in 0..PHASES {
        let phase = Phase::cmd(format!("p{i}"), "true").description(format!("phase \"{i}\"\n"));
        builder = builder.phase(phase.max_logs(2));
    }
    let mut state = PipelineState::new(&builder.build().expect("valid"));
    state.log_dir = Some("logs".into());
    state
}

/// What a step does: an action on phase `i` at time `t`, or a write.
#[derive(Debug, Clone)]
enum Step {
    Start(usize),
    Lines(usize, Vec<String>),
    Complete(usize),
    Fail(usize),
    UpToDate(usize),
    Write { warning: bool },
}

fn action(step: &Step, t: f64) -> Option<Action> {
    let name = |i: &usize| Arc::from(format!("p{i}").as_str());
    Some(match step {
        Step::Start(i) => Action::PhaseStart { name: name(i), attempt: 1, t },
        Step::Lines(i, lines) => {
            let mut batch = LineBatch::default();
            for line in lines {
                batch.push(line.as_bytes());
            }
            Action::PhaseLogs { name: name(i), stream: Stream::Stderr, t, lines: Arc::new(batch) }
        }
        Step::Complete(i) => Action::PhaseComplete {
            name: name(i),
            result: serde_json::json!({"exit_code": 0, "outputs": {"k": "v"}}),
            t,
        },
        Step::Fail(i) => Action::PhaseFailed {
            name: name(i),
            error: "exit code 2".into(),
            exit_code: Some(2),
            t,
        },
        Step::UpToDate(i) => Action::PhaseUpToDate {
            name: name(i),
            result: serde_json::json!({"exit_code": 0, "outputs": {"u": "1"}}),
            t,
        },
        Step::Write { .. } => return None,
    })
}

fn warning() -> TimelineWarning {
    TimelineWarning { path: "logs/p1.log".into(), phase: Some("p1".into()), message: "full".into() }
}

/// What `serde_json::to_writer_pretty` writes of the whole timeline, as the writer ends it.
fn whole(state: &PipelineState, warnings: &[TimelineWarning]) -> String {
    let mut timeline = Timeline::from_state(state);
    timeline.warnings = warnings.to_vec();
    serde_json::to_string_pretty(&timeline).expect("serialise") + "\n"
}

/// Folds `steps`, marking each action's phase as the writer's store subscriber does, and
/// writes at each `Write`: every file written equals the document serialised whole.
fn check(steps: &[Step]) -> Result<(), TestCaseError> {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("timeline.json");
    let mut state = state();
    let dirty = Dirty::new(PHASES);
    let mut writer = Incremental::default();
    let mut warnings = Vec::new();
    for (k, step) in steps.iter().enumerate() {
        if let Step::Write { warning: add } = step {
            if *add {
                warnings.push(warning());
            }
            let mut snap = snapshot(&state, &dirty, writer.needs_all());
            snap.head.warnings.clone_from(&warnings);
            writer.write(&path, &snap).expect("write");
            let written = std::fs::read_to_string(&path).expect("read");
            prop_assert_eq!(written, whole(&state, &warnings), "after step {}", k);
            continue;
        }
        if let Some(action) = action(step, k as f64 * 0.25) {
            if let Some(i) = action.phase().and_then(|n| state.index_of(n)) {
                dirty.mark(i);
            }
            state = reduce(state, &action);
        }
    }
    Ok(())
}

fn arb_step() -> impl Strategy<Value = Step> {
    let i = 0..PHASES;
    prop_oneof![
        1 => i.clone().prop_map(Step::Start),
        1 => (i.clone(), proptest::collection::vec("[a-z\"\\\\é]{0,4}", 0..4))
            .prop_map(|(i, l)| Step::Lines(i, l)),
        1 => i.clone().prop_map(Step::Complete),
        1 => i.clone().prop_map(Step::Fail),
        1 => i.prop_map(Step::UpToDate),
        2 => any::<bool>().prop_map(|w| Step::Write { warning: w }),
    ]
}

proptest! {
    #[test]
    fn a_rewrite_in_part_is_the_whole_document(
        steps in proptest::collection::vec(arb_step(), 0..30),
    ) {
        let mut steps = steps;
        // The first write is whole, the last follows every change.
        steps.insert(0, Step::Write { warning: false });
        steps.push(Step::Write { warning: false });
        check(&steps)?;
    }
}

#[test]
fn only_what_changed_is_serialised() {
    let mut state = state();
    let dirty = Dirty::new(PHASES);
    assert_eq!(snapshot(&state, &dirty, true).fresh.len(), PHASES, "a whole write");
    state = reduce(state, &Action::PhaseStart { name: "p1".into(), attempt: 1, t: 0.0 });
    dirty.mark(1);
    state = reduce(state, &Action::PhaseStart { name: "p3".into(), attempt: 1, t: 0.0 });
    dirty.mark(3);
    let result = serde_json::json!({"exit_code": 0});
    state = reduce(state, &Action::PhaseComplete { name: "p3".into(), result, t: 1.0 });
    let fresh: Vec<usize> = snapshot(&state, &dirty, false).fresh.iter().map(|(i, _)| *i).collect();
    assert_eq!(fresh, [1, 3]);
    let fresh: Vec<usize> = snapshot(&state, &dirty, false).fresh.iter().map(|(i, _)| *i).collect();
    assert_eq!(fresh, [1], "the marks are taken; a running phase's elapsed still grows");
}

#[test]
fn a_file_changed_behind_the_writer_is_written_whole_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("timeline.json");
    let state = state();
    let dirty = Dirty::new(PHASES);
    let mut writer = Incremental::default();
    writer.write(&path, &snapshot(&state, &dirty, true)).expect("first write");
    std::fs::write(&path, "{}").expect("someone else's file");
    let err = writer.write(&path, &snapshot(&state, &dirty, false)).expect_err("refused");
    assert!(err.to_string().contains("not the last written"), "{err}");
    assert!(writer.needs_all());
    writer.write(&path, &snapshot(&state, &dirty, true)).expect("whole again");
    assert_eq!(std::fs::read_to_string(&path).expect("read"), whole(&state, &[]));
}
