//! Terminal progress: an overall indicatif bar (length = total weight, with ETA) and one
//! line per running phase with its elapsed time and latest output line.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::action::Action;
use crate::excerpt::Limits;
use crate::format::{delay, duration, mark};
use crate::pipeline::Pipeline;
use crate::state::{PhaseStatus, PipelineState};

/// How often a phase's latest line may replace the one shown (a phase printing millions of
/// lines must not redraw per line).
const LINE_EVERY: f64 = 0.1;
/// Lines of a failed phase's output printed above the bars.
const TAIL: usize = 20;

struct PhaseBar {
    bar: ProgressBar,
    shown_at: f64,
}

/// The bars, driven as a store subscriber; they clear themselves when the pipeline ends.
pub struct Bars {
    multi: MultiProgress,
    overall: ProgressBar,
    phases: HashMap<Arc<str>, PhaseBar>,
    phase_style: ProgressStyle,
}

impl std::fmt::Debug for Bars {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bars").field("running", &self.phases.len()).finish_non_exhaustive()
    }
}

impl Bars {
    /// Bars for `pipeline`, drawn on stderr.
    pub fn new(pipeline: &Pipeline) -> Self {
        Self::with_target(pipeline, ProgressDrawTarget::stderr())
    }

    /// Bars drawn on `target` (tests draw on a hidden one).
    pub fn with_target(pipeline: &Pipeline, target: ProgressDrawTarget) -> Self {
        let multi = MultiProgress::with_draw_target(target);
        let total: u64 = pipeline.phases().iter().map(|p| p.weight).sum();
        let overall = multi.add(ProgressBar::new(total));
        overall.set_style(
            ProgressStyle::with_template(
                "{prefix:.bold} [{bar:30.cyan/blue}] {percent:>3}% {elapsed} (ETA {eta}) {msg}",
            )
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
        );
        overall.set_prefix(pipeline.name().to_owned());
        overall.enable_steady_tick(Duration::from_millis(200));
        let phase_style = ProgressStyle::with_template(
            "  {spinner:.green} {prefix:.bold} {elapsed:>4} {wide_msg:.dim}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_spinner());
        Self { multi, overall, phases: HashMap::new(), phase_style }
    }

    /// Prints a line on stderr from any thread without tearing the bars.
    pub fn printer(&self) -> impl Fn(&str) + Send + Sync + 'static {
        let multi = self.multi.clone();
        move |line| multi.suspend(|| eprintln!("{line}"))
    }

    /// Shows `line` as phase `name`'s latest, unless one was shown less than
    /// [`LINE_EVERY`] before `t`.
    fn show_line(&mut self, name: &str, line: &str, t: f64) {
        if let Some(p) = self.phases.get_mut(name).filter(|p| t - p.shown_at >= LINE_EVERY) {
            p.shown_at = t;
            p.bar.set_message(line.to_owned());
        }
    }

    /// Handles one action.
    pub fn on_action(&mut self, action: &Action, state: &PipelineState) {
        match action {
            Action::PhaseLog { name, line, t, .. } => self.show_line(name, line, *t),
            Action::PhaseLogs { name, lines, t, .. } => {
                if let Some(line) = lines.last() {
                    self.show_line(name, line, *t);
                }
            }
            Action::PhaseStart { name, attempt, .. } => {
                let max = state.phase(name).map_or(1, |p| p.max_attempts);
                let label = if *attempt > 1 {
                    format!("{name} ({attempt}/{max})")
                } else {
                    name.to_string()
                };
                if let Some(p) = self.phases.get(name) {
                    p.bar.set_prefix(label);
                    p.bar.set_message("");
                    return;
                }
                let bar = self.multi.add(ProgressBar::new_spinner());
                bar.set_style(self.phase_style.clone());
                bar.set_prefix(label);
                bar.enable_steady_tick(Duration::from_millis(100));
                self.phases.insert(Arc::clone(name), PhaseBar { bar, shown_at: f64::NEG_INFINITY });
            }
            Action::PhaseRetry { name, attempt, error, delay: pause, .. } => {
                if let Some(p) = self.phases.get(name) {
                    let max = state.phase(name).map_or(1, |p| p.max_attempts);
                    p.bar.set_message(format!(
                        "{} retry {}/{max} in {}: {error}",
                        mark(PhaseStatus::Retrying),
                        attempt + 1,
                        delay(*pause)
                    ));
                }
            }
            Action::PhaseComplete { name, .. }
            | Action::PhaseUpToDate { name, .. }
            | Action::PhaseSkipped { name, .. }
            | Action::PhaseFailed { name, .. }
            | Action::PhaseCancelled { name, .. } => self.phase_done(name, state),
            Action::PipelineStart { .. } => {}
            Action::PipelineComplete { .. }
            | Action::PipelineFailed { .. }
            | Action::PipelineCancelled { .. } => self.clear(),
        }
    }

    fn phase_done(&mut self, name: &str, state: &PipelineState) {
        if let Some(p) = self.phases.remove(name) {
            p.bar.finish_and_clear();
            self.multi.remove(&p.bar);
        }
        self.overall.set_position(state.done_weight());
        let Some(phase) = state.phase(name) else { return };
        let error = phase.error.as_deref().unwrap_or_default();
        let line = match phase.status {
            PhaseStatus::Completed => {
                format!("{} {name} {}", mark(phase.status), duration(phase.elapsed(state.elapsed)))
            }
            PhaseStatus::Skipped => format!("{} {name} skipped: {error}", mark(phase.status)),
            PhaseStatus::UpToDate => format!("{} {name} up to date", mark(phase.status)),
            PhaseStatus::Cancelled => format!("{} {name} cancelled", mark(phase.status)),
            _ => format!("{} {name} {error}", mark(phase.status)),
        };
        let _ = self.multi.println(line);
        if phase.status == PhaseStatus::Failed {
            // The full log may still be written by another subscriber: the retained lines.
            let limits = Limits { tail: TAIL, ..Limits::default() };
            let excerpt = super::excerpts::from_ring(phase, limits);
            let block = super::failure_block(phase, &excerpt, None);
            let _ = self.multi.println(block.trim_end());
        }
    }

    fn clear(&mut self) {
        for (_, p) in self.phases.drain() {
            p.bar.finish_and_clear();
        }
        self.overall.finish_and_clear();
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::phase::Phase;
    use crate::reducer::reduce;

    #[test]
    fn bars_follow_running_phases_and_clear_at_the_end() {
        let pipeline = Pipeline::new("p")
            .phase(Phase::cmd("a", "true").weight(2))
            .phase(Phase::cmd("b", "true").depends_on(["a"]))
            .build()
            .expect("valid");
        let mut bars = Bars::with_target(&pipeline, ProgressDrawTarget::hidden());
        let mut state = PipelineState::new(&pipeline);
        let actions = [
            Action::PhaseStart { name: "a".into(), attempt: 1, t: 0.0 },
            Action::PhaseLog {
                name: "a".into(),
                line: "hello".into(),
                stream: crate::Stream::Stdout,
                t: 0.5,
            },
            Action::PhaseComplete { name: "a".into(), result: serde_json::json!({}), t: 1.0 },
            Action::PhaseStart { name: "b".into(), attempt: 1, t: 1.0 },
        ];
        for a in &actions {
            state = reduce(state, a);
            bars.on_action(a, &state);
        }
        assert_eq!(bars.overall.position(), 2);
        assert_eq!(bars.overall.length(), Some(3));
        assert!(bars.phases.contains_key("b") && !bars.phases.contains_key("a"));
        let end = Action::PipelineFailed { t: 2.0 };
        state = reduce(state, &end);
        bars.on_action(&end, &state);
        assert!(bars.phases.is_empty());
    }

    #[test]
    fn an_up_to_date_phase_fills_the_bar_by_its_weight() {
        let pipeline = Pipeline::new("p")
            .phase(Phase::cmd("gen", "true").weight(3).inputs(["x"]))
            .phase(Phase::cmd("b", "true").depends_on(["gen"]))
            .build()
            .expect("valid");
        let mut bars = Bars::with_target(&pipeline, ProgressDrawTarget::hidden());
        let up =
            Action::PhaseUpToDate { name: "gen".into(), result: serde_json::json!({}), t: 0.1 };
        let state = reduce(PipelineState::new(&pipeline), &up);
        bars.on_action(&up, &state);
        assert_eq!(bars.overall.position(), 3, "done weight, as if it had run");
        assert!(bars.phases.is_empty(), "it never had a spinner");
    }
}
