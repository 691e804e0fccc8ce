//! Building (validation, state) and shutting down (drain, deadline, intake closed).

use std::sync::Arc;
use std::time::Duration;

use crate::Backend;
use crate::{Log, Ping};
use tidings::{Context, Error, State, Subscriber};

#[derive(Clone)]
struct Db(Log<u32>);

pub async fn state_reaches_handlers(backend: &dyn Backend) {
    let db = Db(Log::default());
    let bus = backend
        .builder()
        .state(db.clone())
        .state(42_u64)
        .subscribe(Subscriber::new(
            "writer",
            |ping: Arc<Ping>, State(db): State<Db>, State(offset): State<u64>| async move {
                db.0.push(ping.seq + u32::try_from(offset).unwrap());
            },
        ))
        .build()
        .await
        .unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!(db.0.items(), vec![43]);
}

pub async fn groups_select_which_subscribers_run(backend: &dyn Backend) {
    let (stock, payment) = (Log::default(), Log::default());
    let counter = |log: Log<u32>| {
        move |ping: Arc<Ping>| {
            log.push(ping.seq);
            std::future::ready(())
        }
    };
    let bus = backend
        .builder()
        .subscribe(Subscriber::new("reserve", counter(stock.clone())).group("stock"))
        .subscribe(Subscriber::new("capture", counter(payment.clone())).group("payment"))
        .groups(["stock"])
        .build()
        .await
        .unwrap();
    bus.publish(Ping::new("k", 1)).await.unwrap();
    bus.wait_idle().await;
    assert_eq!((stock.len(), payment.len()), (1, 0));
    assert_eq!(bus.stats().subscribers.len(), 1);
}

pub async fn shutdown_drains_accepted_work_then_refuses_publishes(backend: &dyn Backend) {
    let handled = Log::default();
    let handler = {
        let handled = handled.clone();
        move |ping: Arc<Ping>, ctx: Context| {
            let handled = handled.clone();
            async move {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if ping.seq < 3 {
                    // Follow-ups published while draining still count as accepted work.
                    ctx.publish(Ping::new("follow-up", ping.seq + 100))
                        .await
                        .unwrap();
                }
                handled.push(ping.seq);
            }
        }
    };
    let bus = backend
        .bus_with([Subscriber::new("slow", handler).concurrency(2)])
        .await;
    for seq in 0..10 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    bus.shutdown().await.unwrap();

    assert_eq!(
        handled.len(),
        13,
        "all 10 accepted events and their 3 follow-ups were handled"
    );
    assert!(matches!(
        bus.publish(Ping::new("k", 99)).await,
        Err(Error::ShutDown)
    ));
    bus.shutdown().await.unwrap();
}

pub async fn shutdown_reports_what_it_could_not_finish_by_the_deadline(backend: &dyn Backend) {
    let handler = |_: Arc<Ping>| tokio::time::sleep(Duration::from_secs(3600));
    let bus = backend
        .builder()
        .shutdown_timeout(Duration::from_millis(300))
        .subscribe(
            Subscriber::new("stuck", handler)
                .concurrency(1)
                .timeout(Duration::from_secs(7200)),
        )
        .build()
        .await
        .unwrap();
    for seq in 0..3 {
        bus.publish(Ping::new("k", seq)).await.unwrap();
    }
    let error = bus.shutdown().await.unwrap_err();
    assert!(
        matches!(error, Error::ShutdownTimeout { unfinished: 3 }),
        "{error}"
    );
}
