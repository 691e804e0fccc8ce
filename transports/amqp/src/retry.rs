//! Delayed retries through TTL queues.
//!
//! A failed delivery is published again, as the next attempt, into a delay queue whose
//! messages all expire after the same time and then dead-letter back into the subscriber's
//! queue; the original is acknowledged once the copy is stored. A queue expires messages only
//! at its head, so one queue must never mix delays: there is one per delay *bucket*, shared by
//! every subscriber of the namespace (the routing key carries the way back).
//!
//! Buckets, not one queue per exact delay: backoff has jitter, so exact delays would make a
//! new queue for nearly every retry. The requested delay is rounded to the nearest bucket on a
//! log scale (a 1-2-5 series), so a retry comes within a factor of about 1.6 of the backoff,
//! on average right on it.

use std::time::{Duration, Instant, SystemTime};

use super::consumer::ConsumerState;
use super::publish::{Stored, properties};
use tidings_core::Result;
use tidings_core::transport::Delivery;
use tidings_core::transport::wire::format_time;

/// Delay buckets in milliseconds. The longest is below RabbitMQ's default consumer timeout
/// (30 minutes), which an `ordered` subscriber's retry, held unacknowledged, must stay under.
pub(crate) const BUCKETS: [u64; 16] = [
    10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000, 300_000,
    600_000, 900_000,
];

/// The longest delay a retry can ask for.
pub(crate) const LONGEST: Duration = Duration::from_millis(BUCKETS[BUCKETS.len() - 1]);

/// Headers that carry a retry's attempt number and first failure across the broker.
pub(crate) const ATTEMPT: &str = "tidings-attempt";
pub(crate) const FIRST_FAILED_AT: &str = "tidings-first-failed-at";

/// How long after its due time a scheduled retry still counts as pending here, though it came
/// back to some other process.
const GRACE: Duration = Duration::from_secs(2);

/// The bucket for `delay`, or `None` to go straight back into the queue.
pub(crate) fn bucket(delay: Duration) -> Option<u64> {
    let millis = delay.as_secs_f64() * 1000.0;
    if millis < BUCKETS[0] as f64 / 2.0 {
        return None;
    }
    BUCKETS.iter().copied().min_by(|a, b| {
        let distance = |bucket: u64| (millis.ln() - (bucket as f64).ln()).abs();
        distance(*a).total_cmp(&distance(*b))
    })
}

impl ConsumerState {
    /// Publishes `delivery` as its next attempt, due after `delay` (not `ordered`: its one
    /// queue is the way back). On `Ok` the original can be
    /// acknowledged; `Ok(false)` means the subscriber's queue is full, so the caller returns
    /// the original to the queue instead.
    pub(crate) async fn schedule_retry(
        &self,
        delivery: &Delivery,
        delay: Duration,
    ) -> Result<bool> {
        let link = &self.link;
        let next = delivery.attempt.saturating_add(1);
        let first_failed_at = delivery.first_failed_at.unwrap_or_else(SystemTime::now);
        let envelope = delivery.envelope(self.event_name, "");
        let extra = [
            (ATTEMPT, next.to_string()),
            (FIRST_FAILED_AT, format_time(first_failed_at)),
        ];
        let properties = properties(&envelope, &extra);
        let stored = match bucket(delay) {
            Some(millis) => {
                let exchange = link.delay_exchange(millis).await?;
                link.publish_once(&exchange, &self.queues[0], properties, &envelope.data)
                    .await?
            }
            None => {
                link.publish_once("", &self.queues[0], properties, &envelope.data)
                    .await?
            }
        };
        if stored != Stored::Yes {
            return Ok(false);
        }
        self.retrying
            .lock()
            .expect("retrying lock")
            .insert((delivery.meta.id, next), Instant::now() + delay + GRACE);
        Ok(true)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_round_to_the_nearest_bucket_on_a_log_scale() {
        let ms = Duration::from_millis;
        assert_eq!(bucket(ms(0)), None);
        assert_eq!(bucket(ms(4)), None);
        assert_eq!(bucket(ms(10)), Some(10));
        assert_eq!(bucket(ms(14)), Some(10));
        assert_eq!(bucket(ms(15)), Some(20));
        assert_eq!(bucket(ms(300)), Some(200));
        assert_eq!(bucket(ms(350)), Some(500));
        assert_eq!(bucket(Duration::from_secs(7200)), Some(900_000));
    }
}
