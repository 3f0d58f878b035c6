//! Reports of a large timeline: 1,000 phases × 200 retained lines (every 20th phase failed,
//! every 10th retried). `cargo bench --bench reports` prints each format's time, and its size
//! once beside the timeline's.

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use milo::reports::{Excerpts, Format, render};

#[path = "../tests/support/large_timeline.rs"]
mod large_timeline;

fn reports(c: &mut Criterion) {
    let timeline = large_timeline::large_timeline(1000, 200);
    let json = serde_json::to_string_pretty(&timeline).expect("json").len();
    eprintln!("timeline.json: {} KiB", json / 1024);
    let excerpts = Excerpts::new();
    let mut group = c.benchmark_group("report of 1,000 phases x 200 lines");
    group.sample_size(10);
    for format in Format::ALL {
        let size = render(format, &timeline, &excerpts).len();
        eprintln!("{}: {} KiB", format.name(), size / 1024);
        group.bench_function(format.name(), |b| {
            b.iter(|| render(black_box(format), black_box(&timeline), &excerpts));
        });
    }
    group.finish();
}

criterion_group!(benches, reports);
criterion_main!(benches);
