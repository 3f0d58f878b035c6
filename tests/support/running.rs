//! `cargo-milo` started in the background, for tests that run two at once or watch one
//! while it runs: its stderr read as it comes, its stdout read only at the end.

use std::io::{BufRead, BufReader, Read};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::{Duration, Instant};

use super::{HANG_LIMIT, Output, Test, redact};

/// A `cargo-milo` process started by [`Test::spawn`].
pub struct Running {
    child: Child,
    lines: Receiver<String>,
    stderr: String,
    test: Test,
}

impl Test {
    /// Starts `cargo-milo` with the arguments and returns at once. Its stdout is not read
    /// until [`Running::finish`]: a run that prints more than a pipe holds (64 KiB) to
    /// stdout blocks on it meanwhile, like one whose reader stalls.
    pub fn spawn(self) -> Running {
        let mut cmd = self.command();
        cmd.stdin(Stdio::null()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().expect("spawn cargo-milo");
        let stderr = child.stderr.take().expect("piped stderr");
        let (tx, lines) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Running { child, lines, stderr: String::new(), test: self }
    }
}

impl Running {
    /// Waits until stderr has a line containing `needle` (with the temp folder as `[ROOT]`);
    /// fails when the process ends first, or after the hang limit.
    #[track_caller]
    pub fn wait_for_stderr(&mut self, needle: &str) {
        let deadline = Instant::now() + HANG_LIMIT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => {
                    self.stderr.push_str(&line);
                    self.stderr.push('\n');
                    if redact(&line, &self.test.root()).contains(needle) {
                        return;
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let _ = self.child.kill();
                    panic!("no `{needle}` on stderr; it says:\n{}", self.stderr);
                }
            }
        }
    }

    /// Sends `signal` (as `kill` spells it: `-INT`, `-TERM`) to the process.
    pub fn signal(&self, signal: &str) {
        let pid = self.child.id().to_string();
        let status = std::process::Command::new("kill").args([signal, &pid]).status();
        assert!(status.expect("run kill").success(), "kill {signal} {pid}");
    }

    /// Waits for the process to end (killing it after the hang limit) and returns what it
    /// did, stdout and the whole of stderr included.
    pub fn finish(mut self) -> Output {
        let mut stdout = self.child.stdout.take().expect("piped stdout");
        let reader = std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = stdout.read_to_end(&mut bytes);
            bytes
        });
        let deadline = Instant::now() + HANG_LIMIT;
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for cargo-milo") {
                break status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("cargo-milo did not end; its stderr so far:\n{}", self.stderr);
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        let stdout = reader.join().expect("stdout reader");
        // The reader thread ends with the pipe: everything is in the channel now.
        self.stderr.extend(self.lines.iter().map(|l| l + "\n"));
        Output {
            code: status.code(),
            stdout: String::from_utf8_lossy(&stdout).into_owned(),
            stderr: self.stderr,
            root: self.test.root(),
            dir: self.test.dir,
        }
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
