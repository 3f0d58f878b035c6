//! Milo.toml: discovery, the raw spanned form, validation into a [`Pipeline`].

use std::path::PathBuf;

use crate::error::Error;
use crate::pipeline::Pipeline;

/// Where to look for Milo.toml.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// `-f/--config`: this file, no search.
    pub config: Option<PathBuf>,
    /// `--manifest-path`: search from this Cargo.toml's folder.
    pub manifest_path: Option<PathBuf>,
    /// The folder to search from (normally the current directory).
    pub cwd: PathBuf,
}

/// A loaded, validated Milo.toml.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The file that was read.
    pub path: PathBuf,
    /// The pipeline it describes (relative paths already resolved against its folder).
    pub pipeline: Pipeline,
    /// Where the timeline goes: `timeline` from the file, else `<target dir>/milo/timeline.json`.
    pub timeline: PathBuf,
}

/// Finds, reads and validates Milo.toml. Placeholder: the real loader lands with issue 2.
pub fn load(_options: &LoadOptions) -> Result<Loaded, Error> {
    Err(Error::usage("Milo.toml loading is not implemented yet", "wait for issue 2"))
}
