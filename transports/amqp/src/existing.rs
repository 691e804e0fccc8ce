//! Opening a namespace that must already exist ([`TransportUrl::must_exist`], the CLI): its
//! queue and exchanges are looked up by passive declares, never declared, and one that is not
//! there is an error naming it.
//!
//! [`TransportUrl::must_exist`]: tidings_core::transport::TransportUrl::must_exist

use lapin::options::ExchangeDeclareOptions;
use lapin::types::FieldTable;
use lapin::{Channel, ExchangeKind};

use super::link::Link;
use super::topology::short;
use tidings_core::{Error, Result};

impl Link {
    /// Fails, naming the queue and the namespace, unless `queue` exists.
    pub(crate) async fn expect_queue(&self, queue: &str) -> Result<()> {
        match self.count(queue).await {
            Err(error) if is_not_found(&error) => Err(self.error(format!(
                "there is no queue `{queue}` here: no bus ran on namespace `{}` in this vhost; \
                 check `namespace=` and the vhost",
                self.settings.namespace
            ))),
            other => other.map(drop),
        }
    }

    /// Fails, naming the exchange, unless `exchange` exists.
    pub(crate) async fn expect_exchange(
        &self,
        channel: &Channel,
        exchange: &str,
        kind: ExchangeKind,
    ) -> Result<()> {
        let options = ExchangeDeclareOptions {
            passive: true,
            durable: true,
            ..ExchangeDeclareOptions::default()
        };
        let declare =
            channel.exchange_declare(short(exchange)?, kind, options, FieldTable::default());
        match self
            .call(&format!("look up exchange `{exchange}`"), declare)
            .await
        {
            Err(error) if is_not_found(&error) => Err(self.error(format!(
                "there is no exchange `{exchange}` here: no event of that name was published on \
                 namespace `{}`; check the event name and `namespace=`",
                self.settings.namespace
            ))),
            other => other,
        }
    }
}

fn is_not_found(error: &Error) -> bool {
    matches!(error, Error::Broker { problem, .. } if problem.contains("NOT_FOUND"))
}
