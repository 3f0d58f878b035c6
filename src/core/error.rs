//! The crate's error type and the exit-code table.

use std::fmt;
use std::path::PathBuf;

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
pub enum Error {
    /// Milo.toml is invalid; the text is fully rendered (every problem, located).
    Config(String),
    /// The command line or environment asks for something impossible.
    Usage {
        /// What is wrong.
        message: String,
        /// What to do about it.
        help: Option<String>,
    },
    /// A file could not be read or written.
    Io {
        /// What was being done, e.g. "reading Milo.toml".
        action: String,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// Cargo failed (a broken `Cargo.toml`); its own message, as it printed it.
    Cargo(String),
    /// The pipeline ran and failed.
    PipelineFailed(String),
    /// The run was interrupted.
    Interrupted,
}

impl Error {
    /// The process exit code for this error (see the `EXIT_*` constants).
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Config(_) | Self::Usage { .. } | Self::Io { .. } | Self::Cargo(_) => EXIT_USAGE,
            Self::PipelineFailed(_) => EXIT_FAILED,
            Self::Interrupted => EXIT_INTERRUPTED,
        }
    }

    /// A usage error with a help line.
    pub fn usage(message: impl Into<String>, help: impl Into<String>) -> Self {
        Self::Usage { message: message.into(), help: Some(help.into()) }
    }

    /// An I/O error while doing `action` on `path`.
    pub fn io(action: impl Into<String>, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { action: action.into(), path: path.into(), source }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Config(text) | Self::Cargo(text) => f.write_str(text.trim_end()),
            Self::Usage { message, help } => {
                write!(f, "error: {message}")?;
                if let Some(help) = help {
                    write!(f, "\n  = help: {help}")?;
                }
                Ok(())
            }
            Self::Io { action, path, source } => {
                write!(f, "error: {action} `{}`: {source}", path.display())?;
                if let Some(help) = io_help(source.kind()) {
                    write!(f, "\n  = help: {help}")?;
                }
                Ok(())
            }
            Self::PipelineFailed(message) => write!(f, "error: {message}"),
            Self::Interrupted => f.write_str("error: interrupted"),
        }
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
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_say_what_to_do() {
        let e = Error::io(
            "could not read",
            "/x/Milo.toml",
            std::io::Error::from(std::io::ErrorKind::PermissionDenied),
        );
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
}
