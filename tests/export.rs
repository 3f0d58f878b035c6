//! `cargo milo export github|gitlab`: the files, what actionlint says of the workflow, and
//! the pipelines CI cannot run.

use crate::support::{Test, actionlint};

const DIAMOND: &str = r#"
[pipeline]
name = "ci"

[pipeline.export]
setup = ["rustup component add clippy"]

[[pipeline.phase]]
name = "fmt"
cmd = "cargo fmt --check"

[[pipeline.phase]]
name = "build.release"
cmd = "echo version=1 >> \"$MILO_OUTPUT\""
depends_on = ["fmt"]

[[pipeline.phase]]
name = "lint"
cmd = "cargo clippy"
depends_on = ["fmt"]
policy = { on_fail = "skip" }

[[pipeline.phase]]
name = "test"
cmd = "cargo test"
depends_on = ["build.release", "lint"]
"#;

#[test]
fn the_github_workflow_passes_actionlint() {
    let out = Test::new()
        .folder(".git")
        .milo_toml(DIAMOND)
        .args(["export", "github", "-o", ".github/workflows/milo.yml"])
        .run();
    out.success();
    assert!(out.stderr.contains("Written `.github/workflows/milo.yml`"), "{}", out.stderr);
    let text = out.read(".github/workflows/milo.yml");
    assert!(text.contains("cargo milo export github -o .github/workflows/milo.yml"), "{text}");
    assert!(text.contains("  build-release:\n    name: build.release\n"), "{text}");
    assert!(text.contains("cargo milo run --only test --results-from target/milo/jobs"), "{text}");
    actionlint(&out.root.join(".github/workflows/milo.yml"));
}

#[test]
fn without_o_the_file_is_printed_and_milo_toml_found_from_the_root() {
    let out = Test::new()
        .folder(".git")
        .file("ci/Milo.toml", DIAMOND)
        .args(["-f", "ci/Milo.toml", "export", "gitlab"])
        .run();
    out.success();
    let yaml: serde_norway::Value = serde_norway::from_str(&out.stdout).expect("valid YAML");
    let script = yaml["test"]["script"][0].as_str().expect("a script");
    assert_eq!(
        script,
        "cargo milo -f ci/Milo.toml run --only test --results-from target/milo/jobs \
         --timeline target/milo/jobs/test/timeline.json"
    );
    let needs: Vec<&str> = yaml["test"]["needs"]
        .as_sequence()
        .expect("needs")
        .iter()
        .filter_map(|n| n.as_str())
        .collect();
    assert_eq!(needs, ["build.release", "lint"]);
}

#[test]
fn a_cwd_outside_the_repository_is_an_error_naming_the_phase() {
    let out = Test::new()
        .folder(".git")
        .milo_toml(
            "[[pipeline.phase]]\nname = \"ok\"\ncmd = \"true\"\ncwd = \"sub\"\n\
             [[pipeline.phase]]\nname = \"sibling\"\ncmd = \"true\"\ncwd = \"../other\"\n",
        )
        .args(["export", "github"])
        .run();
    out.code(2);
    assert!(
        out.stderr.starts_with(
            "error: phase `sibling` runs in `../other`, outside the repository a CI job checks out"
        ),
        "{}",
        out.stderr
    );
    assert!(out.stdout.is_empty(), "nothing is written: {}", out.stdout);
}

#[test]
fn phases_that_collide_after_sanitising_are_an_error_naming_both() {
    let out = Test::new()
        .milo_toml(
            "[[pipeline.phase]]\nname = \"test.unit\"\ncmd = \"true\"\n\
             [[pipeline.phase]]\nname = \"test-unit\"\ncmd = \"true\"\n",
        )
        .args(["export", "github"])
        .run();
    out.code(2);
    assert!(
        out.stderr
            .contains("phases `test.unit` and `test-unit` would both be the CI job `test-unit`"),
        "{}",
        out.stderr
    );
    assert!(out.stderr.contains("help: rename one of the phases in Milo.toml"), "{}", out.stderr);
}

#[test]
fn export_settings_are_checked_where_they_are_written() {
    let out = Test::new()
        .milo_toml(
            "[pipeline.export]\ninstall = \"\"\nrunson = \"x\"\ntags = \"linux\"\n\
             [[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\n",
        )
        .args(["check"])
        .run();
    out.code(2);
    let err = &out.stderr;
    assert!(
        err.contains("error: `install` in [pipeline.export] is empty\n --> Milo.toml:2:11"),
        "{err}"
    );
    assert!(err.contains("unknown key `runson` in [pipeline.export]"), "{err}");
    assert!(err.contains("did you mean `runs_on`?"), "{err}");
    assert!(err.contains("`tags` must be an array of strings, found a string"), "{err}");
    let out = Test::new()
        .milo_toml(
            "[pipeline]\nimage = \"rust\"\n[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\n",
        )
        .args(["check"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("`image` belongs under `[pipeline.export]`"), "{}", out.stderr);
}

/// The fenced block of `lang` that follows `after` in the README.
fn readme_block(after: &str, lang: &str) -> String {
    let readme = include_str!("../README.md");
    let section = &readme[readme.find(after).expect("the section")..];
    let fence = format!("```{lang}\n");
    let start = section.find(&fence).expect("a block") + fence.len();
    let len = section[start..].find("```").expect("the block's end");
    section[start..start + len].to_owned()
}

#[test]
fn the_readme_shows_what_export_writes() {
    let toml = readme_block("## Across machines", "toml");
    let yaml = readme_block("`cargo milo export gitlab -o .gitlab-ci.yml` writes", "yaml");
    let out = Test::new()
        .folder(".git")
        .milo_toml(&toml)
        .args(["export", "gitlab", "-o", ".gitlab-ci.yml"])
        .run();
    out.success();
    assert_eq!(out.read(".gitlab-ci.yml"), yaml, "README's \"Across machines\" is out of date");
}
