//! PLACEHOLDER until the schedule module lands: the retry schedule.
use std::time::Duration;

#[derive(Debug, Clone)]
pub struct Schedule {
    delays: Vec<Duration>,
}

impl Schedule {
    pub fn standard() -> Self {
        let secs = [0u64, 5, 300, 1800, 7200, 18000, 36000, 36000];
        Schedule {
            delays: secs.into_iter().map(Duration::from_secs).collect(),
        }
    }

    pub fn from_delays(delays: Vec<Duration>) -> Self {
        Schedule { delays }
    }

    pub fn next_attempt(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
        now_ms: i64,
    ) -> Option<i64> {
        let delay = self.delays.get(attempts_made as usize)?;
        let delay = retry_after.map_or(*delay, |after| after.max(*delay));
        Some(now_ms + delay.as_millis() as i64)
    }
}
