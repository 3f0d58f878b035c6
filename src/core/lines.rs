//! Bytes → lines: `\n`, `\r\n` and a lone `\r` end a line; lines over 64 KiB are split.
//!
//! The splitter is fed whatever a pipe read returns, so a terminator can straddle two
//! chunks (`\r` at the end of one, `\n` at the start of the next): it remembers that.

/// The longest line kept whole; longer ones are split into pieces of at most this many bytes.
pub const MAX_LINE: usize = 64 * 1024;

/// Splits a byte stream into lines, holding back at most [`MAX_LINE`] bytes.
#[derive(Debug, Default)]
pub struct LineSplitter {
    buf: Vec<u8>,
    after_cr: bool,
}

impl LineSplitter {
    /// An empty splitter.
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds `data`, calling `emit` with each complete line (without its terminator).
    pub fn push(&mut self, mut data: &[u8], mut emit: impl FnMut(&[u8])) {
        if data.is_empty() {
            return;
        }
        if self.after_cr {
            self.after_cr = false;
            if let Some(rest) = data.strip_prefix(b"\n") {
                data = rest;
            }
        }
        while let Some(pos) = memchr::memchr2(b'\n', b'\r', data) {
            if self.buf.is_empty() {
                emit_split(&data[..pos], &mut emit);
            } else {
                self.buf.extend_from_slice(&data[..pos]);
                emit_split(&self.buf, &mut emit);
                self.buf.clear();
            }
            let mut next = pos + 1;
            if data[pos] == b'\r' {
                match data.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            data = &data[next..];
        }
        if data.is_empty() {
            return;
        }
        self.buf.extend_from_slice(data);
        // Keep at most MAX_LINE bytes pending: a line that never ends must not grow memory.
        while self.buf.len() > MAX_LINE {
            let cut = char_boundary(&self.buf, MAX_LINE);
            emit(&self.buf[..cut]);
            self.buf.drain(..cut);
        }
    }

    /// Feeds `data`, appending each complete line to `batch`: what [`push`](Self::push) with
    /// `|l| batch.push(l)` does, but the complete lines of a chunk without `\r` that is valid
    /// UTF-8 (most output) are copied at once, not line by line.
    pub fn push_into(&mut self, mut data: &[u8], batch: &mut LineBatch) {
        if !self.buf.is_empty() || self.after_cr {
            // The line a previous chunk left open (or its `\r\n` cut in two) ends the
            // careful way; the chunk's other lines may then go at once.
            let Some(pos) = memchr::memchr2(b'\n', b'\r', data) else {
                self.push(data, |l| batch.push(l));
                return;
            };
            let end = if data[pos] == b'\r' && data.get(pos + 1) == Some(&b'\n') {
                pos + 2
            } else {
                pos + 1
            };
            self.push(&data[..end], |l| batch.push(l));
            data = &data[end..];
        }
        if self.buf.is_empty() && !self.after_cr {
            let head = memchr::memrchr(b'\n', data).map_or(&data[..0], |last| &data[..=last]);
            if memchr::memchr(b'\r', head).is_none()
                && let Ok(text) = std::str::from_utf8(head)
                && batch.push_lines(text)
            {
                self.push(&data[head.len()..], |l| batch.push(l));
                return;
            }
        }
        self.push(data, |l| batch.push(l));
    }

    /// Ends the stream: emits a last line that had no terminator.
    pub fn finish(&mut self, mut emit: impl FnMut(&[u8])) {
        self.after_cr = false;
        if !self.buf.is_empty() {
            emit_split(&self.buf, &mut emit);
            self.buf.clear();
        }
    }
}

/// Emits `line`, in pieces of at most [`MAX_LINE`] bytes cut at UTF-8 boundaries.
fn emit_split(mut line: &[u8], emit: &mut impl FnMut(&[u8])) {
    while line.len() > MAX_LINE {
        let cut = char_boundary(line, MAX_LINE);
        emit(&line[..cut]);
        line = &line[cut..];
    }
    emit(line);
}

/// The largest cut ≤ `max` that does not split a UTF-8 sequence (or `max` if the bytes are
/// not UTF-8 there anyway).
fn char_boundary(bytes: &[u8], max: usize) -> usize {
    let mut cut = max;
    while cut > max.saturating_sub(3) && cut > 0 && bytes.get(cut).is_some_and(|b| b & 0xC0 == 0x80)
    {
        cut -= 1;
    }
    if bytes.get(cut).is_some_and(|b| b & 0xC0 == 0x80) || cut == 0 { max } else { cut }
}

/// Decoded lines in one allocation: each line followed by `\n` (lines never contain one).
///
/// ```
/// let mut batch = milo::lines::LineBatch::default();
/// batch.push(b"a\xffb");
/// batch.push(b"");
/// assert_eq!(batch.iter().collect::<Vec<_>>(), ["a\u{fffd}b", ""]);
/// ```
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct LineBatch {
    text: String,
    count: usize,
}

impl LineBatch {
    /// Appends a line, replacing invalid UTF-8 with U+FFFD.
    pub fn push(&mut self, line: &[u8]) {
        self.text.push_str(&String::from_utf8_lossy(line));
        self.text.push('\n');
        self.count += 1;
    }

    /// Appends `text`, whole lines each ended by `\n` (no `\r`), unless one of them is longer
    /// than [`MAX_LINE`] (then it returns `false` and appends nothing: it must be split).
    fn push_lines(&mut self, text: &str) -> bool {
        let bytes = text.as_bytes();
        let (mut count, mut from) = (0, 0);
        // Window by window (vectorised searches, not a step per line): the last `\n` within
        // MAX_LINE + 1 bytes of a line's start ends every line up to it, none too long.
        while from < bytes.len() {
            let window = &bytes[from..bytes.len().min(from + MAX_LINE + 1)];
            let Some(last) = memchr::memrchr(b'\n', window) else { return false };
            count += memchr::memchr_iter(b'\n', &window[..=last]).count();
            from += last + 1;
        }
        self.text.push_str(text);
        self.count += count;
        true
    }

    /// How many lines.
    pub fn len(&self) -> usize {
        self.count
    }

    /// Whether there is no line.
    pub fn is_empty(&self) -> bool {
        self.count == 0
    }

    /// The lines, in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        lines_of(&self.text)
    }

    /// The lines as one text, each followed by `\n` (what a log file holds of them).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The last `n` lines (all of them when there are fewer), in order; found from the end,
    /// so a ring keeping a phase's last lines never walks a long batch.
    ///
    /// ```
    /// let mut batch = milo::lines::LineBatch::default();
    /// for line in ["a", "b", "c"] {
    ///     batch.push(line.as_bytes());
    /// }
    /// assert_eq!(batch.tail(2).collect::<Vec<_>>(), ["b", "c"]);
    /// assert_eq!(batch.tail(9).count(), 3);
    /// assert_eq!(batch.last(), Some("c"));
    /// ```
    pub fn tail(&self, n: usize) -> impl Iterator<Item = &str> {
        let start = if n >= self.count {
            0
        } else {
            // The text ends with the last line's `\n`: the n-th one before it ends the line
            // before the tail.
            memchr::memrchr_iter(b'\n', self.text.as_bytes()).nth(n).map_or(0, |end| end + 1)
        };
        lines_of(self.text.get(start..).unwrap_or_default())
    }

    /// The last line.
    pub fn last(&self) -> Option<&str> {
        self.tail(1).next()
    }
}

/// The lines of `text`, each ended by `\n`.
fn lines_of(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    // memchr over the bytes: `str::split` with a char pattern compares per match.
    memchr::memchr_iter(b'\n', text.as_bytes()).map(move |end| {
        let line = text.get(start..end).unwrap_or_default();
        start = end + 1;
        line
    })
}

/// Lossy UTF-8: invalid sequences become U+FFFD, never dropped.
pub fn decode(line: &[u8]) -> std::sync::Arc<str> {
    match String::from_utf8_lossy(line) {
        std::borrow::Cow::Borrowed(s) => std::sync::Arc::from(s),
        std::borrow::Cow::Owned(s) => std::sync::Arc::from(s),
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn split_chunks(chunks: &[&[u8]]) -> Vec<Vec<u8>> {
        let mut s = LineSplitter::new();
        let mut out = Vec::new();
        for c in chunks {
            s.push(c, |l| out.push(l.to_vec()));
        }
        s.finish(|l| out.push(l.to_vec()));
        out
    }

    fn strs(lines: &[Vec<u8>]) -> Vec<String> {
        lines.iter().map(|l| String::from_utf8_lossy(l).into_owned()).collect()
    }

    #[test]
    fn terminators() {
        let got = split_chunks(&[b"a\nb\r\nc\rd"]);
        assert_eq!(strs(&got), ["a", "b", "c", "d"]);
    }

    #[test]
    fn crlf_split_across_chunks_is_one_terminator() {
        let got = split_chunks(&[b"a\r", b"\nb\n"]);
        assert_eq!(strs(&got), ["a", "b"]);
    }

    #[test]
    fn empty_chunk_between_cr_and_lf_changes_nothing() {
        let got = split_chunks(&[b"a\r", b"", b"\nb"]);
        assert_eq!(strs(&got), ["a", "b"]);
    }

    #[test]
    fn lone_cr_at_chunk_end_then_text() {
        let got = split_chunks(&[b"50%\r", b"100%\n"]);
        assert_eq!(strs(&got), ["50%", "100%"]);
    }

    #[test]
    fn empty_lines_are_kept() {
        let got = split_chunks(&[b"\n\nx\n"]);
        assert_eq!(strs(&got), ["", "", "x"]);
    }

    #[test]
    fn partial_line_joined_across_chunks() {
        let got = split_chunks(&[b"hel", b"lo\nwor", b"ld"]);
        assert_eq!(strs(&got), ["hello", "world"]);
    }

    #[test]
    fn long_line_is_split_at_64k() {
        let data = vec![b'x'; MAX_LINE * 2 + 10];
        let got = split_chunks(&[&data[..1000], &data[1000..]]);
        let lens: Vec<usize> = got.iter().map(Vec::len).collect();
        assert_eq!(lens, [MAX_LINE, MAX_LINE, 10]);
    }

    #[test]
    fn exactly_64k_then_newline_is_one_line() {
        let mut data = vec![b'y'; MAX_LINE];
        data.push(b'\n');
        let got = split_chunks(&[&data]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].len(), MAX_LINE);
    }

    #[test]
    fn split_respects_utf8_boundaries() {
        let text = "é".repeat(MAX_LINE); // 2 bytes each
        let got = split_chunks(&[text.as_bytes()]);
        assert!(got.iter().all(|l| std::str::from_utf8(l).is_ok()));
        assert_eq!(got.concat(), text.as_bytes());
    }

    #[test]
    fn invalid_utf8_is_replaced_not_dropped() {
        assert_eq!(&*decode(b"a\xffb"), "a\u{fffd}b");
    }

    /// `data` cut at `cuts`, fed chunk by chunk through `push_into`.
    fn batch_chunks(data: &[u8], cuts: Vec<usize>) -> LineBatch {
        let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
        points.sort_unstable();
        let mut s = LineSplitter::new();
        let mut batch = LineBatch::default();
        let mut last = 0;
        for p in points {
            s.push_into(&data[last..p], &mut batch);
            last = p;
        }
        s.push_into(&data[last..], &mut batch);
        s.finish(|l| batch.push(l));
        batch
    }

    #[test]
    fn push_into_copies_clean_chunks_whole_and_keeps_the_rest_pending() {
        let mut s = LineSplitter::new();
        let mut batch = LineBatch::default();
        s.push_into(b"a\n\nb\npart", &mut batch);
        assert_eq!(batch.iter().collect::<Vec<_>>(), ["a", "", "b"]);
        s.push_into(b"ial\r\nc\xff\n", &mut batch);
        assert_eq!(batch.iter().collect::<Vec<_>>(), ["a", "", "b", "partial", "c\u{fffd}"]);
        assert_eq!(batch.len(), 5);
    }

    #[test]
    fn push_into_splits_a_long_line_in_a_large_clean_chunk_as_push_does() {
        let long = "x".repeat(MAX_LINE + 10);
        let exact = "y".repeat(MAX_LINE);
        let data = format!("a\n{long}\n{exact}\nb\n");
        let mut expected = LineBatch::default();
        for line in split_chunks(&[data.as_bytes()]) {
            expected.push(&line);
        }
        assert_eq!(batch_chunks(data.as_bytes(), Vec::new()), expected);
        let lens: Vec<usize> = expected.iter().map(str::len).collect();
        assert_eq!(lens, [1, MAX_LINE, 10, MAX_LINE, 1]);
        let clean = format!("a\n{exact}\nb\n");
        let lens: Vec<usize> =
            batch_chunks(clean.as_bytes(), Vec::new()).iter().map(str::len).collect();
        assert_eq!(lens, [1, MAX_LINE, 1], "a line of exactly MAX_LINE stays whole");
    }

    proptest! {
        /// However the bytes are cut, `push_into` gives the lines `push` gives one by one
        /// (clean chunks and chunks with `\r` or invalid UTF-8 alike).
        #[test]
        fn push_into_gives_the_lines_of_push(data in proptest::collection::vec(
            prop_oneof![4 => Just(b'a'), 2 => Just(b'\n'), 1 => Just(b'\r'), 1 => Just(0xC3u8),
                1 => Just(0xA9u8)], 0..300),
            cuts in proptest::collection::vec(0usize..300, 0..8)) {
            let mut expected = LineBatch::default();
            for line in split_chunks(&[&data]) {
                expected.push(&line);
            }
            prop_assert_eq!(batch_chunks(&data, cuts), expected);
        }

        #[test]
        fn chunking_never_changes_the_lines(data in proptest::collection::vec(
            prop_oneof![Just(b'a'), Just(b'\n'), Just(b'\r'), Just(0xC3u8), Just(0xA9u8)], 0..300),
            cuts in proptest::collection::vec(0usize..300, 0..8)) {
            let whole = split_chunks(&[&data]);
            let mut points: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            points.sort_unstable();
            let mut chunks: Vec<&[u8]> = Vec::new();
            let mut last = 0;
            for p in points { chunks.push(&data[last..p]); last = p; }
            chunks.push(&data[last..]);
            prop_assert_eq!(split_chunks(&chunks), whole);
        }
    }
}
