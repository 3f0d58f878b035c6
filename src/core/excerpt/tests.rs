use std::fmt::Write as _;

use super::*;

/// `cargo build` of a crate with warnings around a type error (rustc 1.95, as printed).
const BUILD: &str = include_str!("../../../tests/fixtures/rustc-build-e0308.txt");

/// `cargo test` with one failing test (rustc 1.95, `RUST_BACKTRACE` unset).
const TEST: &str = "    Finished `test` profile [unoptimized + debuginfo] target(s) in 0.42s
     Running unittests src/lib.rs (target/debug/deps/b-bec47b275b406cef)

running 2 tests
test tests::adds ... ok
test tests::breaks ... FAILED

failures:

---- tests::breaks stdout ----

thread 'tests::breaks' (27730) panicked at src/lib.rs:7:19:
assertion `left == right` failed: one and one
  left: 2
 right: 3
note: run with `RUST_BACKTRACE=1` environment variable to display a backtrace


failures:
    tests::breaks

test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.10s

error: test failed, to rerun pass `--lib`";

fn texts(lines: &[ExcerptLine]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

fn small_tail() -> Limits {
    Limits { tail: 2, ..Limits::default() }
}

#[test]
fn the_compiler_error_block_comes_first_without_warnings() {
    let excerpt = Excerpt::of(BUILD.lines(), small_tail());
    assert_eq!(
        texts(&excerpt.errors),
        [
            "error[E0308]: mismatched types",
            " --> src/main.rs:2:18",
            "  |",
            "2 |     let x: u32 = \"hello\";",
            "  |            ---   ^^^^^^^ expected `u32`, found `&str`",
            "  |            |",
            "  |            expected due to this",
        ]
    );
    assert_eq!(excerpt.errors[0].number, 12);
    // `could not compile` is in the tail: shown once, there.
    assert_eq!(
        texts(&excerpt.tail),
        [
            "warning: `a` (bin \"a\") generated 1 warning",
            "error: could not compile `a` (bin \"a\") due to 1 previous error; 1 warning emitted"
        ]
    );
    assert_eq!(excerpt.total, 32);
    assert_eq!(
        excerpt.locations,
        [ErrorLocation {
            file: "src/main.rs".into(),
            line: 2,
            column: 18,
            title: "error[E0308]".into(),
            message: "mismatched types".into(),
        }]
    );
}

#[test]
fn a_failing_test_shows_its_name_output_and_summary() {
    let excerpt = Excerpt::of(TEST.lines(), small_tail());
    assert_eq!(
        texts(&excerpt.errors),
        [
            "test tests::breaks ... FAILED",
            "---- tests::breaks stdout ----",
            "thread 'tests::breaks' (27730) panicked at src/lib.rs:7:19:",
            "assertion `left == right` failed: one and one",
            "  left: 2",
            " right: 3",
            "test result: FAILED. 1 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out; \
             finished in 0.10s",
        ]
    );
    assert_eq!(texts(&excerpt.tail), ["", "error: test failed, to rerun pass `--lib`"]);
    assert_eq!(
        excerpt.locations,
        [ErrorLocation {
            file: "src/lib.rs".into(),
            line: 7,
            column: 19,
            title: "panic".into(),
            message: "assertion `left == right` failed: one and one".into(),
        }]
    );
}

#[test]
fn text_marks_the_lines_left_out() {
    let excerpt = Excerpt::of(BUILD.lines(), small_tail());
    let text = excerpt.to_text("  ");
    assert!(
        text.starts_with("  error[E0308]: mismatched types\n   --> src/main.rs:2:18\n"),
        "{text}"
    );
    assert!(text.contains("  expected due to this\n  ⋮ 12 lines\n  warning: `a`"), "{text}");
    assert_eq!(excerpt.first_error().as_deref(), Some("error[E0308]: mismatched types"));
}

#[test]
fn output_without_errors_is_its_tail() {
    let lines: Vec<String> = (1..=50).map(|i| format!("line {i}")).collect();
    let excerpt = Excerpt::of(lines.iter().map(String::as_str), Limits::default());
    assert!(excerpt.errors.is_empty());
    assert_eq!(excerpt.tail.len(), 20);
    assert_eq!(excerpt.tail[0].number, 31);
    assert_eq!(excerpt.parts().filter(|p| matches!(p, Part::Gap(_))).count(), 0);
}

#[test]
fn error_lines_and_blocks_are_capped() {
    let mut text = String::new();
    for i in 0..100 {
        let _ = writeln!(text, "error: number {i}");
        for j in 0..50 {
            let _ = writeln!(text, "  | snippet {j}");
        }
        text.push('\n');
    }
    let limits = Limits { error_lines: 40, block_lines: 5, tail: 3, locations: 10 };
    let excerpt = Excerpt::of(text.lines(), limits);
    assert_eq!(excerpt.errors.len(), 40);
    assert_eq!(excerpt.errors[0].text, "error: number 0");
    assert_eq!(excerpt.errors[5].text, "error: number 1", "each block cut at 5 lines");
    assert_eq!(excerpt.tail.len(), 3);
}

#[test]
fn locations_are_capped_and_need_an_arrow() {
    let mut text = String::from("error: no location here\n\n");
    for i in 1..=15 {
        let _ = write!(text, "error[E0425]: cannot find value `x{i}`\n --> src/a.rs:{i}:5\n\n");
    }
    let excerpt = Excerpt::of(text.lines(), Limits::default());
    assert_eq!(excerpt.locations.len(), 10);
    assert_eq!(excerpt.locations[0].line, 1);
    assert_eq!(excerpt.locations[0].message, "cannot find value `x1`");
    assert_eq!(excerpt.locations[9].line, 10);
}

#[test]
fn escape_codes_do_not_hide_errors() {
    let colored = "\x1b[0m\x1b[1m\x1b[38;5;9merror[E0308]\x1b[0m\x1b[0m\x1b[1m: mismatched types\x1b[0m\n\
                   \x1b[0m \x1b[0m\x1b[0m\x1b[1m\x1b[38;5;12m--> \x1b[0m\x1b[0msrc/main.rs:2:18\x1b[0m";
    let excerpt = Excerpt::of(colored.lines(), Limits { tail: 0, ..Limits::default() });
    assert_eq!(excerpt.errors.len(), 2);
    assert_eq!(excerpt.first_error().as_deref(), Some("error[E0308]: mismatched types"));
    assert_eq!(excerpt.locations[0].file, "src/main.rs");
    assert_eq!(excerpt.locations[0].column, 18);
}

#[test]
fn old_panics_windows_paths_nextest_and_main_errors() {
    let text = concat!(
        "thread 'main' panicked at 'boom', C:\\src\\main.rs:2:5\n",
        "note: run with `RUST_BACKTRACE=1` environment variable\n",
        "        FAIL [   0.004s] crate tests::slow\n",
        "Error: config file missing\n",
        "error: aborting due to 1 previous error",
    );
    let excerpt = Excerpt::of(text.lines(), Limits { tail: 0, ..Limits::default() });
    assert_eq!(
        texts(&excerpt.errors),
        [
            "thread 'main' panicked at 'boom', C:\\src\\main.rs:2:5",
            "        FAIL [   0.004s] crate tests::slow",
            "Error: config file missing",
        ]
    );
    let panic = &excerpt.locations[0];
    assert_eq!((panic.file.as_str(), panic.line, panic.column), ("C:\\src\\main.rs", 2, 5));
    assert_eq!(panic.message, "boom");
}

#[test]
fn numbering_can_start_past_dropped_lines() {
    let mut builder = ExcerptBuilder::starting_at(1001, Limits::default());
    builder.push("error: late");
    let excerpt = builder.finish();
    assert_eq!(excerpt.tail[0].number, 1001);
    assert_eq!(excerpt.total, 1, "lines read, not the last number");
}

proptest::proptest! {
    #[test]
    fn excerpts_stay_bounded_and_ordered(
        lines in proptest::collection::vec(
            proptest::prop_oneof![
                proptest::strategy::Just("error: x".to_owned()),
                proptest::strategy::Just(" --> a.rs:1:2".to_owned()),
                proptest::strategy::Just(String::new()),
                proptest::strategy::Just("test t ... FAILED".to_owned()),
                proptest::strategy::Just("---- t stdout ----".to_owned()),
                proptest::strategy::Just("warning: w".to_owned()),
                "[ -~]{0,12}",
            ],
            0..300,
        ),
        error_lines in 0usize..50,
        tail in 0usize..30,
    ) {
        let limits = Limits { error_lines, block_lines: 7, tail, locations: 3 };
        let excerpt = Excerpt::of(lines.iter().map(String::as_str), limits);
        proptest::prop_assert!(excerpt.errors.len() <= error_lines);
        proptest::prop_assert!(excerpt.tail.len() <= tail);
        proptest::prop_assert!(excerpt.locations.len() <= 3);
        proptest::prop_assert_eq!(excerpt.total, lines.len() as u64);
        let numbers: Vec<u64> =
            excerpt.errors.iter().chain(&excerpt.tail).map(|l| l.number).collect();
        proptest::prop_assert!(numbers.windows(2).all(|w| w[0] < w[1]), "{:?}", numbers);
        for line in excerpt.errors.iter().chain(&excerpt.tail) {
            let index = usize::try_from(line.number - 1).unwrap_or(usize::MAX);
            proptest::prop_assert_eq!(&lines[index], &line.text);
        }
    }
}
