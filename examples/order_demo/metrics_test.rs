//! The demo run with `--metrics`, scraped over a real TCP connection the way Prometheus would:
//! the same `metrics::serve` and `run` that `main` calls, then exact counts for a burst whose
//! retries and dead letters are known in advance.

use std::collections::BTreeMap;
use std::net::SocketAddr;

use clap::Parser;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::{Args, metrics, run};

/// `GET path` over HTTP/1.1; the status line and the body.
async fn get(addr: SocketAddr, path: &str) -> (String, String) {
    let mut stream = TcpStream::connect(addr).await.unwrap();
    let request = format!("GET {path} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).await.unwrap();
    let (head, body) = response.split_once("\r\n\r\n").expect("a head and a body");
    let status = head.lines().next().unwrap().to_owned();
    (status, body.to_owned())
}

/// Prometheus text as `name{sorted labels}` → value, comments skipped.
fn samples(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|line| !line.starts_with('#') && !line.is_empty())
        .map(|line| {
            let (series, value) = line.rsplit_once(' ').expect("`series value`");
            let series = match series.split_once('{') {
                Some((name, labels)) => {
                    let mut labels: Vec<&str> = labels.trim_end_matches('}').split(',').collect();
                    labels.sort_unstable();
                    format!("{name}{{{}}}", labels.join(","))
                }
                None => series.to_owned(),
            };
            (series, value.parse().expect("a number"))
        })
        .collect()
}

fn series(name: &str, labels: &[(&str, &str)]) -> String {
    let mut labels: Vec<String> = labels.iter().map(|(k, v)| format!("{k}=\"{v}\"")).collect();
    labels.sort_unstable();
    format!("{name}{{{}}}", labels.join(","))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_run_with_metrics_serves_exact_counts_over_http() {
    const ORDERS: u64 = 100;
    // Every 50th order asks for an unknown SKU (dead-lettered by stock); every 25th fails its
    // first stock attempt (retried): orders 25, 50, 75 and 100.
    let args = Args::parse_from([
        "order_demo",
        "--orders",
        "100",
        "--unknown-sku-every",
        "50",
        "--metrics",
        "127.0.0.1:0",
    ]);
    let at = metrics::serve(args.metrics.unwrap()).await.unwrap();
    assert!(
        run(&args).await.unwrap(),
        "the run accounts for every order"
    );

    let (status, body) = get(at, "/metrics").await;
    assert_eq!(status, "HTTP/1.1 200 OK");
    let samples = samples(&body);
    let value = |name: &str, labels: &[(&str, &str)]| {
        let series = series(name, labels);
        *samples
            .get(&series)
            .unwrap_or_else(|| panic!("no {series} in:\n{body}"))
    };
    let published = |event| value("tidings_published_total", &[("event", event)]);
    assert_eq!(published("orders.placed"), ORDERS as f64);
    assert_eq!(published("stock.reserved"), 98.0);
    assert_eq!(published("payments.captured"), ORDERS as f64);
    assert_eq!(published("logistics.shipped"), 98.0);

    let stock = [
        ("event", "orders.placed"),
        ("subscriber", "reserve_stock"),
        ("group", "stock"),
    ];
    assert_eq!(value("tidings_handled_total", &stock), 98.0);
    assert_eq!(value("tidings_retried_total", &stock), 4.0);
    assert_eq!(value("tidings_dead_lettered_total", &stock), 2.0);
    // One observation per attempt: every order once, and the four retried ones again.
    assert_eq!(
        value("tidings_handle_duration_seconds_count", &stock[..2]),
        104.0
    );
    for (event, subscriber, group, handled) in [
        ("orders.placed", "capture_payment", "payment", 100.0),
        ("stock.reserved", "ship_order", "logistics", 98.0),
        ("orders.placed", "sms_order_received", "notify", 100.0),
        ("logistics.shipped", "sms_order_shipped", "notify", 98.0),
    ] {
        let labels = [
            ("event", event),
            ("subscriber", subscriber),
            ("group", group),
        ];
        assert_eq!(
            value("tidings_handled_total", &labels),
            handled,
            "{subscriber}"
        );
        assert_eq!(value("tidings_dead_lettered_total", &labels), 0.0);
        // The run ended idle, and the gauges say so.
        assert_eq!(value("tidings_queue_depth", &labels), 0.0);
        assert_eq!(value("tidings_in_flight", &labels), 0.0);
    }

    let (status, _) = get(at, "/").await;
    assert_eq!(status, "HTTP/1.1 404 Not Found");
}
