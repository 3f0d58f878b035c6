//! `cargo milo completions SHELL`: a completion script from the clap definitions.

use clap::CommandFactory as _;
use clap_complete::Shell;

use super::load::print;
use super::{Cli, CompletionsArgs};

/// The name the script completes: the binary as installed. What `cargo milo …` completes is
/// up to cargo's own completion script.
const BIN_NAME: &str = "cargo-milo";

/// Prints the completion script for the shell.
pub fn execute(args: &CompletionsArgs) {
    let mut command = Cli::command().bin_name(BIN_NAME);
    // Generated into memory: the generator panics on a write error, `print` does not.
    let mut script = Vec::new();
    clap_complete::generate(args.shell, &mut command, BIN_NAME, &mut script);
    let mut script = String::from_utf8_lossy(&script).into_owned();
    if args.shell == Shell::Bash {
        script = fix_bash_states(&script);
    }
    print(&script);
}

/// `clap_complete` (4.6.12) spells the bash state of a subcommand of a hyphenated binary in
/// two ways: `cargo__milo__subcmd__run` where it walks the words, `cargo__subcmd__milo__subcmd__run`
/// where it matches them, so no subcommand's options complete
/// (<https://github.com/clap-rs/clap/issues/6421>). Spell them one way; once `clap_complete`
/// is fixed this changes nothing.
fn fix_bash_states(script: &str) -> String {
    const SEP: &str = "__subcmd__";
    let walked = format!("{}{SEP}", BIN_NAME.replace('-', "__"));
    let matched = format!("{}{SEP}", BIN_NAME.replace('-', SEP));
    script.replace(&matched, &walked)
}
