//! `cargo milo check`: validate Milo.toml and print a one-line summary.

use super::GlobalArgs;
use super::load::{load, print, shown};
use crate::error::{EXIT_OK, Error};
use crate::format;

/// Validates; prints `Milo.toml: 5 phases, 4 dependencies, ok` unless `-q`.
pub fn execute(global: &GlobalArgs) -> Result<u8, Error> {
    let loaded = load(global)?;
    if !global.quiet {
        print(&format!("{}\n", format::summary(&shown(&loaded.path), &loaded.pipeline)));
    }
    Ok(EXIT_OK)
}
