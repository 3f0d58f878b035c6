//! Where the timeline goes: a path that cannot hold it fails before any phase runs.

use crate::support::Test;

const MARKER: &str = "[[pipeline.phase]]\nname = \"touch\"\ncmd = \"touch ran\"\n";

#[test]
fn a_folder_as_timeline_is_a_usage_error_before_anything_runs() {
    let out = Test::new().milo_toml(MARKER).folder("out").args(["run", "--timeline", "out/"]).run();
    out.code(2);
    assert!(
        out.stderr().contains("the timeline path `[ROOT]/out/` is a folder"),
        "{}",
        out.stderr()
    );
    assert!(out.stderr().contains("help: pass a file path"), "{}", out.stderr());
    assert!(!out.exists("ran"), "no phase may run");
    assert!(!out.exists("logs"), "no logs folder beside the folder's parent");
}

#[test]
fn an_unwritable_timeline_fails_before_anything_runs() {
    let out = Test::new()
        .milo_toml(MARKER)
        .file("blocker", "a file where a folder should be")
        .args(["run", "--timeline", "blocker/timeline.json"])
        .run();
    out.code(2);
    assert!(out.stderr().contains("blocker/logs"), "{}", out.stderr());
    assert!(out.stderr().contains("= help:"), "{}", out.stderr());
    assert!(!out.exists("ran"), "no phase may run");
}

#[cfg(unix)]
#[test]
fn the_timeline_is_readable_by_others() {
    use std::os::unix::fs::PermissionsExt;
    let out = Test::new().milo_toml(MARKER).args(["run", "--timeline", "t/timeline.json"]).run();
    out.success();
    let mode =
        std::fs::metadata(out.root.join("t/timeline.json")).expect("timeline").permissions().mode();
    assert_eq!(mode & 0o044, 0o044 & !umask(), "mode {mode:o}");
}

/// The process umask, read from /proc (Linux) — 0o022 when it cannot be read.
#[cfg(unix)]
fn umask() -> u32 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find_map(|l| l.strip_prefix("Umask:").map(|v| v.trim().to_owned())))
        .and_then(|v| u32::from_str_radix(&v, 8).ok())
        .unwrap_or(0o022)
}
