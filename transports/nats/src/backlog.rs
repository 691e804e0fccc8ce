//! How much each consumer of the events stream still has to do, read from the server: the
//! bound `publish` waits on (a group holds at most `queue_capacity` unfinished events, as in
//! memory), and what `wait_idle` waits for.
//!
//! One listing of the streams' consumers (events and parked keys) answers for every group at
//! once. A publisher reads it
//! at most every [`FRESH`] while far from the bound, counting its own publishes since, and at
//! once when they might have reached it.

use std::collections::HashMap;
use std::time::Duration;

use futures_util::TryStreamExt;
use tokio::time::Instant;

use super::{Shared, timed};
use tidings_core::Result;

const FRESH: Duration = Duration::from_millis(50);
const POLL: Duration = Duration::from_millis(10);

pub(crate) struct Backlog {
    capacity: u64,
    state: tokio::sync::Mutex<Snapshot>,
}

#[derive(Default)]
struct Snapshot {
    read_at: Option<Instant>,
    /// What the listing said of each consumer, by name.
    consumers: HashMap<String, Seen>,
    /// Publishes since the listing, by filter subject.
    sent_since: HashMap<String, u64>,
}

struct Seen {
    filter: String,
    /// Events pending or unacknowledged.
    unfinished: u64,
    /// The stream sequence up to which every event was acknowledged.
    ack_floor: u64,
}

impl Snapshot {
    /// The fullest group reading `filter`, counting what was published since the listing.
    fn fullest(&self, filter: &str) -> u64 {
        let unfinished = self
            .consumers
            .values()
            .filter(|seen| seen.filter == filter)
            .map(|seen| seen.unfinished)
            .max()
            .unwrap_or(0);
        unfinished + self.sent_since.get(filter).copied().unwrap_or(0)
    }
}

impl Backlog {
    pub(crate) fn new(capacity: usize) -> Self {
        Backlog {
            capacity: capacity as u64,
            state: tokio::sync::Mutex::default(),
        }
    }

    /// Waits until every group reading `filter` has room for one more event, and counts it.
    pub(crate) async fn reserve(&self, shared: &Shared, filter: &str) -> Result<()> {
        loop {
            let mut snapshot = self.state.lock().await;
            let fresh = snapshot.read_at.is_some_and(|at| at.elapsed() < FRESH);
            if !fresh || snapshot.fullest(filter) >= self.capacity {
                read(shared, &mut snapshot).await?;
            }
            if snapshot.fullest(filter) < self.capacity {
                *snapshot.sent_since.entry(filter.to_owned()).or_default() += 1;
                return Ok(());
            }
            drop(snapshot);
            tokio::time::sleep(POLL).await;
        }
    }

    /// What `consumer` (reading `filter`) had unfinished on the server when last read, plus
    /// what this bus published for it since; `None` while a read is under way.
    pub(crate) fn last_known(&self, consumer: &str, filter: &str) -> Option<u64> {
        let snapshot = self.state.try_lock().ok()?;
        let seen = snapshot.consumers.get(consumer)?;
        Some(seen.unfinished + snapshot.sent_since.get(filter).copied().unwrap_or(0))
    }

    /// The ack floor of `consumer` when last listed, if it was.
    pub(crate) async fn ack_floor(&self, consumer: &str) -> Option<u64> {
        let snapshot = self.state.lock().await;
        snapshot.consumers.get(consumer).map(|seen| seen.ack_floor)
    }

    /// Reads the backlogs now; returns what `consumers` have unfinished in all.
    pub(crate) async fn unfinished(&self, shared: &Shared, consumers: &[String]) -> Result<u64> {
        let mut snapshot = self.state.lock().await;
        read(shared, &mut snapshot).await?;
        Ok(consumers
            .iter()
            .filter_map(|name| snapshot.consumers.get(name))
            .map(|seen| seen.unfinished)
            .sum())
    }

    /// Whether these consumers have nothing pending or unacknowledged on the server.
    pub(crate) async fn all_done(&self, shared: &Shared, consumers: &[String]) -> Result<bool> {
        let mut snapshot = self.state.lock().await;
        read(shared, &mut snapshot).await?;
        Ok(consumers.iter().all(|name| {
            snapshot
                .consumers
                .get(name)
                .is_none_or(|seen| seen.unfinished == 0)
        }))
    }
}

async fn read(shared: &Shared, snapshot: &mut Snapshot) -> Result<()> {
    let events: Vec<_> = timed(
        &shared.config,
        "list the stream's consumers",
        shared.events.consumers().try_collect(),
    )
    .await?;
    // The parked keys of `ordered` subscribers are unfinished work of theirs too.
    let parked: Vec<_> = timed(
        &shared.config,
        "list the parked stream's consumers",
        shared.parked.consumers().try_collect(),
    )
    .await?;
    snapshot.consumers = events
        .into_iter()
        .chain(parked)
        .map(|info| {
            let seen = Seen {
                filter: info.config.filter_subject,
                unfinished: info.num_pending + info.num_ack_pending as u64,
                ack_floor: info.ack_floor.stream_sequence,
            };
            (info.name, seen)
        })
        .collect();
    snapshot.sent_since.clear();
    snapshot.read_at = Some(Instant::now());
    Ok(())
}

/// Polls until `consumers` are done on the server and `local` says nothing is in hand here.
pub(crate) async fn wait_until_done(
    shared: &Shared,
    consumers: &[String],
    local: impl Fn() -> bool,
) {
    loop {
        match shared.backlog.all_done(shared, consumers).await {
            Ok(true) if local() => return,
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "cannot read consumer backlogs; retrying"),
        }
        tokio::time::sleep(POLL).await;
    }
}
