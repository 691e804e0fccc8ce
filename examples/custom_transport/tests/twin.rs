//! What the conformance suite leaves to each transport: its URL, which buses share an engine,
//! and tails.

extern crate tidings_example_custom_transport as _;

use std::sync::Arc;

use tidings::{Bus, BusBuilder, Subscriber};
use tidings_conformance::{Log, Ping, Pong};

/// A builder for a bus on `url`, running only the subscribers it is given.
fn on(url: &str) -> BusBuilder {
    Bus::builder().url(url).manual()
}

/// A bus on `url` with no subscribers.
async fn bus_on(url: &str) -> Bus {
    on(url).build().await.expect("the bus builds")
}

#[tokio::test]
async fn a_tail_shows_the_events_of_its_name_as_they_are_published() {
    let bus = bus_on("twin://tailed").await;
    let mut tail = bus.tail("test.ping").await.unwrap();
    let first = bus.publish(Ping::new("a", 1)).await.unwrap();
    bus.publish(Pong { seq: 2 }).await.unwrap();
    let third = bus.publish(Ping::new("b", 3)).await.unwrap();

    // The pong in between is not shown: the next ping follows the first directly.
    for (id, key) in [(first, "a"), (third, "b")] {
        let shown = tail.next().await.expect("the tail is open");
        assert_eq!(
            (
                shown.id,
                shown.event_type.as_str(),
                shown.subject.as_deref()
            ),
            (id, "test.ping", Some(key))
        );
    }
    assert_eq!(tail.missed(), 0);
}

#[tokio::test]
async fn buses_naming_different_engines_share_nothing() {
    let received: Log<u32> = Log::default();
    let subscriber = on("twin://here")
        .subscribe(Subscriber::new("sink", {
            let received = received.clone();
            move |ping: Arc<Ping>| {
                received.push(ping.seq);
                std::future::ready(())
            }
        }))
        .build()
        .await
        .unwrap();
    let elsewhere = bus_on("twin://elsewhere").await;
    let same = bus_on("twin://here").await;

    elsewhere.publish(Ping::new("k", 1)).await.unwrap();
    same.publish(Ping::new("k", 2)).await.unwrap();
    same.wait_idle().await;
    elsewhere.wait_idle().await;
    assert_eq!(
        received.items(),
        vec![2],
        "only the bus on `twin://here` reached it"
    );
    subscriber.shutdown().await.unwrap();
}

#[tokio::test]
async fn a_url_without_a_name_is_refused_saying_what_a_twin_url_is() {
    for url in ["twin://", "twin://x?size=3", "twin://user:secret@x"] {
        let error = on(url).build().await.unwrap_err();
        let message = error.to_string();
        assert!(
            message.contains("a twin URL is `twin://NAME`"),
            "{url}: {message}"
        );
        assert!(!message.contains("secret"), "{message}");
    }
}
