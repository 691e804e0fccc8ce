//! A smooth rate limiter: attempts start at least `interval` apart.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

use crate::options::Rate;

#[derive(Debug)]
pub(crate) struct RateLimiter {
    interval: Duration,
    next_slot: Mutex<Option<Instant>>,
}

impl RateLimiter {
    pub(crate) fn new(rate: Rate) -> Self {
        RateLimiter {
            interval: rate.interval(),
            next_slot: Mutex::new(None),
        }
    }

    /// Waits for this caller's slot. Slots are handed out under a lock, so concurrent workers
    /// share one budget and never burst past it.
    pub(crate) async fn acquire(&self) {
        let slot = {
            let mut next = self.next_slot.lock().expect("rate limiter lock");
            let now = Instant::now();
            let slot = next.map_or(now, |next| next.max(now));
            *next = Some(slot + self.interval);
            (slot > now).then_some(slot)
        };
        if let Some(slot) = slot {
            tokio::time::sleep_until(slot).await;
        }
    }
}
