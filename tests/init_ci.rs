//! `cargo milo init --ci github|gitlab`: the workflows it writes are valid for their CI.

use crate::support::{Test, actionlint};

#[test]
fn the_github_workflow_passes_actionlint() {
    let out = Test::new().args(["init", "--ci", "github"]).run();
    out.success();
    let workflow = out.root.join(".github/workflows/milo.yml");
    let text = out.read(".github/workflows/milo.yml");
    assert!(text.contains("--report junit=target/milo/junit.xml"), "{text}");
    assert!(text.contains("if: always()"), "{text}");
    assert!(text.contains("path: target/milo/"), "{text}");
    actionlint(&workflow);
}

#[test]
fn the_gitlab_job_keeps_the_artifacts_and_hands_over_junit() {
    let out = Test::new().args(["init", "--ci", "gitlab"]).run();
    out.success();
    let yaml: serde_norway::Value =
        serde_norway::from_str(&out.read(".gitlab-ci.yml")).expect("valid YAML");
    let job = &yaml["milo"];
    let script: Vec<&str> =
        job["script"].as_sequence().expect("a script").iter().filter_map(|s| s.as_str()).collect();
    assert!(
        script.iter().any(|s| s.starts_with("cargo milo run")
            && s.contains("--report junit=target/milo/junit.xml")),
        "{script:?}"
    );
    let artifacts = &job["artifacts"];
    assert_eq!(artifacts["when"].as_str(), Some("always"));
    let paths: Vec<&str> = artifacts["paths"]
        .as_sequence()
        .expect("paths")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert_eq!(paths, ["target/milo/"]);
    assert_eq!(artifacts["reports"]["junit"].as_str(), Some("target/milo/junit.xml"));
    let before: Vec<&str> = job["before_script"]
        .as_sequence()
        .expect("before_script")
        .iter()
        .filter_map(|s| s.as_str())
        .collect();
    assert!(before.contains(&"cargo install cargo-milo --locked"), "{before:?}");
}

#[test]
fn init_ci_never_overwrites() {
    let out = Test::new()
        .file(".gitlab-ci.yml", "build:\n  script: [make]\n")
        .args(["init", "--ci", "gitlab"])
        .run();
    out.code(2);
    assert!(out.stderr.contains("`.gitlab-ci.yml` already exists"), "{}", out.stderr);
    assert_eq!(out.read(".gitlab-ci.yml"), "build:\n  script: [make]\n");
    assert!(!out.exists("Milo.toml"), "--ci writes only the workflow");
}
