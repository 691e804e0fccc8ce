//! Errors: [`Error`] for the bus API, [`HandlerError`] for what a handler returns.

use std::fmt;

use crate::dead_letter::DeadLetterId;

/// What can go wrong when building, publishing to or operating a [`Bus`](crate::Bus).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// `build()` found problems; every one of them is listed.
    #[error("the bus cannot start:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Build(Vec<String>),

    /// The URL names a transport this build does not have.
    #[error("unsupported transport URL `{url}`: {hint}")]
    UnsupportedUrl {
        /// The URL as given.
        url: String,
        /// What to do instead.
        hint: String,
    },

    /// `publish` was called after `shutdown()` began.
    #[error("the bus is shut down: publish before calling `shutdown()`, or build a new bus")]
    ShutDown,

    /// `shutdown()` reached its deadline with work still unfinished.
    #[error(
        "shutdown deadline passed with {unfinished} deliveries unfinished; raise \
         `Bus::builder().shutdown_timeout(..)` or make handlers finish sooner"
    )]
    ShutdownTimeout {
        /// Deliveries accepted but neither handled nor dead-lettered.
        unfinished: usize,
    },

    /// No dead letter has this id (it may have been replayed or discarded already).
    #[error("no dead letter with id {0}; list them with `bus.dead_letters().list()`")]
    DeadLetterNotFound(DeadLetterId),

    /// The durable store could not be opened or written.
    #[error("the durable store at `{}` failed: {message}", path.display())]
    Storage {
        /// The store's directory.
        path: std::path::PathBuf,
        /// What went wrong.
        message: String,
    },

    /// A dead letter belongs to a subscriber this bus does not run.
    #[error(
        "dead letter {id} belongs to subscriber `{subscriber}`, which this bus does not run; replay \
         it from a bus that does"
    )]
    SubscriberNotRunning {
        /// The dead letter.
        id: DeadLetterId,
        /// Its subscriber.
        subscriber: String,
    },

    /// A message broker could not be reached, refused an operation, or did not answer in time.
    #[error("the broker at `{url}` {problem}")]
    Broker {
        /// The broker URL, credentials hidden.
        url: String,
        /// What went wrong, and what to do about it.
        problem: String,
        /// The client library's error, if one caused it.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },

    /// A name typed at run time (an event name to tail) breaks the rule names follow.
    #[error("{0}")]
    InvalidName(String),

    /// An envelope given to `publish_envelope` has a `traceparent` that is not W3C's.
    #[error("cannot publish the envelope: {0}; fix its `traceparent` or set it to `None`")]
    InvalidTraceparent(#[source] crate::trace::TraceParentError),

    /// A dead letter whose payload was truncated to fit its store cannot be replayed.
    #[error(
        "cannot replay dead letter {id}: its {truncated}; `dlq show` has what is left, \
         and `dlq discard` removes it"
    )]
    TruncatedPayload {
        /// The letter.
        id: DeadLetterId,
        /// What is known of the whole payload.
        truncated: crate::dead_letter::Truncated,
    },

    /// An envelope given to `publish_envelope` has a `time` the wire cannot carry (RFC 3339
    /// writes years 1970 to 9999 in UTC): it could never be read back, nor dead-lettered.
    #[error("cannot publish the envelope: its `time` is {0}")]
    InvalidTime(String),

    /// The event could not be serialized.
    #[error("cannot serialize event `{event}`: {source}")]
    Serialize {
        /// The event name.
        event: &'static str,
        /// The serde error.
        source: serde_json::Error,
    },
}

/// A specialised `Result` for the bus API.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// The error a handler returns: retryable unless made [`permanent`](HandlerError::permanent).
///
/// Any `std::error::Error` converts into a retryable `HandlerError` with `?`:
///
/// ```
/// use tidings::HandlerError;
///
/// fn parse(input: &str) -> Result<u32, HandlerError> {
///     let n: u32 = input.parse()?; // retryable
///     if n == 0 {
///         return Err(HandlerError::permanent_msg("zero is never valid")); // straight to dead letters
///     }
///     Ok(n)
/// }
/// # assert!(parse("7").is_ok());
/// ```
pub struct HandlerError {
    permanent: bool,
    source: Box<dyn std::error::Error + Send + Sync + 'static>,
}

impl HandlerError {
    /// A failure worth retrying (the default for any error).
    pub fn retryable(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        HandlerError {
            permanent: false,
            source: error.into(),
        }
    }

    /// A failure that retrying cannot fix: the event goes straight to dead letters.
    pub fn permanent(error: impl Into<Box<dyn std::error::Error + Send + Sync + 'static>>) -> Self {
        HandlerError {
            permanent: true,
            source: error.into(),
        }
    }

    /// A retryable failure from a message.
    pub fn msg(message: impl fmt::Display) -> Self {
        Self::retryable(message.to_string())
    }

    /// A permanent failure from a message.
    pub fn permanent_msg(message: impl fmt::Display) -> Self {
        Self::permanent(message.to_string())
    }

    /// Whether retrying is pointless.
    pub fn is_permanent(&self) -> bool {
        self.permanent
    }

    /// The underlying error.
    pub fn source(&self) -> &(dyn std::error::Error + Send + Sync + 'static) {
        &*self.source
    }
}

impl<E: std::error::Error + Send + Sync + 'static> From<E> for HandlerError {
    fn from(error: E) -> Self {
        Self::retryable(error)
    }
}

/// Shows the error and its chain of sources: `outer: inner: root`.
impl fmt::Display for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.source)?;
        let mut next = self.source.source();
        while let Some(cause) = next {
            write!(f, ": {cause}")?;
            next = cause.source();
        }
        Ok(())
    }
}

impl fmt::Debug for HandlerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandlerError")
            .field("permanent", &self.permanent)
            .field("source", &self.source)
            .finish()
    }
}

/// What a handler may return: `()` or `Result<(), E>` with `E: Into<HandlerError>`.
#[diagnostic::on_unimplemented(
    message = "a subscriber must return `()` or `Result<(), E>` where `E: Into<HandlerError>`, not `{Self}`",
    note = "any `std::error::Error + Send + Sync + 'static` converts into `HandlerError`"
)]
pub trait IntoHandlerResult {
    /// Normalises the handler's output.
    fn into_handler_result(self) -> Result<(), HandlerError>;
}

impl IntoHandlerResult for () {
    fn into_handler_result(self) -> Result<(), HandlerError> {
        Ok(())
    }
}

impl<E: Into<HandlerError>> IntoHandlerResult for Result<(), E> {
    fn into_handler_result(self) -> Result<(), HandlerError> {
        self.map_err(Into::into)
    }
}

impl Error {
    /// [`Error::Broker`] for the broker at `url` (give a [`TransportUrl`] or a string already
    /// redacted: it is shown as it displays), with no underlying error.
    ///
    /// [`TransportUrl`]: crate::transport::TransportUrl
    pub fn broker(url: impl std::fmt::Display, problem: impl Into<String>) -> Error {
        Error::Broker {
            url: url.to_string(),
            problem: problem.into(),
            source: None,
        }
    }

    /// The same error, caused by `cause` (kept as its [`source`](std::error::Error::source)),
    /// when it is an [`Error::Broker`]; any other error is returned as it is.
    #[must_use]
    pub fn caused_by(self, cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Error {
        match self {
            Error::Broker { url, problem, .. } => Error::Broker {
                url,
                problem,
                source: Some(cause.into()),
            },
            other => other,
        }
    }
}
