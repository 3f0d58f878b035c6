//! `cargo milo view [TIMELINE]`: the detail view over a recorded timeline.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::{GlobalArgs, ViewArgs};
use crate::error::Error;
use crate::timeline::{SCHEMA_VERSION, Timeline};
use crate::tui::live::{Live, Outcome};
use crate::tui::{render, terminal};
use crate::view::ViewState;

/// Width of the overview printed when stdout is not a terminal.
const PLAIN_WIDTH: u16 = 100;

/// Opens the view over `TIMELINE`, or over the configured timeline path. Not on a terminal,
/// prints the overview once as text instead.
pub fn execute(global: &GlobalArgs, args: &ViewArgs) -> Result<(), Error> {
    let path = match &args.timeline {
        Some(path) => path.clone(),
        None => configured_timeline(global)?,
    };
    let timeline = read_timeline(&path, "view")?;
    let view = ViewState::new(timeline.to_state()).select_first_failure();
    if !terminal::is_interactive() {
        eprintln!("note: not a terminal: printing the overview of `{}` once", path.display());
        print_overview(&view);
        return Ok(());
    }
    match Live::new().run(view) {
        Ok(Outcome::Quit { .. } | Outcome::Closed) => Ok(()),
        Ok(Outcome::Interrupted) => Err(Error::Interrupted),
        Err(e) => Err(Error::terminal("drawing the detail view", e)),
    }
}

fn configured_timeline(global: &GlobalArgs) -> Result<PathBuf, Error> {
    super::load::load(global)?.timeline()
}

/// Reads and parses a timeline file for `cargo milo COMMAND`, with an error that says what
/// to do for each way it can go wrong.
pub fn read_timeline(path: &Path, command: &str) -> Result<Timeline, Error> {
    let text = std::fs::read_to_string(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => Error::usage(
            format!("no timeline at `{}`", path.display()),
            format!(
                "run `cargo milo run` to record one, or pass a file: `cargo milo {command} PATH`"
            ),
        ),
        _ => Error::io("reading the timeline", path, e),
    })?;
    parse_timeline(path, &text)
}

/// Parses the text of the timeline file at `path`, with an error naming the file and saying
/// what is wrong with it.
pub fn parse_timeline(path: &Path, text: &str) -> Result<Timeline, Error> {
    let newer = |version: u32| {
        Error::usage(
            format!(
                "`{}` has schema_version {version}, newer than this cargo-milo reads ({SCHEMA_VERSION})",
                path.display(),
            ),
            "upgrade cargo-milo: `cargo install cargo-milo`",
        )
    };
    let timeline: Timeline = serde_json::from_str(text).map_err(|e| {
        // A newer file may not parse at all (a new status): say so rather than why not.
        if let Some(version) = schema_version(text).filter(|&v| v > SCHEMA_VERSION) {
            return newer(version);
        }
        let message = e.to_string();
        let reason = message.rsplit_once(" at line ").map_or(message.as_str(), |(r, _)| r);
        Error::usage(
            format!(
                "`{}` is not a valid timeline\n  --> {}:{}:{}: {reason}",
                path.display(),
                path.display(),
                e.line(),
                e.column()
            ),
            "pass the timeline.json that `cargo milo run` writes \
             (its JSON Schema ships as schema/timeline.schema.json)",
        )
    })?;
    if timeline.schema_version > SCHEMA_VERSION {
        return Err(newer(timeline.schema_version));
    }
    Ok(timeline)
}

/// The `schema_version` of a JSON document that may not be a timeline this version reads.
fn schema_version(text: &str) -> Option<u32> {
    #[derive(serde::Deserialize)]
    struct Version {
        schema_version: u32,
    }
    serde_json::from_str::<Version>(text).ok().map(|v| v.schema_version)
}

/// Draws the header and phase list into a buffer and prints it as plain text.
fn print_overview(view: &ViewState) {
    use ratatui::buffer::Buffer;
    use ratatui::layout::Rect;

    let rows = u16::try_from(view.pipeline.phases.len()).unwrap_or(u16::MAX - 2).saturating_add(1);
    let area = Rect::new(0, 0, PLAIN_WIDTH, rows);
    let mut buffer = Buffer::empty(area);
    render::render_summary(view, area, &mut buffer);
    let mut out = std::io::stdout().lock();
    for y in 0..rows {
        let line: String = (0..PLAIN_WIDTH).map(|x| buffer[(x, y)].symbol()).collect();
        if writeln!(out, "{}", line.trim_end()).is_err() {
            // A closed pipe (`| head`) is not an error worth reporting.
            return;
        }
    }
}
