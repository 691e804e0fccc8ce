//! The bus URL as a topology shows it, read by the one URL parser ([`TransportUrl`]): without
//! credentials (which must not end up in a printed table or a published AsyncAPI document),
//! query options or fragment.

use crate::transport::TransportUrl;

/// `nats` for `nats://…`.
pub(super) fn scheme(url: &str) -> String {
    TransportUrl::parse(url).map_or_else(|_| String::new(), |url| url.scheme().to_owned())
}

/// `amqp://guest:guest@host:5672/%2f?timeout=5s` → `amqp://host:5672/%2f`.
pub(super) fn redact(url: &str) -> String {
    TransportUrl::parse(url)
        .map(|url| url.without_credentials_or_options())
        .unwrap_or_default()
}

/// The broker's address (`host:port`) and path of a redacted broker URL; `None` for the
/// in-process transports, which no other program connects to.
pub(super) fn server(url: &str) -> Option<(String, String)> {
    let url = TransportUrl::parse(url).ok()?;
    if matches!(url.scheme(), "memory" | "file") {
        return None;
    }
    Some((url.host().to_owned(), url.path().to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_query_and_fragment_never_show() {
        assert_eq!(
            redact("amqp://guest:secret@10.0.0.7:5672/%2f?timeout=5s&namespace=x"),
            "amqp://10.0.0.7:5672/%2f"
        );
        assert_eq!(
            redact("nats://token@127.0.0.1:4222?namespace=t#x"),
            "nats://127.0.0.1:4222"
        );
        assert_eq!(redact("file://./data?sync=batched"), "file://./data");
        assert_eq!(redact("memory://orders"), "memory://orders");
        assert_eq!(redact("memory://"), "memory://");
    }

    #[test]
    fn only_brokers_are_servers() {
        assert_eq!(
            server("amqp://127.0.0.1:5672/%2f"),
            Some(("127.0.0.1:5672".to_owned(), "/%2f".to_owned()))
        );
        assert_eq!(
            server("nats://127.0.0.1:4222"),
            Some(("127.0.0.1:4222".to_owned(), String::new()))
        );
        assert_eq!(server("file://./data"), None);
        assert_eq!(server("memory://"), None);
        assert_eq!(scheme("nats://x"), "nats");
    }
}
