//! Helpers shared by the `run` topics: the timeline as JSON, per-phase facts, processes.

use serde_json::Value;

use crate::support::{Output, Test};

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

/// Whether any process whose command line contains `needle` is alive.
pub fn alive(needle: &str) -> bool {
    let out = std::process::Command::new("pgrep").args(["-f", needle]).output().expect("pgrep");
    out.status.success()
}

/// Waits (up to 10 s) for processes matching `needle` to go; true when they are gone.
pub fn gone(needle: &str) -> bool {
    for _ in 0..100 {
        if !alive(needle) {
            return true;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    false
}

/// A shell loop that waits for `file` to exist (up to 20 s, then fails the phase).
pub fn wait_for(file: &str) -> String {
    format!("i=0; while [ ! -e {file} ]; do i=$((i+1)); [ $i -gt 400 ] && exit 9; sleep 0.05; done")
}
