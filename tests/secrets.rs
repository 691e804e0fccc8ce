//! No password or token shows, for any scheme, in what tidings tells a person: the error of a
//! failed `build()` (its text, its `Debug` and every error in its source chain), the log lines
//! it wrote on the way, and the topology (tables, JSON, AsyncAPI) of a bus on that URL.
//!
//! Runs without brokers: every broker URL points at a port nothing listens on, is refused
//! before connecting, or (RabbitMQ on 127.0.0.1:5672, where it runs) fails its login. Built with `--features nats,amqp` the broker transports really try to
//! connect (CI runs it so); without, the same URLs are refused for want of the feature.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tidings::Bus;
use tracing_subscriber::fmt::MakeWriter;

const SECRET: &str = "s3cret";

const URLS: [&str; 11] = [
    "nats://user:s3cret@127.0.0.1:1?namespace=secrets",
    "nats://s3cret@127.0.0.1:1",
    "nats://user:s3cret@127.0.0.1:1?window=none",
    "amqp://guest:s3cret@127.0.0.1:1/%2f",
    // RabbitMQ on this machine, if it runs, refuses the login: lapin's own messages too.
    "amqp://guest:s3cret@127.0.0.1:5672/%2f?timeout=3s",
    "amqp://guest:s3cret@127.0.0.1:1/%2f?prefetch=5",
    "amqp://guest:s3cret@127.0.0.1:1/%2f?namespace=a/b",
    "redis://:s3cret@127.0.0.1:1/0",
    "memory://orders?password=s3cret",
    "file://./data?token=s3cret",
    "guest:s3cret@127.0.0.1:1",
];

/// Every log line, at every level, written to one buffer.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Logs {
    type Writer = Logs;

    fn make_writer(&'a self) -> Logs {
        self.clone()
    }
}

/// The error's text, its `Debug`, and the text and `Debug` of every error under it.
fn everything_shown(error: &(dyn std::error::Error + 'static)) -> Vec<String> {
    let mut shown = Vec::new();
    let mut next = Some(error);
    while let Some(error) = next {
        shown.push(error.to_string());
        shown.push(format!("{error:?}"));
        next = error.source();
    }
    shown
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_password_or_token_shows_in_errors_logs_or_topology() {
    let logs = Logs::default();
    let subscriber = tracing_subscriber::fmt()
        .with_max_level(tracing::Level::TRACE)
        .with_writer(logs.clone())
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    for url in URLS {
        let error = Bus::builder()
            .url(url)
            .manual()
            .build()
            .await
            .expect_err("nothing to connect to there");
        let shown = everything_shown(&error);
        for text in &shown {
            assert!(!text.contains(SECRET), "`{url}` shows its secret: {text}");
        }
        assert!(
            shown[0].contains("***") || !url.contains('@'),
            "`{url}`: the error names the URL with its credentials hidden: {}",
            shown[0]
        );

        if let Ok(topology) = Bus::builder().url(url).manual().topology() {
            let json = serde_json::to_string(&topology).unwrap();
            let asyncapi = topology.to_asyncapi().to_string();
            for text in [topology.to_string(), json, asyncapi] {
                assert!(
                    !text.contains(SECRET),
                    "`{url}`'s topology shows it: {text}"
                );
            }
        }
    }
    let logs = String::from_utf8_lossy(&logs.0.lock().unwrap()).into_owned();
    assert!(!logs.contains(SECRET), "a log line shows a secret:\n{logs}");
}

/// A broker error keeps the client library's error as its source, so the cause chain reaches
/// whoever reports it (`{:#}` in anyhow, `Report` in eyre).
#[cfg(feature = "nats")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_error_keeps_its_cause() {
    let error = Bus::builder()
        .url("nats://127.0.0.1:1")
        .manual()
        .build()
        .await
        .expect_err("nothing listens on port 1");
    assert!(matches!(error, tidings::Error::Broker { .. }), "{error:?}");
    let cause = std::error::Error::source(&error).expect("the client's error is kept");
    assert!(!cause.to_string().is_empty());
}
