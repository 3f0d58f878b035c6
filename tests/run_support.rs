//! Helpers shared by the `run` topics: the timeline as JSON, per-phase facts, processes.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::{HANG_LIMIT, Output, Test};

/// `cargo milo run --timeline tl.json` plus `extra`, in a folder with `toml` as Milo.toml.
pub fn run(toml: &str, extra: &[&str]) -> Output {
    Test::new().milo_toml(toml).args(["run", "--timeline", "tl.json"]).args(extra).run()
}

/// The timeline the run wrote.
pub fn timeline(out: &Output) -> Value {
    serde_json::from_str(&out.read("tl.json")).expect("the timeline is JSON")
}

/// Phase `name` in a timeline.
pub fn phase<'a>(tl: &'a Value, name: &str) -> &'a Value {
    tl["phases"]
        .as_array()
        .expect("phases")
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("no phase {name} in {tl:#}"))
}

/// A phase's status.
pub fn status<'a>(tl: &'a Value, name: &str) -> &'a str {
    phase(tl, name)["status"].as_str().expect("status")
}

/// A phase's start and end, seconds.
pub fn span(tl: &Value, name: &str) -> (f64, f64) {
    let p = phase(tl, name);
    (p["start"].as_f64().expect("start"), p["end"].as_f64().expect("end"))
}

/// The kept log lines of a phase, with their streams.
pub fn logs(tl: &Value, name: &str) -> Vec<(String, String)> {
    phase(tl, name)["logs"]
        .as_array()
        .expect("logs")
        .iter()
        .map(|l| {
            (
                l["line"].as_str().expect("line").to_owned(),
                l["stream"].as_str().expect("stream").to_owned(),
            )
        })
        .collect()
}

/// Just the text of the kept log lines.
pub fn lines(tl: &Value, name: &str) -> Vec<String> {
    logs(tl, name).into_iter().map(|(l, _)| l).collect()
}

/// A `sleep` that only a kill ends within a test: it outlives [`HANG_LIMIT`], so a run that
/// waited for it fails instead of passing late. Its command line is unique on the machine
/// (this process's id and a counter), so `alive` and `gone` see no other test's process, nor
/// one of another test run going on at the same time.
pub fn sleep_until_killed() -> String {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    let secs = 2 * HANG_LIMIT.as_secs() + 30;
    let n = NEXT.fetch_add(1, Ordering::Relaxed) % 1000;
    format!("sleep {secs}.{:07}{n:03}", std::process::id())
}

/// Whether any process whose command line contains `needle` is alive.
pub fn alive(needle: &str) -> bool {
    let out = std::process::Command::new("pgrep").args(["-f", needle]).output().expect("pgrep");
    out.status.success()
}

/// Waits (up to the hang limit) for processes matching `needle` to go; true when they are.
pub fn gone(needle: &str) -> bool {
    let deadline = Instant::now() + HANG_LIMIT;
    while alive(needle) {
        if Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    true
}

/// A shell loop that waits until `condition` holds (failing the phase with exit 9 after the
/// hang limit).
pub fn wait_until(condition: &str) -> String {
    let tries = HANG_LIMIT.as_millis() / 50;
    format!("i=0; until {condition}; do i=$((i+1)); [ $i -gt {tries} ] && exit 9; sleep 0.05; done")
}

/// A shell loop that waits for `file` to exist (see [`wait_until`]).
pub fn wait_for(file: &str) -> String {
    wait_until(&format!("[ -e {file} ]"))
}

/// Runs `cargo-milo ARGS` in `root`, waits until the timeline `root/tl.json` shows the line
/// `up`, sends `signal` (`-INT`, `-TERM`) `times` times, and returns the exit code.
pub fn interrupt_once_up(
    root: &std::path::Path,
    args: &[&str],
    signal: &str,
    times: usize,
) -> Option<i32> {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};

    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-milo"))
        .args(args)
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cargo-milo");
    let tl_path = root.join("tl.json");
    let deadline = Instant::now() + crate::support::HANG_LIMIT;
    while !std::fs::read_to_string(&tl_path).is_ok_and(|t| t.contains("\"up\"")) {
        assert!(Instant::now() < deadline, "the phase never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    for _ in 0..times {
        Command::new("kill").args([signal, &pid]).status().expect("kill");
    }
    let deadline = Instant::now() + crate::support::HANG_LIMIT;
    loop {
        if let Some(s) = child.try_wait().expect("wait") {
            return s.code();
        }
        assert!(Instant::now() < deadline, "cargo-milo did not stop");
        std::thread::sleep(Duration::from_millis(50));
    }
}
