//! The bus URL as a topology shows it: without the password or user (which must not end up in
//! a printed table or a published AsyncAPI document), query options or fragment.

/// `nats` for `nats://…`.
pub(super) fn scheme(url: &str) -> &str {
    url.split_once("://").map_or(url, |(scheme, _)| scheme)
}

/// `amqp://guest:guest@host:5672/%2f?timeout=5s` → `amqp://host:5672/%2f`.
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return String::new();
    };
    let rest = rest.split(['?', '#']).next().unwrap_or_default();
    let (host, path) = split_authority(scheme, rest);
    format!("{scheme}://{host}{path}")
}

/// The broker's address (`host:port`) and path of a redacted broker URL; `None` for the
/// in-process transports, which no other program connects to.
pub(super) fn server(url: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = url.split_once("://")?;
    if matches!(scheme, "memory" | "file") {
        return None;
    }
    Some(split_authority(scheme, rest))
}

/// `user:pass@host:port/path` → (`host:port`, `/path`). A `file://` path is all path.
fn split_authority<'a>(scheme: &str, rest: &'a str) -> (&'a str, &'a str) {
    if scheme == "file" {
        return ("", rest);
    }
    let (authority, path) = rest.find('/').map_or((rest, ""), |at| rest.split_at(at));
    let host = authority
        .rsplit_once('@')
        .map_or(authority, |(_, host)| host);
    (host, path)
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
            Some(("127.0.0.1:5672", "/%2f"))
        );
        assert_eq!(
            server("nats://127.0.0.1:4222"),
            Some(("127.0.0.1:4222", ""))
        );
        assert_eq!(server("file://./data"), None);
        assert_eq!(server("memory://"), None);
        assert_eq!(scheme("nats://x"), "nats");
    }
}
