//! `cargo milo check` on broken Milo.toml files: exit 2, every problem located, pinned.

use insta::assert_snapshot;

use crate::support::Test;

/// Runs `check` on `toml`, asserts exit code 2 and nothing on stdout; returns stderr.
fn check_fails(toml: &str) -> String {
    let out = Test::new().milo_toml(toml).arg("check").run();
    out.code(2);
    assert_eq!(out.stdout, "", "nothing on stdout when the file is invalid");
    out.stderr_exact()
}

const GOOD_TAIL: &str = r#"
[[pipeline.phase]]
name = "build"
cmd = "cargo build"
"#;

#[test]
fn toml_syntax_error() {
    let err = check_fails("[pipeline\nname = \"ci\"\n");
    assert!(err.contains("--> Milo.toml:1:"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let err = check_fails(&format!(
        "{GOOD_TAIL}\n[[pipeline.phase]]\nname = \"test\"\ncmd = \"cargo test\"\ndepend_on = [\"build\"]\n"
    ));
    assert!(err.contains("unknown key `depend_on`"), "{err}");
    assert!(err.contains("--> Milo.toml:9:1"), "{err}");
    assert!(err.contains("did you mean `depends_on`?"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn duplicate_name_points_at_both() {
    let err = check_fails(&format!("{GOOD_TAIL}{GOOD_TAIL}"));
    assert!(err.contains("duplicate phase name `build`"), "{err}");
    assert!(err.contains("--> Milo.toml:7:8"), "{err}");
    assert!(err.contains("first defined here"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn missing_dependency_suggests_the_closest() {
    let err = check_fails(&format!(
        "{GOOD_TAIL}\n[[pipeline.phase]]\nname = \"test\"\ncmd = \"cargo test\"\ndepends_on = [\"biuld\"]\n"
    ));
    assert!(err.contains("unknown phase `biuld`"), "{err}");
    assert!(err.contains("--> Milo.toml:9:15"), "{err}");
    assert!(err.contains("available phases: `build`, `test`"), "{err}");
    assert!(err.contains("did you mean `build`?"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn three_phase_cycle_shows_the_path() {
    let err = check_fails(
        r#"
[[pipeline.phase]]
name = "build"
cmd = "true"
depends_on = ["test"]

[[pipeline.phase]]
name = "test"
cmd = "true"
depends_on = ["deploy"]

[[pipeline.phase]]
name = "deploy"
cmd = "true"
depends_on = ["build"]
"#,
    );
    assert!(err.contains("circular dependency: build → test → deploy → build"), "{err}");
    assert!(err.contains("--> Milo.toml:5:15"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn self_dependency() {
    let err = check_fails(
        "[[pipeline.phase]]\nname = \"build\"\ncmd = \"true\"\ndepends_on = [\"build\"]\n",
    );
    assert!(err.contains("circular dependency: build → build"), "{err}");
    assert!(err.contains("cannot depend on itself"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn unknown_on_fail() {
    let err = check_fails(&format!("{GOOD_TAIL}policy = {{ on_fail = \"explode\" }}\n"));
    assert!(err.contains("invalid `on_fail` value \"explode\""), "{err}");
    assert!(err.contains("--> Milo.toml:5:22"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn unknown_output_mode() {
    let err = check_fails(&format!("[pipeline]\noutput = \"group\"\n{GOOD_TAIL}"));
    assert!(err.contains("invalid `output` value \"group\""), "{err}");
    assert!(err.contains("--> Milo.toml:2:10"), "{err}");
    assert!(err.contains("did you mean \"grouped\"?"), "{err}");
    assert!(err.contains("expected one of \"prefixed\", \"grouped\", \"errors\""), "{err}");
}

#[test]
fn unknown_retry_backoff() {
    let err = check_fails(&format!(
        "{GOOD_TAIL}policy = {{ on_fail = \"retry\", retry_backoff = \"quadratic\" }}\n"
    ));
    assert!(err.contains("invalid `retry_backoff` value \"quadratic\""), "{err}");
    assert_snapshot!(err);
}

#[test]
fn both_cmd_and_args() {
    let err = check_fails(&format!("{GOOD_TAIL}args = [\"cargo\", \"build\"]\n"));
    assert!(err.contains("phase `build` has both `cmd` and `args`"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn nul_bytes_in_commands_and_paths_are_located() {
    let err = check_fails(
        "[[pipeline.phase]]\nname = \"a\"\ncmd = \"echo \\u0000x\"\n\
         [[pipeline.phase]]\nname = \"b\"\nargs = [\"echo\", \"a\\u0000\"]\ncwd = \"x\\u0000\"\n",
    );
    assert!(err.contains("`cmd` contains a NUL byte\n --> Milo.toml:3:7"), "{err}");
    assert!(err.contains("`args` contains a NUL byte\n --> Milo.toml:6:17"), "{err}");
    assert!(err.contains("`cwd` contains a NUL byte\n --> Milo.toml:7:7"), "{err}");
}

#[test]
fn neither_cmd_nor_args() {
    let err = check_fails("[[pipeline.phase]]\nname = \"build\"\ndescription = \"Build it\"\n");
    assert!(err.contains("phase `build` has neither `cmd` nor `args`"), "{err}");
    assert!(err.contains("--> Milo.toml:2:8"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn negative_weight() {
    let err = check_fails(&format!("{GOOD_TAIL}weight = -1\n"));
    assert!(err.contains("`weight` must be >= 0, found -1"), "{err}");
    assert!(err.contains("--> Milo.toml:5:10"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn unparsable_timeout() {
    let err = check_fails(&format!("{GOOD_TAIL}timeout = \"soon\"\n"));
    assert!(err.contains("invalid `timeout` \"soon\""), "{err}");
    assert!(err.contains("--> Milo.toml:5:11"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn every_problem_is_reported_at_once() {
    let err = check_fails(
        r#"[pipeline]
fail_fast = "yes"
jobs = -2

[[pipeline.phase]]
name = "build"
cmd = "cargo build"
weight = -1
max_logs = 0

[[pipeline.phase]]
name = "test"
cmd = "cargo test"
depends_on = ["biuld"]
timeout = "soon"
policy = { on_fail = "retyr", max_retries = -1, retry_delay = -0.5 }

[[pipeline.phase]]
name = "bad name"
args = []
"#,
    );
    for needle in [
        "`fail_fast` must be `true` or `false`, found a string",
        "`jobs` must be >= 0, found -2",
        "`weight` must be >= 0, found -1",
        "unknown phase `biuld`",
        "invalid `timeout` \"soon\"",
        "invalid `on_fail` value \"retyr\"",
        "did you mean \"retry\"?",
        "`max_retries` must be >= 0, found -1",
        "invalid `retry_delay` -0.5",
        "invalid phase name `bad name`",
        "due to 10 previous errors",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
    assert_snapshot!(err);
}

#[test]
fn wrong_types_and_shapes() {
    let err = check_fails(
        r#"name = "top"

[pipeline]
env = { RUST_BACKTRACE = 1 }

[pipeline.phase]
name = "x"
"#,
    );
    assert!(err.contains("`name` belongs in [pipeline]"), "{err}");
    assert!(err.contains("environment variable `RUST_BACKTRACE` must be a string"), "{err}");
    assert!(err.contains("`pipeline.phase` must be an array of tables"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn an_empty_file_has_no_phases() {
    let err = check_fails("");
    assert!(err.contains("no phases"), "{err}");
    assert_snapshot!(err);
}

#[test]
fn invalid_utf8_is_reported_not_a_crash() {
    let out = Test::new()
        .file_bytes("Milo.toml", b"[[pipeline.phase]]\nname = \"caf\xe9\"\n")
        .arg("check")
        .run();
    out.code(2);
    assert_snapshot!(out.stderr_exact());
}

#[test]
fn a_self_loop_inside_a_larger_cycle_is_reported_too() {
    let err = check_fails(
        "[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\ndepends_on = [\"b\", \"a\"]\n\n[[pipeline.phase]]\nname = \"b\"\ncmd = \"true\"\ndepends_on = [\"a\"]\n",
    );
    assert!(err.contains("circular dependency: a → b → a"), "{err}");
    assert!(err.contains("circular dependency: a → a"), "{err}");
    assert!(err.contains("--> Milo.toml:4:20"), "{err}");
}

#[test]
fn misplaced_keys_say_where_they_belong() {
    let err = check_fails(
        "[pipeline]\ncmd = \"x\"\n\n[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\non_fail = \"retry\"\ndepends_on = \"b\"\n",
    );
    assert!(err.contains("`cmd` belongs in a `[[pipeline.phase]]`"), "{err}");
    assert!(err.contains("`on_fail` belongs inside the phase's `policy = { ... }`"), "{err}");
    assert!(err.contains("write a list: `depends_on = [\"b\"]`"), "{err}");
    assert_snapshot!(err);
}

mod color {
    use crate::support::Test;

    const BAD: &str = "[[pipeline.phase]]\nname = \"a\"\ncmd = \"true\"\nweight = -1\n";

    fn stderr_with(args: &[&str], env: &[(&str, &str)]) -> String {
        let mut test = Test::new().milo_toml(BAD).args(args.iter().copied()).arg("check");
        for (k, v) in env {
            test = test.env(*k, *v);
        }
        let out = test.run();
        out.code(2);
        out.stderr
    }

    #[test]
    fn color_always_styles_the_diagnostic() {
        let err = stderr_with(&["--color", "always"], &[]);
        assert!(err.contains("\x1b["), "{err:?}");
        assert!(err.contains("weight = -1"), "{err:?}");
    }

    #[test]
    fn cargo_term_color_is_honoured() {
        assert!(stderr_with(&[], &[("CARGO_TERM_COLOR", "always")]).contains("\x1b["));
        assert!(
            !stderr_with(&["--color", "never"], &[("CARGO_TERM_COLOR", "always")])
                .contains("\x1b[")
        );
    }

    #[test]
    fn no_escape_codes_off_a_terminal_or_with_no_color() {
        assert!(!stderr_with(&[], &[]).contains('\x1b'));
        assert!(!stderr_with(&["--color", "auto"], &[("NO_COLOR", "1")]).contains('\x1b'));
    }
}

#[test]
fn absurd_numbers_are_rejected_before_they_overflow() {
    let err = check_fails(&format!(
        "{GOOD_TAIL}weight = 9223372036854775807\ntimeout = \"1000000000h\"\npolicy = {{ on_fail = \"retry\", max_retries = 5000000000, retry_delay = 1e300 }}\nmax_logs = 99999999999999999999\n"
    ));
    for needle in [
        "`weight` is too large: 9223372036854775807",
        "invalid `timeout` \"1000000000h\"",
        "longer than a year",
        "`max_retries` is too large: 5000000000",
        "invalid `retry_delay` 1e300",
        "`max_logs` is too large",
    ] {
        assert!(err.contains(needle), "missing {needle:?} in\n{err}");
    }
}

#[test]
fn a_dependency_listed_twice_still_points_at_the_right_entry() {
    let err = check_fails(&format!(
        "{GOOD_TAIL}\n[[pipeline.phase]]\nname = \"test\"\ncmd = \"true\"\ndepends_on = [\"build\", \"build\", \"nope\"]\n"
    ));
    assert!(err.contains("--> Milo.toml:9:33"), "{err}");
    assert!(err.contains("unknown phase `nope`"), "{err}");
}
