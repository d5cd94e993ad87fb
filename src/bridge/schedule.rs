//! The retry schedule of outbound bridge events (and the dispatcher's settings that carry it): when the next attempt of an event is due
//! after a failure, or that there is none (dead-letter). The standard schedule makes 8
//! attempts, at about 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h and 10 h after the previous
//! failure, each delay with ±20% jitter, and honours the receiver's `Retry-After` (the larger
//! of it and the schedule's delay, `Retry-After` capped at 10 h). The jitter is a value the
//! caller passes ([`random_jitter`] draws one), so the schedule itself is deterministic.

use std::time::{Duration, SystemTime};

/// How far jitter moves a delay, either way (0.2 = ±20%).
pub const JITTER_SPREAD: f64 = 0.2;

/// The delays of a retry schedule and the cap on a receiver's `Retry-After`.
///
/// `delays[i]` is the wait before attempt `i + 1` counted from the end of attempt `i` (the
/// first is the wait before the first attempt, normally zero); the schedule allows as many
/// attempts as it has delays. A dispatcher's tests shorten it with [`Schedule::scaled`] (every
/// delay and the cap times a factor) or [`Schedule::from_delays`].
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    delays: Vec<Duration>,
    retry_after_cap: Duration,
}

impl Schedule {
    /// The production schedule: 0 s, 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; `Retry-After`
    /// capped at 10 h.
    pub fn standard() -> Self {
        const MIN: u64 = 60;
        const HOUR: u64 = 3600;
        let delays = [
            0,
            5,
            5 * MIN,
            30 * MIN,
            2 * HOUR,
            5 * HOUR,
            10 * HOUR,
            10 * HOUR,
        ]
        .map(Duration::from_secs)
        .to_vec();
        Schedule {
            delays,
            retry_after_cap: Duration::from_secs(10 * HOUR),
        }
    }

    /// A schedule of the given delays (one attempt per delay); `Retry-After` is capped at the
    /// longest of them.
    pub fn from_delays(delays: Vec<Duration>) -> Self {
        let retry_after_cap = delays.iter().copied().max().unwrap_or_default();
        Schedule {
            delays,
            retry_after_cap,
        }
    }

    /// This schedule with every delay and the `Retry-After` cap multiplied by `factor`
    /// (`standard().scaled(0.001)` waits 5 ms, 300 ms, 1.8 s…; a receiver's `Retry-After: 7`
    /// then counts for at most 36 s). A negative or non-finite factor counts as zero.
    pub fn scaled(&self, factor: f64) -> Self {
        let factor = if factor.is_finite() && factor > 0.0 {
            factor
        } else {
            0.0
        };
        let scale = |delay: Duration| Duration::from_secs_f64(delay.as_secs_f64() * factor);
        Schedule {
            delays: self.delays.iter().copied().map(scale).collect(),
            retry_after_cap: scale(self.retry_after_cap),
        }
    }

    /// How many attempts an event gets before it is dead-lettered.
    pub fn max_attempts(&self) -> u32 {
        self.delays.len() as u32
    }

    /// The delays, without jitter.
    pub fn delays(&self) -> &[Duration] {
        &self.delays
    }

    /// The longest `Retry-After` honoured.
    pub fn retry_after_cap(&self) -> Duration {
        self.retry_after_cap
    }

    /// The wait before the next attempt when `attempts_made` attempts have failed: the
    /// schedule's delay moved by `jitter` (in [-1, 1], clamped: -1 is 20% shorter, 1 is 20%
    /// longer), or the receiver's `retry_after` (capped) when that is longer. `None` when the
    /// schedule has no attempt left.
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        jitter: f64,
    ) -> Option<Duration> {
        let base = *self.delays.get(attempts_made as usize)?;
        let jitter = if jitter.is_finite() {
            jitter.clamp(-1.0, 1.0)
        } else {
            0.0
        };
        let jittered = base.mul_f64(1.0 + JITTER_SPREAD * jitter);
        let asked = retry_after.unwrap_or_default().min(self.retry_after_cap);
        Some(jittered.max(asked))
    }

    /// When the next attempt is due (unix milliseconds) when `attempts_made` attempts have
    /// failed and the last one ended at `now_ms`; `None` means dead-letter. See
    /// [`Schedule::next_delay`] for `retry_after` and `jitter`.
    pub fn next_attempt(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        now_ms: i64,
        jitter: f64,
    ) -> Option<i64> {
        let delay = self.next_delay(attempts_made, retry_after, jitter)?;
        let delay_ms = i64::try_from(delay.as_millis()).unwrap_or(i64::MAX);
        Some(now_ms.saturating_add(delay_ms))
    }
}

impl Default for Schedule {
    fn default() -> Self {
        Schedule::standard()
    }
}

/// A uniform jitter value in [-1, 1) from the OS's randomness (0 if it has none).
pub fn random_jitter() -> f64 {
    let bits = getrandom::u64().unwrap_or(1 << 63);
    // 53 random bits make a uniform f64 in [0, 1).
    let unit = (bits >> 11) as f64 / (1u64 << 53) as f64;
    unit * 2.0 - 1.0
}

/// A `Retry-After` header value as a wait from `now`: delay-seconds (`120`) or an HTTP date
/// (`Wed, 21 Oct 2026 07:28:00 GMT`, and the two obsolete forms); a date in the past is no
/// wait. `None` when the value is neither.
pub fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: Duration = Duration::from_secs(3600);

    fn secs(s: u64) -> Duration {
        Duration::from_secs(s)
    }

    #[test]
    fn the_standard_schedule_makes_eight_attempts_then_dead_letters() {
        let schedule = Schedule::standard();
        assert_eq!(schedule.max_attempts(), 8);
        let expected = [
            secs(0),
            secs(5),
            secs(300),
            secs(1800),
            2 * HOUR,
            5 * HOUR,
            10 * HOUR,
            10 * HOUR,
        ];
        for (made, delay) in expected.iter().enumerate() {
            assert_eq!(schedule.next_delay(made as u32, None, 0.0), Some(*delay));
            let due = schedule.next_attempt(made as u32, None, 1_000_000, 0.0);
            assert_eq!(due, Some(1_000_000 + delay.as_millis() as i64));
        }
        assert_eq!(schedule.next_attempt(8, None, 1_000_000, 0.0), None);
        assert_eq!(schedule.next_attempt(9, Some(secs(1)), 0, 0.0), None);
    }

    #[test]
    fn jitter_moves_a_delay_by_at_most_twenty_percent() {
        let schedule = Schedule::standard();
        assert_eq!(schedule.next_delay(2, None, -1.0), Some(secs(240)));
        assert_eq!(schedule.next_delay(2, None, 1.0), Some(secs(360)));
        assert_eq!(schedule.next_delay(2, None, 0.5), Some(secs(330)));
        // Out-of-range and non-finite jitter cannot push it further.
        assert_eq!(schedule.next_delay(2, None, -7.0), Some(secs(240)));
        assert_eq!(schedule.next_delay(2, None, 7.0), Some(secs(360)));
        assert_eq!(schedule.next_delay(2, None, f64::NAN), Some(secs(300)));
        // The first attempt stays immediate.
        assert_eq!(schedule.next_delay(0, None, 1.0), Some(secs(0)));
        for _ in 0..1000 {
            let jitter = random_jitter();
            assert!((-1.0..1.0).contains(&jitter), "{jitter}");
            let delay = schedule.next_delay(6, None, jitter).unwrap();
            assert!(delay >= 8 * HOUR && delay <= 12 * HOUR, "{delay:?}");
        }
    }

    #[test]
    fn retry_after_wins_when_longer_and_is_capped_at_ten_hours() {
        let schedule = Schedule::standard();
        // After the first failure the schedule says 5 s; the receiver asks for 7 s.
        assert_eq!(schedule.next_delay(1, Some(secs(7)), 0.0), Some(secs(7)));
        assert_eq!(
            schedule.next_attempt(1, Some(secs(7)), 10_000, 0.0),
            Some(17_000)
        );
        // A shorter Retry-After does not shorten the schedule.
        assert_eq!(schedule.next_delay(3, Some(secs(7)), 0.0), Some(secs(1800)));
        // A receiver cannot push an attempt past 10 h.
        assert_eq!(
            schedule.next_delay(1, Some(100 * HOUR), 0.0),
            Some(10 * HOUR)
        );
        // Retry-After does not give an attempt the schedule does not have.
        assert_eq!(schedule.next_delay(8, Some(secs(7)), 0.0), None);
    }

    #[test]
    fn a_scaled_schedule_shortens_every_delay_and_the_cap() {
        let fast = Schedule::standard().scaled(0.001);
        assert_eq!(fast.max_attempts(), 8);
        assert_eq!(
            fast.next_delay(1, None, 0.0),
            Some(Duration::from_millis(5))
        );
        assert_eq!(fast.next_delay(7, None, 0.0), Some(secs(36)));
        assert_eq!(fast.retry_after_cap(), secs(36));
        assert_eq!(fast.next_delay(1, Some(HOUR), 0.0), Some(secs(36)));
        let zero = Schedule::standard().scaled(-1.0);
        assert!(zero.delays().iter().all(Duration::is_zero));
    }

    #[test]
    fn a_schedule_from_delays_has_one_attempt_per_delay() {
        let schedule = Schedule::from_delays(vec![secs(0), Duration::from_millis(10), secs(1)]);
        assert_eq!(schedule.max_attempts(), 3);
        assert_eq!(schedule.retry_after_cap(), secs(1));
        assert_eq!(schedule.next_attempt(1, None, 100, 0.0), Some(110));
        assert_eq!(
            schedule.next_attempt(2, Some(secs(60)), 100, 0.0),
            Some(1100)
        );
        assert_eq!(schedule.next_attempt(3, None, 100, 0.0), None);
        assert_eq!(
            Schedule::from_delays(vec![]).next_attempt(0, None, 0, 0.0),
            None
        );
    }

    #[test]
    fn retry_after_is_read_as_seconds_or_an_http_date() {
        let now = SystemTime::UNIX_EPOCH + secs(1_445_412_480); // Wed, 21 Oct 2015 07:28:00 GMT
        assert_eq!(parse_retry_after("7", now), Some(secs(7)));
        assert_eq!(parse_retry_after(" 120 ", now), Some(secs(120)));
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:30:00 GMT", now),
            Some(secs(120))
        );
        assert_eq!(
            parse_retry_after("Wednesday, 21-Oct-15 08:28:00 GMT", now),
            Some(HOUR)
        );
        assert_eq!(
            parse_retry_after("Wed, 21 Oct 2015 07:00:00 GMT", now),
            Some(Duration::ZERO)
        );
        assert_eq!(parse_retry_after("-5", now), None);
        assert_eq!(parse_retry_after("soon", now), None);
        assert_eq!(parse_retry_after("", now), None);
    }
}

/// How the dispatcher runs.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Deliveries in flight at once (one per lane at most).
    pub concurrency: usize,
    /// When to retry a failed delivery.
    pub schedule: Schedule,
    /// How long the dispatcher sleeps at most between looks at the store.
    pub idle: Duration,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            concurrency: 64,
            schedule: Schedule::standard(),
            idle: Duration::from_secs(1),
        }
    }
}
