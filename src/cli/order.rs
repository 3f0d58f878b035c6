//! `cargo milo order`: the execution order, one phase a line.

use super::GlobalArgs;
use super::load::{load, print};
use crate::error::Error;
use crate::format;

/// Prints the deterministic topological order.
pub fn execute(global: &GlobalArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    print(&format::order(&loaded.pipeline));
    Ok(())
}
