//! The events of the order flow. Producers publish them; they never name a consumer.

use serde::{Deserialize, Serialize};
use tidings::Event;

/// A customer placed an order (published by the order service).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "orders.placed", version = 1)]
pub struct OrderPlaced {
    #[event(key)]
    pub order_id: u64,
    pub customer_phone: String,
    pub sku: String,
    pub qty: u32,
    pub amount_cents: u64,
}

/// Stock was set aside for an order (published by the stock service).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "stock.reserved", version = 1)]
pub struct StockReserved {
    #[event(key)]
    pub order_id: u64,
    pub sku: String,
    pub qty: u32,
}

/// The payment went through (published by the payment service).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "payments.captured", version = 1)]
pub struct PaymentCaptured {
    #[event(key)]
    pub order_id: u64,
    pub amount_cents: u64,
}

/// The parcel left the warehouse (published by logistics).
#[derive(Debug, Clone, Serialize, Deserialize, Event)]
#[event(name = "logistics.shipped", version = 1)]
pub struct OrderShipped {
    #[event(key)]
    pub order_id: u64,
    pub tracking: String,
}
