//! [`Topology`]: every event, subscriber and group linked into the binary, from `bus.topology()`;
//! printed as a table, serialized as JSON, or turned into an AsyncAPI document.

mod asyncapi;
pub(crate) mod declaration;
mod display;
pub(crate) mod schema;
mod url;
pub(crate) mod warnings;

use std::any::TypeId;
use std::collections::BTreeMap;
use std::fmt::Display;
use std::time::Duration;

use serde::{Serialize, Serializer};
use serde_json::{Value, json};

use crate::bus::Bus;
use crate::options::{Backoff, Rate, Written};
use crate::subscriber::{self, Subscriber};
use declaration::{EventRegistration, PayloadShape};

/// Everything linked into the binary: the events `#[derive(Event)]` declared, the subscribers
/// `#[subscriber]` registered (and those given to the builder), their groups, and the transport.
/// Subscribers this bus does not run (left out by `.groups(..)` or `.manual()`) are listed with
/// `runs: false`.
///
/// `Display` prints it as tables; `Serialize` as JSON; [`to_asyncapi`](Self::to_asyncapi)
/// describes it as an AsyncAPI 3.0 document.
///
/// ```
/// # use serde::{Deserialize, Serialize};
/// # use tidings::prelude::*;
/// /// A parcel is ready to leave.
/// #[derive(Debug, Clone, Serialize, Deserialize, Event)]
/// #[event(name = "parcels.packed")]
/// struct ParcelPacked {
///     #[event(key)]
///     parcel_id: u64,
///     weight_grams: u32,
/// }
///
/// #[subscriber(group = "shipping", retries = 4)]
/// async fn book_courier(parcel: &ParcelPacked) {}
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), tidings::Error> {
/// let bus = Bus::builder().groups(["shipping"]).build().await?;
/// let topology = bus.topology();
/// let courier = topology.subscriber("book_courier").unwrap();
/// assert_eq!((courier.group.as_str(), courier.retries, courier.runs), ("shipping", 4, true));
/// let parcel = topology.event("parcels.packed").unwrap();
/// assert_eq!(parcel.key.as_deref(), Some("parcel_id"));
/// assert_eq!(parcel.description.as_deref(), Some("A parcel is ready to leave."));
/// println!("{topology}");
/// let asyncapi = topology.to_asyncapi();
/// assert_eq!(asyncapi["channels"]["parcels.packed"]["address"], "parcels.packed");
/// # bus.shutdown().await }
/// ```
///
/// Events come from the `#[derive(Event)]`s linked into the binary. A hand-written
/// `impl Event` (which a generic event type needs: the derive refuses generics, as a static
/// registration names one concrete type) is not declared anywhere; it appears here only when a
/// subscriber handles it, with `declared_at: None` and no fields, and `build()` warns about it.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct Topology {
    /// The CloudEvents `source` of events published on this bus.
    pub source: String,
    /// The transport's URL scheme: `memory`, `file`, `nats`, `amqp`.
    pub transport: String,
    /// The bus URL without credentials, query options or fragment.
    pub url: String,
    /// Every event type, by name then version.
    pub events: Vec<EventInfo>,
    /// Every subscriber, by group then name.
    pub subscribers: Vec<SubscriberInfo>,
    /// Every group, by name.
    pub groups: Vec<GroupInfo>,
}

/// An event type.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct EventInfo {
    /// The wire name (`Event::NAME`).
    pub name: String,
    /// The schema version (`Event::VERSION`).
    pub version: u32,
    /// The Rust type's path, as `std::any::type_name` gives it.
    pub rust_type: String,
    /// The field that is the ordering key, by its wire name.
    pub key: Option<String>,
    /// The payload's fields, when it is a struct with named fields.
    pub fields: Vec<FieldInfo>,
    /// The type's doc comment.
    pub description: Option<String>,
    /// Where `#[derive(Event)]` declared it (`file:line`); `None` for an event known only from
    /// a subscriber of it (a hand-written `impl Event`).
    pub declared_at: Option<String>,
    /// A JSON Schema (draft-07) of the payload; see [`FieldSchema`](crate::FieldSchema).
    pub payload_schema: Value,
}

/// One field of an event's payload.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct FieldInfo {
    /// The name on the wire (after serde's renames).
    pub name: String,
    /// The type as written in the struct.
    pub rust_type: String,
    /// Whether a payload must have it (not an `Option`, no `#[serde(default)]`).
    pub required: bool,
    /// `#[serde(flatten)]`: its own fields are merged into the payload.
    pub flattened: bool,
}

/// A subscriber and its options.
#[derive(Debug, Clone, Serialize)]
#[non_exhaustive]
pub struct SubscriberInfo {
    /// Its unique name.
    pub name: String,
    /// The group whose instances share its work.
    pub group: String,
    /// The name of the event it handles.
    pub event: String,
    /// The Rust type of the event it handles.
    pub event_type: String,
    /// Retries after the first failed attempt.
    pub retries: u32,
    /// The delay before each retry.
    #[serde(serialize_with = "as_text")]
    pub backoff: Backoff,
    /// The deadline of one attempt.
    #[serde(serialize_with = "duration_as_text")]
    pub timeout: Duration,
    /// Attempts running at once.
    pub concurrency: u32,
    /// Same-key events in publish order.
    pub ordered: bool,
    /// The cap on attempts per period.
    #[serde(serialize_with = "optional_as_text")]
    pub rate: Option<Rate>,
    /// Where it was declared (`file:line`): the `#[subscriber]` fn, or the `Subscriber::new`
    /// call.
    pub declared_at: String,
    /// Whether this bus runs it.
    pub runs: bool,
}

/// A group of subscribers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct GroupInfo {
    /// The group's name.
    pub name: String,
    /// Its subscribers' names.
    pub subscribers: Vec<String>,
    /// The names of the events they handle.
    pub events: Vec<String>,
    /// Whether this bus runs any of its subscribers.
    pub runs: bool,
}

impl Topology {
    /// The event called `name` (the lowest version, if the binary declares several).
    pub fn event(&self, name: &str) -> Option<&EventInfo> {
        self.events.iter().find(|event| event.name == name)
    }

    /// The subscriber called `name`.
    pub fn subscriber(&self, name: &str) -> Option<&SubscriberInfo> {
        self.subscribers
            .iter()
            .find(|subscriber| subscriber.name == name)
    }

    /// The group called `name`.
    pub fn group(&self, name: &str) -> Option<&GroupInfo> {
        self.groups.iter().find(|group| group.name == name)
    }

    /// The subscribers of the event called `name`.
    pub fn subscribers_of<'a>(
        &'a self,
        name: &'a str,
    ) -> impl Iterator<Item = &'a SubscriberInfo> + 'a {
        self.subscribers
            .iter()
            .filter(move |subscriber| subscriber.event == name)
    }

    /// An AsyncAPI 3.0.0 document of this topology: a channel per event name (its address),
    /// a message per event type with its payload schema and CloudEvents headers, a `send`
    /// operation per event, a `receive` operation per subscriber with its options under
    /// `x-tidings`, and the broker as the server when the bus runs on one.
    ///
    /// `info.title` is the bus's `source` and `info.version` is `0.0.0`; set your own on the
    /// returned value: `doc["info"]["version"] = env!("CARGO_PKG_VERSION").into()`.
    pub fn to_asyncapi(&self) -> Value {
        asyncapi::document(self)
    }
}

impl Bus {
    /// Every event, subscriber and group linked into the binary, the options of each, whether
    /// this bus runs it, and the transport; see [`Topology`].
    pub fn topology(&self) -> Topology {
        let running: Vec<&Subscriber> = self
            .subscribers()
            .iter()
            .map(|attached| &attached.subscriber)
            .collect();
        Topology::collect(&running, self.url(), self.source())
    }
}

impl Topology {
    /// The topology of a bus on `url` that runs `running`.
    pub(crate) fn collect(running: &[&Subscriber], url: &str, source: &str) -> Topology {
        let idle: Vec<Subscriber> = subscriber::registered()
            .filter(|candidate| !running.iter().any(|running| running.is_same(candidate)))
            .collect();
        let everyone = (running.iter().map(|s| (*s, true))).chain(idle.iter().map(|s| (s, false)));
        let mut events: Vec<EventInfo> = declaration::declared().map(event_info).collect();
        let mut described: Vec<TypeId> = declaration::declared()
            .map(|event| (event.type_id)())
            .collect();
        let mut subscribers = Vec::new();
        for (subscriber, runs) in everyone {
            subscribers.push(subscriber_info(subscriber, runs));
            let event_type = subscriber.handler.event_type();
            if !described.contains(&event_type) {
                described.push(event_type);
                events.push(undeclared_event_info(subscriber));
            }
        }
        events.sort_by(|a, b| {
            (&a.name, a.version, &a.rust_type).cmp(&(&b.name, b.version, &b.rust_type))
        });
        subscribers.sort_by(|a, b| {
            (&a.group, &a.name, &a.declared_at).cmp(&(&b.group, &b.name, &b.declared_at))
        });
        Topology {
            source: source.to_owned(),
            transport: url::scheme(url),
            url: url::redact(url),
            groups: groups(&subscribers),
            events,
            subscribers,
        }
    }
}

fn event_info(event: &EventRegistration) -> EventInfo {
    let declaration = &event.declaration;
    let fields = match &declaration.payload {
        PayloadShape::Object { fields, .. } => fields
            .iter()
            .map(|field| FieldInfo {
                name: field.name.to_owned(),
                rust_type: field.rust_type.to_owned(),
                required: !field.flatten && !field.may_be_absent && !(field.schema)().may_be_absent,
                flattened: field.flatten,
            })
            .collect(),
        _ => Vec::new(),
    };
    EventInfo {
        name: event.name.to_owned(),
        version: event.version,
        rust_type: (event.type_name)().to_owned(),
        key: declaration.key.map(str::to_owned),
        fields,
        description: (!declaration.doc.is_empty()).then(|| declaration.doc.to_owned()),
        declared_at: Some(format!("{}:{}", declaration.file, declaration.line)),
        payload_schema: schema::payload_schema(&declaration.payload),
    }
}

/// An event known only from a subscriber of it: a hand-written `impl Event`.
fn undeclared_event_info(subscriber: &Subscriber) -> EventInfo {
    let handler = &subscriber.handler;
    EventInfo {
        name: handler.event_name().to_owned(),
        version: handler.event_version(),
        rust_type: handler.event_type_name().to_owned(),
        key: None,
        fields: Vec::new(),
        description: None,
        declared_at: None,
        payload_schema: json!({
            "description": "any JSON: no #[derive(Event)] declares this event, so tidings does not know its fields"
        }),
    }
}

fn subscriber_info(subscriber: &Subscriber, runs: bool) -> SubscriberInfo {
    let options = &subscriber.options;
    SubscriberInfo {
        name: subscriber.name().to_owned(),
        group: subscriber.group_name().to_owned(),
        event: subscriber.event_name().to_owned(),
        event_type: subscriber.handler.event_type_name().to_owned(),
        retries: options.retries,
        backoff: options.backoff,
        timeout: options.timeout,
        concurrency: options.concurrency,
        ordered: options.ordered,
        rate: options.rate,
        declared_at: subscriber.location.to_string(),
        runs,
    }
}

fn groups(subscribers: &[SubscriberInfo]) -> Vec<GroupInfo> {
    let mut groups: BTreeMap<&str, GroupInfo> = BTreeMap::new();
    for subscriber in subscribers {
        let group = groups
            .entry(&subscriber.group)
            .or_insert_with(|| GroupInfo {
                name: subscriber.group.clone(),
                subscribers: Vec::new(),
                events: Vec::new(),
                runs: false,
            });
        group.subscribers.push(subscriber.name.clone());
        if !group.events.contains(&subscriber.event) {
            group.events.push(subscriber.event.clone());
        }
        group.runs |= subscriber.runs;
    }
    groups
        .into_values()
        .map(|mut group| {
            group.events.sort();
            group
        })
        .collect()
}

fn as_text<S: Serializer>(value: &impl Display, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(value)
}

fn duration_as_text<S: Serializer>(value: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.collect_str(&Written(*value))
}

fn optional_as_text<S: Serializer>(
    value: &Option<impl Display>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match value {
        Some(value) => serializer.collect_str(value),
        None => serializer.serialize_none(),
    }
}
