//! `wait_idle` on a broker: nothing held by this process's consumers, no retry of theirs on its
//! way back, and no ready message in their queues or in the delay queues this process used.

use std::time::Duration;

use super::link::Link;

/// How often the broker is asked while waiting.
const POLL: Duration = Duration::from_millis(25);

/// Consecutive quiet looks needed: a message moving between two queues inside the broker (a
/// retry expiring back into its queue) or from the broker to a consumer is briefly in neither.
const QUIET_LOOKS: u32 = 2;

pub(crate) async fn wait(link: &Link) {
    let mut quiet = 0;
    loop {
        if looks_idle(link).await {
            quiet += 1;
            if quiet == QUIET_LOOKS {
                return;
            }
        } else {
            quiet = 0;
        }
        tokio::time::sleep(POLL).await;
    }
}

async fn looks_idle(link: &Link) -> bool {
    let consumers = link.live_consumers();
    if !consumers.iter().all(|consumer| consumer.is_quiet()) {
        return false;
    }
    for consumer in &consumers {
        match consumer.ready_on_broker().await {
            Ok(ready) => {
                // Fresh numbers for `stats()` too, so that it agrees with an idle bus.
                consumer
                    .queued_on_broker
                    .store(ready, std::sync::atomic::Ordering::Relaxed);
                if ready > 0 {
                    return false;
                }
            }
            Err(error) => {
                tracing::debug!(%error, "counting a queue while waiting for idle");
                return false;
            }
        }
    }
    let delay_queues = link.delay_queues.lock().expect("delay queues lock").clone();
    for queue in delay_queues {
        if !matches!(link.count(&queue).await, Ok((0, _))) {
            return false;
        }
    }
    true
}
