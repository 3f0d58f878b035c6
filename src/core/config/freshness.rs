//! Validation of the keys that let a phase be up to date: `inputs` and `outputs` (globs) and
//! `env_inputs` (variable names). Each bad entry is located; `outputs` or `env_inputs`
//! without `inputs` would never matter, so they are an error too.

use super::placeholder::{self, Values};
use super::raw::{At, RawPhase};
use super::validate::Validator;
use crate::diagnostic::Diagnostic;
use crate::pipeline::is_env_name;

/// A phase's validated `inputs`, `outputs` and `env_inputs`.
#[derive(Debug, Default)]
pub(super) struct Freshness {
    /// `inputs`: `None` when absent (the phase always runs).
    pub inputs: Option<Vec<String>>,
    /// `outputs`.
    pub outputs: Vec<String>,
    /// `env_inputs`.
    pub env_inputs: Vec<String>,
}

impl Validator {
    /// Checks the up-to-date keys of `raw`, recording every problem.
    pub(super) fn freshness(&mut self, raw: &RawPhase) -> Freshness {
        let per_package = raw.packages.is_some();
        let inputs = raw.inputs.as_ref().map(|list| self.glob_list("inputs", list, per_package));
        let outputs = raw
            .outputs
            .as_ref()
            .map(|list| self.glob_list("outputs", list, per_package))
            .unwrap_or_default();
        let env_inputs = raw.env_inputs.as_ref().map(|list| self.names(list)).unwrap_or_default();
        if raw.inputs.is_none() {
            for (key, list) in [("outputs", &raw.outputs), ("env_inputs", &raw.env_inputs)] {
                let Some(list) = list else { continue };
                self.problems.push(
                    Diagnostic::new(
                        format!("`{key}` without `inputs` is never checked"),
                        list.span.clone(),
                    )
                    .label("needs `inputs`")
                    .help("add `inputs = [\"...\"]` with the files the phase reads (`inputs = []` when it reads none): only a phase with `inputs` can be up to date"),
                );
            }
        }
        Freshness { inputs, outputs, env_inputs }
    }

    /// The entries of a glob list, each checked as it will be used: in a per-package phase,
    /// with its placeholders filled.
    fn glob_list(
        &mut self,
        key: &str,
        list: &At<Vec<At<String>>>,
        per_package: bool,
    ) -> Vec<String> {
        const SAMPLE: Values<'static> =
            Values { package: "p", package_dir: "/p", manifest_path: "/p/Cargo.toml" };
        let mut globs = Vec::with_capacity(list.value.len());
        for entry in &list.value {
            let filled = if per_package {
                placeholder::fill(&entry.value, &SAMPLE)
            } else {
                entry.value.clone()
            };
            match crate::glob::parse(&filled) {
                Ok(_) => globs.push(entry.value.clone()),
                Err(reason) => self.problems.push(
                    Diagnostic::new(
                        format!("invalid glob `{}` in `{key}`", entry.value),
                        entry.span.clone(),
                    )
                    .label(reason)
                    .help("globs use `*` (within a folder), `**` (across folders), `?`, `[ab]` and `{a,b}`; write `[[]` for a literal `[`"),
                ),
            }
        }
        globs
    }

    fn names(&mut self, list: &At<Vec<At<String>>>) -> Vec<String> {
        let mut names = Vec::with_capacity(list.value.len());
        for entry in &list.value {
            if is_env_name(&entry.value) {
                names.push(entry.value.clone());
            } else {
                self.problems.push(
                    Diagnostic::new(
                        format!("invalid environment variable name `{}` in `env_inputs`", entry.value),
                        entry.span.clone(),
                    )
                    .label("not a variable name")
                    .help("names must be non-empty and contain no `=` or NUL, e.g. `env_inputs = [\"PROTOC\"]`"),
                );
            }
        }
        names
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use crate::config::{raw, validate::validate};

    fn problems(phase_keys: &str) -> Vec<(String, String)> {
        let text = format!("[[pipeline.phase]]\nname = \"gen\"\ncmd = \"./gen.sh\"\n{phase_keys}");
        let (raw, shape) = raw::parse(&text).expect("valid TOML");
        match validate(&raw, shape, Path::new("/p"), String::new, None) {
            Ok(_) => Vec::new(),
            Err(ds) => ds
                .into_iter()
                .map(|d| {
                    let span = d.span.clone().unwrap_or_default();
                    (d.message, text[span].to_owned())
                })
                .collect(),
        }
    }

    #[test]
    fn valid_keys_reach_the_phase() {
        let text = "[[pipeline.phase]]\nname = \"gen\"\ncmd = \"x\"\ninputs = [\"proto/**/*.proto\", \"gen.sh\"]\noutputs = [\"src/gen/*.rs\"]\nenv_inputs = [\"PROTOC\"]\n";
        let (pipeline, _) = crate::config::parse_str(text, "/p/Milo.toml".as_ref()).expect("valid");
        let phase = &pipeline.phases()[0];
        assert_eq!(
            phase.inputs.as_deref(),
            Some(&["proto/**/*.proto".to_owned(), "gen.sh".to_owned()][..])
        );
        assert_eq!(phase.outputs, ["src/gen/*.rs"]);
        assert_eq!(phase.env_inputs, ["PROTOC"]);
        assert!(problems("inputs = []\n").is_empty(), "an empty list fingerprints all but files");
    }

    #[test]
    fn bad_entries_are_located() {
        assert_eq!(
            problems(
                "inputs = [\"ok/*.rs\", \"src/[a.rs\"]\noutputs = [\"{a,b\"]\nenv_inputs = [\"A=B\", \"\"]\n"
            ),
            [
                ("invalid glob `src/[a.rs` in `inputs`".to_owned(), "\"src/[a.rs\"".to_owned()),
                ("invalid glob `{a,b` in `outputs`".to_owned(), "\"{a,b\"".to_owned()),
                (
                    "invalid environment variable name `A=B` in `env_inputs`".to_owned(),
                    "\"A=B\"".to_owned()
                ),
                (
                    "invalid environment variable name `` in `env_inputs`".to_owned(),
                    "\"\"".to_owned()
                ),
            ]
        );
    }

    #[test]
    fn outputs_and_env_inputs_need_inputs() {
        assert_eq!(
            problems("outputs = [\"a\"]\nenv_inputs = [\"B\"]\n"),
            [
                ("`outputs` without `inputs` is never checked".to_owned(), "[\"a\"]".to_owned()),
                ("`env_inputs` without `inputs` is never checked".to_owned(), "[\"B\"]".to_owned()),
            ]
        );
    }

    #[test]
    fn placeholders_in_globs_follow_the_placeholder_rules() {
        let found = problems("inputs = [\"{package_dir}/src/*.rs\"]\n");
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].0, "placeholder `{package_dir}` in a phase without `packages`");
    }
}
