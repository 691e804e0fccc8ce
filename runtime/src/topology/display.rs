//! [`Topology`] as aligned text tables, for a terminal.

use std::fmt;

use super::{EventInfo, FieldInfo, SubscriberInfo, Topology};
use crate::options::Written;

impl fmt::Display for Topology {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "transport: {}  (source `{}`)", self.url, self.source)?;
        writeln!(f, "\nevents ({})", self.events.len())?;
        table(
            f,
            // The fields last: the longest cell, it would push the others apart.
            &["name", "version", "type", "key", "declared at", "fields"],
            self.events.iter().map(event_row),
        )?;
        writeln!(f, "\nsubscribers ({})", self.subscribers.len())?;
        table(
            f,
            &[
                "name",
                "group",
                "event",
                "retries",
                "backoff",
                "timeout",
                "concurrency",
                "ordered",
                "rate",
                "runs",
                "declared at",
            ],
            self.subscribers.iter().map(subscriber_row),
        )?;
        writeln!(f, "\ngroups ({})", self.groups.len())?;
        table(
            f,
            &["name", "subscribers", "events", "runs"],
            self.groups.iter().map(|group| {
                vec![
                    group.name.clone(),
                    group.subscribers.join(", "),
                    group.events.join(", "),
                    yes_no(group.runs),
                ]
            }),
        )
    }
}

fn event_row(event: &EventInfo) -> Vec<String> {
    vec![
        event.name.clone(),
        event.version.to_string(),
        event.rust_type.clone(),
        event.key.clone().unwrap_or_else(|| "-".to_owned()),
        event
            .declared_at
            .clone()
            .unwrap_or_else(|| "(not derived)".to_owned()),
        fields(&event.fields),
    ]
}

/// `order_id: u64, note: Option<String>?, ..extra: Extra`: `?` marks a field that may be
/// absent, `..` a flattened one.
fn fields(fields: &[FieldInfo]) -> String {
    let shown: Vec<String> = fields
        .iter()
        .map(|field| {
            let flattened = if field.flattened { ".." } else { "" };
            let optional = if field.required || field.flattened {
                ""
            } else {
                "?"
            };
            format!("{flattened}{}: {}{optional}", field.name, field.rust_type)
        })
        .collect();
    if shown.is_empty() {
        "-".to_owned()
    } else {
        shown.join(", ")
    }
}

fn subscriber_row(subscriber: &SubscriberInfo) -> Vec<String> {
    vec![
        subscriber.name.clone(),
        subscriber.group.clone(),
        subscriber.event.clone(),
        subscriber.retries.to_string(),
        subscriber.backoff.to_string(),
        Written(subscriber.timeout).to_string(),
        subscriber.concurrency.to_string(),
        yes_no(subscriber.ordered),
        subscriber
            .rate
            .map_or_else(|| "-".to_owned(), |rate| rate.to_string()),
        yes_no(subscriber.runs),
        subscriber.declared_at.clone(),
    ]
}

fn yes_no(flag: bool) -> String {
    if flag { "yes" } else { "no" }.to_owned()
}

/// Left-aligned columns two spaces apart, under a header; `(none)` for no rows.
fn table(
    f: &mut fmt::Formatter<'_>,
    header: &[&str],
    rows: impl Iterator<Item = Vec<String>>,
) -> fmt::Result {
    let rows: Vec<Vec<String>> = rows.collect();
    if rows.is_empty() {
        return writeln!(f, "  (none)");
    }
    let mut widths: Vec<usize> = header.iter().map(|title| title.chars().count()).collect();
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let header = header.iter().map(|title| (*title).to_owned()).collect();
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::from(" ");
        for (cell, width) in row.iter().zip(&widths) {
            line.push(' ');
            line.push_str(cell);
            line.extend(std::iter::repeat_n(' ', width - cell.chars().count() + 1));
        }
        writeln!(f, "{}", line.trim_end())?;
    }
    Ok(())
}
