//! Where the timeline goes: a path that cannot hold it fails before any phase runs; a log
//! or timeline write that fails later is reported, and the run goes on.

use crate::run_support::{phase, run, timeline, wait_until};
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
fn a_fifo_or_device_as_timeline_or_report_is_a_usage_error_and_stays() {
    // A FIFO stands for /dev/null: renaming the timeline over it would replace it.
    let test = Test::new().milo_toml(MARKER);
    let made = std::process::Command::new("mkfifo")
        .arg(test.root().join("pipe"))
        .status()
        .expect("mkfifo (coreutils) runs");
    assert!(made.success(), "mkfifo pipe");
    let is_fifo = |out: &crate::support::Output| {
        let meta = std::fs::symlink_metadata(out.root.join("pipe")).expect("pipe still there");
        std::os::unix::fs::FileTypeExt::is_fifo(&meta.file_type())
    };
    let out = test.args(["run", "--timeline", "pipe"]).run();
    out.code(2);
    assert!(
        out.stderr().contains(
            "the timeline path `[ROOT]/pipe` is not a regular file (a device, a FIFO or a socket)"
        ),
        "{}",
        out.stderr()
    );
    assert!(!out.exists("ran"), "no phase may run");
    assert!(is_fifo(&out), "the FIFO is left as it was");
    let report = out.then().args(["run", "--report", "junit=pipe"]).run();
    report.code(2);
    assert!(report.stderr().contains("the report path `"), "{}", report.stderr());
    assert!(!report.exists("ran"), "no phase may run");
    assert!(is_fifo(&report), "the FIFO is left as it was");
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

/// Phase `b` prints; then phase `a` prints and ends with `exit`.
fn two_phases(exit: u8) -> String {
    format!(
        "[[pipeline.phase]]\nname = \"b\"\ncmd = \"echo from-b\"\n\
         [[pipeline.phase]]\nname = \"a\"\ncmd = \"echo from-a; exit {exit}\"\n"
    )
}

#[test]
fn a_log_that_cannot_be_written_is_reported_and_the_run_goes_on() {
    // A folder where `a`'s log goes: opening it fails, whoever runs the test (root too).
    let out = Test::new()
        .milo_toml(&two_phases(3))
        .folder("t/logs/a.log")
        .args(["run", "--timeline", "t/timeline.json"])
        .run();
    // The run's own outcome: `a` failed.
    out.code(1);
    let stderr = out.stderr();
    assert!(
        stderr.contains(
            "warning: could not write the log of phase `a` `[ROOT]/t/logs/a.log`: Is a directory \
             (os error 21)\n  = note: the rest of this phase's output is not in its log file; \
             the run goes on\n  = help: a folder is in the way: remove or rename \
             `[ROOT]/t/logs/a.log`, then run again\n"
        ),
        "{stderr}"
    );
    assert_eq!(stderr.matches("warning: could not write").count(), 1, "{stderr}");
    let tl: serde_json::Value =
        serde_json::from_str(&out.read("t/timeline.json")).expect("the timeline is JSON");
    let warnings = tl["warnings"].as_array().expect("warnings in the timeline");
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    assert_eq!(warnings[0]["path"], "logs/a.log");
    assert_eq!(warnings[0]["phase"], "a");
    assert!(warnings[0]["message"].as_str().is_some_and(|m| m.contains("Is a directory")));
    // The other phase's log, and the run's record of `a`, are whole.
    assert!(out.read("t/logs/b.log").ends_with("from-b\n"));
    assert_eq!(tl["phases"][1]["logs"][0]["line"], "from-a");
    assert_eq!(tl["status"], "failed");
}

/// A first phase that puts a folder where the timeline goes, so that every later write of
/// it fails; then `b`, and `a` ending with `exit`.
fn timeline_blocked(exit: u8) -> String {
    format!(
        "[[pipeline.phase]]\nname = \"block\"\ncmd = \"rm t/timeline.json && mkdir t/timeline.json\"\n\
         [[pipeline.phase]]\nname = \"b\"\ncmd = \"echo from-b\"\ndepends_on = [\"block\"]\n\
         [[pipeline.phase]]\nname = \"a\"\ncmd = \"exit {exit}\"\ndepends_on = [\"block\"]\n"
    )
}

#[test]
fn a_final_timeline_that_cannot_be_written_keeps_the_runs_exit_code() {
    for (exit, code, outcome) in [(0, 0, "the pipeline completed"), (3, 1, "the pipeline failed")] {
        let out = Test::new()
            .milo_toml(&timeline_blocked(exit))
            .args(["run", "--timeline", "t/timeline.json"])
            .run();
        out.code(code);
        let stderr = out.stderr();
        assert!(
            stderr.contains(&format!(
                "error: could not write the timeline `[ROOT]/t/timeline.json`: Is a directory \
                 (os error 21)\n  = note: there is no timeline on disk; {outcome} (exit code \
                 {code})\n  = help: a folder is in the way: remove or rename \
                 `[ROOT]/t/timeline.json`, then run again"
            )),
            "{stderr}"
        );
        // The logs are whole all the same.
        assert!(out.read("t/logs/b.log").ends_with("from-b\n"));
    }
}

#[test]
fn the_live_timeline_shows_each_phase_as_it_ends() {
    // A chain in which each phase waits for the one before to show up completed in the live
    // timeline (its output is there only then), beside a phase whose entry, written once,
    // is copied by every later rewrite: a rewrite that missed a change, or damaged what it
    // copied, leaves a phase waiting (exit 9) or the final file wrong.
    let mut toml = String::from("[pipeline]\njobs = 2\n");
    toml += "[[pipeline.phase]]\nname = \"quiet\"\nparallel = true\n";
    toml += "cmd = '''echo 'é \"q\"' '''\n";
    toml += &(0..6)
        .map(|k| {
            let (deps, wait) = if k == 0 {
                (String::new(), String::from("true"))
            } else {
                let grep = format!("grep -q '\"k\": \"done-{}\"' tl.json", k - 1);
                (format!("depends_on = [\"p{}\"]\n", k - 1), wait_until(&grep))
            };
            format!(
                "[[pipeline.phase]]\nname = \"p{k}\"\n{deps}\
                 cmd = '''{wait}; echo k=done-{k} >> \"$MILO_OUTPUT\"'''\n"
            )
        })
        .collect::<Vec<_>>()
        .concat();
    let out = run(&toml, &[]);
    out.success();
    let tl = timeline(&out);
    for k in 0..6 {
        assert_eq!(phase(&tl, &format!("p{k}"))["outputs"]["k"], format!("done-{k}"));
    }
    assert_eq!(phase(&tl, "quiet")["logs"][0]["line"], "é \"q\"");
}

#[test]
fn a_final_timeline_error_is_drawn_like_every_error_in_colour_too() {
    let out = Test::new()
        .milo_toml(&timeline_blocked(0))
        .args(["run", "--timeline", "t/timeline.json", "--color", "always"])
        .run();
    out.code(0);
    let drawn = milo::error::render_message(
        milo::error::Level::Error,
        "could not write the timeline `[ROOT]/t/timeline.json`: Is a directory (os error 21)",
        &["there is no timeline on disk; the pipeline completed (exit code 0)"],
        Some("a folder is in the way: remove or rename `[ROOT]/t/timeline.json`, then run again"),
        true,
    );
    assert!(drawn.contains('\x1b'), "styled: {drawn:?}");
    assert!(out.stderr_exact().contains(&drawn), "{:?}", out.stderr_exact());
}
