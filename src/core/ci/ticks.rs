//! Still-running lines: `… test running 5m` for each phase that has shown nothing for a
//! minute, so a long phase whose output is held back (grouped, errors) or that prints
//! nothing keeps the CI log alive. Time comes in as an argument: the reporter's timer calls
//! [`Ticks::due`] with the time since the pipeline started.

use std::fmt::Write as _;

use std::sync::Arc;

use crate::format::delay;

/// How long a running phase may stay silent before a still-running line: a minute.
pub const EVERY: f64 = 60.0;

/// The running phases and when each is next due a still-running line.
#[derive(Debug, Clone)]
pub struct Ticks {
    every: f64,
    running: Vec<Running>,
}

#[derive(Debug, Clone)]
struct Running {
    name: Arc<str>,
    started: f64,
    next: f64,
}

impl Default for Ticks {
    fn default() -> Self {
        Self::new(EVERY)
    }
}

impl Ticks {
    /// No phase running; a line after `every` seconds of silence.
    pub fn new(every: f64) -> Self {
        Self { every: every.max(f64::EPSILON), running: Vec::new() }
    }

    /// Phase `name` started (an attempt, at `t`): it is due a line an interval from now. A
    /// later attempt keeps the first one's start.
    pub fn start(&mut self, name: &Arc<str>, t: f64) {
        match self.find(name) {
            Some(i) => self.running[i].next = t + self.every,
            None => self.running.push(Running {
                name: Arc::clone(name),
                started: t,
                next: t + self.every,
            }),
        }
    }

    /// Something of phase `name` was shown at `t`: its next line waits a full interval.
    pub fn shown(&mut self, name: &str, t: f64) {
        if let Some(i) = self.find(name) {
            self.running[i].next = t + self.every;
        }
    }

    /// Phase `name` ended: no more lines for it.
    pub fn end(&mut self, name: &str) {
        if let Some(i) = self.find(name) {
            self.running.remove(i);
        }
    }

    /// Appends `… name running 5m` for each phase due a line by `now`, in the order they
    /// started, and moves its next line an interval on.
    pub fn due(&mut self, now: f64, out: &mut String) {
        for phase in &mut self.running {
            if now < phase.next {
                continue;
            }
            let intervals = ((now - phase.started) / self.every).floor().max(1.0);
            let _ = writeln!(out, "… {} running {}", phase.name, delay(intervals * self.every));
            while phase.next <= now {
                phase.next += self.every;
            }
        }
    }

    /// When the next line is due, if any phase runs.
    pub fn next_due(&self) -> Option<f64> {
        self.running.iter().map(|p| p.next).reduce(f64::min)
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.running.iter().position(|p| &*p.name == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn due(ticks: &mut Ticks, now: f64) -> String {
        let mut out = String::new();
        ticks.due(now, &mut out);
        out
    }

    #[test]
    fn a_silent_phase_gets_a_line_every_minute() {
        let mut ticks = Ticks::default();
        ticks.start(&"test".into(), 10.0);
        assert_eq!(due(&mut ticks, 69.9), "");
        assert_eq!(ticks.next_due(), Some(70.0));
        assert_eq!(due(&mut ticks, 70.4), "… test running 1m\n");
        assert_eq!(due(&mut ticks, 71.0), "", "once per interval");
        assert_eq!(due(&mut ticks, 310.5), "… test running 5m\n");
        assert_eq!(ticks.next_due(), Some(370.0), "the next stays on the minute grid");
        assert_eq!(due(&mut ticks, 3_611.0), "… test running 1h\n");
        ticks.end("test");
        assert_eq!(due(&mut ticks, 10_000.0), "");
        assert_eq!(ticks.next_due(), None);
    }

    #[test]
    fn output_shown_puts_the_next_line_off() {
        let mut ticks = Ticks::default();
        ticks.start(&"build".into(), 0.0);
        ticks.start(&"lint".into(), 5.0);
        ticks.shown("build", 50.0);
        assert_eq!(due(&mut ticks, 65.0), "… lint running 1m\n");
        assert_eq!(due(&mut ticks, 110.0), "… build running 1m\n");
        ticks.shown("unknown", 1.0);
    }

    #[test]
    fn a_retry_keeps_the_first_start() {
        let mut ticks = Ticks::new(1.0);
        ticks.start(&"flaky".into(), 0.0);
        ticks.start(&"flaky".into(), 2.5);
        assert_eq!(due(&mut ticks, 3.0), "");
        assert_eq!(due(&mut ticks, 3.5), "… flaky running 3s\n");
    }
}
