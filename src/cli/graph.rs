//! `cargo milo graph`: the dependency graph as DOT or Mermaid.

use super::load::{load, print};
use super::{GlobalArgs, GraphArgs, GraphFormat};
use crate::error::Error;
use crate::format;

/// Prints the graph in the requested format.
pub fn execute(global: &GlobalArgs, args: &GraphArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    let text = match args.format {
        GraphFormat::Dot => format::dot(&loaded.pipeline),
        GraphFormat::Mermaid => format::mermaid(&loaded.pipeline),
    };
    print(&text);
    Ok(())
}
