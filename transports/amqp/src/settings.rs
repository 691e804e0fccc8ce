//! `amqp://` URLs: lapin's own query options pass through, tidings' options are taken out.
//! The URL is parsed by [`TransportUrl`], which also hides its password in every message.
//!
//! ```text
//! amqp://guest:guest@127.0.0.1:5672/%2f?namespace=shop&timeout=10s&heartbeat=10
//! ```

use std::time::Duration;

use tidings_core::Error;
use tidings_core::transport::TransportUrl;

/// Query options lapin reads itself (see `amq-protocol-uri`).
const LAPIN_OPTIONS: [&str; 5] = [
    "heartbeat",
    "connection_timeout",
    "frame_max",
    "channel_max",
    "auth_mechanism",
];

const DEFAULT_NAMESPACE: &str = "tidings";
const DEFAULT_TIMEOUT: Duration = Duration::from_secs(10);

/// Where the broker is and how tidings names and waits on what it keeps there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Settings {
    /// What lapin connects to: the URL without tidings' options.
    pub(crate) broker_url: String,
    /// The URL for messages: password hidden, tidings' options kept.
    pub(crate) shown_url: String,
    /// The prefix of every exchange and queue name, so that several applications (or test
    /// runs) share one broker without meeting.
    pub(crate) namespace: String,
    /// The longest any one broker call may take before it fails with [`Error::Broker`].
    pub(crate) timeout: Duration,
    /// Declare nothing: look up what is there ([`TransportUrl::must_exist`]).
    pub(crate) must_exist: bool,
}

impl Settings {
    pub(crate) fn parse(url: &TransportUrl) -> Result<Settings, Error> {
        let mut namespace = DEFAULT_NAMESPACE.to_owned();
        let mut timeout = DEFAULT_TIMEOUT;
        let mut passed = Vec::new();
        for (name, value) in url.options() {
            match name.as_str() {
                "namespace" => {
                    if value.is_empty()
                        || !value
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
                    {
                        return Err(url.unsupported(format!(
                            "`namespace={value}`: a namespace is made of letters, digits, `_`, \
                             `-` and `.`, like `namespace=shop`"
                        )));
                    }
                    namespace.clone_from(value);
                }
                "timeout" => {
                    timeout = humantime::parse_duration(value)
                        .ok()
                        .filter(|timeout| !timeout.is_zero())
                        .ok_or_else(|| {
                            url.unsupported(format!(
                                "`timeout={value}`: give how long a broker call may take, like \
                                 `timeout=10s` (the default) or `timeout=500ms`"
                            ))
                        })?;
                }
                _ if LAPIN_OPTIONS.contains(&name.as_str()) => {
                    passed.push(format!("{name}={value}"))
                }
                _ => {
                    let expected = format!(
                        "one of: `namespace`, `timeout`, {}",
                        LAPIN_OPTIONS.map(|option| format!("`{option}`")).join(", ")
                    );
                    return Err(url.unknown_option(name, &expected));
                }
            }
        }
        let base = url.with_credentials();
        let broker_url = if passed.is_empty() {
            base
        } else {
            format!("{base}?{}", passed.join("&"))
        };
        // Let lapin's own parser judge the rest now, rather than at the first connection.
        broker_url
            .parse::<lapin::uri::AMQPUri>()
            .map_err(|problem| {
                url.unsupported(format!(
                    "{problem}; expected `amqp://USER:PASSWORD@HOST:PORT/VHOST` (the vhost `/` \
                     is written `%2f`)"
                ))
            })?;
        Ok(Settings {
            broker_url,
            shown_url: url.to_string(),
            namespace,
            timeout,
            must_exist: url.must_exist(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(url: &str) -> Result<Settings, Error> {
        Settings::parse(&TransportUrl::parse(url)?)
    }

    #[test]
    fn tidings_options_are_taken_out_and_lapin_options_pass_through() {
        let settings =
            parse("amqp://guest:secret@127.0.0.1:5672/%2f?namespace=shop&heartbeat=10&timeout=2s")
                .unwrap();
        assert_eq!(
            settings.broker_url,
            "amqp://guest:secret@127.0.0.1:5672/%2f?heartbeat=10"
        );
        assert_eq!(
            settings.shown_url,
            "amqp://***@127.0.0.1:5672/%2f?namespace=shop&heartbeat=10&timeout=2s"
        );
        assert_eq!(
            (settings.namespace.as_str(), settings.timeout),
            ("shop", Duration::from_secs(2))
        );
        let plain = parse("amqp://127.0.0.1").unwrap();
        assert_eq!(
            (plain.namespace.as_str(), plain.timeout),
            ("tidings", DEFAULT_TIMEOUT)
        );
    }

    #[test]
    fn bad_options_name_what_is_valid() {
        let error = parse("amqp://u:p@h/%2f?prefetch=5").unwrap_err();
        let text = error.to_string();
        assert!(
            text.contains("unknown option `prefetch`") && text.contains("`namespace`"),
            "{text}"
        );
        assert!(!text.contains(":p@"), "the password stays hidden: {text}");
        for url in [
            "amqp://h?namespace=a/b",
            "amqp://h?namespace=",
            "amqp://h?timeout=soon",
            "amqp://h?heartbeat=often",
        ] {
            assert!(
                matches!(parse(url), Err(Error::UnsupportedUrl { .. })),
                "{url}"
            );
        }
    }
}
