//! The memory transport: the conformance suite on tokio's paused clock and on a real one, plus
//! what only memory promises (zero-copy delivery) and the exact timing of backoff and rate,
//! measured on the virtual clock.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tidings::{Backoff, Bus, BusBuilder, Envelope, Error, HandlerError, Rate, Subscriber};
use tidings_conformance::Backend;
use tidings_tests::{Log, Ping};
use tokio::time::Instant;

/// A memory namespace of its own per test, shared by the buses that test builds.
struct MemoryBackend(String);

impl MemoryBackend {
    fn new() -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        MemoryBackend(format!(
            "memory://test-{}",
            NEXT.fetch_add(1, Ordering::Relaxed)
        ))
    }
}

impl Backend for MemoryBackend {
    fn builder(&self) -> BusBuilder {
        Bus::builder().url(&self.0).manual()
    }
}

tidings_conformance::suite!(MemoryBackend::new(), #[tokio::test(start_paused = true)]);

/// The suite again on a real clock and two worker threads, as disk and broker transports run it:
/// proves the cases do not lean on the virtual clock, and lets real races happen.
mod real_clock {
    use super::MemoryBackend;

    tidings_conformance::suite!(MemoryBackend::new(), #[tokio::test(flavor = "multi_thread", worker_threads = 2)]);
}

#[tokio::test]
async fn subscribers_share_the_publishers_allocation() {
    let seen: Log<usize> = Log::default();
    let record = |seen: Log<usize>| {
        move |ping: Arc<Ping>| {
            let seen = seen.clone();
            async move { seen.push(Arc::as_ptr(&ping) as usize) }
        }
    };
    let bus = (&MemoryBackend::new() as &dyn Backend)
        .bus_with([
            Subscriber::new("a", record(seen.clone())),
            Subscriber::new("b", record(seen.clone())),
        ])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    let pointers = seen.items();
    assert_eq!(pointers.len(), 2);
    assert_eq!(
        pointers[0], pointers[1],
        "both subscribers got the same Arc"
    );
}
#[tokio::test(start_paused = true)]
async fn exponential_backoff_doubles_with_jitter_in_the_upper_half() {
    let times: Log<Instant> = Log::default();
    let handler = {
        let times = times.clone();
        move |_: Arc<Ping>| {
            times.push(Instant::now());
            std::future::ready(Err::<(), _>(HandlerError::msg("down")))
        }
    };
    let backoff = Backoff::exponential(Duration::from_millis(100), Duration::from_millis(300));
    let bus = (&MemoryBackend::new() as &dyn Backend)
        .bus_with([Subscriber::new("backoff", handler)
            .retries(4)
            .backoff(backoff)])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    let times = times.items();
    assert_eq!(times.len(), 5);
    let gaps: Vec<Duration> = times.windows(2).map(|w| w[1] - w[0]).collect();
    for (gap, base_ms) in gaps.iter().zip([100, 200, 300, 300]) {
        let base = Duration::from_millis(base_ms);
        assert!(
            *gap >= base / 2 && *gap <= base + Duration::from_millis(2),
            "gap {gap:?} for base {base:?}"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn rate_spaces_attempts_evenly() {
    let times: Log<Instant> = Log::default();
    let handler = {
        let times = times.clone();
        move |_: Arc<Ping>| {
            times.push(Instant::now());
            std::future::ready(())
        }
    };
    let bus = (&MemoryBackend::new() as &dyn Backend)
        .bus_with([Subscriber::new("limited", handler)
            .rate(Rate::per_second(10))
            .concurrency(4)])
        .await;
    let start = Instant::now();
    for seq in 0..20 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;

    let mut times = times.items();
    times.sort_unstable();
    assert_eq!(times.len(), 20);
    for pair in times.windows(2) {
        assert!(
            pair[1] - pair[0] >= Duration::from_millis(100),
            "{:?}",
            pair[1] - pair[0]
        );
    }
    assert!(start.elapsed() >= Duration::from_millis(1900));
}

#[tokio::test]
async fn an_envelope_with_a_malformed_traceparent_is_refused_saying_what_is_wrong() {
    let received: Log<u32> = Log::default();
    let bus = (&MemoryBackend::new() as &dyn Backend)
        .bus_with([Subscriber::new("sink", {
            let received = received.clone();
            move |ping: Arc<Ping>| {
                received.push(ping.seq);
                std::future::ready(())
            }
        })])
        .await;
    let mut envelope = Envelope::new("test.ping", br#"{"key":"k","seq":1}"#.to_vec());
    envelope.traceparent = Some("00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01".into());
    let error = bus.publish_envelope(envelope).await.unwrap_err();
    assert!(matches!(error, Error::InvalidTraceparent(_)), "{error:?}");
    assert_eq!(
        error.to_string(),
        "cannot publish the envelope: `00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01` \
         is not a W3C traceparent: the trace id is not 32 lowercase hex digits, not all zero; \
         expected `00-<32 hex digit trace id>-<16 hex digit parent id>-<2 hex digit flags>`, \
         lowercase, ids not all zero; fix its `traceparent` or set it to `None`"
    );
    bus.wait_idle().await;
    assert!(received.is_empty(), "nothing was published");
}
