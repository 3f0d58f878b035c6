//! The pure core: data in, data out. Nothing in this folder touches processes, files, the
//! network, the environment or a clock (outside its tests); `bin/forbid` checks it.
//!
//! Everything here is re-exported at the crate root (`milo::state`, `milo::reducer`, …).

pub mod action;
pub mod affected;
pub mod ci;
pub mod config;
pub mod context;
pub mod diagnostic;
pub mod error;
pub mod excerpt;
pub mod export;
pub mod failure;
pub mod fingerprint;
pub mod format;
pub mod glob;
pub mod graph;
pub mod lines;
#[cfg(test)]
mod log_batch_tests;
pub mod merge;
pub mod outputs;
pub mod paths;
pub mod phase;
pub mod pipeline;
pub mod reducer;
#[cfg(feature = "reports")]
pub mod reports;
pub mod schedule;
pub mod state;
pub mod store;
pub mod suggest;
pub mod timeline;
pub mod uptodate;
pub mod view;
pub mod workspace;
