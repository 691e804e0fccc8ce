//! Dead letters: list, get, replay to one subscriber, discard.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::Backend;
use crate::{Log, Ping};
use tidings::{Context, Error, HandlerError, Subscriber};

/// Fails every event until `healthy` is set.
fn until_healthy(healthy: Arc<AtomicBool>, attempts: Log<u32>) -> Subscriber {
    Subscriber::new("fragile", move |_: Arc<Ping>, ctx: Context| {
        attempts.push(ctx.attempt());
        let result = match healthy.load(Ordering::SeqCst) {
            true => Ok(()),
            false => Err(HandlerError::permanent_msg("database is down")),
        };
        std::future::ready(result)
    })
}

fn counter(name: &str, log: Log<u32>) -> Subscriber {
    Subscriber::new(name, move |ping: Arc<Ping>| {
        log.push(ping.seq);
        std::future::ready(())
    })
}

pub async fn a_dead_letter_records_what_failed_where_and_when(backend: &dyn Backend) {
    let healthy = Arc::new(AtomicBool::new(false));
    let bus = backend
        .builder()
        .source("orders-service")
        .subscribe(until_healthy(healthy, Log::default()).group("billing"))
        .build()
        .await
        .unwrap();
    let id = bus.publish(Ping::new("order-7", 7)).await.unwrap();
    bus.wait_idle().await;

    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);
    let letter = &dead[0];
    assert_eq!(
        (
            letter.subscriber.as_str(),
            letter.group.as_str(),
            letter.event_name.as_str()
        ),
        ("fragile", "billing", "test.ping")
    );
    assert_eq!(
        (letter.error.as_str(), letter.attempts),
        ("database is down", 1)
    );
    assert!(letter.first_failed_at <= letter.last_failed_at);
    let envelope = &letter.envelope;
    assert_eq!(
        (envelope.id, envelope.event_type.as_str(), envelope.version),
        (id, "test.ping", 1)
    );
    assert_eq!(
        (envelope.source.as_str(), envelope.subject.as_deref()),
        ("orders-service", Some("order-7"))
    );
    assert_eq!(envelope.correlation_id, Some(id));
    assert_eq!(
        envelope.json().unwrap(),
        serde_json_value(&Ping::new("order-7", 7))
    );

    let fetched = bus.dead_letters().get(&letter.id).await.unwrap().unwrap();
    assert_eq!(fetched.id, letter.id);
}

fn serde_json_value(ping: &Ping) -> serde_json::Value {
    serde_json::json!({ "key": ping.key, "seq": ping.seq })
}

pub async fn replay_redelivers_to_that_subscriber_only_from_attempt_one(backend: &dyn Backend) {
    let healthy = Arc::new(AtomicBool::new(false));
    let (attempts, bystander) = (Log::default(), Log::default());
    let bus = backend
        .bus_with([
            until_healthy(healthy.clone(), attempts.clone()),
            counter("bystander", bystander.clone()),
        ])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    let id = bus.dead_letters().list().await.unwrap()[0].id;

    healthy.store(true, Ordering::SeqCst);
    bus.dead_letters().replay(&id).await.unwrap();
    bus.wait_idle().await;

    assert_eq!(
        attempts.items(),
        vec![1, 1],
        "replay starts again at attempt 1"
    );
    assert_eq!(
        bystander.items(),
        vec![1],
        "other subscribers do not see the replay"
    );
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    assert!(bus.dead_letters().get(&id).await.unwrap().is_none());
    let stats = bus.stats();
    let fragile = stats.subscriber("fragile").unwrap();
    assert_eq!((fragile.handled, fragile.dead_lettered), (1, 1));
    assert!(
        matches!(bus.dead_letters().replay(&id).await, Err(Error::DeadLetterNotFound(missing)) if missing == id)
    );
}

pub async fn a_replay_that_fails_again_makes_a_new_dead_letter(backend: &dyn Backend) {
    let bus = backend
        .bus_with([until_healthy(
            Arc::new(AtomicBool::new(false)),
            Log::default(),
        )])
        .await;
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    let first = bus.dead_letters().list().await.unwrap()[0].clone();
    bus.dead_letters().replay(&first.id).await.unwrap();
    bus.wait_idle().await;
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_ne!(dead[0].id, first.id);
    assert_eq!(dead[0].envelope.id, first.envelope.id, "same event");
}

pub async fn discard_removes_a_dead_letter_for_good(backend: &dyn Backend) {
    let bus = backend
        .bus_with([until_healthy(
            Arc::new(AtomicBool::new(false)),
            Log::default(),
        )])
        .await;
    for seq in 0..3 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.wait_idle().await;
    let dead = bus.dead_letters().list().await.unwrap();
    assert_eq!(dead.len(), 3);
    bus.dead_letters().discard(&dead[1].id).await.unwrap();
    let left = letter_ids(&bus).await;
    assert_eq!(left, vec![dead[0].id, dead[2].id]);
    assert!(matches!(
        bus.dead_letters().discard(&dead[1].id).await,
        Err(Error::DeadLetterNotFound(_))
    ));
}

/// The bulk forms the CLI's `--all` uses: each id acted on once, the missing ones reported.
pub async fn replay_many_and_discard_many_act_on_each_and_report_the_missing(
    backend: &dyn Backend,
) {
    let healthy = Arc::new(AtomicBool::new(false));
    let attempts = Log::default();
    let bus = backend
        .bus_with([until_healthy(Arc::clone(&healthy), attempts.clone())])
        .await;
    for seq in 0..4u32 {
        bus.publish(Ping::new(&format!("k{seq}"), seq))
            .await
            .unwrap();
    }
    bus.wait_idle().await;
    let dead = letter_ids(&bus).await;
    assert_eq!(dead.len(), 4);
    let unknown: tidings::DeadLetterId = "0190a0a0-0000-7000-8000-000000000000".parse().unwrap();

    let failed = bus
        .dead_letters()
        .discard_many(&[dead[0], unknown, dead[1]])
        .await
        .unwrap();
    assert_eq!(failed.len(), 1, "{failed:?}");
    assert!(
        matches!(failed[0], (id, Error::DeadLetterNotFound(missing)) if id == unknown && missing == unknown)
    );
    let left = letter_ids(&bus).await;
    assert_eq!(left, vec![dead[2], dead[3]]);

    healthy.store(true, Ordering::SeqCst);
    let failed = bus.dead_letters().replay_many(&left).await.unwrap();
    assert!(failed.is_empty(), "{failed:?}");
    bus.wait_idle().await;
    assert!(bus.dead_letters().list().await.unwrap().is_empty());
    // 4 failed first attempts, then the 2 replayed events handled at attempt 1.
    assert_eq!(attempts.items(), vec![1, 1, 1, 1, 1, 1]);
}

/// The ids of the bus's dead letters, oldest first.
async fn letter_ids(bus: &tidings::Bus) -> Vec<tidings::DeadLetterId> {
    let letters = bus.dead_letters().list().await.unwrap();
    letters.into_iter().map(|letter| letter.id).collect()
}
