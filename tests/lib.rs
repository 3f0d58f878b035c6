//! The one integration test binary: each topic is a module, all share `support::Test`.

mod support;

mod commands;
mod config_errors;
mod config_fuzz;
mod discover;
mod tui_render;
mod tui_view;
