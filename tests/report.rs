//! `cargo milo report` and `run --report`: real runs, the files they leave, bad input.

use crate::support::Test;

/// A pipeline whose `build` prints a compiler error, then 60 warnings, and fails; only its
/// last 5 lines are retained, so the error is only in the full log.
const FAILING: &str = r#"
[pipeline]
name = "ci"
[[pipeline.phase]]
name = "fmt"
cmd = "echo formatted"
[[pipeline.phase]]
name = "build"
cmd = """
echo 'error[E0308]: mismatched types' >&2
echo ' --> src/main.rs:2:18' >&2
echo '' >&2
i=0; while [ $i -lt 60 ]; do echo "warning: unreachable $i" >&2; i=$((i+1)); done
exit 101
"""
max_logs = 5
depends_on = ["fmt"]
[[pipeline.phase]]
name = "deploy"
cmd = "touch deployed"
depends_on = ["build"]
"#;

fn junit_cases(xml: &str) -> Vec<(String, String)> {
    let doc = roxmltree::Document::parse(xml).expect("JUnit is XML");
    doc.descendants()
        .filter(|n| n.has_tag_name("testcase"))
        .map(|case| {
            let outcome = case
                .children()
                .find(|c| c.is_element() && ["failure", "skipped"].contains(&c.tag_name().name()))
                .map_or_else(
                    || "passed".to_owned(),
                    |c| {
                        format!(
                            "{}: {}",
                            c.tag_name().name(),
                            c.attribute("message").unwrap_or_default()
                        )
                    },
                );
            (case.attribute("name").unwrap_or_default().to_owned(), outcome)
        })
        .collect()
}

#[test]
fn a_failed_run_writes_every_report_with_the_error_from_the_full_log() {
    let out = Test::new()
        .milo_toml(FAILING)
        .args(["run", "--timeline", "tl.json", "--report", "junit=out/junit.xml"])
        .args(["--report", "html=out/report.html", "--report", "trace=out/trace.json"])
        .args(["--report", "markdown=out/summary.md"])
        .run();
    out.code(1);
    assert_eq!(
        junit_cases(&out.read("out/junit.xml")),
        [
            ("fmt".to_owned(), "passed".to_owned()),
            (
                "build".to_owned(),
                "failure: exit code 101: error[E0308]: mismatched types".to_owned()
            ),
            (
                "deploy".to_owned(),
                "skipped: never started: its dependency `build` failed".to_owned()
            ),
        ]
    );
    let html = out.read("out/report.html");
    assert!(html.contains("<span class=\"hit\">error[E0308]: mismatched types</span>"), "{html}");
    let trace: serde_json::Value =
        serde_json::from_str(&out.read("out/trace.json")).expect("trace is JSON");
    let slices = trace["traceEvents"].as_array().expect("events").iter().filter(|e| e["ph"] == "X");
    assert_eq!(slices.count(), 2, "fmt and build ran once each");
    let md = out.read("out/summary.md");
    assert!(
        md.contains("```text\nerror[E0308]: mismatched types\n --> src/main.rs:2:18\n⋮"),
        "{md}"
    );
    // The line numbers are the full log's: the error is on its line 2, after the header.
    assert!(md.contains("of 63 lines"), "{md}");
}

#[test]
fn quiet_prints_the_error_first_then_the_tail() {
    let out = Test::new().milo_toml(FAILING).args(["-q", "run", "--timeline", "tl.json"]).run();
    out.code(1);
    let err = out.stderr();
    let header = err.find("--- build failed: exit code 101 (errors first, then last 20 of 63 lines; full log: [ROOT]/logs/build.log) ---\n").expect(&err);
    let rest = &err[header..];
    assert!(rest.contains("---\nerror[E0308]: mismatched types\n --> src/main.rs:2:18\n⋮ 41 lines\nwarning: unreachable 40\n"), "{err}");
}

#[test]
fn a_bad_report_flag_is_a_usage_error_before_anything_runs() {
    let toml = "[[pipeline.phase]]\nname = \"a\"\ncmd = \"touch ran\"\n";
    let out = Test::new().milo_toml(toml).args(["run", "--report", "junti=j.xml"]).run();
    out.code(2);
    assert!(
        out.stderr.contains("unknown report format `junti`: did you mean `junit`?"),
        "{}",
        out.stderr
    );
    assert!(!out.exists("ran"));
    let out = Test::new().milo_toml(toml).args(["run", "--report", "junit"]).run();
    out.code(2);
    assert!(out.stderr.contains("expected FORMAT=PATH"), "{}", out.stderr);
    // A path under a file cannot be created.
    let out = Test::new().milo_toml(toml).args(["run", "--report", "html=Milo.toml/r.html"]).run();
    out.code(2);
    assert!(out.stderr.contains("Milo.toml"), "{}", out.stderr);
    assert!(!out.exists("ran"), "nothing ran");
    let out = Test::new().milo_toml(toml).folder("out").args(["run", "--report", "html=out"]).run();
    out.code(2);
    assert!(out.stderr.contains("the report path `out` is a folder"), "{}", out.stderr);
    assert!(!out.exists("ran"), "nothing ran");
}

#[test]
fn report_reads_the_configured_timeline_and_writes_or_prints() {
    let t = Test::new().milo_toml(FAILING).args(["run"]).run();
    t.code(1);
    let timeline = t.root.join("target/milo/timeline.json");
    assert!(timeline.exists(), "the default timeline");
    // Over the default timeline, to stdout.
    let out = Test::new()
        .milo_toml(FAILING)
        .args(["report", "--format", "markdown"])
        .arg(&timeline)
        .run();
    out.success();
    assert!(out.stdout.starts_with("## ✗ cargo milo: `ci` failed"), "{}", out.stdout);
    assert!(out.stdout.contains("error[E0308]: mismatched types"), "the full log beside it");
    // Into a file, found through Milo.toml.
    let out = Test::new()
        .milo_toml(FAILING)
        .file("target/milo/timeline.json", &std::fs::read_to_string(&timeline).expect("read"))
        .args(["report", "--format", "junit", "-o", "junit.xml"])
        .run();
    out.success();
    assert_eq!(junit_cases(&out.read("junit.xml")).len(), 3);
}

#[test]
fn report_on_bad_input_says_what_to_do() {
    let out = Test::new().args(["report", "--format", "html", "nope.json"]).run();
    out.code(2);
    assert!(out.stderr.contains("no timeline at `nope.json`"), "{}", out.stderr);
    assert!(out.stderr.contains("`cargo milo report PATH`"), "{}", out.stderr);
    let out = Test::new()
        .file("bad.json", "{\n  \"schema_version\": 1,\n  \"pipeline\": oops\n}")
        .args(["report", "--format", "junit", "bad.json"])
        .run();
    out.code(2);
    assert!(
        out.stderr.contains("`bad.json` is not a valid timeline\n  --> bad.json:3:15"),
        "{}",
        out.stderr
    );
    let newer = r#"{"schema_version": 9, "pipeline": "x", "status": "up_to_date", "phases": []}"#;
    let out =
        Test::new().file("new.json", newer).args(["report", "--format", "trace", "new.json"]).run();
    out.code(2);
    assert!(
        out.stderr.contains(&format!(
            "`new.json` has schema_version 9, newer than this cargo-milo reads ({})",
            milo::timeline::SCHEMA_VERSION
        )),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("upgrade cargo-milo"), "{}", out.stderr);
}

#[test]
fn an_interrupted_run_writes_its_reports() {
    let marker = crate::run_support::sleep_until_killed();
    let toml = format!("[[pipeline.phase]]\nname = \"sleepy\"\ncmd = \"echo up; {marker}\"\n");
    let setup = Test::new().milo_toml(&toml).args(["check"]).run();
    setup.success();
    let args = ["run", "--timeline", "tl.json", "--report", "junit=junit.xml"];
    let code = crate::run_support::interrupt_once_up(&setup.root, &args, "-INT", 1);
    assert_eq!(code, Some(130));
    assert_eq!(
        junit_cases(&setup.read("junit.xml")),
        [("sleepy".to_owned(), "skipped: cancelled: the run was interrupted".to_owned())]
    );
    assert!(crate::run_support::gone(&marker), "no survivors");
}

#[test]
fn a_thousand_phases_stay_in_proportion() {
    use milo::reports::{Excerpts, Format, render};
    // 50 lines a phase keeps this quick in a debug build; `cargo bench --bench reports`
    // measures 200.
    let timeline = crate::support::large_timeline::large_timeline(1000, 50);
    let json = serde_json::to_string_pretty(&timeline).expect("json").len();
    let excerpts = Excerpts::new();
    let size = |format| render(format, &timeline, &excerpts).len();
    // Every retained line appears once in the HTML and JUnit (plus markup), never per phase
    // pair or per attempt; the trace has no lines; the summary stops at 1 MiB.
    let html = size(Format::Html);
    assert!(html < json, "html {html} bytes vs timeline {json}");
    let junit = size(Format::Junit);
    assert!(junit < json, "junit {junit} bytes vs timeline {json}");
    let trace = size(Format::Trace);
    assert!(trace < 1024 * 1024, "trace {trace} bytes");
    let markdown = size(Format::Markdown);
    assert!(markdown <= 1024 * 1024, "markdown {markdown} bytes");
}
