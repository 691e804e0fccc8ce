//! The [`Event`] trait, event identity and ordering keys.

use std::fmt;
use std::hash::Hash;
use std::str::FromStr;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A message type that can be published on a [`Bus`](crate::Bus).
///
/// Implement it with `#[derive(Event)]`, which also checks the name at compile time:
///
/// ```
/// use serde::{Deserialize, Serialize};
/// use tidings::Event;
///
/// #[derive(Debug, Clone, Serialize, Deserialize, Event)]
/// #[event(name = "orders.placed", version = 1)]
/// pub struct OrderPlaced {
///     #[event(key)]
///     pub order_id: u64,
///     pub sku: String,
/// }
///
/// assert_eq!(OrderPlaced::NAME, "orders.placed");
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` is not a tidings event",
    label = "not an event",
    note = "add `#[derive(tidings::Event)]` (and serde's `Serialize`, `Deserialize`) to `{Self}`"
)]
pub trait Event: Serialize + DeserializeOwned + Send + Sync + 'static {
    /// The wire name of the event (`[A-Za-z0-9_.-]+`); routes it to its subscribers.
    const NAME: &'static str;
    /// The schema version; a subscriber dead-letters payloads of any other version.
    const VERSION: u32;
    /// The ordering key: events with the same key reach an `ordered` subscriber in publish order.
    fn key(&self) -> Option<Key<'_>>;
}

/// An ordering / partition key, borrowed from the event so that reading it costs no allocation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key<'a> {
    /// A textual key.
    Str(&'a str),
    /// An unsigned integer key.
    Unsigned(u128),
    /// A signed integer key.
    Signed(i128),
}

impl Key<'_> {
    /// A 64-bit hash of the key's text, used to find the key's lane and broker partition.
    /// Hashing the text (without allocating it) makes `42` and `"42"` one lane, as they are
    /// once the key has travelled as a CloudEvents `subject`. It is FNV-1a, the same in every
    /// build and process, so publishers anywhere put a key in the same partition.
    pub fn hash64(&self) -> u64 {
        let mut text = Fnv1a(0xcbf2_9ce4_8422_2325);
        let _ = fmt::Write::write_fmt(&mut text, format_args!("{self}"));
        text.0
    }
}

/// FNV-1a over text written into it.
pub(crate) struct Fnv1a(pub(crate) u64);

impl fmt::Write for Fnv1a {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for byte in s.bytes() {
            self.0 = (self.0 ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
        }
        Ok(())
    }
}

impl fmt::Display for Key<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Str(s) => f.write_str(s),
            Key::Unsigned(n) => write!(f, "{n}"),
            Key::Signed(n) => write!(f, "{n}"),
        }
    }
}

/// A field type that can be an event's `#[event(key)]`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be an event key",
    label = "not usable as a key",
    note = "use a string or integer field, or implement `tidings::AsKey` for `{Self}`"
)]
pub trait AsKey {
    /// Borrows the key.
    fn as_key(&self) -> Key<'_>;
}

macro_rules! key_from {
    ($variant:ident as $wide:ty: $($ty:ty),*) => {$(
        impl AsKey for $ty {
            fn as_key(&self) -> Key<'_> {
                Key::$variant(<$wide>::from(*self))
            }
        }
    )*};
}
key_from!(Unsigned as u128: u8, u16, u32, u64, u128);
key_from!(Signed as i128: i8, i16, i32, i64, i128);

impl AsKey for usize {
    fn as_key(&self) -> Key<'_> {
        Key::Unsigned(*self as u128)
    }
}

impl AsKey for isize {
    fn as_key(&self) -> Key<'_> {
        Key::Signed(*self as i128)
    }
}

impl AsKey for str {
    fn as_key(&self) -> Key<'_> {
        Key::Str(self)
    }
}

impl AsKey for String {
    fn as_key(&self) -> Key<'_> {
        Key::Str(self)
    }
}

impl AsKey for Uuid {
    fn as_key(&self) -> Key<'_> {
        Key::Unsigned(self.as_u128())
    }
}

impl<T: AsKey + ?Sized> AsKey for &T {
    fn as_key(&self) -> Key<'_> {
        (**self).as_key()
    }
}

impl<T: AsKey + ?Sized> AsKey for Box<T> {
    fn as_key(&self) -> Key<'_> {
        (**self).as_key()
    }
}

impl<T: AsKey + ?Sized> AsKey for std::sync::Arc<T> {
    fn as_key(&self) -> Key<'_> {
        (**self).as_key()
    }
}

/// The unique id of one published event (a UUIDv7: unique and roughly time-ordered).
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct EventId(Uuid);

impl EventId {
    /// A fresh id.
    pub fn new() -> Self {
        EventId(Uuid::now_v7())
    }

    /// A fresh id stamped with `time`: saves a second clock read when the caller has one, and
    /// skips the process-wide lock `Uuid::now_v7` takes to keep ids monotonic (not needed here).
    pub(crate) fn at(time: std::time::SystemTime) -> Self {
        let since_epoch = time
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        let timestamp = uuid::Timestamp::from_unix(
            uuid::NoContext,
            since_epoch.as_secs(),
            since_epoch.subsec_nanos(),
        );
        EventId(Uuid::new_v7(timestamp))
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }
}

impl Default for EventId {
    fn default() -> Self {
        Self::new()
    }
}

impl From<Uuid> for EventId {
    fn from(uuid: Uuid) -> Self {
        EventId(uuid)
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EventId({})", self.0)
    }
}

impl FromStr for EventId {
    type Err = uuid::Error;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Uuid::parse_str(s).map(EventId)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_hashes_by_its_text_so_it_survives_the_trip_through_a_subject() {
        assert_eq!(Key::Unsigned(42).hash64(), Key::Str("42").hash64());
        assert_eq!(Key::Signed(-7).hash64(), Key::Str("-7").hash64());
        assert_ne!(Key::Str("42").hash64(), Key::Str("43").hash64());
    }
}
