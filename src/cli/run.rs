//! `cargo milo run`: load, plan, execute, report.

use super::{GlobalArgs, RunArgs};
use crate::error::Error;

/// Runs the pipeline. Placeholder until the executor lands (issue 3).
pub fn execute(_global: &GlobalArgs, _args: &RunArgs) -> Result<u8, Error> {
    Err(Error::usage("`run` is not implemented yet", "use `cargo milo check` for now"))
}
