//! A worker loop: take a delivery, run one attempt, then handle, retry or dead-letter it.

use std::any::Any;
use std::collections::VecDeque;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::pin;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, SystemTime};

use futures_util::FutureExt;
use tracing::Instrument;

use super::queue::{SubscriberQueue, WorkerStats};
use crate::bus::Bus;
use crate::context::Context;
use crate::delivery::Delivery;
use crate::event::Event;
use crate::handler::Handler;
use crate::subscriber::Typed;
use crate::transport::durable::StoredLetter;

/// Why an attempt failed.
pub(crate) struct Failure {
    pub(crate) permanent: bool,
    pub(crate) message: String,
}

/// Worker number `worker` of a subscriber: runs until the bus aborts it at shutdown.
pub(crate) async fn run<H: Handler<Args>, Args: 'static>(
    typed: Arc<Typed<H, Args>>,
    queue: Arc<SubscriberQueue>,
    bus: Bus,
    worker: usize,
) {
    let stats = &queue.workers[worker];
    // One context per worker, pointed at each delivery: no reference counts touched per event.
    let mut context: Option<Context> = None;
    // Reused across batches, so that after warming up the loop allocates nothing.
    let mut batch = VecDeque::new();
    loop {
        queue.take(&mut batch).await;
        while let Some(delivery) = batch.pop_front() {
            if let Some(limiter) = &queue.limiter {
                limiter.acquire().await;
            }
            let ctx = match &mut context {
                Some(ctx) => {
                    ctx.delivering(&delivery.meta, delivery.attempt);
                    ctx
                }
                None => context.insert(Context::new(
                    bus.clone(),
                    Arc::clone(&queue.name),
                    delivery.meta.clone(),
                    delivery.attempt,
                )),
            };
            stats.set_busy(true);
            let outcome = attempt(typed.handler(), &queue, ctx, &delivery).await;
            stats.set_busy(false);
            match outcome {
                Ok(()) => handled(&bus, &queue, stats, &delivery),
                Err(failure) if failure.permanent || delivery.attempt > queue.options.retries => {
                    dead_letter::<H::Event>(&bus, &queue, stats, &delivery, failure);
                }
                Err(failure) => retry::<H::Event>(&bus, &queue, stats, delivery, failure),
            }
        }
    }
}

fn handled(bus: &Bus, queue: &SubscriberQueue, stats: &WorkerStats, delivery: &Delivery) {
    let latency = SystemTime::now().duration_since(delivery.meta.time);
    stats.handled(latency.unwrap_or_default());
    if let Some(journal) = bus.journal() {
        journal.acked(&queue.name, delivery.seq);
    }
    // Released at once: a handler that publishes into a full queue must never wait on
    // capacity its own worker is sitting on.
    queue.finish(delivery.meta.key_hash);
}

fn dead_letter<E: Event>(
    bus: &Bus,
    queue: &Arc<SubscriberQueue>,
    stats: &WorkerStats,
    delivery: &Delivery,
    failure: Failure,
) {
    tracing::warn!(
        subscriber = &*queue.name, event = E::NAME, id = %delivery.meta.id,
        attempt = delivery.attempt, error = %failure.message, "dead-lettered"
    );
    stats.dead_lettered();
    let letter = bus
        .engine()
        .dead_letters
        .insert(queue, delivery, failure.message, bus.source());
    if let Some(journal) = bus.journal() {
        let id = letter.id.to_bytes();
        journal.dead_lettered(&queue.name, delivery.seq, id, StoredLetter::from(&letter));
    }
    queue.finish(delivery.meta.key_hash);
}

fn retry<E: Event>(
    bus: &Bus,
    queue: &Arc<SubscriberQueue>,
    stats: &WorkerStats,
    mut delivery: Delivery,
    failure: Failure,
) {
    let delay = queue.options.backoff.delay(delivery.attempt);
    tracing::debug!(
        subscriber = &*queue.name, event = E::NAME, id = %delivery.meta.id,
        attempt = delivery.attempt, error = %failure.message, ?delay, "attempt failed; will retry"
    );
    stats.retried();
    let first_failed = *delivery.first_failed_at.get_or_insert_with(SystemTime::now);
    if let Some(journal) = bus.journal() {
        let run_at = SystemTime::now() + delay;
        journal.retrying(
            &queue.name,
            delivery.seq,
            delivery.attempt,
            run_at,
            first_failed,
        );
    }
    delivery.attempt += 1;
    queue.retry_after(delivery, delay);
}

/// One attempt: decode, call the handler under the timeout, and turn errors, timeouts and
/// panics alike into a [`Failure`].
async fn attempt<H: Handler<Args>, Args>(
    handler: &H,
    queue: &SubscriberQueue,
    ctx: &Context,
    delivery: &Delivery,
) -> Result<(), Failure> {
    let event = delivery
        .payload
        .decode::<H::Event>(delivery.meta.version)
        .map_err(|message| Failure {
            permanent: true,
            message,
        })?;
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
    match within(timeout, call).instrument(span).await {
        Some(Ok(Ok(()))) => Ok(()),
        Some(Ok(Err(error))) => Err(Failure {
            permanent: error.is_permanent(),
            message: error.to_string(),
        }),
        Some(Err(panic)) => Err(Failure {
            permanent: false,
            message: format!("handler panicked: {}", panic_message(&*panic)),
        }),
        None => Err(Failure {
            permanent: false,
            message: format!(
                "attempt timed out after {}",
                humantime::format_duration(round_ms(timeout))
            ),
        }),
    }
}

/// Runs `future` for at most `timeout`, or `None`. A future that is ready at once never starts
/// a timer, which spares the hot path a clock read and a timer-wheel entry.
async fn within<F: Future>(timeout: Duration, future: F) -> Option<F::Output> {
    let mut future = pin!(future);
    let mut first_poll = Some(());
    let ready_at_once = std::future::poll_fn(|cx| match first_poll.take() {
        Some(()) => Poll::Ready(future.as_mut().poll(cx)),
        None => unreachable!("polled once"),
    })
    .await;
    match ready_at_once {
        Poll::Ready(output) => Some(output),
        Poll::Pending => tokio::time::timeout(timeout, future).await.ok(),
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
