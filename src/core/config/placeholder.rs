//! Placeholders in the strings of a per-package phase: `{package}`, `{package_dir}`,
//! `{manifest_path}`. `{{` and `}}` write a brace; `${…}` is left to the shell; any other
//! `{word}` is a misspelt placeholder; other braces (`{}`, `{ print $1 }`) stay as written.
//! Strings of phases without `packages` are never rewritten.

use super::raw::RawPhase;
use crate::diagnostic::Diagnostic;

/// The placeholders, in the order messages list them.
pub const NAMES: [&str; 3] = ["package", "package_dir", "manifest_path"];

/// The placeholder problems in a phase's strings: a misspelt one in a per-package phase, or
/// any in a phase without `packages` (nothing would fill it).
pub(super) fn problems(raw: &RawPhase) -> Vec<Diagnostic> {
    let lists = [&raw.args, &raw.inputs, &raw.outputs].into_iter().flatten();
    let strings = [&raw.description, &raw.cmd, &raw.cwd]
        .into_iter()
        .flatten()
        .chain(lists.flat_map(|list| &list.value))
        .chain(raw.env.iter().map(|(_, v)| v));
    let per_package = raw.packages.is_some();
    let mut problems = Vec::new();
    for text in strings {
        for word in placeholders(&text.value) {
            let d = match (NAMES.contains(&word), per_package) {
                (true, true) | (false, false) => continue,
                (true, false) => Diagnostic::new(
                    format!("placeholder `{{{word}}}` in a phase without `packages`"),
                    text.span.clone(),
                )
                .label("nothing fills this placeholder")
                .help("add `packages = \"workspace\"` (or a list of packages) to run the phase once per package"),
                (false, true) => {
                    let d = Diagnostic::new(
                        format!("unknown placeholder `{{{word}}}`"),
                        text.span.clone(),
                    )
                    .label("not a placeholder")
                    .note("placeholders: `{package}`, `{package_dir}`, `{manifest_path}`");
                    match crate::suggest::closest(word, NAMES) {
                        Some(guess) => d.help(format!("did you mean `{{{guess}}}`?")),
                        None => d.help(
                            "write `{{` and `}}` for literal braces (`${…}` is left to the shell)",
                        ),
                    }
                }
            };
            problems.push(d);
        }
    }
    problems
}

/// One piece of a scanned string.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Piece<'a> {
    /// Text written as is.
    Text(&'a str),
    /// `{name}`: a placeholder, known or not.
    Placeholder(&'a str),
}

/// The pieces of `text`, in order.
fn scan(text: &str) -> impl Iterator<Item = Piece<'_>> {
    let mut rest = text;
    let mut after_dollar = false;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let Some(at) = rest.find(['{', '}']) else {
            let all = std::mem::take(&mut rest);
            return Some(Piece::Text(all));
        };
        if at > 0 {
            let (text, tail) = rest.split_at(at);
            after_dollar = text.ends_with('$');
            rest = tail;
            return Some(Piece::Text(text));
        }
        let doubled = rest[1..].starts_with(&rest[..1]);
        if doubled {
            // `{{` / `}}`: one brace.
            let brace = &rest[..1];
            rest = &rest[2..];
            after_dollar = false;
            return Some(Piece::Text(brace));
        }
        let word = rest[1..].find('}').map(|end| &rest[1..=end]).filter(|w| is_word(w));
        match word {
            Some(word) if rest.starts_with('{') && !after_dollar => {
                rest = &rest[word.len() + 2..];
                after_dollar = false;
                Some(Piece::Placeholder(word))
            }
            _ => {
                let brace = &rest[..1];
                rest = &rest[1..];
                after_dollar = false;
                Some(Piece::Text(brace))
            }
        }
    })
}

fn is_word(word: &str) -> bool {
    let mut chars = word.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every `{word}` in `text` (known placeholders and misspelt ones).
pub fn placeholders(text: &str) -> impl Iterator<Item = &str> {
    // Most strings have no brace: skip the scan.
    let scanned = text.contains('{').then(|| scan(text));
    scanned.into_iter().flatten().filter_map(|piece| match piece {
        Piece::Placeholder(word) => Some(word),
        Piece::Text(_) => None,
    })
}

/// The values of the placeholders for one package.
#[derive(Debug, Clone, Copy)]
pub struct Values<'a> {
    /// `{package}`.
    pub package: &'a str,
    /// `{package_dir}`.
    pub package_dir: &'a str,
    /// `{manifest_path}`.
    pub manifest_path: &'a str,
}

/// `text` with its placeholders replaced and `{{` / `}}` unescaped. A misspelt placeholder
/// (rejected by validation before) is kept as written.
pub fn fill(text: &str, values: &Values<'_>) -> String {
    if !text.contains(['{', '}']) {
        return text.to_owned();
    }
    let mut out = String::with_capacity(text.len() + values.package_dir.len());
    for piece in scan(text) {
        match piece {
            Piece::Text(text) => out.push_str(text),
            Piece::Placeholder("package") => out.push_str(values.package),
            Piece::Placeholder("package_dir") => out.push_str(values.package_dir),
            Piece::Placeholder("manifest_path") => out.push_str(values.manifest_path),
            Piece::Placeholder(other) => {
                out.push('{');
                out.push_str(other);
                out.push('}');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const CORE: Values<'static> =
        Values { package: "core", package_dir: "/ws/core", manifest_path: "/ws/core/Cargo.toml" };

    #[test]
    fn placeholders_are_filled_and_braces_unescaped() {
        assert_eq!(fill("cargo test -p {package}", &CORE), "cargo test -p core");
        assert_eq!(fill("{package_dir}/{manifest_path}", &CORE), "/ws/core//ws/core/Cargo.toml");
        assert_eq!(fill("{{package}} }}{{", &CORE), "{package} }{");
        assert_eq!(fill("{{{package}}}", &CORE), "{core}");
    }

    #[test]
    fn shell_and_other_braces_stay() {
        for text in ["echo ${HOME}", "awk '{ print $1 }'", "find . -exec rm {} ;", "a } b { c", "{"]
        {
            assert_eq!(fill(text, &CORE), text);
            assert_eq!(placeholders(text).count(), 0, "{text}");
        }
        assert_eq!(fill("${package}-{package}", &CORE), "${package}-core");
    }

    #[test]
    fn misspelt_placeholders_are_found() {
        let found: Vec<&str> = placeholders("{pakage} {package} {Dir_2} {{x}}").collect();
        assert_eq!(found, ["pakage", "package", "Dir_2"]);
    }

    proptest::proptest! {
        /// Text without braces is never changed; escaping every brace gives the text back.
        #[test]
        fn escaped_braces_round_trip(text in "[a-z{}$ _]{0,40}") {
            let escaped = text.replace('{', "{{").replace('}', "}}");
            proptest::prop_assert_eq!(fill(&escaped, &CORE), text.clone());
            proptest::prop_assert_eq!(placeholders(&escaped).count(), 0);
        }
    }
}
