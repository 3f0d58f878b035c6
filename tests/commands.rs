//! `check`, `order`, `list`, `graph` and `init` on valid files.

use insta::assert_snapshot;

use crate::support::Test;

/// The reference's diamond: discover → parse → {render, assets} → write.
pub const DIAMOND: &str = r#"
[pipeline]
name = "site"

[[pipeline.phase]]
name = "discover"
description = "Find the pages"
cmd = "echo discover"

[[pipeline.phase]]
name = "parse"
description = "Parse them"
cmd = "echo parse"
depends_on = ["discover"]

[[pipeline.phase]]
name = "render"
cmd = "echo render"
depends_on = ["parse"]
parallel = true
weight = 5

[[pipeline.phase]]
name = "assets"
args = ["echo", "assets"]
depends_on = ["parse"]
parallel = true

[[pipeline.phase]]
name = "write"
cmd = "echo write"
depends_on = ["render", "assets"]
"#;

#[test]
fn order_on_the_diamond() {
    let out = Test::new().milo_toml(DIAMOND).arg("order").run();
    out.success();
    assert_eq!(out.stdout, "discover\nparse\nassets\nrender\nwrite\n");
}

#[test]
fn order_as_a_cargo_subcommand() {
    // `cargo milo order` runs `cargo-milo milo order`.
    let out = Test::new().milo_toml(DIAMOND).args(["milo", "order"]).run();
    out.success();
    assert_eq!(out.stdout, "discover\nparse\nassets\nrender\nwrite\n");
}

#[test]
fn check_prints_a_summary() {
    let out = Test::new().milo_toml(DIAMOND).arg("check").run();
    out.success();
    assert_eq!(out.stdout, "Milo.toml: 5 phases, 5 dependencies, ok\n");
    assert_eq!(out.stderr, "");
}

#[test]
fn check_quiet_prints_nothing() {
    let out = Test::new().milo_toml(DIAMOND).args(["check", "-q"]).run();
    out.success();
    assert_eq!(out.stdout, "");
}

#[test]
fn list_shows_every_phase() {
    let out = Test::new().milo_toml(DIAMOND).arg("list").run();
    out.success();
    assert_snapshot!(out.stdout);
}

#[test]
fn graph_dot() {
    let out = Test::new().milo_toml(DIAMOND).arg("graph").run();
    out.success();
    assert!(out.stdout.contains("\"parse\" -> \"render\";"), "{}", out.stdout);
    assert_snapshot!(out.stdout);
}

#[test]
fn graph_mermaid() {
    let out = Test::new().milo_toml(DIAMOND).args(["graph", "--format", "mermaid"]).run();
    out.success();
    assert!(out.stdout.contains("flowchart LR"), "{}", out.stdout);
    assert_snapshot!(out.stdout);
}

#[test]
fn init_writes_the_rust_ci_template_that_checks() {
    let out = Test::new().arg("init").run();
    out.success();
    let text = out.read("Milo.toml");
    assert!(text.contains("cargo clippy"), "{text}");
    let check = Test::new().milo_toml(&text).arg("order").run();
    check.success();
    assert_eq!(check.stdout, "clippy\nfmt\ndoc\ntest\n");
}

#[test]
fn init_minimal_to_another_path() {
    let out = Test::new()
        .args(["init", "--template", "minimal", "-f", "ci/Milo.toml"])
        .folder("ci")
        .run();
    out.success();
    assert!(out.read("ci/Milo.toml").contains("cargo test"));
    assert!(!out.exists("Milo.toml"));
}

#[test]
fn init_refuses_to_overwrite() {
    let out = Test::new().milo_toml(DIAMOND).arg("init").run();
    out.code(2);
    assert_eq!(out.read("Milo.toml"), DIAMOND, "the file is untouched");
    assert_snapshot!(out.stderr_exact());
}

#[test]
fn init_unknown_template() {
    let out = Test::new().args(["init", "-t", "rust"]).run();
    out.code(2);
    assert!(!out.exists("Milo.toml"));
    assert_snapshot!(out.stderr_exact());
}

#[test]
fn help_and_version_succeed_and_bad_arguments_are_usage_errors() {
    let help = Test::new().arg("--help").run();
    help.success();
    assert!(help.stdout.contains("Usage: cargo milo"), "{}", help.stdout);
    let version = Test::new().arg("--version").run();
    version.success();
    assert!(version.stdout.starts_with("cargo-milo "), "{}", version.stdout);
    let bad = Test::new().args(["run", "--jobs", "many"]).run();
    bad.code(2);
    assert!(
        bad.stderr.starts_with("error: invalid value 'many' for '--jobs <N>'"),
        "{}",
        bad.stderr
    );
    assert!(bad.stderr.ends_with("For more information, try '--help'.\n"), "{:?}", bad.stderr);
    assert!(!bad.stderr.contains('\x1b'), "{:?}", bad.stderr);
    // The flags did not parse, so the environment decides the colour.
    let styled =
        Test::new().args(["run", "--jobs", "many"]).env("CARGO_TERM_COLOR", "always").run();
    styled.code(2);
    assert!(styled.stderr.contains("\x1b["), "{:?}", styled.stderr);
}

#[test]
fn the_example_file_is_valid() {
    let example = include_str!("../Milo.toml.example");
    let out = Test::new()
        .file("Milo.toml.example", example)
        .args(["-f", "Milo.toml.example", "check"])
        .run();
    out.success();
    assert!(out.stdout.starts_with("Milo.toml.example: "), "{}", out.stdout);
}
