//! Dead letters, kept on the broker so that every process of the namespace sees the same ones.
//!
//! They live in one quorum queue, `ns/dead-letters`: the event as the message (binary-mode
//! headers and body) plus the letter's fields as `tidings-dl-*` headers. Reading takes every
//! letter off the queue with `basic.get`, holding them unacknowledged so none is seen twice,
//! then returns them all; replay and discard acknowledge the one they remove.
//!
//! Why a queue and not a stream: a stream cannot remove one message, so replayed and
//! discarded letters would need tombstones kept elsewhere, and reading it gives no end marker.
//! The price of the queue: a read is O(letters), and while one process reads, another
//! process's reader sees the letters it holds as missing (this process's readers take turns).
//! `list` sorts by letter id (time-ordered), so it is oldest first whatever order the queue
//! returns them in.
//!
//! Letters the broker made itself (the delivery limit's safety net) have no `tidings-dl-*`
//! headers; they are read from `x-death` and the routing key, `{group}/{subscriber}`.

use std::collections::HashSet;
use std::time::{Duration, Instant, SystemTime};

use lapin::Channel;
use lapin::message::Delivery as Message;
use lapin::options::{BasicAckOptions, BasicGetOptions, BasicNackOptions};
use lapin::types::AMQPValue;

use super::consumer::{header_text, header_u32, read_envelope};
use super::link::Link;
use super::publish::{Stored, properties};
use super::topology::{partition_queue, short, work_queue};
use tidings_core::transport::partition::partition;
use tidings_core::{DeadLetter, DeadLetterId, Truncated};
use tidings_core::{Error, Result};

const ID: &str = "tidings-dl-id";
const SUBSCRIBER: &str = "tidings-dl-subscriber";
const GROUP: &str = "tidings-dl-group";
const EVENT: &str = "tidings-dl-event";
const ERROR: &str = "tidings-dl-error";
const ATTEMPTS: &str = "tidings-dl-attempts";
const FIRST_FAILED_AT: &str = "tidings-dl-first-failed-at";
const LAST_FAILED_AT: &str = "tidings-dl-last-failed-at";
/// Set on a letter whose payload was truncated to fit: the whole payload's size and SHA-256.
const TRUNCATED_SIZE: &str = "tidings-dl-truncated-size";
const TRUNCATED_SHA256: &str = "tidings-dl-truncated-sha256";

/// The largest message RabbitMQ takes by default (`max_message_size`, 128 MiB since 3.8),
/// less room for the headers, which [`size`] counts only roughly.
const MAX_MESSAGE: usize = 128 * 1024 * 1024 - 64 * 1024;

/// What a letter takes on the broker: its body and its headers' text.
fn size(letter: &DeadLetter) -> usize {
    let headers: usize = fields(letter)
        .iter()
        .map(|(name, value)| name.len() + value.len())
        .chain(
            letter
                .envelope
                .to_binary_headers(super::publish::PREFIX)
                .iter()
                .map(|(name, value)| name.len() + value.len()),
        )
        .sum();
    letter.envelope.data.len() + headers
}

/// The letter's own fields, as `tidings-dl-*` headers.
fn fields(letter: &DeadLetter) -> Vec<(&'static str, String)> {
    let mut fields = vec![
        (ID, letter.id.to_string()),
        (SUBSCRIBER, letter.subscriber.clone()),
        (GROUP, letter.group.clone()),
        (EVENT, letter.event_name.clone()),
        (ERROR, letter.error.clone()),
        (ATTEMPTS, letter.attempts.to_string()),
        (FIRST_FAILED_AT, rfc3339(letter.first_failed_at)),
        (LAST_FAILED_AT, rfc3339(letter.last_failed_at)),
    ];
    if let Some(truncated) = &letter.truncated {
        fields.push((TRUNCATED_SIZE, truncated.size.to_string()));
        fields.push((TRUNCATED_SHA256, truncated.sha256.clone()));
    }
    fields
}

fn rfc3339(time: SystemTime) -> String {
    tidings_core::transport::wire::format_time(time)
}

/// Stores `letter` with a confirm; the caller then acknowledges the delivery it came from.
/// One larger than the broker takes is stored with its payload truncated.
pub(crate) async fn store(link: &Link, letter: &DeadLetter) -> Result<()> {
    let queue = link.dead_letter_queue().await?;
    let mut letter = letter.clone();
    if !letter.fit(MAX_MESSAGE, size) {
        return Err(link.error(format!(
            "cannot hold dead letter {} even with its payload cut to nothing",
            letter.id
        )));
    }
    let properties = properties(&letter.envelope, &fields(&letter));
    match link
        .publish_once("", &queue, properties, &letter.envelope.data)
        .await?
    {
        Stored::Yes => Ok(()),
        other => Err(link.error(format!(
            "did not store dead letter {} in `{queue}` ({other:?})",
            letter.id
        ))),
    }
}

/// The letters, oldest first.
pub(crate) async fn list(link: &Link) -> Result<Vec<DeadLetter>> {
    let (mut letters, _) = read(link, &[], async |_, _| Ok(())).await?;
    letters.sort_by_key(|letter| letter.id);
    Ok(letters)
}

pub(crate) async fn get(link: &Link, id: &DeadLetterId) -> Result<Option<DeadLetter>> {
    let (letters, _) = read(link, &[], async |_, _| Ok(())).await?;
    Ok(letters.into_iter().find(|letter| letter.id == *id))
}

/// Publishes the letter's event to its subscriber's queue (and no other), from attempt 1,
/// then removes the letter.
pub(crate) async fn replay(link: &Link, id: &DeadLetterId) -> Result<()> {
    one(replay_many(link, std::slice::from_ref(id)).await?)
}

pub(crate) async fn discard(link: &Link, id: &DeadLetterId) -> Result<()> {
    one(discard_many(link, std::slice::from_ref(id)).await?)
}

/// Replays each of `ids` in one read of the queue (one read per letter made `dlq replay
/// --all` quadratic); returns those that failed, with why.
pub(crate) async fn replay_many(
    link: &Link,
    ids: &[DeadLetterId],
) -> Result<Vec<(DeadLetterId, Error)>> {
    let (_, failed) = read(link, ids, republish).await?;
    Ok(failed)
}

/// Discards each of `ids` in one read of the queue; returns those that failed, with why.
pub(crate) async fn discard_many(
    link: &Link,
    ids: &[DeadLetterId],
) -> Result<Vec<(DeadLetterId, Error)>> {
    let (_, failed) = read(link, ids, async |_, _| Ok(())).await?;
    Ok(failed)
}

fn one(mut failed: Vec<(DeadLetterId, Error)>) -> Result<()> {
    match failed.pop() {
        Some((_, error)) => Err(error),
        None => Ok(()),
    }
}

/// Publishes a letter's event to its subscriber's queue only. An `ordered` subscriber has a
/// queue per partition (its queue of the plain name is an empty marker): then the event goes
/// to its key's partition.
async fn republish(link: &Link, letter: &DeadLetter) -> Result<()> {
    letter.replayable()?;
    let queue = work_queue(&link.settings.namespace, &letter.group, &letter.subscriber);
    let key_hash = letter
        .envelope
        .subject
        .as_deref()
        .map(|subject| tidings_core::Key::Str(subject).hash64());
    let partitioned = partition_queue(&queue, partition(key_hash));
    let mut stored = Stored::Unroutable;
    for queue in [&partitioned, &queue] {
        let properties = properties(&letter.envelope, &[]);
        stored = link
            .publish_once("", queue, properties, &letter.envelope.data)
            .await?;
        if stored != Stored::Unroutable {
            break;
        }
    }
    match stored {
        Stored::Yes => Ok(()),
        Stored::Unroutable => Err(Error::SubscriberNotRunning {
            id: letter.id,
            subscriber: letter.subscriber.clone(),
        }),
        Stored::Refused => Err(link.error(format!(
            "refused the replay of dead letter {}: the queue of `{}` is full; try again once \
             it drained",
            letter.id, letter.subscriber
        ))),
    }
}

/// Takes every letter off the queue, runs `action` on each letter of `remove` and
/// acknowledges it if the action succeeded, and returns all the others to the queue.
///
/// Returns the letters seen (the removed ones included), and the ids of `remove` that were not
/// removed, with why.
async fn read(
    link: &Link,
    remove: &[DeadLetterId],
    action: impl AsyncFn(&Link, &DeadLetter) -> Result<()>,
) -> Result<(Vec<DeadLetter>, Vec<(DeadLetterId, Error)>)> {
    let queue = link.dead_letter_queue().await?;
    let _turn = link.dead_letters.lock().await;
    // A channel of its own: closing it returns whatever it still holds, even after an error.
    let channel = link.open_channel().await?;
    let result = take_all(link, &channel, &queue, remove, action).await;
    let returned = match &result {
        Ok(taken) => taken.returned,
        Err(_) => 0,
    };
    if let Err(error) = link
        .call("close a channel", channel.close(200, "read".into()))
        .await
    {
        tracing::debug!(%error, "closing the dead-letter reader's channel");
    }
    // The broker takes returned messages back asynchronously: wait until they are there, so
    // that the next read in this process sees them all.
    let deadline = Instant::now() + link.settings.timeout;
    while returned > 0 && Instant::now() < deadline {
        match link.count(&queue).await {
            Ok((ready, _)) if ready as usize >= returned => break,
            _ => tokio::time::sleep(Duration::from_millis(5)).await,
        }
    }
    result.map(|taken| (taken.letters, taken.failed))
}

struct Taken {
    letters: Vec<DeadLetter>,
    failed: Vec<(DeadLetterId, Error)>,
    /// Messages given back to the queue.
    returned: usize,
}

async fn take_all(
    link: &Link,
    channel: &Channel,
    queue: &str,
    remove: &[DeadLetterId],
    action: impl AsyncFn(&Link, &DeadLetter) -> Result<()>,
) -> Result<Taken> {
    let mut held = Vec::new();
    loop {
        let get = channel.basic_get(short(queue)?, BasicGetOptions { no_ack: false });
        match link.call(&format!("read `{queue}`"), get).await? {
            Some(message) => held.push(message.delivery),
            None => break,
        }
    }
    let letters: Vec<DeadLetter> = held.iter().map(letter_of).collect();
    // Each id removes one letter: the first with it.
    let mut wanted: HashSet<DeadLetterId> = remove.iter().copied().collect();
    let mut failed = Vec::new();
    let mut returned = 0;
    for (message, letter) in held.iter().zip(&letters) {
        if wanted.remove(&letter.id) {
            match action(link, letter).await {
                Ok(()) => {
                    let ack = message.acker.ack(BasicAckOptions::default());
                    if !link.call("remove a dead letter", ack).await? {
                        return Err(link.error(format!(
                            "lost the channel before dead letter {} was removed; it is still \
                             there",
                            letter.id
                        )));
                    }
                    continue;
                }
                Err(error) => failed.push((letter.id, error)),
            }
        }
        // Returned in the order they were taken; closing the channel would return them too.
        let nack = message.acker.nack(BasicNackOptions {
            multiple: false,
            requeue: true,
        });
        link.call("return a dead letter", nack).await?;
        returned += 1;
    }
    // Asked for and not there, in the order asked.
    failed.extend(
        remove
            .iter()
            .filter(|id| wanted.remove(id))
            .map(|id| (*id, Error::DeadLetterNotFound(*id))),
    );
    Ok(Taken {
        letters,
        failed,
        returned,
    })
}

/// A letter from its message: tidings' own, or one the broker dead-lettered.
fn letter_of(message: &Message) -> DeadLetter {
    let headers = message.properties.headers().as_ref();
    let field = |name: &str| headers.and_then(|headers| header_text(headers, name));
    let time = |name: &str| {
        field(name)
            .and_then(|text| humantime::parse_rfc3339_weak(&text).ok())
            .unwrap_or(SystemTime::UNIX_EPOCH)
    };
    let routed = message.routing_key.as_str().split_once('/');
    let event_name = field(EVENT)
        .unwrap_or_else(|| field(&format!("{}type", super::publish::PREFIX)).unwrap_or_default());
    let envelope = read_envelope(message, &event_name).unwrap_or_else(|error| {
        tidings_core::Envelope::new(event_name.clone(), message.data.clone())
            .with_header("tidings-read-error", error.to_string())
    });
    let id = field(ID)
        .and_then(|id| id.parse().ok())
        // The broker's letters: their event id is stable across reads.
        .unwrap_or_else(|| DeadLetterId::from_uuid(envelope.id.as_uuid()));
    let made_by_broker = field(ID).is_none();
    let error = field(ERROR).unwrap_or_else(|| {
        let reason = headers
            .and_then(|headers| header_text(headers, "x-first-death-reason"))
            .unwrap_or_else(|| "unknown".to_owned());
        format!(
            "the broker dead-lettered it ({reason}): it was delivered {} times without being \
             settled; did a consumer crash while handling it?",
            headers
                .and_then(|headers| header_u32(headers, "x-delivery-count"))
                .unwrap_or(0)
        )
    });
    let now_if_broker = |time: SystemTime| {
        if made_by_broker {
            death_time(message).unwrap_or(time)
        } else {
            time
        }
    };
    let mut letter = DeadLetter::new(id, envelope);
    letter.subscriber = field(SUBSCRIBER)
        .or_else(|| routed.map(|(_, subscriber)| subscriber.to_owned()))
        .unwrap_or_default();
    letter.group = field(GROUP)
        .or_else(|| routed.map(|(group, _)| group.to_owned()))
        .unwrap_or_default();
    letter.event_name = event_name;
    letter.error = error;
    letter.attempts = field(ATTEMPTS)
        .and_then(|attempts| attempts.parse().ok())
        .unwrap_or(0);
    letter.first_failed_at = now_if_broker(time(FIRST_FAILED_AT));
    letter.last_failed_at = now_if_broker(time(LAST_FAILED_AT));
    let truncated_size = field(TRUNCATED_SIZE).and_then(|size| size.parse().ok());
    if let (Some(size), Some(sha256)) = (truncated_size, field(TRUNCATED_SHA256)) {
        letter.truncated = Some(Truncated::new(size, sha256));
    }
    letter
}

/// When the broker dead-lettered a message, from its first `x-death` entry.
fn death_time(message: &Message) -> Option<SystemTime> {
    let headers = message.properties.headers().as_ref()?;
    let Some(AMQPValue::FieldArray(deaths)) = headers.inner().get("x-death") else {
        return None;
    };
    let Some(AMQPValue::FieldTable(death)) = deaths.as_slice().first() else {
        return None;
    };
    match death.inner().get("time") {
        Some(AMQPValue::Timestamp(seconds)) => {
            Some(SystemTime::UNIX_EPOCH + Duration::from_secs(*seconds))
        }
        _ => None,
    }
}
