//! The tools: `check`, `order` and `phase_log` always; `run` and `cancel` only when the
//! server was started with running allowed.

use rmcp::ErrorData;
use rmcp::handler::server::common::{schema_for_empty_input, schema_for_input};
use rmcp::model::{CallToolResult, ContentBlock, JsonObject, Tool, ToolAnnotations};
use schemars::JsonSchema;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::logs::last_lines;
use super::resources::{TIMELINE_URI, log_uri};
use super::runner::{Ended, Refused};
use super::server::Shared;
use crate::exec::effective_jobs;
use crate::format;
use crate::phase::is_valid_name;

/// What `run` and `cancel` say when the server is read-only.
const READ_ONLY: &str = "this server is read-only: start it with `cargo milo mcp --allow-run` \
                         (or `McpServer::builder().allow_run(true)`) to let clients run and \
                         cancel pipelines";

/// `phase_log`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct PhaseLogArgs {
    /// The phase's name, as in Milo.toml.
    name: String,
    /// Only its last `lines` lines (default: everything, up to the last 256 KiB).
    #[serde(default)]
    lines: Option<usize>,
}

/// `run`'s arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct RunArgs {
    /// Run only these phases and what they depend on (default: every phase).
    #[serde(default)]
    targets: Vec<String>,
    /// Most phases at once (default: `jobs` in Milo.toml; 0: the number of CPUs).
    #[serde(default)]
    jobs: Option<usize>,
}

/// No arguments.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
struct NoArgs {}

/// The tools this server lists.
pub(crate) fn list(allow_run: bool) -> Vec<Tool> {
    let read_only = |title: &str| {
        ToolAnnotations::with_title(title)
            .read_only(true)
            .destructive(false)
            .idempotent(true)
            .open_world(false)
    };
    let mut tools = vec![
        Tool::new(
            "check",
            "Validate Milo.toml and summarize it (phases, dependencies), or show every problem \
             with its file:line:col. Read-only.",
            schema_for_empty_input(),
        )
        .annotate(read_only("Check the pipeline")),
        Tool::new(
            "order",
            "The phases in execution order, one name a line. Read-only.",
            schema_for_empty_input(),
        )
        .annotate(read_only("Execution order")),
        Tool::new(
            "phase_log",
            "Everything a phase printed in the last run (every attempt), or its end when long. \
             Read-only.",
            schema::<PhaseLogArgs>(),
        )
        .annotate(read_only("Phase log")),
    ];
    if allow_run {
        tools.push(
            Tool::new(
                "run",
                "Start the pipeline (or the given targets and their dependencies) and return \
                 at once with what started; follow its progress through the resource \
                 milo://pipeline/timeline (subscribe to it). One run at a time.",
                schema::<RunArgs>(),
            )
            .annotate(
                ToolAnnotations::with_title("Run the pipeline")
                    .read_only(false)
                    .destructive(true)
                    .idempotent(false)
                    .open_world(true),
            ),
        );
        tools.push(
            Tool::new(
                "cancel",
                "Cancel the run this server started: running phases get SIGTERM, then SIGKILL \
                 after a grace period.",
                schema_for_empty_input(),
            )
            .annotate(
                ToolAnnotations::with_title("Cancel the run")
                    .read_only(false)
                    .destructive(true)
                    .idempotent(true)
                    .open_world(false),
            ),
        );
    }
    tools
}

fn schema<T: JsonSchema + 'static>() -> std::sync::Arc<JsonObject> {
    // The argument types are objects by construction; an empty schema is the fallback.
    schema_for_input::<T>().unwrap_or_else(|_| schema_for_empty_input())
}

impl Shared {
    /// Calls tool `name`. Unknown tools and bad arguments are JSON-RPC errors; a tool that
    /// ran and failed (an invalid Milo.toml, a run already going) is a result marked as an
    /// error, which the agent reads.
    pub(crate) fn call_tool(
        &self,
        name: &str,
        arguments: Option<JsonObject>,
    ) -> Result<CallToolResult, ErrorData> {
        match name {
            "check" => {
                let NoArgs {} = args(name, arguments)?;
                Ok(self.check())
            }
            "order" => {
                let NoArgs {} = args(name, arguments)?;
                Ok(match self.project.describe() {
                    Ok(Some(d)) => text(format::order(&d.pipeline)),
                    Ok(None) => no_pipeline(),
                    Err(e) => error(e.to_string()),
                })
            }
            "phase_log" => {
                let PhaseLogArgs { name: phase, lines } = args(name, arguments)?;
                if !is_valid_name(&phase) {
                    return Err(ErrorData::invalid_params(
                        format!("`{phase}` is not a phase name"),
                        None,
                    ));
                }
                let log = self
                    .log_text(&phase)
                    .map_err(|e| ErrorData::invalid_params(e.message, None))?;
                Ok(text(match lines {
                    Some(n) => last_lines(&log, n).to_owned(),
                    None => log,
                }))
            }
            "run" | "cancel" if !self.allow_run => Err(ErrorData::invalid_params(
                format!("the `{name}` tool is not available: {READ_ONLY}"),
                None,
            )),
            "run" => {
                let RunArgs { targets, jobs } = args(name, arguments)?;
                self.run(&targets, jobs)
            }
            "cancel" => {
                let NoArgs {} = args(name, arguments)?;
                Ok(self.cancel())
            }
            _ => {
                let known = list(self.allow_run);
                let names: Vec<&str> = known.iter().map(|t| &*t.name).collect();
                Err(ErrorData::invalid_params(
                    format!("unknown tool `{name}` (tools: {})", names.join(", ")),
                    None,
                ))
            }
        }
    }

    fn check(&self) -> CallToolResult {
        match self.project.describe() {
            Ok(Some(d)) => {
                let shown = d.file.as_ref().map_or_else(
                    || format!("pipeline `{}`", d.pipeline.name()),
                    |f| f.display().to_string(),
                );
                text(format::summary(&shown, &d.pipeline))
            }
            Ok(None) => no_pipeline(),
            Err(e) => error(e.to_string()),
        }
    }

    fn run(&self, targets: &[String], jobs: Option<usize>) -> Result<CallToolResult, ErrorData> {
        let described = match self.project.describe() {
            Ok(Some(d)) => d,
            Ok(None) => return Ok(no_pipeline()),
            Err(e) => return Ok(error(e.to_string())),
        };
        let pipeline = match described.pipeline.select_targets(targets) {
            Ok(p) => p,
            Err(e) => return Err(ErrorData::invalid_params(e.to_string(), None)),
        };
        match self.runner.start(&pipeline, described.timeline.clone(), jobs) {
            Ok(()) => {
                let order = pipeline.execution_order();
                let started = json!({
                    "started": pipeline.name(),
                    "phases": order,
                    "jobs": effective_jobs(jobs.unwrap_or(pipeline.settings().jobs)),
                    "timeline": TIMELINE_URI,
                    "timeline_file": described.timeline,
                    "logs": order.iter().map(|n| log_uri(n)).collect::<Vec<_>>(),
                });
                Ok(text(started.to_string()))
            }
            Err(Refused::Busy { pipeline }) => Ok(error(format!(
                "a run of pipeline `{pipeline}` is already in progress: follow it through \
                 {TIMELINE_URI}, or call `cancel` first"
            ))),
            Err(Refused::Setup(e)) => Ok(error(e.to_string())),
        }
    }

    fn cancel(&self) -> CallToolResult {
        match self.runner.cancel() {
            Ok(pipeline) => text(format!(
                "cancelling the run of `{pipeline}`: running phases get SIGTERM, then SIGKILL \
                 after a grace period; {TIMELINE_URI} shows `cancelled` once they have stopped"
            )),
            Err(None) => error("no run started by this server is in progress".to_owned()),
            Err(Some((pipeline, ended))) => error(format!(
                "no run is in progress: the last one, of `{pipeline}`, {}",
                match ended {
                    Ended::Status(status) => format!("ended {}", status.as_str()),
                    Ended::Error(e) => format!("could not be carried out: {e}"),
                }
            )),
        }
    }
}

/// Reads a tool's arguments (none given reads as `{}`).
fn args<T: DeserializeOwned>(tool: &str, arguments: Option<JsonObject>) -> Result<T, ErrorData> {
    serde_json::from_value(Value::Object(arguments.unwrap_or_default()))
        .map_err(|e| ErrorData::invalid_params(format!("bad arguments for `{tool}`: {e}"), None))
}

fn text(text: String) -> CallToolResult {
    CallToolResult::success(vec![ContentBlock::text(text)])
}

fn error(text: String) -> CallToolResult {
    CallToolResult::error(vec![ContentBlock::text(text)])
}

fn no_pipeline() -> CallToolResult {
    error("this server was started without a pipeline: it serves only the timeline".to_owned())
}
