//! A Model Context Protocol server (feature `mcp`): agents watch and read pipelines.
//!
//! Resources: `milo://pipeline/timeline` (the [`Timeline`](crate::Timeline) of the run in
//! progress, else the last recorded one; subscribers hear `resources/updated` when it
//! changes, at most five times a second, whoever runs the pipeline), `milo://pipeline/config`
//! (phases, dependencies, execution order) and the template
//! `milo://pipeline/phases/{name}/log` (a phase's whole log, or its last 256 KiB with a note).
//! Tools: `check`, `order`, `phase_log`; `run` and `cancel` only when allowed.
//!
//! `cargo milo mcp` serves the project's Milo.toml. A program that runs pipelines through
//! the library serves the same timeline from its [active pipeline](crate::active_pipeline):
//!
//! ```no_run
//! use milo::mcp::McpServer;
//! use milo::{Phase, Pipeline};
//! let pipeline = Pipeline::new("codegen").phase(Phase::cmd("schema", "./gen.sh")).build()?;
//! // Runs started elsewhere in this process show through `milo::active_pipeline()`; with
//! // `allow_run`, the agent can start this pipeline itself.
//! McpServer::builder()
//!     .pipeline(pipeline)
//!     .timeline("target/milo/timeline.json")
//!     .allow_run(true)
//!     .build()
//!     .serve_stdio()?; // until stdin closes
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod logs;
mod project;
mod resources;
mod runner;
mod server;
mod tools;
mod transport;
mod watch;

use std::path::PathBuf;
use std::sync::Arc;

pub use resources::{CONFIG_URI, LOG_LIMIT, LOG_TEMPLATE, TIMELINE_URI, log_uri};
/// The rmcp crate this server is built on, for serving over other transports.
pub use rmcp;
pub use server::McpServer;
pub use transport::{LineTransport, MAX_LINE};
pub use watch::PERIOD;

use self::project::{Project, Source};
use self::runner::Runner;
use self::server::Shared;
use crate::error::Error;
use crate::exec::CancelToken;
use crate::exec::signals::cancel_on_signals;
use crate::load::LoadOptions;
use crate::pipeline::Pipeline;

/// Builds an [`McpServer`].
#[derive(Debug, Default)]
#[must_use]
pub struct McpServerBuilder {
    source: Option<Source>,
    timeline: Option<PathBuf>,
    allow_run: bool,
    signals: bool,
}

impl McpServer {
    /// A server that describes nothing but the pipeline this process publishes as active
    /// (and the timeline file, if [`timeline`](McpServerBuilder::timeline) is set).
    pub fn active() -> Self {
        Self::builder().build()
    }

    /// A server to configure.
    pub fn builder() -> McpServerBuilder {
        McpServerBuilder::default()
    }

    /// Serves MCP over stdin and stdout until stdin closes; then a run the server started is
    /// cancelled, and this returns once its phases have ended. Build the server with
    /// [`McpServerBuilder::stop_on_signals`] to end on Ctrl-C or SIGTERM too
    /// ([`Error::Interrupted`]).
    ///
    /// An `Err` means the client broke the protocol before it was set up, or the runtime
    /// could not start. Nothing but protocol messages is written to stdout.
    pub fn serve_stdio(self) -> Result<(), Error> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| Error::system("starting the MCP server's runtime", e))?;
        let shared = Arc::clone(&self.shared);
        let signals = self.signals;
        // The verdict on signals: tokio's handlers below only wake the session, and a session
        // that ends on closed stdin in the same turn as a SIGTERM may be picked first.
        let stop = CancelToken::new();
        let _routed = signals
            .then(|| cancel_on_signals(stop.clone()))
            .transpose()
            .map_err(|e| Error::system("routing SIGINT and SIGTERM to the MCP server", e))?;
        let outcome = runtime.block_on(async move {
            let (read, write) = rmcp::transport::io::stdio_pipes();
            let serving = rmcp::ServiceExt::serve(self, LineTransport::new(read, write));
            tokio::select! {
                served = async {
                    match serving.await {
                        Ok(running) => running.waiting().await.map(|_| ()).map_err(|e| e.to_string()),
                        Err(rmcp::service::ServerInitializeError::ConnectionClosed(_)) => Ok(()),
                        Err(e) => Err(e.to_string()),
                    }
                } => served.map_err(|e| Error::usage(
                    format!("the MCP session failed: {e}"),
                    "the client must start with an `initialize` request (MCP over stdio)",
                )),
                () = interrupted(signals) => Err(Error::Interrupted),
            }
        });
        // Whatever ended the session, the server's run ends with it, phases and all.
        shared.runner.shutdown();
        runtime.shutdown_background();
        if stop.is_cancelled() { Err(Error::Interrupted) } else { outcome }
    }
}

/// Resolves on the first SIGINT or SIGTERM when `enabled`, never otherwise.
async fn interrupted(enabled: bool) {
    use tokio::signal::unix::{SignalKind, signal};
    if enabled
        && let (Ok(mut int), Ok(mut term)) =
            (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
    {
        tokio::select! {
            _ = int.recv() => {}
            _ = term.recv() => {}
        }
        return;
    }
    std::future::pending::<()>().await;
}

impl McpServerBuilder {
    /// Describes `pipeline` (built in code): its configuration, and with
    /// [`allow_run`](Self::allow_run) the `run` tool runs it.
    pub fn pipeline(mut self, pipeline: Pipeline) -> Self {
        self.source = Some(Source::Fixed(Arc::new(pipeline)));
        self
    }

    /// Describes the Milo.toml found as `options` say, read again at every request so that
    /// edits show at once. Its timeline goes where Milo.toml says.
    pub fn milo_toml(mut self, options: LoadOptions) -> Self {
        self.source = Some(Source::File(options));
        self
    }

    /// The timeline file: shown when no run is in progress in this process, watched for
    /// other processes' runs, and written by the server's own runs (with its `logs/` beside).
    pub fn timeline(mut self, path: impl Into<PathBuf>) -> Self {
        self.timeline = Some(path.into());
        self
    }

    /// Lists and allows the `run` and `cancel` tools (off by default: read-only).
    pub fn allow_run(mut self, allow: bool) -> Self {
        self.allow_run = allow;
        self
    }

    /// Makes [`McpServer::serve_stdio`] end on SIGINT or SIGTERM (as `cargo milo mcp` does),
    /// cancelling a run the server started. Off by default: the signals are the program's.
    pub fn stop_on_signals(mut self, stop: bool) -> Self {
        self.signals = stop;
        self
    }

    /// The server.
    pub fn build(self) -> McpServer {
        let project = Project::new(self.source.unwrap_or(Source::None), self.timeline);
        let mut server = McpServer::new(Shared {
            project,
            runner: Runner::default(),
            allow_run: self.allow_run,
        });
        server.signals = self.signals;
        server
    }
}
