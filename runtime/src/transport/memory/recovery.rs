//! Reopening a durable store: dead letters go back to the dead-letter list at once, and pending
//! deliveries wait for their subscriber's queue to open, then go into it with their attempt
//! counts and retry times.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::{LocalEngine, SubscriberQueue};
use crate::dead_letter::Envelope;
use crate::delivery::{Delivery, Meta};
use crate::transport::durable::{PendingDelivery, Recovered, from_millis};

impl LocalEngine {
    pub(crate) fn recover(&self, recovered: Recovered) {
        let mut owed: HashMap<String, Vec<PendingDelivery>> = HashMap::new();
        let pending = recovered.deliveries.len();
        for delivery in recovered.deliveries {
            owed.entry(delivery.subscriber.clone())
                .or_default()
                .push(delivery);
        }
        *self.owed.lock().expect("owed lock") = owed;
        let mut dead_letters = 0;
        for (_, summary) in recovered.dead_letters {
            match summary {
                Ok(summary) => {
                    self.dead_letters.keep_on_disk(summary);
                    dead_letters += 1;
                }
                Err(error) => tracing::error!(
                    %error,
                    "a dead letter in the durable store cannot be read; it stays on disk"
                ),
            }
        }
        tracing::info!(pending, dead_letters, "reopened the durable store");
    }

    /// Owes `subscriber`, which no bus here runs yet, the delivery written at `seq`: it gets it
    /// when its queue opens.
    pub(crate) fn owe(&self, subscriber: &str, seq: u64, record: Option<Vec<u8>>) {
        self.owed
            .lock()
            .expect("owed lock")
            .entry(subscriber.to_owned())
            .or_default()
            .push(PendingDelivery {
                subscriber: subscriber.to_owned(),
                seq,
                progress: crate::transport::durable::Progress::NEW,
                record,
            });
    }

    /// Puts what the store owed `queue`'s subscriber into it. Deliveries of subscribers that no
    /// bus here runs stay on disk for the process that does (see `groups`).
    pub(crate) fn hand_over_owed(&self, queue: &Arc<SubscriberQueue>) {
        let owed = self.owed.lock().expect("owed lock").remove(&*queue.name);
        let now = SystemTime::now();
        for pending in owed.into_iter().flatten() {
            let envelope = match pending
                .record
                .as_deref()
                .map(Envelope::from_cloudevent_json)
            {
                Some(Ok(envelope)) => envelope,
                // Still delivered: the subscriber cannot decode it and dead-letters it with why.
                Some(Err(error)) => {
                    Envelope::new(queue.event_name, format!("unreadable record: {error}"))
                }
                None => Envelope::new(
                    queue.event_name,
                    "the event record is missing from the store",
                ),
            };
            let (meta, payload) = Meta::from_envelope(envelope);
            let progress = pending.progress;
            let delivery = Delivery {
                meta,
                payload,
                attempt: progress.failed_attempts + 1,
                first_failed_at: (progress.first_failed_ms > 0)
                    .then(|| from_millis(progress.first_failed_ms)),
                seq: pending.seq,
            };
            let delay = from_millis(progress.run_at_ms)
                .duration_since(now)
                .unwrap_or_default();
            queue.restore(delivery, delay);
        }
    }
}
