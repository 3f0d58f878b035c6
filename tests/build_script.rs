//! `milo::build_script` from a real crate's build.rs (tests/fixtures/buildrs), built by cargo
//! with the library as a build-dependency without default features.
//!
//! The other tests that run nested cargo builds share this binary: `cargo_excerpt`, error
//! excerpts of real `cargo build` / `cargo test` output.

mod cargo_excerpt;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A copy of the fixture crate in a temp folder, depending on this repo by absolute path.
struct Fixture {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Fixture {
    /// `variant` names the copy's package: cargo keys a workspace member's artifacts by its
    /// name, not its folder, so copies built into one target folder must be named apart.
    fn new(variant: &str) -> Self {
        let dir = tempfile::Builder::new().prefix("milo-buildrs").tempdir().expect("temp dir");
        let root = dir.path().to_path_buf();
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/buildrs");
        for file in
            ["build.rs", "Milo.toml", "src/main.rs", "schema/greeting.txt", "schema/README.md"]
        {
            let to = root.join(file);
            std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
            std::fs::copy(src.join(file), &to).expect("copy fixture file");
        }
        let manifest = std::fs::read_to_string(src.join("Cargo.toml")).expect("read manifest");
        let repo = env!("CARGO_MANIFEST_DIR").replace('\\', "/");
        let manifest =
            manifest.replace("path = \"../../..\"", &format!("path = {repo:?}")).replace(
                "name = \"milo-buildrs-fixture\"",
                &format!("name = \"milo-buildrs-{variant}\""),
            );
        std::fs::write(root.join("Cargo.toml"), manifest).expect("write manifest");
        Self { _dir: dir, root }
    }

    /// `cargo build -vv`, sharing one target folder across tests so the library builds once.
    fn build(&self) -> Output {
        let target = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/buildrs-fixture");
        Command::new(env!("CARGO"))
            .args(["build", "-vv", "--offline"])
            .arg("--manifest-path")
            .arg(self.root.join("Cargo.toml"))
            .env("CARGO_TARGET_DIR", &target)
            .env("CARGO_TERM_COLOR", "never")
            .env_remove("RUSTFLAGS")
            .output()
            .expect("run cargo")
    }
}

/// Appends `text` to the file at `path` and moves its modification time 5 s ahead, so cargo
/// sees it changed whatever the file system's time resolution.
fn edit_later(path: &Path, text: &str) {
    use std::io::Write as _;
    let later = std::time::SystemTime::now() + std::time::Duration::from_secs(5);
    let mut file = std::fs::File::options().append(true).open(path).expect("open to edit");
    file.write_all(text.as_bytes()).expect("edit");
    file.set_modified(later).expect("move the modification time");
}

/// The build script's timeline among the `OUT_DIR`s a build printed.
fn timeline_of(output: &Output) -> PathBuf {
    let out_dirs = out_dirs(output);
    out_dirs
        .iter()
        .map(|d| d.join("milo/timeline.json"))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("no milo/timeline.json under {out_dirs:?}"))
}

/// The status of phase `name` in the timeline at `path`.
fn status_of(timeline: &Path, name: &str) -> String {
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(timeline).expect("read")).expect("json");
    let phases = json["phases"].as_array().expect("phases");
    let phase = phases.iter().find(|p| p["name"] == name).expect("the phase is in the timeline");
    phase["status"].as_str().unwrap_or_default().to_owned()
}

/// Every `OUT_DIR` a `cargo build -vv` printed.
fn out_dirs(output: &Output) -> Vec<PathBuf> {
    // With -vv cargo shows the environment of each rustc run, `OUT_DIR=…` among it.
    let text = String::from_utf8_lossy(&output.stderr);
    text.split("OUT_DIR=")
        .skip(1)
        .filter_map(|rest| rest.split_whitespace().next())
        .map(|s| PathBuf::from(s.trim_matches(|c| c == '\'' || c == '"')))
        .collect()
}

fn text(output: &Output) -> String {
    format!(
        "status: {:?}\n--- stdout\n{}\n--- stderr\n{}",
        output.status.code(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn build_script_generates_code_and_reruns_when_milo_toml_changes() {
    let fixture = Fixture::new("ok");
    let first = fixture.build();
    assert!(first.status.success(), "{}", text(&first));
    let log = String::from_utf8_lossy(&first.stderr);
    assert!(log.contains("build-script-build"), "the build script ran:\n{log}");

    // The generated file is used by the crate.
    let binary = Command::new(env!("CARGO"))
        .args(["run", "--offline", "--quiet", "--manifest-path"])
        .arg(fixture.root.join("Cargo.toml"))
        .env(
            "CARGO_TARGET_DIR",
            Path::new(env!("CARGO_MANIFEST_DIR")).join("target/buildrs-fixture"),
        )
        .output()
        .expect("cargo run");
    assert_eq!(String::from_utf8_lossy(&binary.stdout), "hello from milo\n", "{}", text(&binary));

    // Its timeline and logs land in OUT_DIR.
    let timeline = timeline_of(&first);
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&timeline).expect("read")).expect("json");
    assert_eq!(json["status"], "completed");
    assert_eq!(json["phases"][0]["outputs"]["version"], "1.2.3");
    // `version` has no inputs: it always runs (`generate` may be up to date from an earlier
    // test run, as OUT_DIR is the same for every copy of the package).
    assert!(timeline.with_file_name("logs").join("version.log").is_file());

    // Nothing changed: the build script does not run again.
    let second = fixture.build();
    let log = text(&second);
    assert!(second.status.success(), "{log}");
    assert!(log.contains("Fresh milo-buildrs-ok"), "{log}");
    assert!(!log.contains("build-script-build`"), "nothing changed, yet the script ran:\n{log}");

    // Touching Milo.toml reruns it.
    edit_later(&fixture.root.join("Milo.toml"), "");
    let third = fixture.build();
    let log = text(&third);
    assert!(third.status.success(), "{log}");
    assert!(log.contains("the file `Milo.toml` has changed"), "{log}");
    assert!(
        log.contains("build-script-build`"),
        "Milo.toml changed, the script did not run:\n{log}"
    );
}

#[test]
fn codegen_is_skipped_when_only_unrelated_files_changed() {
    let fixture = Fixture::new("uptodate");
    // OUT_DIR, and the fingerprints in it, are the same for every copy of the package: a
    // greeting no earlier run saw makes the first build generate.
    let nanos = std::time::SystemTime::UNIX_EPOCH.elapsed().map_or(0, |d| d.as_nanos());
    let greeting = format!("hello from run {nanos}");
    std::fs::write(fixture.root.join("schema/greeting.txt"), format!("{greeting}\n"))
        .expect("write");
    let first = fixture.build();
    assert!(first.status.success(), "{}", text(&first));
    let timeline = timeline_of(&first);
    assert_eq!(status_of(&timeline, "generate"), "completed");
    let generated = timeline.parent().and_then(Path::parent).expect("OUT_DIR").join("generated.rs");
    let modified = |p: &Path| std::fs::metadata(p).and_then(|m| m.modified()).expect("mtime");
    let written = modified(&generated);

    // A file beside the inputs, not among them: cargo reruns the script (it watches the
    // folder), milo skips the codegen.
    edit_later(&fixture.root.join("schema/README.md"), "More words.\n");
    let second = fixture.build();
    let log = text(&second);
    assert!(second.status.success(), "{log}");
    assert!(log.contains("build-script-build`"), "cargo did not rerun the script:\n{log}");
    assert_eq!(status_of(&timeline, "version"), "completed", "no inputs: it always runs");
    assert_eq!(status_of(&timeline, "generate"), "up_to_date", "{log}");
    assert_eq!(modified(&generated), written, "generated.rs was written again");

    // Its input changed: it runs.
    edit_later(&fixture.root.join("schema/greeting.txt"), "again\n");
    let third = fixture.build();
    let log = text(&third);
    assert!(third.status.success(), "{log}");
    assert_eq!(status_of(&timeline, "generate"), "completed", "{log}");
    let code = std::fs::read_to_string(&generated).expect("read generated.rs");
    assert!(code.contains(&format!("{greeting}\nagain")), "{code}");
}

#[test]
fn failing_phase_fails_the_build_with_its_error_as_warnings() {
    let fixture = Fixture::new("fail");
    std::fs::write(
        fixture.root.join("Milo.toml"),
        "[pipeline]\nname = \"codegen\"\n\n[[pipeline.phase]]\nname = \"generate\"\n\
         cmd = \"echo 'schema.sql: no such table' >&2; exit 3\"\n",
    )
    .expect("write Milo.toml");
    let output = fixture.build();
    let all = text(&output);
    assert!(!output.status.success(), "the build must fail:\n{all}");
    assert!(all.contains("warning=phase `generate` failed: exit code 3"), "{all}");
    assert!(all.contains("warning=  | schema.sql: no such table"), "{all}");
    assert!(all.contains("milo: pipeline `codegen` failed: `generate` (exit code 3)"), "{all}");
}

#[test]
fn invalid_milo_toml_fails_the_build_with_a_located_message() {
    let fixture = Fixture::new("invalid");
    std::fs::write(
        fixture.root.join("Milo.toml"),
        "[[pipeline.phase]]\nname = \"generate\"\ncmd = \"true\"\ndepends_on = [\"biuld\"]\n",
    )
    .expect("write Milo.toml");
    let output = fixture.build();
    let all = text(&output);
    assert!(!output.status.success(), "{all}");
    assert!(all.contains("Milo.toml:4:"), "the error is located:\n{all}");
    assert!(all.contains("biuld"), "{all}");
}
