//! Time for the executor: a real monotonic clock and a manual one for tests.
//!
//! The executor is the only code that reads a clock; every timestamp then travels inside an
//! action, so the reducer stays pure.

use std::sync::Mutex;
use std::sync::PoisonError;
use std::time::{Duration, Instant};

/// A source of "time since the run started".
pub trait Clock: Send + Sync {
    /// Time elapsed since the clock's origin.
    fn elapsed(&self) -> Duration;

    /// Seconds since the origin, as actions carry them.
    fn now(&self) -> f64 {
        self.elapsed().as_secs_f64()
    }
}

/// The monotonic clock, started when built.
#[derive(Debug, Clone, Copy)]
pub struct RealClock {
    origin: Instant,
}

impl RealClock {
    /// A clock whose origin is now.
    pub fn start() -> Self {
        Self { origin: Instant::now() }
    }

    /// The instant `elapsed` after the origin (for deadlines).
    pub fn instant_at(&self, elapsed: Duration) -> Instant {
        self.origin + elapsed
    }
}

impl Clock for RealClock {
    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }
}

/// A clock that moves only when told to: simulations and tests.
///
/// ```
/// use std::time::Duration;
/// use milo::clock::{Clock, ManualClock};
/// let clock = ManualClock::default();
/// clock.advance(Duration::from_millis(1500));
/// assert!((clock.now() - 1.5).abs() < 1e-9);
/// ```
#[derive(Debug, Default)]
pub struct ManualClock {
    now: Mutex<Duration>,
}

impl ManualClock {
    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner) += by;
    }

    /// Sets the clock to `to` (never backwards).
    pub fn set(&self, to: Duration) {
        let mut now = self.now.lock().unwrap_or_else(PoisonError::into_inner);
        if to > *now {
            *now = to;
        }
    }
}

impl Clock for ManualClock {
    fn elapsed(&self) -> Duration {
        *self.now.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The wall-clock time now, RFC 3339 in UTC to the millisecond (for `PipelineStart`):
/// `2026-11-28T14:00:00.123Z`.
pub fn wall_clock_rfc3339() -> String {
    humantime::format_rfc3339_millis(std::time::SystemTime::now()).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn real_clock_moves_forward() {
        let clock = RealClock::start();
        let a = clock.elapsed();
        std::thread::sleep(Duration::from_millis(2));
        assert!(clock.elapsed() > a);
    }

    #[test]
    fn manual_clock_never_goes_back() {
        let clock = ManualClock::default();
        clock.set(Duration::from_secs(3));
        clock.set(Duration::from_secs(1));
        assert_eq!(clock.elapsed(), Duration::from_secs(3));
    }

    #[test]
    fn wall_clock_is_rfc3339() {
        let s = wall_clock_rfc3339();
        assert!(s.contains('T') && s.ends_with('Z'), "{s}");
        let parsed = humantime::parse_rfc3339(&s).expect("parses back");
        let age = std::time::SystemTime::now().duration_since(parsed).expect("not in the future");
        assert!(age < Duration::from_secs(3600), "{s} is now");
    }
}
