//! GitHub Actions workflow commands as text: groups, stop-commands fences, `::error`
//! annotations (escaped as the runner expects), and the `$GITHUB_OUTPUT` lines.
//!
//! The runner reads a command from a line that starts with `::`. Its data (after the second
//! `::`) is unescaped from `%25` `%0D` `%0A`; property values also from `%3A` `%2C`.

use std::fmt::Write as _;

use std::borrow::Cow;
use std::collections::HashSet;

use crate::excerpt::{ErrorLocation, Excerpt, Part, strip_escapes};

/// The most error annotations GitHub shows for one step; more are dropped by the runner.
pub const MAX_ERROR_ANNOTATIONS: usize = 10;

/// `text` escaped as a command's data.
///
/// ```
/// use milo::ci::github::escape_data;
/// assert_eq!(escape_data("100% done\r\nnext"), "100%25 done%0D%0Anext");
/// ```
pub fn escape_data(text: &str) -> Cow<'_, str> {
    escape(text, false)
}

/// `text` escaped as a command's property value.
///
/// ```
/// use milo::ci::github::escape_property;
/// assert_eq!(escape_property("a:b,c%"), "a%3Ab%2Cc%25");
/// ```
pub fn escape_property(text: &str) -> Cow<'_, str> {
    escape(text, true)
}

fn escape(text: &str, property: bool) -> Cow<'_, str> {
    let special = |c: char| matches!(c, '%' | '\r' | '\n') || property && matches!(c, ':' | ',');
    if !text.contains(special) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '\r' => out.push_str("%0D"),
            '\n' => out.push_str("%0A"),
            ':' if property => out.push_str("%3A"),
            ',' if property => out.push_str("%2C"),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Appends the command `::name k=v,…::data` and a newline, escaping values and data.
pub fn command(out: &mut String, name: &str, properties: &[(&str, &str)], data: &str) {
    out.push_str("::");
    out.push_str(name);
    for (i, (key, value)) in properties.iter().enumerate() {
        out.push(if i == 0 { ' ' } else { ',' });
        out.push_str(key);
        out.push('=');
        out.push_str(&escape_property(value));
    }
    out.push_str("::");
    out.push_str(&escape_data(data));
    out.push('\n');
}

/// Opens a collapsed group titled `title`.
pub fn group(out: &mut String, title: &str) {
    command(out, "group", &[], title);
}

/// Closes the group.
pub fn endgroup(out: &mut String) {
    command(out, "endgroup", &[], "");
}

/// Stops the runner from reading commands until [`resume_commands`] with the same token.
pub fn stop_commands(out: &mut String, token: &str) {
    command(out, "stop-commands", &[], token);
}

/// Resumes reading commands.
pub fn resume_commands(out: &mut String, token: &str) {
    out.push_str("::");
    out.push_str(token);
    out.push_str("::\n");
}

/// A failed phase, as the annotations see it.
#[derive(Debug, Clone, Copy)]
pub struct Failure<'a> {
    /// The phase.
    pub phase: &'a str,
    /// Why it failed (`exit code 101`).
    pub error: &'a str,
    /// Its excerpt: the lines that look like errors, then the tail.
    pub excerpt: &'a Excerpt,
}

/// The `::error` annotations of a run's failures: one per failed phase (`title=<phase>
/// failed`, its error and excerpt as the message), then one per compiler error or panic
/// location (`file=,line=,col=`) on the source line, at most [`MAX_ERROR_ANNOTATIONS`] in
/// all — the phases' first. `file` maps a phase's location to the path GitHub knows it by
/// (relative to the repository), or `None` to leave it out (a file outside it).
pub fn annotations(
    failures: &[Failure<'_>],
    file: impl Fn(&str, &ErrorLocation) -> Option<String>,
) -> String {
    let mut out = String::new();
    let mut left = MAX_ERROR_ANNOTATIONS;
    for failure in failures.iter().take(left) {
        phase_annotation(&mut out, failure);
        left -= 1;
    }
    let mut seen = HashSet::new();
    for failure in failures {
        for location in &failure.excerpt.locations {
            if left == 0 {
                return out;
            }
            let Some(path) = file(failure.phase, location) else { continue };
            if !seen.insert((path.clone(), location.line, location.column, &location.title)) {
                continue;
            }
            location_annotation(&mut out, location, &path);
            left -= 1;
        }
    }
    out
}

/// `::error title=<phase> failed::<error>` with the excerpt under the error.
fn phase_annotation(out: &mut String, failure: &Failure<'_>) {
    let mut message = failure.error.to_owned();
    if !failure.excerpt.is_empty() {
        message.push_str("\n\n");
    }
    for part in failure.excerpt.parts() {
        match part {
            Part::Line(line) => message.push_str(&strip_escapes(&line.text)),
            Part::Gap(n) => {
                let _ = write!(message, "⋮ {n} {}", if n == 1 { "line" } else { "lines" });
            }
        }
        message.push('\n');
    }
    let title = format!("{} failed", failure.phase);
    command(out, "error", &[("title", &title)], message.trim_end());
}

/// `::error file=…,line=…,col=…,title=error[E0308]::mismatched types`.
fn location_annotation(out: &mut String, location: &ErrorLocation, path: &str) {
    let (line, col) = (location.line.to_string(), location.column.to_string());
    let message = if location.message.is_empty() { &location.title } else { &location.message };
    command(
        out,
        "error",
        &[("file", path), ("line", &line), ("col", &col), ("title", &location.title)],
        message,
    );
}

/// The lines to append to `$GITHUB_OUTPUT`: `key=value`, or a `key<<DELIMITER` block for a
/// value with a line break. `delimiter` must not occur in any value (make it random).
///
/// ```
/// use milo::ci::github::output_lines;
/// assert_eq!(output_lines(&[("status", "failed")], "EOF"), "status=failed\n");
/// assert_eq!(output_lines(&[("path", "a\nb")], "EOF"), "path<<EOF\na\nb\nEOF\n");
/// ```
pub fn output_lines(pairs: &[(&str, &str)], delimiter: &str) -> String {
    let mut out = String::new();
    for (key, value) in pairs {
        if value.contains(['\n', '\r']) {
            let _ = writeln!(out, "{key}<<{delimiter}\n{value}\n{delimiter}");
        } else {
            let _ = writeln!(out, "{key}={value}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::excerpt::Limits;

    #[test]
    fn commands_escape_their_data_and_properties() {
        let mut out = String::new();
        command(&mut out, "error", &[("title", "a: b, c"), ("file", "x%y")], "50%\nof\r");
        assert_eq!(out, "::error title=a%3A b%2C c,file=x%25y::50%25%0Aof%0D\n");
        assert_eq!(escape_data("plain"), Cow::Borrowed("plain"));
        assert_eq!(escape_data("a:b,c"), "a:b,c", "data keeps `:` and `,`");
    }

    #[test]
    fn a_fence_resumes_with_its_own_token() {
        let mut out = String::new();
        stop_commands(&mut out, "abc");
        resume_commands(&mut out, "abc");
        group(&mut out, "✓ a\nb");
        endgroup(&mut out);
        assert_eq!(out, "::stop-commands::abc\n::abc::\n::group::✓ a%0Ab\n::endgroup::\n");
    }

    fn excerpt(text: &str) -> Excerpt {
        Excerpt::of(text.lines(), Limits { tail: 2, ..Limits::default() })
    }

    const RUSTC: &str = "   Compiling demo v0.1.0\n\
        error[E0308]: mismatched types\n \
        --> src/main.rs:2:18\n  |\n\
        2 |     let x: u32 = \"hi\";\n  |                  ^^^^ expected `u32`\n\n\
        error: aborting due to 1 previous error\n";

    #[test]
    fn one_annotation_per_failed_phase_then_one_per_source_location() {
        let build = excerpt(RUSTC);
        let quiet = Excerpt::default();
        let failures = [
            Failure { phase: "build", error: "exit code 101", excerpt: &build },
            Failure { phase: "lint", error: "timed out after 1s", excerpt: &quiet },
        ];
        let text = annotations(&failures, |phase, l| Some(format!("{phase}/{}", l.file)));
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3, "{text}");
        assert!(
            lines[0].starts_with(
                "::error title=build failed::exit code 101%0A%0Aerror[E0308]: mismatched types%0A"
            ),
            "{}",
            lines[0]
        );
        assert!(lines[0].contains("%0A --> src/main.rs:2:18%0A"), "{}", lines[0]);
        assert_eq!(lines[1], "::error title=lint failed::timed out after 1s");
        assert_eq!(
            lines[2],
            "::error file=build/src/main.rs,line=2,col=18,title=error[E0308]::mismatched types"
        );
    }

    #[test]
    fn annotations_stop_at_the_runners_limit_and_skip_unknown_files_and_repeats() {
        let text: String = (1..=5)
            .map(|i| format!("error: bad {i}\n --> src/lib.rs:{i}:1\n\n"))
            .chain(["error: again\n --> src/lib.rs:1:1\n\n".to_owned()])
            .collect();
        let many = excerpt(&text);
        let failures: Vec<Failure<'_>> = ["a", "b", "c"]
            .iter()
            .map(|p| Failure { phase: p, error: "exit code 1", excerpt: &many })
            .collect();
        let out = annotations(&failures, |phase, l| {
            (phase != "c" && l.line != 2).then(|| format!("{phase}/{}", l.file))
        });
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines.len(), MAX_ERROR_ANNOTATIONS, "{out}");
        assert!(lines[..3].iter().all(|l| l.starts_with("::error title=")));
        let located: Vec<&str> =
            lines[3..].iter().map(|l| l.split(",col").next().unwrap_or_default()).collect();
        let expected = ["a/1", "a/3", "a/4", "a/5", "b/1", "b/3", "b/4"].map(|f| {
            let (phase, line) = f.split_once('/').unwrap_or_default();
            format!("::error file={phase}/src/lib.rs,line={line}")
        });
        assert_eq!(
            located, expected,
            "no file for line 2, the repeat of 1:1 left out, then the limit"
        );
    }

    #[test]
    fn escape_codes_do_not_reach_an_annotation() {
        let colored = excerpt("\x1b[1m\x1b[31merror\x1b[0m: boom\n");
        let text =
            annotations(&[Failure { phase: "x", error: "e", excerpt: &colored }], |_, _| None);
        assert_eq!(text, "::error title=x failed::e%0A%0Aerror: boom\n");
    }
}
