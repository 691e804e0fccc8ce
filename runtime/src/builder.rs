//! [`BusBuilder`]: choose the transport, state and subscribers, validate, start.

use std::any::{Any, TypeId};
use std::collections::{BTreeSet, HashMap};
use std::sync::atomic::AtomicU8;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::bus::{Attached, Bus, Inner};
use crate::error::{Error, Result};
use crate::metrics::{self, PublishCounters};
use crate::recorder::{self, Recorder};
use crate::state::{StateMap, StateValues};
use crate::subscriber::{self, Subscriber};
use crate::topology::{self, Topology};
use crate::transport::{self, Capabilities};
use crate::worker::Running;

const DEFAULT_URL: &str = "memory://";
const DEFAULT_SOURCE: &str = "tidings";

/// Configures a [`Bus`]; see [`Bus::builder`].
#[must_use = "call `.build().await` to start the bus"]
pub struct BusBuilder {
    url: Option<String>,
    state: StateValues,
    explicit: Vec<Subscriber>,
    by_name: Vec<String>,
    automatic: bool,
    groups: Option<BTreeSet<String>>,
    queue_capacity: usize,
    shutdown_timeout: Duration,
    source: Option<String>,
    existing_only: bool,
    /// Set by `tidings::testing`.
    recorder: Option<Arc<Recorder>>,
}

impl Default for BusBuilder {
    fn default() -> Self {
        BusBuilder {
            url: None,
            state: HashMap::new(),
            explicit: Vec::new(),
            by_name: Vec::new(),
            automatic: true,
            groups: None,
            queue_capacity: 1024,
            shutdown_timeout: Duration::from_secs(30),
            source: None,
            existing_only: false,
            recorder: None,
        }
    }
}

impl BusBuilder {
    /// The transport: `memory://` (the default).
    ///
    /// `file://PATH[?sync=commit|batched][&accept_loss=true]` is the durable store in directory
    /// `PATH` (created if new; it must be new or empty then). `sync=batched` fsyncs every 50 ms
    /// instead of before `publish` returns. A store whose journal no longer reaches what it
    /// acknowledged (cut short or deleted) is refused at `build()` with an error naming what is
    /// gone; `accept_loss=true` opens it with what is left, once.
    pub fn url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// Opens only what the URL names if it already exists, and creates nothing: no directory
    /// for `file://`, no stream, queue or exchange on a broker. For tools that inspect and
    /// operate a bus (the `tidings` CLI): a misspelt path or namespace is an error that names
    /// what was looked for, not a new, empty bus.
    pub fn existing_only(mut self) -> Self {
        self.existing_only = true;
        self
    }

    /// A value handlers receive as `State<T>` (one per type; a second value of a type replaces
    /// the first).
    pub fn state<T: Clone + Send + Sync + 'static>(mut self, value: T) -> Self {
        self.state.insert(
            TypeId::of::<T>(),
            Box::new(value) as Box<dyn Any + Send + Sync>,
        );
        self
    }

    /// Adds a subscriber explicitly (closures, tests).
    pub fn subscribe(mut self, subscriber: Subscriber) -> Self {
        self.explicit.push(subscriber);
        self
    }

    /// Adds the `#[subscriber]` called `name` even after [`manual`](Self::manual), so a test can
    /// run exactly the subscribers it names.
    pub fn subscribe_registered(mut self, name: impl Into<String>) -> Self {
        self.by_name.push(name.into());
        self
    }

    /// Runs only the subscribers of these groups (one process per service when distributed).
    pub fn groups<I, S>(mut self, groups: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.groups = Some(groups.into_iter().map(Into::into).collect());
        self
    }

    /// Turns automatic registration off: only subscribers given to this builder run.
    pub fn manual(mut self) -> Self {
        self.automatic = false;
        self
    }

    /// How many unfinished deliveries one subscriber holds before `publish` waits
    /// (default 1024).
    pub fn queue_capacity(mut self, capacity: usize) -> Self {
        self.queue_capacity = capacity;
        self
    }

    /// How long `shutdown()` waits for accepted work to finish (default 30s).
    pub fn shutdown_timeout(mut self, timeout: Duration) -> Self {
        self.shutdown_timeout = timeout;
        self
    }

    /// The CloudEvents `source` of events published here (default `tidings`).
    pub fn source(mut self, source: impl Into<String>) -> Self {
        self.source = Some(source.into());
        self
    }

    /// The transport URL, `memory://` unless one was given.
    pub(crate) fn url_or_default(&self) -> &str {
        self.url.as_deref().unwrap_or(DEFAULT_URL)
    }

    /// Makes this a test bus: retry delays without jitter, a clock that holds still while the
    /// transport writes to disk, and `recorder` sees every publish and attempt.
    #[cfg_attr(not(feature = "testing"), allow(dead_code))]
    pub(crate) fn under_test(mut self, recorder: Arc<Recorder>) -> Self {
        self.recorder = Some(recorder);
        self
    }

    /// Collects the subscribers, checks them, and starts the bus.
    ///
    /// Fails listing every problem: duplicate names (with both locations), `State<T>` that no
    /// `.state(..)` provides, unknown groups or names, options out of range.
    pub async fn build(self) -> Result<Bus> {
        let url = self.url_or_default().to_owned();
        let registered: Vec<Subscriber> = subscriber::registered().collect();
        let subscribers = self.select(&registered)?;
        let state = StateMap::new(self.state);
        check(&subscribers, &state, self.queue_capacity)?;
        let transport =
            transport::open(self.url.as_deref(), self.queue_capacity, self.existing_only).await?;
        if let Err(problems) = check_capabilities(&subscribers, transport.capabilities()) {
            transport.close(&[]).await?;
            return Err(problems);
        }
        metrics::describe();
        if self.recorder.is_some() {
            recorder::prepare(&transport);
        }
        let mut attached = Vec::with_capacity(subscribers.len());
        for subscriber in subscribers {
            let workers = subscriber.options.concurrency as usize;
            let consumer = match transport.subscribe(&subscriber, workers).await {
                Ok(consumer) => consumer,
                Err(error) => {
                    let consumers: Vec<_> = attached
                        .iter()
                        .map(|attached: &Attached| attached.consumer.clone())
                        .collect();
                    transport.close(&consumers).await?;
                    return Err(error);
                }
            };
            attached.push(Attached {
                running: Arc::new(Running::new(&subscriber)),
                subscriber,
                consumer,
            });
        }
        let published = PublishCounters::new(
            attached
                .iter()
                .map(|attached| attached.subscriber.event_name()),
        );
        let bus = Bus::new(Inner {
            lifecycle: AtomicU8::new(0),
            transport,
            subscribers: attached,
            state,
            source: self.source.unwrap_or_else(|| DEFAULT_SOURCE.to_owned()),
            url,
            shutdown_timeout: self.shutdown_timeout,
            workers: Mutex::new(Vec::new()),
            published,
            recorder: self.recorder,
        });
        let mut workers = Vec::new();
        for attached in bus.subscribers() {
            for worker in 0..attached.running.workers.len() {
                workers.push(Arc::clone(&attached.subscriber.handler).spawn_worker(
                    attached.consumer.clone(),
                    Arc::clone(&attached.running),
                    bus.clone(),
                    worker,
                ));
            }
            tracing::debug!(
                subscriber = attached.subscriber.name(),
                group = attached.subscriber.group_name(),
                event = attached.subscriber.event_name(),
                "subscriber started"
            );
        }
        // Without a recorder the gauges go nowhere. A test bus runs on virtual time, where a
        // periodic sampler would wake every virtual second through days of backoff; there the
        // gauges are sampled on demand only.
        if bus.recorder().is_none() && !metrics::recorder_is_noop() {
            workers.push(tokio::spawn(metrics::sample_gauges(bus.clone())));
        }
        bus.set_workers(workers);
        let in_binary: Vec<&Subscriber> = registered.iter().chain(&self.explicit).collect();
        topology::warnings::warn_unmatched(&in_binary);
        Ok(bus)
    }

    /// What the bus would be, without starting it: every event, subscriber and group linked
    /// into the binary, [`SubscriberInfo::runs`](crate::SubscriberInfo::runs) marking those
    /// `build()` would start. Connects to nothing, so a tool can describe a service without
    /// joining its groups. Fails like `build()` for unknown groups and subscriber names.
    pub fn topology(&self) -> Result<Topology> {
        let registered: Vec<Subscriber> = subscriber::registered().collect();
        let chosen = self.select(&registered)?;
        let chosen: Vec<&Subscriber> = chosen.iter().collect();
        let url = self.url_or_default();
        let source = self.source.as_deref().unwrap_or(DEFAULT_SOURCE);
        Ok(Topology::collect(&chosen, url, source))
    }

    /// The subscribers this bus runs: explicit ones, named ones, and (unless `manual`) every
    /// registered one, filtered by `groups`.
    fn select(&self, registered: &[Subscriber]) -> Result<Vec<Subscriber>> {
        let mut problems = Vec::new();
        let mut chosen: Vec<Subscriber> = self.explicit.clone();
        if self.automatic {
            chosen.extend(registered.iter().cloned());
        }
        for name in &self.by_name {
            match registered.iter().find(|s| s.name() == name) {
                Some(_) if self.automatic => {} // already chosen
                Some(found) => chosen.push(found.clone()),
                None => problems.push(format!(
                    "no #[subscriber] is named `{name}`; registered: {}",
                    list(registered.iter().map(Subscriber::name))
                )),
            }
        }
        if let Some(groups) = &self.groups {
            let known: BTreeSet<&str> = chosen.iter().map(Subscriber::group_name).collect();
            for group in groups
                .iter()
                .filter(|group| !known.contains(group.as_str()))
            {
                problems.push(format!(
                    "no subscriber is in group `{group}`; groups: {}",
                    list(known.iter().copied())
                ));
            }
            chosen.retain(|s| groups.contains(s.group_name()));
        }
        if problems.is_empty() {
            Ok(chosen)
        } else {
            Err(Error::Build(problems))
        }
    }
}

/// Checks the selected subscribers: unique names, state provided, sane options.
fn check(subscribers: &[Subscriber], state: &StateMap, queue_capacity: usize) -> Result<()> {
    let mut problems = Vec::new();
    if queue_capacity == 0 {
        problems.push("queue_capacity must be at least 1".to_owned());
    }
    let mut seen: HashMap<&str, &Subscriber> = HashMap::new();
    for subscriber in subscribers {
        if let Some(first) = seen.insert(subscriber.name(), subscriber) {
            problems.push(format!(
                "two subscribers are named `{}`: {} and {}; rename one with `#[subscriber(name = \"..\")]`",
                subscriber.name(),
                first.location,
                subscriber.location
            ));
        }
        for missing in subscriber
            .handler
            .requirements()
            .iter()
            .filter(|r| !state.contains(r))
        {
            problems.push(format!(
                "subscriber `{}` ({}) takes `State<{}>`, but the builder has none; add `.state(..)` with a `{}`",
                subscriber.name(),
                subscriber.location,
                missing.type_name,
                missing.type_name
            ));
        }
        if subscriber.options.concurrency == 0 {
            problems.push(format!(
                "subscriber `{}` ({}) has concurrency 0; it must be at least 1",
                subscriber.name(),
                subscriber.location
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Build(problems))
    }
}

/// Checks the selected subscribers' options against what the transport can honour.
fn check_capabilities(subscribers: &[Subscriber], can: Capabilities) -> Result<()> {
    let mut problems = Vec::new();
    for subscriber in subscribers {
        let options = &subscriber.options;
        let at = format!(
            "subscriber `{}` ({})",
            subscriber.name(),
            subscriber.location
        );
        let scheme = can.scheme;
        if options.ordered && !can.ordered {
            problems.push(format!(
                "{at} is `ordered`, which the {scheme} transport cannot honour; drop `ordered` or use a transport that keeps per-key order"
            ));
        }
        if let Some(max) = can.max_retries.filter(|max| options.retries > *max) {
            problems.push(format!(
                "{at} asks for {} retries; the {scheme} transport allows at most {max}",
                options.retries
            ));
        }
        if let Some(max) = can
            .max_backoff
            .filter(|max| options.backoff.longest() > *max)
        {
            problems.push(format!(
                "{at} may wait {} between attempts; the {scheme} transport can schedule at most {}",
                humantime::format_duration(options.backoff.longest()),
                humantime::format_duration(max)
            ));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(Error::Build(problems))
    }
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|name| format!("`{name}`")).collect();
    if names.is_empty() {
        "none".to_owned()
    } else {
        names.join(", ")
    }
}

impl std::fmt::Debug for BusBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BusBuilder")
            .field("url", &self.url)
            .field("explicit", &self.explicit)
            .field("automatic", &self.automatic)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::options::Backoff;

    #[derive(Debug, Clone, serde::Serialize, serde::Deserialize, crate::Event)]
    struct Ping;

    #[test]
    fn options_a_transport_cannot_honour_are_refused_by_name() {
        let can = Capabilities {
            scheme: "test://",
            ordered: false,
            max_retries: Some(5),
            max_backoff: Some(Duration::from_secs(60)),
        };
        let fine = Subscriber::new("fine", |_: Ping| async {}).retries(5);
        let greedy = Subscriber::new("greedy", |_: Ping| async {})
            .ordered()
            .retries(6)
            .backoff(Backoff::exponential(
                Duration::from_secs(1),
                Duration::from_secs(120),
            ));
        assert!(check_capabilities(std::slice::from_ref(&fine), can).is_ok());
        let Err(Error::Build(problems)) = check_capabilities(&[fine, greedy], can) else {
            panic!("the greedy subscriber is refused");
        };
        assert_eq!(problems.len(), 3, "{problems:#?}");
        assert!(problems[0].contains("`greedy`") && problems[0].contains("`ordered`"));
        assert!(problems[1].contains("6 retries") && problems[1].contains("at most 5"));
        assert!(problems[2].contains("2m") && problems[2].contains("at most 1m"));
    }
}
