//! Ctrl-C / SIGTERM: exit 130, `cancelled` in the timeline, no process left behind.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::run_support::{gone, sleep_until_killed, status, timeline};
use crate::support::{HANG_LIMIT, Test};

fn interrupt_after_start(signal: &str, twice: bool) {
    let marker = sleep_until_killed();
    let out = Test::new()
        .milo_toml(&format!(
            "[[pipeline.phase]]\nname = \"sleepy\"\ncmd = \"echo up; {marker}\"\n\
             [[pipeline.phase]]\nname = \"after\"\ncmd = \"true\"\ndepends_on = [\"sleepy\"]\n"
        ))
        .args(["run", "--dry-run"])
        .run();
    out.success();
    let mut child = Command::new(env!("CARGO_BIN_EXE_cargo-milo"))
        .args(["run", "--timeline", "tl.json"])
        .current_dir(&out.root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn cargo-milo");
    let tl_path = out.root.join("tl.json");
    let deadline = Instant::now() + HANG_LIMIT;
    while !std::fs::read_to_string(&tl_path).is_ok_and(|t| t.contains("\"up\"")) {
        assert!(Instant::now() < deadline, "the phase never started");
        std::thread::sleep(Duration::from_millis(50));
    }
    let pid = child.id().to_string();
    let send = || {
        Command::new("kill").args([signal, &pid]).status().expect("kill");
    };
    send();
    if twice {
        send();
    }
    let deadline = Instant::now() + HANG_LIMIT;
    let code = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s.code();
        }
        assert!(Instant::now() < deadline, "cargo-milo did not stop");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert_eq!(code, Some(130));
    let tl = timeline(&out);
    assert_eq!(tl["status"], "cancelled");
    assert_eq!(status(&tl, "sleepy"), "cancelled");
    assert_eq!(status(&tl, "after"), "pending");
    assert!(gone(&marker), "no survivors");
}

#[test]
fn sigint_mid_run_cancels() {
    interrupt_after_start("-INT", false);
}

#[test]
fn sigterm_mid_run_cancels() {
    interrupt_after_start("-TERM", false);
}

#[test]
fn a_second_interrupt_kills_at_once() {
    interrupt_after_start("-INT", true);
}
