//! The admin endpoint's routes: thin wrappers over the bus API, errors as JSON.

use axum::Json;
use axum::Router;
use axum::body::Body;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::bus::Bus;
use crate::dead_letter::{DeadLetter, DeadLetterId};
use crate::error::Error;
use crate::letter_summary::DeadLetterSummary;
use crate::stats::Stats;

pub(super) fn router(bus: Bus, body_limit: usize) -> Router {
    Router::new()
        .route("/v1/stats", get(stats))
        .route("/v1/dead-letters", get(list))
        .route("/v1/dead-letters/replay", post(replay_many))
        .route("/v1/dead-letters/discard", post(discard_many))
        .route("/v1/dead-letters/{id}", get(show).delete(discard))
        .route("/v1/dead-letters/{id}/replay", post(replay))
        .route("/v1/tail/{event}", get(tail))
        .route("/v1/topology", get(topology))
        .route("/v1/topology/table", get(topology_table))
        .route("/v1/asyncapi", get(asyncapi))
        .with_state(bus)
        .layer(DefaultBodyLimit::max(body_limit))
}

/// A failure as the endpoint answers it.
struct Failure(StatusCode, String);

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        let status = match &error {
            Error::DeadLetterNotFound(_) => StatusCode::NOT_FOUND,
            Error::InvalidName(_) => StatusCode::BAD_REQUEST,
            Error::SubscriberNotRunning { .. } => StatusCode::CONFLICT,
            Error::Broker { .. } => StatusCode::BAD_GATEWAY,
            Error::ShutDown => StatusCode::SERVICE_UNAVAILABLE,
            _ => StatusCode::INTERNAL_SERVER_ERROR,
        };
        Failure(status, error.to_string())
    }
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let body = serde_json::json!({ "error": self.1 });
        (self.0, Json(body)).into_response()
    }
}

fn parse_id(id: &str) -> Result<DeadLetterId, Failure> {
    id.parse().map_err(|e| {
        Failure(
            StatusCode::BAD_REQUEST,
            format!("`{id}` is not a dead-letter id ({e}); ids are UUIDs, as listed"),
        )
    })
}

async fn stats(State(bus): State<Bus>) -> Json<Stats> {
    Json(bus.stats())
}

/// Summaries only: `show` serves one letter whole.
async fn list(State(bus): State<Bus>) -> Result<Json<Vec<DeadLetterSummary>>, Failure> {
    Ok(Json(bus.dead_letters().summaries().await?))
}

async fn show(State(bus): State<Bus>, Path(id): Path<String>) -> Result<Json<DeadLetter>, Failure> {
    let id = parse_id(&id)?;
    let letter = bus.dead_letters().get(&id).await?;
    Ok(Json(letter.ok_or(Error::DeadLetterNotFound(id))?))
}

async fn replay(State(bus): State<Bus>, Path(id): Path<String>) -> Result<StatusCode, Failure> {
    bus.dead_letters().replay(&parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn discard(State(bus): State<Bus>, Path(id): Path<String>) -> Result<StatusCode, Failure> {
    bus.dead_letters().discard(&parse_id(&id)?).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The ids a bulk replay or discard acts on.
#[derive(serde::Deserialize)]
struct Ids {
    ids: Vec<DeadLetterId>,
}

/// What a bulk replay or discard could not do: `{"failed": [{"id": …, "error": …}]}`.
fn failed(failed: Vec<(DeadLetterId, Error)>) -> Json<serde_json::Value> {
    let failed: Vec<serde_json::Value> = failed
        .into_iter()
        .map(|(id, error)| serde_json::json!({ "id": id, "error": error.to_string() }))
        .collect();
    Json(serde_json::json!({ "failed": failed }))
}

async fn replay_many(
    State(bus): State<Bus>,
    Json(Ids { ids }): Json<Ids>,
) -> Result<Json<serde_json::Value>, Failure> {
    Ok(failed(bus.dead_letters().replay_many(&ids).await?))
}

async fn discard_many(
    State(bus): State<Bus>,
    Json(Ids { ids }): Json<Ids>,
) -> Result<Json<serde_json::Value>, Failure> {
    Ok(failed(bus.dead_letters().discard_many(&ids).await?))
}

async fn topology(State(bus): State<Bus>) -> Json<crate::Topology> {
    Json(bus.topology())
}

async fn topology_table(State(bus): State<Bus>) -> String {
    bus.topology().to_string()
}

async fn asyncapi(State(bus): State<Bus>) -> Json<serde_json::Value> {
    Json(bus.topology().to_asyncapi())
}

/// One CloudEvents JSON document per line, as events pass, until the client hangs up.
async fn tail(State(bus): State<Bus>, Path(event): Path<String>) -> Result<Response, Failure> {
    let tail = bus.tail(&event).await?;
    let lines = futures_util::stream::unfold(tail, |mut tail| async move {
        let envelope = tail.next().await?;
        let mut line = envelope.to_cloudevent_json();
        line.push(b'\n');
        Some((Ok::<_, std::convert::Infallible>(line), tail))
    });
    Ok((
        [(header::CONTENT_TYPE, "application/x-ndjson")],
        Body::from_stream(lines),
    )
        .into_response())
}
