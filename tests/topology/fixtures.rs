//! Events in every shape `#[derive(Event)]` describes, and subscribers with every option, next
//! to the order demo's: the topology the tests read back.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use tidings::prelude::*;
use tidings::{Event, Key};

/// Not described by tidings: fields of this type are any JSON value.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Parcel {
    pub(crate) grams: u32,
}

/// A parcel left the warehouse.
///
/// Carriers read it.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "fixture.shipped", version = 2)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub(crate) struct Shipped {
    /// The order it belongs to.
    #[event(key)]
    pub(crate) order_id: u64,
    #[serde(rename = "carrier")]
    pub(crate) carrier_name: String,
    pub(crate) note: Option<String>,
    #[serde(default)]
    pub(crate) labels: BTreeMap<String, u8>,
    pub(crate) parcel: Parcel,
    /// Never on the wire, so not in the schema.
    #[serde(skip)]
    #[allow(dead_code)]
    pub(crate) internal: u32,
}

/// The first version of `fixture.shipped`, still read from old producers.
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "fixture.shipped", version = 1)]
pub(crate) struct ShippedV1 {
    #[event(key)]
    pub(crate) order_id: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "fixture.speed")]
#[serde(rename_all = "kebab-case")]
pub(crate) enum SpeedChosen {
    Standard,
    NextDay,
    #[serde(rename = "same_day")]
    SameDay,
    /// Never on the wire, so not among the names.
    #[serde(skip)]
    #[allow(dead_code)]
    Internal,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "fixture.heartbeat")]
pub(crate) struct Heartbeat(pub(crate) u64);

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "fixture.changed")]
pub(crate) enum Changed {
    Renamed { from: String, to: String },
    Removed(u64),
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "fixture.audited")]
pub(crate) struct Audited {
    pub(crate) who: String,
    pub(crate) r#type: String,
    /// Written by its own function, so its schema is not `u64`'s.
    #[serde(with = "as_text")]
    pub(crate) amount: u64,
    #[serde(flatten)]
    pub(crate) extra: HashMap<String, String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "fixture.tree_grown")]
pub(crate) struct TreeGrown {
    pub(crate) depth: u8,
    pub(crate) next: Option<Box<Self>>,
}

/// A number written as a string.
mod as_text {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub(crate) fn serialize<S: Serializer>(value: &u64, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(value)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<u64, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(D::Error::custom)
    }
}

/// An event implemented by hand, as a generic event type has to be: nothing declares it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(crate) struct Legacy {
    pub(crate) id: String,
}

impl Event for Legacy {
    const NAME: &'static str = "fixture.legacy";
    const VERSION: u32 = 3;

    fn key(&self) -> Option<Key<'_>> {
        Some(Key::Str(&self.id))
    }
}

#[subscriber(
    group = "carriers",
    retries = 6,
    backoff = "fixed(250ms)",
    timeout = "1m",
    concurrency = 2,
    ordered,
    rate = "10/250ms"
)]
async fn book_carrier(_shipped: &Shipped) {}

#[subscriber(group = "carriers")]
async fn archive_old_shipment(_shipped: &ShippedV1) {}

#[subscriber(name = "legacy_bridge", group = "bridge", backoff = "none")]
async fn forward_legacy(_legacy: &Legacy) {}
