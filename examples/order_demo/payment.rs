//! The payment service: captures the amount of each order.

use std::time::Duration;

use tidings::prelude::*;

use crate::events::{OrderPlaced, PaymentCaptured};

/// Talking to the payment provider takes a moment; 32 captures run at once.
#[subscriber(group = "payment", retries = 3, timeout = "5s", concurrency = 32)]
async fn capture_payment(order: &OrderPlaced, ctx: &Context) -> Result<(), HandlerError> {
    tokio::time::sleep(Duration::from_millis(1)).await;
    ctx.publish(PaymentCaptured {
        order_id: order.order_id,
        amount_cents: order.amount_cents,
    })
    .await?;
    Ok(())
}
