//! Per-package phases over a real Cargo workspace built in a temp folder: instances, `^`
//! edges, placeholders and package variables, targets, and the bad inputs, through the
//! real binary and `cargo metadata`.

use serde_json::Value;

use crate::run_support::{lines, phase};
use crate::support::{Output, Test};

/// A member's Cargo.toml.
fn package(name: &str, deps: &str) -> String {
    format!("[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n{deps}")
}

/// A real workspace: `core` ← `mid` ← `app` (app depends on mid renamed `middle`), and
/// `tool`, which only dev-depends on `core`; `milo` is its Milo.toml at the root. Cargo runs
/// through the spy ([`Test::cargo_spy`]).
pub fn workspace(milo: &str) -> Test {
    let mut test = Test::new()
        .file(
            "Cargo.toml",
            "[workspace]\nmembers = [\"core\", \"mid\", \"app\", \"tool\"]\nresolver = \"2\"\n",
        )
        .file("core/Cargo.toml", &package("core", ""))
        .file("mid/Cargo.toml", &package("mid", "[dependencies]\ncore = { path = \"../core\" }\n"))
        .file(
            "app/Cargo.toml",
            &package("app", "[dependencies]\nmiddle = { path = \"../mid\", package = \"mid\" }\n"),
        )
        .file(
            "tool/Cargo.toml",
            &package("tool", "[dev-dependencies]\ncore = { path = \"../core\" }\n"),
        )
        .milo_toml(milo);
    for member in ["core", "mid", "app", "tool"] {
        test = test.file(format!("{member}/src/lib.rs"), "");
    }
    test.cargo_spy()
}

/// `build` after `^build`, `test` after its package's `build`, `lint` once.
pub const PIPELINE: &str = r#"
[pipeline]
name = "ws"
jobs = 2

[[pipeline.phase]]
name = "lint"
cmd = "echo lint"

[[pipeline.phase]]
name = "build"
packages = "workspace"
cmd = "echo build {package}"
depends_on = ["^build"]
parallel = true

[[pipeline.phase]]
name = "test"
packages = "workspace"
cmd = "echo \"$MILO_PHASE $MILO_PACKAGE $MILO_PACKAGE_DIR {package_dir}\""
depends_on = ["build", "lint"]
parallel = true
"#;

#[test]
fn instances_in_dependency_order() {
    let out = workspace(PIPELINE).arg("order").run();
    out.success();
    assert_eq!(
        out.stdout(),
        "build:core\nbuild:tool\nlint\nbuild:mid\ntest:core\ntest:tool\nbuild:app\ntest:mid\ntest:app\n"
    );
    assert_eq!(out.cargo_runs(), 1, "one `cargo metadata` per command");
}

#[test]
fn caret_edges_follow_normal_dependencies_through_renames() {
    let out = workspace(PIPELINE).arg("list").run();
    out.success();
    let stdout = out.stdout();
    let deps = |name: &str| {
        let row = stdout.lines().find(|l| l.starts_with(&format!("{name} "))).expect("a row");
        row.split_whitespace().skip(3).collect::<Vec<_>>().join(" ")
    };
    assert_eq!(deps("build:app"), "build:mid");
    assert_eq!(deps("build:mid"), "build:core");
    // tool only dev-depends on core.
    assert_eq!(deps("build:tool"), "-");
    assert_eq!(deps("test:app"), "build:app, lint");
}

fn timeline(out: &Output) -> Value {
    serde_json::from_str(&out.read("target/milo/timeline.json")).expect("the timeline is JSON")
}

#[test]
fn run_of_a_phase_runs_every_instance_with_its_package() {
    let out = workspace(PIPELINE).args(["run", "test", "--progress", "never"]).run();
    out.success();
    let tl = timeline(&out);
    assert_eq!(tl["phases"].as_array().map(Vec::len), Some(9));
    let root = out.root.display().to_string();
    assert_eq!(lines(&tl, "test:mid"), [format!("test:mid mid {root}/mid {root}/mid")]);
    assert_eq!(lines(&tl, "build:app"), ["build app"]);
    let entry = phase(&tl, "test:mid");
    assert_eq!((&entry["phase"], &entry["package"]), (&Value::from("test"), &Value::from("mid")));
    assert_eq!(phase(&tl, "lint").get("package"), None);
    assert!(out.exists("target/milo/logs/test:mid.log"));
}

#[test]
fn run_of_one_instance_runs_it_and_its_dependencies() {
    let out = workspace(PIPELINE).args(["run", "test:mid", "--dry-run"]).run();
    out.success();
    insta::assert_snapshot!(out.stdout(), @r#"
    plan for `ws`: 4 phases, jobs 2, fail-fast off
    step 1:
      build:core  parallel  echo build core
      lint        alone     echo lint
    step 2:
      build:mid   parallel  echo build mid  (after build:core)
    step 3:
      test:mid    parallel  echo "$MILO_PHASE $MILO_PACKAGE $MILO_PACKAGE_DIR [ROOT]/mid"  (after build:mid, lint)
    "#);
}

#[test]
fn found_from_inside_a_member() {
    let out = workspace(PIPELINE).cwd("mid/src").arg("check").run();
    out.success();
    assert_eq!(out.stdout(), "[ROOT]/Milo.toml: 9 phases, 10 dependencies, ok\n");
}

#[test]
fn an_unknown_package_is_located_with_a_suggestion() {
    let milo = "[[pipeline.phase]]\nname = \"t\"\ncmd = \"x\"\npackages = [\"cor\"]\n";
    let out = workspace(milo).arg("check").run();
    out.code(2);
    let stderr = out.stderr();
    assert!(stderr.contains("error: no package named `cor` in the workspace"), "{stderr}");
    assert!(stderr.contains("--> Milo.toml:4:13"), "{stderr}");
    assert!(stderr.contains("help: did you mean `core`?"), "{stderr}");
}

#[test]
fn packages_outside_a_cargo_workspace_are_located() {
    let milo = "[[pipeline.phase]]\nname = \"t\"\ncmd = \"x\"\npackages = \"workspace\"\n";
    let out = Test::new().milo_toml(milo).cargo_spy().arg("check").run();
    out.code(2);
    let stderr = out.stderr();
    assert!(
        stderr.contains("error: phase `t` has `packages`, outside a Cargo workspace"),
        "{stderr}"
    );
    assert!(stderr.contains("--> Milo.toml:4:12"), "{stderr}");
    assert_eq!(out.cargo_runs(), 0);
}

#[test]
fn a_broken_member_manifest_shows_cargos_message() {
    let out =
        workspace(PIPELINE).file("mid/Cargo.toml", "[package]\nname = 3\n").arg("order").run();
    out.code(2);
    let stderr = out.stderr();
    assert!(stderr.contains("mid/Cargo.toml"), "cargo names the file: {stderr}");
    assert!(out.stdout.is_empty(), "{}", out.stdout);
}

#[test]
fn per_package_phases_without_cargo_say_so() {
    let out = workspace(PIPELINE).env("CARGO", "/no/such/cargo").arg("order").run();
    out.code(2);
    let stderr = out.stderr();
    assert!(
        stderr.contains("per-package phases need `cargo metadata`, and cargo could not run"),
        "{stderr}"
    );
    assert!(stderr.contains("help: install Rust with rustup, or set CARGO"), "{stderr}");
}

#[test]
fn verbose_says_cargo_was_asked_once() {
    let out = workspace(PIPELINE).args(["check", "-v"]).run();
    out.success();
    assert!(
        out.stdout().contains("  workspace: [ROOT]: 4 members, from `cargo metadata`\n"),
        "{}",
        out.stdout()
    );
    // The target dir came with the members: no second run.
    assert_eq!(out.cargo_runs(), 1);
}

#[test]
fn the_workspace_template_expands_over_the_members() {
    const TEMPLATE: &str = include_str!("../templates/workspace.toml");
    let test = workspace(PIPELINE);
    std::fs::remove_file(test.root().join("Milo.toml")).expect("remove Milo.toml");
    let out = test.args(["init", "--template", "workspace"]).run();
    out.success();
    assert_eq!(out.read("Milo.toml"), TEMPLATE);
    let out = workspace(TEMPLATE).args(["run", "--dry-run", "-j", "2"]).run();
    out.success();
    let stdout = out.stdout();
    assert!(stdout.contains("  clippy:mid   parallel  cargo clippy -p mid --all-targets -- -D warnings  (after clippy:core)\n"), "{stdout}");
    assert!(
        stdout.contains("  test:app     parallel  cargo test -p app  (after clippy:app, fmt)\n"),
        "{stdout}"
    );
}
