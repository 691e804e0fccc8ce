//! Measures replaying and discarding many dead letters on a transport: one call per letter
//! (how `tidings dlq … --all` worked before, each call looking its letter up among all) against
//! one bulk call (`replay_many` / `discard_many`, what it does now).
//!
//! ```text
//! cargo run -p tidings-cli --features nats,amqp --example dlq_bulk -- URL LETTERS [one-by-one]
//! ```
//!
//! Prints the seconds each step took; asserts nothing about them.

use std::time::Instant;

use serde::{Deserialize, Serialize};
use tidings::{Bus, Event, HandlerError, Subscriber};

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "bench.parcel")]
struct Parcel {
    n: u64,
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let url = args
        .next()
        .ok_or("usage: dlq_bulk URL LETTERS [one-by-one]")?;
    let letters: u64 = args.next().ok_or("say how many letters")?.parse()?;
    let one_by_one = args.next().as_deref() == Some("one-by-one");
    let bus = Bus::builder()
        .url(&url)
        .manual()
        .subscribe(
            Subscriber::new("refuser", |_: Parcel| async {
                Err::<(), _>(HandlerError::permanent_msg("refused for the measurement"))
            })
            .group("bench")
            .concurrency(32),
        )
        .build()
        .await?;
    for action in ["replay", "discard"] {
        let made = Instant::now();
        for n in 0..letters {
            bus.publish(Parcel { n }).await?;
        }
        bus.wait_idle().await;
        let ids = letter_ids(&bus).await?;
        assert_eq!(ids.len() as u64, letters, "every parcel dead-lettered");
        println!(
            "{letters} dead letters made in {:.1}s",
            made.elapsed().as_secs_f64()
        );
        let started = Instant::now();
        let failed = if one_by_one {
            let mut failed = 0;
            for id in &ids {
                let outcome = match action {
                    "replay" => bus.dead_letters().replay(id).await,
                    _ => bus.dead_letters().discard(id).await,
                };
                failed += usize::from(outcome.is_err());
            }
            failed
        } else {
            match action {
                "replay" => bus.dead_letters().replay_many(&ids).await?.len(),
                _ => bus.dead_letters().discard_many(&ids).await?.len(),
            }
        };
        let took = started.elapsed();
        println!(
            "{action} {letters} {}: {:.2}s ({failed} failed)",
            if one_by_one { "one by one" } else { "in bulk" },
            took.as_secs_f64()
        );
        // Replayed parcels fail again into new letters: clear them before the next step.
        bus.wait_idle().await;
        let left = letter_ids(&bus).await?;
        bus.dead_letters().discard_many(&left).await?;
    }
    bus.shutdown().await?;
    Ok(())
}

/// The ids of the bus's dead letters, read from their summaries.
async fn letter_ids(bus: &Bus) -> tidings::Result<Vec<tidings::DeadLetterId>> {
    let summaries = bus.dead_letters().summaries().await?;
    Ok(summaries.into_iter().map(|summary| summary.id).collect())
}
