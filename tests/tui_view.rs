//! `cargo milo view`: reading a recorded timeline, its errors, and the plain overview printed
//! where there is no terminal.

use std::sync::Arc;

use insta::assert_snapshot;
use milo::{Action, Phase, Pipeline, PipelineState, Stream, Timeline, reduce};
use serde_json::json;

use crate::support::Test;

/// A recorded run: fmt passed, test failed after printing to stderr, package never ran.
pub fn recorded_timeline() -> String {
    let pipeline = Pipeline::new("ci")
        .phase(Phase::cmd("fmt", "true"))
        .phase(Phase::cmd("test", "false").depends_on(["fmt"]).weight(3))
        .phase(Phase::cmd("package", "true").depends_on(["test"]))
        .build()
        .expect("valid pipeline");
    let name = |s: &str| -> Arc<str> { Arc::from(s) };
    let actions = [
        Action::PipelineStart { started_at: "2026-11-28T14:00:00Z".into(), t: 0.0 },
        Action::PhaseStart { name: name("fmt"), attempt: 1, t: 0.0 },
        Action::PhaseComplete { name: name("fmt"), result: json!({"exit_code": 0}), t: 0.5 },
        Action::PhaseStart { name: name("test"), attempt: 1, t: 0.5 },
        Action::PhaseLog {
            name: name("test"),
            line: name("running 3 tests"),
            stream: Stream::Stdout,
            t: 0.6,
        },
        Action::PhaseLog {
            name: name("test"),
            line: name("assertion failed: left == right"),
            stream: Stream::Stderr,
            t: 0.7,
        },
        Action::PhaseFailed {
            name: name("test"),
            error: "exit code 101".into(),
            exit_code: Some(101),
            t: 2.0,
        },
        Action::PipelineFailed { t: 2.0 },
    ];
    let state = actions.iter().fold(PipelineState::new(&pipeline), reduce);
    serde_json::to_string_pretty(&Timeline::from_state(&state)).expect("serialize")
}

#[test]
fn prints_the_overview_once_when_not_on_a_terminal() {
    let out = Test::new()
        .file("timeline.json", &recorded_timeline())
        .args(["view", "timeline.json"])
        .run();
    out.success();
    assert_snapshot!(out.stdout(), @r"
    ci  ✗ failed  [DURATION]  ███████████████░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░░  20%
    ✓ fmt       1/1   [DURATION]   w1  ██████████████████
    ✗ test      1/1   [DURATION]   w3                   ████████████████████████████████████████████████████
    · package                 w1
    ");
    assert!(out.stderr().contains("note: not a terminal"), "{}", out.stderr());
}

#[test]
fn defaults_to_the_configured_timeline() {
    let toml = "[pipeline]\nname = \"ci\"\ntimeline = \"out/run.json\"\n\n\
                [[pipeline.phase]]\nname = \"fmt\"\ncmd = \"true\"\n";
    let out =
        Test::new().milo_toml(toml).file("out/run.json", &recorded_timeline()).arg("view").run();
    out.success();
    assert!(out.stdout().contains("✗ test"), "{}", out.stdout());
}

#[test]
fn a_missing_configured_timeline_says_how_to_record_one() {
    let toml = "[pipeline]\nname = \"ci\"\ntimeline = \"out/run.json\"\n\n\
                [[pipeline.phase]]\nname = \"fmt\"\ncmd = \"true\"\n";
    let out = Test::new().milo_toml(toml).arg("view").run();
    out.code(2);
    assert_snapshot!(out.stderr(), @r"
    error: no timeline at `[ROOT]/out/run.json`
      = help: run `cargo milo run` to record one, or pass a file: `cargo milo view PATH`
    ");
}

#[test]
fn a_missing_file_is_a_usage_error() {
    let out = Test::new().args(["view", "nope.json"]).run();
    out.code(2);
    assert_snapshot!(out.stderr(), @r"
    error: no timeline at `nope.json`
      = help: run `cargo milo run` to record one, or pass a file: `cargo milo view PATH`
    ");
}

#[test]
fn an_invalid_file_is_located() {
    let out = Test::new()
        .file("broken.json", "{\n  \"schema_version\": 1,\n  \"pipeline\": 3\n}")
        .args(["view", "broken.json"])
        .run();
    out.code(2);
    assert_snapshot!(out.stderr(), @r"
    error: `broken.json` is not a valid timeline
      --> broken.json:3:15: invalid type: integer `3`, expected a string
      = help: pass the timeline.json that `cargo milo run` writes (its JSON Schema ships as schema/timeline.schema.json)
    ");
}

#[test]
fn a_newer_schema_is_refused() {
    let current = format!("\"schema_version\": {}", milo::timeline::SCHEMA_VERSION);
    let newer = recorded_timeline().replacen(&current, "\"schema_version\": 9", 1);
    assert_ne!(newer, recorded_timeline(), "the version was replaced");
    let out = Test::new().file("t.json", &newer).args(["view", "t.json"]).run();
    out.code(2);
    assert!(out.stderr().contains("schema_version 9, newer than"), "{}", out.stderr());
}
