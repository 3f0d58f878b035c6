//! A process that leaves its phase's group (setsid) is still ended when the run is over.

use crate::run_support::{gone, sleep_until_killed, wait_for};
use crate::support::Test;

#[cfg(target_os = "linux")]
#[test]
fn a_process_that_left_its_group_does_not_outlive_the_run() {
    // The phase ends only once the escapee is out of the group (it says so with a file): a
    // slow start must not let the group's own cleanup end it first.
    let sleep = sleep_until_killed();
    let cmd = format!(
        "setsid sh -c 'touch escaped; exec {sleep}' & {}; echo started",
        wait_for("escaped")
    );
    let out = Test::new()
        .milo_toml(&format!("[[pipeline.phase]]\nname = \"daemon\"\ncmd = \"{cmd}\"\n"))
        .arg("run")
        .run();
    out.success();
    assert!(out.stderr().contains("warning: ended 1 process(es)"), "{}", out.stderr());
    assert!(gone(&sleep), "the setsid'd sleep outlived cargo-milo");
}
