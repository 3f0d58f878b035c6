//! Engine tests over real processes, built with the library builder.

use std::sync::{Arc, mpsc};
use std::time::Duration;

use serde_json::json;

use super::*;
use crate::phase::{Phase, PhasePolicy};
use crate::state::{PhaseStatus, PipelineState, PipelineStatus};
use crate::timeline::Timeline;

fn quick() -> RunOptions {
    RunOptions {
        grace: Duration::from_millis(500),
        drain: Duration::from_millis(200),
        ..RunOptions::default()
    }
}

fn run_ok(p: &Pipeline) -> PipelineState {
    run(p, quick()).expect("run").state
}

/// The most a test waits for a run that must end: proves "did not hang", times nothing.
const HANG_LIMIT: Duration = Duration::from_secs(60);
/// A child that only a kill ends within a test: it outlives the hang limit, so a run that
/// waited for it fails the test instead of passing late.
const UNTIL_KILLED: &str = "sleep 150";

/// Runs `p` on another thread and waits for its end, at most [`HANG_LIMIT`].
fn run_to_end(p: &Pipeline, options: RunOptions) -> PipelineState {
    let (tx, rx) = mpsc::channel();
    let p = p.clone();
    std::thread::spawn(move || {
        // The receiver is gone only when the test already failed on the hang limit.
        let _ = tx.send(run(&p, options));
    });
    rx.recv_timeout(HANG_LIMIT).expect("the run ended").expect("run").state
}

/// A shell loop that waits for `file` to exist (failing the phase after the hang limit).
fn wait_for(file: &std::path::Path) -> String {
    let tries = HANG_LIMIT.as_millis() / 50;
    format!(
        "i=0; until [ -e '{}' ]; do i=$((i+1)); [ $i -gt {tries} ] && exit 9; sleep 0.05; done",
        file.display()
    )
}

fn status(s: &PipelineState, name: &str) -> PhaseStatus {
    s.phase(name).expect("phase").status
}

fn lines(s: &PipelineState, name: &str) -> Vec<String> {
    s.phase(name).expect("phase").logs.lines().iter().map(|l| l.line.to_string()).collect()
}

#[test]
fn linear_success_with_outputs_and_context() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("a", "echo hi; echo version=1.2 >> \"$MILO_OUTPUT\""))
        .phase(
            Phase::cmd(
                "b",
                "cat \"$MILO_CONTEXT\"; echo \"$MILO_PIPELINE/$MILO_PHASE/$MILO_ATTEMPT\"",
            )
            .depends_on(["a"]),
        )
        .build()
        .expect("valid");
    let s = run_ok(&p);
    assert_eq!(s.status, PipelineStatus::Completed);
    assert_eq!(lines(&s, "a"), ["hi"]);
    let b = lines(&s, "b");
    let ctx: serde_json::Value = serde_json::from_str(&b[0]).expect("json");
    assert_eq!(ctx, json!({"a": {"exit_code": 0, "outputs": {"version": "1.2"}}}));
    assert_eq!(b[1], "ci/b/1");
}

#[test]
fn stop_fails_and_dependents_stay_pending() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("a", "exit 3"))
        .phase(Phase::cmd("b", "true").depends_on(["a"]))
        .build()
        .expect("valid");
    let s = run_ok(&p);
    assert_eq!(s.status, PipelineStatus::Failed);
    assert_eq!(s.phase("a").expect("a").error.as_deref(), Some("exit code 3"));
    assert_eq!(status(&s, "b"), PhaseStatus::Pending);
}

#[test]
fn skip_gives_dependents_null() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("a", "exit 1").policy(PhasePolicy::skip()))
        .phase(Phase::cmd("b", "cat \"$MILO_CONTEXT\"").depends_on(["a"]))
        .build()
        .expect("valid");
    let s = run_ok(&p);
    assert_eq!(s.status, PipelineStatus::Completed);
    assert_eq!(status(&s, "a"), PhaseStatus::Skipped);
    assert_eq!(lines(&s, "b"), [r#"{"a":null}"#]);
}

#[test]
fn given_phases_do_not_run_and_hand_on_their_results() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("a", "echo ran a"))
        .phase(Phase::cmd("lint", "echo ran lint"))
        .phase(Phase::cmd("b", "cat \"$MILO_CONTEXT\"").depends_on(["a", "lint"]))
        .phase(Phase::cmd("c", "echo ran c").depends_on(["b"]))
        .build()
        .expect("valid");
    let recorded = json!({"exit_code": 0, "outputs": {"version": "1.2"}});
    let given = [("a", Some(recorded)), ("lint", None), ("c", None)];
    let options = RunOptions {
        given: given.into_iter().map(|(n, r)| (n.to_owned(), r)).collect(),
        ..quick()
    };
    let s = run(&p, options).expect("run").state;
    assert_eq!(s.status, PipelineStatus::Completed);
    assert_eq!(
        lines(&s, "b"),
        [r#"{"a":{"exit_code":0,"outputs":{"version":"1.2"}},"lint":null}"#]
    );
    for name in ["a", "lint", "c"] {
        assert_eq!(status(&s, name), PhaseStatus::Pending, "{name} did not run");
        assert!(lines(&s, name).is_empty());
    }
}

#[test]
fn retry_succeeds_on_second_attempt() {
    let dir = tempfile::tempdir().expect("tmp");
    let marker = dir.path().join("m");
    let cmd =
        format!("if [ -e '{0}' ]; then echo ok; else touch '{0}'; exit 1; fi", marker.display());
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("flaky", cmd).policy(PhasePolicy::retry(2, Duration::from_millis(50))))
        .build()
        .expect("valid");
    let s = run_ok(&p);
    let f = s.phase("flaky").expect("flaky");
    assert_eq!(f.status, PhaseStatus::Completed);
    assert_eq!(f.attempts.len(), 2);
    assert_eq!(f.attempts[0].error.as_deref(), Some("exit code 1"));
}

#[test]
fn retries_exhausted_names_the_count() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("f", "exit 2").policy(PhasePolicy::retry(2, Duration::from_millis(10))))
        .build()
        .expect("valid");
    let s = run_ok(&p);
    let f = s.phase("f").expect("f");
    assert_eq!(f.error.as_deref(), Some("retries exhausted after 3 attempts: exit code 2"));
    assert_eq!(f.attempts.len(), 3);
}

#[test]
fn outcomes_are_distinct() {
    let p = Pipeline::new("ci")
        .phase(
            Phase::args("missing", ["definitely-not-a-command-milo"])
                .parallel(true)
                .policy(PhasePolicy::skip()),
        )
        .phase(Phase::cmd("sig", "kill -9 $$").parallel(true).policy(PhasePolicy::skip()))
        .phase(
            Phase::cmd("slow", UNTIL_KILLED)
                .parallel(true)
                .timeout(Duration::from_millis(200))
                .policy(PhasePolicy::skip()),
        )
        .build()
        .expect("valid");
    let s = run_to_end(&p, quick());
    let err = |n: &str| s.phase(n).expect(n).error.clone().unwrap_or_default();
    assert_eq!(err("missing"), "command not found: definitely-not-a-command-milo");
    assert_eq!(err("sig"), "killed by signal 9");
    assert_eq!(err("slow"), "timed out after 200ms");
}

#[test]
fn grandchild_holding_the_pipe_does_not_hang() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("bg", format!("{UNTIL_KILLED} & echo started")))
        .build()
        .expect("valid");
    let s = run_to_end(&p, quick());
    assert_eq!(status(&s, "bg"), PhaseStatus::Completed);
    assert_eq!(lines(&s, "bg"), ["started"]);
}

#[test]
fn closures_capture_lines_and_panics_fail() {
    let p = Pipeline::new("lib")
        .phase(Phase::func("gen", |ctx| {
            writeln!(ctx.stdout(), "one")?;
            write!(ctx.stderr(), "two")?;
            Ok::<_, std::io::Error>(json!({"n": 1}))
        }))
        .phase(
            Phase::func("boom", |_ctx| -> Result<serde_json::Value, std::io::Error> {
                panic!("kaput")
            })
            .depends_on(["gen"]),
        )
        .build()
        .expect("valid");
    let s = run_ok(&p);
    assert_eq!(lines(&s, "gen"), ["one", "two"]);
    assert_eq!(s.phase("gen").expect("gen").result, Some(json!({"n": 1})));
    assert_eq!(s.phase("boom").expect("boom").error.as_deref(), Some("panicked: kaput"));
}

#[test]
fn cancel_token_cancels_running_phases() {
    let cmd = format!("echo up; {UNTIL_KILLED}");
    let p = Pipeline::new("ci").phase(Phase::cmd("sleepy", cmd)).build().expect("valid");
    let mut options = quick();
    let token = options.cancel.clone();
    // Cancel once the phase's process is up and running: it printed its first line.
    options.subscribers.push(Box::new(move |a, _| {
        if matches!(a, crate::Action::PhaseLogs { lines, .. } if lines.iter().any(|l| l == "up")) {
            token.cancel();
        }
    }));
    let s = run_to_end(&p, options);
    assert_eq!(s.status, PipelineStatus::Cancelled);
    assert_eq!(status(&s, "sleepy"), PhaseStatus::Cancelled);
}

#[test]
fn fail_fast_cancels_siblings() {
    let dir = tempfile::tempdir().expect("tmp");
    let up = dir.path().join("sleepy.up");
    // `bad` fails only once `sleepy` is running.
    let sleepy = format!("touch '{}'; {UNTIL_KILLED}", up.display());
    let bad = format!("{}; exit 1", wait_for(&up));
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("sleepy", sleepy).parallel(true))
        .phase(Phase::cmd("bad", bad).parallel(true))
        .fail_fast(true)
        .jobs(2)
        .build()
        .expect("valid");
    let s = run_to_end(&p, quick());
    assert_eq!(s.status, PipelineStatus::Failed);
    assert_eq!(status(&s, "sleepy"), PhaseStatus::Cancelled);
    assert_eq!(status(&s, "bad"), PhaseStatus::Failed);
}

#[test]
fn timeline_and_full_log_are_written() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("t/timeline.json");
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("many", "seq 1 500; echo err >&2").max_logs(10))
        .build()
        .expect("valid");
    let options = RunOptions { timeline: Some(path.clone()), ..quick() };
    let s = run(&p, options).expect("run").state;
    assert_eq!(s.status, PipelineStatus::Completed);
    let t: Timeline =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
    let many = &t.phases[0];
    assert_eq!((many.log_count, many.lines_total), (10, 501));
    assert_eq!(many.log_file.as_deref(), Some("logs/many.log"));
    let log = std::fs::read_to_string(dir.path().join("t/logs/many.log")).expect("log");
    assert!(log.starts_with("=== many: attempt 1"));
    assert_eq!(log.lines().count(), 502);
}

#[test]
fn subscribers_see_every_line_in_order_as_batches() {
    let seen = Arc::new(std::sync::Mutex::new(Vec::new()));
    let sink = Arc::clone(&seen);
    let p = Pipeline::new("ci").phase(Phase::cmd("many", "seq 1 100000")).build().expect("valid");
    let mut options = quick();
    options.subscribers.push(Box::new(move |a, _| {
        if let crate::Action::PhaseLogs { lines, .. } = a {
            sink.lock().expect("lock").push(Arc::clone(lines));
        }
    }));
    let s = run(&p, options).expect("run").state;
    let batches = seen.lock().expect("lock");
    let lines: Vec<&str> = batches.iter().flat_map(|b| b.iter()).collect();
    let expected: Vec<String> = (1..=100_000).map(|n| n.to_string()).collect();
    assert_eq!(lines, expected, "every line, in order");
    assert!(batches.len() > 1 && batches.len() < 100_000, "{} batches", batches.len());
    assert_eq!(s.phase("many").expect("many").logs.total(), 100_000);
}

/// A spawner that starts nothing: reports lines and an exit through the sink, as a remote
/// or simulated runner would.
struct FakeSpawner;

impl Spawner for FakeSpawner {
    fn spawn(&self, request: &CommandRequest, sink: &EventSink) -> std::io::Result<Started> {
        if request.program == "missing" {
            return Err(std::io::Error::from(std::io::ErrorKind::NotFound));
        }
        let mut lines = crate::lines::LineBatch::default();
        lines.push(format!("fake {}", request.args.join(" ")).as_bytes());
        sink.lines(crate::Stream::Stdout, lines);
        sink.finished(Exit::Code(i32::from(request.program == "fail")));
        Ok(Started { pgid: None, direct: None })
    }
}

#[test]
fn the_spawner_seam_drives_the_engine_without_processes() {
    let p = Pipeline::new("fake")
        .phase(Phase::args("a", ["ok", "x"]))
        .phase(Phase::args("b", ["missing"]).depends_on(["a"]).policy(PhasePolicy::skip()))
        .phase(Phase::args("c", ["fail"]).depends_on(["b"]))
        .build()
        .expect("valid");
    let options = RunOptions { spawner: Arc::new(FakeSpawner), ..quick() };
    let s = run(&p, options).expect("run").state;
    assert_eq!(lines(&s, "a"), ["fake x"]);
    assert_eq!(s.phase("b").expect("b").error.as_deref(), Some("command not found: missing"));
    assert_eq!(s.phase("c").expect("c").error.as_deref(), Some("exit code 1"));
    assert_eq!(s.status, PipelineStatus::Failed);
}

#[test]
fn huge_timeout_grace_and_drain_mean_never() {
    // `Instant::now() + Duration::MAX` would panic: these must read as "no limit".
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("a", "echo ok").timeout(Duration::MAX))
        .phase(
            Phase::func("f", |_| -> Result<serde_json::Value, std::io::Error> { Ok(json!(1)) })
                .timeout(Duration::MAX),
        )
        .build()
        .expect("valid");
    let options = RunOptions { grace: Duration::MAX, drain: Duration::MAX, ..quick() };
    let s = run(&p, options).expect("run").state;
    assert_eq!(s.status, PipelineStatus::Completed);
    assert_eq!(lines(&s, "a"), ["ok"]);
    assert_eq!(status(&s, "f"), PhaseStatus::Completed);
}

#[test]
fn huge_retry_delay_waits_until_cancelled() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("flaky", "exit 1").policy(PhasePolicy::retry(2, Duration::MAX)))
        .build()
        .expect("valid");
    let mut options = RunOptions { grace: Duration::MAX, ..quick() };
    let token = options.cancel.clone();
    options.subscribers.push(Box::new(move |a, _| {
        if matches!(a, crate::Action::PhaseRetry { .. }) {
            token.cancel();
        }
    }));
    let s = run_to_end(&p, options);
    assert_eq!(s.status, PipelineStatus::Cancelled);
    assert_eq!(s.phase("flaky").expect("flaky").attempts.len(), 1);
    assert_eq!(status(&s, "flaky"), PhaseStatus::Cancelled);
}

#[test]
fn context_files_are_reused_without_clobbering_running_phases() {
    let show = "sleep 0.2; echo \"$MILO_CONTEXT\"; cat \"$MILO_CONTEXT\"";
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("a", "true"))
        .phase(Phase::cmd("b", show).depends_on(["a"]).parallel(true))
        .phase(Phase::cmd("c", show).depends_on(["a"]).parallel(true))
        .phase(Phase::cmd("d", show).depends_on(["b"]).parallel(true))
        .phase(Phase::cmd("e", show).depends_on(["c"]).parallel(true))
        .phase(Phase::cmd("f", show).depends_on(["d", "e"]))
        .jobs(2)
        .build()
        .expect("valid");
    let s = run_ok(&p);
    assert_eq!(s.status, PipelineStatus::Completed);
    let ok = r#"{"exit_code":0,"outputs":{}}"#;
    let seen: Vec<Vec<String>> = ["b", "c", "d", "e", "f"].iter().map(|n| lines(&s, n)).collect();
    assert_eq!(seen[0][1], format!(r#"{{"a":{ok}}}"#));
    assert_eq!(seen[1][1], format!(r#"{{"a":{ok}}}"#));
    assert_eq!(seen[2][1], format!(r#"{{"b":{ok}}}"#));
    assert_eq!(seen[3][1], format!(r#"{{"c":{ok}}}"#));
    assert_eq!(seen[4][1], format!(r#"{{"d":{ok},"e":{ok}}}"#));
    // b and c ran side by side: separate files. Later phases reuse finished ones.
    assert_ne!(seen[0][0], seen[1][0]);
    let paths: std::collections::BTreeSet<&String> = seen.iter().map(|l| &l[0]).collect();
    assert!(paths.len() < 5, "no context file was reused: {paths:?}");
}

#[test]
fn a_missing_working_directory_is_reported() {
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("a", "true").cwd("no/such/dir"))
        .build()
        .expect("valid");
    let s = run_ok(&p);
    assert_eq!(s.status, PipelineStatus::Failed);
    let error = s.phase("a").expect("a").error.clone().unwrap_or_default();
    assert!(error.starts_with("working directory not found: "), "{error}");
}

#[test]
fn a_previous_runs_logs_of_these_phases_are_removed_and_others_kept() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("timeline.json");
    let logs = dir.path().join("logs");
    std::fs::create_dir_all(&logs).expect("mkdir");
    for f in ["quiet.log", "loud.log", "other.log", "quiet.txt"] {
        std::fs::write(logs.join(f), "old\n").expect("write");
    }
    let p = Pipeline::new("ci")
        .phase(Phase::cmd("quiet", "true"))
        .phase(Phase::cmd("loud", "echo new"))
        .build()
        .expect("valid");
    let s = run(&p, RunOptions { timeline: Some(path), ..quick() }).expect("run").state;
    assert_eq!(s.status, PipelineStatus::Completed);
    assert!(!logs.join("quiet.log").exists(), "a stale log of a phase of this run survived");
    let loud = std::fs::read_to_string(logs.join("loud.log")).expect("loud.log");
    assert!(!loud.contains("old") && loud.contains("new"), "{loud}");
    assert!(logs.join("other.log").exists() && logs.join("quiet.txt").exists());
}

/// The real spawner without its exit descriptors, as on a system without pidfds.
struct WithoutExitFd;

impl Spawner for WithoutExitFd {
    fn spawn(&self, request: &CommandRequest, sink: &EventSink) -> std::io::Result<Started> {
        let mut started = ProcessSpawner.spawn(request, sink)?;
        if let Some(direct) = &mut started.direct {
            direct.exit_fd = None;
        }
        Ok(started)
    }
}

#[test]
fn exits_without_exit_descriptors_are_heard_through_sigchld() {
    // Nothing captured: no pipe closes, only the exit itself can end each phase.
    let p = Pipeline::new("sigchld")
        .phase(Phase::cmd("a", "true"))
        .phase(Phase::cmd("b", "exit 3").depends_on(["a"]).policy(PhasePolicy::skip()))
        .phase(Phase::cmd("c", "true").depends_on(["b"]))
        .build()
        .expect("valid");
    let options = RunOptions { capture: Some(false), spawner: Arc::new(WithoutExitFd), ..quick() };
    let s = run_to_end(&p, options);
    assert_eq!(status(&s, "a"), PhaseStatus::Completed);
    assert_eq!(s.phase("b").expect("b").error.as_deref(), Some("exit code 3"));
    assert_eq!(status(&s, "c"), PhaseStatus::Completed);
}

#[cfg(target_os = "linux")]
#[test]
fn the_real_spawner_hands_over_an_exit_descriptor() {
    let request = CommandRequest {
        program: "true".into(),
        args: Vec::new(),
        cwd: std::env::temp_dir(),
        env: Vec::new(),
        capture: true,
    };
    let (tx, _rx) = mpsc::sync_channel(1);
    let sink = EventSink { id: AttemptId(0), tx, waker: event::Waker::default() };
    let started = ProcessSpawner.spawn(&request, &sink).expect("spawn");
    let mut direct = started.direct.expect("watched by the executor");
    assert!(direct.pipes.is_some(), "captured");
    let exit_fd = direct.exit_fd.take().expect("a pidfd on Linux");
    // The descriptor becomes readable when the child exits: then its exit is there to reap.
    let mut fds =
        [nix::poll::PollFd::new(std::os::fd::AsFd::as_fd(&exit_fd), nix::poll::PollFlags::POLLIN)];
    let limit = nix::poll::PollTimeout::try_from(HANG_LIMIT).expect("fits");
    assert_eq!(nix::poll::poll(&mut fds, limit).expect("poll"), 1, "readable on exit");
    assert_eq!(direct.child.try_exit(), Some(Exit::Code(0)));
}

#[test]
fn a_signal_before_the_run_cancels_it_before_anything_starts() {
    let token = CancelToken::new();
    let guard = signals::cancel_on_signals(token.clone()).expect("signal handlers");
    // Delivered to this thread before `raise` returns.
    nix::sys::signal::raise(nix::sys::signal::Signal::SIGINT).expect("raise");
    assert_eq!(token.times(), 1, "seen by whoever asks the token");
    let p = Pipeline::new("early").phase(Phase::cmd("a", "true")).build().expect("valid");
    let s = run_to_end(&p, RunOptions { cancel: token.clone(), ..quick() });
    drop(guard);
    assert_eq!(token.times(), 1);
    assert_eq!(s.status, PipelineStatus::Cancelled);
    assert_eq!(status(&s, "a"), PhaseStatus::Pending, "nothing started");
}
