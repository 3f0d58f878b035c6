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

// Pure core: data in, data out. No clocks, no processes, no files.
pub mod action;
pub mod clock;
pub mod config;
pub mod context;
pub mod diagnostic;
pub mod error;
pub mod format;
pub mod graph;
pub mod lines;
pub mod outputs;
pub mod phase;
pub mod pipeline;
pub mod reducer;
pub mod schedule;
pub mod state;
pub mod store;
pub mod suggest;
pub mod timeline;
pub mod view;

pub use action::{Action, Stream};
pub use context::PhaseContext;
pub use graph::{CycleError, Graph, GraphError};
pub use phase::{Backoff, BoxError, Handler, OnFail, Phase, PhasePolicy, retry_delay};
pub use pipeline::{Pipeline, PipelineBuilder, PipelineError, PipelineSettings};
pub use reducer::{progress, reduce};
pub use state::{LogLine, LogRing, PhaseState, PhaseStatus, PipelineState, PipelineStatus};
pub use store::{StateHandle, Store, active_pipeline, set_active_pipeline};
pub use timeline::Timeline;

// Effects: the only code that touches processes, files, clocks and terminals.
pub mod artifact;
pub mod build_script;
#[cfg(feature = "cli")]
pub mod cli;
pub mod discover;
pub mod exec;
mod pipeline_run;
pub mod report;
#[cfg(feature = "tui")]
pub mod tui;

pub use error::Error;

/// The README's Rust examples, compiled as doc tests so they stay true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
