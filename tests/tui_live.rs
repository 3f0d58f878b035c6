//! The real binary in a real terminal: tmux runs `cargo-milo` in a detached 80×24 pane, sends
//! keys, and reads the screen back.

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::support::{HANG_LIMIT, Test};

/// A private tmux server (its own socket), killed when dropped.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// Starts `command` in `cwd` in a detached 80×24 pane. After the command the pane prints
    /// its exit code and the terminal modes, then waits (until the server is killed), so the
    /// screen can be read.
    fn start(cwd: &Path, command: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let socket =
            format!("milo-test-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let tmux = Self { socket };
        let script = format!(
            "{command}; echo EXIT=$?; stty -a | tr ' ;' '\\n\\n' | grep -E '^-?(icanon|echo)$'; \
             sleep 600"
        );
        let cwd = cwd.to_str().expect("utf-8 temp path");
        tmux.run(&["new-session", "-d", "-x", "80", "-y", "24", "-c", cwd, &script]);
        tmux
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .args(["-L", &self.socket, "-f", "/dev/null"])
            .args(args)
            .env_remove("TMUX")
            .output()
            .expect("tmux is installed (apt-get install tmux)");
        assert!(out.status.success(), "tmux {args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn screen(&self) -> String {
        self.run(&["capture-pane", "-p"])
    }

    fn keys(&self, keys: &[&str]) {
        for key in keys {
            self.run(&["send-keys", key]);
        }
    }

    /// Waits until the screen satisfies `ready`, and returns it.
    #[track_caller]
    fn wait_for(&self, what: &str, ready: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if ready(&screen) {
                return screen;
            }
            assert!(start.elapsed() < HANG_LIMIT, "never saw {what}; the screen was:\n{screen}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until the pane has printed the exit code and the terminal modes after it.
    #[track_caller]
    fn wait_for_exit(&self) -> String {
        self.wait_for("the exit code and the terminal modes", |s| {
            s.contains("EXIT=") && s.lines().any(|l| l.trim_end().ends_with("echo"))
        })
    }

    /// `alternate_on cursor_flag` of the pane: `0 1` once the terminal is restored.
    fn modes(&self) -> String {
        self.run(&["display-message", "-p", "#{alternate_on} #{cursor_flag}"]).trim().to_owned()
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["-L", &self.socket, "kill-server"]).output();
    }
}

const PIPELINE: &str = r#"
[pipeline]
name = "live"
timeline = "out/timeline.json"

[[pipeline.phase]]
name = "prepare"
cmd = "echo prepared"

[[pipeline.phase]]
name = "serve"
cmd = "for i in 1 2 3; do echo hello from serve $i; done; echo oops >&2; sleep 600"
depends_on = ["prepare"]
"#;

/// The pane's `stty` shows `icanon` and `echo` on: raw mode is off.
#[track_caller]
fn assert_cooked(screen: &str) {
    let modes: Vec<&str> = screen
        .lines()
        .map(str::trim)
        .filter(|l| l.ends_with("icanon") || l.ends_with("echo"))
        .collect();
    assert_eq!(modes, ["icanon", "echo"], "raw mode is off:\n{screen}");
}

fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_cargo-milo")
}

#[test]
fn run_tui_navigates_shows_logs_and_q_cancels_and_restores_the_terminal() {
    let test = Test::new().milo_toml(PIPELINE);
    let tmux = Tmux::start(&test.root(), &format!("{} run --tui", bin()));
    let screen = tmux.wait_for("both phases, serve running", |s| {
        s.contains("✓ prepare") && s.contains("▶ serve") && s.contains("q stop run & quit")
    });
    assert!(screen.contains(" live "), "the header names the pipeline:\n{screen}");
    tmux.keys(&["Down", "Enter"]);
    let screen = tmux.wait_for("serve's lines in the expanded pane", |s| {
        s.contains("─ serve · running ─ lines") && s.contains("hello from serve 3")
    });
    assert!(screen.contains("!│ oops"), "stderr is marked:\n{screen}");
    assert!(screen.contains("following"), "{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for_exit();
    assert!(screen.contains("EXIT=130"), "q mid-run cancels as Ctrl-C would:\n{screen}");
    assert_cooked(&screen);
    assert_eq!(tmux.modes(), "0 1", "alternate screen left, cursor shown");
    let timeline =
        std::fs::read_to_string(test.root().join("out/timeline.json")).expect("timeline");
    assert!(timeline.contains("\"status\": \"cancelled\""), "{timeline}");
}

#[test]
fn run_tui_stays_open_after_the_run_until_q() {
    let quick = "[pipeline]\nname = \"quick\"\n\n[[pipeline.phase]]\nname = \"only\"\n\
                 cmd = \"echo done-and-dusted\"\n";
    let test = Test::new().milo_toml(quick);
    let tmux = Tmux::start(&test.root(), &format!("{} run --tui", bin()));
    let screen = tmux.wait_for("the finished run", |s| s.contains("run finished"));
    assert!(screen.contains("✓ only"), "{screen}");
    assert!(screen.contains("done-and-dusted"), "the preview shows the output:\n{screen}");
    assert!(!screen.contains("EXIT="), "the view waits for q:\n{screen}");
    tmux.keys(&["q"]);
    let screen = tmux.wait_for_exit();
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_cooked(&screen);
    assert_eq!(tmux.modes(), "0 1");
}

#[test]
fn view_replays_a_recorded_timeline_in_a_terminal() {
    let test = Test::new().file("t.json", &super::tui_view::recorded_timeline());
    let tmux = Tmux::start(&test.root(), &format!("{} view t.json", bin()));
    let screen =
        tmux.wait_for("the recorded phases", |s| s.contains("✗ test") && s.contains("· package"));
    assert!(screen.contains("▸✗ test"), "the failed phase is selected:\n{screen}");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("test's lines", |s| s.contains("─ test · failed ─ lines"));
    assert!(screen.contains("✗ exit code 101"), "{screen}");
    assert!(screen.contains("!│ assertion failed: left == right"), "{screen}");
    tmux.keys(&["Escape"]);
    tmux.wait_for("the overview again", |s| s.contains("enter to scroll"));
    tmux.keys(&["Escape"]);
    let screen = tmux.wait_for_exit();
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert_cooked(&screen);
    assert_eq!(tmux.modes(), "0 1");
}

#[test]
fn run_tui_off_a_terminal_falls_back_to_plain_output() {
    let out = Test::new()
        .milo_toml(PIPELINE.replace("sleep 600", "true").as_str())
        .args(["run", "--tui"])
        .run();
    out.success();
    assert!(out.stderr().contains("note: --tui needs a terminal"), "{}", out.stderr());
    assert!(
        out.stdout().contains("✓ serve") || out.stderr().contains("✓ serve"),
        "plain lines:\n{}\n{}",
        out.stdout(),
        out.stderr()
    );
}

#[cfg(unix)]
#[test]
fn sigterm_while_the_view_is_open_cancels_and_restores_the_terminal() {
    let test = Test::new().milo_toml(PIPELINE);
    // `exec` keeps the shell's pid, written first, so the test can signal cargo-milo itself.
    let command = format!("sh -c 'echo $$ > milo.pid; exec {} run --tui'", bin());
    let tmux = Tmux::start(&test.root(), &command);
    tmux.wait_for("serve running", |s| s.contains("▶ serve"));
    let pid: i32 = std::fs::read_to_string(test.root().join("milo.pid"))
        .expect("pid file")
        .trim()
        .parse()
        .expect("a pid");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::Signal::SIGTERM)
        .expect("signal cargo-milo");
    let screen = tmux.wait_for_exit();
    assert!(screen.contains("EXIT=130"), "{screen}");
    assert_cooked(&screen);
    assert_eq!(tmux.modes(), "0 1");
}

#[test]
fn run_tui_captures_output_even_with_no_capture() {
    let quick = "[pipeline]\nname = \"quick\"\ncapture_output = false\n\n[[pipeline.phase]]\n\
                 name = \"only\"\ncmd = \"echo done-and-dusted\"\n";
    let test = Test::new().milo_toml(quick);
    let tmux = Tmux::start(&test.root(), &format!("{} run --tui --no-capture", bin()));
    let screen = tmux.wait_for("the finished run", |s| s.contains("run finished"));
    assert!(
        screen.contains("│ done-and-dusted"),
        "the line is in the view, not over it:\n{screen}"
    );
    tmux.keys(&["q"]);
    let screen = tmux.wait_for_exit();
    assert!(screen.contains("note: --tui shows phase output itself"), "{screen}");
    assert!(screen.contains("EXIT=0"), "{screen}");
}
