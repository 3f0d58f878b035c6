//! `cargo milo report` and `run --report`: reports of a timeline, written to a file
//! atomically or printed.

use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::Path;

use super::load::{current_dir, print};
use super::{GlobalArgs, ReportArgs, ReportSpec};
use crate::error::Error;
use crate::reports::{self, Format};
use crate::timeline::Timeline;

/// Writes or prints the report of `TIMELINE` (default: the configured timeline).
pub fn execute(global: &GlobalArgs, args: &ReportArgs) -> Result<(), Error> {
    let path = match &args.timeline {
        Some(path) => path.clone(),
        None => super::load::load(global)?.timeline()?,
    };
    let timeline = super::view::read_timeline(&path, "report")?;
    let text = render(Format::from(args.format), &timeline, &path);
    match &args.output {
        Some(output) => {
            prepare(output)?;
            write(output, &text)?;
            if !global.quiet {
                eprintln!("     Wrote `{}`", output.display());
            }
        }
        None => print(&text),
    }
    Ok(())
}

/// The report of `timeline`, with failed phases' excerpts from the full logs beside the
/// timeline file at `path`.
fn render(format: Format, timeline: &Timeline, path: &Path) -> String {
    let dir = path.parent().unwrap_or(Path::new("."));
    let excerpts = match format {
        // The trace shows no output.
        Format::Trace => reports::Excerpts::new(),
        _ => crate::report::excerpts::for_timeline(timeline, dir),
    };
    reports::render(format, timeline, &excerpts)
}

/// Checks, before anything runs, that every `--report` path can be written: its folders
/// are created, and a file is opened there (and removed again when it was not there).
pub fn check(specs: &[ReportSpec]) -> Result<(), Error> {
    for spec in specs {
        let path = absolute(&spec.path)?;
        if specs.iter().filter(|s| absolute(&s.path).ok().as_ref() == Some(&path)).count() > 1 {
            return Err(Error::usage(
                format!("two reports would be written to `{}`", spec.path.display()),
                "give each `--report FORMAT=PATH` its own path",
            ));
        }
        // Messages name the path as given; relative paths are relative to the current folder.
        let path = &spec.path;
        prepare(path)?;
        let existed = path.exists();
        OpenOptions::new().append(true).create(true).open(path).map_err(|e| {
            Error::io(format!("cannot write the {} report to", spec.format.name()), path, e)
        })?;
        if !existed {
            let _ = std::fs::remove_file(path);
        }
    }
    Ok(())
}

/// Writes every report of the run that just ended, from its final timeline. Returns the
/// errors (the run's outcome stands; each failed write is reported).
pub fn write_all(specs: &[ReportSpec], timeline: &Timeline, timeline_path: &Path) -> Vec<Error> {
    specs
        .iter()
        .filter_map(|spec| {
            let text = render(spec.format, timeline, timeline_path);
            write(&spec.path, &text).err()
        })
        .collect()
}

fn absolute(path: &Path) -> Result<std::path::PathBuf, Error> {
    Ok(if path.is_relative() { current_dir()?.join(path) } else { path.to_owned() })
}

/// Refuses a folder or a device and creates the file's folders.
fn prepare(path: &Path) -> Result<(), Error> {
    crate::artifact::check_output_path(path, "the report", "target/milo/junit.xml")?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io("cannot create the folder", parent, e))?;
    }
    Ok(())
}

/// Writes `text` to `path` atomically: a temporary file beside it, then a rename.
fn write(path: &Path, text: &str) -> Result<(), Error> {
    let dir = path.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut builder = tempfile::Builder::new();
    builder.prefix(".report-").suffix(".tmp");
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(0o644));
    let mut tmp = builder
        .tempfile_in(dir)
        .map_err(|e| Error::io("cannot create a temporary file in", dir, e))?;
    tmp.write_all(text.as_bytes()).map_err(|e| Error::io("cannot write the report", path, e))?;
    tmp.persist(path).map_err(|e| Error::io("cannot write the report", path, e.error))?;
    Ok(())
}
