//! `[pipeline.export]`: how `cargo milo export` writes CI jobs, checked.

use super::raw::{At, RawExport};
use crate::diagnostic::Diagnostic;
use crate::export::ExportSettings;

/// The export settings of `raw` (defaults where a key is absent); empty commands, runner
/// labels and tags are problems.
pub(super) fn settings(raw: Option<&RawExport>, problems: &mut Vec<Diagnostic>) -> ExportSettings {
    let mut settings = ExportSettings::default();
    let Some(raw) = raw else { return settings };
    let mut non_empty = |at: &At<String>, key: &str, help: &str| {
        if at.value.trim().is_empty() {
            problems.push(
                Diagnostic::new(format!("`{key}` in [pipeline.export] is empty"), at.span.clone())
                    .label("empty")
                    .help(help.to_owned()),
            );
            false
        } else {
            true
        }
    };
    if let Some(install) = &raw.install
        && non_empty(install, "install", "remove it to use `cargo install cargo-milo --locked`")
    {
        settings.install.clone_from(&install.value);
    }
    settings.setup = raw
        .setup
        .iter()
        .filter(|c| non_empty(c, "setup", "remove the empty command"))
        .map(|c| c.value.clone())
        .collect();
    if let Some(runs_on) = &raw.runs_on
        && non_empty(runs_on, "runs_on", "remove it to use `ubuntu-latest`")
    {
        settings.runs_on.clone_from(&runs_on.value);
    }
    if let Some(image) = &raw.image {
        // `image = ""`: no image, the runner's default (a shell runner runs jobs in place).
        settings.image = Some(image.value.trim().to_owned()).filter(|i| !i.is_empty());
    }
    settings.tags = raw
        .tags
        .iter()
        .filter(|t| non_empty(t, "tags", "remove the empty tag"))
        .map(|t| t.value.clone())
        .collect();
    settings
}
