//! Ctrl-C / SIGTERM: exit 130, `cancelled` in the timeline, no process left behind.

use crate::run_support::{gone, interrupt_once_up, sleep_until_killed, status, timeline};
use crate::support::Test;

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
    let times = if twice { 2 } else { 1 };
    let code = interrupt_once_up(&out.root, &["run", "--timeline", "tl.json"], signal, times);
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
