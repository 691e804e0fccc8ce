//! Logistics: ships an order once its stock is reserved, one order at a time per order id.

use tidings::prelude::*;

use crate::events::{OrderShipped, StockReserved};

#[subscriber(group = "logistics", ordered, concurrency = 16)]
async fn ship_order(reserved: &StockReserved, ctx: &Context) -> Result<(), HandlerError> {
    let tracking = format!("TRK-{:08}", reserved.order_id);
    ctx.publish(OrderShipped {
        order_id: reserved.order_id,
        tracking,
    })
    .await?;
    Ok(())
}
