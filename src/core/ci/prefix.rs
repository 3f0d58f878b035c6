//! Prefixed lines: each captured line as `name │ line` (stderr: `name ! line`), names padded
//! so the lines of every phase start in one column. A line starts with the phase's name, so
//! no CI service can take it for a command.

use crate::action::Stream;

/// The widest a name is padded to: a longer name pushes its own lines, not everyone's.
pub const MAX_WIDTH: usize = 32;

/// Writes prefixed lines for phases whose names are all known up front.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Prefixer {
    width: usize,
}

impl Prefixer {
    /// A prefixer padding to the longest of `names` (at most [`MAX_WIDTH`] columns).
    pub fn new<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
        let width = names.into_iter().map(|n| n.chars().count()).max().unwrap_or(0);
        Self { width: width.min(MAX_WIDTH) }
    }

    /// Appends `line` of phase `name` from `stream`, and a newline.
    ///
    /// ```
    /// use milo::Stream;
    /// use milo::ci::prefix::Prefixer;
    /// let prefixer = Prefixer::new(["fmt", "build"]);
    /// let mut out = String::new();
    /// prefixer.push(&mut out, "fmt", Stream::Stdout, "ok");
    /// prefixer.push(&mut out, "build", Stream::Stderr, "warning: unused");
    /// assert_eq!(out, "fmt   │ ok\nbuild ! warning: unused\n");
    /// ```
    pub fn push(&self, out: &mut String, name: &str, stream: Stream, line: &str) {
        out.push_str(name);
        let pad = self.width.saturating_sub(name.chars().count());
        out.extend(std::iter::repeat_n(' ', pad + 1));
        out.push(match stream {
            Stream::Stdout => '│',
            Stream::Stderr => '!',
        });
        if !line.is_empty() {
            out.push(' ');
            out.push_str(line);
        }
        out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_pad_to_the_longest_up_to_a_limit() {
        let long = "x".repeat(40);
        let prefixer = Prefixer::new(["a", long.as_str()]);
        let mut out = String::new();
        prefixer.push(&mut out, "a", Stream::Stdout, "one");
        prefixer.push(&mut out, &long, Stream::Stdout, "two");
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], format!("a{} │ one", " ".repeat(MAX_WIDTH - 1)));
        assert_eq!(lines[1], format!("{long} │ two"));
    }

    #[test]
    fn a_line_that_looks_like_a_command_is_not_at_the_start() {
        let prefixer = Prefixer::new(["evil"]);
        let mut out = String::new();
        prefixer.push(&mut out, "evil", Stream::Stdout, "::error::pwned");
        prefixer.push(&mut out, "evil", Stream::Stderr, "");
        assert_eq!(out, "evil │ ::error::pwned\nevil !\n", "no trailing space");
    }
}
