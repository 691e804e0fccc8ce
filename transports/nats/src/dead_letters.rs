//! Dead letters on NATS: one message per letter in the namespace's dead-letter stream, its
//! body the stored letter and its id as JSON (the error may span lines, which headers cannot carry).

use std::collections::HashMap;

use async_nats::jetstream::stream::RawMessageErrorKind;
use serde::{Deserialize, Serialize};

use super::publish::{self, REPLAY_FOR};
use super::{Shared, timed};
use tidings_core::transport::wire::StoredLetter;
use tidings_core::{DeadLetter, DeadLetterId};
use tidings_core::{Error, Result};

/// The message body: the stored letter with its id.
#[derive(Serialize, Deserialize)]
struct Letter {
    id: DeadLetterId,
    #[serde(flatten)]
    letter: StoredLetter,
}

/// Room left in a message for its headers (`Nats-Msg-Id`) and the protocol's own.
const HEADER_ROOM: usize = 1024;

fn encode(letter: &DeadLetter) -> serde_json::Result<Vec<u8>> {
    serde_json::to_vec(&Letter {
        id: letter.id,
        letter: StoredLetter::from(letter),
    })
}

/// Stores a dead letter; returns once the stream has it. One larger than the server takes
/// (`max_payload`, 1 MB by default) is stored with its payload truncated ([`DeadLetter::fit`]).
pub(crate) async fn keep(shared: &Shared, consumer: &str, letter: &DeadLetter) -> Result<()> {
    let limit = shared
        .client
        .server_info()
        .max_payload
        .saturating_sub(HEADER_ROOM);
    let mut letter = letter.clone();
    let size = |letter: &DeadLetter| encode(letter).map_or(usize::MAX, |body| body.len());
    if !letter.fit(limit, size) {
        return Err(Error::broker(
            &shared.config.url,
            format!(
                "cannot hold dead letter {} even with its payload cut to nothing",
                letter.id
            ),
        ));
    }
    if let Some(truncated) = &letter.truncated {
        tracing::warn!(id = %letter.id, %truncated, "a dead letter too large for the server keeps part of its payload");
    }
    let body = encode(&letter).map_err(|error| {
        Error::broker(
            &shared.config.url,
            format!("cannot encode a dead letter: {error}"),
        )
    })?;
    let mut headers = async_nats::HeaderMap::new();
    headers.insert(
        async_nats::header::NATS_MESSAGE_ID,
        letter.id.to_string().as_str(),
    );
    let ack = timed(
        &shared.config,
        "store a dead letter",
        shared
            .js
            .publish_with_headers(shared.names.dead(consumer), headers, body.into()),
    )
    .await?;
    timed(&shared.config, "confirm a dead letter", ack.into_future()).await?;
    Ok(())
}

/// Every dead letter with its place in the stream, oldest first.
pub(crate) async fn all(shared: &Shared) -> Result<Vec<(u64, DeadLetter)>> {
    let mut letters = Vec::new();
    let mut next = 1;
    loop {
        let found = tokio::time::timeout(
            super::CALL_TIMEOUT,
            shared
                .dead
                .get_first_raw_message_by_subject(shared.names.all_dead(), next),
        )
        .await;
        let message = match found {
            Ok(Ok(message)) => message,
            Ok(Err(error)) if error.kind() == RawMessageErrorKind::NoMessageFound => break,
            Ok(Err(error)) => return Err(failed(shared, error.to_string())),
            Err(_) => return Err(failed(shared, "no answer".to_owned())),
        };
        next = message.sequence + 1;
        match read(&message.payload) {
            Ok(letter) => letters.push((message.sequence, letter)),
            Err(error) => tracing::error!(
                sequence = message.sequence, %error,
                "a message in the dead-letter stream is not a dead letter; it stays there"
            ),
        }
    }
    Ok(letters)
}

fn read(body: &[u8]) -> std::result::Result<DeadLetter, String> {
    let Letter { id, letter } = serde_json::from_slice(body).map_err(|e| e.to_string())?;
    letter.into_dead_letter(id).map_err(|e| e.to_string())
}

pub(crate) async fn find(shared: &Shared, id: &DeadLetterId) -> Result<(u64, DeadLetter)> {
    all(shared)
        .await?
        .into_iter()
        .find(|(_, letter)| letter.id == *id)
        .ok_or(Error::DeadLetterNotFound(*id))
}

/// Publishes the letter's event again, marked for its subscriber only, then removes the letter.
pub(crate) async fn replay(shared: &Shared, id: &DeadLetterId) -> Result<()> {
    let (sequence, letter) = find(shared, id).await?;
    republish(shared, sequence, &letter).await
}

/// [`replay`]s each of `ids` after one read of the stream: looking each up on its own reads
/// every letter each time, which made `dlq replay --all` quadratic.
pub(crate) async fn replay_many(
    shared: &Shared,
    ids: &[DeadLetterId],
) -> Result<Vec<(DeadLetterId, Error)>> {
    let (found, mut failed) = find_many(shared, ids).await?;
    for (sequence, letter) in found {
        if let Err(error) = republish(shared, sequence, &letter).await {
            failed.push((letter.id, error));
        }
    }
    Ok(failed)
}

/// Discards each of `ids` after one read of the stream.
pub(crate) async fn discard_many(
    shared: &Shared,
    ids: &[DeadLetterId],
) -> Result<Vec<(DeadLetterId, Error)>> {
    let (found, mut failed) = find_many(shared, ids).await?;
    for (sequence, letter) in found {
        if let Err(error) = remove(shared, sequence).await {
            failed.push((letter.id, error));
        }
    }
    Ok(failed)
}

/// The letters of `ids` with their places, in the order asked, and the ids not there.
async fn find_many(shared: &Shared, ids: &[DeadLetterId]) -> Result<Found> {
    let mut by_id: HashMap<DeadLetterId, (u64, DeadLetter)> = all(shared)
        .await?
        .into_iter()
        .map(|(sequence, letter)| (letter.id, (sequence, letter)))
        .collect();
    let mut found = Vec::with_capacity(ids.len());
    let mut missing = Vec::new();
    for id in ids {
        match by_id.remove(id) {
            Some(letter) => found.push(letter),
            None => missing.push((*id, Error::DeadLetterNotFound(*id))),
        }
    }
    Ok((found, missing))
}

type Found = (Vec<(u64, DeadLetter)>, Vec<(DeadLetterId, Error)>);

async fn republish(shared: &Shared, sequence: u64, letter: &DeadLetter) -> Result<()> {
    letter.replayable()?;
    let id = letter.id;
    let key_hash = letter
        .envelope
        .subject
        .as_deref()
        .map(|subject| tidings_core::Key::Str(subject).hash64());
    let subject = shared.names.event(&letter.event_name, key_hash);
    let message_id = format!("replay-{id}");
    let extra = [(REPLAY_FOR, letter.subscriber.as_str())];
    publish::store(shared, subject, &letter.envelope, &message_id, &extra).await?;
    remove(shared, sequence).await
}

pub(crate) async fn remove(shared: &Shared, sequence: u64) -> Result<()> {
    timed(
        &shared.config,
        "remove a dead letter",
        shared.dead.delete_message(sequence),
    )
    .await?;
    Ok(())
}

fn failed(shared: &Shared, message: String) -> Error {
    Error::broker(
        &shared.config.url,
        format!("failed to read the dead letters: {message}"),
    )
}
