//! # milo — the engine behind `cargo milo`
//!
//! A pipeline of named phases, run in dependency order with live, captured output. Every
//! change of state is an [`Action`] folded by a pure [`reduce`] into a [`PipelineState`]
//! held by a [`Store`]; progress bars, the detail view and the [`Timeline`] writer are
//! subscribers.
//!
//! ```
//! use milo::{Phase, Pipeline};
//! let pipeline = Pipeline::new("ci")
//!     .phase(Phase::cmd("fmt", "cargo fmt --check").parallel(true))
//!     .phase(Phase::cmd("test", "cargo test").depends_on(["fmt"]).weight(5))
//!     .build()?;
//! assert_eq!(pipeline.execution_order(), ["fmt", "test"]);
//! # Ok::<(), milo::PipelineError>(())
//! ```

// cargo-milo runs phases in process groups, polls their pipes and hears SIGCHLD: Unix only.
#[cfg(not(unix))]
compile_error!(
    "cargo-milo supports Unix only (Linux, macOS): it relies on process groups and signals"
);

// Pure core: data in, data out. No clocks, no processes, no files (the `core` folder).
mod core;
#[cfg(feature = "reports")]
pub use crate::core::reports;
pub use crate::core::{
    action, affected, ci, config, context, diagnostic, error, excerpt, export, failure,
    fingerprint, format, glob, graph, lines, merge, outputs, paths, phase, pipeline, reducer,
    schedule, state, store, suggest, timeline, uptodate, view, workspace,
};

pub use action::{Action, Stream};
pub use context::PhaseContext;
pub use graph::{CycleError, Graph, GraphError};
pub use phase::{Backoff, BoxError, Handler, Instance, OnFail, Phase, PhasePolicy, retry_delay};
pub use pipeline::{Pipeline, PipelineBuilder, PipelineError, PipelineSettings};
pub use reducer::reduce;
pub use state::{
    LogLine, LogRing, PhaseState, PhaseStatus, PipelineState, PipelineStatus, progress,
};
pub use store::{
    StateHandle, Store, active_pipeline, clear_active_pipeline, set_active_pipeline,
    with_active_pipeline,
};
pub use timeline::Timeline;

// Effects: the only code that touches processes, files, clocks and terminals.
pub mod artifact;
pub mod build_script;
#[cfg(feature = "cli")]
pub mod cli;
pub mod clock;
pub mod discover;
pub mod exec;
pub mod git;
pub mod load;
#[cfg(feature = "mcp")]
pub mod mcp;
pub mod metadata;
pub mod observe;
mod pipeline_run;
pub mod report;
pub mod subscriber_thread;
#[cfg(feature = "tui")]
pub mod tui;

pub use error::Error;

/// The README's Rust examples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
