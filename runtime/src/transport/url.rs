//! [`TransportUrl`]: the one parser of bus URLs, for every transport and the topology, and the
//! one place that hides a URL's credentials.

use std::fmt;

use crate::error::{Error, Result};

/// Option names whose values are secrets, shown as `***` like a password.
const SECRET_OPTIONS: [&str; 5] = ["password", "token", "secret", "key", "auth"];

/// A bus URL, `scheme://[user[:password]@]host[/path][?name=value&…]`, taken apart.
///
/// Its `Display` and `Debug` hide the credentials (`scheme://***@host/path`) and the values of
/// options named like secrets, so it can go into any error, log line or table; only
/// [`TransportUrl::with_credentials`] gives the URL a client connects with.
#[derive(Clone, PartialEq, Eq)]
pub struct TransportUrl {
    scheme: String,
    /// `user[:password]`, if any.
    userinfo: Option<String>,
    /// What follows the credentials, up to the query: `host:port/path`, a name, or a path.
    address: String,
    options: Vec<(String, String)>,
    /// Set by `BusBuilder::existing_only`: open what is there, create nothing.
    must_exist: bool,
}

impl TransportUrl {
    /// Parses `url`; an error names the URL redacted.
    pub fn parse(url: &str) -> Result<Self> {
        let Some((scheme, rest)) = url.split_once("://") else {
            return Err(Error::UnsupportedUrl {
                url: redact_unparsed(url),
                hint: "a bus URL starts with its scheme: `memory://`, `file://PATH`, \
                       `nats://HOST:PORT`, `amqp://HOST:PORT`"
                    .to_owned(),
            });
        };
        let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
        let (location, query) = rest.split_once('?').unwrap_or((rest, ""));
        // Credentials come before the host; an `@` after the first `/` is part of a path.
        let authority_end = location.find('/').unwrap_or(location.len());
        let (userinfo, address) = match location[..authority_end].rfind('@') {
            Some(at) if scheme != "file" => (
                Some(location[..at].to_owned()),
                location[at + 1..].to_owned(),
            ),
            _ => (None, location.to_owned()),
        };
        let options = query
            .split('&')
            .filter(|pair| !pair.is_empty())
            .map(|pair| match pair.split_once('=') {
                Some((name, value)) => (name.to_owned(), value.to_owned()),
                None => (pair.to_owned(), String::new()),
            })
            .collect();
        Ok(TransportUrl {
            scheme: scheme.to_owned(),
            userinfo,
            address,
            options,
            must_exist: false,
        })
    }

    /// Whether the transport is to open only what already exists (a store's directory, a
    /// namespace's streams or queues) and create nothing: set by tools that inspect a bus
    /// ([`BusBuilder::existing_only`](crate::BusBuilder::existing_only)). Then a transport
    /// that finds nothing there fails, naming what it looked for.
    pub fn must_exist(&self) -> bool {
        self.must_exist
    }

    /// This URL, to be opened [only if it exists](Self::must_exist).
    pub fn existing_only(mut self) -> Self {
        self.must_exist = true;
        self
    }

    /// `nats` for `nats://…`.
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// Everything between the credentials and the query: `127.0.0.1:5672/%2f`, a memory
    /// namespace, a file path.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The address up to its path: `127.0.0.1:5672`.
    pub fn host(&self) -> &str {
        self.address.split('/').next().unwrap_or_default()
    }

    /// The address from its first `/` on (`/%2f`), or empty.
    pub fn path(&self) -> &str {
        self.address
            .find('/')
            .map_or("", |start| &self.address[start..])
    }

    /// The user name, if the URL has credentials.
    pub fn user(&self) -> Option<&str> {
        let userinfo = self.userinfo.as_deref()?;
        Some(userinfo.split_once(':').map_or(userinfo, |(user, _)| user))
    }

    /// The password, if the URL has one.
    pub fn password(&self) -> Option<&str> {
        let (_, password) = self.userinfo.as_deref()?.split_once(':')?;
        Some(password)
    }

    /// The query's `name=value` options, in order.
    pub fn options(&self) -> &[(String, String)] {
        &self.options
    }

    /// The value of option `name`, the last one if it is given twice.
    pub fn option(&self, name: &str) -> Option<&str> {
        self.options
            .iter()
            .rev()
            .find(|(option, _)| option == name)
            .map(|(_, value)| value.as_str())
    }

    /// `scheme://[userinfo@]address`, credentials included and options left out: what a client
    /// library connects with. Never print it.
    pub fn with_credentials(&self) -> String {
        match &self.userinfo {
            Some(userinfo) => format!("{}://{userinfo}@{}", self.scheme, self.address),
            None => format!("{}://{}", self.scheme, self.address),
        }
    }

    /// `scheme://address`: no credentials, no options; what a topology or an AsyncAPI
    /// document shows.
    pub fn without_credentials_or_options(&self) -> String {
        format!("{}://{}", self.scheme, self.address)
    }

    /// The error for a URL this transport cannot use, naming the URL redacted. The hint is
    /// redacted too ([`TransportUrl::redact`]): it often quotes a client library's message, and
    /// some quote the URL they were given whole.
    pub fn unsupported(&self, hint: impl Into<String>) -> Error {
        Error::UnsupportedUrl {
            url: self.to_string(),
            hint: self.redact(&hint.into()),
        }
    }

    /// `text` with this URL's credentials and secret option values replaced by `***`: for a
    /// message from a client library that may quote the URL it was given.
    ///
    /// Where a secret is quoted in its place (`user:password@`, `name=value`) it is hidden
    /// whatever its length; a bare occurrence is hidden if it has 4 characters or more, as a
    /// shorter one cannot be told from the words around it and replacing it would garble them.
    pub fn redact(&self, text: &str) -> String {
        let mut secrets: Vec<(String, String)> = Vec::new();
        let mut bare = |secret: &str| {
            if secret.len() >= 4 {
                secrets.push((secret.to_owned(), "***".to_owned()));
            }
        };
        match (self.userinfo.as_deref(), self.password()) {
            (Some(userinfo), Some(password)) => {
                bare(password);
                secrets.push((format!("{userinfo}@"), "***@".to_owned()));
                secrets.push((format!(":{password}@"), ":***@".to_owned()));
            }
            // `nats://TOKEN@host`: the user is the token.
            (Some(token), None) => {
                bare(token);
                secrets.push((format!("{token}@"), "***@".to_owned()));
            }
            (None, _) => {}
        }
        for (name, value) in &self.options {
            if is_secret_option(name) && !value.is_empty() {
                if value.len() >= 4 {
                    secrets.push((value.clone(), "***".to_owned()));
                }
                secrets.push((format!("{name}={value}"), format!("{name}=***")));
            }
        }
        // The longest first, so that a password is not replaced inside its own userinfo.
        secrets.sort_by_key(|(secret, _)| std::cmp::Reverse(secret.len()));
        let mut redacted = text.to_owned();
        for (secret, hidden) in &secrets {
            redacted = redacted.replace(secret.as_str(), hidden);
        }
        redacted
    }

    /// The error for an option named `name` this transport does not know; `expected` lists the
    /// ones it does. The value is not shown: it may be a secret.
    pub fn unknown_option(&self, name: &str, expected: &str) -> Error {
        self.unsupported(format!("unknown option `{name}`; expected {expected}"))
    }
}

impl fmt::Display for TransportUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://", self.scheme)?;
        if self.userinfo.is_some() {
            f.write_str("***@")?;
        }
        f.write_str(&self.address)?;
        for (index, (name, value)) in self.options.iter().enumerate() {
            let separator = if index == 0 { '?' } else { '&' };
            let value = if is_secret_option(name) {
                "***"
            } else {
                value.as_str()
            };
            write!(f, "{separator}{name}={value}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for TransportUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TransportUrl({self})")
    }
}

fn is_secret_option(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    SECRET_OPTIONS.iter().any(|secret| name.contains(secret))
}

/// A string that is not a URL, shown without anything that looks like credentials.
fn redact_unparsed(text: &str) -> String {
    match text.rsplit_once('@') {
        Some((_, host)) => format!("***@{host}"),
        None => text.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_show_in_display_or_debug() {
        for url in [
            "amqp://guest:s3cret@10.0.0.7:5672/%2f?namespace=x",
            "nats://s3cret@127.0.0.1:4222",
            "nats://user:s3cret@127.0.0.1:4222?token=s3cret",
            "redis://:s3cret@127.0.0.1:6379/0",
            "postgres://app:s3cret@db/app?password=s3cret",
        ] {
            let parsed = TransportUrl::parse(url).unwrap();
            for shown in [parsed.to_string(), format!("{parsed:?}")] {
                assert!(!shown.contains("s3cret"), "{shown}");
                assert!(shown.contains("***"), "{shown}");
            }
            assert!(!parsed.without_credentials_or_options().contains("s3cret"));
            assert!(!parsed.unsupported("x").to_string().contains("s3cret"));
        }
        // A client library's message that quotes the URL whole (amq-protocol-uri's does).
        let url = TransportUrl::parse("amqp://guest:s3cret@h:1/%2f?token=t0ken").unwrap();
        let quoted = format!("Invalid URL: '{}?token=t0ken'", url.with_credentials());
        let hint = url.unsupported(quoted).to_string();
        assert!(hint.contains("'amqp://***@h:1/%2f?token=***'"), "{hint}");
        assert!(
            !hint.contains("s3cret") && !hint.contains("t0ken"),
            "{hint}"
        );
        let error = TransportUrl::parse("guest:s3cret@nowhere").unwrap_err();
        assert!(!error.to_string().contains("s3cret"), "{error}");
    }

    #[test]
    fn parts() {
        let url = TransportUrl::parse("amqp://guest:pw@host:5672/%2f?namespace=a&x=1#f").unwrap();
        assert_eq!(url.scheme(), "amqp");
        assert_eq!((url.user(), url.password()), (Some("guest"), Some("pw")));
        assert_eq!((url.host(), url.path()), ("host:5672", "/%2f"));
        assert_eq!(url.option("namespace"), Some("a"));
        assert_eq!(url.options().len(), 2);
        assert_eq!(url.with_credentials(), "amqp://guest:pw@host:5672/%2f");
        assert_eq!(url.to_string(), "amqp://***@host:5672/%2f?namespace=a&x=1");
        let file = TransportUrl::parse("file://./data@v1?sync=batched").unwrap();
        assert_eq!((file.address(), file.user()), ("./data@v1", None));
        let memory = TransportUrl::parse("memory://").unwrap();
        assert_eq!(memory.address(), "");
    }
}
