//! The connection to the broker: opened once per URL in a process and shared by the buses that
//! name it (as instances of one service are), its channels, and a deadline on every call.

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use lapin::options::ConfirmSelectOptions;
use lapin::{Channel, Connection, ConnectionProperties};

use super::Settings;
use super::consumer::ConsumerState;
use crate::error::{Error, Result};

/// The first wait before reconnecting after the connection was lost, and the longest.
const RECONNECT_FIRST: Duration = Duration::from_millis(100);
const RECONNECT_MAX: Duration = Duration::from_secs(2);
/// Tries before lapin gives the connection up for good (about 10 minutes at `RECONNECT_MAX`).
const RECONNECT_TRIES: usize = 300;

/// Buses of this process on each broker URL.
static LINKS: Mutex<Vec<Arc<Link>>> = Mutex::new(Vec::new());

pub(crate) struct Link {
    pub(crate) settings: Settings,
    connection: Connection,
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
        probe(&settings).await?;
        // Auto-recovery reconnects and re-declares what this connection declared (exchanges,
        // queues, bindings, consumers, qos, confirm mode). lapin's default backoff waits up to
        // a minute between tries, so consumption could resume that long after the broker is
        // back; trying every 2 s at most resumes it within about 2 s, for about 10 minutes.
        let properties = ConnectionProperties::default()
            // Named after the namespace, for `rabbitmqctl list_connections client_properties`.
            .with_connection_name(format!("tidings {}", settings.namespace).into())
            .enable_auto_recover()
            .configure_backoff(|backoff| {
                backoff
                    .with_min_delay(RECONNECT_FIRST)
                    .with_max_delay(RECONNECT_MAX)
                    .with_max_times(RECONNECT_TRIES)
            });
        let connect = Connection::connect(&settings.broker_url, properties);
        let connection = match tokio::time::timeout(settings.timeout, connect).await {
            Ok(Ok(connection)) => connection,
            Ok(Err(error)) => {
                return Err(Error::Broker {
                    url: settings.shown_url.clone(),
                    problem: format!(
                        "refused the connection: {error}; check credentials and vhost, or \
                         start RabbitMQ with `rabbitmq-server -detached`"
                    ),
                });
            }
            Err(_) => {
                return Err(Error::Broker {
                    url: settings.shown_url.clone(),
                    problem: format!(
                        "did not accept a connection within {}; is RabbitMQ running there? \
                         Start it with `rabbitmq-server -detached`",
                        humantime::format_duration(settings.timeout)
                    ),
                });
            }
        };
        Ok(Link {
            settings,
            connection,
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

    /// Runs one broker call under the URL's timeout, turning failures into [`Error::Broker`]
    /// that say what was being done.
    pub(crate) async fn call<T>(
        &self,
        what: &str,
        call: impl Future<Output = lapin::Result<T>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.settings.timeout, call).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(self.error(format!("refused to {what}: {error}"))),
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
        Error::Broker {
            url: self.settings.shown_url.clone(),
            problem,
        }
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
            // A recovering channel comes back by itself; only a closed one is replaced.
            if status.connected() || status.reconnecting() {
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

    /// A channel of its own, for one consumer or one dead-letter reader.
    pub(crate) async fn open_channel(&self) -> Result<Channel> {
        self.call("open a channel", self.connection.create_channel())
            .await
    }

    /// Every consumer on this link still running.
    pub(crate) fn live_consumers(&self) -> Vec<Arc<ConsumerState>> {
        let mut consumers = self.consumers.lock().expect("consumers lock");
        consumers.retain(|consumer| consumer.strong_count() > 0);
        consumers.iter().filter_map(Weak::upgrade).collect()
    }

    async fn close(&self) {
        let closing = self.connection.close(200, "tidings bus closed".into());
        if let Err(error) = self.call("close the connection", closing).await {
            tracing::debug!(%error, "closing the AMQP connection");
        }
    }
}

/// Fails at once, saying so, when nothing listens at the broker's address: lapin would keep
/// trying to connect in the background long after `build()` gave up on it.
async fn probe(settings: &Settings) -> Result<()> {
    let unreachable = |problem: String| Error::Broker {
        url: settings.shown_url.clone(),
        problem: format!(
            "cannot be reached: {problem}; is RabbitMQ running there? Start it with \
             `rabbitmq-server -detached`, or check host and port"
        ),
    };
    let uri: lapin::uri::AMQPUri = settings
        .broker_url
        .parse()
        .map_err(|problem: String| unreachable(problem))?;
    let address = (uri.authority.host.as_str(), uri.authority.port);
    match tokio::time::timeout(settings.timeout, tokio::net::TcpStream::connect(address)).await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err(error)) => Err(unreachable(error.to_string())),
        Err(_) => Err(unreachable(format!(
            "no answer within {}",
            humantime::format_duration(settings.timeout)
        ))),
    }
}
