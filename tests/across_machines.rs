//! Beyond one machine: `run --only A --results-from DIR` runs exactly A with its
//! dependencies' recorded results, and `timeline merge` joins the partial timelines.

use serde_json::Value;

use crate::run_support::phase;
use crate::support::{Output, Test};

/// A diamond: `version` writes an output; `lint` fails under `on_fail = "skip"`; `report`
/// records the context it was handed.
const PIPELINE: &str = r#"
[pipeline]
name = "ci"

[[pipeline.phase]]
name = "version"
cmd = "echo version=1.2.3 >> \"$MILO_OUTPUT\"; echo made version"

[[pipeline.phase]]
name = "lint"
cmd = "echo lint broke; exit 3"
policy = { on_fail = "skip" }

[[pipeline.phase]]
name = "report"
cmd = "cat \"$MILO_CONTEXT\" > context.json; echo reported"
depends_on = ["version", "lint"]
"#;

fn json(out: &Output, path: &str) -> Value {
    serde_json::from_str(&out.read(path)).expect("JSON")
}

#[test]
fn only_with_an_unknown_phase_suggests_the_closest() {
    let out = Test::new().milo_toml(PIPELINE).args(["run", "--only", "reprot"]).run();
    out.code(2);
    assert!(out.stderr.contains("no phase named `reprot`"), "{}", out.stderr);
    assert!(out.stderr.contains("did you mean `report` instead of `reprot`?"), "{}", out.stderr);
}

#[test]
fn a_dependency_without_a_result_is_an_error_naming_it() {
    // No --results-from at all.
    let out = Test::new().milo_toml(PIPELINE).args(["run", "--only", "report"]).run();
    out.code(2);
    assert!(
        out.stderr.starts_with(
            "error: `report` needs the result of `version`, which `--only` does not run"
        ),
        "{}",
        out.stderr
    );
    // A folder with no timeline in it.
    let out = Test::new()
        .milo_toml(PIPELINE)
        .file("results/notes.json", "{\"phases\": 1}")
        .args(["run", "--only", "report", "--results-from", "results"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("no timeline is in `results`"), "{}", out.stderr);
    assert!(!out.exists("context.json"), "nothing ran");
}

#[test]
fn partial_runs_pass_results_and_merge_into_the_whole_run() {
    // Machine 1 runs `version`, machine 2 `lint` (skipped: its job still succeeds).
    let out = Test::new()
        .milo_toml(PIPELINE)
        .args(["run", "--only", "version", "--timeline", "jobs/version/timeline.json"])
        .run();
    out.success();
    let partial = json(&out, "jobs/version/timeline.json");
    assert_eq!(phase(&partial, "version")["status"], "completed");
    assert_eq!(phase(&partial, "report")["status"], "pending", "every phase is listed");
    let out =
        out.then().args(["run", "--only", "lint", "--timeline", "jobs/lint/timeline.json"]).run();
    out.success();

    // `report` without `lint`'s timeline: an error naming what is missing.
    let out = out
        .then()
        .args(["run", "--only", "report", "--results-from", "jobs/version", "--timeline", "x.json"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("`report` needs the result of `lint`, which has no completed or skipped result in `jobs/version`: no timeline in `jobs/version` ran it"),
        "{}",
        out.stderr
    );

    // With both: `report` gets version's outputs and null for the skipped lint.
    let out = out
        .then()
        .args([
            "run",
            "--only",
            "report",
            "--results-from",
            "jobs",
            "--timeline",
            "jobs/report/timeline.json",
        ])
        .run();
    out.success();
    let context = json(&out, "context.json");
    assert_eq!(context["version"]["outputs"]["version"], "1.2.3");
    assert_eq!(context["version"]["exit_code"], 0);
    assert_eq!(context["lint"], Value::Null);
    let partial = json(&out, "jobs/report/timeline.json");
    assert_eq!(phase(&partial, "version")["status"], "pending", "version did not run again");

    // Merge the three partial timelines.
    let out = out.then().args(["timeline", "merge", "jobs", "-o", "merged/timeline.json"]).run();
    out.success();
    assert!(out.stderr.contains("Merged 3 timeline(s) of `ci`"), "{}", out.stderr);
    let merged = json(&out, "merged/timeline.json");
    let schema_path = concat!(env!("CARGO_MANIFEST_DIR"), "/schema/timeline.schema.json");
    let schema: Value =
        serde_json::from_str(&std::fs::read_to_string(schema_path).expect("schema")).expect("json");
    let validator = jsonschema::validator_for(&schema).expect("a valid schema");
    let errors: Vec<String> = validator.iter_errors(&merged).map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:?}");
    assert_eq!(merged["status"], "completed");
    assert_eq!(merged["progress"], 1.0);
    let statuses: Vec<(&str, &str)> = merged["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or(""), p["status"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(statuses, [("version", "completed"), ("lint", "skipped"), ("report", "completed")]);
    assert_eq!(phase(&merged, "version")["outputs"]["version"], "1.2.3");
    // Logs are copied beside the merged timeline.
    assert_eq!(phase(&merged, "lint")["log_file"], "logs/lint.log");
    assert!(out.read("merged/logs/lint.log").contains("lint broke"));
    assert!(out.read("merged/logs/report.log").contains("reported"));

    // `view` prints the overview when stdout is not a terminal, and reports read it.
    let out = out.then().args(["view", "merged/timeline.json"]).run();
    out.success();
    let overview = &out.stdout;
    assert!(overview.contains(" ci  ✓ completed"), "{overview}");
    assert!(overview.contains("↷ lint") && overview.contains("✓ report"), "{overview}");
    let out = out
        .then()
        .args(["report", "merged/timeline.json", "--format", "junit", "-o", "merged/junit.xml"])
        .run();
    out.success();
    let junit = out.read("merged/junit.xml");
    assert!(junit.contains("tests=\"3\""), "{junit}");
    assert!(junit.contains("name=\"lint\""), "{junit}");
    let out = out.then().args(["report", "merged/timeline.json", "--format", "markdown"]).run();
    out.success();
    assert!(out.stdout.contains("report"), "{}", out.stdout);
}

#[test]
fn merge_refuses_other_pipelines_and_files_that_are_not_timelines() {
    let out = Test::new()
        .milo_toml(PIPELINE)
        .args(["run", "--only", "version", "--timeline", "a/timeline.json"])
        .run();
    out.success();
    let other = PIPELINE.replace("name = \"ci\"", "name = \"nightly\"");
    let out = out
        .then()
        .file("Milo.toml", &other)
        .args(["run", "--only", "lint", "--timeline", "b/timeline.json"])
        .run();
    out.success();
    let out = out.then().args(["timeline", "merge", "a", "b", "-o", "m.json"]).run();
    out.code(2);
    assert!(
        out.stderr.starts_with(
            "error: `b/timeline.json` records pipeline `nightly`, but `a/timeline.json` records `ci`"
        ),
        "{}",
        out.stderr
    );
    assert!(!out.exists("m.json"));
    let out = out
        .then()
        .file("notes.json", "{\"hello\": 1}")
        .args(["timeline", "merge", "a", "notes.json", "-o", "m.json"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("`notes.json` is not a valid timeline"), "{}", out.stderr);
    // In a folder, a JSON file that is no timeline is passed over; a broken timeline is not.
    let out = out
        .then()
        .file("a/trace.json", "{\"traceEvents\": []}")
        .args(["timeline", "merge", "a", "-o", "m.json"])
        .run();
    out.success();
    let out = out
        .then()
        .file("a/deeper/timeline.json", "{\"schema_version\": 1, \"phases\": \"?\"}")
        .args(["timeline", "merge", "a", "-o", "m.json"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("`a/deeper/timeline.json` is not a valid timeline"),
        "{}",
        out.stderr
    );
}
