//! One frame of the detail view with 100,000 retained lines (`max_logs = 100000`).
//!
//! `cargo bench --bench render` prints the time per frame; the budget is 16 ms. A
//! frame only walks the visible window of the ring, so the figure should not depend on how
//! many lines are kept.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use milo::tui::render::log_height;
use milo::view::{Key, ViewAction, ViewState, reduce_view};
use milo::{Action, Phase, Pipeline, PipelineState, Stream};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::widgets::Widget;

const LINES: usize = 100_000;

fn view(width: u16, height: u16) -> ViewState {
    let pipeline = Pipeline::new("bench")
        .phase(Phase::cmd("fmt", "true"))
        .phase(Phase::cmd("build", "true").max_logs(LINES).weight(5))
        .phase(Phase::cmd("test", "true").depends_on(["build"]))
        .build()
        .expect("valid pipeline");
    let name: Arc<str> = Arc::from("build");
    let mut view = ViewState::new(PipelineState::new(&pipeline));
    view = reduce_view(view, &Action::PhaseStart { name: name.clone(), attempt: 1, t: 0.0 }.into());
    // 10% more than kept, so the ring has wrapped, as in a long build.
    for i in 0..LINES + LINES / 10 {
        let stream = if i % 9 == 0 { Stream::Stderr } else { Stream::Stdout };
        let line = format!("   Compiling crate-{i:06} v1.0.{i} (/home/user/src/crate-{i})");
        let action =
            Action::PhaseLog { name: name.clone(), line: line.into(), stream, t: 1e-4 * i as f64 };
        view = reduce_view(view, &action.into());
    }
    let area = Rect::new(0, 0, width, height);
    let rows = log_height(area, &view);
    view = reduce_view(view, &ViewAction::Resize { log_height: rows });
    view = [Key::Down, Key::Enter].iter().fold(view, |v, k| reduce_view(v, &ViewAction::Key(*k)));
    view.auto_follow = false;
    view.log_scroll = LINES / 2;
    view
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("frame_100k_lines");
    for (width, height) in [(80, 24), (240, 70)] {
        let view = view(width, height);
        assert_eq!(view.pipeline.phases[1].logs.len(), LINES);
        let area = Rect::new(0, 0, width, height);
        let mut buffer = Buffer::empty(area);
        group.bench_function(format!("{width}x{height}"), |b| {
            b.iter(|| {
                buffer.reset();
                black_box(&view).render(area, &mut buffer);
                black_box(&buffer);
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
