//! [`Inbox`]: where a broker consumer's pump puts what it received and the subscriber's workers
//! take it from, with the receipt (ack handle) that settles each. One for every transport, so
//! that none writes its own pump → channel → shared receiver.

use std::collections::VecDeque;

use tokio::sync::{Mutex, mpsc};

use crate::delivery::Delivery;

/// Creates an inbox holding at most `capacity` deliveries (at least one): a pump sends into
/// [`InboxSender`], the workers [`fetch`](Inbox::fetch) from the [`Inbox`].
pub fn inbox<R: Send + 'static>(capacity: usize) -> (InboxSender<R>, Inbox<R>) {
    let (sender, receiver) = mpsc::channel(capacity.max(1));
    (
        InboxSender(sender),
        Inbox {
            receiver: Mutex::new(receiver),
        },
    )
}

/// The pump's end of an [`Inbox`].
#[derive(Debug)]
pub struct InboxSender<R>(mpsc::Sender<(Delivery, R)>);

impl<R> Clone for InboxSender<R> {
    fn clone(&self) -> Self {
        InboxSender(self.0.clone())
    }
}

/// The inbox was closed: the consumer is stopping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InboxClosed;

impl<R: Send + 'static> InboxSender<R> {
    /// Waits for room, then puts a delivery and its receipt in; the pair comes back if the
    /// inbox closed meanwhile, for the pump to hand the message back to its broker.
    pub async fn send(&self, delivery: Delivery, receipt: R) -> Result<(), (Delivery, R)> {
        self.0
            .send((delivery, receipt))
            .await
            .map_err(|mpsc::error::SendError(pair)| pair)
    }

    /// Puts a delivery in if there is room now; gives the pair back if not.
    #[expect(
        clippy::result_large_err,
        reason = "the pair comes back as it went in, for the caller to keep; boxing it would \
                  allocate on every handover"
    )]
    pub fn try_send(&self, delivery: Delivery, receipt: R) -> Result<(), (Delivery, R)> {
        self.0
            .try_send((delivery, receipt))
            .map_err(|error| match error {
                mpsc::error::TrySendError::Full(pair) | mpsc::error::TrySendError::Closed(pair) => {
                    pair
                }
            })
    }

    /// Waits until there is room for at least one delivery, and says how much: what a pump
    /// asks its broker for, so that nothing waits here long enough to outlive its deadline.
    pub async fn room(&self) -> Result<usize, InboxClosed> {
        let permit = self.0.reserve().await.map_err(|_| InboxClosed)?;
        drop(permit);
        Ok(self.0.capacity().max(1))
    }
}

/// The workers' end: deliveries in the order the pump received them.
#[derive(Debug)]
pub struct Inbox<R> {
    receiver: Mutex<mpsc::Receiver<(Delivery, R)>>,
}

impl<R: Send + 'static> Inbox<R> {
    /// Waits for a delivery and moves it into `batch`. Once the inbox is closed this never
    /// returns: the bus is stopping its workers.
    pub async fn fetch(&self, batch: &mut VecDeque<(Delivery, R)>) {
        match self.receiver.lock().await.recv().await {
            Some(pair) => batch.push_back(pair),
            None => std::future::pending().await,
        }
    }

    /// Closes the inbox and returns what no worker took, for the transport to hand back to
    /// its broker (so that another instance gets it at once).
    pub async fn close(&self) -> Vec<(Delivery, R)> {
        let mut receiver = self.receiver.lock().await;
        receiver.close();
        let mut left = Vec::new();
        while let Some(pair) = receiver.recv().await {
            left.push(pair);
        }
        left
    }
}
