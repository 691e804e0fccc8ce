//! `tail` on RabbitMQ: a private, exclusive queue bound to the event's exchange under every
//! partition. It gets a copy of each event from any process and goes away with its channel;
//! the subscribers' queues never notice it.

use lapin::options::{BasicConsumeOptions, QueueDeclareOptions};
use lapin::types::FieldTable;

use super::consumer::read_envelope;
use super::link::Link;
use super::topology::{routing_key, short};
use tidings_core::Envelope;
use tidings_core::Result;
use tidings_core::Tail;
use tidings_core::transport::partition::PARTITIONS;
use tidings_core::transport::tail_channel;

pub(super) async fn open(link: &Link, event_name: &str) -> Result<Tail> {
    let exchange = link.event_exchange(event_name).await?;
    let channel = link.open_channel().await?;
    let private = QueueDeclareOptions {
        exclusive: true,
        auto_delete: true,
        ..QueueDeclareOptions::default()
    };
    let declare = channel.queue_declare(short("")?, private, FieldTable::default());
    let queue = link.call("declare a tail queue", declare).await?;
    let queue = queue.name().to_string();
    for partition in 0..PARTITIONS {
        link.bind(&channel, &queue, &exchange, routing_key(partition))
            .await?;
    }
    let consume = channel.basic_consume(
        short(&queue)?,
        short("")?,
        BasicConsumeOptions {
            no_ack: true,
            ..BasicConsumeOptions::default()
        },
        FieldTable::default(),
    );
    let mut messages = link.call("consume the tail queue", consume).await?;
    let (sender, tail) = tail_channel();
    let event_name = event_name.to_owned();
    tokio::spawn(async move {
        let read = |message: lapin::Result<lapin::message::Delivery>| {
            let message = message.ok()?;
            Some(
                read_envelope(&message, &event_name)
                    .unwrap_or_else(|_| Envelope::new(event_name.clone(), message.data.clone())),
            )
        };
        sender.forward(&mut messages, read).await;
        // Closing the channel deletes the exclusive queue.
        let _ = channel.close(200, "tail closed".into()).await;
    });
    Ok(tail)
}
