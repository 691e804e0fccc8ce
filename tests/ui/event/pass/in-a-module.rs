#![deny(warnings)]

mod events {
    use serde::{Deserialize, Serialize};

    /// Derived through a path, in a module, with nothing imported but serde.
    #[derive(Debug, Clone, Serialize, Deserialize, tidings::Event)]
    #[event(name = "stock.reserved")]
    pub struct StockReserved {
        #[event(key)]
        pub sku: String,
    }
}

use tidings::Event as _;

fn main() {
    assert_eq!(events::StockReserved::NAME, "stock.reserved");
}
