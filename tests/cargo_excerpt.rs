//! Error excerpts of real `cargo build` / `cargo test` output: crates written here, built by
//! the real cargo (offline, no dependencies from a registry), one target folder for all.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use milo::excerpt::{Excerpt, Limits};

/// One temp folder for the crates and their shared target folder.
fn root() -> &'static Path {
    static ROOT: OnceLock<tempfile::TempDir> = OnceLock::new();
    ROOT.get_or_init(|| {
        tempfile::Builder::new().prefix("milo-excerpt").tempdir().expect("temp dir")
    })
    .path()
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn manifest(name: &str, deps: &str) -> String {
    format!(
        "[package]\nname = \"{name}\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\n{deps}"
    )
}

/// `app`: a type error between warnings — `noisy` (a path dependency, built first) warns
/// about dead code, and `app` itself about unreachable code after its error. Written once.
fn app() -> &'static Path {
    static APP: OnceLock<PathBuf> = OnceLock::new();
    APP.get_or_init(write_app)
}

fn write_app() -> PathBuf {
    let root = root();
    let mut noisy = String::new();
    for i in 1..=12 {
        let _ = writeln!(noisy, "fn unused_{i}() {{}}");
    }
    write(&root.join("noisy/Cargo.toml"), &manifest("noisy", ""));
    write(&root.join("noisy/src/lib.rs"), &noisy);
    write(&root.join("app/Cargo.toml"), &manifest("app", "noisy = { path = \"../noisy\" }\n"));
    let mut main =
        String::from("fn main() {\n    let x: u32 = \"hello\";\n    println!(\"{x}\");\n}\n");
    for i in 0..12 {
        let _ = writeln!(main, "fn after_{i}() -> u32 {{ return 1; {i} }}");
    }
    write(&root.join("app/src/main.rs"), &main);
    root.join("app")
}

/// `suite`: 20 passing tests and one failing.
fn suite() -> &'static Path {
    static SUITE: OnceLock<PathBuf> = OnceLock::new();
    SUITE.get_or_init(write_suite)
}

fn write_suite() -> PathBuf {
    let root = root();
    write(&root.join("suite/Cargo.toml"), &manifest("suite", ""));
    let mut lib = String::from(
        "pub fn add(a: u32, b: u32) -> u32 {\n    a + b\n}\n\n#[cfg(test)]\nmod tests {\n",
    );
    for i in 0..20 {
        let _ = writeln!(
            lib,
            "    #[test]\n    fn passes_{i:02}() {{ assert_eq!(super::add({i}, 1), {i} + 1); }}"
        );
    }
    lib.push_str("    #[test]\n    fn breaks() {\n        assert_eq!(super::add(1, 1), 3, \"one and one\");\n    }\n}\n");
    write(&root.join("suite/src/lib.rs"), &lib);
    root.join("suite")
}

/// Runs cargo in `dir`; returns stdout and stderr, one after the other (as a phase's
/// output interleaves them, roughly).
fn cargo(dir: &Path, args: &[&str]) -> String {
    let out = Command::new(env!("CARGO"))
        .args(args)
        .arg("--offline")
        .current_dir(dir)
        .env("CARGO_TARGET_DIR", root().join("target"))
        .env("CARGO_TERM_COLOR", "never")
        .env_remove("RUSTFLAGS")
        .env_remove("RUST_BACKTRACE")
        .output()
        .expect("run cargo");
    assert!(!out.status.success(), "the fixture is meant to fail");
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

#[test]
fn a_type_error_among_warnings_comes_first_with_its_location() {
    let output = cargo(app(), &["build"]);
    assert!(output.matches("warning:").count() >= 12, "{output}");
    let excerpt = Excerpt::of(output.lines(), Limits::default());
    let errors: Vec<&str> = excerpt.errors.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(errors.first(), Some(&"error[E0308]: mismatched types"), "{output}");
    assert_eq!(errors.get(1), Some(&" --> src/main.rs:2:18"), "{output}");
    assert!(errors.iter().any(|l| l.contains("expected `u32`, found `&str`")), "{errors:#?}");
    assert!(!errors.iter().any(|l| l.starts_with("warning")), "no warning in {errors:#?}");
    assert!(
        !excerpt.tail.iter().any(|l| l.text.contains("E0308]")),
        "the error is far above the tail, which alone would miss it:\n{output}"
    );
    let location = &excerpt.locations[0];
    assert_eq!((location.file.as_str(), location.line, location.column), ("src/main.rs", 2, 18));
    assert_eq!(
        (location.title.as_str(), location.message.as_str()),
        ("error[E0308]", "mismatched types")
    );
    assert_eq!(
        excerpt.locations.len(),
        1,
        "warnings have no error location: {:?}",
        excerpt.locations
    );
}

#[test]
fn a_failing_test_shows_its_name_panic_and_summary_first() {
    let output = cargo(suite(), &["test"]);
    let excerpt = Excerpt::of(output.lines(), Limits { tail: 3, ..Limits::default() });
    let errors: Vec<&str> = excerpt.errors.iter().map(|l| l.text.as_str()).collect();
    assert_eq!(errors.first(), Some(&"test tests::breaks ... FAILED"), "{output}");
    assert!(errors.contains(&"---- tests::breaks stdout ----"), "{errors:#?}");
    assert!(errors.iter().any(|l| l.contains("panicked at src/lib.rs:")), "{errors:#?}");
    assert!(errors.iter().any(|l| l.starts_with("assertion `left == right` failed: one and one")));
    assert!(errors.iter().any(|l| l.starts_with("test result: FAILED. 20 passed; 1 failed")));
    assert!(!errors.iter().any(|l| l.ends_with("... ok")), "{errors:#?}");
    let panic = &excerpt.locations[0];
    assert_eq!((panic.file.as_str(), panic.title.as_str()), ("src/lib.rs", "panic"));
    assert_eq!(panic.message, "assertion `left == right` failed: one and one");
}

/// Runs `cargo-milo ARGS` in `app` with a Milo.toml named `config` whose one phase, `build`,
/// runs the real `cargo build`; `env` is added to its environment.
fn run_build(config: &str, args: &[&str], env: &[(&str, &Path)]) -> std::process::Output {
    let app = app();
    let toml = format!(
        "[pipeline]\nname = \"real\"\n[[pipeline.phase]]\nname = \"build\"\ncmd = \"cargo build --offline\"\n\
         env = {{ CARGO_TARGET_DIR = {target:?}, CARGO_TERM_COLOR = \"never\" }}\n",
        target = root().join("target").display().to_string()
    );
    std::fs::write(app.join(config), toml).expect("write Milo.toml");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cargo-milo"));
    cmd.arg("-f").arg(config).args(args).current_dir(app).env_remove("RUSTFLAGS");
    for key in ["GITHUB_ACTIONS", "GITLAB_CI", "GITHUB_STEP_SUMMARY", "GITHUB_OUTPUT"] {
        cmd.env_remove(key);
    }
    cmd.envs(env.iter().copied());
    cmd.output().expect("run cargo-milo")
}

#[test]
fn a_cargo_build_phase_reports_its_error_first() {
    let args = ["-q", "run", "--timeline", "milo/tl.json", "--report", "junit=milo/junit.xml"];
    let out = run_build("Milo.toml", &args, &[]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    let block = stderr.find("--- build failed: exit code 101 (errors first").expect(&stderr);
    assert!(
        stderr[block..].contains(") ---\nerror[E0308]: mismatched types\n --> src/main.rs:2:18\n"),
        "{stderr}"
    );
    let junit = std::fs::read_to_string(app().join("milo/junit.xml")).expect("junit");
    let doc = roxmltree::Document::parse(&junit).expect("XML");
    let failure = doc.descendants().find(|n| n.has_tag_name("failure")).expect("a failure");
    assert_eq!(failure.attribute("message"), Some("exit code 101: error[E0308]: mismatched types"));
}

#[test]
fn on_github_a_real_compiler_error_is_annotated_on_its_source_line() {
    // Its own Milo.toml: the other test writes `app/Milo.toml` at the same time. The
    // repository is the folder above the crate: paths are relative to it.
    let out = run_build(
        "Milo.github.toml",
        &["run", "--timeline", "milo-github/tl.json"],
        &[("GITHUB_ACTIONS", Path::new("true")), ("GITHUB_WORKSPACE", root())],
    );
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    let annotations: Vec<&str> = stdout.lines().filter(|l| l.starts_with("::error ")).collect();
    assert!(
        annotations.contains(
            &"::error file=app/src/main.rs,line=2,col=18,title=error[E0308]::mismatched types"
        ),
        "{stdout}"
    );
    let phase = annotations.iter().find(|a| a.starts_with("::error title=build failed::"));
    let phase = phase.expect(&stdout);
    assert!(
        phase.contains("%0Aerror[E0308]: mismatched types%0A --> src/main.rs:2:18%0A"),
        "{phase}"
    );
    let located: Vec<&&str> =
        annotations.iter().filter(|a| a.starts_with("::error file=")).collect();
    assert_eq!(located.len(), 1, "the warnings are not annotated: {located:#?}");
}
