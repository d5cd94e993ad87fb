//! The circuit breaker in front of the language-model endpoint: after a run of failures it
//! stops calling the endpoint for a cool-down, then lets one trial call through; a success
//! closes it again, a failure opens it for another cool-down. Calls refused while it is
//! open cost nothing, so a dead endpoint never slows a conversation down.
//!
//! Time is passed in (`*_at` methods) so the state machine is tested without sleeping.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Where the breaker stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BreakerState {
    /// Calls go through; `failures` in a row so far.
    Closed { failures: u32 },
    /// Calls are refused until `until`.
    Open { until: Instant },
    /// One trial call is under way; others are refused until it ends.
    HalfOpen,
}

/// A circuit breaker: `failures` in a row open it for `cooldown`.
#[derive(Debug)]
pub struct Breaker {
    failures: u32,
    cooldown: Duration,
    state: Mutex<BreakerState>,
}

/// Leave to make one call. Report how it went with [`Permit::succeed`] or
/// [`Permit::fail`]; a permit dropped unreported (its caller gave up waiting) counts as a
/// failure.
#[derive(Debug)]
pub struct Permit<'a> {
    breaker: &'a Breaker,
    reported: bool,
}

impl Permit<'_> {
    pub fn succeed(mut self) {
        self.reported = true;
        self.breaker.record_success();
    }

    pub fn fail(mut self) {
        self.reported = true;
        self.breaker.record_failure_at(Instant::now());
    }
}

impl Drop for Permit<'_> {
    fn drop(&mut self) {
        if !self.reported {
            self.breaker.record_failure_at(Instant::now());
        }
    }
}

impl Breaker {
    /// `failures` (at least one) in a row open the breaker for `cooldown`.
    pub fn new(failures: u32, cooldown: Duration) -> Breaker {
        Breaker {
            failures: failures.max(1),
            cooldown,
            state: Mutex::new(BreakerState::Closed { failures: 0 }),
        }
    }

    pub fn state(&self) -> BreakerState {
        *self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a call may go out now; `None` while the breaker is open.
    pub fn admit(&self) -> Option<Permit<'_>> {
        self.admit_at(Instant::now()).then_some(Permit {
            breaker: self,
            reported: false,
        })
    }

    /// Whether a call may go out at `now` (an open breaker past its cool-down lets this
    /// one call through as the trial).
    pub fn admit_at(&self, now: Instant) -> bool {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        match *state {
            BreakerState::Closed { .. } => true,
            BreakerState::Open { until } if now >= until => {
                *state = BreakerState::HalfOpen;
                true
            }
            BreakerState::Open { .. } | BreakerState::HalfOpen => false,
        }
    }

    pub fn record_success(&self) {
        *self.state.lock().unwrap_or_else(|p| p.into_inner()) =
            BreakerState::Closed { failures: 0 };
    }

    pub fn record_failure_at(&self, now: Instant) {
        let mut state = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let open = BreakerState::Open {
            until: now + self.cooldown,
        };
        *state = match *state {
            BreakerState::Closed { failures } if failures + 1 < self.failures => {
                BreakerState::Closed {
                    failures: failures + 1,
                }
            }
            BreakerState::Closed { .. } | BreakerState::HalfOpen => open,
            // A late report of a call admitted before the breaker opened changes nothing.
            BreakerState::Open { until } => BreakerState::Open { until },
        };
        if matches!(*state, BreakerState::Open { .. }) {
            tracing::warn!(
                cooldown_ms = self.cooldown.as_millis() as u64,
                "language model breaker open"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_the_failure_run_and_refuses_until_the_cooldown_ends() {
        let breaker = Breaker::new(3, Duration::from_secs(30));
        let start = Instant::now();
        for _ in 0..2 {
            assert!(breaker.admit_at(start));
            breaker.record_failure_at(start);
        }
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 2 });
        assert!(breaker.admit_at(start));
        breaker.record_failure_at(start);
        assert!(matches!(breaker.state(), BreakerState::Open { .. }));
        assert!(!breaker.admit_at(start + Duration::from_secs(29)));
        // Past the cool-down one trial goes out, and only one.
        assert!(breaker.admit_at(start + Duration::from_secs(30)));
        assert!(!breaker.admit_at(start + Duration::from_secs(31)));
        breaker.record_success();
        assert_eq!(breaker.state(), BreakerState::Closed { failures: 0 });
        assert!(breaker.admit_at(start + Duration::from_secs(31)));
    }

    #[test]
    fn a_failed_trial_opens_it_for_another_cooldown() {
        let breaker = Breaker::new(1, Duration::from_secs(10));
        let start = Instant::now();
        breaker.record_failure_at(start);
        assert!(breaker.admit_at(start + Duration::from_secs(10)));
        breaker.record_failure_at(start + Duration::from_secs(11));
        assert!(!breaker.admit_at(start + Duration::from_secs(20)));
        assert!(breaker.admit_at(start + Duration::from_secs(21)));
    }

    #[test]
    fn a_success_resets_the_failure_run() {
        let breaker = Breaker::new(2, Duration::from_secs(10));
        let start = Instant::now();
        breaker.record_failure_at(start);
        breaker.record_success();
        breaker.record_failure_at(start);
        assert!(breaker.admit_at(start), "two failures, not in a row");
    }

    #[test]
    fn an_abandoned_call_counts_as_a_failure() {
        let breaker = Breaker::new(1, Duration::from_secs(10));
        let permit = breaker.admit().unwrap();
        drop(permit);
        assert!(breaker.admit().is_none());
    }
}
