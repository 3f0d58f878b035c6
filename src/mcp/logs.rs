//! A phase's log: the end of its file beside the timeline, completed with the lines a
//! running phase printed that its log writer has not flushed yet; or, for a run that writes
//! no files, the lines kept in memory.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;
use std::sync::Arc;

use rmcp::ErrorData;
use serde_json::json;

use super::resources::{LOG_LIMIT, Live, log_uri};
use super::server::Shared;
use crate::artifact::log_path;
use crate::state::PipelineState;
use crate::store::with_active_pipeline;
use crate::timeline::Timeline;

/// What the live state knows of a phase's output: how many lines it printed in all, and
/// the last ones, which it keeps.
#[derive(Debug, Default)]
struct Kept {
    total: u64,
    lines: Vec<Arc<str>>,
}

impl Kept {
    fn of(state: &PipelineState, name: &str) -> Option<Self> {
        let p = state.phase(name)?;
        let lines = p.logs.lines().iter().map(|l| Arc::clone(&l.line)).collect();
        Some(Self { total: p.logs.total(), lines })
    }

    fn from_file(timeline: &Path, name: &str) -> Option<Self> {
        let text = std::fs::read_to_string(timeline).ok()?;
        let timeline: Timeline = serde_json::from_str(&text).ok()?;
        let p = timeline.phases.into_iter().find(|p| p.name == name)?;
        Some(Self { total: p.lines_total, lines: p.logs.into_iter().map(|l| l.line).collect() })
    }

    /// The kept lines as text, after a note when some were not kept.
    fn text(&self) -> String {
        let mut text = String::new();
        if self.total > self.lines.len() as u64 {
            text = format!(
                "[only the last {} of {} lines are kept in memory, and this run writes no log \
                 files]\n",
                self.lines.len(),
                self.total
            );
        }
        push_lines(&mut text, &self.lines);
        text
    }
}

fn push_lines(text: &mut String, lines: &[Arc<str>]) {
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
}

impl Shared {
    /// Phase `name`'s log, or a resource-not-found error naming the phases there are.
    pub(crate) fn log_text(&self, name: &str) -> Result<String, ErrorData> {
        let live = self.live();
        let timeline = self.project.timeline_path();
        let kept = match &live {
            Live::Own(handle) => handle.with(|s| Kept::of(s, name)),
            Live::Active => with_active_pipeline(|s| Kept::of(s, name)).flatten(),
            Live::File(path) => Kept::from_file(path, name),
            Live::Nothing => None,
        };
        if let Some(timeline) = &timeline {
            let path = log_path(timeline, name);
            match tail(&path, LOG_LIMIT) {
                Ok(tail) => return Ok(tail.text(&path, kept.as_ref())),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(ErrorData::internal_error(
                        format!("could not read `{}`: {e}", path.display()),
                        None,
                    ));
                }
            }
        }
        if let Some(kept) = kept.filter(|_| matches!(live, Live::Own(_) | Live::Active)) {
            return Ok(kept.text());
        }
        match self.project.describe() {
            // A phase that has printed nothing (or not run yet).
            Ok(Some(d)) if d.pipeline.get(name).is_some() => Ok(String::new()),
            Ok(Some(d)) => Err(ErrorData::resource_not_found(
                format!(
                    "no phase named `{name}` (phases: {})",
                    d.pipeline.execution_order().join(", ")
                ),
                Some(json!({ "uri": log_uri(name) })),
            )),
            Ok(None) | Err(_) => Err(ErrorData::resource_not_found(
                format!("no log recorded for a phase named `{name}`"),
                Some(json!({ "uri": log_uri(name) })),
            )),
        }
    }
}

/// The end of a log file.
#[derive(Debug)]
struct Tail {
    text: String,
    /// Bytes left out at the start, when the file was longer than the limit.
    cut: u64,
    total: u64,
}

impl Tail {
    /// The text after a note saying what was cut, if anything. A whole file is completed
    /// with the kept lines it lacks: the log writer buffers a quiet phase's last lines.
    fn text(&self, path: &Path, kept: Option<&Kept>) -> String {
        if self.cut > 0 {
            return format!(
                "[cut: the first {} of {} bytes are left out; the whole log is {}]\n{}",
                self.cut,
                self.total,
                path.display(),
                self.text
            );
        }
        let mut text = self.text.clone();
        if let Some(kept) = kept {
            let written = text.lines().filter(|l| !is_attempt_header(l)).count() as u64;
            let missing = kept.total.saturating_sub(written);
            let from = kept.lines.len().saturating_sub(usize::try_from(missing).unwrap_or(0));
            push_lines(&mut text, &kept.lines[from..]);
        }
        text
    }
}

/// The line the log writer puts before each attempt's output.
fn is_attempt_header(line: &str) -> bool {
    line.starts_with("=== ") && line.ends_with(" ===") && line.contains(": attempt ")
}

/// Reads the last `limit` bytes of `path` (from a line start when cut), decoding lossily.
fn tail(path: &Path, limit: u64) -> io::Result<Tail> {
    let mut file = File::open(path)?;
    let total = file.metadata()?.len();
    let mut start = total.saturating_sub(limit);
    file.seek(SeekFrom::Start(start))?;
    let mut bytes = Vec::new();
    // The file may still grow: read no more than the limit.
    file.take(limit).read_to_end(&mut bytes)?;
    if start > 0 {
        // Begin at the first whole line, unless the cut fell inside one huge line.
        if let Some(nl) = memchr::memchr(b'\n', &bytes).filter(|&nl| nl + 1 < bytes.len()) {
            bytes.drain(..=nl);
            start += nl as u64 + 1;
        }
    }
    Ok(Tail { text: String::from_utf8_lossy(&bytes).into_owned(), cut: start, total })
}

/// The last `n` lines of `text`.
pub(crate) fn last_lines(text: &str, n: usize) -> &str {
    if n == 0 {
        return "";
    }
    let body = text.strip_suffix('\n').unwrap_or(text);
    match memchr::memrchr_iter(b'\n', body.as_bytes()).nth(n - 1) {
        Some(i) => &text[i + 1..],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(text: &[u8]) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("a.log");
        std::fs::write(&path, text).expect("write");
        (dir, path)
    }

    #[test]
    fn a_short_log_is_read_whole() {
        let (_dir, path) = write(b"one\ntwo\n");
        assert_eq!(tail(&path, LOG_LIMIT).expect("read").text(&path, None), "one\ntwo\n");
    }

    #[test]
    fn a_long_log_keeps_its_end_from_a_line_start_with_a_note() {
        let lines = |range: std::ops::Range<u32>| -> String {
            range.map(|i| format!("line {i:03}")).collect::<Vec<_>>().join("\n") + "\n"
        };
        let text = lines(0..100);
        let (_dir, path) = write(text.as_bytes());
        let shown = tail(&path, 95).expect("read").text(&path, None);
        let (note, body) = shown.split_once('\n').expect("a note line");
        assert!(note.starts_with("[cut: the first 810 of 900 bytes are left out"), "{note}");
        assert_eq!(body, lines(90..100));
    }

    #[test]
    fn invalid_utf8_is_replaced() {
        let (_dir, path) = write(b"ok \xff\n");
        assert_eq!(tail(&path, LOG_LIMIT).expect("read").text(&path, None), "ok \u{fffd}\n");
    }

    #[test]
    fn lines_not_yet_flushed_are_added_from_the_kept_ones() {
        let (_dir, path) = write(b"=== a: attempt 1 (at 0.000s) ===\none\n");
        let kept = Kept { total: 3, lines: ["one", "two", "three"].map(Arc::from).to_vec() };
        let text = tail(&path, LOG_LIMIT).expect("read").text(&path, Some(&kept));
        assert_eq!(text, "=== a: attempt 1 (at 0.000s) ===\none\ntwo\nthree\n");
        let flushed = Kept { total: 1, lines: vec![Arc::from("one")] };
        let text = tail(&path, LOG_LIMIT).expect("read").text(&path, Some(&flushed));
        assert_eq!(text, "=== a: attempt 1 (at 0.000s) ===\none\n");
    }

    #[test]
    fn last_lines_counts_from_the_end() {
        let text = "a\nb\nc\n";
        assert_eq!(last_lines(text, 2), "b\nc\n");
        assert_eq!(last_lines(text, 3), text);
        assert_eq!(last_lines(text, 10), text);
        assert_eq!(last_lines(text, 0), "");
        assert_eq!(last_lines("a\nb", 1), "b");
    }
}
