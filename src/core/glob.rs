//! The globs of `inputs` and `outputs`: one syntax everywhere (validation, the library
//! builder, the walker), and where a glob starts — its literal folder, the only part of the
//! tree a walk for it must visit.
//!
//! Syntax is [`globset`]'s with `*` and `?` never matching `/` (`**` crosses folders),
//! `{a,b}` alternatives, `[ab]` classes and `\` escapes. A glob is matched against a path
//! relative to the pipeline's folder (`src/a.proto`), or against the absolute path when the
//! glob itself is absolute (`{package_dir}/src/*.rs` in a per-package phase).

use globset::{Glob, GlobBuilder, GlobMatcher};

/// Builds `pattern` with the options every glob of a pipeline uses.
fn builder(pattern: &str) -> GlobBuilder<'_> {
    let mut b = GlobBuilder::new(pattern);
    b.literal_separator(true).backslash_escape(true);
    b
}

/// Parses `pattern`, or says why it is not a glob (globset's words: "unclosed character
/// class; missing ']'").
pub fn parse(pattern: &str) -> Result<Glob, String> {
    if pattern.is_empty() {
        return Err("empty glob".to_owned());
    }
    if pattern.contains('\0') {
        return Err("a glob cannot hold a NUL byte".to_owned());
    }
    builder(normalize(pattern)).build().map_err(|e| e.kind().to_string())
}

/// A matcher for `pattern` (already checked by [`parse`]).
pub fn matcher(pattern: &str) -> Result<GlobMatcher, String> {
    parse(pattern).map(|g| g.compile_matcher())
}

/// `pattern` without a leading `./` (`./src/*.rs` means `src/*.rs`).
pub fn normalize(pattern: &str) -> &str {
    let mut p = pattern;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest.trim_start_matches('/');
    }
    p
}

/// Escapes `text` so a glob matches it literally (a placeholder's value, a folder's path).
pub fn escape(text: &str) -> String {
    globset::escape(text)
}

/// Where a glob starts: its leading components that match only themselves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// The literal folder (unescaped, `/`-separated; empty for the pipeline's folder, `/`
    /// for the root): every match lies under it.
    pub base: String,
    /// Whether the whole glob is literal: it names one path, `base` itself.
    pub literal: bool,
}

/// Splits `pattern` into its literal folder and the rest.
///
/// ```
/// use milo::glob::{split, Split};
/// assert_eq!(split("proto/**/*.proto"), Split { base: "proto".into(), literal: false });
/// assert_eq!(split("gen.sh"), Split { base: "gen.sh".into(), literal: true });
/// assert_eq!(split("*.rs"), Split { base: "".into(), literal: false });
/// assert_eq!(split("/ws/a[[]1[]]/src/*.rs"), Split { base: "/ws/a[1]/src".into(), literal: false });
/// ```
pub fn split(pattern: &str) -> Split {
    let pattern = normalize(pattern);
    let absolute = pattern.starts_with('/');
    let mut parts: Vec<String> = Vec::new();
    let mut literal = true;
    for component in pattern.split('/').filter(|c| !c.is_empty()) {
        if let Some(text) = unescape(component) {
            parts.push(text);
        } else {
            literal = false;
            break;
        }
    }
    let joined = parts.join("/");
    let base = if absolute { format!("/{joined}") } else { joined };
    Split { base, literal }
}

/// Whether globs `a` and `b` may match files in the same place: the literal folder of one
/// lies in the other's (relative folders resolved against `root`, compared by components).
/// Loose on purpose: `check` uses it to tell whether a dependency's `outputs` could create a
/// file an `inputs` glob looks for, and a folder such as `**` overlaps everything.
///
/// ```
/// use milo::glob::overlaps;
/// let root = std::path::Path::new("/ws");
/// assert!(overlaps(root, "out/*.rs", "out/gen/**"));
/// assert!(overlaps(root, "/ws/out/a.rs", "./out/*.rs"));
/// assert!(!overlaps(root, "out/*.rs", "outside/*.rs"));
/// ```
pub fn overlaps(root: &std::path::Path, a: &str, b: &str) -> bool {
    let (a, b) = (root.join(split(a).base), root.join(split(b).base));
    a.starts_with(&b) || b.starts_with(&a)
}

/// A component's text when it matches only itself (`a[*]b` is `a*b`), else `None`.
fn unescape(component: &str) -> Option<String> {
    let chars: Vec<char> = component.chars().collect();
    let mut out = String::with_capacity(component.len());
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            '\\' => {
                out.push(*chars.get(i + 1)?);
                i += 2;
            }
            // `[c]`: a class of one character is that character.
            '[' if chars.get(i + 2) == Some(&']')
                && !matches!(chars.get(i + 1), Some('!' | '^')) =>
            {
                out.push(chars[i + 1]);
                i += 3;
            }
            '*' | '?' | '[' | '{' | '}' => return None,
            c => {
                out.push(c);
                i += 1;
            }
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stars_stay_in_their_folder() {
        let m = matcher("proto/*.proto").expect("valid");
        assert!(m.is_match("proto/a.proto"));
        assert!(!m.is_match("proto/sub/a.proto"));
        let deep = matcher("proto/**/*.proto").expect("valid");
        assert!(deep.is_match("proto/a.proto") && deep.is_match("proto/x/y/a.proto"));
        assert!(matcher("./src/{a,b}.rs").expect("valid").is_match("src/b.rs"));
    }

    #[test]
    fn bad_globs_say_why() {
        assert_eq!(
            parse("src/[a.rs").expect_err("unclosed"),
            "unclosed character class; missing ']'"
        );
        assert_eq!(
            parse("{a,b").expect_err("unclosed"),
            "unclosed alternate group; missing '}' (maybe escape '{' with '[{]'?)"
        );
        assert_eq!(parse("").expect_err("empty"), "empty glob");
    }

    #[test]
    fn the_literal_folder_is_where_the_walk_starts() {
        assert_eq!(split("./src/gen/*.rs").base, "src/gen");
        assert_eq!(split("../shared/**").base, "../shared");
        assert_eq!(split("a\\*b/c.rs"), Split { base: "a*b/c.rs".into(), literal: true });
        assert_eq!(split("src/[ab].rs").base, "src");
        assert_eq!(split("/abs/*.rs").base, "/abs");
        assert_eq!(split("**/*.rs").base, "");
    }

    #[test]
    fn globs_overlap_when_one_folder_holds_the_other() {
        let root = std::path::Path::new("/ws");
        assert!(overlaps(root, "src/gen/*.rs", "src/gen/*.rs"));
        assert!(overlaps(root, "src/gen/a.rs", "src/**"));
        assert!(overlaps(root, "**/*.rs", "target/out.txt"), "the root holds everything");
        assert!(overlaps(root, "/ws/pkg/src/*.rs", "pkg/src/gen.rs"));
        assert!(!overlaps(root, "src/gen/*.rs", "src/generated/*.rs"), "components, not text");
        assert!(!overlaps(root, "docs/*.md", "out/*.rs"));
        assert!(!overlaps(root, "/elsewhere/*.rs", "out/*.rs"));
    }

    proptest::proptest! {
        /// An escaped path is literal, its split gives it back, and it matches itself.
        #[test]
        fn escaped_text_is_literal(text in "[a-z*?\\[\\]{}/ .]{1,20}") {
            let text = text.trim_matches('/');
            proptest::prop_assume!(!text.is_empty() && !text.contains("//") && !text.starts_with("./"));
            let escaped = escape(text);
            let s = split(&escaped);
            proptest::prop_assert!(s.literal);
            proptest::prop_assert_eq!(s.base.as_str(), text);
            proptest::prop_assert!(matcher(&escaped).expect("valid").is_match(text));
        }
    }
}
