//! The events of the order flow. Producers publish them; they never name a consumer.

use serde::{Deserialize, Serialize};
use tidings::Event;

/// A customer placed an order (published by the order service).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "orders.placed", version = 1)]
pub(crate) struct OrderPlaced {
    #[event(key)]
    pub(crate) order_id: u64,
    pub(crate) customer_phone: String,
    pub(crate) sku: String,
    pub(crate) qty: u32,
    pub(crate) amount_cents: u64,
}

/// Stock was set aside for an order (published by the stock service).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "stock.reserved", version = 1)]
pub(crate) struct StockReserved {
    #[event(key)]
    pub(crate) order_id: u64,
    pub(crate) sku: String,
    pub(crate) qty: u32,
}

/// The payment went through (published by the payment service).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "payments.captured", version = 1)]
pub(crate) struct PaymentCaptured {
    #[event(key)]
    pub(crate) order_id: u64,
    pub(crate) amount_cents: u64,
}

/// The parcel left the warehouse (published by logistics).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "logistics.shipped", version = 1)]
pub(crate) struct OrderShipped {
    #[event(key)]
    pub(crate) order_id: u64,
    pub(crate) tracking: String,
}
