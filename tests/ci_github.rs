//! The GitHub Actions flavour (`GITHUB_ACTIONS=true`): groups, a failed phase printed open,
//! captured output fenced by `::stop-commands::`, one escaped `::error` annotation per failed
//! phase plus one per compiler error location, the step summary and the step outputs.

use crate::support::{Output, Test};

/// `cargo build`'s output for a type error among warnings (rustc 1.95, as printed).
const RUSTC: &str = include_str!("fixtures/rustc-build-e0308.txt");

const PIPELINE: &str = r#"
[pipeline]
name = "gh"
jobs = 4
[[pipeline.phase]]
name = "evil"
cmd = "echo '::error::pwned'; echo '::add-mask::x'; echo '::stop-commands::guess'"
[[pipeline.phase]]
name = "build"
cmd = "cat rustc.txt >&2; exit 101"
depends_on = ["evil"]
parallel = true
[[pipeline.phase]]
name = "lint"
cmd = "echo '50% of lines: bad, very'; echo '::error::pwned'; exit 1"
depends_on = ["evil"]
parallel = true
"#;

fn github_run(extra: &[&str]) -> Output {
    let test = Test::new();
    let root = test.root();
    test.milo_toml(PIPELINE)
        .file("rustc.txt", RUSTC)
        .file("src/main.rs", "fn main() {\n    let x: u32 = \"hello\";\n}\n")
        .args(["run", "--timeline", "tl.json"])
        .args(extra)
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_WORKSPACE", &root)
        .env("GITHUB_STEP_SUMMARY", root.join("summary.md"))
        .env("GITHUB_OUTPUT", root.join("output.txt"))
        .run()
}

/// The lines the runner would read as workflow commands: those outside a
/// `::stop-commands::TOKEN` … `::TOKEN::` fence. Also returns the tokens.
fn commands(stdout: &str) -> (Vec<&str>, Vec<String>) {
    let mut fence: Option<String> = None;
    let mut commands = Vec::new();
    let mut tokens = Vec::new();
    for line in stdout.lines() {
        match &fence {
            Some(token) if line == format!("::{token}::") => fence = None,
            Some(_) => {}
            None => {
                if let Some(token) = line.strip_prefix("::stop-commands::") {
                    tokens.push(token.to_owned());
                    fence = Some(token.to_owned());
                } else if line.starts_with("::") {
                    commands.push(line);
                }
            }
        }
    }
    assert!(fence.is_none(), "every fence is closed:\n{stdout}");
    (commands, tokens)
}

#[test]
fn captured_output_cannot_inject_workflow_commands() {
    let out = github_run(&[]);
    out.code(1);
    let (commands, tokens) = commands(&out.stdout);
    assert!(out.stdout.contains("::error::pwned\n::add-mask::x\n"), "{}", out.stdout);
    // `::error::pwned` may be an annotation's data, never a command of its own.
    assert!(
        commands.iter().all(|c| !c.starts_with("::error::")
            && !c.starts_with("::add-mask::")
            && !c.starts_with("::stop-commands::")),
        "{commands:#?}"
    );
    assert!(!tokens.is_empty() && tokens.iter().all(|t| t.len() == 32 && t == &tokens[0]));
    let again = github_run(&[]);
    let (_, other) = self::commands(&again.stdout);
    assert_ne!(tokens[0], other[0], "a new token each run");
}

#[test]
fn finished_phases_fold_into_groups_and_a_failure_is_printed_open() {
    let out = github_run(&[]);
    let (commands, _) = commands(&out.stdout);
    let groups: Vec<&&str> = commands.iter().filter(|c| c.starts_with("::group::")).collect();
    assert_eq!(groups.len(), 1, "{commands:#?}");
    assert!(groups[0].starts_with("::group::✓ evil "), "{groups:?}");
    assert_eq!(commands.iter().filter(|c| **c == "::endgroup::").count(), 1);
    let stdout = &out.stdout;
    let build = stdout.find("\n✗ build exit code 101\n::stop-commands::").expect(stdout);
    assert!(stdout.find("\n▶ build\n").expect(stdout) < build, "{stdout}");
    assert!(stdout.contains("\n✗ lint exit code 1\n::stop-commands::"), "{stdout}");
}

#[test]
fn each_failed_phase_is_annotated_and_each_compiler_error_on_its_line() {
    let out = github_run(&[]);
    let (commands, _) = commands(&out.stdout);
    let errors: Vec<&&str> = commands.iter().filter(|c| c.starts_with("::error")).collect();
    assert_eq!(errors.len(), 3, "{errors:#?}");
    let build =
        errors.iter().find(|c| c.starts_with("::error title=build failed::")).expect("build");
    assert!(
        build.starts_with(
            "::error title=build failed::exit code 101%0A%0Aerror[E0308]: mismatched types%0A --> src/main.rs:2:18%0A"
        ),
        "the error first: {build}"
    );
    let lint = errors.iter().find(|c| c.starts_with("::error title=lint failed::")).expect("lint");
    assert_eq!(
        **lint,
        "::error title=lint failed::exit code 1%0A%0A50%25 of lines: bad, very%0A::error::pwned",
        "escaped: `%` as %25, line breaks as %0A; an annotation's text is data, not a command"
    );
    assert!(
        errors.contains(
            &&"::error file=src/main.rs,line=2,col=18,title=error[E0308]::mismatched types"
        ),
        "{errors:#?}"
    );
    let located = errors.iter().filter(|c| c.starts_with("::error file=")).count();
    assert_eq!(located, 1, "warnings are not annotated: {errors:#?}");
}

#[test]
fn the_step_summary_and_outputs_are_appended() {
    let test = Test::new();
    let root = test.root();
    std::fs::write(root.join("summary.md"), "earlier step text\n").expect("an earlier summary");
    std::fs::write(root.join("output.txt"), "before=1\n").expect("an earlier output");
    let out = test
        .milo_toml(PIPELINE)
        .file("rustc.txt", RUSTC)
        .args(["run", "--timeline", "tl.json"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_STEP_SUMMARY", root.join("summary.md"))
        .env("GITHUB_OUTPUT", root.join("output.txt"))
        .run();
    out.code(1);
    let summary = out.read("summary.md");
    assert!(
        summary.starts_with("earlier step text\n## ✗ cargo milo: `gh` failed in "),
        "{summary}"
    );
    assert!(summary.contains("| ✗ | build | failed | 1 |"), "{summary}");
    assert!(summary.contains("```mermaid\ngantt\n"), "{summary}");
    assert!(summary.contains("<details") && summary.contains("error[E0308]"), "{summary}");
    assert_eq!(
        out.read("output.txt"),
        format!("before=1\nstatus=failed\ntimeline={}/tl.json\n", root.display())
    );
}

#[test]
fn prefixed_output_works_under_the_flavour_and_needs_no_fence() {
    let out = github_run(&["--output", "prefixed"]);
    out.code(1);
    assert!(out.stdout.contains("evil  │ ::error::pwned\n"), "{}", out.stdout);
    let (commands, _) = commands(&out.stdout);
    assert!(!commands.iter().any(|c| c.starts_with("::group::")), "{commands:#?}");
    assert_eq!(commands.iter().filter(|c| c.starts_with("::error title=")).count(), 2);
}

#[test]
fn quiet_runs_forced_to_github_fence_the_excerpts_and_annotate() {
    let out = Test::new()
        .milo_toml(PIPELINE)
        .file("rustc.txt", RUSTC)
        .args(["-q", "run", "--timeline", "tl.json", "--ci", "github"])
        .run();
    out.code(1);
    assert_eq!(out.stdout, "");
    let (commands, tokens) = commands(&out.stderr);
    assert_eq!(tokens.len(), 1, "one fence around the excerpts: {}", out.stderr);
    assert!(out.stderr.contains("--- lint failed: exit code 1 (last 2 of 2 lines; full log: "));
    assert_eq!(commands.iter().filter(|c| c.starts_with("::error title=")).count(), 2);
    assert!(
        out.stderr.ends_with("pipeline gh failed in ")
            || out.stderr().ends_with("failed in [DURATION]\n")
    );
}
