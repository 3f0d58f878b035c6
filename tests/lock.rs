//! Two runs at once: a run holds a lock on its timeline's folder, so a second run there
//! waits (and says so, as cargo does) instead of writing the same logs; elsewhere, and for
//! readers, nothing waits.

use serde_json::Value;

use crate::run_support::wait_for;
use crate::support::{Output, Running, Test, wait_for_file};

const LINES: usize = 300;

/// One phase that notes its start, waits for the file `go`, prints `LINES` lines tagged
/// with `$RUN`, and notes its end.
fn project() -> Test {
    let toml = format!(
        "[[pipeline.phase]]\nname = \"work\"\ncmd = \"echo start-$RUN >> events; touch started-$RUN; \
         {}; i=0; while [ $i -lt {LINES} ]; do echo line-$RUN-$i; i=$((i+1)); done; \
         echo end-$RUN >> events\"\n",
        wait_for("go")
    );
    Test::new().milo_toml(&toml)
}

/// The first run, `RUN=1` with its timeline in `out/`, once it holds the lock (taken before
/// any phase starts); its phase waits for `go`.
fn first_run(test: &Test) -> Running {
    let first = test.clone().args(["run", "--timeline", "out/one.json"]).env("RUN", "1").spawn();
    wait_for_file(&test.root().join("started-1"));
    first
}

/// The second run, `RUN=2` with its timeline in `out/` too, once it says it waits.
fn second_run(test: &Test) -> Running {
    let mut second =
        test.clone().args(["run", "--timeline", "out/two.json"]).env("RUN", "2").spawn();
    second.wait_for_stderr("Blocking waiting for file lock on [ROOT]/out");
    second
}

fn timeline(out: &Output, path: &str) -> Value {
    serde_json::from_str(&out.read(path)).expect("the timeline is JSON")
}

/// The run's lines, in order: exactly `line-RUN-0` to `line-RUN-{LINES-1}`.
fn expected(run: &str) -> Vec<String> {
    (0..LINES).map(|i| format!("line-{run}-{i}")).collect()
}

/// The `line-…` lines of a log, or of plain output (where they read `work │ line-…`).
fn tagged(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.strip_prefix("work │ ").unwrap_or(l))
        .filter(|l| l.starts_with("line-"))
        .map(str::to_owned)
        .collect()
}

#[test]
fn a_second_run_in_the_same_folder_waits_for_the_first_and_neither_log_mixes() {
    let test = project();
    let root = test.root();
    let first = first_run(&test);
    let second = second_run(&test);
    assert!(!root.join("started-2").exists(), "the second run started while the first ran");
    std::fs::write(root.join("go"), "").expect("go");
    let first = first.finish();
    first.success();
    let second = second.finish();
    second.success();
    assert!(!first.stderr().contains("Blocking"), "{}", first.stderr());

    assert_eq!(first.read("events"), "start-1\nend-1\nstart-2\nend-2\n");
    // Each run's plain output shows its own lines, whole.
    assert_eq!(tagged(&first.stdout), expected("1"));
    assert_eq!(tagged(&second.stdout), expected("2"));
    // On disk, the shared log is the second run's alone: one attempt header, its lines.
    let log = second.read("out/logs/work.log");
    assert_eq!(log.lines().filter(|l| l.starts_with("=== work: attempt 1")).count(), 1, "{log}");
    assert_eq!(tagged(&log), expected("2"));
    for (path, run) in [("out/one.json", "1"), ("out/two.json", "2")] {
        let tl = timeline(&second, path);
        assert_eq!(tl["status"], "completed", "{path}");
        let work = &tl["phases"][0];
        assert_eq!(work["lines_total"], LINES, "{path}");
        let kept: Vec<String> = work["logs"]
            .as_array()
            .expect("logs")
            .iter()
            .map(|l| l["line"].as_str().expect("line").to_owned())
            .collect();
        let all = expected(run);
        assert_eq!(kept, all[all.len() - kept.len()..], "{path}");
    }
}

#[test]
fn a_run_elsewhere_and_readers_do_not_wait() {
    let test = project();
    let root = test.root();
    let first = first_run(&test);
    // While the first run holds `out/`: a run with its timeline elsewhere ends on its own…
    let elsewhere = Test::new()
        .milo_toml("[[pipeline.phase]]\nname = \"quick\"\ncmd = \"echo quick\"\n")
        .args(["run", "--timeline", root.join("other/t.json").to_str().expect("utf-8")])
        .run();
    elsewhere.success();
    assert!(!elsewhere.stderr().contains("Blocking"), "{}", elsewhere.stderr());
    // …and so do readers of the folder the first run holds.
    let view = test.clone().args(["view", "out/one.json"]).run();
    view.success();
    assert!(view.stdout().contains("work"), "{}", view.stdout());
    let check = test.clone().args(["check"]).run();
    check.success();
    assert_eq!(std::fs::read_to_string(root.join("events")).expect("events"), "start-1\n");
    std::fs::write(root.join("go"), "").expect("go");
    first.finish().success();
}

#[test]
fn a_run_waiting_for_the_lock_can_be_interrupted() {
    let test = project();
    let root = test.root();
    let first = first_run(&test);
    let second = second_run(&test);
    second.signal("-INT");
    let second = second.finish();
    second.code(130);
    assert!(!root.join("started-2").exists(), "the interrupted run ran its phase");
    assert!(!root.join("out/two.json").exists(), "the interrupted run wrote a timeline");
    std::fs::write(root.join("go"), "").expect("go");
    first.finish().success();
}
