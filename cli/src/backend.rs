//! Where the CLI's commands go: a running bus's admin endpoint over HTTP, or a bus the CLI
//! opens itself on the transport URL, with no subscribers of its own.

use futures_util::StreamExt;
use futures_util::stream::BoxStream;
use tidings::transport::TransportUrl;
use tidings::{Bus, DeadLetter, DeadLetterId, DeadLetterSummary, Envelope};

use crate::Failure;
use crate::http::AdminClient;
use crate::stats::Row;

pub(crate) enum Backend {
    Admin(AdminClient),
    /// A bus the CLI opened; `url` is shown with its credentials hidden.
    Direct {
        bus: Bus,
        url: String,
    },
}

impl Backend {
    pub(crate) async fn connect(url: &str, token: Option<String>) -> Result<Backend, Failure> {
        // What this tool shows of the URL, anywhere: credentials hidden.
        let shown = TransportUrl::parse(url)?;
        if matches!(shown.scheme(), "http" | "https") {
            if shown.user().is_some() {
                return Err(format!(
                    "`{shown}`: the admin endpoint takes no credentials in its URL; drop \
                     `USER:PASSWORD@` and pass its token with `--token` or TIDINGS_TOKEN"
                )
                .into());
            }
            return Ok(Backend::Admin(AdminClient::new(url, token)?));
        }
        if shown.scheme() == "memory" {
            return Err(format!(
                "`{shown}` lives inside the process that runs it, out of this tool's reach: serve \
                 that bus's admin endpoint (`tidings::admin::serve(bus, \"127.0.0.1:9001\")`, or \
                 the demo's `--admin 127.0.0.1:9001`) and pass `--url http://127.0.0.1:9001`"
            )
            .into());
        }
        // Reading must not create what it reads: a misspelt path or namespace is an error.
        let bus = Bus::builder()
            .url(url)
            .existing_only()
            .manual()
            .source("tidings-cli")
            .build()
            .await
            .map_err(|error| opening_failed(url, error))?;
        Ok(Backend::Direct {
            bus,
            url: shown.to_string(),
        })
    }

    /// Lets a bus the CLI opened flush and close its transport.
    pub(crate) async fn close(self) {
        if let Backend::Direct { bus, .. } = self {
            let _ = bus.shutdown().await;
        }
    }

    pub(crate) fn url(&self) -> &str {
        match self {
            Backend::Admin(client) => client.url(),
            Backend::Direct { url, .. } => url,
        }
    }

    /// Every dead letter's summary: never whole payloads.
    pub(crate) async fn dead_letters(&self) -> Result<Vec<DeadLetterSummary>, Failure> {
        match self {
            Backend::Admin(client) => client.get_json("/v1/dead-letters").await,
            Backend::Direct { bus, .. } => Ok(bus.dead_letters().summaries().await?),
        }
    }

    /// The dead letter `id`, or an error saying it is not there.
    pub(crate) async fn dead_letter(&self, id: &DeadLetterId) -> Result<DeadLetter, Failure> {
        let found = match self {
            Backend::Admin(client) => {
                client
                    .get_json_or_none(&format!("/v1/dead-letters/{id}"))
                    .await?
            }
            Backend::Direct { bus, .. } => bus.dead_letters().get(id).await?,
        };
        found.ok_or_else(|| {
            format!("no dead letter with id {id}; `tidings dlq list` shows the ids there are")
                .into()
        })
    }

    /// Replays `ids` in one pass over the dead letters; returns those that failed, with why.
    pub(crate) async fn replay_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, String)>, Failure> {
        match self {
            Backend::Admin(client) => client.act_on_many("replay", ids).await,
            Backend::Direct { bus, .. } => Ok(shown(bus.dead_letters().replay_many(ids).await?)),
        }
    }

    /// Discards `ids` in one pass over the dead letters; returns those that failed, with why.
    pub(crate) async fn discard_many(
        &self,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, String)>, Failure> {
        match self {
            Backend::Admin(client) => client.act_on_many("discard", ids).await,
            Backend::Direct { bus, .. } => Ok(shown(bus.dead_letters().discard_many(ids).await?)),
        }
    }

    /// The running bus's counters; `None` when the CLI opened the transport itself, where only
    /// the processes that run the subscribers know them.
    pub(crate) async fn stats(&self) -> Result<Option<Vec<Row>>, Failure> {
        #[derive(serde::Deserialize)]
        struct Stats {
            subscribers: Vec<Row>,
        }
        match self {
            Backend::Admin(client) => {
                let stats: Stats = client.get_json("/v1/stats").await?;
                Ok(Some(stats.subscribers))
            }
            Backend::Direct { .. } => Ok(None),
        }
    }

    /// Events called `event` as they are published, from now on.
    pub(crate) async fn tail(
        &self,
        event: &str,
    ) -> Result<BoxStream<'static, Result<Envelope, Failure>>, Failure> {
        // Before the name becomes a URL path or a subject: `../stats` is no event.
        tidings::check_event_name(event)?;
        match self {
            Backend::Admin(client) => client.tail(event).await,
            Backend::Direct { bus, .. } => {
                let tail = bus.tail(event).await?;
                let events = futures_util::stream::unfold(tail, |mut tail| async move {
                    let envelope = tail.next().await?;
                    Some((Ok(envelope), tail))
                });
                Ok(events.boxed())
            }
        }
    }
}

fn shown(failed: Vec<(DeadLetterId, tidings::Error)>) -> Vec<(DeadLetterId, String)> {
    failed
        .into_iter()
        .map(|(id, error)| (id, error.to_string()))
        .collect()
}

fn opening_failed(url: &str, error: tidings::Error) -> Failure {
    let mut message = error.to_string();
    if url.starts_with("file://") {
        message.push_str(
            "\nhint: while the application runs, it holds its store; reach it through its admin \
             endpoint instead (`--url http://ADDR`, served by `tidings::admin::serve`)",
        );
    }
    message.into()
}
