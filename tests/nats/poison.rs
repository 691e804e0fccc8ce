//! Poison input from raw NATS publishers: each costs exactly one dead letter with why, never a
//! worker, and the event published after it is handled.

use std::sync::Arc;

use tidings::{Error, Subscriber, Truncated};
use tidings_conformance::Backend;
use tidings_tests::{Log, Ping};

use super::{NatsBackend, server};

/// A bus of `backend` whose one subscriber, `stock`, logs each ping's `seq`.
async fn counting(backend: &NatsBackend, seen: &Log<u32>) -> tidings::Bus {
    (backend as &dyn Backend)
        .bus_with([Subscriber::new("stock", {
            let seen = seen.clone();
            move |ping: Arc<Ping>| {
                let seen = seen.clone();
                async move { seen.push(ping.seq) }
            }
        })
        .concurrency(1)])
        .await
}

async fn raw_publish(subject: String, headers: async_nats::HeaderMap, body: Vec<u8>) {
    let js = async_nats::jetstream::new(async_nats::connect(server()).await.unwrap());
    js.publish_with_headers(subject, headers, body.into())
        .await
        .unwrap()
        .await
        .unwrap();
}

/// A `ce-time` that parses but lies outside what RFC 3339 writes in UTC (before 1970 or after
/// year 9999 once its offset is applied), on a body that does not decode: writing the dead
/// letter once panicked in the worker's settle, the message came back after every ack wait and
/// killed the next worker until none was left.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_that_cannot_be_written_back_costs_one_dead_letter_each() {
    let backend = NatsBackend::new();
    let seen = Log::default();
    let bus = counting(&backend, &seen).await;
    let subject = format!("{}.events.0.test.ping", backend.namespace);
    for time in ["1970-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"] {
        let mut headers = async_nats::HeaderMap::new();
        headers.insert("ce-specversion", "1.0");
        headers.insert("ce-id", tidings::EventId::new().to_string().as_str());
        headers.insert("ce-type", "test.ping");
        headers.insert("ce-source", "hostile");
        headers.insert("ce-time", time);
        raw_publish(subject.clone(), headers, b"{not json".to_vec()).await;
    }
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(seen.items(), vec![1]);
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 2, "{dead:?}");
    for (letter, why) in dead.iter().zip(["before 1970", "after 9999"]) {
        assert_eq!((letter.subscriber.as_str(), letter.attempts), ("stock", 1));
        assert!(
            letter.error.contains("header `ce-time`") && letter.error.contains(why),
            "{}",
            letter.error
        );
        assert_eq!(letter.envelope.data, b"{not json");
    }
    let stats = bus.stats();
    assert_eq!(
        (
            stats.subscribers[0].handled,
            stats.subscribers[0].dead_lettered
        ),
        (1, 2)
    );
    bus.shutdown().await.unwrap();
}

/// A 900 KB body under the server's 1 MB limit made a 1.2 MB dead letter, which the server
/// refused: "cannot store a dead letter" once a second for ever. Now the letter keeps the
/// beginning of the payload with the whole one's size and SHA-256, and refuses a replay.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_too_large_for_the_server_is_stored_truncated_once() {
    let backend = NatsBackend::new();
    let seen = Log::default();
    let bus = counting(&backend, &seen).await;
    let subject = format!("{}.events.0.test.ping", backend.namespace);
    let body: Vec<u8> = (0..900_000u32).map(|i| b'a' + (i % 26) as u8).collect();
    raw_publish(subject, async_nats::HeaderMap::new(), body.clone()).await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(seen.items(), vec![1]);
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);
    let letter = &dead[0];
    assert_eq!(letter.truncated, Some(Truncated::of(&body)));
    assert_eq!(letter.truncated.as_ref().unwrap().size, 900_000);
    let kept = letter.envelope.data.len();
    assert!(kept > 500_000 && kept < 900_000, "{kept}");
    assert_eq!(letter.envelope.data, body[..kept]);
    assert!(
        letter
            .error
            .starts_with("cannot decode `test.ping` payload as JSON"),
        "{}",
        letter.error
    );
    let stats = bus.stats();
    assert_eq!(stats.subscribers[0].dead_lettered, 1);

    let refused = bus.dead_letters().replay(&letter.id).await.unwrap_err();
    assert!(
        matches!(refused, Error::TruncatedPayload { .. }),
        "{refused:?}"
    );
    assert!(
        refused.to_string().contains("900000 bytes in all"),
        "{refused}"
    );
    // Still there, and discarding it works.
    assert_eq!(bus.dead_letters().list().await.unwrap().len(), 1);
    bus.dead_letters().discard(&letter.id).await.unwrap();
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    bus.shutdown().await.unwrap();
}

/// A dead-letter stream that refuses writes (here: at its one-message limit, `discard=new`)
/// once logged at ERROR and re-delivered the event every second for ever, counted nowhere.
/// Now each refusal is counted in the subscriber's stats, the event is kept (nak'ed with a
/// growing delay, never acknowledged), and once the stream takes writes again exactly one dead
/// letter arrives.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_letter_the_stream_refuses_is_counted_and_kept_until_it_fits() {
    use async_nats::jetstream::stream::{Config, DiscardPolicy};
    use std::time::Duration;

    let backend = NatsBackend::new();
    let ns = backend.namespace.clone();
    let js = async_nats::jetstream::new(async_nats::connect(server()).await.unwrap());
    let full = Config {
        name: format!("{ns}-dead"),
        subjects: vec![format!("{ns}.dead.>")],
        max_messages: 1,
        discard: DiscardPolicy::New,
        ..Default::default()
    };
    js.create_stream(full.clone()).await.unwrap();
    // The one message it holds: not a dead letter, so listing skips it.
    js.publish(format!("{ns}.dead.filler"), "filler".into())
        .await
        .unwrap()
        .await
        .unwrap();

    let bus = (&backend as &dyn Backend)
        .bus_with([Subscriber::new("stock", |_: Arc<Ping>| async move {
            Err::<(), _>(tidings::HandlerError::permanent("out of stock"))
        })
        .concurrency(1)])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    let failures = || bus.stats().subscribers[0].dead_letter_store_failures;
    tokio::time::timeout(Duration::from_secs(10), async {
        while failures() == 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await
    .expect("the refusal is counted");
    assert_eq!(failures(), 1);
    assert!(bus.dead_letters().list().await.unwrap().is_empty());

    // The stream fixed: the event, nak'ed for a second, comes again and is dead-lettered.
    js.update_stream(Config {
        max_messages: -1,
        ..full
    })
    .await
    .unwrap();
    tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let dead = bus.dead_letters().list().await.unwrap();
            if !dead.is_empty() {
                return dead;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the dead letter is stored once the stream takes it");
    bus.wait_idle().await;
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:?}");
    assert_eq!(dead[0].error, "out of stock");
    assert_eq!(
        dead[0].attempts, 2,
        "the first delivery, then the one after the fix"
    );
    let stats = &bus.stats().subscribers[0];
    assert_eq!(
        (stats.dead_lettered, stats.dead_letter_store_failures),
        (2, 1)
    );
    bus.shutdown().await.unwrap();
}

/// Publishes on `subject` a message whose header block is not UTF-8, over the raw protocol
/// (async-nats's own header types cannot hold such bytes), and waits for the server's PONG,
/// so that JetStream has it.
async fn raw_publish_bad_header(subject: &str) {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let stream = tokio::net::TcpStream::connect(server()).await.unwrap();
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    let info = lines.next_line().await.unwrap().unwrap();
    assert!(info.starts_with("INFO"), "{info}");
    let headers: &[u8] = b"NATS/1.0\r\nce-note: \xff\xfe\xc3(\r\n\r\n";
    let body: &[u8] = b"{\"key\":\"k\",\"seq\":99}";
    let mut frame = b"CONNECT {\"headers\":true,\"verbose\":false,\"pedantic\":false}\r\n".to_vec();
    frame.extend_from_slice(
        format!(
            "HPUB {subject} {} {}\r\n",
            headers.len(),
            headers.len() + body.len()
        )
        .as_bytes(),
    );
    frame.extend_from_slice(headers);
    frame.extend_from_slice(body);
    frame.extend_from_slice(b"\r\nPING\r\n");
    write.write_all(&frame).await.unwrap();
    loop {
        let line = lines.next_line().await.unwrap().unwrap();
        assert!(!line.starts_with("-ERR"), "{line}");
        if line == "PONG" {
            break;
        }
    }
}

/// Issue 13 item 2 on NATS: async-nats (0.51, and 0.52, the newest release) closes its
/// connection on a header block that is not UTF-8, before tidings sees the message, so the
/// message came back after every ack wait for ever, dropping the connection each time, never
/// handled nor dead-lettered. Now the consumer's delivery limit ends it: after `retries + 1 +
/// 10` deliveries (as many connection drops, one per ack wait) the server gives up, and the
/// advisory it publishes makes exactly one dead letter of the message, fetched through the
/// stream's JSON API. Events before and after it are handled.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_header_that_is_not_utf8_becomes_one_dead_letter_after_the_delivery_limit() {
    use std::time::{Duration, Instant};

    let backend = NatsBackend::new();
    let seen = Log::default();
    // A short attempt timeout makes the ack wait (timeout + 5 s) short: it paces the drops.
    let bus = (&backend as &dyn Backend)
        .bus_with([Subscriber::new("stock", {
            let seen = seen.clone();
            move |ping: Arc<Ping>| {
                let seen = seen.clone();
                async move { seen.push(ping.seq) }
            }
        })
        .retries(0)
        .timeout(Duration::from_millis(100))])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(seen.items(), vec![1]);

    let started = Instant::now();
    raw_publish_bad_header(&format!("{}.events.0.test.ping", backend.namespace)).await;
    let dead = tokio::time::timeout(Duration::from_secs(120), async {
        loop {
            match bus.dead_letters().list().await {
                Ok(dead) if !dead.is_empty() => return dead,
                // Listing can meet one of the dropped connections.
                _ => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
    })
    .await
    .expect("the server gives up on the message and it becomes a dead letter");
    eprintln!(
        "dead-lettered {:?} after it was published",
        started.elapsed()
    );
    assert_eq!(dead.len(), 1, "{dead:?}");
    let letter = &dead[0];
    assert_eq!((letter.subscriber.as_str(), letter.attempts), ("stock", 11));
    assert!(
        letter.error.starts_with("header bytes are not UTF-8"),
        "{}",
        letter.error
    );
    assert_eq!(letter.envelope.data, br#"{"key":"k","seq":99}"#);

    bus.publish(Ping::new("k", 2)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(
        seen.items(),
        vec![1, 2],
        "the poison message is never handled"
    );
    assert_eq!(bus.dead_letters().list().await.unwrap().len(), 1);
    bus.shutdown().await.unwrap();
}
