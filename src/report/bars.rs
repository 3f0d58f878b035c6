//! Terminal progress: an overall indicatif bar and one line per running phase.

use crate::action::Action;
use crate::pipeline::Pipeline;
use crate::state::PipelineState;

/// The bars (placeholder: filled in by the bars milestone).
#[derive(Debug, Clone)]
pub struct Bars;

impl Bars {
    /// Bars for `pipeline`.
    pub fn new(_pipeline: &Pipeline) -> Self {
        Self
    }

    /// Handles one action.
    pub fn on_action(&mut self, _action: &Action, _state: &PipelineState) {}

    /// Clears the bars.
    pub fn finish(&self) {}
}
