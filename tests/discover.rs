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
        assert_eq!(loaded.timeline, root.join("out/t.json"));
        let phase = loaded.pipeline.get("a").expect("phase a");
        assert_eq!(phase.cwd.as_deref(), Some(root.join("crates/a").as_path()));
        assert_eq!(loaded.pipeline.settings().dir.as_deref(), Some(root));
    }
}

/// `check -v` with a clean environment: no cargo variables, HOME in the temp folder.
fn timeline_of(test: Test) -> String {
    let root = test.root();
    let out = test
        .env("HOME", root.join("home"))
        .env_remove("CARGO_HOME")
        .env_remove("CARGO_BUILD_TARGET_DIR")
        .args(["check", "-v"])
        .run();
    out.success();
    let stdout = out.stdout();
    let line = stdout.lines().find(|l| l.trim_start().starts_with("timeline:"));
    line.expect("check -v prints the timeline").trim_start()["timeline:".len()..].trim().to_owned()
}

#[test]
fn default_timeline_is_in_the_workspace_target_dir() {
    let test = Test::new()
        .file("Cargo.toml", "[workspace]\nmembers = [\"app\"]\n")
        .file("app/Cargo.toml", "[package]\nname = \"app\"\n")
        .file("app/Milo.toml", ONE)
        .cwd("app");
    assert_eq!(timeline_of(test), "[ROOT]/target/milo/timeline.json");
}

#[test]
fn default_timeline_outside_cargo_is_beside_the_file() {
    let test = Test::new().file("x/Milo.toml", ONE).cwd("x");
    assert_eq!(timeline_of(test), "[ROOT]/x/target/milo/timeline.json");
}

#[test]
fn cargo_target_dir_moves_the_default_timeline() {
    let test = Test::new().milo_toml(ONE).env("CARGO_TARGET_DIR", "build/out");
    assert_eq!(timeline_of(test), "[ROOT]/build/out/milo/timeline.json");
}

#[test]
fn cargo_config_target_dir_moves_the_default_timeline() {
    let test = Test::new()
        .file("Cargo.toml", "[package]\nname = \"p\"\n")
        .file(".cargo/config.toml", "[build]\ntarget-dir = \"tgt\"\n")
        .milo_toml(ONE);
    assert_eq!(timeline_of(test), "[ROOT]/tgt/milo/timeline.json");
}

#[test]
fn timeline_in_the_file_wins_and_is_relative_to_it() {
    let test = Test::new()
        .file("ci/Milo.toml", &format!("[pipeline]\ntimeline = \"out/t.json\"\n{ONE}"))
        .env("CARGO_TARGET_DIR", "elsewhere")
        .arg("-f")
        .arg("ci/Milo.toml");
    assert_eq!(timeline_of(test), "[ROOT]/ci/out/t.json");
}
