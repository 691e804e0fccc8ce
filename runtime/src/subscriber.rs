//! [`Subscriber`]: a handler plus its name, group and delivery options.

use std::fmt;
use std::marker::PhantomData;
use std::panic::Location;
use std::sync::Arc;
use std::time::Duration;

use crate::event::Event;
use crate::handler::Handler;
use crate::options::{Backoff, Options, Rate};
use crate::state::StateRequirement;
use crate::transport::AnyConsumer;
use crate::worker::{self, Running};

/// A handler with its delivery options, ready to be given to
/// [`BusBuilder::subscribe`](crate::BusBuilder::subscribe).
///
/// `#[subscriber]` builds one of these for every annotated function; build one by hand for
/// closures and tests:
///
/// ```
/// use std::sync::Arc;
/// use std::time::Duration;
/// # use serde::{Deserialize, Serialize};
/// use tidings::{Context, Event, Subscriber};
/// # #[derive(Debug, Clone, Serialize, Deserialize, Event)]
/// # struct OrderPlaced { order_id: u64 }
///
/// let audit = Subscriber::new("audit", |order: Arc<OrderPlaced>, ctx: Context| async move {
///     println!("order {} (attempt {})", order.order_id, ctx.attempt());
/// })
/// .retries(5)
/// .timeout(Duration::from_secs(1));
/// ```
#[derive(Clone)]
pub struct Subscriber {
    pub(crate) name: Arc<str>,
    pub(crate) options: Options,
    pub(crate) location: Site,
    pub(crate) handler: Arc<dyn ErasedHandler>,
    pub(crate) store_failures: crate::transport::DeadLetterStoreFailures,
}

/// Where a subscriber was declared, for error messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Site {
    pub(crate) file: &'static str,
    pub(crate) line: u32,
}

impl fmt::Display for Site {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

impl Subscriber {
    /// A subscriber named `name` running `handler` with the default options.
    #[track_caller]
    pub fn new<H: Handler<Args>, Args: 'static>(name: impl Into<String>, handler: H) -> Self {
        let caller = Location::caller();
        Self::at(
            name.into(),
            Site {
                file: caller.file(),
                line: caller.line(),
            },
            handler,
        )
    }

    fn at<H: Handler<Args>, Args: 'static>(name: String, location: Site, handler: H) -> Self {
        Subscriber {
            name: name.into(),
            options: Options::default(),
            location,
            handler: Arc::new(Typed {
                handler,
                args: PhantomData,
            }),
            store_failures: Default::default(),
        }
    }

    /// Where its transport counts the dead letters it failed to store (shown in its stats).
    pub fn dead_letter_store_failures(&self) -> crate::transport::DeadLetterStoreFailures {
        self.store_failures.clone()
    }

    #[doc(hidden)]
    pub fn __from_macro<H: Handler<Args>, Args: 'static>(
        name: &'static str,
        file: &'static str,
        line: u32,
        handler: H,
    ) -> Self {
        Self::at(name.to_owned(), Site { file, line }, handler)
    }

    /// The group whose instances share this subscriber's work (default: the subscriber's name).
    pub fn group(mut self, group: impl Into<String>) -> Self {
        self.options.group = Some(group.into().into());
        self
    }

    /// How many times a failed attempt is retried (default 3).
    pub fn retries(mut self, retries: u32) -> Self {
        self.options.retries = retries;
        self
    }

    /// The delay before each retry (default `exponential(100ms, 10s)` with jitter).
    pub fn backoff(mut self, backoff: Backoff) -> Self {
        self.options.backoff = backoff;
        self
    }

    /// The deadline of one attempt (default 30s); a timed-out attempt is a failed attempt.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.options.timeout = timeout;
        self
    }

    /// How many attempts may run at once (default 8).
    pub fn concurrency(mut self, concurrency: u32) -> Self {
        self.options.concurrency = concurrency;
        self
    }

    /// Handles events with the same key strictly in publish order; a failing key waits for its
    /// retries while other keys flow.
    pub fn ordered(mut self) -> Self {
        self.options.ordered = true;
        self
    }

    /// Caps how many attempts start per period.
    pub fn rate(mut self, rate: Rate) -> Self {
        self.options.rate = Some(rate);
        self
    }

    /// The subscriber's name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The subscriber's group.
    pub fn group_name(&self) -> &str {
        self.options.group.as_deref().unwrap_or(&self.name)
    }

    /// The name of the event it handles.
    pub fn event_name(&self) -> &'static str {
        self.handler.event_name()
    }

    /// Whether `other` is this subscriber, or another instance of the same declaration.
    /// Whether it is `ordered`: same-key events strictly in publish order.
    pub fn is_ordered(&self) -> bool {
        self.options.ordered
    }

    /// Retries after the first attempt before it dead-letters an event.
    pub fn retry_limit(&self) -> u32 {
        self.options.retries
    }

    /// The deadline of one attempt.
    pub fn attempt_timeout(&self) -> Duration {
        self.options.timeout
    }

    pub(crate) fn is_same(&self, other: &Subscriber) -> bool {
        self.name == other.name && self.location == other.location
    }
}

impl fmt::Debug for Subscriber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscriber")
            .field("name", &self.name)
            .field("event", &self.handler.event_name())
            .field("options", &self.options)
            .field("location", &self.location)
            .finish()
    }
}

/// A subscriber registered by `#[subscriber]`, collected by `inventory` at start-up.
#[doc(hidden)]
#[derive(Debug)]
pub struct Registration {
    pub make: fn() -> Subscriber,
}

inventory::collect!(Registration);

/// Every subscriber linked into the binary.
pub(crate) fn registered() -> impl Iterator<Item = Subscriber> {
    inventory::iter::<Registration>
        .into_iter()
        .map(|registration| (registration.make)())
}

/// A handler with its event type erased, so subscribers of different events share one list.
pub(crate) trait ErasedHandler: Send + Sync + 'static {
    fn event_name(&self) -> &'static str;
    fn event_version(&self) -> u32;
    fn event_type(&self) -> std::any::TypeId;
    fn event_type_name(&self) -> &'static str;
    fn requirements(&self) -> Vec<StateRequirement>;
    /// Starts one worker loop, monomorphised for the handler so the hot path never boxes.
    fn spawn_worker(
        self: Arc<Self>,
        consumer: AnyConsumer,
        running: Arc<Running>,
        bus: crate::Bus,
        worker: usize,
    ) -> tokio::task::JoinHandle<()>;
}

pub(crate) struct Typed<H, Args> {
    handler: H,
    // `fn() -> Args` keeps `Typed` Send + Sync whatever the argument types are.
    args: PhantomData<fn() -> Args>,
}

impl<H: Handler<Args>, Args: 'static> ErasedHandler for Typed<H, Args> {
    fn event_name(&self) -> &'static str {
        <H::Event as Event>::NAME
    }

    fn event_version(&self) -> u32 {
        <H::Event as Event>::VERSION
    }

    fn event_type(&self) -> std::any::TypeId {
        std::any::TypeId::of::<H::Event>()
    }

    fn event_type_name(&self) -> &'static str {
        std::any::type_name::<H::Event>()
    }

    fn requirements(&self) -> Vec<StateRequirement> {
        H::requirements()
    }

    fn spawn_worker(
        self: Arc<Self>,
        consumer: AnyConsumer,
        running: Arc<Running>,
        bus: crate::Bus,
        worker: usize,
    ) -> tokio::task::JoinHandle<()> {
        // One worker loop per kind of consumer: the in-process engine's receipts are `()`.
        match consumer {
            AnyConsumer::Local(consumer) => {
                tokio::spawn(worker::run(self, consumer, running, bus, worker))
            }
            AnyConsumer::Linked(consumer) => {
                tokio::spawn(worker::run(self, consumer, running, bus, worker))
            }
        }
    }
}

impl<H: Handler<Args>, Args: 'static> Typed<H, Args> {
    pub(crate) fn handler(&self) -> &H {
        &self.handler
    }
}
