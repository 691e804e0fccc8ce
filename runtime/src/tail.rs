//! [`Tail`]: a live view of one event as it passes, for `tidings tail` and the admin endpoint.
//!
//! A tail watches and never takes part: it is not a subscriber, holds nothing back and
//! acknowledges nothing. A tail that reads too slowly misses events rather than slow the bus
//! down; [`Tail::missed`] counts them.

use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use tokio::sync::mpsc;

use crate::dead_letter::Envelope;

/// Events a tail holds before it starts missing some.
const BUFFER: usize = 1024;

/// Events of one name as they are published; see [`Bus::tail`](crate::Bus::tail).
#[derive(Debug)]
pub struct Tail {
    receiver: mpsc::Receiver<Envelope>,
    missed: Arc<AtomicU64>,
}

impl Tail {
    /// The next event, or `None` once the transport closed.
    pub async fn next(&mut self) -> Option<Envelope> {
        self.receiver.recv().await
    }

    /// Events this tail did not show because it read too slowly.
    pub fn missed(&self) -> u64 {
        self.missed.load(Ordering::Relaxed)
    }
}

/// The transport's end of a [`Tail`].
#[derive(Debug, Clone)]
pub struct TailSender {
    sender: mpsc::Sender<Envelope>,
    missed: Arc<AtomicU64>,
}

/// A new tail and the transport's end of it.
pub fn channel() -> (TailSender, Tail) {
    let (sender, receiver) = mpsc::channel(BUFFER);
    let missed = Arc::new(AtomicU64::new(0));
    let tail = Tail {
        receiver,
        missed: Arc::clone(&missed),
    };
    (TailSender { sender, missed }, tail)
}

impl TailSender {
    /// Hands an event to the tail without waiting; `false` once the tail is gone.
    pub fn offer(&self, envelope: Envelope) -> bool {
        match self.sender.try_send(envelope) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.missed.fetch_add(1, Ordering::Relaxed);
                true
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        }
    }

    /// Whether the tail was dropped: a transport that keeps senders for tails can forget this
    /// one without waiting for an event to offer it.
    pub fn is_closed(&self) -> bool {
        self.sender.is_closed()
    }

    /// Feeds the tail from a broker subscription until the tail is dropped, the subscription
    /// ends, or `read` finds nothing more to show.
    pub async fn forward<M>(
        &self,
        mut messages: impl futures_util::Stream<Item = M> + Unpin,
        read: impl Fn(M) -> Option<Envelope>,
    ) {
        use futures_util::StreamExt;
        loop {
            let message = tokio::select! {
                () = self.sender.closed() => return,
                message = messages.next() => message,
            };
            let shown = message
                .and_then(&read)
                .is_some_and(|envelope| self.offer(envelope));
            if !shown {
                return;
            }
        }
    }
}

/// The tails open on an in-process engine. Publishing checks one flag while none is open.
#[derive(Default)]
pub(crate) struct Taps {
    any: AtomicBool,
    open: Mutex<Vec<(String, TailSender)>>,
}

impl Taps {
    pub(crate) fn open(&self, event_name: &str) -> Tail {
        let (sender, tail) = channel();
        let mut open = self.open.lock().expect("taps lock");
        open.push((event_name.to_owned(), sender));
        self.any.store(true, Ordering::Release);
        tail
    }

    /// Whether any tail is open, so a publish builds an envelope only when one might show it.
    pub(crate) fn watching(&self) -> bool {
        self.any.load(Ordering::Acquire)
    }

    /// Shows an event to the tails of its name, and forgets the tails that were dropped.
    pub(crate) fn show(&self, event_name: &str, envelope: impl FnOnce() -> Option<Envelope>) {
        let mut open = self.open.lock().expect("taps lock");
        let watched = open.iter().any(|(name, _)| name == event_name);
        let shown = if watched { envelope() } else { None };
        open.retain(|(name, sender)| match &shown {
            Some(shown) if name == event_name => sender.offer(shown.clone()),
            _ => !sender.is_closed(),
        });
        self.any.store(!open.is_empty(), Ordering::Release);
    }
}
