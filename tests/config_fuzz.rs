//! No input may panic: random text and mutations of a valid Milo.toml go through
//! parse + validate and come back `Ok` or `Err`.

use std::path::Path;

use proptest::prelude::*;

const VALID: &str = r#"[pipeline]
name = "ci"
fail_fast = true
capture_output = false
jobs = 4
timeline = "target/milo/t.json"
env = { RUST_BACKTRACE = "1" }

[[pipeline.phase]]
name = "fmt"
description = "Check formatting"
cmd = "cargo fmt --check"
parallel = true

[[pipeline.phase]]
name = "build"
args = ["cargo", "build", "--release"]
depends_on = ["fmt"]
weight = 5
max_logs = 200
timeout = "10m"
cwd = "crates/app"
env = { PROFILE = "release" }
policy = { on_fail = "retry", max_retries = 2, retry_delay = 1.0, retry_backoff = "exponential" }

[[pipeline.phase]]
name = "test"
cmd = "cargo test"
depends_on = ["build", "fmt"]
policy = { on_fail = "skip" }
"#;

/// Values of every TOML type, to swap in for a value of another.
const VALUES: &[&str] = &[
    "\"\"",
    "\"x\"",
    "-1",
    "0",
    "99999999999999999999",
    "1.5",
    "-0.0",
    "nan",
    "inf",
    "true",
    "[]",
    "[1, \"a\"]",
    "{}",
    "{ a = 1 }",
    "1979-05-27T07:32:00Z",
    "\"build\"",
    "\"10m\"",
    "\"é\u{0}\"",
];

fn parse(text: &str) {
    // The result does not matter; reaching here without a panic does. Rendering the error is
    // part of the path a user hits, so render it too.
    if let Err(e) = milo::config::parse_str(text, Path::new("Milo.toml")) {
        assert!(!e.to_string().is_empty(), "an error always says something");
    }
}

/// One edit to `base`: delete, insert or replace a range of bytes, or replace a value.
#[derive(Debug, Clone)]
enum Edit {
    Delete(usize, usize),
    Insert(usize, Vec<u8>),
    Replace(usize, usize, Vec<u8>),
    SwapValue(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let bytes = prop::collection::vec(any::<u8>(), 0..8);
    let toml_bytes =
        prop::collection::vec(prop::sample::select(b"[]{}=,\"'\n #.\\abc01-".to_vec()), 0..8);
    prop_oneof![
        (any::<usize>(), 0usize..40).prop_map(|(at, n)| Edit::Delete(at, n)),
        (any::<usize>(), bytes.clone()).prop_map(|(at, b)| Edit::Insert(at, b)),
        (any::<usize>(), 0usize..10, toml_bytes).prop_map(|(at, n, b)| Edit::Replace(at, n, b)),
        (any::<usize>(), any::<usize>()).prop_map(|(line, v)| Edit::SwapValue(line, v)),
    ]
}

fn apply(text: &mut Vec<u8>, edit: &Edit) {
    let len = text.len();
    match edit {
        Edit::Delete(at, n) => {
            let at = at % (len + 1);
            let end = (at + n).min(len);
            text.drain(at..end);
        }
        Edit::Insert(at, bytes) => {
            let at = at % (len + 1);
            text.splice(at..at, bytes.iter().copied());
        }
        Edit::Replace(at, n, bytes) => {
            let at = at % (len + 1);
            let end = (at + n).min(len);
            text.splice(at..end, bytes.iter().copied());
        }
        Edit::SwapValue(line, v) => {
            let source = String::from_utf8_lossy(text).into_owned();
            let lines: Vec<&str> = source.lines().collect();
            let i = line % lines.len().max(1);
            let Some(target) = lines.get(i) else { return };
            let Some((key, _)) = target.split_once('=') else { return };
            let new_line = format!("{key}= {}", VALUES[v % VALUES.len()]);
            let mut out: Vec<String> = lines.iter().map(|l| (*l).to_owned()).collect();
            out[i] = new_line;
            *text = out.join("\n").into_bytes();
        }
    }
}

#[test]
fn the_unmutated_file_is_valid() {
    let (pipeline, _) =
        milo::config::parse_str(VALID, Path::new("Milo.toml")).expect("the base file is valid");
    assert_eq!(pipeline.execution_order(), ["fmt", "build", "test"]);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_files_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        let mut text = VALID.as_bytes().to_vec();
        for e in &edits {
            apply(&mut text, e);
        }
        parse(&String::from_utf8_lossy(&text));
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        parse(&text);
    }

    #[test]
    fn random_toml_shaped_text_never_panics(
        text in "(\\[\\[?pipeline(\\.phase)?(\\.policy)?\\]\\]?\n|[a-z_]{1,12} = (\"[a-z ]{0,6}\"|-?[0-9]{1,3}|\\[\"[a-z]{1,5}\"\\]|true|\\{ [a-z_]{1,10} = \"[a-z]{1,6}\" \\})\n){0,30}"
    ) {
        parse(&text);
    }
}
