//! One instance of an `ordered` subscriber as its own OS process, for the crash case of
//! `tests/amqp.rs`: a bus on a broker URL with one ordered subscriber of `Ping`, which the
//! test's own bus publishes to.
//!
//! ```text
//! ordered_member URL failing|healthy
//! ```
//!
//! `failing`: the first attempt of the event `stuck` #0 fails with a backoff of ten minutes, so
//! the later events of `stuck` park behind it in this process while other keys flow;
//! `healthy`: every attempt succeeds. It prints, one line each, flushed at once: `ready` once
//! the bus is built, `handled <key> <seq> <attempt>` when the handler succeeds (before the bus
//! acknowledges it) and `failed <key> <seq> <attempt>` when it fails. It shuts down cleanly and
//! exits 0 when its stdin closes; the test kills the `failing` one with SIGKILL.

use std::sync::Arc;
use std::time::Duration;

use tidings::{Backoff, Context, HandlerError, Subscriber};
use tidings_tests::Ping;

fn say(word: &str, ping: &Ping, attempt: u32) {
    tidings_tests::say(format_args!("{word} {} {} {attempt}", ping.key, ping.seq));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, failing) = match args.as_slice() {
        [url, mode] if mode == "failing" => (url.clone(), true),
        [url, mode] if mode == "healthy" => (url.clone(), false),
        _ => {
            eprintln!("usage: ordered_member URL failing|healthy");
            std::process::exit(2);
        }
    };
    let subscriber = Subscriber::new("ordered", move |ping: Arc<Ping>, ctx: Context| {
        let fail = failing && ping.key == "stuck" && ping.seq == 0;
        say(
            if fail { "failed" } else { "handled" },
            &ping,
            ctx.attempt(),
        );
        std::future::ready(match fail {
            true => Err(HandlerError::msg("failing on purpose")),
            false => Ok(()),
        })
    })
    .ordered()
    .concurrency(4)
    .retries(3)
    .backoff(Backoff::fixed(Duration::from_secs(600)));
    tidings_tests::serve_member(&url, subscriber).await;
}
