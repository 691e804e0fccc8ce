//! Opening a namespace that must already exist ([`TransportUrl::must_exist`], the CLI): its
//! streams are looked up, never created, and a namespace with none is an error that names it
//! and the namespaces the server has.
//!
//! [`TransportUrl::must_exist`]: tidings_core::transport::TransportUrl::must_exist

use async_nats::jetstream::{self, stream};
use futures_util::TryStreamExt;

use super::names::Names;
use super::{Config, timed};
use tidings_core::{Error, Result};

pub(crate) async fn streams(
    config: &Config,
    js: &jetstream::Context,
    names: &Names,
) -> Result<(stream::Stream, stream::Stream, stream::Stream)> {
    let mut found = Vec::new();
    for name in [
        names.events_stream(),
        names.dead_stream(),
        names.parked_stream(),
    ] {
        match timed(config, "look up a stream", js.get_stream(&name)).await {
            Ok(stream) => found.push(stream),
            Err(error) if not_found(&error) => {
                return Err(missing(config, js, &name).await);
            }
            Err(error) => return Err(error),
        }
    }
    let parked = found.pop().expect("three streams");
    let dead = found.pop().expect("three streams");
    let events = found.pop().expect("three streams");
    Ok((events, dead, parked))
}

fn not_found(error: &Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(cause) = source {
        if let Some(get) = cause.downcast_ref::<jetstream::context::GetStreamError>() {
            return matches!(
                get.kind(),
                jetstream::context::GetStreamErrorKind::JetStream(ref js)
                    if js.error_code() == jetstream::ErrorCode::STREAM_NOT_FOUND
            );
        }
        source = cause.source();
    }
    false
}

async fn missing(config: &Config, js: &jetstream::Context, stream: &str) -> Error {
    // The namespaces there are, for a misspelt one: every stream `{ns}-events` names one.
    let namespaces: Vec<String> = match js.stream_names().try_collect::<Vec<String>>().await {
        Ok(names) => names
            .iter()
            .filter_map(|name| name.strip_suffix("-events"))
            .map(|namespace| format!("`{namespace}`"))
            .collect(),
        Err(_) => Vec::new(),
    };
    let there = if namespaces.is_empty() {
        "the server has none".to_owned()
    } else {
        format!("the server has {}", namespaces.join(", "))
    };
    Error::broker(
        &config.url,
        format!(
            "there is no namespace `{}` here (no stream `{stream}`): no bus ran on it; check \
             `namespace=` ({there})",
            config.namespace
        ),
    )
}
