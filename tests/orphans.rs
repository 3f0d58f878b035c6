//! A process that leaves its phase's group (setsid) is still ended when the run is over.

use crate::run_support::alive;
use crate::support::Test;

#[cfg(target_os = "linux")]
#[test]
fn a_process_that_left_its_group_does_not_outlive_the_run() {
    // A duration no other test uses, so pgrep finds only this one.
    let out = Test::new()
        .milo_toml(
            "[[pipeline.phase]]\nname = \"daemon\"\ncmd = \"setsid sleep 313.25 & echo started\"\n",
        )
        .arg("run")
        .run();
    out.success();
    assert!(out.stderr().contains("warning: ended 1 process(es)"), "{}", out.stderr());
    assert!(!alive("sleep 313.25"), "the setsid'd sleep outlived cargo-milo");
}
