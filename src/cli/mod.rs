//! The command line: clap arguments and dispatch. Each command lives in its own file.

mod args;
mod check;
mod color;
mod completions;
mod explain;
mod export;
mod graph;
mod init;
mod list;
mod load;
mod mcp;
mod order;
mod orphans;
mod report;
mod results_from;
mod run;
mod run_output;
mod run_tui;
mod timeline_merge;
mod timelines;
mod view;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser;

pub use args::{
    CiChoice, CiService, Cli, ColorChoice, Command, CompletionsArgs, ExplainArgs, ExportArgs,
    GlobalArgs, GraphArgs, GraphFormat, InitArgs, McpArgs, MergeArgs, OutputChoice, ProgressChoice,
    ReportArgs, ReportFormat, ReportSpec, RunArgs, TimelineArgs, TimelineCommand, ViewArgs,
};
pub use load::load as load_config;

use crate::error::Error;

/// Parses `args` (as `cargo-milo …` or `cargo-milo milo …`), runs the command, and returns
/// the exit code ([`Error::exit_code`], or success). Errors are printed to stderr here, once.
pub fn run(args: impl IntoIterator<Item = OsString>) -> ExitCode {
    let mut args: Vec<OsString> = args.into_iter().collect();
    // `cargo milo x` runs `cargo-milo milo x`: drop the subcommand name cargo inserts.
    if args.get(1).is_some_and(|a| a == "milo") {
        args.remove(1);
    }
    let cli = match Cli::try_parse_from(&args) {
        Ok(cli) => cli,
        // `--help` and `--version` come back as errors: their text is what was asked for.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::SUCCESS;
        }
        Err(e) => return fail(&Error::Arguments(e), None, 0),
    };
    match dispatch(&cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e, cli.global.color, cli.global.verbose),
    }
}

/// Prints `error` (unless the run already reported it and `-v` is off) and returns its code.
fn fail(error: &Error, color: Option<ColorChoice>, verbose: u8) -> ExitCode {
    if !error.already_reported() || verbose > 0 {
        let mut stderr = color::stderr(color);
        let text = error.render(color::styled(&stderr));
        let _ = writeln!(stderr, "{text}");
    }
    ExitCode::from(error.exit_code())
}

fn dispatch(cli: &Cli) -> Result<(), Error> {
    match &cli.command {
        Command::Run(args) => run::execute(&cli.global, args),
        Command::Check => check::execute(&cli.global),
        Command::Order => order::execute(&cli.global),
        Command::List => list::execute(&cli.global),
        Command::Graph(args) => graph::execute(&cli.global, args),
        Command::Init(args) => init::execute(&cli.global, args),
        Command::View(args) => view::execute(&cli.global, args),
        Command::Explain(args) => explain::execute(&cli.global, args),
        Command::Completions(args) => {
            completions::execute(args);
            Ok(())
        }
        Command::Mcp(args) => mcp::execute(&cli.global, args),
        Command::Report(args) => report::execute(&cli.global, args),
        Command::Export(args) => export::execute(&cli.global, args),
        Command::Timeline(TimelineArgs { command: TimelineCommand::Merge(args) }) => {
            timeline_merge::execute(&cli.global, args)
        }
    }
}
