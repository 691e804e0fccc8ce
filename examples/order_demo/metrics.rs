//! `--metrics ADDR`: the demo's metrics as Prometheus text over HTTP at `http://ADDR/metrics`.
//!
//! tidings emits through the `metrics` facade; here the Prometheus exporter's recorder collects
//! them, and a small HTTP/1.1 server renders them for whoever scrapes (Prometheus, `curl`).
//! The recorder is installed before the bus is built, since a bus takes its metric handles
//! from the recorder installed when it starts.

use std::io;
use std::net::SocketAddr;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// A request head larger than this is refused: a scrape is one short line and a few headers.
const MAX_REQUEST: usize = 8 * 1024;

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
    tokio::spawn(async move {
        loop {
            match listener.accept().await {
                Ok((stream, _)) => {
                    tokio::spawn(respond(stream, handle.clone()));
                }
                Err(error) => eprintln!("metrics endpoint: accept failed: {error}"),
            }
        }
    });
    Ok(bound)
}

/// Answers one request, then closes the connection.
async fn respond(mut stream: TcpStream, handle: PrometheusHandle) {
    let (status, content_type, body) = match read_request_line(&mut stream).await {
        Ok(line) => match line.split(' ').take(2).collect::<Vec<_>>()[..] {
            ["GET", "/metrics"] => (
                "200 OK",
                "text/plain; version=0.0.4; charset=utf-8",
                handle.render(),
            ),
            ["GET", _] => ("404 Not Found", "text/plain", "try /metrics\n".to_owned()),
            _ => (
                "405 Method Not Allowed",
                "text/plain",
                "GET /metrics only\n".to_owned(),
            ),
        },
        Err(error) => ("400 Bad Request", "text/plain", format!("{error}\n")),
    };
    let head = format!(
        "HTTP/1.1 {status}\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    // A scraper that hung up gets nothing; there is no one left to tell.
    let _ = stream.write_all(head.as_bytes()).await;
    let _ = stream.write_all(body.as_bytes()).await;
    let _ = stream.shutdown().await;
}

/// Reads the request head and returns its first line (`GET /metrics HTTP/1.1`).
async fn read_request_line(stream: &mut TcpStream) -> io::Result<String> {
    let mut head = Vec::new();
    let mut chunk = [0; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let read = stream.read(&mut chunk).await?;
        if read == 0 {
            return Err(io::Error::other("the request ended before its head did"));
        }
        head.extend_from_slice(&chunk[..read]);
        if head.len() > MAX_REQUEST {
            return Err(io::Error::other("request head too large"));
        }
    }
    let head = String::from_utf8_lossy(&head);
    Ok(head.lines().next().unwrap_or_default().to_owned())
}
