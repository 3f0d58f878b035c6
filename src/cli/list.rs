//! `cargo milo list`: the phases with descriptions, dependencies, weights and parallelism.

use super::GlobalArgs;
use super::load::{load, print};
use crate::error::Error;
use crate::format;

/// Prints the phase table.
pub fn execute(global: &GlobalArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    print(&format::list(&loaded.pipeline));
    Ok(())
}
