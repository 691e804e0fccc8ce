//! Shared helpers and events for the integration tests: the conformance suite's own, so that
//! the tests and the suite publish the same events.

pub use tidings_conformance::{Log, Ping, Pong};

/// Writes one line to stdout and flushes it at once: how a member process (`tests/bin/`)
/// tells its test what it did, while it runs.
pub fn say(line: std::fmt::Arguments<'_>) {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .expect("stdout");
}

/// Runs `subscriber` on a bus at `url` as one member process: says `ready` once the bus is
/// built, serves until the test closes stdin, then shuts down cleanly.
pub async fn serve_member(url: &str, subscriber: tidings::Subscriber) {
    use std::io::BufRead;
    let bus = tidings::Bus::builder()
        .url(url)
        .manual()
        .subscribe(subscriber)
        .build()
        .await
        .unwrap_or_else(|e| panic!("opening the bus on {url}: {e}"));
    say(format_args!("ready"));
    tokio::task::spawn_blocking(|| for _ in std::io::stdin().lock().lines() {})
        .await
        .expect("reading stdin");
    bus.shutdown().await.expect("a clean shutdown");
}
