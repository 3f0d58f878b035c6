//! An MCP client for the tests: rmcp's client side driving `cargo-milo mcp` over stdio, and
//! recording the `resources/updated` notifications it hears.

use std::path::Path;
use std::process::Stdio;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, ErrorData, ProtocolVersion,
    ReadResourceRequestParams, ResourceContents, ResourceUpdatedNotificationParam,
};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt, NotificationContext, RunningService};
use rmcp::transport::TokioChildProcess;
use rmcp::{ClientHandler, RoleClient, ServiceError, ServiceExt};
use serde_json::Value;
use tokio::sync::mpsc;

pub use super::HANG_LIMIT;

/// Forwards every `resources/updated` URI to the test.
#[derive(Debug, Clone)]
pub struct Recorder {
    updates: mpsc::UnboundedSender<String>,
    config: ClientConfig,
}

impl ClientHandler for Recorder {
    async fn on_resource_updated(
        &self,
        params: ResourceUpdatedNotificationParam,
        _context: NotificationContext<RoleClient>,
    ) {
        let _ = self.updates.send(params.uri);
    }

    fn get_info(&self) -> ClientConfig {
        self.config.clone()
    }
}

/// A connected client and the updates it has heard.
pub struct Client {
    /// The running client: requests go through it.
    pub service: RunningService<RoleClient, Recorder>,
    /// The URIs of `resources/updated` notifications, in order.
    pub updates: mpsc::UnboundedReceiver<String>,
}

/// How the client starts the session.
#[derive(Debug, Clone, Copy)]
pub enum Lifecycle {
    /// `initialize` (protocol versions up to 2025-11-25), as MCP clients do today.
    Initialize,
    /// `server/discover` and per-request metadata (2026-07-28).
    Discover,
}

/// Starts `cargo-milo mcp` plus `args` in `root` and connects to it.
pub async fn connect(root: &Path, args: &[&str], lifecycle: Lifecycle) -> Client {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_cargo-milo"));
    command.arg("mcp").args(args).current_dir(root);
    for key in ["NO_COLOR", "CARGO_TERM_COLOR", "CARGO_TARGET_DIR"] {
        command.env_remove(key);
    }
    let (transport, _stderr) = TokioChildProcess::builder(command)
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn cargo-milo mcp");
    let (tx, updates) = mpsc::unbounded_channel();
    let recorder = Recorder { updates: tx, config: ClientConfig::default() };
    let service = match lifecycle {
        Lifecycle::Initialize => recorder.serve(transport).await,
        Lifecycle::Discover => {
            let mode = ClientLifecycleMode::Discover {
                preferred_versions: vec![ProtocolVersion::V_2026_07_28],
            };
            recorder.serve_with_lifecycle(transport, mode).await
        }
    };
    Client { service: service.expect("the server starts a session"), updates }
}

impl Client {
    /// Connects over `transport` (for a server in this process), with `initialize`.
    pub async fn over<T, E, A>(transport: T) -> Self
    where
        T: rmcp::transport::IntoTransport<RoleClient, E, A>,
        E: std::error::Error + Send + Sync + 'static,
    {
        let (tx, updates) = mpsc::unbounded_channel();
        let recorder = Recorder { updates: tx, config: ClientConfig::default() };
        let service = recorder.serve(transport).await.expect("the server starts a session");
        Self { service, updates }
    }

    /// The protocol version the session agreed on.
    pub fn protocol_version(&self) -> String {
        let info = self.service.peer_info().expect("the server's info");
        info.protocol_version.to_string()
    }

    /// Reads a text resource.
    pub async fn read(&self, uri: &str) -> Result<String, ErrorData> {
        let result = self.service.read_resource(ReadResourceRequestParams::new(uri)).await;
        match result.map_err(mcp_error)?.contents.into_iter().next() {
            Some(ResourceContents::TextResourceContents { text, .. }) => Ok(text),
            other => panic!("{uri} is not one text: {other:?}"),
        }
    }

    /// Reads the timeline resource as JSON.
    pub async fn timeline(&self) -> Value {
        let text = self.read("milo://pipeline/timeline").await.expect("read the timeline");
        serde_json::from_str(&text).expect("the timeline is JSON")
    }

    /// Calls a tool with `arguments` (a JSON object).
    pub async fn call(&self, name: &str, arguments: Value) -> Result<CallToolResult, ErrorData> {
        let Value::Object(arguments) = arguments else { panic!("arguments are an object") };
        let params = CallToolRequestParams::new(name.to_owned()).with_arguments(arguments);
        self.service.call_tool(params).await.map_err(mcp_error)
    }

    /// Waits for the next `resources/updated`; returns its URI.
    pub async fn next_update(&mut self) -> String {
        tokio::time::timeout(HANG_LIMIT, self.updates.recv())
            .await
            .expect("a resources/updated notification came")
            .expect("the client is still running")
    }

    /// Reads the timeline after each update until `done` holds for it; returns it.
    pub async fn timeline_when(&mut self, done: impl Fn(&Value) -> bool) -> Value {
        loop {
            let timeline = self.timeline().await;
            if done(&timeline) {
                return timeline;
            }
            let uri = self.next_update().await;
            assert_eq!(uri, "milo://pipeline/timeline");
        }
    }
}

/// The JSON-RPC error inside a client error.
pub fn mcp_error(e: ServiceError) -> ErrorData {
    match e {
        ServiceError::McpError(e) => e,
        other => panic!("expected a JSON-RPC error, got {other}"),
    }
}

/// The text of a tool result.
pub fn text(result: &CallToolResult) -> String {
    result.content.iter().filter_map(|c| c.as_text().map(|t| t.text.clone())).collect()
}

/// A phase of a timeline, by name.
pub fn phase<'a>(timeline: &'a Value, name: &str) -> &'a Value {
    timeline["phases"]
        .as_array()
        .and_then(|phases| phases.iter().find(|p| p["name"] == name))
        .unwrap_or_else(|| panic!("no phase {name} in {timeline:#}"))
}
