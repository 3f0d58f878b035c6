//! The resources: the timeline, the pipeline's configuration, and each phase's log.

use std::path::{Path, PathBuf};

use rmcp::ErrorData;
use rmcp::model::{Resource, ResourceTemplate};
use serde_json::{Value, json};

use super::project::Described;
use super::server::Shared;
use crate::phase::is_valid_name;
use crate::state::PipelineState;
use crate::store::{StateHandle, with_active_pipeline};
use crate::timeline::Timeline;

/// The timeline of the run in progress, else the last one recorded.
pub const TIMELINE_URI: &str = "milo://pipeline/timeline";
/// The phases, their dependencies and the execution order.
pub const CONFIG_URI: &str = "milo://pipeline/config";
/// A phase's full log.
pub const LOG_TEMPLATE: &str = "milo://pipeline/phases/{name}/log";
/// The most of a log a read returns: its end.
pub const LOG_LIMIT: u64 = 256 * 1024;

const JSON: &str = "application/json";

/// A resource URI this server knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Uri<'a> {
    Timeline,
    Config,
    Log(&'a str),
}

impl<'a> Uri<'a> {
    /// Reads `uri`; `None` for one this server does not serve.
    pub fn parse(uri: &'a str) -> Option<Self> {
        match uri {
            TIMELINE_URI => Some(Self::Timeline),
            CONFIG_URI => Some(Self::Config),
            _ => {
                let name = uri.strip_prefix("milo://pipeline/phases/")?.strip_suffix("/log")?;
                is_valid_name(name).then_some(Self::Log(name))
            }
        }
    }
}

/// The URI of phase `name`'s log.
pub fn log_uri(name: &str) -> String {
    LOG_TEMPLATE.replace("{name}", name)
}

/// The fixed resources.
pub(crate) fn list() -> Vec<Resource> {
    vec![
        Resource::new(TIMELINE_URI, "timeline")
            .with_title("Pipeline timeline")
            .with_description(
                "The run in progress (else the last recorded one): pipeline and phase \
                 statuses, times, attempts, errors and each phase's latest log lines. \
                 Subscribe to hear when it changes.",
            )
            .with_mime_type(JSON),
        Resource::new(CONFIG_URI, "config")
            .with_title("Pipeline configuration")
            .with_description(
                "The phases of Milo.toml with their commands and dependencies, and the \
                 execution order.",
            )
            .with_mime_type(JSON),
    ]
}

/// The resource templates.
pub(crate) fn templates() -> Vec<ResourceTemplate> {
    vec![
        ResourceTemplate::new(LOG_TEMPLATE, "phase-log")
            .with_title("Phase log")
            .with_description(
                "Everything a phase printed (every attempt), or its last 256 KiB with a note \
                 saying so.",
            )
            .with_mime_type("text/plain"),
    ]
}

/// Where the timeline comes from right now.
#[derive(Debug, Clone)]
pub(crate) enum Live {
    /// This server's run, in progress.
    Own(StateHandle),
    /// The pipeline this process publishes as active (a library caller's run).
    Active,
    /// The file the last run wrote (maybe another process's run, in progress or not).
    File(PathBuf),
    /// Nothing has run.
    Nothing,
}

impl Shared {
    /// Where the timeline comes from right now.
    pub(crate) fn live(&self) -> Live {
        if let Some(handle) = self.runner.running() {
            return Live::Own(handle);
        }
        if with_active_pipeline(|_| ()).is_some() {
            return Live::Active;
        }
        match self.project.timeline_path() {
            Some(path) if path.is_file() => Live::File(path),
            _ => Live::Nothing,
        }
    }

    /// The timeline document, as JSON text.
    pub(crate) fn timeline_json(&self) -> Result<String, ErrorData> {
        let projected = match self.live() {
            Live::Own(handle) => Some(handle.with(Timeline::from_state)),
            Live::Active => with_active_pipeline(Timeline::from_state),
            Live::File(_) | Live::Nothing => None,
        };
        if let Some(timeline) = projected {
            return to_json(&timeline);
        }
        if let Some(path) = self.project.timeline_path().filter(|p| p.is_file()) {
            return read_timeline_file(&path);
        }
        // Nothing ran yet: every phase pending.
        match self.project.describe().map_err(|e| config_error(&e))? {
            Some(d) => to_json(&Timeline::from_state(&PipelineState::new(&d.pipeline))),
            None => Err(ErrorData::resource_not_found(
                "no pipeline is running in this process, and no timeline file was given",
                Some(json!({ "uri": TIMELINE_URI })),
            )),
        }
    }

    /// The configuration document, as JSON text.
    pub(crate) fn config_json(&self) -> Result<String, ErrorData> {
        match self.project.describe().map_err(|e| config_error(&e))? {
            Some(d) => Ok(config(&d).to_string()),
            None => Err(ErrorData::resource_not_found(
                "this server was started without a pipeline: only the timeline is served",
                Some(json!({ "uri": CONFIG_URI })),
            )),
        }
    }
}

fn to_json(timeline: &Timeline) -> Result<String, ErrorData> {
    serde_json::to_string(timeline)
        .map_err(|e| ErrorData::internal_error(format!("could not encode the timeline: {e}"), None))
}

fn read_timeline_file(path: &Path) -> Result<String, ErrorData> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        ErrorData::internal_error(format!("could not read `{}`: {e}", path.display()), None)
    })?;
    // Written atomically, so whole; but it may be some other program's file.
    serde_json::from_str::<Timeline>(&text).map_err(|e| {
        ErrorData::internal_error(
            format!("`{}` is not a cargo-milo timeline: {e}", path.display()),
            None,
        )
    })?;
    Ok(text)
}

/// Milo.toml is invalid: its rendered diagnostics, so the agent can fix it.
fn config_error(e: &crate::error::Error) -> ErrorData {
    ErrorData::internal_error(format!("the pipeline could not be loaded:\n{e}"), None)
}

/// The configuration document: phases in declaration order and the execution order.
fn config(d: &Described) -> Value {
    let pipeline = &d.pipeline;
    let settings = pipeline.settings();
    let phases: Vec<Value> = pipeline
        .phases()
        .iter()
        .map(|p| {
            json!({
                "name": p.name,
                "description": p.description,
                "command": p.handler.describe(),
                "depends_on": p.depends_on,
                "weight": p.weight,
                "parallel": p.parallel,
                "on_fail": p.policy.on_fail,
                "max_attempts": p.policy.max_attempts(),
                "timeout": p.timeout.map(|t| t.as_secs_f64()),
                "log": log_uri(&p.name),
            })
        })
        .collect();
    json!({
        "pipeline": pipeline.name(),
        "file": d.file,
        "timeline_file": d.timeline,
        "jobs": settings.jobs,
        "fail_fast": settings.fail_fast,
        "phases": phases,
        "execution_order": pipeline.execution_order(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_are_recognised() {
        assert_eq!(Uri::parse(TIMELINE_URI), Some(Uri::Timeline));
        assert_eq!(Uri::parse(CONFIG_URI), Some(Uri::Config));
        assert_eq!(Uri::parse("milo://pipeline/phases/build/log"), Some(Uri::Log("build")));
        assert_eq!(Uri::parse(&log_uri("a.b-c_1")), Some(Uri::Log("a.b-c_1")));
        for bad in [
            "milo://pipeline/phases/../log",
            "milo://pipeline/phases/a/b/log",
            "milo://pipeline/phases//log",
            "milo://pipeline/timeline/",
            "file:///etc/passwd",
        ] {
            assert_eq!(Uri::parse(bad), None, "{bad}");
        }
    }
}
