//! `$MILO_OUTPUT` (`key=value` lines, as GitHub Actions' `$GITHUB_OUTPUT`) and the
//! `$MILO_CONTEXT` document.

use std::collections::BTreeMap;

/// Parses an output file: `key=value` lines, and `key<<DELIM` … `DELIM` for multi-line
/// values. Blank lines and lines without `=` are ignored; a later key wins.
///
/// ```
/// let out = milo::outputs::parse("version=1.2.3\nnotes<<EOF\na\nb\nEOF\n");
/// assert_eq!(out["version"], "1.2.3");
/// assert_eq!(out["notes"], "a\nb");
/// ```
pub fn parse(text: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let eq = line.find('=');
        let heredoc = line.find("<<");
        match (eq, heredoc) {
            (Some(e), Some(h)) if h < e => heredoc_value(line, h, &mut lines, &mut out),
            (Some(e), _) => {
                let key = line[..e].trim();
                if !key.is_empty() {
                    out.insert(key.to_owned(), line[e + 1..].to_owned());
                }
            }
            (None, Some(h)) => heredoc_value(line, h, &mut lines, &mut out),
            (None, None) => {}
        }
    }
    out
}

fn heredoc_value<'a>(
    line: &str,
    at: usize,
    lines: &mut impl Iterator<Item = &'a str>,
    out: &mut BTreeMap<String, String>,
) {
    let key = line[..at].trim();
    let delim = line[at + 2..].trim();
    let mut value: Vec<&str> = Vec::new();
    for l in lines.by_ref() {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if l == delim {
            break;
        }
        value.push(l);
    }
    if !key.is_empty() && !delim.is_empty() {
        out.insert(key.to_owned(), value.join("\n"));
    }
}

/// A command phase's result: `{"exit_code": 0, "outputs": {...}}`.
pub fn command_result(exit_code: i32, outputs: &BTreeMap<String, String>) -> serde_json::Value {
    serde_json::json!({ "exit_code": exit_code, "outputs": outputs })
}

/// The `$MILO_CONTEXT` document: each direct dependency's result, `null` for a skipped one.
pub fn context_json<'a>(
    deps: impl IntoIterator<Item = (&'a str, Option<&'a serde_json::Value>)>,
) -> String {
    // Borrowed, not cloned: a phase after 8,000 others would copy all their results.
    let map: BTreeMap<&str, Option<&serde_json::Value>> = deps.into_iter().collect();
    serde_json::to_string(&map).unwrap_or_else(|_| String::from("{}"))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn key_values_and_value_with_equals() {
        let out = parse("a=1\n\nnot a pair\nurl=http://x/?q=1\r\na=2\n");
        assert_eq!(out.get("a").map(String::as_str), Some("2"));
        assert_eq!(out.get("url").map(String::as_str), Some("http://x/?q=1"));
        assert_eq!(out.len(), 2);
    }

    #[test]
    fn heredoc_until_delimiter() {
        let out = parse("body<<END\nx=1\n\ny\nEND\nafter=ok\n");
        assert_eq!(out["body"], "x=1\n\ny");
        assert_eq!(out["after"], "ok");
    }

    #[test]
    fn empty_keys_are_ignored() {
        assert!(parse("=x\n<<E\nE\n").is_empty());
    }

    #[test]
    fn context_has_null_for_skipped() {
        let r = json!({"exit_code": 0, "outputs": {"k": "v"}});
        let text = context_json([("build", Some(&r)), ("lint", None)]);
        let v: serde_json::Value = serde_json::from_str(&text).expect("json");
        assert_eq!(v, json!({"build": r, "lint": null}));
    }
}
