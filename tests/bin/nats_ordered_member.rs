//! One instance of an `ordered` subscriber as its own OS process, for the NATS test
//! `parked_events_survive_a_killed_process` (`tests/nats.rs`): a bus on a broker URL with one
//! ordered subscriber of `Ping`, which the test's own bus publishes to.
//!
//! ```text
//! ordered_member URL STUCK_KEY retry|poison
//! ```
//!
//! Event 0 of `STUCK_KEY` fails: with `retry`, its first attempt only, retryably (the retry is
//! due [`BACKOFF`] later, so the key parks); with `poison`, every attempt, permanently (it is
//! dead-lettered). Everything else succeeds. It prints, one line each, flushed at once:
//! `ready` once the bus is built, `handled <key> <seq> <attempt>` and
//! `failed <key> <seq> <attempt>` from the handler. It shuts down cleanly and exits 0 when its
//! stdin closes; the test kills it with SIGKILL while its stuck key is parked.

use std::sync::Arc;
use std::time::Duration;

use tidings::{Backoff, Context, HandlerError, Subscriber};
use tidings_tests::Ping;

/// Long enough for the test to kill the process before the retry falls due.
const BACKOFF: Duration = Duration::from_secs(5);

fn say(word: &str, ping: &Ping, attempt: u32) {
    tidings_tests::say(format_args!("{word} {} {} {attempt}", ping.key, ping.seq));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, stuck, mode] = args.as_slice() else {
        eprintln!("usage: ordered_member URL STUCK_KEY retry|poison");
        std::process::exit(2);
    };
    let poison = match mode.as_str() {
        "retry" => false,
        "poison" => true,
        _ => {
            eprintln!("the mode is `retry` or `poison`, not `{mode}`");
            std::process::exit(2);
        }
    };
    let stuck = stuck.clone();
    let handler = move |ping: Arc<Ping>, ctx: Context| {
        let attempt = ctx.attempt();
        let fails = ping.key == stuck && ping.seq == 0 && (poison || attempt == 1);
        std::future::ready(if fails {
            say("failed", &ping, attempt);
            Err(if poison {
                HandlerError::permanent_msg("poison")
            } else {
                HandlerError::msg("not yet")
            })
        } else {
            say("handled", &ping, attempt);
            Ok(())
        })
    };
    let subscriber = Subscriber::new("ordered", handler)
        .ordered()
        .concurrency(4)
        .retries(5)
        .backoff(Backoff::fixed(BACKOFF))
        .timeout(Duration::from_secs(1));
    tidings_tests::serve_member(url, subscriber).await;
}
