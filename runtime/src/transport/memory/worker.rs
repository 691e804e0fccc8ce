//! A worker loop: take a delivery, run one attempt, then handle, retry or dead-letter it.

use std::any::Any;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tracing::Instrument;

use super::queue::SubscriberQueue;
use crate::bus::Bus;
use crate::context::Context;
use crate::delivery::Delivery;
use crate::event::Event;
use crate::handler::Handler;
use crate::subscriber::Typed;

/// Why an attempt failed.
pub(crate) struct Failure {
    pub(crate) permanent: bool,
    pub(crate) message: String,
}

pub(crate) async fn run<H: Handler<Args>, Args: 'static>(
    typed: Arc<Typed<H, Args>>,
    queue: Arc<SubscriberQueue>,
    bus: Bus,
) {
    loop {
        let mut delivery = queue.next().await;
        if let Some(limiter) = &queue.limiter {
            limiter.acquire().await;
        }
        queue.counters.in_flight.fetch_add(1, Ordering::Relaxed);
        let outcome = attempt(typed.handler(), &queue, &bus, &delivery).await;
        queue.counters.in_flight.fetch_sub(1, Ordering::Relaxed);
        match outcome {
            Ok(()) => {
                queue.record_latency(delivery.meta.published_at.elapsed());
                queue.counters.handled.fetch_add(1, Ordering::Relaxed);
                queue.finish(&delivery);
            }
            Err(failure) if failure.permanent || delivery.attempt > queue.options.retries => {
                tracing::warn!(
                    subscriber = &*queue.name, event = <H::Event as Event>::NAME, id = %delivery.meta.id,
                    attempt = delivery.attempt, error = %failure.message, "dead-lettered"
                );
                queue.counters.dead_lettered.fetch_add(1, Ordering::Relaxed);
                bus.memory().dead_letter(&queue, &delivery, failure);
                queue.finish(&delivery);
            }
            Err(failure) => {
                let delay = queue.options.backoff.delay(delivery.attempt);
                tracing::debug!(
                    subscriber = &*queue.name, event = <H::Event as Event>::NAME, id = %delivery.meta.id,
                    attempt = delivery.attempt, error = %failure.message, ?delay, "attempt failed; will retry"
                );
                queue.counters.retried.fetch_add(1, Ordering::Relaxed);
                delivery.attempt += 1;
                delivery.first_failed_at.get_or_insert_with(SystemTime::now);
                queue.retry_after(delivery, delay);
            }
        }
    }
}

/// One attempt: decode, call the handler under the timeout, and turn errors, timeouts and
/// panics alike into a [`Failure`].
async fn attempt<H: Handler<Args>, Args>(
    handler: &H,
    queue: &SubscriberQueue,
    bus: &Bus,
    delivery: &Delivery,
) -> Result<(), Failure> {
    let event = delivery
        .payload
        .decode::<H::Event>(delivery.meta.version)
        .map_err(|message| Failure {
            permanent: true,
            message,
        })?;
    let ctx = Context::new(
        bus.clone(),
        Arc::clone(&queue.name),
        delivery.meta.clone(),
        delivery.attempt,
    );
    let span = tracing::info_span!(
        "tidings.handle",
        event = <H::Event as Event>::NAME,
        id = %delivery.meta.id,
        subscriber = &*queue.name,
        attempt = delivery.attempt,
    );
    let timeout = queue.options.timeout;
    let call = async {
        // The synchronous part of a call (argument extraction) can panic too.
        let future = std::panic::catch_unwind(AssertUnwindSafe(|| handler.call(event, ctx)))?;
        AssertUnwindSafe(future).catch_unwind().await
    };
    match tokio::time::timeout(timeout, call).instrument(span).await {
        Ok(Ok(Ok(()))) => Ok(()),
        Ok(Ok(Err(error))) => Err(Failure {
            permanent: error.is_permanent(),
            message: error.to_string(),
        }),
        Ok(Err(panic)) => Err(Failure {
            permanent: false,
            message: format!("handler panicked: {}", panic_message(&*panic)),
        }),
        Err(_elapsed) => Err(Failure {
            permanent: false,
            message: format!(
                "attempt timed out after {}",
                humantime::format_duration(round_ms(timeout))
            ),
        }),
    }
}

fn panic_message(panic: &(dyn Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("(non-string panic payload)")
}

fn round_ms(duration: Duration) -> Duration {
    Duration::from_millis(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
}
