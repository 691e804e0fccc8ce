//! Per-key lanes for an `ordered` consumer of a broker that hands it a window of deliveries at
//! once (RabbitMQ's prefetch; Kafka and RocketMQ will hold theirs the same way).
//!
//! A delivery whose key has an earlier delivery unsettled (running, or waiting for its retry)
//! parks behind it, in arrival order; every other delivery may run at once. So a failing key
//! holds back only its own later events, not the other keys that share its partition. Keyless
//! deliveries are never gated, as in the memory transport's lanes.
//!
//! Generic over `R`, the receipt the transport settles a delivery with on its broker (an AMQP
//! acker, a Kafka offset): a parked delivery keeps it, unsettled, so the broker keeps the event
//! until it is handled and gives it back if the process dies. Not synchronised: the transport
//! keeps it under the lock that also guards what it holds, so that a delivery is always counted
//! as exactly one of the two.

use std::collections::{HashMap, VecDeque};

use crate::delivery::Delivery;

/// The lanes of one consumer: see the module docs.
#[derive(Debug)]
pub struct Lanes<R> {
    /// Each key with a delivery running or waiting to retry, and what is parked behind it.
    lanes: HashMap<u64, VecDeque<(Delivery, R)>>,
    parked: usize,
}

impl<R> Default for Lanes<R> {
    fn default() -> Self {
        Lanes {
            lanes: HashMap::new(),
            parked: 0,
        }
    }
}

impl<R> Lanes<R> {
    /// A delivery arrived: returns it if it may run now (its key's lane is then taken until
    /// [`release`](Self::release)), or parks it behind the delivery of its key that runs.
    pub fn admit(&mut self, delivery: Delivery, receipt: R) -> Option<(Delivery, R)> {
        let Some(key) = delivery.meta.key_hash else {
            return Some((delivery, receipt));
        };
        match self.lanes.get_mut(&key) {
            Some(waiting) => {
                waiting.push_back((delivery, receipt));
                self.parked += 1;
                None
            }
            None => {
                self.lanes.insert(key, VecDeque::new());
                Some((delivery, receipt))
            }
        }
    }

    /// The running delivery of `key` is settled for good (handled or dead-lettered): returns
    /// the next one parked behind it, which takes the lane, or frees the lane if none waits.
    pub fn release(&mut self, key: Option<u64>) -> Option<(Delivery, R)> {
        let key = key?;
        let waiting = self.lanes.get_mut(&key)?;
        match waiting.pop_front() {
            Some(next) => {
                self.parked -= 1;
                Some(next)
            }
            None => {
                self.lanes.remove(&key);
                None
            }
        }
    }

    /// Deliveries parked behind their key (not counting the one running per key).
    pub fn parked(&self) -> usize {
        self.parked
    }

    /// Keys with a delivery running or waiting to retry.
    #[cfg_attr(not(test), allow(dead_code))]
    pub fn keys(&self) -> usize {
        self.lanes.len()
    }

    /// Forgets every lane and returns what was parked, each key's in arrival order (the
    /// transport lost its session: the broker takes every unsettled delivery back).
    pub fn clear(&mut self) -> Vec<(Delivery, R)> {
        self.parked = 0;
        self.lanes
            .drain()
            .flat_map(|(_, waiting)| waiting)
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::SystemTime;

    use super::*;
    use crate::bus::Lineage;
    use crate::delivery::{Meta, Payload};
    use crate::event::EventId;

    fn delivery(key: Option<u64>, seq: u64) -> Delivery {
        let id = EventId::new();
        let meta = Meta::new(id, SystemTime::now(), 1, Lineage::default(), key);
        Delivery {
            meta,
            payload: Payload::Json(Arc::from(&b"{}"[..])),
            attempt: 1,
            first_failed_at: None,
            seq,
        }
    }

    fn admit(lanes: &mut Lanes<u64>, key: Option<u64>, seq: u64) -> Option<u64> {
        lanes
            .admit(delivery(key, seq), seq * 10)
            .map(|(delivery, receipt)| {
                assert_eq!(
                    receipt,
                    delivery.seq * 10,
                    "the receipt stays with its delivery"
                );
                delivery.seq
            })
    }

    fn release(lanes: &mut Lanes<u64>, key: Option<u64>) -> Option<u64> {
        lanes.release(key).map(|(delivery, _)| delivery.seq)
    }

    #[test]
    fn a_key_waits_behind_its_running_delivery_in_arrival_order_while_others_pass() {
        let mut lanes = Lanes::default();
        assert_eq!(admit(&mut lanes, Some(1), 1), Some(1));
        assert_eq!(admit(&mut lanes, Some(1), 2), None);
        assert_eq!(admit(&mut lanes, Some(2), 3), Some(3), "another key passes");
        assert_eq!(admit(&mut lanes, Some(1), 4), None);
        assert_eq!(admit(&mut lanes, Some(2), 5), None);
        assert_eq!((lanes.parked(), lanes.keys()), (3, 2));

        assert_eq!(release(&mut lanes, Some(1)), Some(2));
        assert_eq!(release(&mut lanes, Some(2)), Some(5));
        assert_eq!(release(&mut lanes, Some(1)), Some(4));
        assert_eq!(lanes.parked(), 0);
        assert_eq!(release(&mut lanes, Some(1)), None, "the lane is free again");
        assert_eq!(release(&mut lanes, Some(2)), None);
        assert_eq!(lanes.keys(), 0);
        assert_eq!(admit(&mut lanes, Some(1), 6), Some(6));
    }

    #[test]
    fn keyless_deliveries_are_never_gated() {
        let mut lanes = Lanes::default();
        assert_eq!(admit(&mut lanes, None, 1), Some(1));
        assert_eq!(admit(&mut lanes, None, 2), Some(2));
        assert_eq!(release(&mut lanes, None), None);
        assert_eq!((lanes.parked(), lanes.keys()), (0, 0));
    }

    #[test]
    fn releasing_a_key_without_a_lane_changes_nothing() {
        let mut lanes = Lanes::default();
        assert_eq!(admit(&mut lanes, Some(7), 1), Some(1));
        assert_eq!(release(&mut lanes, Some(8)), None);
        assert_eq!(admit(&mut lanes, Some(7), 2), None, "key 7 still runs");
    }

    #[test]
    fn clearing_returns_every_parked_delivery_and_frees_every_lane() {
        let mut lanes = Lanes::default();
        for (key, seq) in [(1, 1), (1, 2), (1, 3), (2, 4), (2, 5)] {
            admit(&mut lanes, Some(key), seq);
        }
        let mut cleared: Vec<u64> = lanes.clear().into_iter().map(|(d, _)| d.seq).collect();
        cleared.sort_unstable();
        assert_eq!(cleared, vec![2, 3, 5]);
        assert_eq!((lanes.parked(), lanes.keys()), (0, 0));
        assert_eq!(admit(&mut lanes, Some(1), 6), Some(6));
    }
}
