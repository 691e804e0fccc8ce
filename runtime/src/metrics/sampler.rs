//! The gauges, sampled: a task per bus sets them every [`GAUGE_INTERVAL`], and
//! [`Bus::record_gauges`] on demand (right before a scrape, for exact values).

use tokio::time::MissedTickBehavior;

use super::GAUGE_INTERVAL;
use crate::bus::Bus;

/// Samples `bus`'s gauges every [`GAUGE_INTERVAL`] until the bus stops it at shutdown.
pub(crate) async fn sample_gauges(bus: Bus) {
    let mut ticks = tokio::time::interval(GAUGE_INTERVAL);
    ticks.set_missed_tick_behavior(MissedTickBehavior::Delay);
    loop {
        ticks.tick().await;
        bus.record_gauges();
    }
}

impl Bus {
    /// Sets the `tidings_queue_depth` and `tidings_in_flight` gauges of every subscriber from
    /// the counts right now. The bus does this by itself every second; call it just before a
    /// recorder renders to report exact values.
    pub fn record_gauges(&self) {
        for attached in self.subscribers() {
            let (queued, in_flight) = attached
                .running
                .queued_and_in_flight(attached.consumer.unfinished());
            attached.running.metrics.set_gauges(queued, in_flight);
        }
    }
}
