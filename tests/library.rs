//! The library API end to end: closures and commands mixed in one pipeline, run for real.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use milo::exec::RunOptions;
use milo::subscriber_thread::Consumer;
use milo::{Action, Phase, PhasePolicy, PhaseStatus, Pipeline, PipelineStatus, Stream};
use serde_json::json;

fn quick() -> RunOptions {
    RunOptions { jobs: Some(2), ..RunOptions::default() }
}

#[test]
fn closure_lines_are_captured_with_their_stream() {
    let pipeline = Pipeline::new("lib")
        .phase(Phase::func("gen", |ctx| {
            writeln!(ctx.stdout(), "to stdout")?;
            writeln!(ctx.stderr(), "to stderr")?;
            write!(ctx.stdout(), "no newline")?;
            Ok::<_, std::io::Error>(json!(null))
        }))
        .build()
        .expect("valid");
    let state = pipeline.run(quick()).expect("run").state;
    let lines: Vec<(String, Stream)> = state
        .phase("gen")
        .expect("gen")
        .logs
        .lines()
        .iter()
        .map(|l| (l.line.to_string(), l.stream))
        .collect();
    assert_eq!(
        lines,
        [
            ("to stdout".to_owned(), Stream::Stdout),
            ("to stderr".to_owned(), Stream::Stderr),
            ("no newline".to_owned(), Stream::Stdout),
        ]
    );
}

#[test]
fn context_has_results_and_none_for_a_skipped_dependency() {
    let seen = Arc::new(Mutex::new(None));
    let record = Arc::clone(&seen);
    let pipeline = Pipeline::new("lib")
        .phase(Phase::cmd("flaky", "exit 4").policy(PhasePolicy::skip()))
        .phase(Phase::func("answer", |_| Ok::<_, std::io::Error>(json!({"n": 42}))))
        .phase(
            Phase::func("join", move |ctx| {
                let results = ctx.results().clone();
                *record.lock().expect("lock") = Some((results, ctx.dependency("flaky").cloned()));
                Ok::<_, std::io::Error>(json!("joined"))
            })
            .depends_on(["flaky", "answer"]),
        )
        .build()
        .expect("valid");
    let state = pipeline.run(quick()).expect("run").state;
    assert_eq!(state.status, PipelineStatus::Completed);
    assert_eq!(state.phase("flaky").map(|p| p.status), Some(PhaseStatus::Skipped));
    let (results, flaky) = seen.lock().expect("lock").take().expect("join ran");
    assert_eq!(flaky, None);
    assert_eq!(results.get("flaky"), Some(&None), "a skipped dependency is present, as null");
    assert_eq!(results.get("answer"), Some(&Some(json!({"n": 42}))));
    assert_eq!(state.phase("join").and_then(|p| p.result.clone()), Some(json!("joined")));
}

#[test]
fn a_panicking_closure_fails_its_phase_not_the_process() {
    let pipeline = Pipeline::new("lib")
        .phase(Phase::func("boom", |_| -> Result<serde_json::Value, std::io::Error> {
            panic!("the schema is {}", "missing")
        }))
        .phase(Phase::cmd("after", "true").depends_on(["boom"]))
        .build()
        .expect("valid");
    let state = pipeline.run(quick()).expect("run").state;
    assert_eq!(state.status, PipelineStatus::Failed);
    let boom = state.phase("boom").expect("boom");
    assert_eq!(boom.status, PhaseStatus::Failed);
    assert!(boom.error.as_deref().is_some_and(|e| e.contains("the schema is missing")), "{boom:?}");
    assert_eq!(state.phase("after").map(|p| p.status), Some(PhaseStatus::Pending));
}

#[test]
fn a_closure_is_retried_and_sees_its_attempt() {
    let calls = Arc::new(AtomicU32::new(0));
    let counter = Arc::clone(&calls);
    let pipeline = Pipeline::new("lib")
        .phase(
            Phase::func("flaky", move |ctx| {
                counter.fetch_add(1, Ordering::SeqCst);
                if ctx.attempt() < 3 {
                    return Err(format!("attempt {} failed", ctx.attempt()));
                }
                Ok(json!({"attempt": ctx.attempt()}))
            })
            .policy(PhasePolicy::retry(3, Duration::from_millis(10))),
        )
        .build()
        .expect("valid");
    let state = pipeline.run(quick()).expect("run").state;
    let flaky = state.phase("flaky").expect("flaky");
    assert_eq!(flaky.status, PhaseStatus::Completed);
    assert_eq!(calls.load(Ordering::SeqCst), 3);
    assert_eq!(flaky.attempts.len(), 3);
    assert_eq!(flaky.attempts[0].error.as_deref(), Some("attempt 1 failed"));
    assert_eq!(flaky.result, Some(json!({"attempt": 3})));
}

#[test]
fn retries_exhausted_for_a_closure_names_the_count() {
    let pipeline = Pipeline::new("lib")
        .phase(
            Phase::func("never", |_| Err::<serde_json::Value, _>("nope"))
                .policy(PhasePolicy::retry(1, Duration::ZERO)),
        )
        .build()
        .expect("valid");
    let state = pipeline.run(quick()).expect("run").state;
    assert_eq!(
        state.phase("never").and_then(|p| p.error.clone()).as_deref(),
        Some("retries exhausted after 2 attempts: nope")
    );
}

#[test]
fn subscribers_observe_every_action_in_order() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let pipeline = Pipeline::new("lib")
        .phase(Phase::cmd("a", "echo one"))
        .phase(
            Phase::func("b", |ctx| {
                writeln!(ctx.stdout(), "two")?;
                Ok::<_, std::io::Error>(json!(null))
            })
            .depends_on(["a"]),
        )
        .build()
        .expect("valid");
    let options = RunOptions {
        subscribers: vec![Box::new(move |action: &Action, _state: &milo::PipelineState| {
            let label = match action {
                Action::PhaseStart { name, .. } => format!("start {name}"),
                Action::PhaseLogs { name, lines, .. } => {
                    let lines: Vec<&str> = lines.iter().collect();
                    format!("log {name} {}", lines.join(","))
                }
                Action::PhaseComplete { name, .. } => format!("done {name}"),
                Action::PipelineComplete { .. } => "pipeline done".to_owned(),
                _ => return,
            };
            sink.lock().expect("lock").push(label);
        })],
        ..quick()
    };
    let state = pipeline.run(options).expect("run").state;
    assert_eq!(state.status, PipelineStatus::Completed);
    assert_eq!(
        *seen.lock().expect("lock"),
        ["start a", "log a one", "done a", "start b", "log b two", "done b", "pipeline done"]
    );
}

#[test]
fn folding_the_recorded_actions_rebuilds_the_final_state() {
    let log = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&log);
    let pipeline = Pipeline::new("lib")
        .phase(Phase::cmd("a", "echo x; echo y >&2").parallel(true))
        .phase(Phase::cmd("b", "exit 2").parallel(true).policy(PhasePolicy::skip()))
        .build()
        .expect("valid");
    let options = RunOptions {
        subscribers: vec![Box::new(move |action: &Action, _: &milo::PipelineState| {
            sink.lock().expect("lock").push(action.clone());
        })],
        ..quick()
    };
    let state = pipeline.run(options).expect("run").state;
    let folded =
        log.lock().expect("lock").iter().fold(milo::PipelineState::new(&pipeline), milo::reduce);
    assert_eq!(folded.status, state.status);
    for (a, b) in folded.phases.iter().zip(&state.phases) {
        assert_eq!((a.status, a.logs.total(), &a.error), (b.status, b.logs.total(), &b.error));
    }
}

#[test]
fn background_subscribers_see_each_phase_end_after_its_log_is_complete() {
    let dir = tempfile::tempdir().expect("temp dir");
    let timeline = dir.path().join("tl.json");
    let log = milo::artifact::log_path(&timeline, "count");
    let seen = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let pipeline = Pipeline::new("lib")
        .phase(Phase::cmd("count", "seq 1 5000").max_logs(10))
        .build()
        .expect("valid");
    let options = RunOptions {
        timeline: Some(timeline.clone()),
        background: vec![Consumer::state(move |action: &Action, state: &milo::PipelineState| {
            let entry = match action {
                // On the subscriber thread, after the log writer: the file is whole here.
                Action::PhaseComplete { .. } => {
                    let text = std::fs::read_to_string(&log).expect("the log");
                    let lines = text.lines().filter(|l| !l.starts_with("=== ")).count();
                    format!(
                        "done, {lines} lines in the log, {} folded",
                        state.phases[0].logs.total()
                    )
                }
                Action::PipelineComplete { .. } => format!("pipeline {:?}", state.status),
                _ => return,
            };
            sink.lock().expect("lock").push(entry);
        })],
        ..quick()
    };
    let finished = pipeline.run(options).expect("run");
    assert_eq!(finished.state.status, PipelineStatus::Completed);
    // Every action was handled before `run` returned.
    assert_eq!(
        *seen.lock().expect("lock"),
        ["done, 5000 lines in the log, 5000 folded", "pipeline Completed"]
    );
}

#[test]
fn write_failures_come_back_with_the_final_state() {
    use milo::artifact::{Notice, Record};
    let dir = tempfile::tempdir().expect("temp dir");
    let timeline = dir.path().join("tl.json");
    // A folder where `a`'s log goes, and one put where the timeline goes while `b` runs.
    std::fs::create_dir_all(milo::artifact::log_path(&timeline, "a")).expect("folder");
    let target = timeline.clone();
    let pipeline = Pipeline::new("lib")
        .phase(Phase::cmd("a", "echo lost"))
        .phase(
            Phase::func("b", move |_ctx| {
                std::fs::remove_file(&target)?;
                std::fs::create_dir(&target)?;
                Ok::<_, std::io::Error>(json!(null))
            })
            .depends_on(["a"]),
        )
        .build()
        .expect("valid");
    let heard = Arc::new(Mutex::new(Vec::new()));
    let ear = Arc::clone(&heard);
    let options = RunOptions {
        timeline: Some(timeline.clone()),
        notify: Some(Arc::new(move |notice: &Notice<'_>| {
            if let Notice::WriteFailed(f) = notice {
                ear.lock().expect("lock").push(f.path.clone());
            }
        })),
        ..quick()
    };
    let finished = pipeline.run(options).expect("a finished run, whatever was not written");
    assert_eq!(finished.state.status, PipelineStatus::Completed);
    let first = &finished.warnings[0];
    assert_eq!(first.record, Record::Log { phase: "a".into() });
    assert_eq!(first.source.kind(), std::io::ErrorKind::IsADirectory);
    assert_eq!(heard.lock().expect("lock")[0], milo::artifact::log_path(&timeline, "a"));
    let last = finished.timeline_error.expect("the final timeline failed");
    assert_eq!((last.record, last.path), (Record::Timeline, timeline));
    assert_eq!(last.source.kind(), std::io::ErrorKind::IsADirectory);
}
