//! clap definitions for every command and the global flags.
//!
//! The doc comments on arguments, values and commands are the `--help` text, which shows
//! them verbatim: they name flags, variables and formats without Markdown backticks.
#![allow(clippy::doc_markdown)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::ci::{Flavour, OutputMode};
use crate::export::Ci;
use crate::reports::Format;

/// Run a pipeline of named phases from Milo.toml.
#[derive(Debug, Parser)]
#[command(name = "cargo-milo", bin_name = "cargo milo", version, about, propagate_version = true)]
pub struct Cli {
    /// Flags every command takes.
    #[command(flatten)]
    pub global: GlobalArgs,
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// Flags every command takes.
#[derive(Debug, Args)]
pub struct GlobalArgs {
    /// Use this Milo.toml instead of searching for one.
    #[arg(short = 'f', long = "config", global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Path to Cargo.toml: search for Milo.toml from its folder.
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest_path: Option<PathBuf>,
    /// Coloring: auto, always, never (NO_COLOR and CARGO_TERM_COLOR are honoured).
    #[arg(long, global = true, value_enum, value_name = "WHEN")]
    pub color: Option<ColorChoice>,
    /// Print less: only errors and the final result.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Print more.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
}

/// When to use colors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Colors when the output is a terminal and NO_COLOR is unset.
    Auto,
    /// Always.
    Always,
    /// Never.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the pipeline (or the given targets and their dependencies).
    Run(RunArgs),
    /// Validate Milo.toml and print a one-line summary.
    Check,
    /// Print the execution order, one phase a line.
    Order,
    /// List the phases with their descriptions, dependencies, weights and parallelism.
    List,
    /// Print the dependency graph as DOT or Mermaid.
    Graph(GraphArgs),
    /// Write a Milo.toml from a template.
    Init(InitArgs),
    /// Open the detail view over a recorded timeline.
    View(ViewArgs),
    /// Say, per phase, whether it would run and why: the first difference since its last
    /// success, or "up to date".
    Explain(ExplainArgs),
    /// Print a shell completion script for cargo-milo (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Serve the pipeline to agents: a Model Context Protocol server over stdin/stdout.
    Mcp(McpArgs),
    /// Write a report of a recorded timeline: JUnit XML, Chrome trace, HTML or Markdown.
    Report(ReportArgs),
    /// Work with recorded timelines: merge the partial timelines of one pipeline.
    Timeline(TimelineArgs),
    /// Write the pipeline as CI jobs for GitHub Actions or GitLab CI: one job per phase,
    /// after the jobs of its dependencies.
    Export(ExportArgs),
}

impl Command {
    /// The command's name as typed.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Run(_) => "run",
            Self::Check => "check",
            Self::Order => "order",
            Self::List => "list",
            Self::Graph(_) => "graph",
            Self::Init(_) => "init",
            Self::View(_) => "view",
            Self::Explain(_) => "explain",
            Self::Completions(_) => "completions",
            Self::Mcp(_) => "mcp",
            Self::Report(_) => "report",
            Self::Timeline(_) => "timeline",
            Self::Export(_) => "export",
        }
    }
}

/// `cargo milo run`.
#[derive(Debug, Args, Default)]
pub struct RunArgs {
    /// Run only these phases and their dependencies.
    #[arg(value_name = "TARGET")]
    pub targets: Vec<String>,
    /// Run exactly the TARGETs, none of their dependencies: their dependencies' results come
    /// from --results-from DIR (how each job of an exported CI pipeline runs its phase).
    #[arg(long, requires = "targets", conflicts_with = "affected")]
    pub only: bool,
    /// With --only: a folder of recorded timelines (searched recursively) holding the
    /// results of the dependencies --only does not run.
    #[arg(long, value_name = "DIR", requires = "only")]
    pub results_from: Option<PathBuf>,
    /// Most phases at once (default: the jobs setting in Milo.toml, else available parallelism).
    #[arg(short, long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Cancel running phases as soon as one fails.
    #[arg(long, overrides_with = "no_fail_fast")]
    pub fail_fast: bool,
    /// Let running phases finish when one fails.
    #[arg(long, overrides_with = "fail_fast")]
    pub no_fail_fast: bool,
    /// Pass phase output straight through instead of capturing it.
    #[arg(long)]
    pub no_capture: bool,
    /// Leave processes that phases started outside their process groups (daemons) running
    /// after the run, as keep_daemons = true in Milo.toml does for one phase.
    #[arg(long)]
    pub keep_daemons: bool,
    /// Write the timeline here.
    #[arg(long, value_name = "PATH")]
    pub timeline: Option<PathBuf>,
    /// Print the plan and run nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Run only the per-package instances of packages changed since REV's merge base with
    /// HEAD (uncommitted and untracked files included), and of their dependents.
    #[arg(long, value_name = "REV")]
    pub affected: Option<String>,
    /// Run every phase, up to date or not.
    #[arg(long)]
    pub force: bool,
    /// Open the interactive detail view.
    #[arg(long)]
    pub tui: bool,
    /// Progress bars: auto (on a terminal), always, never.
    #[arg(long, value_enum, default_value_t = ProgressChoice::Auto, value_name = "WHEN")]
    pub progress: ProgressChoice,
    /// How phase output is shown without bars: prefixed (live lines, the default), grouped
    /// (a block per phase when it ends; the default in CI) or errors (failed phases only).
    /// Given here, it also turns bars off (unless --progress always).
    #[arg(long, value_enum, value_name = "MODE")]
    pub output: Option<OutputChoice>,
    /// The CI service the log goes to: github, gitlab or none (default: detected from
    /// GITHUB_ACTIONS / GITLAB_CI). Given here, it also turns bars off (unless
    /// --progress always).
    #[arg(long, value_enum, value_name = "SERVICE")]
    pub ci: Option<CiChoice>,
    /// Write a report when the run ends, failed or cancelled too (repeatable):
    /// e.g. junit=target/milo/junit.xml; formats: junit, trace, html, markdown.
    #[arg(long = "report", value_name = "FORMAT=PATH", value_parser = parse_report)]
    pub reports: Vec<ReportSpec>,
}

/// A report to write after a run: `--report FORMAT=PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportSpec {
    /// The format.
    pub format: Format,
    /// Where to write it.
    pub path: PathBuf,
}

fn parse_report(text: &str) -> Result<ReportSpec, String> {
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    let Some((format, path)) = text.split_once('=') else {
        return Err(format!(
            "expected FORMAT=PATH, e.g. `junit=target/milo/junit.xml` (formats: {})",
            names.join(", ")
        ));
    };
    let Some(format) = Format::from_name(format) else {
        let guess = crate::suggest::closest(format, names.iter().copied())
            .map(|g| format!("did you mean `{g}`? "))
            .unwrap_or_default();
        return Err(format!(
            "unknown report format `{format}`: {guess}formats: {}",
            names.join(", ")
        ));
    };
    if path.is_empty() {
        return Err(format!(
            "no path after `{}=`: e.g. `{}=target/milo/report`",
            format.name(),
            format.name()
        ));
    }
    Ok(ReportSpec { format, path: PathBuf::from(path) })
}

/// `--output`: how phase output is shown without bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputChoice {
    /// Each line as it arrives, as name │ line.
    Prefixed,
    /// Each phase's output as one block when it ends.
    Grouped,
    /// Only failed phases' output.
    Errors,
}

impl From<OutputChoice> for OutputMode {
    fn from(choice: OutputChoice) -> Self {
        match choice {
            OutputChoice::Prefixed => Self::Prefixed,
            OutputChoice::Grouped => Self::Grouped,
            OutputChoice::Errors => Self::Errors,
        }
    }
}

/// A CI service: what `run --ci` writes its log for, `init --ci` writes a workflow for and
/// `export` writes a pipeline for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CiService {
    /// GitHub Actions.
    Github,
    /// GitLab CI.
    Gitlab,
}

impl CiService {
    /// The name on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Github => "github",
            Self::Gitlab => "gitlab",
        }
    }
}

impl From<CiService> for Flavour {
    fn from(service: CiService) -> Self {
        match service {
            CiService::Github => Self::Github,
            CiService::Gitlab => Self::Gitlab,
        }
    }
}

impl From<CiService> for Ci {
    fn from(service: CiService) -> Self {
        match service {
            CiService::Github => Self::Github,
            CiService::Gitlab => Self::Gitlab,
        }
    }
}

/// `run --ci`: a [`CiService`], or `none` (plain lines, even in CI).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CiChoice(pub Option<CiService>);

impl ValueEnum for CiChoice {
    fn value_variants<'a>() -> &'a [Self] {
        &[Self(Some(CiService::Github)), Self(Some(CiService::Gitlab)), Self(None)]
    }

    fn to_possible_value(&self) -> Option<clap::builder::PossibleValue> {
        match self.0 {
            Some(service) => service.to_possible_value(),
            None => {
                Some(clap::builder::PossibleValue::new("none").help("No CI service: plain lines"))
            }
        }
    }
}

impl From<CiChoice> for Flavour {
    fn from(choice: CiChoice) -> Self {
        choice.0.map_or(Self::None, Self::from)
    }
}

/// When to draw progress bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum, Default)]
pub enum ProgressChoice {
    /// Bars on a terminal, plain lines elsewhere.
    #[default]
    Auto,
    /// Always bars.
    Always,
    /// Never bars: plain lines.
    Never,
}

/// `cargo milo graph`.
#[derive(Debug, Args)]
pub struct GraphArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = GraphFormat::Dot)]
    pub format: GraphFormat,
}

/// Graph output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphFormat {
    /// Graphviz DOT.
    Dot,
    /// Mermaid flowchart.
    Mermaid,
}

/// `cargo milo init`.
#[derive(Debug, Args)]
pub struct InitArgs {
    /// The template: minimal, rust-ci or workspace (per-package phases).
    #[arg(long, short, default_value = "rust-ci", value_name = "NAME")]
    pub template: String,
    /// Instead of Milo.toml, write a CI workflow that runs the pipeline and keeps
    /// target/milo/ (.github/workflows/milo.yml or .gitlab-ci.yml).
    #[arg(long, value_enum, value_name = "PROVIDER", conflicts_with = "template")]
    pub ci: Option<CiService>,
}

/// `cargo milo report`.
#[derive(Debug, Args)]
pub struct ReportArgs {
    /// The timeline file (default: the configured timeline path).
    #[arg(value_name = "TIMELINE")]
    pub timeline: Option<PathBuf>,
    /// The report format.
    #[arg(long, value_enum, value_name = "FORMAT")]
    pub format: ReportFormat,
    /// Write the report here instead of to stdout.
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

/// Report formats on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ReportFormat {
    /// JUnit XML: a testsuite for the pipeline, a testcase per phase.
    Junit,
    /// Chrome trace-event JSON (Perfetto, chrome://tracing).
    Trace,
    /// One self-contained HTML page.
    Html,
    /// Markdown: the step summary.
    Markdown,
}

impl From<ReportFormat> for Format {
    fn from(format: ReportFormat) -> Self {
        match format {
            ReportFormat::Junit => Self::Junit,
            ReportFormat::Trace => Self::Trace,
            ReportFormat::Html => Self::Html,
            ReportFormat::Markdown => Self::Markdown,
        }
    }
}

/// `cargo milo view`.
#[derive(Debug, Args)]
pub struct ViewArgs {
    /// The timeline file (default: the configured timeline path).
    #[arg(value_name = "TIMELINE")]
    pub timeline: Option<PathBuf>,
}

/// `cargo milo explain`.
#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The phases to explain (default: all); a per-package phase's name means its instances.
    #[arg(value_name = "PHASE")]
    pub phases: Vec<String>,
}

/// `cargo milo completions`.
#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

/// `cargo milo mcp`.
#[derive(Debug, Args)]
pub struct McpArgs {
    /// Offer the run and cancel tools (without it the server is read-only).
    #[arg(long)]
    pub allow_run: bool,
}

/// `cargo milo timeline`.
#[derive(Debug, Args)]
pub struct TimelineArgs {
    /// What to do with timelines.
    #[command(subcommand)]
    pub command: TimelineCommand,
}

/// `cargo milo timeline` commands.
#[derive(Debug, Subcommand)]
pub enum TimelineCommand {
    /// Join the partial timelines of one pipeline (the jobs of an exported CI pipeline) into
    /// one: each phase from the run that ran it, times on one clock, logs copied beside it.
    Merge(MergeArgs),
}

/// `cargo milo timeline merge`.
#[derive(Debug, Args)]
pub struct MergeArgs {
    /// Timeline files, or folders searched recursively for them (every *.json holding
    /// schema_version and phases).
    #[arg(value_name = "FILE|DIR", required = true)]
    pub inputs: Vec<PathBuf>,
    /// Write the merged timeline here; the phases' logs go to logs/ beside it.
    #[arg(short, long, value_name = "OUT")]
    pub output: PathBuf,
}

/// `cargo milo export`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The CI service to write the pipeline for.
    #[arg(value_enum, value_name = "CI")]
    pub ci: CiService,
    /// Write the file here (default: print it).
    #[arg(short, long, value_name = "PATH")]
    pub output: Option<PathBuf>,
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::Cli;

    /// Every help text, short and long, of `command` and its subcommands, with their names.
    fn helps(command: &mut clap::Command, path: &str, out: &mut Vec<(String, String)>) {
        let path = format!("{path} {}", command.get_name()).trim().to_owned();
        out.push((format!("{path} -h"), command.render_help().to_string()));
        out.push((format!("{path} --help"), command.render_long_help().to_string()));
        for sub in command.get_subcommands_mut() {
            helps(sub, &path, out);
        }
    }

    #[test]
    fn help_texts_hold_no_markdown_backticks() {
        let mut cli = Cli::command();
        cli.build();
        let mut all = Vec::new();
        helps(&mut cli, "", &mut all);
        assert!(all.len() > 20, "every command's help: {}", all.len());
        for (command, help) in all {
            assert!(!help.contains('`'), "`{command}` shows a backtick:\n{help}");
        }
    }
}
