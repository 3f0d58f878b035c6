//! A run's up-to-date checks: the fingerprints beside its timeline, each phase's check when it
//! becomes ready, and the record of each success.
//!
//! A check looks before the phase runs (its inputs as they were when it started: an edit
//! made while it runs is seen next time), and a success records that look. A phase that
//! starts again has its old record marked (in the journal at once), so that a failed or
//! interrupted run is never taken for the last success.
//!
//! Successes are saved at most once a [`SAVE_EVERY`] and at the end of the run
//! ([`Checks::finish`]), not at each: the whole file is rewritten each time, on the executor's
//! loop. A success lost to a run that dies only makes the phase run again.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use super::Observer;
use super::records::{self, Unusable};
use crate::fingerprint::{
    Digest, Fingerprints, Observation, Record, local_result, portable_result,
};
use crate::pipeline::Pipeline;
use crate::uptodate::{Dependency, Reason, Verdict, decide};

/// What a check found for one phase: its verdict, and what to record if it runs and
/// succeeds.
#[derive(Debug)]
pub struct Checked {
    /// The phase's index in the pipeline.
    pub idx: usize,
    /// Whether it runs, and why.
    pub verdict: Verdict,
    /// What it looked like (`None`: it has no `inputs`, or the check was skipped).
    observation: Option<Observation>,
    /// Its dependencies' results, by name.
    dependencies: BTreeMap<String, Option<Digest>>,
}

/// Everything a check needs, owned, so it can run on a thread of its own.
#[derive(Debug, Clone)]
pub struct Job {
    observer: Observer,
    pipeline: Arc<Pipeline>,
    idx: usize,
    record: Option<Record>,
    dependencies: BTreeMap<String, Option<Digest>>,
    force: bool,
}

impl Job {
    /// Looks at the phase and decides (walks its globs and hashes its files: not instant on a
    /// big tree).
    pub fn run(self) -> Checked {
        let phase = &self.pipeline.phases()[self.idx];
        let observation = self.observer.observe(&self.pipeline, phase);
        let deps: BTreeMap<String, Dependency> = self
            .dependencies
            .iter()
            .map(|(name, digest)| (name.clone(), Dependency::Result(*digest)))
            .collect();
        let verdict = match &observation {
            // Forced, it is still looked at: its success is recorded.
            Some(_) if self.force => Verdict::Run(vec![Reason::Forced]),
            Some(seen) => decide(self.record.as_ref(), seen, &deps),
            None => Verdict::Run(vec![Reason::NoInputs]),
        };
        Checked { idx: self.idx, verdict, observation, dependencies: self.dependencies }
    }
}

/// The longest a recorded success waits to be saved while the run goes on.
pub const SAVE_EVERY: Duration = Duration::from_secs(1);

/// The checks of one run.
#[derive(Debug)]
pub struct Checks {
    observer: Observer,
    path: PathBuf,
    records: Fingerprints,
    force: bool,
    /// `records` holds what the file does not yet; when it was last written.
    dirty: bool,
    saved: Instant,
    /// What each running phase looked like when it started, to record at its success.
    running: HashMap<usize, (Observation, BTreeMap<String, Option<Digest>>)>,
}

impl Checks {
    /// The checks of a run of `pipeline` whose timeline is `timeline`: the fingerprints file
    /// beside it is read (a broken one comes back as the second value, and counts as empty).
    /// With `force`, every phase runs (and successes are recorded).
    pub fn open(pipeline: &Pipeline, timeline: &Path, force: bool) -> (Self, Option<Unusable>) {
        let path = records::beside(timeline);
        let (records, problem) = records::load(&path);
        let observer = Observer::new(pipeline, timeline.parent());
        let saved = Instant::now();
        let running = HashMap::new();
        (Self { observer, path, records, force, dirty: false, saved, running }, problem)
    }

    /// The fingerprints file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The check of phase `idx` of `pipeline`, given its dependencies' results (`None`: a
    /// skipped one); `None` when the phase has no `inputs` (it always runs).
    pub fn job(
        &self,
        pipeline: &Arc<Pipeline>,
        idx: usize,
        results: impl IntoIterator<Item = (String, Option<serde_json::Value>)>,
    ) -> Option<Job> {
        let phase = &pipeline.phases()[idx];
        phase.inputs.as_ref()?;
        let root = self.observer.root().to_string_lossy();
        let dependencies = results
            .into_iter()
            .map(|(name, r)| (name, r.as_ref().map(|r| Digest::of_result(r, &root))))
            .collect();
        Some(Job {
            observer: self.observer.clone(),
            pipeline: Arc::clone(pipeline),
            idx,
            record: self.records.phases.get(&phase.name).cloned(),
            dependencies,
            force: self.force,
        })
    }

    /// The result recorded at phase `name`'s last success, its paths into this checkout.
    pub fn recorded_result(&self, name: &str) -> Option<serde_json::Value> {
        let root = self.observer.root().to_string_lossy();
        self.records.phases.get(name).map(|r| local_result(&r.result, &root))
    }

    /// Phase `name` starts after `checked`: its old record no longer stands for it until it
    /// succeeds (noted in the journal at once, so a run that dies is not taken for a
    /// success).
    pub fn starting(&mut self, name: &str, checked: Checked) -> std::io::Result<()> {
        // A phase with an input that could not be read is not recorded: its look is
        // incomplete.
        if let Some(seen) = checked.observation.filter(|seen| seen.unreadable.is_empty()) {
            self.running.insert(checked.idx, (seen, checked.dependencies));
        }
        self.starting_unchecked(name)
    }

    /// Phase `name` starts without a check (it has no `inputs` now): a record it left when
    /// it had some no longer stands for it, as when it starts after a check (else, given its
    /// `inputs` back, a failed run since would be taken for up to date).
    pub fn starting_unchecked(&mut self, name: &str) -> std::io::Result<()> {
        match self.records.phases.get_mut(name) {
            Some(record) if !record.rerun => {
                record.rerun = true;
                self.dirty = true;
                records::started(&self.path, name)
            }
            _ => Ok(()),
        }
    }

    /// Phase `idx` of `pipeline` succeeded with `result`: records what it looked like when
    /// it started and the outputs it left; saves the file when the last save is older than
    /// [`SAVE_EVERY`].
    pub fn succeeded(
        &mut self,
        pipeline: &Pipeline,
        idx: usize,
        result: &serde_json::Value,
    ) -> std::io::Result<()> {
        let Some((seen, dependencies)) = self.running.remove(&idx) else { return Ok(()) };
        let phase = &pipeline.phases()[idx];
        let outputs = self.observer.outputs(phase);
        let root = self.observer.root().to_string_lossy();
        let record = Record::new(seen, dependencies, outputs, portable_result(result, &root));
        self.records.phases.insert(phase.name.clone(), record);
        self.dirty = true;
        if self.saved.elapsed() < SAVE_EVERY {
            return Ok(());
        }
        self.finish()
    }

    /// Saves what is not saved yet (at the end of the run, whatever its end).
    pub fn finish(&mut self) -> std::io::Result<()> {
        if !self.dirty {
            return Ok(());
        }
        self.dirty = false;
        self.saved = Instant::now();
        records::save(&self.path, &self.records)
    }
}
