//! Big Milo.toml files parsed piece by piece, cut before `[[pipeline.phase]]` headers, so
//! the TOML parser's token and event buffers stay small.

use toml::de::{DeTable, DeValue};

use super::model::RawPipeline;
use super::reader::Reader;

/// The size of the pieces a big file is parsed in: small enough that the parser's buffers
/// reuse the same memory piece after piece (fewer page faults), big enough to be few.
pub(super) const CHUNK: usize = 32 * 1024;

/// The header every phase starts with; big files are cut just before it.
const PHASE_HEADER: &str = "[[pipeline.phase]]";

/// Parses a big, valid file piece by piece, so the TOML parser's token and event buffers
/// stay small (for 100,000 phases they would otherwise take hundreds of MB).
///
/// Each piece after the first starts at a line that is exactly `[[pipeline.phase]]`, so it
/// holds whole phases and nothing else; appending them is what TOML does with
/// `[[pipeline.phase]]`. Anything unexpected — a syntax error (a cut inside a multi-line
/// string leaves the piece before it unterminated), a piece holding another table, a shape
/// problem — returns `None` and the whole file is parsed at once, so diagnostics are exactly
/// those of a whole-file parse.
pub(super) fn parse_chunked(source: &str, chunk: usize) -> Option<RawPipeline> {
    let mut cuts = vec![0];
    let mut headers = vec![0usize];
    let mut line_start = 0;
    for line in source.split_inclusive('\n') {
        // Count every header (`[[pipeline.phase]] # note` too); cut only before bare ones.
        if line.trim_start().starts_with(PHASE_HEADER) {
            // A piece holds at least one header, the first piece included.
            if line.trim() == PHASE_HEADER
                && headers[headers.len() - 1] > 0
                && line_start - cuts[cuts.len() - 1] >= chunk
            {
                cuts.push(line_start);
                headers.push(0);
            }
            *headers.last_mut()? += 1;
        }
        line_start += line.len();
    }
    cuts.push(source.len());
    // The first piece must hold a header too, so any conflict between the headers and what
    // comes before them shows up inside one piece.
    if headers.len() < 2 || headers[0] == 0 {
        return None;
    }
    let mut pipeline = None::<RawPipeline>;
    for (bounds, &expected) in cuts.windows(2).zip(&headers) {
        let doc = DeTable::parse(&source[bounds[0]..bounds[1]]).ok()?;
        let mut reader = Reader::new(bounds[0]);
        let doc = doc.get_ref();
        let phases = if let Some(p) = &mut pipeline {
            let (key, table) = doc.iter().next().filter(|_| doc.len() == 1)?;
            let DeValue::Table(table) = table.get_ref() else { return None };
            let (phase_key, value) = table.iter().next().filter(|_| table.len() == 1)?;
            if key.get_ref() != "pipeline" || phase_key.get_ref() != "phase" {
                return None;
            }
            let phases = reader.phases(value);
            let count = phases.len();
            p.phases.extend(phases);
            count
        } else {
            let mut p = reader.document(doc);
            p.phases.reserve_exact(headers.iter().sum::<usize>().saturating_sub(p.phases.len()));
            let count = p.phases.len();
            pipeline = Some(p);
            count
        };
        // Phases the headers do not account for (an inline `phase = [...]`) or a problem:
        // let the whole-file parse decide and report.
        if phases != expected || !reader.problems.is_empty() {
            return None;
        }
    }
    pipeline.map(|p| RawPipeline { end: source.len(), ..p })
}

#[cfg(test)]
mod tests {
    use std::fmt::Write as _;
    use std::ops::Range;

    use super::super::parse;
    use super::super::reader::parse_whole;
    use super::*;

    fn phases(n: usize, prefix: &str) -> String {
        let mut text = String::new();
        for i in 0..n {
            let _ = write!(
                text,
                "\n[[pipeline.phase]]\nname = \"{prefix}{i}\"\ncmd = \"echo {i}\"\ndepends_on = [\"{prefix}{}\"]\n",
                i.saturating_sub(1)
            );
            if i % 1000 == 7 {
                text.push_str("[pipeline.phase.policy]\non_fail = \"skip\"\n");
            }
        }
        text
    }

    fn big_file(n: usize, extra: &str) -> String {
        format!("[pipeline]\nname = \"big\"\n{}{extra}", phases(n, "p"))
    }

    fn summary(p: &RawPipeline) -> Vec<(String, Range<usize>, usize, Option<String>)> {
        p.phases
            .iter()
            .map(|ph| {
                let name = ph.name.as_ref().expect("name");
                (
                    name.value.clone(),
                    name.span.clone(),
                    ph.depends_on.len(),
                    ph.policy.on_fail.as_ref().map(|o| o.value.clone()),
                )
            })
            .collect()
    }

    #[test]
    fn big_files_parse_in_pieces_exactly_like_whole() {
        let text = big_file(20_000, "");
        assert!(text.len() > 2 * CHUNK);
        let pieces = parse_chunked(&text, CHUNK).expect("a clean big file parses in pieces");
        let (whole, problems) = parse_whole(&text).expect("valid");
        assert!(problems.is_empty());
        assert_eq!(pieces.phases.len(), 20_000);
        assert_eq!(summary(&pieces), summary(&whole));
        assert_eq!(pieces.name, whole.name);
        let last = pieces.phases.last().and_then(|p| p.name.as_ref()).expect("name");
        assert_eq!(&text[last.span.clone()], "\"p19999\"");
    }

    #[test]
    fn big_files_with_anything_unusual_are_parsed_whole() {
        // A table after the phases, a problem, a syntax error, an inline phase array.
        for extra in
            ["\n[pipeline.env]\nA = \"1\"\n", "\nweight = -1\nnmae = 1\n", "\n[[pipeline.phase]\n"]
        {
            let text = big_file(20_000, extra);
            assert!(parse_chunked(&text, CHUNK).is_none(), "{extra:?}");
        }
        let inline = format!(
            "[pipeline]\nphase = [{{ name = \"x\", cmd = \"y\" }}]\n{}",
            phases(20_000, "p")
        );
        assert!(parse_chunked(&inline, CHUNK).is_none());
        // A cut inside a multi-line string leaves the piece before it unterminated.
        let mut text = big_file(10_000, "");
        text.push_str("description = \"\"\"\n");
        text.push_str(&"x\n".repeat(CHUNK));
        text.push_str("[[pipeline.phase]]\n\"\"\"\n");
        text.push_str(&phases(10_000, "q"));
        assert!(parse_chunked(&text, CHUNK).is_none());
        let (raw, problems) = parse(&text).expect("valid TOML");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(raw.phases.len(), 20_000);
    }

    /// A small file with the unusual shapes pieces must respect: subtables, dotted keys,
    /// comments, a multi-line string holding a header line, a table after the phases.
    const VARIED: &str = r#"[pipeline]
name = "v"
env = { A = "1" }

[[pipeline.phase]]
name = "a"
cmd = "echo a"
[pipeline.phase.policy]
on_fail = "retry"

[[pipeline.phase]]
name = "b"
description = """
[[pipeline.phase]]
not a header"""
args = ["x", "y"]
depends_on = ["a"]

[[pipeline.phase]]   # a comment
name = "c"
policy.on_fail = "skip"
env.B = "2"

[[pipeline.phase]]
name = "d"
cmd = 'echo d'
depends_on = ["b", "c"]
timeout = "1m"

[[pipeline.phase]]
name = "e"
cmd = "x"
"#;

    proptest::proptest! {
        /// Whenever pieces succeed, they give exactly what the whole-file parse gives.
        #[test]
        fn pieces_agree_with_the_whole_file(
            edits in proptest::collection::vec((0usize..2000, 0usize..4, "[a-z\\[\\]\"=\n .#]{0,6}"), 0..4),
            chunk in 1usize..400,
            fake_header in proptest::bool::ANY,
        ) {
            let mut text = if fake_header { VARIED.to_owned() } else { plain() };
            for (at, len, insert) in &edits {
                let at = (*at).min(text.len());
                let end = (at + len).min(text.len());
                if text.is_char_boundary(at) && text.is_char_boundary(end) {
                    text.replace_range(at..end, insert);
                }
            }
            if let Some(pieces) = parse_chunked(&text, chunk) {
                let (whole, problems) = parse_whole(&text).expect("pieces parsed, so the file does");
                proptest::prop_assert!(problems.is_empty());
                proptest::prop_assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
            }
        }
    }

    /// VARIED without the header line inside its multi-line string.
    fn plain() -> String {
        VARIED.replace("\"\"\"\n[[pipeline.phase]]\n", "\"\"\"\n")
    }

    #[test]
    fn the_varied_file_is_cut_into_pieces() {
        let text = plain();
        let pieces = parse_chunked(&text, 1).expect("clean");
        let (whole, problems) = parse_whole(&text).expect("valid");
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(format!("{pieces:?}"), format!("{whole:?}"));
        assert_eq!(whole.phases.len(), 5);
        // A cut inside the multi-line string fails the piece before it: parse whole.
        assert!(parse_chunked(VARIED, 1).is_none());
        assert_eq!(parse_whole(VARIED).expect("valid").0.phases.len(), 5);
    }
}
