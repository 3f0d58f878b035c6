//! The exported GitLab pipeline, run by gitlab-ci-local: shell jobs, each in its own copy
//! of the repository (`--shell-isolation`), so the partial timelines really travel as
//! artifacts between jobs.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use crate::support::Test;

/// How CI installs the tools (.ci/run does it).
const INSTALL: &str = "npm ci --prefix .ci/tools && apt-get install rsync";

/// The most gitlab-ci-local may take: proves it did not hang, times nothing.
const LIMIT: Duration = Duration::from_secs(600);

/// The folder holding `gitlab-ci-local` and `node`, or a failure naming the install.
fn tools() -> PathBuf {
    let bin = Path::new(env!("CARGO_MANIFEST_DIR")).join(".ci/tools/node_modules/.bin");
    assert!(
        bin.join("gitlab-ci-local").exists() && bin.join("node").exists(),
        "gitlab-ci-local and Node 22 are needed for this test: install them with `{INSTALL}`"
    );
    let rsync = std::process::Command::new("rsync").arg("--version").output();
    assert!(
        rsync.is_ok_and(|o| o.status.success()),
        "rsync is needed for this test: install it with `apt-get install rsync`"
    );
    bin
}

/// Phases append `start NAME` / `end NAME` to this file, outside every job's folder.
fn pipeline(order: &Path, bin_var: &str) -> String {
    let mark = |what: &str| format!("echo {what} $MILO_PHASE >> '{}'", order.display());
    let (start, end) = (mark("start"), mark("end"));
    let record =
        |file: &str| format!("cp \\\"$MILO_CONTEXT\\\" '{}'", order.with_file_name(file).display());
    format!(
        r#"
[pipeline]
name = "diamond"

[pipeline.export]
image = ""
install = 'export PATH="${bin_var}:$PATH"'

[[pipeline.phase]]
name = "version"
cmd = "{start}; echo version=1.2.3 >> \"$MILO_OUTPUT\"; {end}"

[[pipeline.phase]]
name = "left"
cmd = "{start}; {left}; {end}"
depends_on = ["version"]

[[pipeline.phase]]
name = "right"
cmd = "{start}; {end}"
depends_on = ["version"]

[[pipeline.phase]]
name = "join"
cmd = "{start}; {end}"
depends_on = ["left", "right"]

[[pipeline.phase]]
name = "lint"
cmd = "{start}; {end}; exit 3"
policy = {{ on_fail = "skip" }}

[[pipeline.phase]]
name = "after-lint"
cmd = "{start}; {after}; {end}"
depends_on = ["lint"]

[[pipeline.phase]]
name = "broken"
cmd = "{start}; {end}; echo broken for good >&2; exit 1"
depends_on = ["version"]

[[pipeline.phase]]
name = "never"
cmd = "{start}; {end}"
depends_on = ["broken"]
"#,
        left = record("left-context.json"),
        after = record("after-lint-context.json"),
    )
}

fn git(dir: &Path, args: &[&str]) {
    let out = std::process::Command::new("git")
        .args(["-c", "user.name=milo", "-c", "user.email=milo@example.com"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("git runs");
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Runs gitlab-ci-local in `dir` (the whole pipeline, or the named jobs).
fn gitlab_ci_local(dir: &Path, tools: &Path, bin_dir: &Path, jobs: &[&str]) -> (i32, String) {
    let path = format!("{}:{}", tools.display(), std::env::var("PATH").unwrap_or_default());
    let out = assert_cmd::Command::new(tools.join("gitlab-ci-local"))
        .args(["--shell-isolation", "--no-artifacts-to-source", "--no-color"])
        .arg("--variable")
        .arg(format!("MILO_BIN_DIR={}", bin_dir.display()))
        .args(jobs)
        .current_dir(dir)
        .env("PATH", path)
        .timeout(LIMIT)
        .output()
        .expect("gitlab-ci-local runs");
    let text =
        format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.code().unwrap_or(-1), text)
}

#[test]
fn the_exported_gitlab_pipeline_runs_the_dag_across_jobs() {
    let tools = tools();
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_cargo-milo")).parent().expect("target dir");
    let test = Test::new();
    let root = test.root();
    let order = root.join("outside/order.log");
    std::fs::create_dir_all(root.join("outside")).expect("a folder");
    let out = test
        .file(".gitignore", "outside/\n.gitlab-ci-local/\ntarget/\n")
        .milo_toml(&pipeline(&order, "MILO_BIN_DIR"))
        .args(["export", "gitlab", "-o", ".gitlab-ci.yml"])
        .run();
    out.success();
    git(&root, &["init", "-q"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "pipeline"]);

    let (code, log) = gitlab_ci_local(&root, &tools, bin_dir, &[]);
    assert_ne!(code, 0, "`broken` fails the CI pipeline:\n{log}");

    // Jobs ran in the order of the graph; `never` did not run after `broken` failed.
    let marks = std::fs::read_to_string(&order).expect("the phases ran");
    let marks: Vec<&str> = marks.lines().collect();
    let at = |mark: &str| marks.iter().position(|m| *m == mark);
    for (dep, phase) in [
        ("version", "left"),
        ("version", "right"),
        ("left", "join"),
        ("right", "join"),
        ("lint", "after-lint"),
        ("version", "broken"),
    ] {
        let (end, start) = (at(&format!("end {dep}")), at(&format!("start {phase}")));
        assert!(
            end.is_some() && start.is_some() && end < start,
            "{dep} ends before {phase} starts: {marks:?}\n{log}"
        );
    }
    assert_eq!(at("start never"), None, "{marks:?}");
    // Outputs and skipped results crossed job boundaries.
    let context = |file: &str| -> Value {
        let json = std::fs::read_to_string(order.with_file_name(file)).expect("a context");
        serde_json::from_str(&json).expect("JSON")
    };
    assert_eq!(context("left-context.json")["version"]["outputs"]["version"], "1.2.3");
    assert_eq!(context("after-lint-context.json")["lint"], Value::Null);

    // gitlab-ci-local never starts a `when: always` job whose stages hold a job that did not
    // run (`never`), where GitLab does: start the merge job by name, as GitLab would have.
    let (code, log) = gitlab_ci_local(&root, &tools, bin_dir, &["milo-report"]);
    assert_eq!(code, 0, "the merge job:\n{log}");
    let artifacts = root.join(".gitlab-ci-local/artifacts/milo-report/target/milo");
    let merged: Value = serde_json::from_str(
        &std::fs::read_to_string(artifacts.join("timeline.json")).expect("a merged timeline"),
    )
    .expect("JSON");
    let statuses: Vec<(&str, &str)> = merged["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .map(|p| (p["name"].as_str().unwrap_or(""), p["status"].as_str().unwrap_or("")))
        .collect();
    assert_eq!(
        statuses,
        [
            ("version", "completed"),
            ("left", "completed"),
            ("right", "completed"),
            ("join", "completed"),
            ("lint", "skipped"),
            ("after-lint", "completed"),
            ("broken", "failed"),
            ("never", "pending"),
        ],
        "{log}"
    );
    assert_eq!(merged["status"], "failed");
    let junit = std::fs::read_to_string(artifacts.join("junit.xml")).expect("a JUnit report");
    assert!(junit.contains("broken for good"), "{junit}");
    assert!(artifacts.join("logs/broken.log").exists(), "the logs travel too");
}
