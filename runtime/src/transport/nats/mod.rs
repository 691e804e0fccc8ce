//! NATS JetStream, `nats://HOST:PORT[?namespace=NAME]` (feature `nats`).
//!
//! - One stream of events per namespace (`{ns}-events`, limits retention, file storage): every
//!   group reads every event through its own cursor, and events stay for replay until `max_age`.
//! - A durable pull consumer per subscriber, shared by every bus instance that runs it, here or
//!   in other processes: they compete for its messages.
//! - Publishes wait for the stream's acknowledgement ("stored"), with the event id as
//!   `Nats-Msg-Id` so that a publish retried after a lost acknowledgement is stored once.
//! - Handled deliveries are acknowledged with the confirmed form (`double_ack`), so a lost ack is
//!   noticed; failed attempts are `nak`ed with the backoff delay, and the server's delivery count
//!   is the attempt number; dead letters go to a stream of their own (`{ns}-dead`), acknowledged
//!   there before the original is terminated.
//! - An `ordered` subscriber parks a failing key, not its partition: the key's retry and every
//!   later event of it wait in a third stream (`{ns}-parked`, work-queue retention, file
//!   storage), one subject per key, while the partition moves on (see [`consumer`]).

mod backlog;
mod consumer;
mod dead_letters;
mod names;
mod publish;
mod pump;
mod tail;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream};

pub(crate) use consumer::NatsConsumer;

use self::backlog::Backlog;
use self::names::Names;
use crate::error::{Error, Result};

/// How long any one call to the server may take before it is reported as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Publishes in flight at once per bus: concurrent `publish` calls are pipelined on the one
/// connection up to this many unacknowledged, then wait for room.
const DEFAULT_WINDOW: usize = 1024;

/// A parsed `nats://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) url: String,
    server: String,
    namespace: String,
    max_age: Duration,
    /// Publishes sent and not yet acknowledged by the stream, at most.
    window: usize,
}

pub(crate) fn parse(url: &str) -> Result<Config> {
    let rest = url.strip_prefix("nats://").expect("a nats:// URL");
    let (server, query) = rest.split_once('?').unwrap_or((rest, ""));
    let bad = |hint: String| Error::UnsupportedUrl {
        url: url.to_owned(),
        hint,
    };
    if server.is_empty() {
        return Err(bad("name the server: `nats://127.0.0.1:4222`".to_owned()));
    }
    let mut config = Config {
        url: url.to_owned(),
        server: format!("nats://{server}"),
        namespace: "tidings".to_owned(),
        max_age: Duration::from_secs(7 * 24 * 3600),
        window: DEFAULT_WINDOW,
    };
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        match pair.split_once('=') {
            Some(("namespace", name))
                if !name.is_empty()
                    && name
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') =>
            {
                config.namespace = name.to_owned();
            }
            Some(("max_age", age)) => {
                config.max_age = humantime::parse_duration(age)
                    .map_err(|e| bad(format!("`max_age={age}`: {e}; e.g. `max_age=7d`")))?;
            }
            Some(("window", window)) => {
                config.window = window
                    .parse()
                    .ok()
                    .filter(|window| *window > 0)
                    .ok_or_else(|| bad(format!("`window={window}`: expected a count above 0")))?;
            }
            _ => {
                return Err(bad(format!(
                    "unknown option `{pair}`; expected `namespace=NAME` (letters, digits, `-`, \
                     `_`), `max_age=DURATION` or `window=N`"
                )));
            }
        }
    }
    Ok(config)
}

/// What every consumer and publish of one bus shares.
pub(crate) struct Shared {
    config: Config,
    names: Names,
    client: async_nats::Client,
    js: jetstream::Context,
    events: stream::Stream,
    dead: stream::Stream,
    /// Parked keys of `ordered` subscribers: a message leaves it once acknowledged.
    parked: stream::Stream,
    backlog: Backlog,
    /// Room for publishes awaiting the stream's acknowledgement (`window=N`).
    in_flight: tokio::sync::Semaphore,
}

pub(crate) struct NatsTransport {
    shared: Arc<Shared>,
    /// This bus's consumers, which `wait_idle` waits for.
    consumers: std::sync::Mutex<Vec<NatsConsumer>>,
}

impl NatsTransport {
    /// Connects and declares the namespace's streams.
    pub(crate) async fn connect(config: Config, capacity: usize) -> Result<Self> {
        let client = timed(&config, "connect", async {
            async_nats::ConnectOptions::new()
                .name("tidings")
                .connection_timeout(Duration::from_secs(5))
                .connect(&config.server)
                .await
        })
        .await?;
        let js = jetstream::new(client.clone());
        let names = Names::new(config.namespace.clone());
        let declare = |name: String, subjects: String| stream::Config {
            name,
            subjects: vec![subjects],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            duplicate_window: Duration::from_secs(120),
            max_age: config.max_age,
            ..Default::default()
        };
        let events = timed(
            &config,
            "declare the events stream",
            js.get_or_create_stream(declare(names.events_stream(), names.all_events())),
        )
        .await?;
        let dead = timed(
            &config,
            "declare the dead-letter stream",
            js.get_or_create_stream(declare(names.dead_stream(), names.all_dead())),
        )
        .await?;
        let parked = timed(
            &config,
            "declare the parked stream",
            js.get_or_create_stream(stream::Config {
                retention: stream::RetentionPolicy::WorkQueue,
                ..declare(names.parked_stream(), names.all_parked())
            }),
        )
        .await?;
        Ok(NatsTransport {
            shared: Arc::new(Shared {
                backlog: Backlog::new(capacity),
                in_flight: tokio::sync::Semaphore::new(config.window),
                config,
                names,
                client,
                js,
                events,
                dead,
                parked,
            }),
            consumers: std::sync::Mutex::default(),
        })
    }
}

/// Runs one call to the server under [`CALL_TIMEOUT`], turning its failure into a clear error.
pub(crate) async fn timed<T, E: std::fmt::Display>(
    config: &Config,
    action: &'static str,
    call: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T> {
    let failed = |message: String| Error::Broker {
        url: config.url.clone(),
        problem: format!(
            "failed to {action}: {message}; check that it is running and reachable from here"
        ),
    };
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(failed(error.to_string())),
        Err(_) => Err(failed(format!("no answer within {CALL_TIMEOUT:?}"))),
    }
}

impl crate::transport::Transport for NatsTransport {
    type Consumer = NatsConsumer;

    fn capabilities(&self) -> crate::transport::Capabilities {
        crate::transport::Capabilities {
            scheme: "nats://",
            ordered: true,
            max_retries: None,
            max_backoff: None,
        }
    }

    async fn subscribe(
        &self,
        subscriber: &crate::subscriber::Subscriber,
        workers: usize,
    ) -> Result<NatsConsumer> {
        let consumer = NatsConsumer::open(Arc::clone(&self.shared), subscriber, workers).await?;
        self.consumers
            .lock()
            .expect("consumers lock")
            .push(consumer.clone());
        Ok(consumer)
    }

    async fn publish(&self, outgoing: crate::transport::Outgoing<'_>) -> Result<()> {
        let shared = &self.shared;
        let filter = shared.names.filter(outgoing.event_name);
        shared.backlog.reserve(shared, &filter).await?;
        let envelope = outgoing.to_envelope()?;
        let subject = shared
            .names
            .event(outgoing.event_name, outgoing.meta.key_hash);
        publish::store(shared, subject, &envelope, &envelope.id.to_string(), &[]).await
    }

    async fn dead_letters(&self) -> Result<Vec<crate::DeadLetter>> {
        let letters = dead_letters::all(&self.shared).await?;
        Ok(letters.into_iter().map(|(_, letter)| letter).collect())
    }

    async fn dead_letter(&self, id: &crate::DeadLetterId) -> Result<Option<crate::DeadLetter>> {
        match dead_letters::find(&self.shared, id).await {
            Ok((_, letter)) => Ok(Some(letter)),
            Err(Error::DeadLetterNotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn replay(&self, id: &crate::DeadLetterId) -> Result<()> {
        dead_letters::replay(&self.shared, id).await
    }

    async fn discard(&self, id: &crate::DeadLetterId) -> Result<()> {
        let (sequence, _) = dead_letters::find(&self.shared, id).await?;
        dead_letters::remove(&self.shared, sequence).await
    }

    async fn tail(&self, event_name: &str) -> Result<crate::Tail> {
        tail::open(&self.shared, event_name).await
    }

    async fn wait_idle(&self) {
        let consumers = self.consumers.lock().expect("consumers lock").clone();
        let names: Vec<String> = consumers
            .iter()
            .flat_map(NatsConsumer::names)
            .map(str::to_owned)
            .collect();
        let nothing_in_hand = || consumers.iter().all(NatsConsumer::nothing_in_hand);
        backlog::wait_until_done(&self.shared, &names, nothing_in_hand).await;
    }

    /// Stops pulling; what the bus's groups still have unfinished stays on the server for
    /// other instances, or this one's next start, and is reported.
    async fn close(&self, consumers: &[NatsConsumer]) -> Result<usize> {
        for consumer in consumers {
            consumer.stop().await;
        }
        if let Err(error) = self.shared.client.flush().await {
            tracing::warn!(%error, "could not flush the NATS connection on close");
        }
        let names: Vec<String> = consumers
            .iter()
            .flat_map(NatsConsumer::names)
            .map(str::to_owned)
            .collect();
        let unfinished = self.shared.backlog.unfinished(&self.shared, &names).await?;
        Ok(usize::try_from(unfinished).unwrap_or(usize::MAX))
    }
}
