//! Reopening a durable store: pending deliveries go back to their subscribers' queues with their
//! attempt counts and retry times, and dead letters back to the dead-letter list.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::SystemTime;

use super::durable::{Recovered, from_millis};
use super::memory::SubscriberQueue;
use crate::bus::Bus;
use crate::dead_letter::Envelope;
use crate::delivery::{Delivery, Meta};

pub(crate) fn restore(bus: &Bus, recovered: Recovered) {
    let queues: HashMap<&str, &Arc<SubscriberQueue>> = bus
        .engine()
        .queues
        .iter()
        .map(|(_, queue)| (&*queue.name, queue))
        .collect();
    let now = SystemTime::now();
    let (mut redelivered, mut elsewhere) = (0, 0);
    for pending in recovered.deliveries {
        let Some(queue) = queues.get(pending.subscriber.as_str()) else {
            // Kept on disk for the bus that runs this subscriber (see `groups`).
            elsewhere += 1;
            continue;
        };
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
        redelivered += 1;
    }
    let mut dead_letters = 0;
    for (id, stored) in recovered.dead_letters {
        let letter =
            stored.and_then(|stored| stored.into_dead_letter(id).map_err(|e| e.to_string()));
        match letter {
            Ok(letter) => {
                let (meta, payload) = Meta::from_envelope(letter.envelope.clone());
                let delivery = Delivery {
                    meta,
                    payload,
                    attempt: letter.attempts,
                    first_failed_at: None,
                    seq: 0,
                };
                let queue = queues
                    .get(letter.subscriber.as_str())
                    .map(|queue| Arc::clone(queue));
                bus.engine().dead_letters.restore(letter, delivery, queue);
                dead_letters += 1;
            }
            Err(error) => {
                tracing::error!(%error, "a dead letter in the durable store cannot be read; it stays on disk")
            }
        }
    }
    tracing::info!(
        redelivered,
        elsewhere,
        dead_letters,
        "reopened the durable store"
    );
}
