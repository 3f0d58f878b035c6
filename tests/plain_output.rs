//! Plain output off a terminal: `prefixed` lines live, `grouped` blocks when a phase ends,
//! `errors`, GitLab sections; every mode ends with failed excerpts and the summary.

use crate::run_support::wait_for;
use crate::support::Test;

/// A phase that prints `first`, waits for the file `go`, then prints `second`.
fn waiting_phase() -> String {
    format!(
        "[pipeline]\nname = \"live\"\n[[pipeline.phase]]\nname = \"slow\"\n\
         cmd = \"echo first; {}; echo second >&2\"\n",
        wait_for("go")
    )
}

#[test]
fn prefixed_lines_appear_while_the_phase_runs() {
    let mut run = Test::new()
        .milo_toml(&waiting_phase())
        .args(["run", "--timeline", "tl.json"])
        .spawn_watching_stdout();
    // `go` is created only once `first` is on stdout: a run that held it back would hang.
    run.wait_for_stdout("slow │ first");
    std::fs::write(run.root().join("go"), "").expect("create the marker");
    let out = run.finish();
    out.success();
    assert!(
        out.stdout().starts_with("▶ slow\nslow │ first\nslow ! second\n✓ slow [DURATION]\n"),
        "{}",
        out.stdout
    );
    assert!(out.stdout().ends_with("pipeline live completed in [DURATION]\n"), "{}", out.stdout);
    assert!(!out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'), "{:?}", out.stdout);
}

#[test]
fn grouped_output_comes_as_one_block_after_the_phase_ends() {
    let mut run = Test::new()
        .milo_toml(&waiting_phase())
        .args(["run", "--timeline", "tl.json", "--output", "grouped"])
        .spawn_watching_stdout();
    run.wait_for_stdout("▶ slow");
    std::fs::write(run.root().join("go"), "").expect("create the marker");
    let out = run.finish();
    out.success();
    let stdout = out.stdout();
    let end = stdout.find("✓ slow").expect("the result line");
    let first = stdout.find("first").expect("the output");
    assert!(stdout.starts_with("▶ slow\n"), "{stdout}");
    assert!(end < first, "the block follows the phase's end:\n{stdout}");
    assert!(
        stdout[end..].starts_with(
            "✓ slow [DURATION]\n=== slow: attempt 1 (at [DURATION]) ===\nfirst\nsecond\n"
        ),
        "{stdout}"
    );
    assert!(!out.stdout.contains('\x1b'), "{:?}", out.stdout);
}

const TWO_PHASES: &str = r#"
[pipeline]
name = "two"
jobs = 2
[[pipeline.phase]]
name = "fine"
cmd = "echo all good"
parallel = true
[[pipeline.phase]]
name = "broken"
cmd = "echo 'error: it broke'; echo noise; exit 3"
parallel = true
"#;

#[test]
fn errors_shows_only_the_failed_phase_and_every_mode_ends_with_its_excerpt() {
    let out = Test::new()
        .milo_toml(TWO_PHASES)
        .args(["run", "--timeline", "tl.json", "--output", "errors"])
        .run();
    out.code(1);
    let stdout = out.stdout();
    assert!(!stdout.contains("all good"), "{stdout}");
    assert!(stdout.contains("✓ fine [DURATION]\n"), "{stdout}");
    let block = stdout.find("✗ broken exit code 3\n=== broken: attempt 1").expect(&stdout);
    let excerpt = stdout
        .find("--- broken failed: exit code 3 (last 2 of 2 lines; full log: [ROOT]/logs/broken.log) ---\nerror: it broke\nnoise\n")
        .expect(&stdout);
    let summary = stdout.find("phase   status").expect(&stdout);
    assert!(block < excerpt && excerpt < summary, "{stdout}");
    assert!(stdout.ends_with("pipeline two failed in [DURATION]\n"), "{stdout}");
}

#[test]
fn the_output_mode_comes_from_milo_toml_unless_the_command_line_says() {
    let toml =
        format!("[pipeline]\noutput = \"grouped\"\n{}", &TWO_PHASES["\n[pipeline]\n".len()..]);
    let grouped = Test::new().milo_toml(&toml).args(["run", "--timeline", "tl.json"]).run();
    assert!(grouped.stdout.contains("\nall good\n"), "{}", grouped.stdout);
    let prefixed = Test::new()
        .milo_toml(&toml)
        .args(["run", "--timeline", "tl.json", "--output", "prefixed"])
        .run();
    assert!(prefixed.stdout.contains("fine   │ all good\n"), "{}", prefixed.stdout);
}

#[test]
fn gitlab_blocks_are_collapsible_sections_a_failed_one_expanded() {
    let out = Test::new()
        .milo_toml(TWO_PHASES)
        .args(["run", "--timeline", "tl.json"])
        .env("GITLAB_CI", "true")
        .run();
    out.code(1);
    // `\e[0Ksection_start:<unix>:<id>[options]\r\e[0K<header>`, as (unix, id+options, header).
    let marker = |kind: &str| -> Vec<(u64, String, String)> {
        let prefix = format!("\x1b[0Ksection_{kind}:");
        out.stdout
            .lines()
            .filter_map(|line| {
                let (time, rest) = line.strip_prefix(prefix.as_str())?.split_once(':')?;
                let (id, header) = rest.split_once("\r\x1b[0K")?;
                Some((time.parse().ok()?, id.to_owned(), header.to_owned()))
            })
            .collect()
    };
    let starts = marker("start");
    let ends = marker("end");
    assert_eq!(starts.len(), 2, "{:?}", out.stdout);
    let fine = starts
        .iter()
        .find(|(_, id, _)| id.ends_with("_fine[collapsed=true]"))
        .expect("fine's section");
    let broken =
        starts.iter().find(|(_, id, _)| id.ends_with("_broken")).expect("broken's, expanded");
    assert!(fine.2.starts_with("✓ fine "), "{fine:?}");
    assert_eq!(broken.2, "✗ broken exit code 3");
    assert!(fine.0 > 1_700_000_000, "a Unix time: {fine:?}");
    for (time, id, _) in [fine, broken] {
        let id = id.trim_end_matches("[collapsed=true]");
        let end = ends.iter().find(|(_, e, header)| e == id && header.is_empty()).expect(id);
        assert!(end.0 >= *time, "{id} ends after it starts");
    }
    // The section markers are the format; nothing else is an escape code.
    assert!(!out.stdout.replace("\x1b[0K", "").contains('\x1b'), "{:?}", out.stdout);
}

#[test]
fn ci_none_turns_a_detected_flavour_off() {
    let out = Test::new()
        .milo_toml(TWO_PHASES)
        .args(["run", "--timeline", "tl.json", "--ci", "none"])
        .env("GITHUB_ACTIONS", "true")
        .env("GITLAB_CI", "true")
        .run();
    out.code(1);
    assert!(!out.stdout.contains("::") && !out.stdout.contains('\x1b'), "{}", out.stdout);
    assert!(out.stdout.contains("broken │ error: it broke\n"), "prefixed: {}", out.stdout);
}
