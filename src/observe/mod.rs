//! Looking at the world for up-to-date checks: the files a phase's globs match and their
//! contents, the environment variables it names, the outputs that exist, and the
//! fingerprints file. What is done with it is decided in [`crate::uptodate`] (pure).

pub mod checks;
mod hash;
pub mod records;
mod walk;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::fingerprint::{Fingerprints, Observation, command_digest, env_digests};
use crate::phase::Phase;
use crate::pipeline::Pipeline;
use crate::uptodate::{self, Verdict};
use walk::Walker;

/// Observes the phases of one pipeline.
#[derive(Debug, Clone)]
pub struct Observer {
    walker: Walker,
}

impl Observer {
    /// An observer for `pipeline`: relative globs start at its folder (the current folder
    /// when it has none); `own` is the run's folder (timeline, logs, fingerprints), which is
    /// never an input or an output.
    pub fn new(pipeline: &Pipeline, own: Option<&Path>) -> Self {
        let root = match &pipeline.settings().dir {
            Some(dir) => dir.clone(),
            None => std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
        };
        let skip =
            own.map(|p| (p.to_owned(), std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned())));
        Self { walker: Walker { root, skip } }
    }

    /// The folder relative globs start from.
    pub fn root(&self) -> &Path {
        &self.walker.root
    }

    /// `phase` of `pipeline` as it is now, before it runs; `None` when it has no `inputs` (it
    /// always runs). Walks its globs, hashes its input files, reads its `env_inputs`.
    pub fn observe(&self, pipeline: &Pipeline, phase: &Phase) -> Option<Observation> {
        let inputs = phase.inputs.as_ref()?;
        let settings = pipeline.settings();
        let mut declared = settings.env.clone();
        declared.extend(phase.env.iter().map(|(k, v)| (k.clone(), v.clone())));
        let process: Vec<(&str, Option<std::ffi::OsString>)> =
            phase.env_inputs.iter().map(|name| (name.as_str(), std::env::var_os(name))).collect();
        let root = self.walker.root.to_string_lossy();
        let env = env_digests(
            declared.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            process.iter().map(|(k, v)| (*k, v.as_deref())),
            &root,
        );
        let matched = self.walker.matching(inputs, true);
        let (mut digests, mut unreadable) = hash::hash_files(&matched.files);
        hash::hash_links(&matched.links, &mut digests, &mut unreadable);
        unreadable.extend(matched.unreadable);
        let mut outputs = self.walker.matching(&phase.outputs, false);
        let unmatched_outputs = std::mem::take(&mut outputs.unmatched);
        let cwd = phase
            .cwd
            .as_ref()
            .map_or_else(|| self.walker.root.clone(), |c| self.walker.root.join(c));
        Some(Observation {
            command: command_digest(&phase.handler, &root),
            cwd: self.walker.shown(&cwd),
            env,
            inputs: digests,
            unreadable,
            unmatched: matched.unmatched,
            outputs: outputs.names().collect(),
            unmatched_outputs,
        })
    }

    /// The files `phase`'s `outputs` match now (recorded after a success).
    pub fn outputs(&self, phase: &Phase) -> BTreeSet<String> {
        self.walker.matching(&phase.outputs, false).names().collect()
    }

    /// The `inputs` globs of `phase` that match no file (`check` warns about them).
    pub fn unmatched_inputs(&self, phase: &Phase) -> Vec<String> {
        phase.inputs.as_ref().map(|g| self.walker.matching(g, true).unmatched).unwrap_or_default()
    }

    /// What a build script asks cargo to watch for `phase`: each glob's literal folder (cargo
    /// looks at everything in it), or, for a glob that starts in the pipeline's folder itself
    /// (where `target/` lives), the files it matches now.
    pub fn watch_paths(&self, phase: &Phase) -> Vec<PathBuf> {
        let Some(inputs) = &phase.inputs else { return Vec::new() };
        let mut paths = BTreeSet::new();
        for glob in inputs {
            let split = crate::glob::split(glob);
            if split.literal || !self.holds_root(&split.base) {
                paths.insert(self.walker.root.join(&split.base));
            } else {
                let files = self.walker.matching(std::slice::from_ref(glob), true).files;
                paths.extend(files.into_values());
            }
        }
        paths.into_iter().collect()
    }

    /// Whether the literal folder `base` is the pipeline's folder or one of its parents.
    fn holds_root(&self, base: &str) -> bool {
        if Path::new(base).is_absolute() {
            return self.walker.root.starts_with(base);
        }
        base.split('/').all(|c| c.is_empty() || c == "..")
    }

    /// The verdict of every phase of `pipeline` (by index) against `records`, as a run would
    /// decide them (`explain`, `run --dry-run`).
    pub fn verdicts(
        &self,
        pipeline: &Pipeline,
        records: &Fingerprints,
        force: bool,
    ) -> Vec<Verdict> {
        let observations: Vec<Option<Observation>> = if force {
            vec![None; pipeline.phases().len()]
        } else {
            pipeline.phases().iter().map(|p| self.observe(pipeline, p)).collect()
        };
        uptodate::verdicts(
            pipeline,
            records,
            &observations,
            force,
            &self.walker.root.to_string_lossy(),
        )
    }
}
