//! `tidings dlq …`: list, show, replay and discard dead letters.

use std::process::ExitCode;
use std::time::SystemTime;

use clap::{Args, Subcommand};
use comfy_table::Table;
use indicatif::ProgressBar;
use tidings::{DeadLetter, DeadLetterId, DeadLetterSummary};

use crate::Failure;
use crate::backend::Backend;
use crate::filter::Filter;

#[derive(Debug, Subcommand)]
pub(crate) enum DlqCommand {
    /// Lists dead letters, oldest first.
    List {
        #[command(flatten)]
        filter: Filter,
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Shows one dead letter whole: error, attempts, times, envelope and payload.
    Show {
        /// The dead letter's id, as listed.
        id: DeadLetterId,
        /// The dead letter as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Delivers dead letters again, from attempt 1, to their own subscriber only.
    Replay(Selection),
    /// Deletes dead letters for good.
    Discard(Selection),
}

/// Which dead letters to act on: one id, the ones matching filters, or all.
#[derive(Debug, Args)]
pub(crate) struct Selection {
    /// One dead letter, by id.
    #[arg(conflicts_with_all = ["all", "subscriber", "group", "event", "since", "until"])]
    id: Option<DeadLetterId>,
    #[command(flatten)]
    filter: Filter,
    /// Every dead letter.
    #[arg(long)]
    all: bool,
    /// Print what would be done, and change nothing.
    #[arg(long)]
    dry_run: bool,
}

pub(crate) async fn run(backend: &Backend, command: DlqCommand) -> Result<ExitCode, Failure> {
    match command {
        DlqCommand::List { filter, json } => {
            let letters = matching(backend, &filter).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&letters)?);
            } else if letters.is_empty() {
                println!(
                    "no dead letters{}",
                    if filter.is_set() { " match" } else { "" }
                );
            } else {
                println!("{}", table(&letters));
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Show { id, json } => {
            let letter = backend.dead_letter(&id).await?;
            if json {
                println!("{}", serde_json::to_string_pretty(&letter)?);
            } else {
                print!("{}", details(&letter));
            }
            Ok(ExitCode::SUCCESS)
        }
        DlqCommand::Replay(selection) => act(backend, selection, Action::Replay).await,
        DlqCommand::Discard(selection) => act(backend, selection, Action::Discard).await,
    }
}

async fn matching(backend: &Backend, filter: &Filter) -> Result<Vec<DeadLetterSummary>, Failure> {
    let mut letters = backend.dead_letters().await?;
    letters.retain(|letter| filter.matches(letter));
    Ok(letters)
}

#[derive(Clone, Copy)]
enum Action {
    Replay,
    Discard,
}

impl Action {
    fn verb(self) -> (&'static str, &'static str) {
        match self {
            Action::Replay => ("replay", "replayed"),
            Action::Discard => ("discard", "discarded"),
        }
    }
}

async fn act(backend: &Backend, selection: Selection, action: Action) -> Result<ExitCode, Failure> {
    let (verb, done) = action.verb();
    let letters = match (&selection.id, selection.all, selection.filter.is_set()) {
        (Some(id), _, _) => vec![DeadLetterSummary::of(&backend.dead_letter(id).await?)],
        (None, true, _) => backend.dead_letters().await?,
        (None, false, true) => matching(backend, &selection.filter).await?,
        (None, false, false) => {
            return Err(format!(
                "say which dead letters to {verb}: an ID, filters (--subscriber, --group, \
                 --event, --since, --until) or --all"
            )
            .into());
        }
    };
    if selection.dry_run {
        println!("dry run: would {verb} {} dead letter(s)", letters.len());
        if !letters.is_empty() {
            println!("{}", table(&letters));
        }
        return Ok(ExitCode::SUCCESS);
    }
    let progress = ProgressBar::new_spinner();
    progress.set_message(format!("{verb}ing {} dead letter(s)", letters.len()));
    progress.enable_steady_tick(std::time::Duration::from_millis(200));
    // One pass over the dead letters for all of them: one call per letter, each looking its
    // letter up among all, was quadratic on the brokers.
    let ids: Vec<DeadLetterId> = letters.iter().map(|letter| letter.id).collect();
    let failed = match action {
        Action::Replay => backend.replay_many(&ids).await,
        Action::Discard => backend.discard_many(&ids).await,
    };
    progress.finish_and_clear();
    let failed = failed?;
    println!(
        "{done} {} of {} dead letter(s)",
        letters.len() - failed.len(),
        letters.len()
    );
    for (id, error) in &failed {
        eprintln!("could not {verb} {id}: {error}");
    }
    Ok(if failed.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn table(letters: &[DeadLetterSummary]) -> Table {
    let mut table = Table::new();
    table.load_preset(comfy_table::presets::NOTHING);
    table.set_header([
        "ID",
        "GROUP",
        "SUBSCRIBER",
        "EVENT",
        "ATTEMPTS",
        "LAST FAILED",
        "SIZE",
        "ERROR",
    ]);
    for letter in letters {
        table.add_row([
            letter.id.to_string(),
            letter.group.clone(),
            letter.subscriber.clone(),
            letter.event_name.clone(),
            letter.attempts.to_string(),
            time(letter.last_failed_at),
            size(letter),
            shorten(&letter.error, 60),
        ]);
    }
    table
}

fn details(letter: &DeadLetter) -> String {
    let envelope = &letter.envelope;
    let payload = envelope.json().map_or_else(
        || String::from_utf8_lossy(&envelope.data).into_owned(),
        |json| serde_json::to_string_pretty(&json).unwrap_or_default(),
    );
    let optional = |value: Option<String>| value.unwrap_or_else(|| "-".to_owned());
    // A truncated payload says so before it is shown, so nobody takes the part for the whole.
    let truncated = letter
        .truncated
        .as_ref()
        .map_or_else(String::new, |truncated| {
            format!(
                "truncated:      yes: {} of {} bytes kept, sha256 {} (cannot be replayed)\n",
                envelope.data.len(),
                truncated.size,
                truncated.sha256
            )
        });
    format!(
        "id:             {}\n\
         subscriber:     {} (group {})\n\
         event:          {} v{}\n\
         error:          {}\n\
         attempts:       {}\n\
         first failed:   {}\n\
         last failed:    {}\n\
         event id:       {}\n\
         published:      {} by {}\n\
         key (subject):  {}\n\
         correlation:    {}\n\
         causation:      {}\n\
         traceparent:    {}\n\
         headers:        {}\n\
         {truncated}\
         payload ({}):\n{payload}\n",
        letter.id,
        letter.subscriber,
        letter.group,
        letter.event_name,
        envelope.version,
        letter.error,
        letter.attempts,
        time(letter.first_failed_at),
        time(letter.last_failed_at),
        envelope.id,
        time(envelope.time),
        envelope.source,
        optional(envelope.subject.clone()),
        optional(envelope.correlation_id.map(|id| id.to_string())),
        optional(envelope.causation_id.map(|id| id.to_string())),
        optional(envelope.traceparent.clone()),
        serde_json::to_string(&envelope.headers).unwrap_or_default(),
        envelope.datacontenttype,
    )
}

/// The payload's size; a `*` marks one the store kept only part of.
fn size(letter: &DeadLetterSummary) -> String {
    let mark = if letter.truncated { "*" } else { "" };
    format!("{}{mark}", indicatif::HumanBytes(letter.payload_size))
}

pub(crate) fn time(time: SystemTime) -> String {
    // Never panics on a time from a dead letter, however it was made.
    tidings::transport::wire::format_time(time)
}

fn shorten(text: &str, limit: usize) -> String {
    let line = text.lines().next().unwrap_or_default();
    match line.char_indices().nth(limit) {
        Some((end, _)) => format!("{}…", &line[..end]),
        None if line.len() < text.len() => format!("{line}…"),
        None => line.to_owned(),
    }
}
