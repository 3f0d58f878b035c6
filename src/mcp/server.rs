//! The protocol side: [`McpServer`] answers MCP requests from the resources, the tools and
//! the watcher.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CustomRequest, CustomResult, ErrorCode,
    Implementation, InitializeRequestParams, ListResourceTemplatesResult, ListResourcesResult,
    ListToolsResult, PaginatedRequestParams, ReadResourceRequestParams, ReadResourceResponse,
    ReadResourceResult, ResourceContents, ResourceUpdatedNotificationParam, ServerCapabilities,
    ServerConfig, SubscribeRequestParams, SubscriptionFilter, UnsubscribeRequestParams,
};
use rmcp::service::{RequestContext, SubscriptionContext};
use rmcp::{ErrorData, Peer, RoleServer, ServerHandler};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};
use tokio::sync::watch;

use super::project::Project;
use super::resources::{self, CONFIG_URI, LOG_TEMPLATE, TIMELINE_URI, Uri};
use super::runner::Runner;
use super::tools;
use super::watch::{Generations, spawn as watch};

/// What every request of one server reads: the pipeline, its timeline, its run.
#[derive(Debug)]
pub(crate) struct Shared {
    pub project: Project,
    pub runner: Runner,
    pub allow_run: bool,
}

/// A Model Context Protocol server over one pipeline: its timeline, configuration and
/// logs as resources (with `resources/updated` notifications when the timeline changes),
/// and the `check`, `order` and `phase_log` tools (`run` and `cancel` when allowed).
///
/// Build one with [`McpServer::builder`] (or [`McpServer::active`]) and serve it with
/// [`serve_stdio`](Self::serve_stdio), or over any rmcp transport: it implements
/// [`rmcp::ServerHandler`]. One server serves one connection. When it is dropped, a run it
/// started is cancelled and waited for.
#[derive(Debug)]
pub struct McpServer {
    pub(crate) shared: Arc<Shared>,
    generations: OnceLock<watch::Receiver<Generations>>,
    /// URIs subscribed with `resources/subscribe` (protocol versions before 2026-07-28).
    subscribed: Arc<Mutex<BTreeSet<String>>>,
    forwarding: AtomicBool,
    /// Whether `serve_stdio` ends on SIGINT or SIGTERM.
    pub(crate) signals: bool,
}

impl McpServer {
    pub(crate) fn new(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
            generations: OnceLock::new(),
            subscribed: Arc::default(),
            forwarding: AtomicBool::new(false),
            signals: false,
        }
    }

    /// The generations the watcher bumps, starting it on first use (inside the runtime).
    fn generations(&self) -> watch::Receiver<Generations> {
        self.generations.get_or_init(|| watch(Arc::downgrade(&self.shared))).clone()
    }

    /// Starts sending `resources/updated` for legacy subscriptions through `peer`, once.
    fn forward(&self, peer: Peer<RoleServer>) {
        if self.forwarding.swap(true, Ordering::SeqCst) {
            return;
        }
        let mut generations = self.generations();
        let subscribed = Arc::clone(&self.subscribed);
        tokio::spawn(async move {
            let mut seen = *generations.borrow_and_update();
            while generations.changed().await.is_ok() {
                let now = *generations.borrow_and_update();
                let uris: Vec<String> = subscribed
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .iter()
                    .filter(|uri| changed(uri, seen, now))
                    .cloned()
                    .collect();
                seen = now;
                for uri in uris {
                    let update = ResourceUpdatedNotificationParam::new(uri);
                    if peer.notify_resource_updated(update).await.is_err() {
                        return; // the client has gone
                    }
                }
            }
        });
    }

    fn instructions(&self) -> String {
        let mut text = format!(
            "cargo-milo pipeline server. Read {TIMELINE_URI} (JSON: the run in progress, else \
             the last one: statuses, times, attempts, errors, each phase's latest lines) and \
             subscribe to it to hear when it changes; {CONFIG_URI} for the phases, their \
             dependencies and the execution order; {LOG_TEMPLATE} for a phase's whole log. \
             Tools: check, order, phase_log."
        );
        if self.shared.allow_run {
            text.push_str(" run starts the pipeline and returns at once; cancel stops it.");
        } else {
            text.push_str(
                " Read-only: this server cannot run or cancel pipelines (start it with \
                 `cargo milo mcp --allow-run` for the run and cancel tools).",
            );
        }
        text
    }

    /// Runs `f` over the shared state off the async threads: it reads files (and Milo.toml).
    async fn blocking<R: Send + 'static>(
        &self,
        f: impl FnOnce(&Shared) -> R + Send + 'static,
    ) -> Result<R, ErrorData> {
        let shared = Arc::clone(&self.shared);
        tokio::task::spawn_blocking(move || f(&shared))
            .await
            .map_err(|e| ErrorData::internal_error(format!("the request failed: {e}"), None))
    }
}

/// Whether what `uri` shows changed between two generations.
fn changed(uri: &str, before: Generations, now: Generations) -> bool {
    match Uri::parse(uri) {
        Some(Uri::Timeline | Uri::Log(_)) => before.timeline != now.timeline,
        Some(Uri::Config) => before.config != now.config,
        None => false,
    }
}

fn not_found(uri: &str) -> ErrorData {
    ErrorData::resource_not_found(
        format!(
            "no resource `{uri}`: this server has {TIMELINE_URI}, {CONFIG_URI} and \
             {LOG_TEMPLATE} (a phase name: letters, digits, `_`, `.`, `-`)"
        ),
        Some(json!({ "uri": uri })),
    )
}

/// What is wrong with the parameters of a request rmcp could not read as the standard
/// `method` (it hands such a request over as a custom one).
fn bad_params(method: &str, params: Option<Value>) -> Option<String> {
    fn check<T: DeserializeOwned>(params: Option<Value>) -> Option<String> {
        serde_json::from_value::<T>(params.unwrap_or(Value::Null)).err().map(|e| e.to_string())
    }
    match method {
        "resources/read" => check::<ReadResourceRequestParams>(params),
        "resources/subscribe" => check::<SubscribeRequestParams>(params),
        "resources/unsubscribe" => check::<UnsubscribeRequestParams>(params),
        "tools/call" => check::<CallToolRequestParams>(params),
        "initialize" => check::<InitializeRequestParams>(params),
        _ => None,
    }
}

impl ServerHandler for McpServer {
    async fn on_custom_request(
        &self,
        request: CustomRequest,
        _context: RequestContext<RoleServer>,
    ) -> Result<CustomResult, ErrorData> {
        let CustomRequest { method, params, .. } = request;
        Err(match bad_params(&method, params) {
            Some(e) => {
                ErrorData::invalid_params(format!("bad parameters for `{method}`: {e}"), None)
            }
            None => ErrorData::new(
                ErrorCode::METHOD_NOT_FOUND,
                format!("unknown method `{method}`"),
                Some(json!({ "method": method })),
            ),
        })
    }

    fn get_info(&self) -> ServerConfig {
        let capabilities = ServerCapabilities::builder()
            .enable_resources()
            .enable_resources_subscribe()
            .enable_tools()
            .build();
        let mut info = ServerConfig::new(capabilities).with_instructions(self.instructions());
        info.server_info = Implementation::new("cargo-milo", env!("CARGO_PKG_VERSION"))
            .with_title("cargo-milo pipeline");
        info
    }

    async fn list_resources(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourcesResult, ErrorData> {
        Ok(ListResourcesResult::with_all_items(resources::list()))
    }

    async fn list_resource_templates(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListResourceTemplatesResult, ErrorData> {
        Ok(ListResourceTemplatesResult::with_all_items(resources::templates()))
    }

    async fn read_resource(
        &self,
        request: ReadResourceRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<ReadResourceResponse, ErrorData> {
        let uri = request.uri;
        let Some(kind) = Uri::parse(&uri) else { return Err(not_found(&uri)) };
        let (text, mime) = match kind {
            Uri::Timeline => (self.blocking(Shared::timeline_json).await??, "application/json"),
            Uri::Config => (self.blocking(Shared::config_json).await??, "application/json"),
            Uri::Log(name) => {
                let name = name.to_owned();
                (self.blocking(move |s| s.log_text(&name)).await??, "text/plain")
            }
        };
        let contents = ResourceContents::text(text, uri).with_mime_type(mime);
        Ok(ReadResourceResult::new(vec![contents]).into())
    }

    async fn subscribe(
        &self,
        request: SubscribeRequestParams,
        context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        if Uri::parse(&request.uri).is_none() {
            return Err(not_found(&request.uri));
        }
        self.subscribed.lock().unwrap_or_else(PoisonError::into_inner).insert(request.uri);
        self.forward(context.peer);
        Ok(())
    }

    async fn unsubscribe(
        &self,
        request: UnsubscribeRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<(), ErrorData> {
        self.subscribed.lock().unwrap_or_else(PoisonError::into_inner).remove(&request.uri);
        Ok(())
    }

    fn accepted_subscription_filter(
        &self,
        requested: &SubscriptionFilter,
    ) -> Option<SubscriptionFilter> {
        let uris: Vec<String> = requested
            .resource_subscriptions
            .iter()
            .flatten()
            .filter(|uri| Uri::parse(uri).is_some())
            .cloned()
            .collect();
        Some(if uris.is_empty() {
            SubscriptionFilter::new()
        } else {
            SubscriptionFilter::builder().resource_subscriptions(uris).build()
        })
    }

    async fn listen(&self, context: SubscriptionContext) -> Result<(), ErrorData> {
        let uris = context.accepted().resource_subscriptions.clone().unwrap_or_default();
        let mut generations = self.generations();
        let mut seen = *generations.borrow_and_update();
        loop {
            tokio::select! {
                () = context.cancelled() => return Ok(()),
                changed_now = generations.changed() => {
                    if changed_now.is_err() {
                        return Ok(()); // the server is going away
                    }
                    let now = *generations.borrow_and_update();
                    for uri in uris.iter().filter(|uri| changed(uri, seen, now)) {
                        if context.sink().notify_resource_updated(uri.clone()).await.is_err() {
                            return Ok(()); // the subscription or the client has gone
                        }
                    }
                    seen = now;
                }
            }
        }
    }

    async fn list_tools(
        &self,
        _request: Option<PaginatedRequestParams>,
        _context: RequestContext<RoleServer>,
    ) -> Result<ListToolsResult, ErrorData> {
        Ok(ListToolsResult::with_all_items(tools::list(self.shared.allow_run)))
    }

    async fn call_tool(
        &self,
        request: CallToolRequestParams,
        _context: RequestContext<RoleServer>,
    ) -> Result<CallToolResponse, ErrorData> {
        let name = request.name.into_owned();
        let arguments = request.arguments;
        let result = self.blocking(move |s| s.call_tool(&name, arguments)).await??;
        Ok(result.into())
    }
}
