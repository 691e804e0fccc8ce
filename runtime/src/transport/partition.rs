//! The partition of a keyed event on a broker: per-key order holds within one partition, and
//! every broker transport uses this one function, so that a key lands in the same partition
//! whichever broker carries it (FNV-1a of the key's text, [`crate::Key::hash64`]).

/// Partitions per event: the most instances an `ordered` subscriber's work can spread over.
pub(crate) const PARTITIONS: u64 = 16;

/// The partition of an event with key hash `key_hash`; events without a key go to the first.
pub(crate) fn partition(key_hash: Option<u64>) -> u64 {
    key_hash.map_or(0, |hash| hash % PARTITIONS)
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
