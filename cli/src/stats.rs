//! `tidings stats`: per group and subscriber, what is queued, in flight, handled, retried and
//! dead-lettered.

use std::collections::BTreeMap;
use std::process::ExitCode;

use clap::Args;
use comfy_table::Table;
use serde::{Deserialize, Serialize};

use crate::Failure;
use crate::backend::Backend;

#[derive(Debug, Args)]
pub(crate) struct StatsArgs {
    /// One JSON array instead of a table.
    #[arg(long)]
    json: bool,
}

/// One subscriber's counters. A field is `None` where the source cannot know it: handled and
/// retried are counted by the processes that run the subscriber, not by the transport.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Row {
    group: String,
    name: String,
    event: String,
    queued: Option<u64>,
    in_flight: Option<u64>,
    handled: Option<u64>,
    retried: Option<u64>,
    dead_lettered: Option<u64>,
    /// Dead letters the transport could not store (the deliveries were kept).
    #[serde(default)]
    dead_letter_store_failures: Option<u64>,
}

pub(crate) async fn run(backend: &Backend, args: StatsArgs) -> Result<ExitCode, Failure> {
    let letters = backend.dead_letters().await?;
    let mut dead_letters_of: BTreeMap<(String, String), (String, u64)> = BTreeMap::new();
    for letter in &letters {
        let entry = dead_letters_of
            .entry((letter.group.clone(), letter.subscriber.clone()))
            .or_insert_with(|| (letter.event_name.clone(), 0));
        entry.1 += 1;
    }
    let live = backend.stats().await?;
    let counted = live.is_some();
    let mut rows = live.unwrap_or_default();
    for row in &rows {
        dead_letters_of.remove(&(row.group.clone(), row.name.clone()));
    }
    // Dead letters of subscribers the bus does not run (or when the CLI opened the transport
    // itself) still show, with what is known of them.
    for ((group, name), (event, dead)) in dead_letters_of {
        rows.push(Row {
            group,
            name,
            event,
            queued: None,
            in_flight: None,
            handled: None,
            retried: None,
            dead_lettered: Some(dead),
            dead_letter_store_failures: None,
        });
    }
    rows.sort_by(|a, b| (&a.group, &a.name).cmp(&(&b.group, &b.name)));
    if args.json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        println!("no subscribers and no dead letters");
        return Ok(ExitCode::SUCCESS);
    }
    println!("{}", table(&rows));
    if rows
        .iter()
        .any(|row| row.dead_letter_store_failures.unwrap_or(0) > 0)
    {
        println!(
            "\nNOT STORED: dead letters the transport could not store; those deliveries were \
             kept and come again. Check the dead-letter store (full, limits, permissions): see \
             the application's ERROR log"
        );
    }
    if !counted {
        println!(
            "\n`-`: counted by the processes that run the subscribers; ask one of them through its \
             admin endpoint (`--url http://ADDR`) for live counts"
        );
    }
    Ok(ExitCode::SUCCESS)
}

fn table(rows: &[Row]) -> Table {
    let number = |value: Option<u64>| value.map_or_else(|| "-".to_owned(), |n| n.to_string());
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "GROUP",
        "SUBSCRIBER",
        "EVENT",
        "QUEUED",
        "IN FLIGHT",
        "HANDLED",
        "RETRIED",
        "DEAD",
        "NOT STORED",
    ]);
    for row in rows {
        table.add_row([
            row.group.clone(),
            row.name.clone(),
            row.event.clone(),
            number(row.queued),
            number(row.in_flight),
            number(row.handled),
            number(row.retried),
            number(row.dead_lettered),
            number(row.dead_letter_store_failures),
        ]);
    }
    table
}
