//! `cargo-milo` started in the background, for tests that run two at once or watch one
//! while it runs: one stream read as it comes (stderr, or stdout), the other only at the end.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::{HANG_LIMIT, Output, Test, redact};

/// A `cargo-milo` process started by [`Test::spawn`] or [`Test::spawn_watching_stdout`].
pub struct Running {
    child: Child,
    /// Whether stdout (else stderr) is the stream read as it comes.
    watching_stdout: bool,
    lines: Receiver<String>,
    /// What the watched stream said so far.
    seen: String,
    test: Test,
}

impl Test {
    /// Starts `cargo-milo` with the arguments and returns at once; its stderr is read as it
    /// comes ([`Running::wait_for_stderr`]). Its stdout is not read until
    /// [`Running::finish`]: a run that prints more than a pipe holds (64 KiB) to stdout
    /// blocks on it meanwhile, like one whose reader stalls.
    pub fn spawn(self) -> Running {
        self.start(false)
    }

    /// Starts `cargo-milo` with the arguments and returns at once; its stdout is read as it
    /// comes ([`Running::wait_for_stdout`]), its stderr at the end.
    pub fn spawn_watching_stdout(self) -> Running {
        self.start(true)
    }

    fn start(self, watching_stdout: bool) -> Running {
        let mut cmd = self.command();
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn cargo-milo");
        let watched: Box<dyn Read + Send> = if watching_stdout {
            Box::new(child.stdout.take().expect("piped stdout"))
        } else {
            Box::new(child.stderr.take().expect("piped stderr"))
        };
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(watched).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, watching_stdout, lines, seen: String::new(), test: self }
    }
}

impl Running {
    /// The temp folder the process runs in.
    pub fn root(&self) -> std::path::PathBuf {
        self.test.root()
    }

    /// Waits until stderr has a line containing `needle` (with the temp folder as `[ROOT]`);
    /// fails when the process ends first, or after the hang limit.
    #[track_caller]
    pub fn wait_for_stderr(&mut self, needle: &str) {
        assert!(!self.watching_stdout, "started by spawn_watching_stdout: stderr comes at the end");
        self.wait_for_line(needle);
    }

    /// Waits until stdout has a line containing `needle` (with the temp folder as `[ROOT]`);
    /// fails when the process ends first, or after the hang limit.
    #[track_caller]
    pub fn wait_for_stdout(&mut self, needle: &str) {
        assert!(self.watching_stdout, "started by spawn: stdout comes at the end");
        self.wait_for_line(needle);
    }

    #[track_caller]
    fn wait_for_line(&mut self, needle: &str) {
        let deadline = Instant::now() + HANG_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.seen.push_str(&line);
                    self.seen.push('\n');
                    if redact(&line, &self.test.root()).contains(needle) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!("no `{needle}` on {}; it says:\n{}", self.stream(), self.seen);
                }
            }
        }
    }

    fn stream(&self) -> &'static str {
        if self.watching_stdout { "stdout" } else { "stderr" }
    }

    /// Sends `signal` (as `kill` spells it: `-INT`, `-TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill").args([signal, &pid]).status();
        assert!(status.expect("run kill").success(), "kill {signal} {pid}");
    }

    /// Waits for the process to end (killing it after the hang limit) and returns what it
    /// did, the whole of stdout and stderr included.
    pub fn finish(mut self) -> Output {
        let mut other: Box<dyn Read + Send> = if self.watching_stdout {
            Box::new(self.child.stderr.take().expect("piped stderr"))
        } else {
            Box::new(self.child.stdout.take().expect("piped stdout"))
        };
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = other.read_to_end(&mut bytes);
            bytes
        });
        let deadline = Instant::now() + HANG_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for cargo-milo") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("cargo-milo did not end; its {} so far:\n{}", self.stream(), self.seen);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let other = String::from_utf8_lossy(&reader.join().expect("reader")).into_owned();
        // The reader thread ends with the pipe: everything is in the channel now.
        self.seen.extend(self.lines.iter().map(|l| l + "\n"));
        let (stdout, stderr) =
            if self.watching_stdout { (self.seen, other) } else { (other, self.seen) };
        Output { code: status.code(), stdout, stderr, root: self.test.root(), dir: self.test.dir }
    }
}

/// Waits until `path` exists; fails after the hang limit.
#[track_caller]
pub fn wait_for_file(path: &Path) {
    let deadline = Instant::now() + HANG_LIMIT;
    while !path.exists() {
        assert!(Instant::now() < deadline, "{} never appeared", path.display());
        std::thread::sleep(Duration::from_millis(20));
    }
}
