//! The desk's clock: milliseconds since the epoch that tests can move forward.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Milliseconds since the epoch, following tokio's monotonic clock from a wall-clock base.
/// Tests move it forward with [`Clock::advance`] (tokio's paused time cannot be used with a
/// database whose pool has timeouts: the runtime would skip ahead while waiting on it).
#[derive(Debug, Clone)]
pub struct Clock {
    base_ms: u64,
    start: tokio::time::Instant,
    offset_ms: Arc<std::sync::atomic::AtomicU64>,
}

impl Clock {
    pub fn new() -> Self {
        Clock {
            base_ms: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|elapsed| elapsed.as_millis() as u64)
                .unwrap_or(0),
            start: tokio::time::Instant::now(),
            offset_ms: Default::default(),
        }
    }

    pub fn now_ms(&self) -> u64 {
        self.base_ms
            + self.start.elapsed().as_millis() as u64
            + self.offset_ms.load(std::sync::atomic::Ordering::Acquire)
    }

    /// A separate clock `by` later (a process started after a long stop, in tests).
    pub fn shifted(&self, by: Duration) -> Clock {
        Clock {
            base_ms: self.now_ms() + by.as_millis() as u64,
            start: tokio::time::Instant::now(),
            offset_ms: Default::default(),
        }
    }

    /// Moves this clock (and every copy of it) forward.
    pub fn advance(&self, by: Duration) {
        self.offset_ms
            .fetch_add(by.as_millis() as u64, std::sync::atomic::Ordering::AcqRel);
    }
}

impl Default for Clock {
    fn default() -> Self {
        Self::new()
    }
}
