//! A client of a running bus's admin endpoint (`tidings::admin`).

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;
use tidings::Envelope;

use crate::Failure;

pub(crate) struct AdminClient {
    base: String,
    client: reqwest::Client,
}

impl AdminClient {
    pub(crate) fn new(url: &str) -> Result<AdminClient, Failure> {
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .build()?;
        Ok(AdminClient {
            base: url.trim_end_matches('/').to_owned(),
            client,
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.base
    }

    async fn request(&self, method: Method, path: &str) -> Result<Response, Failure> {
        self.client
            .request(method, format!("{}{path}", self.base))
            .send()
            .await
            .map_err(|error| {
                format!(
                    "cannot reach the admin endpoint at {}: {}; check that the application runs \
                     and serves it there (`tidings::admin::serve`, or the demo's `--admin ADDR`)",
                    self.base,
                    root_cause(&error)
                )
                .into()
            })
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        let response = checked(self.request(Method::GET, path).await?).await?;
        Ok(response.json().await?)
    }

    pub(crate) async fn get_text(&self, path: &str) -> Result<String, Failure> {
        let response = checked(self.request(Method::GET, path).await?).await?;
        Ok(response.text().await?)
    }

    /// `None` on 404.
    pub(crate) async fn get_json_or_none<T: DeserializeOwned>(
        &self,
        path: &str,
    ) -> Result<Option<T>, Failure> {
        let response = self.request(Method::GET, path).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(None);
        }
        Ok(Some(checked(response).await?.json().await?))
    }

    pub(crate) async fn send(&self, method: Method, path: &str) -> Result<(), Failure> {
        checked(self.request(method, path).await?).await?;
        Ok(())
    }

    /// The endpoint's stream of events, one CloudEvents JSON document per line.
    pub(crate) async fn tail(
        &self,
        event: &str,
    ) -> Result<BoxStream<'static, Result<Envelope, Failure>>, Failure> {
        let response = checked(
            self.request(Method::GET, &format!("/v1/tail/{event}"))
                .await?,
        )
        .await?;
        let chunks = response.bytes_stream().map_err(Failure::from).boxed();
        let events = futures_util::stream::unfold(
            (chunks, Vec::new()),
            |(mut chunks, mut buffer)| async move {
                loop {
                    if let Some(newline) = buffer.iter().position(|&b| b == b'\n') {
                        let line: Vec<u8> = buffer.drain(..=newline).collect();
                        let envelope = Envelope::from_cloudevent_json(&line).map_err(Failure::from);
                        return Some((envelope, (chunks, buffer)));
                    }
                    match chunks.next().await? {
                        Ok(chunk) => buffer.extend_from_slice(&chunk),
                        Err(error) => return Some((Err(error), (chunks, buffer))),
                    }
                }
            },
        );
        Ok(events.boxed())
    }
}

/// The response if it succeeded, else the endpoint's `{"error": …}` as the error.
async fn checked(response: Response) -> Result<Response, Failure> {
    if response.status().is_success() {
        return Ok(response);
    }
    let status = response.status();
    let body = response.text().await.unwrap_or_default();
    let message = serde_json::from_str::<serde_json::Value>(&body)
        .ok()
        .and_then(|json| json["error"].as_str().map(str::to_owned))
        .unwrap_or(body);
    Err(format!("the admin endpoint answered {status}: {message}").into())
}

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
