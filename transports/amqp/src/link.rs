//! The connection to the broker: opened once per URL in a process and shared by the buses that
//! name it (as instances of one service are), its channels, and a deadline on every call.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};

use super::Settings;
use super::consumer::ConsumerState;
use tidings_core::{Error, Result};

/// How often the watchdog looks at the connection, and tries to connect again once it is lost.
const WATCH_EVERY: Duration = Duration::from_millis(250);

/// Buses of this process on each broker URL.
static LINKS: Mutex<Vec<Arc<Link>>> = Mutex::new(Vec::new());

pub(crate) struct Link {
    pub(crate) settings: Settings,
    /// Replaced by [`watch`] when lapin's own recovery gave the connection up.
    connection: Mutex<Arc<Connection>>,
    /// How many times the connection was replaced: consumers subscribed on an older one
    /// subscribe again, and publishes that lost theirs wait for the next.
    generation: tokio::sync::watch::Sender<u64>,
    /// Set by `close`, so that the watchdog does not bring a closed link back.
    closed: AtomicBool,
    /// Declares and passive declares (counts): a refused declare closes its channel, and must
    /// not take publishes down with it.
    topology: Slot,
    /// Publishes, in confirm mode: `publish` returns once the broker stored the event.
    publishing: Slot,
    /// Exchanges and queues this link declared, so that each is declared once.
    pub(crate) declared: Mutex<HashSet<String>>,
    /// The delay queues this link declared (their names), counted by `wait_idle`.
    pub(crate) delay_queues: Mutex<Vec<String>>,
    /// Every subscriber consuming through this link, whichever bus runs it.
    pub(crate) consumers: Mutex<Vec<Weak<ConsumerState>>>,
    /// Reading the dead letters takes them all off their queue for a moment: one reader at a
    /// time in this process, so that a reader never misses what another holds.
    pub(crate) dead_letters: tokio::sync::Mutex<()>,
    /// Buses using this link; changed under `LINKS`'s lock.
    buses: Mutex<usize>,
}

/// A channel, reopened when the broker closed it over a refused operation.
#[derive(Default)]
struct Slot {
    channel: Mutex<Option<Channel>>,
    confirms: bool,
}

/// Opens (or joins) the link for `settings`.
pub(crate) async fn open(settings: Settings) -> Result<Arc<Link>> {
    if let Some(link) = join(&settings) {
        return Ok(link);
    }
    let link = Arc::new(Link::connect(settings).await?);
    // Another bus may have connected meanwhile: keep one link per URL.
    if let Some(existing) = join(&link.settings) {
        link.close().await;
        return Ok(existing);
    }
    LINKS.lock().expect("links lock").push(Arc::clone(&link));
    tokio::spawn(watch(Arc::downgrade(&link)));
    Ok(link)
}

fn join(settings: &Settings) -> Option<Arc<Link>> {
    let links = LINKS.lock().expect("links lock");
    let link = links.iter().find(|link| link.settings == *settings)?;
    *link.buses.lock().expect("buses lock") += 1;
    Some(Arc::clone(link))
}

/// A bus leaves `link`; returns whether it was the last one (the link is then closed).
pub(crate) async fn release(link: &Arc<Link>) {
    let last = {
        let mut links = LINKS.lock().expect("links lock");
        let mut buses = link.buses.lock().expect("buses lock");
        *buses -= 1;
        if *buses == 0 {
            links.retain(|other| !Arc::ptr_eq(other, link));
        }
        *buses == 0
    };
    if last {
        link.close().await;
    }
}

impl Link {
    async fn connect(settings: Settings) -> Result<Link> {
        let connection = dial(&settings).await?;
        Ok(Link {
            settings,
            connection: Mutex::new(Arc::new(connection)),
            generation: tokio::sync::watch::Sender::new(0),
            closed: AtomicBool::new(false),
            topology: Slot::default(),
            publishing: Slot {
                confirms: true,
                ..Slot::default()
            },
            declared: Mutex::default(),
            delay_queues: Mutex::default(),
            consumers: Mutex::default(),
            dead_letters: tokio::sync::Mutex::new(()),
            buses: Mutex::new(1),
        })
    }

    fn connection(&self) -> Arc<Connection> {
        Arc::clone(&self.connection.lock().expect("connection lock"))
    }

    /// Whether the connection is gone, and the watchdog is to connect anew.
    pub(crate) fn connection_lost(&self) -> bool {
        let connection = self.connection();
        let status = connection.status();
        status.errored() || status.closed()
    }

    /// How many times the connection was replaced.
    pub(crate) fn generation(&self) -> u64 {
        *self.generation.borrow()
    }

    /// Waits until the connection was replaced since `generation`, for at most the timeout.
    pub(crate) async fn reconnected(&self, generation: u64, what: &str) -> Result<()> {
        let mut changes = self.generation.subscribe();
        let replaced = changes.wait_for(|current| *current > generation);
        match tokio::time::timeout(self.settings.timeout, replaced).await {
            Ok(Ok(_)) => Ok(()),
            _ => Err(self.error(format!(
                "lost the connection while asked to {what}, and did not take a new one within \
                 {}; check that it is up, or raise `timeout=` in the URL",
                humantime::format_duration(self.settings.timeout)
            ))),
        }
    }

    /// Connects again after the connection was lost: what was declared is declared again as
    /// it is next used, and consumers subscribe again.
    async fn relink(&self) -> Result<()> {
        let connection = dial(&self.settings).await?;
        *self.connection.lock().expect("connection lock") = Arc::new(connection);
        self.declared.lock().expect("declared lock").clear();
        for slot in [&self.topology, &self.publishing] {
            *slot.channel.lock().expect("channel lock") = None;
        }
        self.generation.send_modify(|generation| *generation += 1);
        Ok(())
    }
}

/// Keeps the link connected. lapin's own auto-recovery is not used: under a broker restart it
/// was seen to stay "reconnecting" for good. Instead a lost connection is replaced here, as
/// soon as the broker accepts one, and every consumer subscribes again on the new one (what
/// the old one held unacknowledged is redelivered: at-least-once).
async fn watch(link: Weak<Link>) {
    let mut lost_since: Option<std::time::Instant> = None;
    loop {
        tokio::time::sleep(WATCH_EVERY).await;
        let Some(link) = link.upgrade() else { return };
        if link.closed.load(Ordering::SeqCst) {
            return;
        }
        let status = link.connection().status().clone();
        if status.errored() || status.closed() {
            let since = *lost_since.get_or_insert_with(std::time::Instant::now);
            match link.relink().await {
                Ok(()) => {
                    tracing::warn!(
                        url = link.settings.shown_url,
                        "connected to the broker again after {:.1}s",
                        since.elapsed().as_secs_f64()
                    );
                    lost_since = None;
                }
                Err(error) => {
                    tracing::debug!(%error, "the broker does not take a connection yet");
                    continue;
                }
            }
        }
        let generation = link.generation();
        for consumer in link.live_consumers() {
            if consumer.needs_subscribe(generation)
                && let Err(error) = consumer.subscribe().await
            {
                tracing::warn!(%error, "subscribing again after a new connection or channel");
            }
        }
    }
}

/// A new connection to the broker.
async fn dial(settings: &Settings) -> Result<Connection> {
    probe(settings).await?;
    let properties = ConnectionProperties::default()
        // Named after the namespace, for `rabbitmqctl list_connections client_properties`.
        .with_connection_name(format!("tidings {}", settings.namespace).into());
    let connect = Connection::connect(&settings.broker_url, properties);
    let connection = match tokio::time::timeout(settings.timeout, connect).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(error)) => {
            let problem = format!(
                "refused the connection: {error}; check credentials and vhost, or start \
                 RabbitMQ with `rabbitmq-server -detached`"
            );
            return Err(Error::broker(&settings.shown_url, problem).caused_by(error));
        }
        Err(_) => {
            let problem = format!(
                "did not accept a connection within {}; is RabbitMQ running there? Start it \
                 with `rabbitmq-server -detached`",
                humantime::format_duration(settings.timeout)
            );
            return Err(Error::broker(&settings.shown_url, problem));
        }
    };
    Ok(connection)
}

impl Link {
    /// Runs one broker call under the URL's timeout, turning failures into [`Error::Broker`]
    /// that say what was being done.
    pub(crate) async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = lapin::Result<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.settings.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self
                .error(format!("refused to {what}: {error}"))
                .caused_by(error)),
            Err(_) => Err(self.timed_out(what)),
        }
    }

    pub(crate) fn timed_out(&self, what: &str) -> Error {
        self.error(format!(
            "did not answer within {} while asked to {what}; check that it is up and not \
             overloaded, or raise `timeout=` in the URL",
            humantime::format_duration(self.settings.timeout)
        ))
    }

    pub(crate) fn error(&self, problem: String) -> Error {
        Error::broker(&self.settings.shown_url, problem)
    }

    /// The channel for declares and counts.
    pub(crate) async fn topology(&self) -> Result<Channel> {
        self.channel(&self.topology).await
    }

    /// The channel for publishes, in confirm mode.
    pub(crate) async fn publishing(&self) -> Result<Channel> {
        self.channel(&self.publishing).await
    }

    async fn channel(&self, slot: &Slot) -> Result<Channel> {
        if let Some(channel) = slot.channel.lock().expect("channel lock").as_ref() {
            let status = channel.status();
            if status.connected() {
                return Ok(channel.clone());
            }
        }
        let channel = self.open_channel().await?;
        if slot.confirms {
            self.call(
                "enable publisher confirms",
                channel.confirm_select(ConfirmSelectOptions::default()),
            )
            .await?;
        }
        *slot.channel.lock().expect("channel lock") = Some(channel.clone());
        Ok(channel)
    }

    /// A channel of its own, for one consumer or one dead-letter reader. While the connection
    /// is lost, waits (up to the timeout) for the watchdog to connect anew.
    pub(crate) async fn open_channel(&self) -> Result<Channel> {
        let generation = self.generation();
        if self.connection_lost() {
            self.reconnected(generation, "open a channel").await?;
        }
        let connection = self.connection();
        self.call("open a channel", connection.create_channel())
            .await
    }

    /// Every consumer on this link still running.
    pub(crate) fn live_consumers(&self) -> Vec<Arc<ConsumerState>> {
        let mut consumers = self.consumers.lock().expect("consumers lock");
        consumers.retain(|consumer| consumer.strong_count() > 0);
        consumers.iter().filter_map(Weak::upgrade).collect()
    }

    async fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        let connection = self.connection();
        let closing = connection.close(200, "tidings bus closed".into());
        if let Err(error) = self.call("close the connection", closing).await {
            tracing::debug!(%error, "closing the AMQP connection");
        }
    }
}

/// Fails at once, saying so, when nothing listens at the broker's address: lapin would keep
/// trying to connect in the background long after `build()` gave up on it.
async fn probe(settings: &Settings) -> Result<()> {
    let unreachable = |problem: String| {
        let problem = format!(
            "cannot be reached: {problem}; is RabbitMQ running there? Start it with \
             `rabbitmq-server -detached`, or check host and port"
        );
        Error::broker(&settings.shown_url, problem)
    };
    let uri: lapin::uri::AMQPUri = settings
        .broker_url
        .parse()
        .map_err(|problem: String| unreachable(problem))?;
    let address = (uri.authority.host.as_str(), uri.authority.port);
    match tokio::time::timeout(settings.timeout, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(unreachable(error.to_string()).caused_by(error)),
        Err(_) => Err(unreachable(format!(
            "no answer within {}",
            humantime::format_duration(settings.timeout)
        ))),
    }
}
