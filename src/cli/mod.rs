//! The command line: clap arguments and dispatch. Each command lives in its own file.

mod args;
mod check;
mod color;
mod graph;
mod init;
mod list;
mod load;
mod order;
mod orphans;
mod run;
mod run_tui;
mod view;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser;

pub use args::{
    Cli, ColorChoice, Command, GlobalArgs, GraphArgs, GraphFormat, InitArgs, ProgressChoice,
    RunArgs, ViewArgs,
};
pub use load::load as load_config;

use crate::error::Error;

/// Parses `args` (as `cargo-milo …` or `cargo-milo milo …`), runs the command, and returns
/// the exit code. Errors are printed to stderr here, once.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // `cargo milo x` runs `cargo-milo milo x`: drop the subcommand name cargo inserts.
    if args.get(1).is_some_and(|a| a == "milo") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { crate::error::EXIT_USAGE } else { 0 });
        }
    };
    match dispatch(&cli) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            if !matches!(e, Error::Interrupted) || cli.global.verbose > 0 {
                eprintln!("{}", color::paint_error(&e.to_string(), cli.global.color));
            }
            ExitCode::from(e.exit_code())
        }
    }
}

fn dispatch(cli: &Cli) -> Result<u8, Error> {
    match &cli.command {
        Command::Run(args) => run::execute(&cli.global, args),
        Command::Check => check::execute(&cli.global),
        Command::Order => order::execute(&cli.global),
        Command::List => list::execute(&cli.global),
        Command::Graph(args) => graph::execute(&cli.global, args),
        Command::Init(args) => init::execute(&cli.global, args),
        Command::View(args) => view::execute(&cli.global, args),
    }
}
