//! The worker loop, the same on every transport: take a delivery, run one attempt, then settle
//! it as handled, to retry, or dead-lettered.

mod rate;
mod running;

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
use tracing::field::Empty;

pub(crate) use running::Running;

use crate::bus::Bus;
use crate::context::Context;
use crate::dead_letter::DeadLetter;
use crate::delivery::Delivery;
use crate::event::Event;
use crate::handler::Handler;
use crate::subscriber::Typed;
use crate::trace;
use crate::transport::{Consumer, Outcome};

/// Why an attempt failed.
pub(crate) struct Failure {
    pub(crate) permanent: bool,
    pub(crate) message: String,
}

/// Worker number `worker` of a subscriber: runs until the bus aborts it at shutdown.
pub(crate) async fn run<H: Handler<Args>, Args: 'static, C: Consumer>(
    typed: Arc<Typed<H, Args>>,
    consumer: C,
    running: Arc<Running>,
    bus: Bus,
    worker: usize,
) {
    let stats = &running.workers[worker];
    // One context per worker, pointed at each delivery: no reference counts touched per event.
    let mut context: Option<Context> = None;
    // Reused across batches, so that after warming up the loop allocates nothing.
    let mut batch = VecDeque::new();
    loop {
        consumer.fetch(&mut batch).await;
        while let Some((mut delivery, receipt)) = batch.pop_front() {
            if let Some(limiter) = &running.limiter {
                limiter.acquire().await;
            }
            let ctx = match &mut context {
                Some(ctx) => {
                    ctx.delivering(&delivery.meta, delivery.attempt);
                    ctx
                }
                None => context.insert(Context::new(
                    bus.clone(),
                    Arc::clone(&running.name),
                    delivery.meta.clone(),
                    delivery.attempt,
                )),
            };
            stats.set_busy(true);
            let started = running.metrics.attempt_started();
            let result = attempt(typed.handler(), &running, ctx, &delivery).await;
            running.metrics.attempt_ended(started);
            stats.set_busy(false);
            let outcome = match result {
                Ok(()) => {
                    let latency = SystemTime::now().duration_since(delivery.meta.time);
                    stats.handled(latency.unwrap_or_default());
                    running.metrics.handled.increment(1);
                    Outcome::Handled
                }
                Err(failure) if failure.permanent || delivery.attempt > running.options.retries => {
                    tracing::warn!(
                        subscriber = &*running.name, event = H::Event::NAME,
                        id = %delivery.meta.id, attempt = delivery.attempt,
                        error = %failure.message, "dead-lettered"
                    );
                    stats.dead_lettered();
                    running.metrics.dead_lettered.increment(1);
                    let letter = DeadLetter::of(&delivery, &running, failure.message, bus.source());
                    Outcome::DeadLettered(Box::new(letter))
                }
                Err(failure) => {
                    let delay = running
                        .options
                        .backoff
                        .delay_with(delivery.attempt, bus.jitter());
                    tracing::debug!(
                        subscriber = &*running.name, event = H::Event::NAME,
                        id = %delivery.meta.id, attempt = delivery.attempt,
                        error = %failure.message, ?delay, "attempt failed; will retry"
                    );
                    stats.retried();
                    running.metrics.retried.increment(1);
                    delivery.first_failed_at.get_or_insert_with(SystemTime::now);
                    Outcome::Retry { delay }
                }
            };
            if let Some(recorder) = bus.recorder() {
                recorder.attempted(&running.name, &delivery, &outcome);
            }
            let id = delivery.meta.id;
            let settled = AssertUnwindSafe(consumer.settle(delivery, receipt, outcome))
                .catch_unwind()
                .await;
            if let Err(panic) = settled {
                // A bug, never input (the wire refuses what it cannot write back); the worker
                // must outlive it all the same. The transport gets the event back as it does
                // from a crashed process: after its ack deadline, or with its channel.
                tracing::error!(
                    subscriber = &*running.name, event = H::Event::NAME, %id,
                    panic = panic_message(&*panic),
                    "settling a delivery panicked; the worker goes on"
                );
            }
        }
    }
}

/// One attempt: decode, call the handler under the timeout, and turn errors, timeouts and
/// panics alike into a [`Failure`].
async fn attempt<H: Handler<Args>, Args>(
    handler: &H,
    running: &Running,
    ctx: &mut Context,
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
        subscriber = &*running.name,
        attempt = delivery.attempt,
        trace_id = Empty,
        span_id = Empty,
    );
    ctx.handling(trace::handling(&span, delivery.meta.trace));
    let ctx = &*ctx;
    let timeout = running.options.timeout;
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
