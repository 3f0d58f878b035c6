//! The terminal detail view: key mapping, rendering, terminal ownership and the event loop.
//!
//! The state and its reducer are pure and live in [`crate::view`]; this module is the thin
//! shell around them. [`terminal`] is the only code that touches raw mode, the alternate
//! screen and the cursor.

pub mod excerpt_pane;
pub mod keys;
pub mod live;
pub mod render;
pub mod terminal;
