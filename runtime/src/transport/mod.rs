//! Transports carry events from publishers to subscriber queues.
//!
//! | transport | URL | feature | status |
//! |---|---|---|---|
//! | memory | `memory://` (default) | `memory` (default) | available |
//! | local durable | `file://PATH` | `durable` | planned |
//! | NATS JetStream | `nats://` | `nats` | planned |
//! | RabbitMQ | `amqp://` | `amqp` | planned |
//! | Redis Streams | `redis://` | `redis` | planned |
//! | PostgreSQL | `postgres://` | `postgres` | planned |

pub(crate) mod memory;

use crate::error::Error;

/// The transport a URL selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    Memory,
}

const PLANNED: [&str; 5] = ["file", "nats", "amqp", "redis", "postgres"];

/// Parses a bus URL into the transport it names.
pub(crate) fn parse_url(url: &str) -> Result<Kind, Error> {
    let scheme = url.split_once("://").map(|(scheme, _)| scheme);
    match scheme {
        Some("memory") => Ok(Kind::Memory),
        Some(scheme) if PLANNED.contains(&scheme) => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: format!(
                "the `{scheme}://` transport is not available yet; use `memory://` for now"
            ),
        }),
        _ => Err(Error::UnsupportedUrl {
            url: url.to_owned(),
            hint: "expected `memory://` (other transports: file://, nats://, amqp://, redis://, \
                   postgres://, as they land)"
                .to_owned(),
        }),
    }
}
