//! Poison input from raw AMQP publishers: each costs exactly one dead letter with why, never a
//! consumer, and the event published after it is handled.

use lapin::types::AMQPValue;
use tidings::EventId;
use tidings_tests::Log;

use super::{AmqpBackend, publish_table, reading};

fn text(value: &str) -> AMQPValue {
    AMQPValue::LongString(value.into())
}

/// The CloudEvents AMQP binding carries a String attribute as a string: an integer
/// `cloudEvents:id` is not the event's id. tidings used to ignore it and handle the event
/// under a new id; now it is one dead letter that says why. An Integer attribute (`version`)
/// may come as an integer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_integer_cloudevents_id_is_dead_lettered_and_an_integer_version_read() {
    let backend = AmqpBackend::new();
    let handled = Log::default();
    let (bus, queue) = reading(&backend, &handled).await;

    let integer_id = vec![
        ("cloudEvents:id", AMQPValue::LongLongInt(42)),
        ("cloudEvents:type", text("test.ping")),
    ];
    publish_table(&queue, integer_id, br#"{"key":"k","seq":1}"#).await;
    let integer_version = vec![
        ("cloudEvents:id", text(&EventId::new().to_string())),
        ("cloudEvents:type", text("test.ping")),
        ("cloudEvents:version", AMQPValue::LongInt(1)),
    ];
    publish_table(&queue, integer_version, br#"{"key":"k","seq":2}"#).await;
    bus.wait_idle().await;

    assert_eq!(handled.items(), vec![2]);
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1, "{dead:#?}");
    assert!(
        dead[0]
            .error
            .contains("header `cloudEvents:id` is an AMQP LongLongInt(42), not a string"),
        "{}",
        dead[0].error
    );
    assert_eq!(
        (dead[0].attempts, dead[0].envelope.data.as_slice()),
        (1, br#"{"key":"k","seq":1}"#.as_slice())
    );
    bus.shutdown().await.unwrap();
}

/// A `cloudEvents:time` outside what RFC 3339 writes in UTC, on a body that does not decode:
/// writing its dead letter once panicked in the settle and killed one consumer per message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_time_that_cannot_be_written_back_costs_one_dead_letter_each() {
    let backend = AmqpBackend::new();
    let handled = Log::default();
    let (bus, queue) = reading(&backend, &handled).await;
    for time in ["1970-01-01T00:00:00+01:00", "9999-12-31T23:59:59-23:59"] {
        let headers = vec![
            ("cloudEvents:id", text(&EventId::new().to_string())),
            ("cloudEvents:type", text("test.ping")),
            ("cloudEvents:time", text(time)),
        ];
        publish_table(&queue, headers, b"{not json").await;
    }
    publish_table(&queue, vec![], br#"{"key":"k","seq":3}"#).await;
    bus.wait_idle().await;

    assert_eq!(handled.items(), vec![3]);
    let mut errors: Vec<String> = bus
        .dead_letters()
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|letter| letter.error)
        .collect();
    errors.sort();
    assert_eq!(errors.len(), 2, "{errors:?}");
    for (error, why) in errors.iter().zip(["after 9999", "before 1970"]) {
        assert!(
            error.contains("header `cloudEvents:time`") && error.contains(why),
            "{error}"
        );
    }
    bus.shutdown().await.unwrap();
}

/// A `datacontenttype` can be any length, the AMQP `content-type` property 255 bytes: lapin's
/// `ShortString::from` panicked in the publish (and would in any settle that republishes such
/// an envelope). The long content type now travels in a header of tidings' own.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_content_type_longer_than_amqp_carries_does_not_panic_the_publish() {
    let backend = AmqpBackend::new();
    let handled = Log::default();
    let (bus, _) = reading(&backend, &handled).await;
    let mut envelope = tidings::Envelope::new("test.ping", br#"{"key":"k","seq":4}"#.to_vec());
    envelope.datacontenttype = format!("application/json; profile={}", "x".repeat(300));
    bus.publish_envelope(envelope).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(handled.items(), vec![4]);
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    bus.shutdown().await.unwrap();
}
