//! The per-token rate limit: a generic cell-rate (token bucket) limiter keyed by the SHA-256
//! of the bearer token, so one noisy client cannot starve the others. A refused request
//! answers 429 `rate_limited` with `Retry-After`. Keys of idle tokens are pruned now and then
//! by the server's housekeeping task so the map does not grow without bound.

use crate::auth::Hash;
use crate::fault::{Coded, ErrorKind};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use std::num::NonZeroU32;

/// A request refused by the rate limit, and how long to wait before the next one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests for this token; retry after {retry_after_secs} s")]
pub struct RateLimited {
    pub retry_after_secs: u64,
}

impl Coded for RateLimited {
    fn kind(&self) -> ErrorKind {
        ErrorKind::RateLimited
    }

    fn code(&self) -> &'static str {
        "rate_limited"
    }
}

/// Requests per second per token, or no limit at all.
pub struct RateLimit {
    limiter: Option<DefaultKeyedRateLimiter<Hash>>,
    per_second: u32,
}

impl RateLimit {
    /// `per_second` sustained, bursts of twice that; 0 means unlimited.
    pub fn per_second(per_second: u32) -> Self {
        let limiter = NonZeroU32::new(per_second).map(|rate| {
            let burst = NonZeroU32::new(per_second.saturating_mul(2)).unwrap_or(rate);
            RateLimiter::keyed(Quota::per_second(rate).allow_burst(burst))
        });
        RateLimit {
            limiter,
            per_second,
        }
    }

    /// No limit.
    pub fn unlimited() -> Self {
        Self::per_second(0)
    }

    /// The sustained rate (0: unlimited).
    pub fn rate(&self) -> u32 {
        self.per_second
    }

    /// `Ok` when the token `key` may make one more request now, else 429 with the wait.
    pub fn check(&self, key: &Hash) -> Result<(), RateLimited> {
        let Some(limiter) = &self.limiter else {
            return Ok(());
        };
        limiter.check_key(key).map_err(|not_until| {
            let wait = not_until.wait_time_from(DefaultClock::default().now());
            RateLimited {
                retry_after_secs: wait.as_secs_f64().ceil().max(1.0) as u64,
            }
        })
    }

    /// Forgets tokens that have been idle long enough to be back at a full burst.
    pub fn prune(&self) {
        if let Some(limiter) = &self.limiter {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

impl std::fmt::Debug for RateLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RateLimit")
            .field("per_second", &self.per_second)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_passes_then_the_token_waits_and_others_do_not() {
        let limit = RateLimit::per_second(5);
        let noisy = crate::auth::hash("noisy");
        let quiet = crate::auth::hash("quiet");
        for _ in 0..10 {
            limit.check(&noisy).unwrap();
        }
        let refused = limit.check(&noisy).unwrap_err();
        assert_eq!(refused.code(), "rate_limited");
        limit.check(&quiet).unwrap();
    }

    #[test]
    fn zero_is_unlimited() {
        let limit = RateLimit::per_second(0);
        let key = crate::auth::hash("any");
        for _ in 0..10_000 {
            limit.check(&key).unwrap();
        }
    }
}
