//! [`TestBusBuilder`]: a [`BusBuilder`] that starts on virtual time, runs only the subscribers it
//! names, and records everything.

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::{TestBus, clock};
use crate::builder::BusBuilder;
use crate::error::{Error, Result};
use crate::recorder::Recorder;
use crate::subscriber::Subscriber;

/// Configures a [`TestBus`]; see [`TestBus::builder`]. The methods are [`BusBuilder`]'s, except
/// that registration is manual unless [`automatic`](Self::automatic) is called.
#[must_use = "call `.build().await` to start the test bus"]
#[derive(Debug)]
pub struct TestBusBuilder {
    bus: BusBuilder,
    automatic: bool,
}

impl TestBusBuilder {
    pub(super) fn new() -> Self {
        TestBusBuilder {
            bus: BusBuilder::default(),
            automatic: false,
        }
    }

    /// The transport: `memory://` (the default) or `file://PATH`. Brokers are refused at
    /// `build()`: they time retries on their own clock, which virtual time cannot move.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.bus = self.bus.url(url);
        self
    }

    /// A value handlers receive as `State<T>`; see [`BusBuilder::state`].
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.bus = self.bus.state(value);
        self
    }

    /// Runs this subscriber (a closure, or one built by hand); see [`BusBuilder::subscribe`].
    pub fn subscribe(mut self, subscriber: Subscriber) -> Self {
        self.bus = self.bus.subscribe(subscriber);
        self
    }

    /// Runs the `#[subscriber]` called `name`; see [`BusBuilder::subscribe_registered`].
    pub fn subscribe_registered(mut self, name: impl Into<String>) -> Self {
        self.bus = self.bus.subscribe_registered(name);
        self
    }

    /// Runs every registered `#[subscriber]` too, as [`Bus::builder`](crate::Bus::builder) does
    /// by default. Without it a test bus runs only the subscribers it names, so a unit test is
    /// not disturbed by every other handler linked into the test binary.
    pub fn automatic(mut self) -> Self {
        self.automatic = true;
        self
    }

    /// Runs only the subscribers of these groups; see [`BusBuilder::groups`].
    pub fn groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.bus = self.bus.groups(groups);
        self
    }

    /// How many unfinished deliveries one subscriber holds before `publish` waits; see
    /// [`BusBuilder::queue_capacity`].
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.bus = self.bus.queue_capacity(capacity);
        self
    }

    /// How long `shutdown()` waits for accepted work, in virtual time; see
    /// [`BusBuilder::shutdown_timeout`].
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.bus = self.bus.shutdown_timeout(timeout);
        self
    }

    /// Pauses the runtime's clock and starts the bus.
    ///
    /// Fails, besides for what [`BusBuilder::build`] refuses, on a multi-threaded runtime (tokio
    /// pauses time only on a current-thread one: use `#[tokio::test]`) and for a broker URL.
    pub async fn build(self) -> Result<TestBus> {
        check_local(self.bus.url_or_default())?;
        clock::start().await?;
        let recorder = Arc::new(Recorder::default());
        let builder = if self.automatic {
            self.bus
        } else {
            self.bus.manual()
        };
        let bus = builder.under_test(Arc::clone(&recorder)).build().await?;
        Ok(TestBus {
            bus,
            recorder,
            started: Instant::now(),
        })
    }
}

/// Refuses broker URLs, whose retries virtual time cannot reach. (A malformed local URL is left
/// to `BusBuilder::build`, which says what is wrong with it.)
fn check_local(url: &str) -> Result<()> {
    let scheme = url.split_once("://").map_or(url, |(scheme, _)| scheme);
    if matches!(scheme, "memory" | "file") {
        return Ok(());
    }
    Err(Error::UnsupportedUrl {
        url: url.to_owned(),
        hint: "a TestBus runs on `memory://` or `file://PATH`: a broker times retries on its own \
               clock, which virtual time cannot move; test against a broker with `Bus::builder()` \
               instead"
            .to_owned(),
    })
}
