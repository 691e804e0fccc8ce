//! Transports carry events from publishers to subscriber queues.
//!
//! | transport | URL | feature | status |
//! |---|---|---|---|
//! | memory | `memory://` (default) | `memory` (default) | available |
//! | local durable | `file://PATH` | `durable` (default) | available |
//! | NATS JetStream | `nats://` | `nats` | available |
//! | RabbitMQ | `amqp://` | `amqp` | available |
//! | Redis Streams | `redis://` | `redis` | planned |
//! | PostgreSQL | `postgres://` | `postgres` | planned |

#[cfg(feature = "amqp")]
pub(crate) mod amqp;
mod any;
mod contract;
#[cfg(feature = "durable")]
pub(crate) mod durable;
#[cfg(not(feature = "durable"))]
#[path = "durable_disabled.rs"]
pub(crate) mod durable;
#[cfg(feature = "amqp")]
pub(crate) mod lanes;
pub(crate) mod memory;
#[cfg(feature = "nats")]
pub(crate) mod nats;
mod outgoing;
pub mod partition;

pub(crate) use any::{AnyConsumer, AnyTransport};
pub(crate) use contract::{Capabilities, Consumer, Outcome, Outgoing, Transport};

use crate::error::Error;

/// The transport a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    /// `memory://` (private to one bus) or `memory://NAME` (shared by the buses that name it).
    Memory { name: Option<String> },
    #[cfg(feature = "durable")]
    Durable {
        path: std::path::PathBuf,
        sync: durable::SyncMode,
    },
    /// `amqp://` (RabbitMQ), with tidings' own options parsed out of the query.
    #[cfg(feature = "amqp")]
    Amqp(amqp::Settings),
    #[cfg(feature = "nats")]
    Nats(nats::Config),
}

const PLANNED: [&str; 2] = ["redis", "postgres"];

/// Parses a bus URL into the transport it names.
pub(crate) fn parse_url(url: &str) -> Result<Kind, Error> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("memory") => parse_memory(url),
        #[cfg(feature = "durable")]
        Some("file") => durable::parse(url).map(|(path, sync)| Kind::Durable { path, sync }),
        #[cfg(not(feature = "durable"))]
        Some("file") => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: "this build has no `file://` transport: enable tidings' `durable` feature"
                .to_owned(),
        }),
        #[cfg(feature = "amqp")]
        Some("amqp") => amqp::Settings::parse(url).map(Kind::Amqp),
        #[cfg(not(feature = "amqp"))]
        Some("amqp") => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: "this build has no `amqp://` transport: enable tidings' `amqp` feature"
                .to_owned(),
        }),
        #[cfg(feature = "nats")]
        Some("nats") => nats::parse(url).map(Kind::Nats),
        #[cfg(not(feature = "nats"))]
        Some("nats") => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: "this build has no `nats://` transport: enable tidings' `nats` feature"
                .to_owned(),
        }),
        Some(scheme) if PLANNED.contains(&scheme) => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: format!(
                "the `{scheme}://` transport is not available yet; use `memory://` or `file://PATH` for now"
            ),
        }),
        _ => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: "expected `memory://`, `file://PATH`, `nats://` or `amqp://` (redis:// and \
                   postgres:// as they land)"
                .to_owned(),
        }),
    }
}

fn parse_memory(url: &str) -> Result<Kind, Error> {
    let name = url.strip_prefix("memory://").expect("a memory:// URL");
    if name.is_empty() {
        return Ok(Kind::Memory { name: None });
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        return Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: "a memory namespace is made of letters, digits, `_`, `-` and `.`: \
                   `memory://` for a private bus, `memory://orders` for one buses share"
                .to_owned(),
        });
    }
    Ok(Kind::Memory {
        name: Some(name.to_owned()),
    })
}
