//! The partition of a keyed event on a broker: per-key order holds within one partition, and
//! every broker transport uses this one function, so that a key lands in the same partition
//! whichever broker carries it (FNV-1a of the key's text, [`crate::Key::hash64`]).
//!
//! Public so that a transport written outside this crate partitions the same way, and so that
//! tests can pick keys that share a partition (the cases a partitioned broker gets wrong).

/// Partitions per event: the most instances an `ordered` subscriber's work can spread over.
pub const PARTITIONS: u64 = 16;

/// The partition of an event with key hash `key_hash`; events without a key go to the first.
pub fn partition(key_hash: Option<u64>) -> u64 {
    key_hash.map_or(0, |hash| hash % PARTITIONS)
}

/// The partition of events whose key is `key`.
pub fn partition_of(key: crate::Key<'_>) -> u64 {
    partition(Some(key.hash64()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Key;

    #[test]
    fn keys_spread_over_the_partitions_the_same_way_everywhere() {
        // Fixed values: a publisher built from another version must agree with these.
        assert_eq!(partition(Some(Key::Str("stuck").hash64())), 11);
        assert_eq!(partition(Some(Key::Str("running").hash64())), 12);
        assert_eq!(partition(None), 0);
    }
}
