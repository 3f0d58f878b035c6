//! `cargo milo run` with real processes: order, policies, scheduling, outputs, targets.

use crate::run_support::{
    gone, lines, phase, run, sleep_until_killed, span, status, timeline, wait_for, wait_until,
};

#[test]
fn linear_success() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "a"
cmd = "echo one"
[[pipeline.phase]]
name = "b"
cmd = "echo two"
depends_on = ["a"]
"#,
        &[],
    );
    out.success();
    let tl = timeline(&out);
    assert_eq!(tl["status"], "completed");
    assert_eq!(tl["progress"], 1.0);
    assert!(span(&tl, "a").1 <= span(&tl, "b").0, "b starts after a ends");
    assert_eq!(lines(&tl, "b"), ["two"]);
    assert!(out.stdout.contains("✓ a "), "{}", out.stdout);
}

#[test]
fn stop_fails_the_pipeline_and_leaves_dependents_pending() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "a"
cmd = "exit 3"
[[pipeline.phase]]
name = "b"
cmd = "echo never"
depends_on = ["a"]
"#,
        &[],
    );
    out.code(1);
    let tl = timeline(&out);
    assert_eq!(tl["status"], "failed");
    assert_eq!(phase(&tl, "a")["error"], "exit code 3");
    assert_eq!(phase(&tl, "a")["attempts"][0]["exit_code"], 3);
    assert_eq!(status(&tl, "b"), "pending");
    assert!(out.stdout.contains("✗ a exit code 3"), "{}", out.stdout);
}

#[test]
fn skip_hands_dependents_a_null_result() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "lint"
cmd = "exit 1"
policy = { on_fail = "skip" }
[[pipeline.phase]]
name = "after"
cmd = "cat \"$MILO_CONTEXT\""
depends_on = ["lint"]
"#,
        &[],
    );
    out.success();
    let tl = timeline(&out);
    assert_eq!(status(&tl, "lint"), "skipped");
    assert_eq!(phase(&tl, "lint")["error"], "exit code 1");
    assert_eq!(lines(&tl, "after"), [r#"{"lint":null}"#]);
}

#[test]
fn outputs_flow_to_a_dependent() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "version"
cmd = "echo v=1.2.3 >> \"$MILO_OUTPUT\"; echo 'notes<<EOF' >> \"$MILO_OUTPUT\"; echo hi >> \"$MILO_OUTPUT\"; echo EOF >> \"$MILO_OUTPUT\""
[[pipeline.phase]]
name = "use"
cmd = "cat \"$MILO_CONTEXT\"; echo \"$MILO_PIPELINE $MILO_PHASE $MILO_ATTEMPT\""
depends_on = ["version"]
[pipeline]
name = "rel"
"#,
        &[],
    );
    out.success();
    let tl = timeline(&out);
    assert_eq!(phase(&tl, "version")["outputs"]["v"], "1.2.3");
    assert_eq!(phase(&tl, "version")["outputs"]["notes"], "hi");
    let got = lines(&tl, "use");
    let ctx: serde_json::Value = serde_json::from_str(&got[0]).expect("context JSON");
    assert_eq!(ctx["version"]["exit_code"], 0);
    assert_eq!(ctx["version"]["outputs"]["v"], "1.2.3");
    assert_eq!(got[1], "rel use 1");
}

#[test]
fn targets_run_only_their_dependencies() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "a"
cmd = "true"
[[pipeline.phase]]
name = "b"
cmd = "true"
depends_on = ["a"]
[[pipeline.phase]]
name = "other"
cmd = "true"
"#,
        &["b"],
    );
    out.success();
    let tl = timeline(&out);
    let names: Vec<&str> = tl["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| p["name"].as_str().expect("name"))
        .collect();
    assert_eq!(names, ["a", "b"]);
}

#[test]
fn unknown_target_is_a_usage_error() {
    let out = run("[[pipeline.phase]]\nname = \"build\"\ncmd = \"true\"\n", &["biuld"]);
    out.code(2);
    assert!(out.stderr.contains("`biuld`") && out.stderr.contains("`build`"), "{}", out.stderr);
}

#[test]
fn args_run_without_a_shell() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "lit"
args = ["printf", "%s|%s\n", "$HOME", "a;b"]
"#,
        &[],
    );
    out.success();
    assert_eq!(lines(&timeline(&out), "lit"), ["$HOME|a;b"]);
}

#[test]
fn parallel_phases_overlap() {
    // Each waits for the other's marker: only running side by side can finish both.
    let toml = format!(
        r#"
[pipeline]
jobs = 2
[[pipeline.phase]]
name = "left"
cmd = "touch left.up; {}"
parallel = true
[[pipeline.phase]]
name = "right"
cmd = "touch right.up; {}"
parallel = true
"#,
        wait_for("right.up"),
        wait_for("left.up")
    );
    let out = run(&toml, &[]);
    out.success();
    let tl = timeline(&out);
    let (l, r) = (span(&tl, "left"), span(&tl, "right"));
    assert!(l.0 < r.1 && r.0 < l.1, "overlap: {l:?} {r:?}");
}

#[test]
fn an_exclusive_phase_runs_alone() {
    // p2 and p3 each wait for the other's marker: only running side by side ends both.
    let toml = format!(
        r#"
[pipeline]
jobs = 4
[[pipeline.phase]]
name = "p1"
cmd = "sleep 0.2"
parallel = true
[[pipeline.phase]]
name = "solo"
cmd = "sleep 0.2"
[[pipeline.phase]]
name = "p2"
cmd = "touch p2.up; {}"
parallel = true
[[pipeline.phase]]
name = "p3"
cmd = "touch p3.up; {}"
parallel = true
"#,
        wait_for("p3.up"),
        wait_for("p2.up")
    );
    let out = run(&toml, &[]);
    out.success();
    let tl = timeline(&out);
    let solo = span(&tl, "solo");
    for other in ["p1", "p2", "p3"] {
        let o = span(&tl, other);
        assert!(o.1 <= solo.0 || o.0 >= solo.1, "{other} {o:?} overlaps solo {solo:?}");
    }
    let (p2, p3) = (span(&tl, "p2"), span(&tl, "p3"));
    assert!(p2.0 < p3.1 && p3.0 < p2.1, "parallel phases still share: {p2:?} {p3:?}");
}

#[test]
fn no_wave_barrier() {
    // `slow` only ends once `next` (which depends on the fast phase) has run.
    let toml = format!(
        r#"
[pipeline]
jobs = 3
[[pipeline.phase]]
name = "fast"
cmd = "true"
parallel = true
[[pipeline.phase]]
name = "slow"
cmd = "{}"
parallel = true
[[pipeline.phase]]
name = "next"
cmd = "touch next.done"
depends_on = ["fast"]
parallel = true
"#,
        wait_for("next.done")
    );
    let out = run(&toml, &[]);
    out.success();
    let tl = timeline(&out);
    assert!(span(&tl, "next").0 < span(&tl, "slow").1);
}

#[test]
fn critical_path_first_at_one_job() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "short"
cmd = "true"
parallel = true
[[pipeline.phase]]
name = "head"
cmd = "true"
parallel = true
[[pipeline.phase]]
name = "tail"
cmd = "true"
depends_on = ["head"]
parallel = true
weight = 10
"#,
        &["-j", "1"],
    );
    out.success();
    let tl = timeline(&out);
    assert!(span(&tl, "head").1 <= span(&tl, "short").0, "head (on the long path) goes first");
}

#[test]
fn declaration_order_breaks_ties() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "zeta"
cmd = "true"
parallel = true
[[pipeline.phase]]
name = "alpha"
cmd = "true"
parallel = true
"#,
        &["-j", "1"],
    );
    out.success();
    let tl = timeline(&out);
    assert!(span(&tl, "zeta").1 <= span(&tl, "alpha").0);
}

#[test]
fn timeout_kills_the_group() {
    let sleep = sleep_until_killed();
    let out = run(
        &format!(
            "[[pipeline.phase]]\nname = \"hang\"\ncmd = \"{sleep} & {sleep}\"\ntimeout = \"300ms\"\n"
        ),
        &[],
    );
    out.code(1);
    let tl = timeline(&out);
    assert_eq!(phase(&tl, "hang")["error"], "timed out after 300ms");
    assert!(gone(&sleep), "the timed-out group is gone");
}

#[test]
fn missing_command_and_death_by_signal() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "missing"
args = ["no-such-program-milo"]
parallel = true
policy = { on_fail = "skip" }
[[pipeline.phase]]
name = "killed"
cmd = "kill -TERM $$"
parallel = true
policy = { on_fail = "skip" }
[[pipeline.phase]]
name = "shell127"
cmd = "no-such-program-milo"
parallel = true
policy = { on_fail = "skip" }
"#,
        &[],
    );
    out.success();
    let tl = timeline(&out);
    assert_eq!(phase(&tl, "missing")["error"], "command not found: no-such-program-milo");
    assert_eq!(phase(&tl, "killed")["error"], "killed by signal 15");
    assert_eq!(phase(&tl, "shell127")["error"], "exit code 127 (command not found)");
}

#[test]
fn fail_fast_cancels_a_sleeping_sibling() {
    // `bad` fails once `sleepy` runs; `sleepy` would outlive the hang limit unless cancelled.
    let sleep = sleep_until_killed();
    let toml = format!(
        r#"
[pipeline]
jobs = 2
fail_fast = true
[[pipeline.phase]]
name = "sleepy"
cmd = "touch sleepy.up; {sleep}"
parallel = true
[[pipeline.phase]]
name = "bad"
cmd = "{}; exit 1"
parallel = true
"#,
        wait_for("sleepy.up")
    );
    let out = run(&toml, &[]);
    out.code(1);
    let tl = timeline(&out);
    assert_eq!(status(&tl, "sleepy"), "cancelled");
    assert_eq!(status(&tl, "bad"), "failed");
    assert!(gone(&sleep));
}

#[test]
fn without_fail_fast_running_phases_finish_and_nothing_new_starts() {
    // `steady` ends only once the timeline records `bad`'s failure: it was running then.
    let toml = format!(
        r#"
[pipeline]
jobs = 2
[[pipeline.phase]]
name = "steady"
cmd = "{}; echo done"
parallel = true
[[pipeline.phase]]
name = "bad"
cmd = "exit 1"
parallel = true
[[pipeline.phase]]
name = "later"
cmd = "true"
depends_on = ["steady"]
parallel = true
"#,
        wait_until("grep -q 'exit code 1' tl.json")
    );
    let out = run(&toml, &["--no-fail-fast"]);
    out.code(1);
    let tl = timeline(&out);
    assert_eq!(status(&tl, "steady"), "completed");
    assert_eq!(status(&tl, "later"), "pending");
}

#[test]
fn dry_run_prints_the_plan_and_runs_nothing() {
    let out = run(
        r#"
[pipeline]
name = "plan"
jobs = 2
[[pipeline.phase]]
name = "a"
cmd = "touch ran"
parallel = true
[[pipeline.phase]]
name = "b"
args = ["echo", "b"]
depends_on = ["a"]
"#,
        &["--dry-run"],
    );
    out.success();
    assert!(!out.exists("ran") && !out.exists("tl.json"));
    insta::assert_snapshot!(out.stdout());
}

#[test]
fn no_escape_codes_when_piped() {
    let out = run(
        r#"
[pipeline]
name = "piped"
[[pipeline.phase]]
name = "a"
cmd = "echo hi"
[[pipeline.phase]]
name = "b"
cmd = "exit 2"
depends_on = ["a"]
"#,
        &[],
    );
    out.code(1);
    assert!(!out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'), "{:?}", out.stdout);
    // Plain output is one stream, so its lines keep their order in a CI log.
    assert_eq!(out.stderr, "");
    insta::assert_snapshot!(out.stdout());
}

#[test]
fn a_failed_run_is_reported_once_and_named_again_with_verbose() {
    let toml = "[pipeline]\nname = \"ci\"\n[[pipeline.phase]]\nname = \"b\"\ncmd = \"exit 2\"\n";
    let quiet = run(toml, &[]);
    quiet.code(1);
    assert!(!quiet.stderr.contains("error:"), "the summary says it: {}", quiet.stderr);
    let verbose = run(toml, &["-v"]);
    verbose.code(1);
    assert!(
        verbose.stderr.ends_with(
            "error: pipeline `ci` failed: `b`\n  = help: the full logs are beside the timeline, \
             in `logs/`\n"
        ),
        "{}",
        verbose.stderr
    );
}

#[test]
fn a_real_timeline_matches_the_shipped_schema() {
    let out = run(
        r#"
[[pipeline.phase]]
name = "ok"
cmd = "echo hi; echo k=v >> \"$MILO_OUTPUT\""
[[pipeline.phase]]
name = "flaky"
cmd = "[ \"$MILO_ATTEMPT\" -ge 2 ] || { echo no >&2; exit 1; }"
policy = { on_fail = "retry", max_retries = 1, retry_delay = 0 }
depends_on = ["ok"]
[[pipeline.phase]]
name = "optional"
cmd = "exit 5"
policy = { on_fail = "skip" }
[[pipeline.phase]]
name = "bad"
cmd = "exit 2"
depends_on = ["flaky", "optional"]
[[pipeline.phase]]
name = "never"
cmd = "true"
depends_on = ["bad"]
"#,
        &[],
    );
    out.code(1);
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/timeline.schema.json");
    let schema: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema")).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let tl = timeline(&out);
    let errors: Vec<String> = validator.iter_errors(&tl).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(phase(&tl, "ok")["log_file"], "logs/ok.log");
    assert_eq!(phase(&tl, "never")["log_file"], serde_json::Value::Null);
    assert_eq!(phase(&tl, "flaky")["attempts"].as_array().map(Vec::len), Some(2));
}
