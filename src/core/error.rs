//! The crate's error type: variants that hold facts, one renderer that draws them, and the
//! exit-code table.
//!
//! Nothing here is rendered in advance: an [`Error`] keeps what went wrong (a Milo.toml's
//! text and its diagnostics, a path and its I/O error, …) and [`Error::render`] draws it,
//! styled or plain as the caller decides. `Display` is the plain rendering.
//!
//! ```
//! let err = milo::Pipeline::from_toml_str("[[pipeline.phase]]\nname = \"a\"\n").unwrap_err();
//! let milo::Error::Config { diagnostics, .. } = &err else { panic!("a config error") };
//! assert_eq!(diagnostics[0].message, "phase `a` has neither `cmd` nor `args`");
//! assert!(err.to_string().starts_with("error: phase `a` has neither `cmd` nor `args`\n --> Milo.toml:"));
//! assert_eq!(err.exit_code(), milo::error::EXIT_USAGE);
//! ```

use std::fmt::{self, Write as _};
use std::path::PathBuf;

use annotate_snippets::renderer::{
    DEFAULT_EMPHASIS_STYLE, DEFAULT_ERROR_STYLE, DEFAULT_LINE_NUM_STYLE, DEFAULT_WARNING_STYLE,
    Style,
};

use crate::diagnostic::{self, Diagnostic};
use crate::state::{PhaseStatus, PipelineState, PipelineStatus};

/// Exit code: success.
pub const EXIT_OK: u8 = 0;
/// Exit code: the pipeline failed.
pub const EXIT_FAILED: u8 = 1;
/// Exit code: invalid usage or configuration.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: interrupted (Ctrl-C, SIGTERM, or `q` in the detail view).
pub const EXIT_INTERRUPTED: u8 = 130;

/// Everything that can go wrong, each variant carrying the facts a message needs.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// Milo.toml is invalid: every problem found in it, located in its text.
    Config {
        /// The file as messages show it (relative to the current folder when inside it).
        path: PathBuf,
        /// The file's text (invalid UTF-8 replaced), which the diagnostics' spans point into.
        text: String,
        /// Every problem found, in file order.
        diagnostics: Vec<Diagnostic>,
    },
    /// The command line or environment asks for something impossible.
    Usage {
        /// What is wrong.
        message: String,
        /// What to do about it.
        help: Option<String>,
    },
    /// A file or folder could not be read, written or created.
    Io {
        /// What was being done, read before the path: "could not read", "writing the timeline".
        action: String,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Cargo failed (a broken `Cargo.toml`). Its message is the fact: cargo already said
    /// what is wrong and where.
    Cargo {
        /// The command that failed: `cargo metadata`.
        command: String,
        /// What cargo printed on stderr.
        stderr: String,
    },
    /// The terminal could not be drawn on or read from (the detail view).
    Terminal {
        /// What was being done: "drawing the detail view".
        action: String,
        /// The cause.
        source: std::io::Error,
    },
    /// The operating system refused something that has no path: a thread, a socket pair,
    /// a signal handler.
    System {
        /// What was being done: "starting the executor thread".
        action: String,
        /// The cause.
        source: std::io::Error,
    },
    /// A thread of cargo-milo panicked; the panic hook printed its message.
    Panicked {
        /// The thread's name.
        thread: String,
    },
    /// The pipeline ran and did not complete; its report (lines, bars or summary) said why.
    PipelineFailed {
        /// The pipeline's name.
        pipeline: String,
        /// The phases that failed, in declaration order.
        failed: Vec<String>,
    },
    /// The run was interrupted (Ctrl-C, SIGTERM, `q` in the detail view).
    Interrupted,
    /// The command line could not be parsed. The argument parser's error keeps its facts
    /// (the kind, the offending argument, the usage) and renders them.
    #[cfg(feature = "cli")]
    Arguments(clap::Error),
}

impl Error {
    /// The process exit code for this error: the only table of exit codes (see the `EXIT_*`
    /// constants; success is [`EXIT_OK`]).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config { .. }
            | Self::Usage { .. }
            | Self::Io { .. }
            | Self::Terminal { .. }
            | Self::System { .. }
            | Self::Cargo { .. } => EXIT_USAGE,
            #[cfg(feature = "cli")]
            Self::Arguments(_) => EXIT_USAGE,
            Self::Panicked { .. } | Self::PipelineFailed { .. } => EXIT_FAILED,
            Self::Interrupted => EXIT_INTERRUPTED,
        }
    }

    /// The end of a run as a result: `Ok` when the pipeline completed,
    /// [`Error::Interrupted`] when it was cancelled, else [`Error::PipelineFailed`] naming
    /// the failed phases.
    pub fn outcome(state: &PipelineState) -> Result<(), Self> {
        match state.status {
            PipelineStatus::Completed => Ok(()),
            PipelineStatus::Cancelled => Err(Self::Interrupted),
            PipelineStatus::Pending | PipelineStatus::Running | PipelineStatus::Failed => {
                Err(Self::PipelineFailed {
                    pipeline: state.name.clone(),
                    failed: state
                        .phases
                        .iter()
                        .filter(|p| p.status == PhaseStatus::Failed)
                        .map(|p| p.name.to_string())
                        .collect(),
                })
            }
        }
    }

    /// Whether the run's own output has already told the user: a failed or interrupted
    /// run ends with its summary, so the command line repeats nothing (except with `-v`).
    pub fn already_reported(&self) -> bool {
        matches!(self, Self::PipelineFailed { .. } | Self::Interrupted)
    }

    /// Milo.toml at `path` (as shown) is invalid: `diagnostics` locate the problems in `text`.
    pub fn config(
        path: impl Into<PathBuf>,
        text: impl Into<String>,
        diagnostics: Vec<Diagnostic>,
    ) -> Self {
        Self::Config { path: path.into(), text: text.into(), diagnostics }
    }

    /// A usage error with a help line.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self::Usage { message: message.into(), help: Some(help.into()) }
    }

    /// An I/O error while doing `action` on `path`.
    pub fn io(action: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action: action.into(), path: path.into(), source }
    }

    /// The terminal failed while doing `action`.
    pub fn terminal(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::Terminal { action: action.into(), source }
    }

    /// The system refused `action` (a thread, a socket, a signal handler).
    pub fn system(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::System { action: action.into(), source }
    }

    /// Draws the error as the command line prints it: `error: …`, the located snippets of a
    /// Milo.toml problem, `= help: …`. With `styled`, ANSI styles as rustc and cargo use
    /// them; the caller decides (`--color`, `NO_COLOR`, a terminal), not the parser.
    pub fn render(&self, styled: bool) -> String {
        let text = match self {
            Self::Config { path, text, diagnostics } => {
                diagnostic::render(&path.display().to_string(), text, diagnostics, styled)
            }
            #[cfg(feature = "cli")]
            Self::Arguments(e) => {
                let text = e.render();
                if styled { text.ansi().to_string() } else { text.to_string() }
            }
            Self::Usage { message, help } => titled(message, help.as_deref(), styled),
            Self::Io { action, path, source } => titled(
                &format!("{action} `{}`: {source}", path.display()),
                io_help(source.kind()),
                styled,
            ),
            Self::Terminal { action, source } => titled(
                &format!("{action}: {source}"),
                Some(
                    "without a terminal, `run` prints plain lines and `view` the overview: \
                     redirect the output (`| cat`) or run without `--tui`",
                ),
                styled,
            ),
            Self::System { action, source } => titled(
                &format!("{action}: {source}"),
                Some(
                    "the system may be short of threads or open files: close some programs or \
                     raise the limits (`ulimit -u`, `ulimit -n`)",
                ),
                styled,
            ),
            // Cargo's own words; they start with its `error:`.
            Self::Cargo { stderr, .. } if stderr.trim_start().starts_with("error") => {
                stderr.clone()
            }
            Self::Cargo { command, stderr } => titled(
                &format!("`{command}` failed: {}", stderr.trim()),
                Some("run the command yourself to see what cargo says"),
                styled,
            ),
            Self::Panicked { thread } => titled(
                &format!("the {thread} thread panicked (its message is above)"),
                Some("this is a bug in cargo-milo: please report it with the message above"),
                styled,
            ),
            Self::PipelineFailed { pipeline, failed } => {
                let mut message = format!("pipeline `{pipeline}` failed");
                if !failed.is_empty() {
                    let names: Vec<String> = failed.iter().map(|n| format!("`{n}`")).collect();
                    message = format!("{message}: {}", names.join(", "));
                }
                titled(&message, Some("the full logs are beside the timeline, in `logs/`"), styled)
            }
            Self::Interrupted => titled("interrupted", None, styled),
        };
        let mut text = text;
        text.truncate(text.trim_end().len());
        text
    }
}

/// `error: message`, then `  = help: help` (see [`render_message`]).
fn titled(message: &str, help: Option<&str>, styled: bool) -> String {
    render_message(Level::Error, message, &[], help, styled)
}

/// The word a message starts with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// `error:` something went wrong.
    Error,
    /// `warning:` the command goes on, with something lost or skipped.
    Warning,
}

/// Draws a message the way [`Error::render`] draws errors, for what is not an [`Error`]
/// value: a warning, or an error that does not decide the exit code. `level: message`, then
/// a `  = note: …` line per note and `  = help: …`; with `styled`, the styles of rustc's
/// titles and help lines (plain styles write nothing).
///
/// ```
/// use milo::error::{Level, render_message};
/// let text = render_message(Level::Warning, "could not write `a.log`", &["the run goes on"], None, false);
/// assert_eq!(text, "warning: could not write `a.log`\n  = note: the run goes on");
/// ```
pub fn render_message(
    level: Level,
    message: &str,
    notes: &[&str],
    help: Option<&str>,
    styled: bool,
) -> String {
    let (word, title) = match level {
        Level::Error => ("error", DEFAULT_ERROR_STYLE),
        Level::Warning => ("warning", DEFAULT_WARNING_STYLE),
    };
    let [title, emphasis, margin] = if styled {
        [title, DEFAULT_EMPHASIS_STYLE, DEFAULT_LINE_NUM_STYLE]
    } else {
        [Style::new(); 3]
    };
    let mut out = format!("{title}{word}{title:#}{emphasis}: {message}{emphasis:#}");
    let notes = notes.iter().map(|note| ("note", *note));
    for (label, line) in notes.chain(help.map(|help| ("help", help))) {
        let _ = write!(out, "\n  {margin}= {margin:#}{emphasis}{label}{emphasis:#}: {line}");
    }
    out
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// What to do about an I/O error, by its kind.
fn io_help(kind: std::io::ErrorKind) -> Option<&'static str> {
    use std::io::ErrorKind as K;
    Some(match kind {
        K::PermissionDenied | K::ReadOnlyFilesystem => {
            "check the permissions of the file and its folder, or choose another path"
        }
        K::NotFound => "check that the path and its folders exist",
        K::NotADirectory => "a part of the path is a file, not a folder: fix the path",
        K::IsADirectory => "the path is a folder: give a file path instead",
        K::StorageFull | K::QuotaExceeded => "free some disk space, or choose another path",
        _ => return None,
    })
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Io { source, .. }
            | Self::Terminal { source, .. }
            | Self::System { source, .. } => Some(source),
            #[cfg(feature = "cli")]
            Self::Arguments(e) => Some(e),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::ErrorKind;

    use super::*;
    use crate::action::Action;
    use crate::phase::Phase;
    use crate::pipeline::Pipeline;
    use crate::reducer::reduce;

    #[test]
    fn io_errors_say_what_to_do() {
        let e = Error::io("could not read", "/x/Milo.toml", ErrorKind::PermissionDenied.into());
        let text = e.to_string();
        assert!(
            text.starts_with("error: could not read `/x/Milo.toml`: permission denied"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "= help: check the permissions of the file and its folder, or choose another path"
            ),
            "{text}"
        );
        assert_eq!(e.exit_code(), EXIT_USAGE);
    }

    #[test]
    fn errors_without_a_path_do_not_pretend_to_have_one() {
        let terminal = Error::terminal("drawing the detail view", ErrorKind::BrokenPipe.into());
        let system = Error::system("starting the executor thread", ErrorKind::OutOfMemory.into());
        let panicked = Error::Panicked { thread: "milo-executor".into() };
        for (e, first) in [
            (
                &terminal,
                "error: drawing the detail view: broken pipe\n  = help: without a terminal",
            ),
            (&system, "error: starting the executor thread: out of memory\n  = help: the system"),
            (&panicked, "error: the milo-executor thread panicked (its message is above)\n"),
        ] {
            let text = e.to_string();
            assert!(text.starts_with(first), "{text}");
            let headline = text.lines().next().unwrap_or_default();
            assert!(!headline.contains('`'), "no path is quoted: {text}");
        }
        assert!(std::error::Error::source(&terminal).is_some());
        assert!(std::error::Error::source(&panicked).is_none());
    }

    #[test]
    fn the_exit_code_table() {
        let io = || std::io::Error::from(ErrorKind::Other);
        let codes = [
            (Error::config("Milo.toml", "", vec![Diagnostic::whole_file("x")]), EXIT_USAGE),
            (Error::usage("x", "y"), EXIT_USAGE),
            (Error::io("could not read", "/x", io()), EXIT_USAGE),
            (Error::terminal("drawing", io()), EXIT_USAGE),
            (Error::system("starting", io()), EXIT_USAGE),
            (Error::Cargo { command: "cargo metadata".into(), stderr: "x".into() }, EXIT_USAGE),
            (Error::Panicked { thread: "t".into() }, EXIT_FAILED),
            (Error::PipelineFailed { pipeline: "p".into(), failed: vec![] }, EXIT_FAILED),
            (Error::Interrupted, EXIT_INTERRUPTED),
        ];
        for (e, code) in codes {
            assert_eq!(e.exit_code(), code, "{e}");
        }
    }

    #[test]
    fn a_run_ends_in_its_exit_code() {
        let pipeline = Pipeline::new("ci")
            .phase(Phase::cmd("a", "true"))
            .phase(Phase::cmd("b", "false"))
            .build()
            .expect("valid");
        let start = PipelineState::new(&pipeline);
        let end = |action: Action| reduce(start.clone(), &action);
        assert!(Error::outcome(&end(Action::PipelineComplete { t: 1.0 })).is_ok());
        let cancelled = Error::outcome(&end(Action::PipelineCancelled { t: 1.0 }));
        assert!(matches!(cancelled, Err(Error::Interrupted)));
        let failed = reduce(
            end(Action::PhaseFailed {
                name: "b".into(),
                error: "exit code 1".into(),
                exit_code: Some(1),
                t: 0.5,
            }),
            &Action::PipelineFailed { t: 1.0 },
        );
        let e = Error::outcome(&failed).expect_err("failed");
        assert_eq!(e.exit_code(), EXIT_FAILED);
        assert!(e.already_reported());
        assert!(e.to_string().starts_with("error: pipeline `ci` failed: `b`\n"), "{e}");
    }

    #[test]
    fn styles_only_when_asked() {
        let e = Error::usage("`x` already exists", "remove it first");
        assert_eq!(e.render(false), "error: `x` already exists\n  = help: remove it first");
        let styled = e.render(true);
        assert!(styled.contains("\x1b[") && styled.contains("already exists"), "{styled:?}");
        let config = Error::config(
            "Milo.toml",
            "weight = -1\n",
            vec![Diagnostic::new("bad", 9..11).help("fix it")],
        );
        assert!(!config.to_string().contains('\x1b'));
        assert!(config.render(true).contains("\x1b["));
    }
}
