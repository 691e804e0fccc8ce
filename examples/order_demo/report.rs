//! The demo's closing report: a table per subscriber and the dead letters.

use std::time::Duration;

use tidings::{DeadLetter, Stats};

pub(crate) fn print_stats(stats: &Stats) {
    println!(
        "{:<20} {:<10} {:<18} {:>8} {:>8} {:>6} {:>9} {:>9}",
        "subscriber", "group", "event", "handled", "retried", "dead", "p50", "p99"
    );
    for s in &stats.subscribers {
        let (p50, p99) = s
            .latency
            .map_or((String::from("-"), String::from("-")), |l| {
                (ms(l.p50), ms(l.p99))
            });
        println!(
            "{:<20} {:<10} {:<18} {:>8} {:>8} {:>6} {:>9} {:>9}",
            s.name, s.group, s.event, s.handled, s.retried, s.dead_lettered, p50, p99
        );
    }
    println!("(latency: publish → handled, queueing and retries included)\n");
}

pub(crate) fn print_dead_letters(dead: &[DeadLetter]) {
    println!("{} dead letters", dead.len());
    for letter in dead.iter().take(5) {
        let payload = letter
            .envelope
            .json()
            .map_or_else(String::new, |json| json.to_string());
        println!(
            "  {} {} after {} attempt(s): {}\n    {payload}",
            letter.subscriber, letter.event_name, letter.attempts, letter.error
        );
    }
    if dead.len() > 5 {
        println!(
            "  … and {} more (inspect them with `bus.dead_letters()`)",
            dead.len() - 5
        );
    }
}

/// Nothing lost: every subscriber handled or dead-lettered each event it should have seen.
pub(crate) fn check(stats: &Stats, orders: u64, unknown_sku_every: u64) -> bool {
    let mut ok = true;
    for s in &stats.subscribers {
        let expected = expected(s.event, orders, unknown_sku_every);
        if s.handled + s.dead_lettered != expected {
            eprintln!(
                "{} accounted for {} of {expected} `{}` events",
                s.name,
                s.handled + s.dead_lettered,
                s.event
            );
            ok = false;
        }
    }
    ok
}

/// Whether every subscriber here has handled or dead-lettered all it should see of the burst.
pub(crate) fn accounted_for(stats: &Stats, orders: u64, unknown_sku_every: u64) -> bool {
    stats
        .subscribers
        .iter()
        .all(|s| s.handled + s.dead_lettered >= expected(s.event, orders, unknown_sku_every))
}

/// How many events of `event` a burst of `orders` makes: an order for an unknown SKU is
/// dead-lettered by stock, so nothing is reserved or shipped for it.
fn expected(event: &str, orders: u64, unknown_sku_every: u64) -> u64 {
    let unknown = orders.checked_div(unknown_sku_every).unwrap_or(0);
    match event {
        "stock.reserved" | "logistics.shipped" => orders - unknown,
        _ => orders,
    }
}

fn ms(duration: Duration) -> String {
    format!("{:.1}ms", duration.as_secs_f64() * 1e3)
}
