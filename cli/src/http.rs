//! A client of a running bus's admin endpoint (`tidings::admin`).

use futures_util::stream::BoxStream;
use futures_util::{StreamExt, TryStreamExt};
use reqwest::header::{AUTHORIZATION, HeaderMap, HeaderValue};
use reqwest::{Method, Response, StatusCode};
use serde::de::DeserializeOwned;
use tidings::{DeadLetterId, Envelope};

use crate::Failure;

pub(crate) struct AdminClient {
    base: String,
    client: reqwest::Client,
    token_given: bool,
}

/// Ids per bulk request: each request is one pass over the dead letters on the server, and
/// 20,000 ids fit its default body limit (1 MiB).
const IDS_PER_REQUEST: usize = 20_000;

impl AdminClient {
    pub(crate) fn new(url: &str, token: Option<String>) -> Result<AdminClient, Failure> {
        let mut headers = HeaderMap::new();
        // The endpoint refuses changes without it: a web page of another site cannot send it.
        headers.insert(
            tidings::admin::CLIENT_HEADER,
            HeaderValue::from_static("tidings-cli"),
        );
        let token_given = token.is_some();
        if let Some(token) = token {
            let mut bearer = HeaderValue::from_str(&format!("Bearer {token}")).map_err(
                |_| "the token has characters a header cannot carry; tokens are visible ASCII",
            )?;
            // Kept out of reqwest's debug output and HTTP/2 header tables.
            bearer.set_sensitive(true);
            headers.insert(AUTHORIZATION, bearer);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(std::time::Duration::from_secs(5))
            .default_headers(headers)
            .build()?;
        Ok(AdminClient {
            base: url.trim_end_matches('/').to_owned(),
            client,
            token_given,
        })
    }

    pub(crate) fn url(&self) -> &str {
        &self.base
    }

    async fn request(&self, method: Method, path: &str) -> Result<Response, Failure> {
        self.send_request(self.client.request(method, format!("{}{path}", self.base)))
            .await
    }

    async fn send_request(&self, request: reqwest::RequestBuilder) -> Result<Response, Failure> {
        request.send().await.map_err(|error| {
            format!(
                "cannot reach the admin endpoint at {}: {}; check that the application runs \
                     and serves it there (`tidings::admin::serve`, or the demo's `--admin ADDR`)",
                self.base,
                root_cause(&error)
            )
            .into()
        })
    }

    /// `replay` or `discard` each of `ids`, in as few requests as the body limit allows.
    pub(crate) async fn act_on_many(
        &self,
        action: &str,
        ids: &[DeadLetterId],
    ) -> Result<Vec<(DeadLetterId, String)>, Failure> {
        #[derive(serde::Deserialize)]
        struct Failed {
            failed: Vec<OneFailed>,
        }
        #[derive(serde::Deserialize)]
        struct OneFailed {
            id: DeadLetterId,
            error: String,
        }
        let mut failed = Vec::new();
        for chunk in ids.chunks(IDS_PER_REQUEST) {
            let request = self
                .client
                .post(format!("{}/v1/dead-letters/{action}", self.base))
                .json(&serde_json::json!({ "ids": chunk }));
            let response = self.checked(self.send_request(request).await?).await?;
            let answer: Failed = response.json().await?;
            failed.extend(answer.failed.into_iter().map(|one| (one.id, one.error)));
        }
        Ok(failed)
    }

    pub(crate) async fn get_json<T: DeserializeOwned>(&self, path: &str) -> Result<T, Failure> {
        let response = self.checked(self.request(Method::GET, path).await?).await?;
        Ok(response.json().await?)
    }

    pub(crate) async fn get_text(&self, path: &str) -> Result<String, Failure> {
        let response = self.checked(self.request(Method::GET, path).await?).await?;
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
        Ok(Some(self.checked(response).await?.json().await?))
    }

    /// The response if it succeeded, else the endpoint's `{"error": …}` as the error; a refused
    /// token says what to pass.
    async fn checked(&self, response: Response) -> Result<Response, Failure> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        let body = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<serde_json::Value>(&body)
            .ok()
            .and_then(|json| json["error"].as_str().map(str::to_owned))
            .unwrap_or(body);
        let hint = match (status, self.token_given) {
            (StatusCode::UNAUTHORIZED, false) => {
                "\nhint: this endpoint wants its token: pass `--token TOKEN` or set TIDINGS_TOKEN \
                 (the application's TIDINGS_ADMIN_TOKEN, or its read-only token to read)"
            }
            (StatusCode::UNAUTHORIZED, true) => {
                "\nhint: the endpoint refused the token given (`--token` or TIDINGS_TOKEN); \
                 check it against the application's TIDINGS_ADMIN_TOKEN"
            }
            (StatusCode::FORBIDDEN, true) => {
                "\nhint: pass the full token (`--token` or TIDINGS_TOKEN) to replay or discard"
            }
            _ => "",
        };
        Err(format!(
            "the admin endpoint at {} answered {status}: {message}{hint}",
            self.base
        )
        .into())
    }

    /// The endpoint's stream of events, one CloudEvents JSON document per line.
    pub(crate) async fn tail(
        &self,
        event: &str,
    ) -> Result<BoxStream<'static, Result<Envelope, Failure>>, Failure> {
        let response = self
            .checked(
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

fn root_cause(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = error;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}
