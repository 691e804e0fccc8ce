//! One instance of the group `member`, as its own OS process, for `tests/processes/`: a bus on
//! a broker URL with one subscriber of `Ping`, which the test's own bus publishes to.
//!
//! ```text
//! group_member URL HANDLING_MS
//! ```
//!
//! It prints, one line each, flushed at once: `ready` once the bus is built, `start <seq>`
//! when an attempt begins and `done <seq>` when the handler returns (before the bus
//! acknowledges it). It shuts down cleanly and exits 0 when its stdin closes; the tests also
//! kill it with SIGKILL mid-handler.

use std::sync::Arc;
use std::time::Duration;

use tidings::Subscriber;
use tidings_tests::Ping;

/// How long one attempt may take: with a killed process, its events go back to the group
/// after about this plus the broker's margin.
const TIMEOUT: Duration = Duration::from_secs(1);

fn say(word: &str, seq: u32) {
    tidings_tests::say(format_args!("{word} {seq}"));
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [url, handling] = args.as_slice() else {
        eprintln!("usage: group_member URL HANDLING_MS");
        std::process::exit(2);
    };
    let handling = Duration::from_millis(handling.parse().expect("HANDLING_MS is a number"));
    let subscriber = Subscriber::new("member", move |ping: Arc<Ping>| async move {
        say("start", ping.seq);
        tokio::time::sleep(handling).await;
        say("done", ping.seq);
    })
    .timeout(TIMEOUT)
    .concurrency(4);
    tidings_tests::serve_member(url, subscriber).await;
}
