//! The integration test binary: each topic is a module, all share `support::Test`. The
//! build-script tests (nested `cargo build`s) are a binary of their own: `tests/build_script.rs`.

mod support;

mod across_machines;
mod affected;
mod artifact;
mod capture;
mod ci_github;
mod commands;
mod completions;
mod config_errors;
mod config_fuzz;
mod discover;
mod export;
mod forbid;
mod gitlab_ci_local;
mod init_ci;
mod interrupt;
mod library;
mod lock;
mod mcp;
mod mcp_library;
mod mcp_raw;
mod orphans;
mod plain_output;
mod report;
mod retry;
mod run;
mod run_support;
mod tui_live;
mod tui_render;
mod tui_view;
mod uptodate;
mod workspace;
