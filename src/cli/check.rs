//! `cargo milo check`: validate Milo.toml and print a one-line summary.

use std::fmt::Write as _;

use super::GlobalArgs;
use super::load::{load, print, shown};
use crate::error::Error;
use crate::format;

/// Validates; prints `Milo.toml: 5 phases, 4 dependencies, ok` unless `-q`. With `-v`, also
/// the file read, the workspace and where the timeline goes (and how each was found).
pub fn execute(global: &GlobalArgs) -> Result<(), Error> {
    let loaded = load(global)?;
    if !global.quiet {
        let mut text = format!("{}\n", format::summary(&shown(&loaded.path), &loaded.pipeline));
        if global.verbose > 0 {
            let _ = writeln!(text, "  file:      {}", loaded.path.display());
            let (timeline, source) = loaded.explained_timeline()?;
            let workspace = loaded.cargo.describe();
            let workspace = workspace.as_deref().unwrap_or("none (no Cargo.toml above Milo.toml)");
            let _ = writeln!(text, "  workspace: {workspace}");
            let _ = writeln!(text, "  timeline:  {} ({source})", timeline.display());
        }
        print(&text);
    }
    Ok(())
}
