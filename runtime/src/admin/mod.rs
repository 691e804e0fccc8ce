//! The admin endpoint: a running bus's dead letters, stats and live events over HTTP, for the
//! `tidings` command-line tool (`tidings --url http://ADDR …`) and for scripts.
//!
//! It is how the CLI reaches a bus on any transport, `memory://` included, whose queues live
//! inside one process; on `file://` it is the way in while the application holds the store.
//!
//! | method | path | answer |
//! |---|---|---|
//! | GET | `/v1/stats` | [`Stats`](crate::Stats) of every subscriber this bus runs |
//! | GET | `/v1/dead-letters` | every [`DeadLetterSummary`](crate::DeadLetterSummary) (no payloads), oldest first |
//! | GET | `/v1/dead-letters/{id}` | one dead letter, or 404 |
//! | POST | `/v1/dead-letters/{id}/replay` | 204 once replayed |
//! | DELETE | `/v1/dead-letters/{id}` | 204 once discarded |
//! | GET | `/v1/tail/{event}` | the event as it passes: one CloudEvents JSON document per line |
//! | GET | `/v1/topology` | the bus's [`Topology`](crate::Topology) as JSON (`/v1/topology/table`: as text) |
//! | GET | `/v1/asyncapi` | its AsyncAPI 3.0 document |
//! | POST | `/v1/dead-letters/replay` | `{"ids": [...]}` replayed in one pass: `{"failed": [{"id", "error"}]}` |
//! | POST | `/v1/dead-letters/discard` | `{"ids": [...]}` discarded in one pass: `{"failed": [...]}` |
//!
//! # Security
//!
//! - **Tokens.** [`serve`] takes tokens from the environment (`TIDINGS_ADMIN_TOKEN` or the
//!   file `TIDINGS_ADMIN_TOKEN_FILE` names; `TIDINGS_ADMIN_READ_TOKEN[_FILE]` for a read-only
//!   one); [`serve_with`] from [`AdminOptions`]. With a token, every request needs
//!   `Authorization: Bearer TOKEN` (compared in constant time); the read-only token may `GET`
//!   but not replay or discard (403).
//! - **Loopback unless authenticated.** Without a token, an address beyond loopback
//!   (`0.0.0.0:9001`, a LAN address) is refused at start, saying how to set one.
//! - **Browsers.** A `Host` that is not an IP address, `localhost` or an
//!   [allowed name](AdminOptions::allow_host) answers 421 (DNS rebinding); an `Origin` of another
//!   site answers 403; `POST` and `DELETE` need the header `X-Tidings-Client`, which a page of
//!   another site cannot send without a CORS preflight that is never granted.
//! - **Limits.** Headers must arrive within the [header-read timeout](AdminOptions::header_read_timeout)
//!   (also how long a kept-alive connection may idle), bodies are capped, and so are the
//!   connections served at once.
//!
//! Errors answer `{"error": "..."}` with a status that says whose fault it is (404 unknown id,
//! 409 a dead letter of a subscriber this bus does not run, 502 the broker, 503 shut down).
//!
//! ```no_run
//! # async fn run(bus: tidings::Bus) -> Result<(), Box<dyn std::error::Error>> {
//! let admin = tidings::admin::serve(bus.clone(), "127.0.0.1:9001").await?;
//! println!("admin endpoint on http://{}", admin.local_addr());
//! # Ok(()) }
//! ```

mod guard;
mod options;
mod routes;

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::Semaphore;
use tokio::task::{JoinHandle, JoinSet};

pub use guard::CLIENT_HEADER;
pub use options::{AdminOptions, READ_TOKEN_FILE_VAR, READ_TOKEN_VAR, TOKEN_FILE_VAR, TOKEN_VAR};

use crate::bus::Bus;

/// A running admin endpoint; stops when [`stop`](Self::stop)ped or dropped.
#[derive(Debug)]
pub struct AdminServer {
    local_addr: SocketAddr,
    task: Option<JoinHandle<()>>,
}

/// Serves `bus`'s admin endpoint on `addr` (port 0 picks a free one; see
/// [`AdminServer::local_addr`]), with the tokens of the environment
/// ([`AdminOptions::from_env`]): without one, only on loopback.
pub async fn serve(bus: Bus, addr: impl ToSocketAddrs) -> io::Result<AdminServer> {
    serve_with(bus, addr, AdminOptions::from_env()?).await
}

/// Serves `bus`'s admin endpoint on `addr` as `options` say.
pub async fn serve_with(
    bus: Bus,
    addr: impl ToSocketAddrs,
    options: AdminOptions,
) -> io::Result<AdminServer> {
    options.validate()?;
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host(addr).await?.collect();
    if !options.authenticates()
        && let Some(open) = addrs.iter().find(|addr| !addr.ip().is_loopback())
    {
        return Err(io::Error::new(
            io::ErrorKind::PermissionDenied,
            format!(
                "the admin endpoint would listen on {open}, beyond this machine, with no \
                 authentication: set a token ({TOKEN_VAR}=… or {TOKEN_FILE_VAR}=PATH, or \
                 `AdminOptions::token`) and pass it to the CLI (`--token` or TIDINGS_TOKEN), or \
                 listen on 127.0.0.1"
            ),
        ));
    }
    let listener = TcpListener::bind(&addrs[..]).await?;
    let local_addr = listener.local_addr()?;
    let limits = Limits {
        header_read_timeout: options.header_read_timeout,
        max_connections: options.max_connections,
    };
    let authenticated = options.authenticates();
    let app = routes::router(bus, options.body_limit).layer(axum::middleware::from_fn_with_state(
        Arc::new(options),
        guard::check,
    ));
    let task = tokio::spawn(accept(listener, app, limits));
    if local_addr.ip().is_loopback() {
        tracing::info!(address = %local_addr, authenticated, "admin endpoint listening");
    } else {
        tracing::warn!(
            address = %local_addr,
            "admin endpoint listening beyond loopback; every request needs its token"
        );
    }
    Ok(AdminServer {
        local_addr,
        task: Some(task),
    })
}

#[derive(Clone, Copy)]
struct Limits {
    header_read_timeout: Duration,
    max_connections: usize,
}

/// Accepts connections while a permit is free, each served by hyper under the header-read
/// timeout. The connections live in the task's `JoinSet`, so stopping the task ends them all.
async fn accept(listener: TcpListener, app: axum::Router, limits: Limits) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let mut connections = JoinSet::new();
    loop {
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(error) => {
                // Out of file descriptors, most likely: give others a moment to close theirs.
                tracing::warn!(%error, "the admin endpoint could not accept a connection");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        while connections.try_join_next().is_some() {}
        let service = TowerToHyperService::new(app.clone());
        connections.spawn(async move {
            let _permit = permit;
            let mut http = hyper::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_read_timeout);
            if let Err(error) = http.serve_connection(TokioIo::new(stream), service).await {
                tracing::debug!(%error, "admin endpoint connection ended");
            }
        });
    }
}

impl AdminServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting requests and closes every connection, open tails included.
    pub async fn stop(mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
            let _ = task.await;
        }
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        if let Some(task) = &self.task {
            task.abort();
        }
    }
}
