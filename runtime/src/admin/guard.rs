//! What every request passes before a route sees it: the host it names, the page it comes
//! from, its token, its size, and for a change of state, proof that no browser form sent it.
//!
//! | check | refused with |
//! |---|---|
//! | `Host` is not an IP address, `localhost` or an allowed name (DNS rebinding) | 421 |
//! | `Origin` is another site's, or `Sec-Fetch-Site` says cross-site | 403 |
//! | a token is configured and `Authorization: Bearer …` is missing or wrong | 401 |
//! | the read-only token on a request that changes state | 403 |
//! | `Content-Length` above the body limit | 413 |
//! | `POST`/`DELETE` without the `X-Tidings-Client` header | 403 |
//!
//! The last one is what a page of another site cannot do: a form or a "simple" `fetch` sends no
//! custom header, and a request with one needs a CORS preflight, which this endpoint never
//! grants.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::options::{Access, AdminOptions};

/// The header a request that changes state must carry (any value).
pub const CLIENT_HEADER: &str = "x-tidings-client";

pub(super) async fn check(
    State(options): State<Arc<AdminOptions>>,
    request: Request,
    next: Next,
) -> Response {
    match admit(&options, request.method(), request.headers()) {
        Ok(()) => next.run(request).await,
        Err(refusal) => refusal.into_response(),
    }
}

struct Refusal {
    status: StatusCode,
    message: String,
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        let body = Json(serde_json::json!({ "error": self.message }));
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = [(header::WWW_AUTHENTICATE, "Bearer realm=\"tidings admin\"")];
            return (self.status, challenge, body).into_response();
        }
        (self.status, body).into_response()
    }
}

fn refuse(status: StatusCode, message: impl Into<String>) -> Result<(), Refusal> {
    Err(Refusal {
        status,
        message: message.into(),
    })
}

fn admit(options: &AdminOptions, method: &Method, headers: &HeaderMap) -> Result<(), Refusal> {
    let text = |name: header::HeaderName| headers.get(name).and_then(|v| v.to_str().ok());
    let host = text(header::HOST).unwrap_or_default();
    if !host_allowed(options, host) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this admin endpoint does not serve that host name; reach it by IP address or \
             `localhost`, or allow the name (`AdminOptions::allow_host`)",
        );
    }
    let cross_site = text(header::ORIGIN).is_some_and(|origin| !same_origin(origin, host))
        || headers
            .get("sec-fetch-site")
            .is_some_and(|site| site != "same-origin" && site != "none");
    if cross_site {
        return refuse(
            StatusCode::FORBIDDEN,
            "requests from web pages of other sites are refused",
        );
    }
    let changes_state = !matches!(*method, Method::GET | Method::HEAD);
    if options.authenticates() {
        let presented = text(header::AUTHORIZATION).and_then(|value| {
            let (scheme, token) = value.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        });
        match presented.and_then(|token| options.access(token)) {
            None => {
                return refuse(
                    StatusCode::UNAUTHORIZED,
                    "this admin endpoint needs its token: `Authorization: Bearer TOKEN` (the \
                     `tidings` CLI: `--token` or TIDINGS_TOKEN)",
                );
            }
            Some(Access::ReadOnly) if changes_state => {
                return refuse(
                    StatusCode::FORBIDDEN,
                    "this token is read-only: replaying or discarding needs the full token",
                );
            }
            Some(_) => {}
        }
    }
    let length = text(header::CONTENT_LENGTH).and_then(|length| length.parse::<u64>().ok());
    if length.is_some_and(|length| length > options.body_limit as u64) {
        return refuse(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {} bytes",
                options.body_limit
            ),
        );
    }
    if changes_state && !headers.contains_key(CLIENT_HEADER) {
        return refuse(
            StatusCode::FORBIDDEN,
            "a request that changes state needs the header `X-Tidings-Client` (the `tidings` \
             CLI sends it), which a web page of another site cannot send",
        );
    }
    Ok(())
}

/// IP addresses pass: DNS rebinding needs a name the attacker's DNS answers for. So do
/// `localhost` and the names the options allow.
fn host_allowed(options: &AdminOptions, host: &str) -> bool {
    let name = host_name(host).to_ascii_lowercase();
    if name.is_empty() {
        return false;
    }
    let literal = name.trim_start_matches('[').trim_end_matches(']');
    literal.parse::<std::net::IpAddr>().is_ok()
        || name == "localhost"
        || options.hosts.contains(&name)
}

/// `host` without its port: `127.0.0.1`, `[::1]`, `localhost`.
fn host_name(host: &str) -> &str {
    if host.starts_with('[') {
        return host.find(']').map_or("", |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Whether a browser's `Origin` is the endpoint's own page (`http://` or `https://` + Host).
fn same_origin(origin: &str, host: &str) -> bool {
    let Some((scheme, rest)) = origin.split_once("://") else {
        return false;
    };
    matches!(scheme, "http" | "https") && rest.eq_ignore_ascii_case(host)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_by_address_or_allowed_name() {
        let options = AdminOptions::new().allow_host("Ops.Internal");
        for host in [
            "127.0.0.1:9001",
            "127.0.0.1",
            "[::1]:9001",
            "10.1.2.3:80",
            "localhost:9001",
            "LOCALHOST",
            "ops.internal:9001",
        ] {
            assert!(host_allowed(&options, host), "{host}");
        }
        for host in ["", "evil.example:9001", "localhost.evil.example", "[::1"] {
            assert!(!host_allowed(&options, host), "{host}");
        }
    }

    #[test]
    fn origins_must_be_the_endpoint_itself() {
        assert!(same_origin("http://127.0.0.1:9001", "127.0.0.1:9001"));
        assert!(!same_origin("http://evil.example", "127.0.0.1:9001"));
        assert!(!same_origin("null", "127.0.0.1:9001"));
    }
}
