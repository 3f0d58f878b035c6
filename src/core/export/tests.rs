use std::path::PathBuf;

use super::*;
use crate::phase::Instance;

fn context() -> ExportContext {
    ExportContext {
        root: PathBuf::from("/repo"),
        config: None,
        command: "cargo milo export github".into(),
    }
}

fn instance(phase: &str, package: &str, deps: &[&str]) -> Phase {
    let i = Instance { phase: phase.into(), package: package.into() };
    Phase {
        instance: Some(i.clone()),
        ..Phase::cmd(i.name(), "true").depends_on(deps.iter().copied())
    }
}

fn diamond() -> Pipeline {
    Pipeline::new("ci")
        .phase(Phase::cmd("fmt", "cargo fmt --check"))
        .phase(instance("build", "core", &["fmt"]))
        .phase(instance("build", "app", &["build:core"]))
        .phase(Phase::cmd("1st.check", "true").depends_on(["fmt"]))
        .phase(Phase::cmd("variables", "true").depends_on(["build:app", "1st.check"]))
        .dir("/repo")
        .build()
        .expect("valid")
}

#[test]
fn a_job_per_phase_with_needs_from_the_graph() {
    let pipeline = diamond();
    let github = jobs(&pipeline, Ci::Github, &context()).expect("exportable");
    let keys: Vec<&str> = github.iter().map(|j| j.key.as_str()).collect();
    assert_eq!(keys, ["fmt", "build-core", "build-app", "_1st-check", "variables"]);
    assert_eq!(github[4].needs, [2, 3]);
    let gitlab = jobs(&pipeline, Ci::Gitlab, &context()).expect("exportable");
    let keys: Vec<&str> = gitlab.iter().map(|j| j.key.as_str()).collect();
    assert_eq!(keys, ["fmt", "build:core", "build:app", "1st.check", "variables-phase"]);
    let folders: Vec<&str> = gitlab.iter().map(|j| j.folder.as_str()).collect();
    assert_eq!(folders, ["fmt", "build-core", "build-app", "_1st-check", "variables"]);
}

#[test]
fn names_that_collide_after_sanitising_are_an_error_naming_both() {
    let pipeline = Pipeline::new("ci")
        .phase(Phase::cmd("a.b", "true"))
        .phase(Phase::cmd("a-b", "true"))
        .build()
        .expect("valid");
    for ci in [Ci::Github, Ci::Gitlab] {
        let err = jobs(&pipeline, ci, &context()).expect_err("collision");
        assert_eq!(
            err,
            ExportError::Collision {
                first: "a.b".into(),
                second: Some("a-b".into()),
                job: "a-b".into()
            }
        );
        assert_eq!(err.to_string(), "phases `a.b` and `a-b` would both be the CI job `a-b`");
    }
    let pipeline =
        Pipeline::new("ci").phase(Phase::cmd("milo-report", "true")).build().expect("valid");
    let err = jobs(&pipeline, Ci::Github, &context()).expect_err("the merge job's name");
    assert!(matches!(err, ExportError::Collision { second: None, .. }), "{err}");
}

#[test]
fn closures_and_folders_outside_the_repository_do_not_export() {
    let closure = Pipeline::new("ci")
        .phase(Phase::cmd("a", "true"))
        .phase(Phase::func("gen", |_| Ok::<_, std::io::Error>(serde_json::Value::Null)))
        .build()
        .expect("valid");
    let err = jobs(&closure, Ci::Gitlab, &context()).expect_err("a closure");
    assert_eq!(err, ExportError::Closure { phase: "gen".into() });
    let outside = |cwd: &str| {
        Pipeline::new("ci")
            .phase(Phase::cmd("a", "true").cwd(cwd))
            .dir("/repo/sub")
            .build()
            .expect("valid")
    };
    for cwd in ["../../elsewhere", "/tmp", "..//..", "../sub/../../x"] {
        let err = jobs(&outside(cwd), Ci::Github, &context()).expect_err(cwd);
        assert!(matches!(&err, ExportError::CwdOutside { phase, .. } if phase == "a"), "{cwd}");
    }
    for cwd in ["crates/x", "..", "/repo/other", "./x/../y"] {
        assert!(jobs(&outside(cwd), Ci::Github, &context()).is_ok(), "{cwd}");
    }
}

#[test]
fn words_are_quoted_for_the_shell_only_when_needed() {
    assert_eq!(sh_quote("test:core"), "test:core");
    assert_eq!(sh_quote("ci/Milo.toml"), "ci/Milo.toml");
    assert_eq!(sh_quote("my dir/Milo.toml"), "'my dir/Milo.toml'");
    assert_eq!(sh_quote("it's"), r"'it'\''s'");
    assert_eq!(sh_quote(""), "''");
}

#[cfg(feature = "export")]
mod yaml {
    use serde_norway::Value;

    use super::*;

    fn parse(text: &str) -> Value {
        serde_norway::from_str(text).expect("valid YAML")
    }

    fn strings(value: &Value) -> Vec<&str> {
        value.as_sequence().into_iter().flatten().filter_map(Value::as_str).collect()
    }

    #[test]
    fn gitlab_jobs_need_their_dependencies_and_the_merge_job_always_runs() {
        let mut pipeline = diamond();
        pipeline.settings_mut().export.setup = vec!["rustup component add clippy".into()];
        pipeline.settings_mut().export.tags = vec!["linux".into()];
        let context = ExportContext { config: Some("ci/Milo.toml".into()), ..context() };
        let text = export(&pipeline, Ci::Gitlab, &context).expect("exportable");
        assert!(text.starts_with("# Pipeline `ci` of Milo.toml as CI jobs"), "{text}");
        let yaml = parse(&text);
        assert_eq!(strings(&yaml["stages"]), ["milo", "milo-report"]);
        assert_eq!(strings(&yaml["fmt"]["needs"]), Vec::<&str>::new());
        assert_eq!(strings(&yaml["variables-phase"]["needs"]), ["build:app", "1st.check"]);
        let app = &yaml["build:app"];
        assert_eq!(app["image"].as_str(), Some("rust:latest"));
        assert_eq!(strings(&app["tags"]), ["linux"]);
        assert_eq!(
            strings(&app["before_script"]),
            ["cargo install cargo-milo --locked", "rustup component add clippy"]
        );
        assert_eq!(
            strings(&app["script"]),
            ["cargo milo -f ci/Milo.toml run --only build:app --results-from target/milo/jobs \
              --timeline target/milo/jobs/build-app/timeline.json"]
        );
        assert_eq!(app["artifacts"]["when"].as_str(), Some("always"));
        assert_eq!(strings(&app["artifacts"]["paths"]), ["target/milo/jobs/build-app/"]);
        let report = &yaml["milo-report"];
        assert_eq!(report["when"].as_str(), Some("always"));
        assert_eq!(report["artifacts"]["reports"]["junit"].as_str(), Some("target/milo/junit.xml"));
        assert!(
            strings(&report["script"])[0].starts_with("cargo milo timeline merge target/milo/jobs")
        );
        pipeline.settings_mut().export.image = None;
        let yaml = parse(&export(&pipeline, Ci::Gitlab, &context).expect("exportable"));
        assert!(yaml["fmt"].get("image").is_none());
    }

    #[test]
    fn github_jobs_pass_timelines_as_artifacts() {
        let text = export(&diamond(), Ci::Github, &context()).expect("exportable");
        let yaml = parse(&text);
        let jobs = &yaml["jobs"];
        let join = &jobs["variables"];
        assert_eq!(strings(&join["needs"]), ["build-app", "_1st-check"]);
        let steps = join["steps"].as_sequence().expect("steps");
        let fetched: Vec<(&str, &str)> = steps
            .iter()
            .filter(|s| {
                s["uses"].as_str().is_some_and(|u| u.starts_with("actions/download-artifact"))
            })
            .map(|s| {
                (s["with"]["name"].as_str().unwrap_or(""), s["with"]["path"].as_str().unwrap_or(""))
            })
            .collect();
        assert_eq!(
            fetched,
            [
                ("milo-build-app", "target/milo/jobs/build-app"),
                ("milo-_1st-check", "target/milo/jobs/_1st-check")
            ]
        );
        let upload = steps.last().expect("an upload");
        assert_eq!(upload["if"].as_str(), Some("always()"));
        assert_eq!(upload["with"]["name"].as_str(), Some("milo-variables"));
        let report = &jobs["milo-report"];
        assert_eq!(report["if"].as_str(), Some("always()"));
        assert_eq!(strings(&report["needs"]).len(), 5);
        let run = report["steps"][3]["run"].as_str().expect("commands");
        assert!(run.contains("--format markdown >> \"$GITHUB_STEP_SUMMARY\""), "{run}");
    }
}
