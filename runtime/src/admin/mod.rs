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
//!
//! It has no authentication: bind it to loopback or a private network.
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

mod routes;

use std::net::SocketAddr;

use tokio::net::{TcpListener, ToSocketAddrs};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::bus::Bus;

/// A running admin endpoint; stops when [`stop`](Self::stop)ped or dropped.
#[derive(Debug)]
pub struct AdminServer {
    local_addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

/// Serves `bus`'s admin endpoint on `addr` (port 0 picks a free one; see
/// [`AdminServer::local_addr`]).
pub async fn serve(bus: Bus, addr: impl ToSocketAddrs) -> std::io::Result<AdminServer> {
    let listener = TcpListener::bind(addr).await?;
    let local_addr = listener.local_addr()?;
    let (stop, stopped) = oneshot::channel::<()>();
    let app = routes::router(bus);
    let task = tokio::spawn(async move {
        let stopping = async {
            let _ = stopped.await;
        };
        if let Err(error) = axum::serve(listener, app)
            .with_graceful_shutdown(stopping)
            .await
        {
            tracing::error!(%error, "the admin endpoint stopped");
        }
    });
    tracing::info!(address = %local_addr, "admin endpoint listening");
    Ok(AdminServer {
        local_addr,
        stop: Some(stop),
        task: Some(task),
    })
}

impl AdminServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Stops accepting requests and waits for the server task to end. Open tails end too.
    pub async fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            // Streaming tails never finish by themselves; the graceful stop would wait on them.
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
