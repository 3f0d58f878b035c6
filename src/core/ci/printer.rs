//! What plain output prints for each action, in every mode and flavour: start, retry and
//! result lines, prefixed lines, blocks of a phase's output (whose body — the phase's full
//! log — the caller copies), still-running lines, and the end of the run. Pure: the caller
//! hands it actions and the time, and prints what it says through a [`Sink`].

use std::fmt::Write as _;

use std::collections::HashMap;
use std::sync::Arc;

use super::prefix::Prefixer;
use super::ticks::Ticks;
use super::{Framing, OutputMode};
use crate::action::Action;
use crate::format::{delay, duration, mark};
use crate::pipeline::Pipeline;
use crate::state::PhaseStatus;

/// Where a [`Printer`]'s output goes.
pub trait Sink {
    /// Prints `text`.
    fn text(&mut self, text: &str);
    /// Prints the whole output of phase `name` (its log file) here.
    fn log(&mut self, name: &str);
}

/// The plain output of one run (see the [module](self) docs).
#[derive(Debug)]
pub struct Printer {
    mode: OutputMode,
    framing: Framing,
    prefixer: Prefixer,
    ticks: Ticks,
    index: HashMap<String, usize>,
    phases: Vec<Facts>,
    /// The pipeline's wall-clock start, seconds since the Unix epoch.
    epoch: f64,
    /// The phase of the last line printed (lines come in runs: one lookup per run).
    last: Option<Arc<str>>,
    blocks: usize,
    buf: String,
}

/// What the printer remembers of a phase.
#[derive(Debug, Clone, Copy)]
struct Facts {
    max_attempts: u32,
    started: Option<f64>,
    printed: bool,
}

impl Printer {
    /// The printer of `pipeline`'s run in `mode`, framed by `framing`; a still-running line
    /// after `every` seconds of silence.
    pub fn new(pipeline: &Pipeline, mode: OutputMode, framing: Framing, every: f64) -> Self {
        let phases = pipeline.phases();
        Self {
            mode,
            framing,
            prefixer: Prefixer::new(phases.iter().map(|p| p.name.as_str())),
            ticks: Ticks::new(every),
            index: phases.iter().enumerate().map(|(i, p)| (p.name.clone(), i)).collect(),
            phases: phases
                .iter()
                .map(|p| Facts {
                    max_attempts: p.policy.max_attempts(),
                    started: None,
                    printed: false,
                })
                .collect(),
            epoch: 0.0,
            last: None,
            blocks: 0,
            buf: String::new(),
        }
    }

    /// The mode.
    pub fn mode(&self) -> OutputMode {
        self.mode
    }

    /// The framing.
    pub fn framing(&self) -> &Framing {
        &self.framing
    }

    /// Prints what `action` shows.
    pub fn on_action(&mut self, action: &Action, sink: &mut dyn Sink) {
        self.buf.clear();
        match action {
            Action::PipelineStart { started_at, t } => {
                self.epoch = unix_seconds(started_at).map_or(0.0, |s| s - t);
            }
            Action::PhaseStart { name, attempt, t } => {
                self.ticks.start(name, *t);
                if let Some(facts) = self.facts(name)
                    && facts.started.is_none()
                {
                    facts.started = Some(*t);
                }
                if *attempt == 1 {
                    let _ = writeln!(self.buf, "{} {name}", mark(PhaseStatus::Running));
                }
            }
            Action::PhaseLog { name, line, stream, t } => {
                self.printed(name);
                if self.mode.is_live() {
                    self.prefixer.push(&mut self.buf, name, *stream, line);
                    self.ticks.shown(name, *t);
                }
            }
            Action::PhaseLogs { name, stream, t, lines } => {
                self.printed(name);
                if self.mode.is_live() && !lines.is_empty() {
                    for line in lines.iter() {
                        self.prefixer.push(&mut self.buf, name, *stream, line);
                    }
                    self.ticks.shown(name, *t);
                }
            }
            Action::PhaseRetry { name, attempt, error, delay: pause, t, .. } => {
                let max = self.facts(name).map_or(attempt + 1, |f| f.max_attempts);
                let _ = writeln!(
                    self.buf,
                    "{} {name} retry {}/{max} in {}: {error}",
                    mark(PhaseStatus::Retrying),
                    attempt + 1,
                    delay(*pause),
                );
                self.ticks.shown(name, *t);
            }
            Action::PhaseComplete { name, t, .. } => {
                let took = self.facts(name).and_then(|f| f.started).map_or(0.0, |s| t - s);
                let title = format!("{} {name} {}", mark(PhaseStatus::Completed), duration(took));
                self.ended(name, &title, false, *t, sink);
            }
            Action::PhaseFailed { name, error, t, .. } => {
                let title = format!("{} {name} {error}", mark(PhaseStatus::Failed));
                self.ended(name, &title, true, *t, sink);
            }
            Action::PhaseSkipped { name, error, t, .. } => {
                let title = format!("{} {name} skipped: {error}", mark(PhaseStatus::Skipped));
                self.ended(name, &title, true, *t, sink);
            }
            Action::PhaseCancelled { name, t } => {
                let title = format!("{} {name} cancelled", mark(PhaseStatus::Cancelled));
                self.ended(name, &title, false, *t, sink);
            }
            Action::PhaseUpToDate { name, t, .. } => {
                let title = format!("{} {name} up to date", mark(PhaseStatus::UpToDate));
                self.ended(name, &title, false, *t, sink);
            }
            Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => {}
        }
        if !self.buf.is_empty() {
            sink.text(&self.buf);
        }
    }

    /// Prints a still-running line for each phase silent for an interval by `now` (seconds
    /// since the pipeline started).
    pub fn tick(&mut self, now: f64, sink: &mut dyn Sink) {
        self.buf.clear();
        self.ticks.due(now, &mut self.buf);
        if !self.buf.is_empty() {
            sink.text(&self.buf);
        }
    }

    /// When the next still-running line is due (seconds since the pipeline started).
    pub fn next_tick(&self) -> Option<f64> {
        self.ticks.next_due()
    }

    /// Prints the end of the run: the failed phases' excerpts (`failures`, captured text:
    /// fenced), the `annotations` (workflow commands), then the `summary` table.
    pub fn finish(
        &mut self,
        failures: &str,
        annotations: &str,
        summary: &str,
        sink: &mut dyn Sink,
    ) {
        self.buf.clear();
        if !failures.is_empty() {
            self.framing.open_fence(&mut self.buf);
            self.buf.push_str(failures);
            self.framing.close_fence(&mut self.buf);
        }
        self.buf.push_str(annotations);
        self.buf.push_str(summary);
        if !summary.ends_with('\n') {
            self.buf.push('\n');
        }
        sink.text(&self.buf);
    }

    /// Phase `name` printed a line (lines come in runs of one phase).
    fn printed(&mut self, name: &Arc<str>) {
        if !self.last.as_ref().is_some_and(|last| Arc::ptr_eq(last, name)) {
            if let Some(facts) = self.facts(name) {
                facts.printed = true;
            }
            self.last = Some(Arc::clone(name));
        }
    }

    /// A phase ended: its result line, as the title of its block when the mode shows one.
    fn ended(&mut self, name: &str, title: &str, failed: bool, t: f64, sink: &mut dyn Sink) {
        self.ticks.end(name);
        let facts = self.facts(name).map(|f| *f);
        let printed = facts.is_some_and(|f| f.printed);
        if !(printed && self.mode.shows_block(failed)) {
            self.buf.push_str(title);
            self.buf.push('\n');
            return;
        }
        self.blocks += 1;
        let id = format!("milo_{}_{name}", self.blocks);
        let started = facts.and_then(|f| f.started).unwrap_or(t);
        let folded = !failed;
        let (from, to) = (self.unix(started), self.unix(t));
        self.framing.open_block(&mut self.buf, &id, title, folded, from);
        sink.text(&self.buf);
        sink.log(name);
        self.buf.clear();
        self.framing.close_block(&mut self.buf, &id, folded, to);
    }

    fn facts(&mut self, name: &str) -> Option<&mut Facts> {
        let i = *self.index.get(name)?;
        self.phases.get_mut(i)
    }

    /// Seconds since the pipeline started, as whole seconds since the Unix epoch.
    fn unix(&self, t: f64) -> u64 {
        let secs = (self.epoch + t).floor();
        // Finite and non-negative here; past u64 it saturates.
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        if secs.is_finite() && secs > 0.0 { secs as u64 } else { 0 }
    }
}

/// An RFC 3339 time as seconds since the Unix epoch.
fn unix_seconds(rfc3339: &str) -> Option<f64> {
    let time = humantime::parse_rfc3339_weak(rfc3339).ok()?;
    Some(time.duration_since(std::time::UNIX_EPOCH).ok()?.as_secs_f64())
}

#[cfg(test)]
mod tests;
