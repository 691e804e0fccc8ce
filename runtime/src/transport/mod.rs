//! Transports carry events from publishers to subscriber queues.
//!
//! | transport | URL | feature | status |
//! |---|---|---|---|
//! | memory | `memory://` (default) | `memory` (default) | available |
//! | local durable | `file://PATH` | `durable` (default) | available |
//! | NATS JetStream | `nats://` | `nats` | planned |
//! | RabbitMQ | `amqp://` | `amqp` | planned |
//! | Redis Streams | `redis://` | `redis` | planned |
//! | PostgreSQL | `postgres://` | `postgres` | planned |

#[cfg(feature = "durable")]
pub(crate) mod durable;
#[cfg(not(feature = "durable"))]
#[path = "durable_disabled.rs"]
pub(crate) mod durable;
pub(crate) mod memory;
#[cfg(feature = "durable")]
pub(crate) mod recovery;

use crate::error::Error;

/// The transport a URL selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Kind {
    Memory,
    #[cfg(feature = "durable")]
    Durable {
        path: std::path::PathBuf,
        sync: durable::SyncMode,
    },
}

const PLANNED: [&str; 4] = ["nats", "amqp", "redis", "postgres"];

/// Parses a bus URL into the transport it names.
pub(crate) fn parse_url(url: &str) -> Result<Kind, Error> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("memory") => Ok(Kind::Memory),
        #[cfg(feature = "durable")]
        Some("file") => durable::parse(url).map(|(path, sync)| Kind::Durable { path, sync }),
        #[cfg(not(feature = "durable"))]
        Some("file") => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: "this build has no `file://` transport: enable tidings' `durable` feature"
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
            hint: "expected `memory://` or `file://PATH` (nats://, amqp://, redis:// and \
                   postgres:// as they land)"
                .to_owned(),
        }),
    }
}
