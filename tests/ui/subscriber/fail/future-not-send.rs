use serde::{Deserialize, Serialize};
use tidings::prelude::*;

#[derive(Debug, Clone, Serialize, Deserialize, Event)]
pub struct OrderPlaced {
    pub order_id: u64,
}

#[subscriber]
async fn reserve_stock(_order: &OrderPlaced, ctx: &Context) {
    let reserved = std::rc::Rc::new(1);
    ctx.publish(OrderPlaced { order_id: 2 }).await.unwrap();
    drop(reserved);
}

fn main() {}
