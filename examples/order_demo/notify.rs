//! SMS notifications, added later by another team. Nothing in the order, stock, payment or
//! logistics code changed for it: this module subscribes, and that is all.
//!
//! The SMS gateway accepts 2,500 messages a second, so this subscriber is rate-limited: a burst
//! of orders waits in its bounded queue and drains at the gateway's pace (peak shaving).

use std::sync::Arc;

use tidings::prelude::*;

use crate::events::{OrderPlaced, OrderShipped};

#[subscriber(group = "notify", rate = "2500/s", concurrency = 8)]
async fn sms_order_received(order: Arc<OrderPlaced>) {
    let _sms = format!(
        "Thanks! Order {} is confirmed. Sent to {}",
        order.order_id, order.customer_phone
    );
}

#[subscriber(group = "notify", concurrency = 8)]
async fn sms_order_shipped(shipped: &OrderShipped) {
    let _sms = format!(
        "Order {} is on its way: {}",
        shipped.order_id, shipped.tracking
    );
}
