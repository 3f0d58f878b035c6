//! Reducer throughput: 1,000,000 `PhaseLog` actions folded with `max_logs = 200`.
//!
//! `cargo bench --bench reducer` prints the time per 1,000,000 actions; the target is
//! at least 5 M actions/s, i.e. under 200 ms here. The `dispatch_all` cases feed lines in
//! groups of 100 to a store whose subscribers run on a `SubscriberThread`, timed until that
//! thread has handled the last one. The last case is the executor's own path: the same
//! 1,000,000 lines as `PhaseLogs` actions of 1,000 lines each (one pipe read).

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use milo::lines::LineBatch;
use milo::subscriber_thread::{Consumer, SubscriberThread};
use milo::{Action, Phase, Pipeline, PipelineState, Store, Stream, reduce};

const ACTIONS: u64 = 1_000_000;

/// Makes the subscriber a subscriber thread runs.
type MakeConsumer = fn() -> Consumer;

fn pipeline() -> Pipeline {
    Pipeline::new("bench")
        .phase(Phase::cmd("a", "true").max_logs(200))
        .phase(Phase::cmd("b", "true").max_logs(200))
        .build()
        .expect("valid pipeline")
}

fn actions() -> Vec<Action> {
    let names: [Arc<str>; 2] = [Arc::from("a"), Arc::from("b")];
    let line: Arc<str> = Arc::from("   Compiling serde v1.0.228 (some/long/path/to/a/crate)");
    (0..ACTIONS)
        .map(|i| Action::PhaseLog {
            name: Arc::clone(&names[usize::from(i % 2 == 1)]),
            line: Arc::clone(&line),
            stream: Stream::Stdout,
            t: i as f64 * 1e-6,
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let pipeline = pipeline();
    let actions = actions();
    let mut group = c.benchmark_group("phase_log");
    group.throughput(Throughput::Elements(ACTIONS));
    group.sample_size(20);
    group.bench_function("reduce 1M", |b| {
        b.iter_batched(
            || PipelineState::new(&pipeline),
            |state| black_box(actions.iter().fold(state, reduce)),
            BatchSize::LargeInput,
        );
    });
    group.bench_function("store dispatch 1M (one subscriber)", |b| {
        b.iter_batched(
            || {
                let mut store = Store::new(PipelineState::new(&pipeline));
                store.subscribe(|action, _| {
                    black_box(action);
                });
                store
            },
            |mut store| {
                for action in &actions {
                    store.dispatch(action.clone());
                }
                black_box(store)
            },
            BatchSize::LargeInput,
        );
    });
    let threaded: [(&str, MakeConsumer); 3] = [
        ("store dispatch_all 1M by 100 (subscriber thread, near)", || {
            Consumer::near(|batch, _jobs| {
                black_box(batch);
            })
        }),
        ("store dispatch_all 1M by 100 (subscriber thread, actions)", || {
            Consumer::actions(|action| {
                black_box(action);
            })
        }),
        ("store dispatch_all 1M by 100 (subscriber thread, state)", || {
            Consumer::state(|action, _| {
                black_box(action);
            })
        }),
    ];
    for (name, consumer) in threaded {
        group.bench_function(name, |b| {
            b.iter_batched(
                || {
                    let mut store = Store::new(PipelineState::new(&pipeline));
                    let thread =
                        SubscriberThread::attach(&mut store, vec![consumer()]).expect("thread");
                    (store, thread)
                },
                |(mut store, thread)| {
                    for batch in actions.chunks(100) {
                        store.dispatch_all(batch.iter().cloned());
                    }
                    thread.finish().expect("no panic");
                    black_box(store)
                },
                BatchSize::LargeInput,
            );
        });
    }
    let batches = batches();
    group.bench_function(
        "store dispatch 1M lines as PhaseLogs by 1,000 (subscriber thread)",
        |b| {
            b.iter_batched(
                || {
                    let mut store = Store::new(PipelineState::new(&pipeline));
                    let consumer = Consumer::actions(|action| {
                        black_box(action);
                    });
                    let thread =
                        SubscriberThread::attach(&mut store, vec![consumer]).expect("thread");
                    (store, thread)
                },
                |(mut store, thread)| {
                    for batch in &batches {
                        store.dispatch(batch.clone());
                    }
                    thread.finish().expect("no panic");
                    black_box(store)
                },
                BatchSize::LargeInput,
            );
        },
    );
    group.finish();
}

/// The lines of [`actions`] as `PhaseLogs` of 1,000 lines, phases taking turns.
fn batches() -> Vec<Action> {
    let line = "   Compiling serde v1.0.228 (some/long/path/to/a/crate)";
    (0..ACTIONS / 1000)
        .map(|i| {
            let mut lines = LineBatch::default();
            for _ in 0..1000 {
                lines.push(line.as_bytes());
            }
            Action::PhaseLogs {
                name: Arc::from(if i % 2 == 0 { "a" } else { "b" }),
                stream: Stream::Stdout,
                t: i as f64 * 1e-3,
                lines: Arc::new(lines),
            }
        })
        .collect()
}

criterion_group!(benches, bench);
criterion_main!(benches);
