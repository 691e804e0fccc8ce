//! The stock service: reserves items for each order.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tidings::prelude::*;

use crate::events::{OrderPlaced, StockReserved};

/// Units on hand per SKU.
#[derive(Clone, Debug)]
pub(crate) struct Inventory(Arc<Mutex<HashMap<String, u64>>>);

impl Inventory {
    pub(crate) fn stocked(skus: &[&str], units: u64) -> Self {
        Inventory(Arc::new(Mutex::new(
            skus.iter().map(|sku| (sku.to_string(), units)).collect(),
        )))
    }

    fn reserve(&self, sku: &str, qty: u32) -> Result<(), HandlerError> {
        let mut stock = self.0.lock().expect("inventory lock");
        let Some(units) = stock.get_mut(sku) else {
            // No retry will make an unknown product exist: dead-letter it straight away.
            return Err(HandlerError::permanent_msg(format!("unknown SKU `{sku}`")));
        };
        *units = units
            .checked_sub(u64::from(qty))
            .ok_or_else(|| HandlerError::permanent_msg(format!("`{sku}` is sold out")))?;
        Ok(())
    }
}

/// The warehouse API times out now and then (here: deterministically, on the first attempt for
/// every 25th order); the bus retries with backoff.
#[subscriber(
    group = "stock",
    retries = 4,
    backoff = "exponential(20ms, 1s)",
    timeout = "2s",
    concurrency = 16
)]
async fn reserve_stock(
    order: &OrderPlaced,
    ctx: &Context,
    State(inventory): State<Inventory>,
) -> Result<(), HandlerError> {
    if order.order_id.is_multiple_of(25) && ctx.attempt() == 1 {
        return Err(HandlerError::msg("warehouse API timed out"));
    }
    inventory.reserve(&order.sku, order.qty)?;
    ctx.publish(StockReserved {
        order_id: order.order_id,
        sku: order.sku.clone(),
        qty: order.qty,
    })
    .await?;
    Ok(())
}
