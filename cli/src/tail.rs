//! `tidings tail EVENT`: events of one name, live, as they are published.

use std::process::ExitCode;

use clap::Args;
use futures_util::StreamExt;

use crate::Failure;
use crate::backend::Backend;
use crate::dlq::time;

#[derive(Debug, Args)]
pub(crate) struct TailArgs {
    /// The event name, as in `#[event(name = "…")]`.
    event: String,
    /// Stop after this many events.
    #[arg(long)]
    count: Option<u64>,
    /// One CloudEvents JSON document per line instead of a summary line.
    #[arg(long)]
    json: bool,
}

pub(crate) async fn run(backend: &Backend, args: TailArgs) -> Result<ExitCode, Failure> {
    let mut events = backend.tail(&args.event).await?;
    eprintln!(
        "tailing `{}` on {} (Ctrl-C to stop)",
        args.event,
        backend.url()
    );
    let mut shown = 0;
    while args.count.is_none_or(|count| shown < count) {
        let next = tokio::select! {
            next = events.next() => next,
            _ = tokio::signal::ctrl_c() => break,
        };
        let Some(envelope) = next else {
            eprintln!("the bus closed the tail");
            break;
        };
        let envelope = envelope?;
        if args.json {
            println!(
                "{}",
                String::from_utf8_lossy(&envelope.to_cloudevent_json())
            );
        } else {
            let data = String::from_utf8_lossy(&envelope.data);
            let key = envelope.subject.as_deref().unwrap_or("-");
            println!(
                "{}  {}  key={key}  {data}",
                time(envelope.time),
                envelope.id
            );
        }
        shown += 1;
    }
    Ok(ExitCode::SUCCESS)
}
