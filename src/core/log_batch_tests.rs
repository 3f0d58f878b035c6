//! `PhaseLogs` folds exactly as its lines sent one `PhaseLog` at a time, for any split of the
//! lines into batches: in the pipeline state (the ring, the count, the times) and in the
//! detail view that wraps it (scroll position, auto-follow).

use std::sync::Arc;

use proptest::prelude::*;

use crate::action::{Action, Stream};
use crate::lines::LineBatch;
use crate::phase::Phase;
use crate::pipeline::Pipeline;
use crate::state::PipelineState;
use crate::view::{Key, ViewAction, ViewState, reduce_view};

const PHASES: [&str; 3] = ["a", "b", "c"];

/// One pipe read: the phase, the stream, and its lines (all at the read's time).
type Read = (usize, bool, Vec<String>);

fn view(max_logs: usize, selected: usize, follow: bool, height: usize) -> ViewState {
    let mut builder = Pipeline::new("batches");
    for name in PHASES {
        builder = builder.phase(Phase::cmd(name, "true").max_logs(max_logs));
    }
    let mut v = ViewState::new(PipelineState::new(&builder.build().expect("valid")));
    v = reduce_view(v, &ViewAction::Resize { log_height: height });
    for _ in 0..selected {
        v = reduce_view(v, &ViewAction::Key(Key::Down));
    }
    v = reduce_view(v, &ViewAction::Key(Key::Enter));
    // Lines already there, followed to the bottom: a view that stops following stays
    // scrolled down, where a full ring's dropped lines move what it shows.
    for n in 0..max_logs + height {
        v = reduce_view(
            v,
            &ViewAction::Pipeline(Action::PhaseLog {
                name: PHASES[selected].into(),
                line: format!("before {n}").as_str().into(),
                stream: Stream::Stdout,
                t: 0.0,
            }),
        );
    }
    if !follow {
        v = reduce_view(v, &ViewAction::Key(Key::Follow));
    }
    v
}

fn stream(stderr: bool) -> Stream {
    if stderr { Stream::Stderr } else { Stream::Stdout }
}

fn batch(lines: &[String]) -> Arc<LineBatch> {
    let mut batch = LineBatch::default();
    for line in lines {
        batch.push(line.as_bytes());
    }
    Arc::new(batch)
}

/// Each read as `PhaseLog`s, one a line.
fn singles(reads: &[Read]) -> Vec<Action> {
    let mut actions = Vec::new();
    for (k, (phase, stderr, lines)) in reads.iter().enumerate() {
        for line in lines {
            actions.push(Action::PhaseLog {
                name: PHASES[*phase].into(),
                line: line.as_str().into(),
                stream: stream(*stderr),
                t: k as f64,
            });
        }
    }
    actions
}

/// Each read as `PhaseLogs`, cut into several where `cuts` say (the same time each).
fn batches(reads: &[Read], cuts: &[usize]) -> Vec<Action> {
    let mut actions = Vec::new();
    for (k, (phase, stderr, lines)) in reads.iter().enumerate() {
        let mut points: Vec<usize> = cuts.iter().map(|c| c % (lines.len() + 1)).collect();
        points.push(lines.len());
        points.sort_unstable();
        let mut from = 0;
        for to in points {
            actions.push(Action::PhaseLogs {
                name: PHASES[*phase].into(),
                stream: stream(*stderr),
                t: k as f64,
                lines: batch(&lines[from..to]),
            });
            from = to;
        }
    }
    actions
}

fn fold(v: ViewState, actions: Vec<Action>) -> ViewState {
    actions.into_iter().fold(v, |v, a| reduce_view(v, &ViewAction::Pipeline(a)))
}

#[test]
fn a_batch_fills_the_ring_with_its_last_lines_and_counts_them_all() {
    let lines: Vec<String> = (0..7).map(|i| format!("line {i}")).collect();
    let v = fold(view(3, 0, true, 2), batches(&[(0, false, lines)], &[]));
    let phase = &v.pipeline.phases[0];
    let kept: Vec<&str> = phase.logs.lines().iter().map(|l| &*l.line).collect();
    assert_eq!(kept, ["line 4", "line 5", "line 6"]);
    assert_eq!(phase.logs.total(), 3 + 2 + 7, "the 5 lines before and the batch's 7");
    assert_eq!(v.log_scroll, 1, "followed to the bottom of 3 lines in 2 rows");
}

proptest! {
    #[test]
    fn a_batch_folds_as_its_lines_one_at_a_time(
        max_logs in 0usize..5,
        selected in 0usize..3,
        follow in any::<bool>(),
        height in 1usize..4,
        reads in proptest::collection::vec(
            (0usize..3, any::<bool>(), proptest::collection::vec("[a-z]{0,3}", 0..9)),
            0..8,
        ),
        cuts in proptest::collection::vec(0usize..10, 0..3),
    ) {
        let start = view(max_logs, selected, follow, height);
        let one_by_one = fold(start.clone(), singles(&reads));
        prop_assert_eq!(&fold(start.clone(), batches(&reads, &[])), &one_by_one);
        prop_assert_eq!(&fold(start, batches(&reads, &cuts)), &one_by_one);
    }
}
