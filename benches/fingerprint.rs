//! Fingerprinting a phase's inputs: 10,000 files totalling 100 MB (100 folders of 100 files
//! of 10 KB), warm cache. `cargo bench --bench fingerprint`; the target is at most 300 ms on a
//! 2-core machine. The tree is generated once under `target/bench-fingerprint/` (the same
//! tree `benches/uptodate.sh` times `cargo milo explain` and `run` on).

#![allow(missing_docs)] // criterion_group! generates an undocumented function

use std::hint::black_box;
use std::path::{Path, PathBuf};

use criterion::{Criterion, criterion_group, criterion_main};
use milo::observe::Observer;
use milo::{Phase, Pipeline};

const FOLDERS: usize = 100;
const FILES: usize = 100;
const SIZE: usize = 10 * 1024;

/// The tree, generated when missing: deterministic, incompressible-looking contents.
fn tree() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/bench-fingerprint");
    let done = root.join("src/.complete");
    if done.is_file() {
        return root;
    }
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut bytes = vec![0u8; SIZE];
    for d in 0..FOLDERS {
        let dir = root.join(format!("src/d{d:03}"));
        std::fs::create_dir_all(&dir).expect("create a folder");
        for f in 0..FILES {
            for chunk in bytes.chunks_mut(8) {
                // xorshift64: fast, and no two files alike.
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                chunk.copy_from_slice(&state.to_le_bytes()[..chunk.len()]);
            }
            std::fs::write(dir.join(format!("f{f:03}.bin")), &bytes).expect("write a file");
        }
    }
    std::fs::write(done, "").expect("mark the tree complete");
    root
}

fn bench(c: &mut Criterion) {
    let root = tree();
    let pipeline = Pipeline::new("bench")
        .phase(Phase::cmd("build", "true").inputs(["src/**/*.bin"]))
        .dir(&root)
        .build()
        .expect("valid pipeline");
    let observer = Observer::new(&pipeline, None);
    let phase = &pipeline.phases()[0];
    let seen = observer.observe(&pipeline, phase).expect("has inputs");
    assert_eq!(seen.inputs.len(), FOLDERS * FILES, "the whole tree is an input");
    let mut group = c.benchmark_group("fingerprint");
    group.sample_size(20);
    group.bench_function("10k files, 100 MB", |b| {
        b.iter(|| black_box(observer.observe(&pipeline, phase)));
    });
    // The walk alone (globs matched, nothing read), to see where the time goes.
    group.bench_function("walk only", |b| {
        b.iter(|| black_box(observer.unmatched_inputs(phase)));
    });
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
