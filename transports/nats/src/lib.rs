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
mod existing;
#[cfg(feature = "fuzzing")]
#[doc(hidden)]
pub mod fuzzing;
mod names;
mod publish;
mod pump;
mod tail;
mod unreadable;

use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::{self, stream};

pub use consumer::NatsConsumer;

use self::backlog::Backlog;
use self::names::Names;
use tidings_core::transport::{Connect, TransportUrl};
use tidings_core::{Error, Result};

/// How long any one call to the server may take before it is reported as failed.
const CALL_TIMEOUT: Duration = Duration::from_secs(10);
/// Publishes in flight at once per bus: concurrent `publish` calls are pipelined on the one
/// connection up to this many unacknowledged, then wait for room.
const DEFAULT_WINDOW: usize = 1024;

/// A parsed `nats://` URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Config {
    /// The URL for messages: credentials hidden ([`TransportUrl`]'s `Display`).
    pub(crate) url: String,
    /// What the client connects to, without credentials: async-nats logs the server address
    /// it tries (at debug level), so credentials travel in the connect options instead.
    server: String,
    credentials: Option<Credentials>,
    namespace: String,
    max_age: Duration,
    /// Publishes sent and not yet acknowledged by the stream, at most.
    window: usize,
    /// Open the namespace's streams only if they exist ([`TransportUrl::must_exist`]).
    must_exist: bool,
}

pub(crate) fn parse(url: &TransportUrl) -> Result<Config> {
    if url.host().is_empty() {
        return Err(url.unsupported("name the server: `nats://127.0.0.1:4222`"));
    }
    let mut config = Config {
        url: url.to_string(),
        server: url.without_credentials_or_options(),
        credentials: match (url.user(), url.password()) {
            (Some(user), Some(password)) => Some(Credentials::UserAndPassword(
                user.to_owned(),
                password.to_owned(),
            )),
            (Some(token), None) => Some(Credentials::Token(token.to_owned())),
            _ => None,
        },
        namespace: "tidings".to_owned(),
        max_age: Duration::from_secs(7 * 24 * 3600),
        window: DEFAULT_WINDOW,
        must_exist: url.must_exist(),
    };
    for (name, value) in url.options() {
        match name.as_str() {
            "namespace" => {
                let valid = !value.is_empty()
                    && value
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
                if !valid {
                    return Err(url.unsupported(format!(
                        "`namespace={value}`: a namespace is made of letters, digits, `-` and \
                         `_`, like `namespace=shop`"
                    )));
                }
                config.namespace.clone_from(value);
            }
            "max_age" => {
                config.max_age = humantime::parse_duration(value).map_err(|e| {
                    url.unsupported(format!("`max_age={value}`: {e}; e.g. `max_age=7d`"))
                })?;
            }
            "window" => {
                config.window =
                    value
                        .parse()
                        .ok()
                        .filter(|window| *window > 0)
                        .ok_or_else(|| {
                            url.unsupported(format!("`window={value}`: expected a count above 0"))
                        })?;
            }
            _ => {
                return Err(url.unknown_option(
                    name,
                    "`namespace=NAME` (letters, digits, `-`, `_`), `max_age=DURATION` or \
                     `window=N`",
                ));
            }
        }
    }
    Ok(config)
}

/// `nats://USER:PASSWORD@…` or `nats://TOKEN@…`.
#[derive(Clone, PartialEq, Eq)]
enum Credentials {
    UserAndPassword(String, String),
    Token(String),
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Credentials(***)")
    }
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

/// The NATS JetStream transport; `nats://` URLs open it.
pub struct NatsTransport {
    shared: Arc<Shared>,
    /// This bus's consumers, which `wait_idle` waits for.
    consumers: std::sync::Mutex<Vec<NatsConsumer>>,
}

impl std::fmt::Debug for NatsTransport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NatsTransport").finish_non_exhaustive()
    }
}

impl Connect for NatsTransport {
    async fn connect(url: TransportUrl, capacity: usize) -> Result<Self> {
        Self::open(parse(&url)?, capacity).await
    }
}

impl NatsTransport {
    /// Connects and declares the namespace's streams.
    async fn open(config: Config, capacity: usize) -> Result<Self> {
        let client = timed(&config, "connect", async {
            let options = match config.credentials.clone() {
                Some(Credentials::UserAndPassword(user, password)) => {
                    async_nats::ConnectOptions::with_user_and_password(user, password)
                }
                Some(Credentials::Token(token)) => async_nats::ConnectOptions::with_token(token),
                None => async_nats::ConnectOptions::new(),
            };
            options
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
        let (events, dead, parked) = if config.must_exist {
            existing::streams(&config, &js, &names).await?
        } else {
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
            (events, dead, parked)
        };
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
pub(crate) async fn timed<T, E>(
    config: &Config,
    action: &'static str,
    call: impl Future<Output = std::result::Result<T, E>>,
) -> Result<T>
where
    E: Into<Box<dyn std::error::Error + Send + Sync>> + std::fmt::Display,
{
    let failed = |message: String| {
        let problem = format!(
            "failed to {action}: {message}; check that it is running and reachable from here"
        );
        Error::broker(&config.url, problem)
    };
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(error)) => Err(failed(error.to_string()).caused_by(error)),
        Err(_) => Err(failed(format!("no answer within {CALL_TIMEOUT:?}"))),
    }
}

impl tidings_core::transport::Transport for NatsTransport {
    type Consumer = NatsConsumer;

    fn capabilities(&self) -> tidings_core::transport::Capabilities {
        tidings_core::transport::Capabilities {
            scheme: "nats://",
            ordered: true,
            max_retries: None,
            max_backoff: None,
        }
    }

    async fn subscribe(
        &self,
        subscriber: &tidings_core::Subscriber,
        workers: usize,
    ) -> Result<NatsConsumer> {
        let consumer = NatsConsumer::open(Arc::clone(&self.shared), subscriber, workers).await?;
        self.consumers
            .lock()
            .expect("consumers lock")
            .push(consumer.clone());
        Ok(consumer)
    }

    async fn publish(&self, outgoing: tidings_core::transport::Outgoing<'_>) -> Result<()> {
        let shared = &self.shared;
        let filter = shared.names.filter(outgoing.event_name);
        shared.backlog.reserve(shared, &filter).await?;
        let envelope = outgoing.to_envelope()?;
        let subject = shared
            .names
            .event(outgoing.event_name, outgoing.meta.key_hash);
        publish::store(shared, subject, &envelope, &envelope.id.to_string(), &[]).await
    }

    async fn dead_letters(&self) -> Result<Vec<tidings_core::DeadLetter>> {
        let letters = dead_letters::all(&self.shared).await?;
        Ok(letters.into_iter().map(|(_, letter)| letter).collect())
    }

    async fn dead_letter(
        &self,
        id: &tidings_core::DeadLetterId,
    ) -> Result<Option<tidings_core::DeadLetter>> {
        match dead_letters::find(&self.shared, id).await {
            Ok((_, letter)) => Ok(Some(letter)),
            Err(Error::DeadLetterNotFound(_)) => Ok(None),
            Err(error) => Err(error),
        }
    }

    async fn replay(&self, id: &tidings_core::DeadLetterId) -> Result<()> {
        dead_letters::replay(&self.shared, id).await
    }

    async fn discard(&self, id: &tidings_core::DeadLetterId) -> Result<()> {
        let (sequence, _) = dead_letters::find(&self.shared, id).await?;
        dead_letters::remove(&self.shared, sequence).await
    }

    async fn replay_many(
        &self,
        ids: &[tidings_core::DeadLetterId],
    ) -> Result<Vec<(tidings_core::DeadLetterId, Error)>> {
        dead_letters::replay_many(&self.shared, ids).await
    }

    async fn discard_many(
        &self,
        ids: &[tidings_core::DeadLetterId],
    ) -> Result<Vec<(tidings_core::DeadLetterId, Error)>> {
        dead_letters::discard_many(&self.shared, ids).await
    }

    async fn tail(&self, event_name: &str) -> Result<tidings_core::Tail> {
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
