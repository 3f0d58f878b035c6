//! Processes a phase leaves behind: those in its process group end with it, silently; one that
//! left the group (setsid) is still ended when the run is over, with a warning — unless its
//! phase keeps its daemons (`keep_daemons = true`, `run --keep-daemons`).

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
    assert!(out.stderr().contains("keep_daemons = true"), "the warning says how to keep them");
    assert!(gone(&sleep), "the setsid'd sleep outlived cargo-milo");
}

#[test]
fn a_background_process_inside_the_group_ends_without_a_warning() {
    // The sleep stays in the phase's group and holds its output pipe: it is killed with the
    // group when the drain time is over, and reaped as the zombie it then is — no escapee.
    let sleep = sleep_until_killed();
    let out = Test::new()
        .milo_toml(&format!("[[pipeline.phase]]\nname = \"bg\"\ncmd = \"{sleep} & echo x\"\n"))
        .arg("run")
        .run();
    out.success();
    assert!(out.stdout().contains('x'), "{}", out.stdout());
    assert!(!out.stderr().contains("warning"), "a false alarm:\n{}", out.stderr());
    assert!(gone(&sleep), "the background sleep outlived its phase");
}

#[cfg(target_os = "linux")]
/// A phase that starts `sleep` in a session of its own (a daemon) with its output elsewhere,
/// and writes its pid to `file`; the phase ends once the file is there.
fn daemon_phase(name: &str, file: &str, extra: &str) -> String {
    let start = format!(
        "setsid sh -c 'echo $$ > {file}.tmp && mv {file}.tmp {file}; exec {}' \
         >/dev/null 2>&1 & {}; echo started",
        sleep_until_killed(),
        wait_for(file)
    );
    format!("[[pipeline.phase]]\nname = \"{name}\"\ncmd = {start:?}\nparallel = true\n{extra}\n")
}

#[cfg(target_os = "linux")]
/// A process a test started, killed by pid when the test ends (whatever its outcome).
struct Daemon(i32);

#[cfg(target_os = "linux")]
impl Daemon {
    fn from_file(out: &crate::support::Output, file: &str) -> Self {
        Self(out.read(file).trim().parse().expect("a pid in the pid file"))
    }

    /// Whether it still runs (not a zombie) as the `sleep` the phase started.
    fn alive(&self) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.0)).unwrap_or_default();
        let running = stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim().starts_with('Z'));
        running && stat.contains("(sleep)")
    }
}

#[cfg(target_os = "linux")]
impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill").args(["-KILL", &self.0.to_string()]).status();
    }
}

#[cfg(target_os = "linux")]
#[test]
fn keep_daemons_leaves_its_phases_daemons_running_and_ends_the_others() {
    let toml = [
        daemon_phase("db", "db.pid", "keep_daemons = true"),
        daemon_phase("other", "other.pid", ""),
    ]
    .concat();
    let out = Test::new().milo_toml(&toml).args(["run", "-j", "2"]).run();
    out.success();
    let (db, other) = (Daemon::from_file(&out, "db.pid"), Daemon::from_file(&out, "other.pid"));
    assert!(db.alive(), "the daemon of a keep_daemons phase was ended");
    assert!(!other.alive(), "the daemon of a phase without keep_daemons outlived the run");
    assert!(out.stderr().contains("warning: ended 1 process(es)"), "{}", out.stderr());
}

#[cfg(target_os = "linux")]
#[test]
fn run_keep_daemons_leaves_every_daemon_running() {
    let out = Test::new()
        .milo_toml(&daemon_phase("cache", "cache.pid", ""))
        .args(["run", "--keep-daemons"])
        .run();
    out.success();
    let cache = Daemon::from_file(&out, "cache.pid");
    assert!(cache.alive(), "--keep-daemons ended a daemon");
    assert!(!out.stderr().contains("warning"), "{}", out.stderr());
}
