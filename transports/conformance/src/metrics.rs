//! Metrics through the `metrics` facade: exact counts of what happened, by event, subscriber
//! and group, from whichever transport carried the events.

use std::sync::Arc;
use std::time::Duration;

use crate::{Ping, Pong};
use metrics_util::debugging::{DebugValue, DebuggingRecorder, Snapshot};
use metrics_util::{CompositeKey, MetricKind};
use tidings::{Backoff, Context, HandlerError, Subscriber, metrics as names};

use crate::Backend;

/// Every metric the recorder holds, as `(kind, name, sorted labels) → value`.
struct Recorded(Vec<(CompositeKey, DebugValue)>);

impl Recorded {
    fn of(snapshot: Snapshot) -> Self {
        Recorded(
            snapshot
                .into_vec()
                .into_iter()
                .map(|(key, _, _, value)| (key, value))
                .collect(),
        )
    }

    fn find(&self, kind: MetricKind, name: &str, labels: &[(&str, &str)]) -> &DebugValue {
        let wanted = |key: &CompositeKey| {
            let mut have: Vec<(&str, &str)> =
                key.key().labels().map(|l| (l.key(), l.value())).collect();
            let mut want = labels.to_vec();
            have.sort_unstable();
            want.sort_unstable();
            key.kind() == kind && key.key().name() == name && have == want
        };
        self.0
            .iter()
            .find(|(key, _)| wanted(key))
            .map(|(_, value)| value)
            .unwrap_or_else(|| panic!("no {kind:?} {name} {labels:?} among {:?}", self.0))
    }

    fn counter(&self, name: &str, labels: &[(&str, &str)]) -> u64 {
        match self.find(MetricKind::Counter, name, labels) {
            DebugValue::Counter(value) => *value,
            other => panic!("{name} is {other:?}"),
        }
    }

    fn gauge(&self, name: &str, labels: &[(&str, &str)]) -> f64 {
        match self.find(MetricKind::Gauge, name, labels) {
            DebugValue::Gauge(value) => value.into_inner(),
            other => panic!("{name} is {other:?}"),
        }
    }

    fn observations(&self, name: &str, labels: &[(&str, &str)]) -> usize {
        match self.find(MetricKind::Histogram, name, labels) {
            DebugValue::Histogram(values) => values.len(),
            other => panic!("{name} is {other:?}"),
        }
    }
}

pub async fn metrics_count_publishes_outcomes_attempts_and_sample_gauges(backend: &dyn Backend) {
    // Of six pings, seq 0 and 3 fail for good, 1 and 4 fail once and then succeed, 2 and 5
    // succeed at once; each success publishes a pong.
    let relay = |ping: Arc<Ping>, ctx: Context| async move {
        match ping.seq % 3 {
            0 => return Err(HandlerError::permanent_msg("never")),
            1 if ctx.attempt() == 1 => return Err(HandlerError::msg("not yet")),
            _ => {}
        }
        ctx.publish(Pong { seq: ping.seq }).await.unwrap();
        Ok(())
    };
    // The recorder of this test only: handles are resolved from the recorder current while
    // the bus is built, so other tests running at once in this process count elsewhere.
    let recorder = DebuggingRecorder::new();
    let snapshotter = recorder.snapshotter();
    let bus = {
        let _scope = ::metrics::set_default_local_recorder(&recorder);
        backend
            .bus_with([
                Subscriber::new("metered_relay", relay)
                    .group("metered")
                    .retries(2)
                    .backoff(Backoff::fixed(Duration::from_millis(10))),
                Subscriber::new("metered_sink", |_: Pong| async {}),
            ])
            .await
    };
    for seq in 0..6 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;
    bus.record_gauges();

    let recorded = Recorded::of(snapshotter.snapshot());
    let relay = [
        ("event", "test.ping"),
        ("subscriber", "metered_relay"),
        ("group", "metered"),
    ];
    let sink = [
        ("event", "test.pong"),
        ("subscriber", "metered_sink"),
        ("group", "metered_sink"),
    ];
    assert_eq!(
        recorded.counter(names::PUBLISHED, &[("event", "test.ping")]),
        6
    );
    assert_eq!(
        recorded.counter(names::PUBLISHED, &[("event", "test.pong")]),
        4
    );
    assert_eq!(recorded.counter(names::HANDLED, &relay), 4);
    assert_eq!(recorded.counter(names::RETRIED, &relay), 2);
    assert_eq!(recorded.counter(names::DEAD_LETTERED, &relay), 2);
    assert_eq!(recorded.counter(names::HANDLED, &sink), 4);
    assert_eq!(recorded.counter(names::RETRIED, &sink), 0);
    assert_eq!(recorded.counter(names::DEAD_LETTERED, &sink), 0);
    // One observation per attempt: 6 first attempts and 2 retries.
    assert_eq!(
        recorded.observations(names::HANDLE_DURATION, &relay[..2]),
        8
    );
    assert_eq!(recorded.observations(names::HANDLE_DURATION, &sink[..2]), 4);
    for labels in [&relay, &sink] {
        assert_eq!(recorded.gauge(names::QUEUE_DEPTH, labels), 0.0);
        assert_eq!(recorded.gauge(names::IN_FLIGHT, labels), 0.0);
    }
}
