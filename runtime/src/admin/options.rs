//! How the admin endpoint is served: who may use it, under which host names, and its limits.

use std::fmt;
use std::io;
use std::time::Duration;

use subtle::ConstantTimeEq;

/// The variable [`AdminOptions::from_env`] reads the full-access token from.
pub const TOKEN_VAR: &str = "TIDINGS_ADMIN_TOKEN";
/// The variable naming a file that holds the full-access token (its first line).
pub const TOKEN_FILE_VAR: &str = "TIDINGS_ADMIN_TOKEN_FILE";
/// The variable [`AdminOptions::from_env`] reads the read-only token from.
pub const READ_TOKEN_VAR: &str = "TIDINGS_ADMIN_READ_TOKEN";
/// The variable naming a file that holds the read-only token (its first line).
pub const READ_TOKEN_FILE_VAR: &str = "TIDINGS_ADMIN_READ_TOKEN_FILE";

/// Shorter tokens are refused: a token is a password that never needs typing.
const MIN_TOKEN_LEN: usize = 16;

/// How [`serve_with`](super::serve_with) serves the admin endpoint.
///
/// Without a token it serves loopback addresses only, to anyone on the machine. With a token
/// every request needs `Authorization: Bearer TOKEN`; a [read-only](Self::read_only_token)
/// token may read (stats, dead letters, tail, topology) but not replay or discard.
///
/// ```
/// # use std::time::Duration;
/// let options = tidings::admin::AdminOptions::new()
///     .token("a-long-random-secret-from-a-vault")
///     .allow_host("ops.internal")
///     .header_read_timeout(Duration::from_secs(5));
/// ```
#[derive(Clone)]
pub struct AdminOptions {
    pub(super) token: Option<Token>,
    pub(super) read_token: Option<Token>,
    /// Host names (besides IP addresses and `localhost`) requests may name in `Host`.
    pub(super) hosts: Vec<String>,
    pub(super) header_read_timeout: Duration,
    pub(super) max_connections: usize,
    pub(super) body_limit: usize,
}

impl Default for AdminOptions {
    fn default() -> Self {
        AdminOptions {
            token: None,
            read_token: None,
            hosts: Vec::new(),
            header_read_timeout: Duration::from_secs(10),
            max_connections: 256,
            body_limit: 1024 * 1024,
        }
    }
}

impl fmt::Debug for AdminOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AdminOptions")
            .field("token", &self.token)
            .field("read_token", &self.read_token)
            .field("hosts", &self.hosts)
            .field("header_read_timeout", &self.header_read_timeout)
            .field("max_connections", &self.max_connections)
            .field("body_limit", &self.body_limit)
            .finish()
    }
}

impl AdminOptions {
    /// No token, loopback only, the default limits.
    pub fn new() -> Self {
        Self::default()
    }

    /// The options [`serve`](super::serve) uses: the tokens from `TIDINGS_ADMIN_TOKEN` (or the
    /// file `TIDINGS_ADMIN_TOKEN_FILE` names) and `TIDINGS_ADMIN_READ_TOKEN` (or
    /// `TIDINGS_ADMIN_READ_TOKEN_FILE`), if set. An unreadable token file is an error.
    pub fn from_env() -> io::Result<Self> {
        Ok(AdminOptions {
            token: token_from_env(TOKEN_VAR, TOKEN_FILE_VAR)?,
            read_token: token_from_env(READ_TOKEN_VAR, READ_TOKEN_FILE_VAR)?,
            ..Self::default()
        })
    }

    /// Requests need `Authorization: Bearer TOKEN` (at least 16 characters), which allows
    /// everything.
    pub fn token(mut self, token: impl Into<String>) -> Self {
        self.token = Some(Token(token.into()));
        self
    }

    /// A second token that may only read: `GET` requests pass, replay and discard answer 403.
    pub fn read_only_token(mut self, token: impl Into<String>) -> Self {
        self.read_token = Some(Token(token.into()));
        self
    }

    /// Serves requests that name `host` in their `Host` header. IP addresses and `localhost`
    /// always pass; any other name is refused (421) unless allowed here, which stops a web
    /// page from reaching the endpoint through a name of its own (DNS rebinding).
    pub fn allow_host(mut self, host: impl Into<String>) -> Self {
        self.hosts.push(host.into().to_ascii_lowercase());
        self
    }

    /// How long a client may take to send a request's headers, and how long a kept-alive
    /// connection may sit idle before its next request (default 10 s). Then it is closed.
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// Connections served at once (default 256); more wait to be accepted.
    pub fn max_connections(mut self, max: usize) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// The largest request body taken, in bytes (default 1 MiB: a bulk replay of 20,000 ids); larger ones answer 413.
    pub fn body_limit(mut self, bytes: usize) -> Self {
        self.body_limit = bytes;
        self
    }

    pub(super) fn authenticates(&self) -> bool {
        self.token.is_some() || self.read_token.is_some()
    }

    /// What a presented bearer token allows, if anything.
    pub(super) fn access(&self, presented: &str) -> Option<Access> {
        let matches = |token: &Option<Token>| token.as_ref().is_some_and(|t| t.matches(presented));
        // Both compared every time, so the answer's timing does not say which one exists.
        let full = matches(&self.token);
        let read = matches(&self.read_token);
        if full {
            Some(Access::Full)
        } else if read {
            Some(Access::ReadOnly)
        } else {
            None
        }
    }

    /// Refuses tokens that are too short or that a header cannot carry.
    pub(super) fn validate(&self) -> io::Result<()> {
        for (which, token) in [
            ("token", &self.token),
            ("read-only token", &self.read_token),
        ] {
            let Some(Token(token)) = token else { continue };
            let printable = token.bytes().all(|b| b.is_ascii_graphic());
            if token.len() < MIN_TOKEN_LEN || !printable {
                return Err(io::Error::new(
                    io::ErrorKind::InvalidInput,
                    format!(
                        "the admin endpoint's {which} must be at least {MIN_TOKEN_LEN} visible \
                         ASCII characters without spaces, e.g. from `openssl rand -hex 24`"
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// What a token allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    Full,
    ReadOnly,
}

/// A secret: never shown, compared in constant time.
#[derive(Clone)]
pub(super) struct Token(String);

impl Token {
    fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

fn token_from_env(var: &str, file_var: &str) -> io::Result<Option<Token>> {
    if let Some(token) = std::env::var_os(var) {
        let token = token.into_string().map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{var} is not valid UTF-8"),
            )
        })?;
        return Ok(Some(Token(token)));
    }
    let Some(path) = std::env::var_os(file_var) else {
        return Ok(None);
    };
    let text = std::fs::read_to_string(&path).map_err(|error| {
        io::Error::new(
            error.kind(),
            format!(
                "cannot read the admin token from {} ({file_var}): {error}",
                std::path::Path::new(&path).display()
            ),
        )
    })?;
    // The first line, so that a file written by `echo` works.
    let token = text.lines().next().unwrap_or_default().trim().to_owned();
    Ok(Some(Token(token)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_never_shown() {
        let options = AdminOptions::new()
            .token("full-access-secret-1234")
            .read_only_token("read-only-secret-1234");
        let shown = format!("{options:?}");
        assert!(!shown.contains("secret"), "{shown}");
    }

    #[test]
    fn a_token_allows_what_it_is_for() {
        let options = AdminOptions::new()
            .token("full-access-secret-1234")
            .read_only_token("read-only-secret-1234");
        assert_eq!(
            options.access("full-access-secret-1234"),
            Some(Access::Full)
        );
        assert_eq!(
            options.access("read-only-secret-1234"),
            Some(Access::ReadOnly)
        );
        assert_eq!(options.access("full-access-secret-123"), None);
        assert_eq!(options.access(""), None);
        assert_eq!(AdminOptions::new().access(""), None);
    }

    #[test]
    fn short_tokens_are_refused() {
        let error = AdminOptions::new().token("short").validate().unwrap_err();
        assert!(error.to_string().contains("at least 16"), "{error}");
        let spaced = AdminOptions::new().token("has a space in it, long enough");
        assert!(spaced.validate().is_err());
        assert!(
            AdminOptions::new()
                .token("0123456789abcdef")
                .validate()
                .is_ok()
        );
    }
}
