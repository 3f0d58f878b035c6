//! `cargo milo completions SHELL`: a completion script from the clap definitions.

use clap::CommandFactory as _;

use super::load::print;
use super::{Cli, CompletionsArgs};

/// The name the script completes. Cargo's own completions do not hand `cargo milo …` to
/// subcommands, so the script completes the binary as installed: `cargo-milo`.
const BIN_NAME: &str = "cargo-milo";

/// Prints the completion script for the shell.
pub fn execute(args: &CompletionsArgs) {
    let mut command = Cli::command();
    // Generated into memory: the generator panics on a write error, `print` does not.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, BIN_NAME, &mut script);
    print(&String::from_utf8_lossy(&script));
}
