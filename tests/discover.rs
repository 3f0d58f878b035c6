//! Finding Milo.toml: current folder, ancestors up to the workspace root, `-f`,
//! `--manifest-path`; relative paths and the default timeline location.

use crate::support::Test;

const ONE: &str = "[[pipeline.phase]]\nname = \"one\"\ncmd = \"true\"\n";

#[test]
fn found_in_an_ancestor_inside_the_workspace() {
    let out = Test::new()
        .file("Cargo.toml", "[workspace]\n")
        .milo_toml(ONE)
        .folder("crates/app/src")
        .file("crates/app/Cargo.toml", "[package]\nname = \"app\"\n")
        .cwd("crates/app/src")
        .arg("check")
        .run();
    out.success();
    assert_eq!(out.stdout(), "[ROOT]/Milo.toml: 1 phase, 0 dependencies, ok\n");
}

#[test]
fn not_searched_above_the_workspace_root() {
    let out = Test::new()
        .milo_toml(ONE)
        .file("project/Cargo.toml", "[package]\nname = \"p\"\n")
        .cwd("project")
        .arg("check")
        .run();
    out.code(2);
    assert!(out.stderr().contains("could not find `Milo.toml`"), "{}", out.stderr());
    assert!(out.stderr().contains("cargo milo init"), "{}", out.stderr());
}

#[test]
fn config_flag_reads_that_file() {
    let out =
        Test::new().file("ci/pipeline.toml", ONE).args(["-f", "ci/pipeline.toml", "order"]).run();
    out.success();
    assert_eq!(out.stdout, "one\n");
}

#[test]
fn missing_config_file_is_a_usage_error() {
    let out = Test::new().args(["--config", "nope.toml", "check"]).run();
    out.code(2);
    assert!(out.stderr.contains("`nope.toml` does not exist"), "{}", out.stderr);
}

#[test]
fn manifest_path_searches_from_its_folder() {
    let out = Test::new()
        .file("app/Cargo.toml", "[package]\nname = \"app\"\n")
        .file("app/Milo.toml", ONE)
        .args(["--manifest-path", "app/Cargo.toml", "order"])
        .run();
    out.success();
    assert_eq!(out.stdout, "one\n");
}

#[test]
fn default_pipeline_name_is_the_folder_name() {
    // `graph` shows the pipeline name.
    let out = Test::new().file("my-proj/Milo.toml", ONE).cwd("my-proj").arg("graph").run();
    out.success();
    assert!(out.stdout.starts_with("digraph \"my-proj\" {"), "{}", out.stdout);
}

mod library {
    //! Path resolution through `milo::load::load`, where the result can be inspected.

    use std::path::Path;

    use milo::load::{LoadOptions, load};

    fn write(root: &Path, path: &str, text: &str) {
        let path = root.join(path);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(path, text).expect("write");
    }

    fn options(cwd: &Path) -> LoadOptions {
        LoadOptions { cwd: cwd.to_path_buf(), ..LoadOptions::default() }
    }

    #[test]
    fn relative_paths_resolve_against_the_file_folder() {
        let tmp = tempfile::tempdir().expect("tempdir");
        let root = tmp.path();
        write(
            root,
            "Milo.toml",
            "[pipeline]\ntimeline = \"out/t.json\"\n[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\ncwd = \"crates/a\"\n",
        );
        std::fs::create_dir_all(root.join("deep/er")).expect("mkdir");
        let loaded = load(&options(&root.join("deep/er"))).expect("loads");
        assert_eq!(loaded.path, root.join("Milo.toml"));
        assert_eq!(loaded.timeline().expect("timeline"), root.join("out/t.json"));
        let phase = loaded.pipeline.get("a").expect("phase a");
        assert_eq!(phase.cwd.as_deref(), Some(root.join("crates/a").as_path()));
        assert_eq!(loaded.pipeline.settings().dir.as_deref(), Some(root));
    }
}

/// A package cargo accepts (`cargo metadata` needs a target).
const PACKAGE: &str = "[package]\nname = \"p\"\nversion = \"0.1.0\"\nedition = \"2021\"\n";

/// `check -v` with no inherited cargo variables or configuration: the timeline line (path
/// and where it came from) and how many times cargo ran.
fn timeline_of(test: Test) -> (String, usize) {
    let out = test.cargo_spy().args(["check", "-v"]).run();
    out.success();
    let stdout = out.stdout();
    let line = stdout.lines().find(|l| l.trim_start().starts_with("timeline:"));
    let line = line.expect("check -v prints the timeline").trim_start()["timeline:".len()..].trim();
    (line.to_owned(), out.cargo_runs())
}

const DEFAULT: &str = "(the workspace's target dir: no Cargo config file moves it)";

#[test]
fn default_timeline_is_in_the_workspace_target_dir() {
    let test = Test::new()
        .file("Cargo.toml", "[workspace]\nmembers = [\"app\"]\n")
        .file("app/Cargo.toml", "[package]\nname = \"app\"\n")
        .file("app/Milo.toml", ONE)
        .cwd("app");
    assert_eq!(timeline_of(test), (format!("[ROOT]/target/milo/timeline.json {DEFAULT}"), 0));
}

#[test]
fn a_workspace_header_with_a_comment_is_still_the_root() {
    let test = Test::new()
        .file("Cargo.toml", "[workspace]  # every crate below\nmembers = [\"crates/app\"]\n")
        .file("crates/app/Cargo.toml", "[package]\nname = \"app\"\n")
        .file("crates/app/Milo.toml", ONE)
        .cwd("crates/app");
    // Missed, the member would be taken for the root and own the timeline.
    assert_eq!(timeline_of(test), (format!("[ROOT]/target/milo/timeline.json {DEFAULT}"), 0));
}

#[test]
fn a_member_pointing_up_to_its_workspace_is_not_the_root() {
    let test = Test::new()
        .file("Cargo.toml", "[workspace]\nmembers = [\"crates/m\"]\n")
        .file("crates/m/Cargo.toml", "[package]\nname = \"m\"\nworkspace = \"../..\"\n")
        .milo_toml(ONE)
        .cwd("crates/m");
    // Taken for the root, the member would hide the root's Milo.toml and own the timeline.
    assert_eq!(timeline_of(test), (format!("[ROOT]/target/milo/timeline.json {DEFAULT}"), 0));
}

#[test]
fn default_timeline_outside_cargo_is_beside_the_file() {
    let test = Test::new().file("x/Milo.toml", ONE).cwd("x");
    let expected =
        "[ROOT]/x/target/milo/timeline.json (no Cargo.toml above Milo.toml: target/ beside it)";
    assert_eq!(timeline_of(test), (expected.to_owned(), 0));
}

#[test]
fn cargo_target_dir_moves_the_default_timeline_without_asking_cargo() {
    let test = Test::new()
        .file("Cargo.toml", PACKAGE)
        .file(".cargo/config.toml", "[build]\ntarget-dir = \"tgt\"\n")
        .milo_toml(ONE)
        .env("CARGO_TARGET_DIR", "build/out");
    let expected = "[ROOT]/build/out/milo/timeline.json (target dir from CARGO_TARGET_DIR)";
    assert_eq!(timeline_of(test), (expected.to_owned(), 0));
}

#[test]
fn cargo_config_target_dir_is_asked_of_cargo() {
    let test = Test::new()
        .file("Cargo.toml", PACKAGE)
        .file("src/lib.rs", "")
        .file(".cargo/config.toml", "[build]\ntarget-dir = \"tgt\"\n")
        .milo_toml(ONE);
    let expected = "[ROOT]/tgt/milo/timeline.json (target dir from `cargo metadata`)";
    assert_eq!(timeline_of(test), (expected.to_owned(), 1));
}

#[test]
fn a_cargo_config_that_cannot_move_the_target_dir_costs_no_cargo_run() {
    let test = Test::new()
        .file("Cargo.toml", PACKAGE)
        .file(".cargo/config.toml", "[net]\nretry = 3\n")
        .milo_toml(ONE);
    assert_eq!(timeline_of(test), (format!("[ROOT]/target/milo/timeline.json {DEFAULT}"), 0));
}

#[test]
fn inspecting_a_pipeline_runs_no_cargo() {
    for args in [&["order"][..], &["list"], &["graph"], &["check"], &["run", "--dry-run"]] {
        let out = Test::new()
            .file("Cargo.toml", PACKAGE)
            .file("src/lib.rs", "")
            .file(".cargo/config.toml", "[build]\ntarget-dir = \"tgt\"\n")
            .milo_toml(ONE)
            .cargo_spy()
            .args(args)
            .run();
        out.success();
        assert_eq!(out.cargo_runs(), 0, "{args:?}");
    }
}

#[test]
fn a_run_whose_target_dir_is_certain_runs_no_cargo() {
    let out = Test::new()
        .file("Cargo.toml", PACKAGE)
        .milo_toml(ONE)
        .cargo_spy()
        .args(["run", "-v", "--progress", "never"])
        .run();
    out.success();
    assert_eq!(out.cargo_runs(), 0);
    assert!(out.exists("target/milo/timeline.json"));
    assert!(
        out.stderr()
            .contains(&format!("note: timeline `[ROOT]/target/milo/timeline.json` {DEFAULT}")),
        "{}",
        out.stderr()
    );
}

#[test]
fn without_cargo_the_timeline_goes_beside_milo_toml() {
    let test = Test::new()
        .file("Cargo.toml", PACKAGE)
        .file(".cargo/config.toml", "[build]\ntarget-dir = \"tgt\"\n")
        .milo_toml(ONE);
    let out = test.cargo_spy().env("CARGO", "/no/such/cargo").args(["check", "-v"]).run();
    out.success();
    assert!(
        out.stdout().contains("timeline:  [ROOT]/target/milo/timeline.json (cargo could not run ("),
        "{}",
        out.stdout()
    );
}

#[test]
fn a_broken_cargo_toml_shows_cargos_own_message() {
    let out = Test::new()
        .file("Cargo.toml", "[package\nname = \"p\"\n")
        .file(".cargo/config.toml", "[build]\ntarget-dir = \"tgt\"\n")
        .milo_toml(ONE)
        .cargo_spy()
        .args(["check", "-v"])
        .run();
    out.code(2);
    let stderr = out.stderr();
    assert!(stderr.starts_with("error: "), "{stderr}");
    assert!(stderr.contains("Cargo.toml"), "{stderr}");
    assert!(stderr.contains("--> Cargo.toml:1:"), "cargo's own located message: {stderr}");
}

#[test]
fn timeline_in_the_file_wins_and_is_relative_to_it() {
    let test = Test::new()
        .file("ci/Milo.toml", &format!("[pipeline]\ntimeline = \"out/t.json\"\n{ONE}"))
        .env("CARGO_TARGET_DIR", "elsewhere")
        .arg("-f")
        .arg("ci/Milo.toml");
    let expected = "[ROOT]/ci/out/t.json (`timeline` in Milo.toml)";
    assert_eq!(timeline_of(test), (expected.to_owned(), 0));
}
