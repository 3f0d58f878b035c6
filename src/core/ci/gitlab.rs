//! GitLab CI collapsible sections as text:
//! `\e[0Ksection_start:<unix>:<id>[collapsed=true]\r\e[0K<header>` … `\e[0Ksection_end:<unix>:<id>\r\e[0K`.
//! GitLab shows a section's duration from the two timestamps.

use std::fmt::Write as _;

/// A section id GitLab accepts: letters, digits, `_`, `.` and `-`; anything else (the `:` of
/// `test:core`) becomes `_`.
///
/// ```
/// use milo::ci::gitlab::section_id;
/// assert_eq!(section_id("test:core"), "test_core");
/// ```
pub fn section_id(name: &str) -> String {
    let id: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') { c } else { '_' })
        .collect();
    if id.is_empty() { "phase".to_owned() } else { id }
}

/// Opens a section `id` (sanitised) with `header`, collapsed when `collapsed`.
pub fn section_start(out: &mut String, id: &str, header: &str, collapsed: bool, unix: u64) {
    let options = if collapsed { "[collapsed=true]" } else { "" };
    // A line break in the header would end the marker's line early.
    let header = header.replace(['\r', '\n'], " ");
    let _ =
        write!(out, "\x1b[0Ksection_start:{unix}:{}{options}\r\x1b[0K{header}\n", section_id(id));
}

/// Closes section `id`.
pub fn section_end(out: &mut String, id: &str, unix: u64) {
    let _ = write!(out, "\x1b[0Ksection_end:{unix}:{}\r\x1b[0K\n", section_id(id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sections_carry_sanitised_ids_and_their_times() {
        let mut out = String::new();
        section_start(&mut out, "test:core pkg", "✓ test:core\n2s", true, 1_700_000_000);
        section_end(&mut out, "test:core pkg", 1_700_000_002);
        assert_eq!(
            out,
            "\x1b[0Ksection_start:1700000000:test_core_pkg[collapsed=true]\r\x1b[0K✓ test:core 2s\n\
             \x1b[0Ksection_end:1700000002:test_core_pkg\r\x1b[0K\n"
        );
        let mut open = String::new();
        section_start(&mut open, "lint", "✗ lint exit code 1", false, 5);
        assert_eq!(open, "\x1b[0Ksection_start:5:lint\r\x1b[0K✗ lint exit code 1\n");
        assert_eq!(section_id(""), "phase");
    }
}
