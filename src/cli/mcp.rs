//! `cargo milo mcp`: the project's pipeline served to agents over stdio (see [`crate::mcp`]).

use super::load::current_dir;
use super::{GlobalArgs, McpArgs};
use crate::error::Error;
use crate::load::LoadOptions;
use crate::mcp::McpServer;

/// Serves until stdin closes (exit 0) or a signal arrives (exit 130). Milo.toml is read at
/// every request, so a broken one is reported to the agent rather than stopping the server.
pub fn execute(global: &GlobalArgs, args: &McpArgs) -> Result<(), Error> {
    let options = LoadOptions {
        config: global.config.clone(),
        manifest_path: global.manifest_path.clone(),
        cwd: current_dir()?,
        cargo_env: None,
    };
    McpServer::builder()
        .milo_toml(options)
        .allow_run(args.allow_run)
        .stop_on_signals(true)
        .build()
        .serve_stdio()
}
