//! "Did you mean": the closest known name to a misspelt one.

/// The candidate closest to `word`, when it is close enough to be a likely typo.
///
/// ```
/// assert_eq!(milo::suggest::closest("biuld", ["build", "test"]), Some("build"));
/// assert_eq!(milo::suggest::closest("zzz", ["build", "test"]), None);
/// ```
pub fn closest<'a>(word: &str, candidates: impl IntoIterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .into_iter()
        .filter(|c| *c != word)
        .map(|c| (strsim::damerau_levenshtein(word, c), c))
        .filter(|(distance, c)| {
            let longest = word.chars().count().max(c.chars().count());
            *distance <= 3 && *distance * 3 < longest.max(2) * 2 || *distance <= 1
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::closest;

    #[test]
    fn typos_are_found() {
        assert_eq!(closest("depend_on", ["depends_on", "description"]), Some("depends_on"));
        assert_eq!(closest("comand", ["cmd", "command"]), Some("command"));
        assert_eq!(closest("wieght", ["weight", "parallel"]), Some("weight"));
    }

    #[test]
    fn far_words_are_not() {
        assert_eq!(closest("x", ["timeline", "jobs"]), None);
        assert_eq!(closest("frobnicate", ["cmd", "args"]), None);
    }
}
