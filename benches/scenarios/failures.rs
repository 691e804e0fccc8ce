//! What a failure costs: the retry path and the dead-letter path, per failed event, against a
//! consumer that retries inline or records failures itself.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use tidings::{Backoff, Bus, Context, HandlerError, Subscriber};

use super::throughput::mpsc_round;
use super::{Size, Tick};
use crate::harness::{Row, compare, throughput_row};

/// A handler that fails the first attempt of every event.
fn flaky(tick: &Tick, attempt: u32) -> Result<(), String> {
    std::hint::black_box(tick.seq);
    if attempt == 1 {
        Err("transient failure".to_owned())
    } else {
        Ok(())
    }
}

/// The raw path: a consumer that retries each event inline.
async fn inline_retry_round(events: u64) -> Duration {
    mpsc_round(events, |tick| {
        let mut attempt = 1;
        while let Err(error) = flaky(&tick, attempt) {
            std::hint::black_box(error);
            attempt += 1;
        }
    })
    .await
}

/// The raw path: a consumer that records each failure with its error and time.
async fn record_failure_round(events: u64) -> Duration {
    let mut failed = Vec::new();
    mpsc_round(events, move |tick| {
        let error = flaky(&tick, 1).expect_err("first attempts fail");
        failed.push((tick, error, SystemTime::now()));
    })
    .await
}

/// One tidings round on a fresh bus (dead letters would otherwise pile up across rounds).
async fn tidings_round(subscriber: Subscriber, events: u64) -> Duration {
    let bus = Bus::builder()
        .manual()
        .subscribe(subscriber)
        .build()
        .await
        .expect("bus builds");
    let start = Instant::now();
    for seq in 0..events {
        bus.publish(Tick { seq }).await.expect("published");
    }
    bus.wait_idle().await;
    let elapsed = start.elapsed();
    bus.shutdown().await.expect("shut down");
    elapsed
}

fn handler(tick: Arc<Tick>, ctx: Context) -> std::future::Ready<Result<(), HandlerError>> {
    std::future::ready(flaky(&tick, ctx.attempt()).map_err(HandlerError::msg))
}

pub(crate) async fn retry(size: Size) -> Row {
    let retrying = || {
        let subscriber = Subscriber::new("retrying", handler)
            .concurrency(1)
            .retries(1);
        tidings_round(
            subscriber.backoff(Backoff::fixed(Duration::ZERO)),
            size.failing_events,
        )
    };
    let timings = compare(
        size.rounds,
        || inline_retry_round(size.failing_events),
        retrying,
    )
    .await;
    throughput_row(
        "retry path (failed events/s, 1 retry each)",
        "consumer retrying inline",
        size.failing_events,
        timings,
        None,
    )
}

pub(crate) async fn dead_letter(size: Size) -> Row {
    let dead_lettering = || {
        let subscriber = Subscriber::new("dead-lettering", |tick: Arc<Tick>| {
            std::future::ready(flaky(&tick, 1).map_err(HandlerError::permanent_msg))
        });
        tidings_round(subscriber.concurrency(1), size.failing_events)
    };
    let timings = compare(
        size.rounds,
        || record_failure_round(size.failing_events),
        dead_lettering,
    )
    .await;
    throughput_row(
        "dead-letter path (failed events/s)",
        "consumer recording failures",
        size.failing_events,
        timings,
        None,
    )
}
