//! `run --affected REV` in a real workspace with a git repository made by the test: which
//! instances run, why (the plan and the timeline), and every way the revision can be wrong.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::support::{Output, Test};
use crate::workspace::{PIPELINE, workspace};

/// Runs git in `dir` with no user or system configuration; fails loudly without git.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap_or_else(|e| panic!("these tests need git ({e}): `apt-get install -y git`"));
    assert!(out.status.success(), "git {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn write(root: &Path, path: &str, text: &str) {
    let path = root.join(path);
    std::fs::create_dir_all(path.parent().expect("a parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

/// The workspace committed on `main`, then a branch `feature` checked out.
fn repository() -> Test {
    let test = workspace(PIPELINE)
        .file(".gitignore", "/target/\n/.cargo-spy/\n")
        .file("README.md", "# ws\n")
        .file("Cargo.lock", "# a lock file\nversion = 4\n");
    let root = test.root();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["config", "user.name", "Milo Test"]);
    git(&root, &["config", "user.email", "milo@example.com"]);
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "base"]);
    git(&root, &["checkout", "-q", "-b", "feature"]);
    test
}

/// Commits `path` with new `text` on the current branch.
fn commit(root: &Path, path: &str, text: &str) {
    write(root, path, text);
    git(root, &["add", "-A"]);
    git(root, &["commit", "-q", "-m", &format!("change {path}")]);
}

fn run_affected(test: Test, rev: &str) -> Output {
    let out = test.args(["run", "--affected", rev, "--progress", "never"]).run();
    out.success();
    out
}

/// The phases the run ran (completed), in timeline order.
fn ran(out: &Output) -> Vec<String> {
    let tl = timeline(out);
    let phases = tl["phases"].as_array().expect("phases").iter();
    let done = phases.filter(|p| p["status"] == "completed");
    done.map(|p| p["name"].as_str().expect("name").to_owned()).collect()
}

fn timeline(out: &Output) -> Value {
    serde_json::from_str(&out.read("target/milo/timeline.json")).expect("the timeline is JSON")
}

#[test]
fn a_change_in_mid_runs_mid_and_app_only() {
    let test = repository();
    commit(&test.root(), "mid/src/lib.rs", "pub fn changed() {}\n");
    let out = run_affected(test, "main");
    assert_eq!(ran(&out), ["lint", "build:mid", "build:app", "test:mid", "test:app"]);
    let affected = &timeline(&out)["affected"];
    assert_eq!(affected["base"], "main");
    assert_eq!(affected["merge_base"].as_str().map(str::len), Some(40));
    assert_eq!(
        affected["packages"],
        serde_json::json!([
            { "name": "mid", "reason": "1 file changed" },
            { "name": "app", "reason": "depends on mid" },
        ])
    );
}

#[test]
fn the_plan_says_why() {
    let test = repository();
    let root = test.root();
    commit(&root, "mid/src/lib.rs", "pub fn changed() {}\n");
    // Uncommitted and untracked files count too.
    write(&root, "mid/src/new.rs", "");
    write(&root, "notes.txt", "");
    let out = test.args(["run", "--affected", "main", "--dry-run"]).run();
    out.success();
    let stdout = out.stdout();
    let mut lines = stdout.lines();
    let header = lines.next().expect("a header");
    assert!(header.starts_with("affected since `main` (merge base "), "{stdout}");
    assert!(header.ends_with("): 2 of 4 packages; 1 changed file in no package"), "{stdout}");
    assert_eq!(lines.next(), Some("  mid  2 files changed"));
    assert_eq!(lines.next(), Some("  app  depends on mid"));
    assert!(!stdout.contains("build:core"), "{stdout}");
}

#[test]
fn a_dev_dependency_change_reruns_its_dependents_tests() {
    let test = repository();
    write(&test.root(), "core/src/lib.rs", "pub fn uncommitted() {}\n");
    let out = run_affected(test, "main");
    let ran = ran(&out);
    assert_eq!(ran.len(), 9, "{ran:?}");
    assert!(ran.contains(&"test:tool".to_owned()), "tool dev-depends on core: {ran:?}");
}

#[test]
fn a_lock_file_change_runs_everything() {
    let test = repository();
    commit(&test.root(), "Cargo.lock", "# a lock file\nversion = 4\n# changed\n");
    let out = run_affected(test, "main");
    assert_eq!(ran(&out).len(), 9);
    let affected = &timeline(&out)["affected"]["packages"];
    assert_eq!(affected[0]["reason"], "Cargo.lock changed (workspace-wide)");
}

#[test]
fn an_affected_global_glob_runs_everything() {
    let milo = PIPELINE.replacen("jobs = 2\n", "jobs = 2\naffected_global = [\"ci/*.yml\"]\n", 1);
    let test = repository().milo_toml(&milo);
    let root = test.root();
    git(&root, &["commit", "-q", "-am", "globs"]);
    git(&root, &["branch", "-f", "main"]);
    commit(&root, "ci/release.yml", "on: push\n");
    assert_eq!(ran(&run_affected(test, "main")).len(), 9);
}

#[test]
fn a_readme_change_runs_no_instance() {
    let test = repository();
    commit(&test.root(), "README.md", "# ws, documented\n");
    let out = run_affected(test, "main");
    assert_eq!(ran(&out), ["lint"]);
    assert_eq!(timeline(&out)["affected"]["packages"], serde_json::json!([]));
}

#[test]
fn a_revision_that_does_not_resolve_is_an_error() {
    let out = repository().args(["run", "--affected", "mian"]).run();
    out.code(2);
    let stderr = out.stderr();
    assert!(stderr.contains("error: `mian` does not name a commit here"), "{stderr}");
    assert!(stderr.contains("git fetch origin mian"), "{stderr}");
    assert!(!out.exists("target/milo/timeline.json"), "nothing ran");
}

#[test]
fn outside_git_is_an_error() {
    let out = workspace(PIPELINE).args(["run", "--affected", "main"]).run();
    out.code(2);
    let stderr = out.stderr();
    assert!(stderr.contains("needs a git repository"), "{stderr}");
    assert!(stderr.contains("help: run it in a git checkout"), "{stderr}");
}

#[test]
fn a_shallow_clone_without_the_base_says_how_to_fetch_it() {
    let origin = repository();
    let origin_root = origin.root();
    commit(&origin_root, "mid/src/lib.rs", "pub fn changed() {}\n");
    git(&origin_root, &["checkout", "-q", "main"]);
    commit(&origin_root, "core/src/lib.rs", "pub fn on_main() {}\n");
    let clone = Test::new();
    let url = format!("file://{}", origin_root.display());
    git(
        &clone.root(),
        &["clone", "-q", "--depth", "1", "--no-single-branch", "-b", "feature", &url, "ws"],
    );
    let out = clone.cwd("ws").cargo_spy().args(["run", "--affected", "origin/main"]).run();
    out.code(2);
    let stderr = out.stderr();
    assert!(stderr.contains("this is a shallow clone without its history"), "{stderr}");
    assert!(stderr.contains("git fetch --unshallow"), "{stderr}");
    assert!(stderr.contains("--deepen"), "{stderr}");
}
