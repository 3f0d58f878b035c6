//! What a failed attempt leads to: another attempt after a delay, a skipped phase, a failed
//! phase that stops the pipeline, or — while the run is being interrupted — a cancelled phase.
//!
//! The executor carries the answer out; the decision itself is data in, data out.

use std::time::Duration;

use crate::phase::{OnFail, PhasePolicy, retry_delay};

/// The step after a failed attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AfterFailure {
    /// The run is being interrupted: the phase is cancelled, whatever its policy says.
    Cancel,
    /// Try again after `delay`.
    Retry {
        /// How long to wait before the next attempt.
        delay: Duration,
        /// The failed attempt's error, unchanged.
        error: String,
    },
    /// The phase is skipped; its dependents run with a null result for it.
    Skip {
        /// Why (`retries exhausted after N attempts: …` when it had retries).
        error: String,
    },
    /// The phase fails and no new phase starts.
    Stop {
        /// Why (`retries exhausted after N attempts: …` when it had retries).
        error: String,
        /// Cancel the phases still running (`fail_fast`).
        cancel_running: bool,
    },
}

/// Decides what follows failed attempt number `attempt` (1-based) of a phase with `policy`.
///
/// `interrupted`: the run was cancelled (Ctrl-C, a [`CancelToken`](crate::exec::CancelToken)).
/// `fail_fast`: a stopping failure cancels the running phases.
///
/// ```
/// use std::time::Duration;
/// use milo::PhasePolicy;
/// use milo::failure::{AfterFailure, after_failure};
/// let policy = PhasePolicy::retry(1, Duration::from_secs(2));
/// let first = after_failure(&policy, 1, "exit code 1".into(), false, false);
/// assert_eq!(first, AfterFailure::Retry { delay: Duration::from_secs(2), error: "exit code 1".into() });
/// let last = after_failure(&policy, 2, "exit code 1".into(), false, false);
/// let error = "retries exhausted after 2 attempts: exit code 1".to_owned();
/// assert_eq!(last, AfterFailure::Stop { error, cancel_running: false });
/// ```
pub fn after_failure(
    policy: &PhasePolicy,
    attempt: u32,
    error: String,
    interrupted: bool,
    fail_fast: bool,
) -> AfterFailure {
    if interrupted {
        return AfterFailure::Cancel;
    }
    let max = policy.max_attempts();
    if attempt < max {
        return AfterFailure::Retry { delay: retry_delay(policy, attempt), error };
    }
    let error = if max > 1 {
        format!("retries exhausted after {attempt} attempts: {error}")
    } else {
        error
    };
    match policy.on_fail {
        OnFail::Skip => AfterFailure::Skip { error },
        OnFail::Stop | OnFail::Retry => AfterFailure::Stop { error, cancel_running: fail_fast },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::phase::{Backoff, MAX_BACKOFF};

    fn arb_policy() -> impl Strategy<Value = PhasePolicy> {
        let on_fail = prop_oneof![Just(OnFail::Stop), Just(OnFail::Skip), Just(OnFail::Retry)];
        let backoff = prop_oneof![Just(Backoff::Fixed), Just(Backoff::Exponential)];
        let delay = prop_oneof![
            Just(Duration::ZERO),
            (0u64..120_000).prop_map(Duration::from_millis),
            Just(Duration::MAX),
        ];
        (on_fail, 0u32..50, delay, backoff).prop_map(
            |(on_fail, max_retries, retry_delay, retry_backoff)| PhasePolicy {
                on_fail,
                max_retries,
                retry_delay,
                retry_backoff,
            },
        )
    }

    /// Fails every attempt until the decision is not a retry: the attempts made, the delays
    /// waited, and the final decision.
    fn fail_always(policy: &PhasePolicy, fail_fast: bool) -> (u32, Vec<Duration>, AfterFailure) {
        let mut delays = Vec::new();
        let mut attempt = 1;
        loop {
            match after_failure(policy, attempt, "exit code 1".into(), false, fail_fast) {
                AfterFailure::Retry { delay, error } => {
                    assert_eq!(error, "exit code 1", "a retry carries the attempt's own error");
                    delays.push(delay);
                    attempt += 1;
                }
                last => return (attempt, delays, last),
            }
        }
    }

    #[test]
    fn stop_fails_at_once_with_the_attempts_error() {
        let d = after_failure(&PhasePolicy::default(), 1, "exit code 3".into(), false, true);
        assert_eq!(d, AfterFailure::Stop { error: "exit code 3".into(), cancel_running: true });
    }

    #[test]
    fn skip_skips_at_once_with_the_attempts_error() {
        let d = after_failure(&PhasePolicy::skip(), 1, "exit code 3".into(), false, true);
        assert_eq!(d, AfterFailure::Skip { error: "exit code 3".into() });
    }

    #[test]
    fn retry_then_fail_names_the_count() {
        let policy = PhasePolicy::retry(2, Duration::from_millis(10));
        let (attempts, delays, last) = fail_always(&policy, false);
        assert_eq!((attempts, delays.len()), (3, 2));
        let error = "retries exhausted after 3 attempts: exit code 1".to_owned();
        assert_eq!(last, AfterFailure::Stop { error, cancel_running: false });
    }

    #[test]
    fn an_interrupted_run_cancels_even_a_retrying_phase() {
        let policy = PhasePolicy::retry(5, Duration::ZERO);
        assert_eq!(after_failure(&policy, 1, "x".into(), true, false), AfterFailure::Cancel);
    }

    proptest! {
        #[test]
        fn attempts_never_exceed_the_policys_maximum(policy in arb_policy(), ff in any::<bool>()) {
            let (attempts, delays, _) = fail_always(&policy, ff);
            prop_assert_eq!(attempts, policy.max_attempts());
            prop_assert_eq!(delays.len(), attempts as usize - 1);
        }

        #[test]
        fn delays_follow_the_backoff_and_exponential_is_capped(policy in arb_policy()) {
            let (_, delays, _) = fail_always(&policy, false);
            for (n, delay) in delays.iter().enumerate() {
                match policy.retry_backoff {
                    Backoff::Fixed => prop_assert_eq!(*delay, policy.retry_delay),
                    Backoff::Exponential => {
                        prop_assert!(*delay <= MAX_BACKOFF, "retry {} waits {:?}", n + 1, delay);
                        prop_assert!(n == 0 || *delay >= delays[n - 1], "delays shrink: {:?}", delays);
                    }
                }
            }
        }

        #[test]
        fn the_last_failure_skips_or_stops_as_the_policy_says(
            policy in arb_policy(),
            ff in any::<bool>(),
        ) {
            let (attempts, _, last) = fail_always(&policy, ff);
            let error = if policy.max_attempts() > 1 {
                format!("retries exhausted after {attempts} attempts: exit code 1")
            } else {
                "exit code 1".to_owned()
            };
            let expected = if policy.on_fail == OnFail::Skip {
                AfterFailure::Skip { error }
            } else {
                AfterFailure::Stop { error, cancel_running: ff }
            };
            prop_assert_eq!(last, expected);
        }

        #[test]
        fn interrupted_always_cancels(
            policy in arb_policy(),
            attempt in 1u32..100,
            ff in any::<bool>(),
        ) {
            prop_assert_eq!(after_failure(&policy, attempt, "e".into(), true, ff), AfterFailure::Cancel);
        }
    }
}
