//! Metrics through the [`metrics`] facade, under Prometheus-style names: whatever
//! recorder the program installs (Prometheus, StatsD, OpenTelemetry, …) receives them.
//!
//! | name | type | labels | what |
//! |---|---|---|---|
//! | `tidings_published_total` | counter | `event` | events this bus published (accepted by the transport) |
//! | `tidings_handled_total` | counter | `event`, `subscriber`, `group` | deliveries handled successfully |
//! | `tidings_retried_total` | counter | `event`, `subscriber`, `group` | failed attempts that will be retried |
//! | `tidings_dead_lettered_total` | counter | `event`, `subscriber`, `group` | deliveries given up on, kept as dead letters |
//! | `tidings_dead_letter_store_failures_total` | counter | `event`, `subscriber`, `group` | dead letters the transport failed to store (the delivery is kept and comes again) |
//! | `tidings_handle_duration_seconds` | histogram | `event`, `subscriber` | how long each attempt ran (decode and handler, failures included) |
//! | `tidings_queue_depth` | gauge | `event`, `subscriber`, `group` | deliveries waiting (queued or to be retried), as this process sees them |
//! | `tidings_in_flight` | gauge | `event`, `subscriber`, `group` | attempts running right now |
//!
//! Handles are resolved once: per subscriber when the bus is built, per event name on its first
//! publish. So the recorder must be installed before `build()`; and on the hot path an update
//! is an atomic add, never a registry lookup or a label allocation. Without a recorder every
//! handle is a no-op, and neither are attempts timed nor publishes looked up (an optimised
//! build recognises the facade's no-op recorder; an unoptimised one may not, and then only
//! pays those clock reads and lookups).
//!
//! The two gauges are sampled, every [`GAUGE_INTERVAL`] by a task of the bus and whenever
//! [`Bus::record_gauges`](crate::Bus::record_gauges) is called, rather than moved on every
//! event: workers would otherwise contend on two shared cells per delivery for a value a
//! scraper reads every few seconds. (A `tidings::testing` bus, on virtual time, samples on
//! demand only.)

mod publish;
mod sampler;
mod subscriber;

pub(crate) use publish::PublishCounters;
pub(crate) use sampler::sample_gauges;
pub(crate) use subscriber::SubscriberMetrics;

use std::time::Duration;

/// Counter: events published, by `event`.
pub const PUBLISHED: &str = "tidings_published_total";
/// Counter: deliveries handled, by `event`, `subscriber`, `group`.
pub const HANDLED: &str = "tidings_handled_total";
/// Counter: failed attempts that will be retried, by `event`, `subscriber`, `group`.
pub const RETRIED: &str = "tidings_retried_total";
/// Counter: deliveries dead-lettered, by `event`, `subscriber`, `group`.
pub const DEAD_LETTERED: &str = "tidings_dead_lettered_total";
/// Counter: dead letters the transport failed to store, by `event`, `subscriber`, `group`.
pub const DEAD_LETTER_STORE_FAILURES: &str = "tidings_dead_letter_store_failures_total";
/// Histogram: seconds each attempt ran, by `event`, `subscriber`.
pub const HANDLE_DURATION: &str = "tidings_handle_duration_seconds";
/// Gauge: deliveries waiting, by `event`, `subscriber`, `group`.
pub const QUEUE_DEPTH: &str = "tidings_queue_depth";
/// Gauge: attempts running, by `event`, `subscriber`, `group`.
pub const IN_FLIGHT: &str = "tidings_in_flight";

/// How often a bus samples its gauges by itself.
pub const GAUGE_INTERVAL: Duration = Duration::from_secs(1);

/// Whether the recorder current here is the facade's no-op one, i.e. none is installed: then
/// timing attempts and looking up publish counters would cost the hot path for nothing.
///
/// `metrics` has no API to ask, so this compares the current recorder's vtable with
/// `NoopRecorder`'s. Vtables may be duplicated across codegen units (as in unoptimised builds),
/// so the answer can be "no" for the no-op recorder, which only costs the clock reads; it is
/// never "yes" for a recorder that records, since its methods, and so its vtable, differ.
pub(crate) fn recorder_is_noop() -> bool {
    ::metrics::with_recorder(|current| {
        let noop: &dyn ::metrics::Recorder = &::metrics::NoopRecorder;
        let current: *const dyn ::metrics::Recorder = current;
        let noop: *const dyn ::metrics::Recorder = noop;
        // Both at one address, so that only the vtables are compared.
        std::ptr::eq(current, noop.with_addr(current.addr()))
    })
}

/// Tells the installed recorder what each metric means (exporters print it as `# HELP`).
pub(crate) fn describe() {
    use ::metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(PUBLISHED, Unit::Count, "Events published, by event name.");
    describe_counter!(HANDLED, Unit::Count, "Deliveries handled successfully.");
    describe_counter!(
        RETRIED,
        Unit::Count,
        "Failed attempts that will be retried."
    );
    describe_counter!(
        DEAD_LETTERED,
        Unit::Count,
        "Deliveries given up on and kept as dead letters."
    );
    describe_histogram!(
        HANDLE_DURATION,
        Unit::Seconds,
        "How long each attempt ran, failed ones included."
    );
    describe_gauge!(
        QUEUE_DEPTH,
        Unit::Count,
        "Deliveries waiting: queued or to be retried."
    );
    describe_gauge!(IN_FLIGHT, Unit::Count, "Attempts running now.");
}

/// The counter of dead letters a subscriber's transport failed to store.
pub(crate) fn store_failures_counter(
    subscriber: &str,
    group: &str,
    event: &'static str,
) -> metrics::Counter {
    let labels = [
        ("event", event.to_owned()),
        ("subscriber", subscriber.to_owned()),
        ("group", group.to_owned()),
    ];
    metrics::counter!(DEAD_LETTER_STORE_FAILURES, &labels)
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};

    use ::metrics::{
        Counter, Gauge, Histogram, Key, KeyName, Metadata, Recorder, SharedString, Unit,
    };

    use super::recorder_is_noop;

    /// A recorder without fields, like the `metrics` crate's own examples: it must not be taken
    /// for the no-op recorder, which has none either.
    struct Registrations;

    static REGISTERED: AtomicU64 = AtomicU64::new(0);

    impl Recorder for Registrations {
        fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
        fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}

        fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
            REGISTERED.fetch_add(1, Ordering::Relaxed);
            Counter::from_arc(Arc::new(AtomicU64::new(0)))
        }

        fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
            REGISTERED.fetch_add(1, Ordering::Relaxed);
            Gauge::from_arc(Arc::new(AtomicU64::new(0)))
        }

        fn register_histogram(&self, _: &Key, _: &Metadata<'_>) -> Histogram {
            REGISTERED.fetch_add(1, Ordering::Relaxed);
            Histogram::noop()
        }
    }

    #[test]
    fn a_recorder_that_records_is_never_taken_for_the_noop_one() {
        let debugging = metrics_util::debugging::DebuggingRecorder::new();
        ::metrics::with_local_recorder(&debugging, || assert!(!recorder_is_noop()));
        ::metrics::with_local_recorder(&Registrations, || assert!(!recorder_is_noop()));
        // And so its subscribers' attempts are timed.
        let timed = ::metrics::with_local_recorder(&Registrations, || {
            super::SubscriberMetrics::resolve("s", "g", "e").attempt_started()
        });
        assert!(timed.is_some());
        assert_eq!(REGISTERED.load(Ordering::Relaxed), 6);
    }
}
