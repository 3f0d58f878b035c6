//! Rewriting the timeline at the cost of what changed: the phases that did not change since
//! the last write are copied from the file on disk (in the kernel where it can, with
//! `copy_file_range`), and only the others are serialised. The document is, byte for byte,
//! what `serde_json::to_writer_pretty` writes of the whole timeline (a test holds it to
//! that); it still goes to a temporary file renamed over the old one, so a reader sees the
//! old document or the new one, never a part.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::ops::Range;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};

use super::temp_beside;
use crate::state::PipelineState;
use crate::timeline::{Timeline, TimelinePhase};

/// How a timeline's document starts its list of phases when it has none (serde's pretty
/// printer: two spaces an indent level; no string holds a raw newline).
const NO_PHASES: &str = "\n  \"phases\": []";
/// What goes before a phase in the list: the first, and every other.
const FIRST: &[u8] = b"\n    ";
const NEXT: &[u8] = b",\n    ";
/// What a copied run of phases costs in buffered bytes before the buffer is written out.
const BUFFER: usize = 64 * 1024;

/// One write: the document without its phases, how many phases it has, and the phases to
/// serialise anew (by position, in order); the others are copied from the last write.
#[derive(Debug)]
pub(super) struct Snapshot {
    /// The timeline with an empty `phases`.
    pub(super) head: Timeline,
    /// How many phases the document lists.
    pub(super) count: usize,
    /// The phases that changed (all of them when [`Incremental::needs_all`]).
    pub(super) fresh: Vec<(usize, TimelinePhase)>,
}

/// The phases whose entry in the timeline changed since the last write. A store subscriber
/// marks them under the store's lock, and a snapshot takes the marks under the same lock:
/// what it serialises and what it copies agree with one state.
#[derive(Debug)]
pub(super) struct Dirty(Box<[AtomicBool]>);

impl Dirty {
    /// No phase of `count` marked.
    pub(super) fn new(count: usize) -> Self {
        Self((0..count).map(|_| AtomicBool::new(false)).collect())
    }

    /// Phase `i` changed.
    pub(super) fn mark(&self, i: usize) {
        if let Some(flag) = self.0.get(i) {
            flag.store(true, Ordering::Relaxed);
        }
    }

    /// Whether phase `i` changed since the last call.
    fn take(&self, i: usize) -> bool {
        self.0.get(i).is_some_and(|flag| flag.swap(false, Ordering::Relaxed))
    }
}

/// What to write of `state`: the phases marked in `dirty` (or all of them), and those that
/// run, whose `elapsed` grows with the pipeline's.
pub(super) fn snapshot(state: &PipelineState, dirty: &Dirty, all: bool) -> Snapshot {
    let fresh = state
        .phases
        .iter()
        .enumerate()
        // `|`, not `||`: every mark is taken, whatever else says the phase is written.
        .filter(|(i, p)| dirty.take(*i) | all | (p.started_at.is_some() && p.ended_at.is_none()))
        .map(|(i, p)| (i, TimelinePhase::of(p, state)))
        .collect();
    Snapshot { head: Timeline::head(state), count: state.phases.len(), fresh }
}

/// Where each phase sits in the file last written.
#[derive(Debug)]
struct Layout {
    phases: Vec<Range<u64>>,
    len: u64,
}

/// The timeline file as last written, to be rewritten in part.
#[derive(Debug, Default)]
pub(super) struct Incremental {
    layout: Option<Layout>,
}

impl Incremental {
    /// Whether the next write must serialise every phase: nothing was written yet, or the
    /// last write failed.
    pub(super) fn needs_all(&self) -> bool {
        self.layout.is_none()
    }

    /// Writes `snapshot` to `path` atomically. After a failure the next write is whole.
    pub(super) fn write(&mut self, path: &Path, snapshot: &Snapshot) -> io::Result<()> {
        let written = self.try_write(path, snapshot);
        match written {
            Ok(layout) => {
                self.layout = Some(layout);
                Ok(())
            }
            Err(e) => {
                self.layout = None;
                Err(e)
            }
        }
    }

    fn try_write(&self, path: &Path, snapshot: &Snapshot) -> io::Result<Layout> {
        let head = serde_json::to_string_pretty(&snapshot.head)?;
        let list = head.find(NO_PHASES).map(|at| at + NO_PHASES.len() - 1).ok_or_else(|| {
            io::Error::other("the timeline's document has no list of phases to fill")
        })?;
        let old = match &self.layout {
            Some(layout) => {
                let file = File::open(path)?;
                // Someone else's file (or none) is not ours to copy from.
                if file.metadata()?.len() != layout.len || layout.phases.len() != snapshot.count {
                    return Err(io::Error::other("the timeline on disk is not the last written"));
                }
                Some((file, layout))
            }
            None if snapshot.fresh.len() == snapshot.count => None,
            None => return Err(io::Error::other("a first write needs every phase")),
        };
        let mut tmp = temp_beside(path)?;
        let mut out = Out { file: tmp.as_file_mut(), buf: Vec::with_capacity(BUFFER), pos: 0 };
        let mut phases = Vec::with_capacity(snapshot.count);
        if snapshot.count == 0 {
            out.put(head.as_bytes())?;
        } else {
            out.put(&head.as_bytes()[..list])?;
            let mut fresh = snapshot.fresh.iter().peekable();
            let mut i = 0;
            while i < snapshot.count {
                out.put(if i == 0 { FIRST } else { NEXT })?;
                if let Some((_, phase)) = fresh.next_if(|(k, _)| *k == i) {
                    let start = out.pos;
                    out.put_indented(&serde_json::to_vec_pretty(phase)?)?;
                    phases.push(start..out.pos);
                    i += 1;
                    continue;
                }
                let Some((file, layout)) = &old else {
                    return Err(io::Error::other("a phase is missing from a first write"));
                };
                // The unchanged phases from here to the next fresh one, separators included.
                let end = fresh.peek().map_or(snapshot.count, |(k, _)| *k);
                let from = layout.phases[i].start;
                let start = out.pos;
                out.copy(file, from..layout.phases[end - 1].end)?;
                phases.extend(
                    layout.phases[i..end]
                        .iter()
                        .map(|r| (r.start - from + start)..(r.end - from + start)),
                );
                i = end;
            }
            out.put(b"\n  ")?;
            out.put(&head.as_bytes()[list..])?;
        }
        out.put(b"\n")?;
        out.flush()?;
        let len = out.pos;
        tmp.persist(path).map_err(|e| e.error)?;
        Ok(Layout { phases, len })
    }
}

/// The temporary file being written: buffered text, copied ranges, and where it is.
struct Out<'a> {
    file: &'a mut File,
    buf: Vec<u8>,
    pos: u64,
}

impl Out<'_> {
    fn put(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.buf.extend_from_slice(bytes);
        self.pos += bytes.len() as u64;
        if self.buf.len() >= BUFFER { self.flush() } else { Ok(()) }
    }

    /// A phase serialised on its own, indented as an element of the document's list.
    fn put_indented(&mut self, json: &[u8]) -> io::Result<()> {
        let mut rest = json;
        while let Some(at) = memchr::memchr(b'\n', rest) {
            self.put(&rest[..=at])?;
            self.put(b"    ")?;
            rest = &rest[at + 1..];
        }
        self.put(rest)
    }

    /// Copies `range` of `from` here (without passing through this process where the system
    /// can copy between files itself).
    fn copy(&mut self, mut from: &File, range: Range<u64>) -> io::Result<()> {
        self.flush()?;
        from.seek(SeekFrom::Start(range.start))?;
        let len = range.end - range.start;
        let copied = io::copy(&mut from.take(len), self.file)?;
        if copied != len {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the timeline on disk shrank",
            ));
        }
        self.pos += len;
        Ok(())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.file.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }
}

#[cfg(test)]
mod tests;
