//! The executor's side of up-to-date checks: a ready phase with `inputs` is checked on a
//! thread of its own (walking and hashing a big tree takes a while, and the loop must keep
//! reading pipes meanwhile); the answer comes back as an event, and the phase is then either
//! `up_to_date` or started. A success is recorded before it is dispatched.

use std::sync::Arc;

use super::Engine;
use crate::action::Action;
use crate::artifact::{Record, WriteFailure};
use crate::exec::command;
use crate::exec::event::Event;
use crate::observe::checks::Checked;
use crate::schedule::Slot;
use crate::uptodate::{Reason, Verdict};

impl Engine<'_> {
    /// Phase `idx` is ready and holds its slot: check it (when it has `inputs` and the run
    /// keeps fingerprints), else start it.
    pub(super) fn begin(&mut self, idx: usize) {
        let results = command::dependency_results(self.run, &self.results, idx);
        let job = self.run.checks.as_ref().and_then(|c| c.job(&self.run.pipeline, idx, results));
        let Some(job) = job else {
            if let Some(checks) = self.run.checks.as_mut()
                && let Err(source) = checks.starting_unchecked(&self.run.names[idx])
            {
                self.fingerprints_not_written(source);
            }
            return self.start_attempt(idx);
        };
        let (tx, waker, owned) = (self.tx.clone(), self.waker.clone(), job.clone());
        let thread = std::thread::Builder::new().name("milo-check".into()).spawn(move || {
            let checked = owned.run();
            // The run may be over (interrupted): then nobody listens, and that is fine.
            let _ = tx.send(Event::Checked(Box::new(checked)));
            waker.wake();
        });
        self.checking.insert(idx);
        if thread.is_err() {
            // No thread to spare: the check runs here, holding the loop up while it does.
            self.checked(job.run());
        }
    }

    /// A check is done: the phase is up to date (its recorded result is its result), or it
    /// starts. An answer for a phase no longer waiting (the run was interrupted, or stops
    /// after a failure) starts nothing: the phase stays pending.
    pub(super) fn checked(&mut self, checked: Checked) {
        let idx = checked.idx;
        if !self.checking.remove(&idx) || self.stopping {
            return;
        }
        let name = Arc::clone(&self.run.names[idx]);
        let Some(checks) = self.run.checks.as_mut() else { return self.start_attempt(idx) };
        if checked.verdict == Verdict::UpToDate
            && let Some(result) = checks.recorded_result(&name)
        {
            self.results[idx] = Some(result.clone());
            self.set_slot(idx, Slot::Done);
            let t = self.t();
            self.dispatch(Action::PhaseUpToDate { name, result, t });
            return;
        }
        if let Verdict::Run(reasons) = &checked.verdict
            && let Some(unreadable) =
                reasons.iter().find(|r| matches!(r, Reason::Unreadable { .. }))
        {
            self.notes.insert(
                idx,
                format!("milo: {unreadable}: the phase runs, and this run is not recorded"),
            );
        }
        if let Err(source) = checks.starting(&name, checked) {
            self.fingerprints_not_written(source);
        }
        self.start_attempt(idx);
    }

    /// The fingerprints (or their journal) could not be written: a warning, the run goes on.
    fn fingerprints_not_written(&mut self, source: std::io::Error) {
        let Some(checks) = self.run.checks.as_ref() else { return };
        let path = checks.path().to_owned();
        self.run.recorder.report(WriteFailure { record: Record::Fingerprints, path, source });
    }

    /// Phase `idx` succeeded with `result`: its fingerprint is recorded (when it was checked).
    pub(super) fn record(&mut self, idx: usize, result: &serde_json::Value) {
        let Some(checks) = self.run.checks.as_mut() else { return };
        if let Err(source) = checks.succeeded(&self.run.pipeline, idx, result) {
            self.fingerprints_not_written(source);
        }
    }
}
