//! Retries, backoff, timeouts, panics, permanent errors and undecodable payloads.

use std::sync::Arc;
use std::time::Duration;

use crate::Backend;
use crate::{Log, Ping};
use tidings::{Backoff, Context, Envelope, HandlerError, Subscriber};

/// A handler that fails its first `failures` attempts of every event, logging each attempt.
fn flaky(
    failures: u32,
    attempts: Log<(u32, u32)>,
) -> impl Fn(Arc<Ping>, Context) -> std::future::Ready<Result<(), HandlerError>> + Clone {
    move |ping: Arc<Ping>, ctx: Context| {
        attempts.push((ping.seq, ctx.attempt()));
        std::future::ready(if ctx.attempt() <= failures {
            Err(HandlerError::msg(format!(
                "flaky failure {}",
                ctx.attempt()
            )))
        } else {
            Ok(())
        })
    }
}

fn quick() -> Backoff {
    Backoff::fixed(Duration::from_millis(10))
}

pub async fn a_failing_attempt_is_retried_until_it_succeeds(backend: &dyn Backend) {
    let attempts = Log::default();
    let bus = backend
        .bus_with([Subscriber::new("flaky", flaky(2, attempts.clone()))
            .retries(3)
            .backoff(quick())])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(attempts.items(), vec![(1, 1), (1, 2), (1, 3)]);
    let stats = bus.stats();
    let flaky = stats.subscriber("flaky").unwrap();
    assert_eq!(
        (flaky.handled, flaky.retried, flaky.dead_lettered),
        (1, 2, 0)
    );
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
}

pub async fn retries_exhausted_dead_letters_after_retries_plus_one_attempts(backend: &dyn Backend) {
    let attempts = Log::default();
    let bus = backend
        .bus_with(
            [Subscriber::new("doomed", flaky(u32::MAX, attempts.clone()))
                .retries(3)
                .backoff(quick())],
        )
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(attempts.len(), 4);
    let stats = bus.stats();
    let doomed = stats.subscriber("doomed").unwrap();
    assert_eq!(
        (doomed.handled, doomed.retried, doomed.dead_lettered),
        (0, 3, 1)
    );
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].attempts, 4);
    assert_eq!(dead[0].error, "flaky failure 4");
}

pub async fn a_timed_out_attempt_is_a_failed_attempt(backend: &dyn Backend) {
    let attempts = Log::default();
    let handler = {
        let attempts = attempts.clone();
        move |_: Arc<Ping>, ctx: Context| {
            let attempts = attempts.clone();
            async move {
                attempts.push(ctx.attempt());
                if ctx.attempt() == 1 {
                    tokio::time::sleep(Duration::from_secs(3600)).await;
                }
            }
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("slow", handler)
            .timeout(Duration::from_millis(100))
            .backoff(quick())])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(attempts.items(), vec![1, 2]);
    let stats = bus.stats();
    assert_eq!(
        (stats.subscribers[0].handled, stats.subscribers[0].retried),
        (1, 1)
    );
}

pub async fn timeouts_dead_letter_with_the_deadline_in_the_error(backend: &dyn Backend) {
    let handler = |_: Arc<Ping>| tokio::time::sleep(Duration::from_secs(3600));
    let bus = backend
        .bus_with([Subscriber::new("stuck", handler)
            .timeout(Duration::from_millis(150))
            .retries(1)
            .backoff(quick())])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(
        (dead[0].attempts, dead[0].error.as_str()),
        (2, "attempt timed out after 150ms")
    );
}

pub async fn a_panic_is_a_failed_attempt_and_the_subscriber_lives_on(backend: &dyn Backend) {
    let handled = Log::default();
    let handler = {
        let handled = handled.clone();
        move |ping: Arc<Ping>, ctx: Context| {
            let handled = handled.clone();
            async move {
                if ping.seq == 0 {
                    panic!("boom on {}", ping.seq);
                }
                if ping.seq == 1 && ctx.attempt() == 1 {
                    panic!("transient boom");
                }
                handled.push(ping.seq);
            }
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("panicky", handler)
            .retries(2)
            .backoff(quick())
            .concurrency(1)])
        .await;
    for seq in 0..5 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;

    let mut handled = handled.items();
    handled.sort_unstable();
    assert_eq!(handled, vec![1, 2, 3, 4]);
    let stats = bus.stats();
    let panicky = stats.subscriber("panicky").unwrap();
    assert_eq!(
        (panicky.handled, panicky.retried, panicky.dead_lettered),
        (4, 3, 1)
    );
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead[0].error, "handler panicked: boom on 0");
    assert_eq!(dead[0].attempts, 3);
}

pub async fn a_permanent_error_skips_retries(backend: &dyn Backend) {
    let attempts = Log::default();
    let handler = {
        let attempts = attempts.clone();
        move |_: Arc<Ping>, ctx: Context| {
            attempts.push(ctx.attempt());
            std::future::ready(Err::<(), _>(HandlerError::permanent_msg("unknown sku")))
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("strict", handler).retries(5)])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(attempts.items(), vec![1]);
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(
        (dead.len(), dead[0].attempts, dead[0].error.as_str()),
        (1, 1, "unknown sku")
    );
    assert_eq!(bus.stats().subscribers[0].retried, 0);
}

pub async fn any_std_error_is_retryable_and_keeps_its_source_chain(backend: &dyn Backend) {
    let handler = |_: Arc<Ping>| async { "not a number".parse::<u32>().map(drop) };
    let bus = backend
        .bus_with([Subscriber::new("parser", handler)
            .retries(1)
            .backoff(quick())])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(
        (dead[0].attempts, dead[0].error.as_str()),
        (2, "invalid digit found in string")
    );
}

pub async fn undecodable_payloads_are_dead_lettered_and_do_not_block_the_queue(
    backend: &dyn Backend,
) {
    let handled = Log::default();
    let bus = backend.bus_with([reader(&handled).retries(5)]).await;

    bus.publish_envelope(Envelope::new("test.ping", b"{not json".to_vec()))
        .await
        .unwrap();
    bus.publish_envelope(Envelope::new(
        "test.ping",
        br#"{"key":"k","seq":"one"}"#.to_vec(),
    ))
    .await
    .unwrap();
    bus.publish_envelope(
        Envelope::new("test.ping", br#"{"key":"k","seq":9}"#.to_vec()).with_version(2),
    )
    .await
    .unwrap();
    bus.publish_envelope(Envelope::new(
        "test.ping",
        br#"{"key":"k","seq":10}"#.to_vec(),
    ))
    .await
    .unwrap();
    bus.publish(Ping::new("k", 11)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(handled.items(), vec![10, 11]);
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 3);
    assert!(
        dead.iter().all(|letter| letter.attempts == 1),
        "decode errors are not retried"
    );
    assert!(
        dead[0]
            .error
            .starts_with("cannot decode `test.ping` payload as JSON: key must be a string"),
        "{}",
        dead[0].error
    );
    assert!(
        dead[1]
            .error
            .starts_with("cannot decode `test.ping` payload as JSON: invalid type: string \"one\""),
        "{}",
        dead[1].error
    );
    assert_eq!(
        dead[2].error,
        "cannot decode `test.ping` version 2: this subscriber reads version 1 only"
    );
    assert_eq!(dead[0].envelope.data, b"{not json");
}

/// A subscriber `reader` of one delivery at a time that logs each ping's `seq`: what the
/// cases of bad input watch to see that the events after it still flow.
pub(crate) fn reader(handled: &Log<u32>) -> Subscriber {
    let handled = handled.clone();
    let handler = move |ping: Ping| {
        handled.push(ping.seq);
        std::future::ready(())
    };
    Subscriber::new("reader", handler).concurrency(1)
}
