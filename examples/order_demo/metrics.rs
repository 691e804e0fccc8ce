//! `--metrics ADDR`: the demo's metrics as Prometheus text over HTTP at `http://ADDR/metrics`.
//!
//! tidings emits through the `metrics` facade; here the Prometheus exporter's recorder collects
//! them, and an axum route renders them for whoever scrapes (Prometheus, `curl`).
//! The recorder is installed before the bus is built, since a bus takes its metric handles
//! from the recorder installed when it starts.

use std::io;
use std::net::SocketAddr;

use axum::Router;
use axum::extract::State;
use axum::http::header::CONTENT_TYPE;
use axum::response::IntoResponse;
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::net::TcpListener;

/// Installs the Prometheus recorder for this process and serves it at `addr` (port 0 picks a
/// free port) until the process exits. Returns the address it listens on.
pub(crate) async fn serve(addr: SocketAddr) -> io::Result<SocketAddr> {
    let listener = TcpListener::bind(addr).await.map_err(|error| {
        io::Error::new(
            error.kind(),
            format!("cannot serve metrics on {addr}: {error}; pick another `--metrics` address"),
        )
    })?;
    let handle = PrometheusBuilder::new()
        .install_recorder()
        .map_err(|error| {
            io::Error::other(format!("cannot install the metrics recorder: {error}"))
        })?;
    let bound = listener.local_addr()?;
    let app = Router::new()
        .route("/metrics", get(render))
        .with_state(handle);
    tokio::spawn(async move {
        if let Err(error) = axum::serve(listener, app).await {
            eprintln!("metrics endpoint stopped: {error}");
        }
    });
    Ok(bound)
}

async fn render(State(handle): State<PrometheusHandle>) -> impl IntoResponse {
    (
        [(CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")],
        handle.render(),
    )
}
