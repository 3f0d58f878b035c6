//! Milo.toml as written: every value with the byte span it came from.
//!
//! The parts depend one way: [`parse`] (here) parses a big file in pieces (`pieces.rs`) or
//! the whole file at once; both read TOML through one reader (`reader.rs`), which fills the
//! types of `model.rs`.

mod model;
mod pieces;
mod reader;

pub use model::{At, RawDuration, RawExport, RawPackages, RawPhase, RawPipeline, RawPolicy};

use crate::diagnostic::Diagnostic;

/// Parses `source`. TOML syntax errors are returned as the error (nothing else can be
/// trusted then); shape problems come back beside the raw pipeline.
pub fn parse(source: &str) -> Result<(RawPipeline, Vec<Diagnostic>), Vec<Diagnostic>> {
    if source.len() > 2 * pieces::CHUNK
        && let Some(pipeline) = pieces::parse_chunked(source, pieces::CHUNK)
    {
        return Ok((pipeline, Vec::new()));
    }
    reader::parse_whole(source)
}
