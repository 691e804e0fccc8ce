//! Where things live on the server, all under one namespace (`?namespace=NAME`, default
//! `tidings`), so that several applications, or test runs, share a server without meeting.
//!
//! Events go to `{ns}.events.{partition}.{event name}`: the partition (from the key) comes
//! before the name, so a consumer's filter `{ns}.events.*.{name}` matches that name exactly even
//! though names contain dots.
//!
//! Parked events of an `ordered` subscriber go to
//! `{ns}.parked.{consumer}.p{partition}.{key hash as 16 hex digits}`: one subject per key, so
//! the last message on it says whether the key is parked, and stream order on it is the key's
//! order. Every token is made of `[A-Za-z0-9_-]` (the consumer name is made safe below).

pub(crate) use tidings_core::transport::partition::PARTITIONS;
use tidings_core::transport::partition::partition;

#[derive(Debug, Clone)]
pub(crate) struct Names {
    namespace: String,
}

impl Names {
    pub(crate) fn new(namespace: String) -> Self {
        Names { namespace }
    }

    pub(crate) fn events_stream(&self) -> String {
        format!("{}-events", self.namespace)
    }

    pub(crate) fn dead_stream(&self) -> String {
        format!("{}-dead", self.namespace)
    }

    pub(crate) fn parked_stream(&self) -> String {
        format!("{}-parked", self.namespace)
    }

    pub(crate) fn all_parked(&self) -> String {
        format!("{}.parked.>", self.namespace)
    }

    /// Where the parked events of key `key_hash` of consumer `consumer` wait.
    pub(crate) fn parked(&self, consumer: &str, partition: u64, key_hash: u64) -> String {
        format!(
            "{}.parked.{consumer}.p{partition}.{key_hash:016x}",
            self.namespace
        )
    }

    /// Every parked key of one partition of consumer `consumer`.
    pub(crate) fn parked_filter(&self, consumer: &str, partition: u64) -> String {
        format!("{}.parked.{consumer}.p{partition}.>", self.namespace)
    }

    pub(crate) fn all_events(&self) -> String {
        format!("{}.events.>", self.namespace)
    }

    pub(crate) fn all_dead(&self) -> String {
        format!("{}.dead.>", self.namespace)
    }

    pub(crate) fn event(&self, event_name: &str, key_hash: Option<u64>) -> String {
        let partition = partition(key_hash);
        format!("{}.events.{partition}.{event_name}", self.namespace)
    }

    pub(crate) fn filter(&self, event_name: &str) -> String {
        format!("{}.events.*.{event_name}", self.namespace)
    }

    pub(crate) fn partition_filter(&self, event_name: &str, partition: u64) -> String {
        format!("{}.events.{partition}.{event_name}", self.namespace)
    }

    pub(crate) fn dead(&self, consumer: &str) -> String {
        format!("{}.dead.{consumer}", self.namespace)
    }

    /// The durable consumer of a subscriber: its name made safe for NATS, plus a hash of the
    /// exact name so that names differing only in unsafe characters stay apart.
    pub(crate) fn consumer(&self, subscriber: &str) -> String {
        let safe: String = subscriber
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let hash = tidings_core::Key::Str(subscriber).hash64();
        format!("{safe}-{:08x}", hash as u32)
    }
}
