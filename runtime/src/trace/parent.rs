//! [`TraceParent`]: the W3C Trace Context `traceparent` value, `00-{trace id}-{parent id}-{flags}`.

use std::fmt;
use std::str::FromStr;

use super::ids::{SpanId, TraceId};

/// Where an event sits in a distributed trace: the W3C `traceparent` it travels with.
///
/// `Copy` and fixed-size, so carrying it costs a delivery no allocation. Printed in version
/// `00` form, parsed from any version as the W3C Trace Context spec says:
///
/// ```
/// use tidings::TraceParent;
///
/// let parent: TraceParent = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01".parse()?;
/// assert_eq!(parent.trace_id().to_string(), "4bf92f3577b34da6a3ce929d0e0e4736");
/// assert_eq!(parent.parent_id().to_string(), "00f067aa0ba902b7");
/// assert!(parent.is_sampled());
/// assert_eq!(parent.to_string(), "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
/// # Ok::<(), tidings::TraceParentError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceParent {
    trace_id: TraceId,
    parent_id: SpanId,
    flags: u8,
}

impl TraceParent {
    /// The `sampled` bit of the trace flags: the caller may have recorded the trace.
    pub const SAMPLED: u8 = 0x01;

    /// A `traceparent` naming span `parent_id` of trace `trace_id`.
    pub fn new(trace_id: TraceId, parent_id: SpanId, flags: u8) -> Self {
        TraceParent {
            trace_id,
            parent_id,
            flags,
        }
    }

    /// A new trace started here, sampled: what a publish outside any trace carries.
    pub(crate) fn root() -> Self {
        TraceParent::new(TraceId::random(), SpanId::random(), Self::SAMPLED)
    }

    /// The trace every span of the chain shares.
    pub fn trace_id(&self) -> TraceId {
        self.trace_id
    }

    /// The span that sent this: the parent of whatever handles it.
    pub fn parent_id(&self) -> SpanId {
        self.parent_id
    }

    /// The trace flags byte.
    pub fn flags(&self) -> u8 {
        self.flags
    }

    /// Whether the `sampled` flag is set.
    pub fn is_sampled(&self) -> bool {
        self.flags & Self::SAMPLED != 0
    }

    /// The same trace, with `span` as the parent: what work started inside `span` carries.
    pub fn with_parent(self, span: SpanId) -> Self {
        TraceParent {
            parent_id: span,
            ..self
        }
    }
}

/// A string that is not a W3C `traceparent`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{input}` is not a W3C traceparent: {reason}; expected `00-<32 hex digit trace id>-<16 hex \
     digit parent id>-<2 hex digit flags>`, lowercase, ids not all zero"
)]
pub struct TraceParentError {
    input: String,
    reason: &'static str,
}

impl FromStr for TraceParent {
    type Err = TraceParentError;

    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let error = |reason| TraceParentError {
            input: input.to_owned(),
            reason,
        };
        // `vv-` + 32 + `-` + 16 + `-` + 2, read as bytes so that no input can split a character.
        const VERSION_00_LEN: usize = 55;
        let bytes = input.as_bytes();
        let version = bytes.get(..2).ok_or_else(|| error("too short"))?;
        match version {
            b"00" if bytes.len() != VERSION_00_LEN => {
                return Err(error("version 00 is exactly 55 characters long"));
            }
            b"ff" => return Err(error("version ff is forbidden")),
            _ if !version.iter().copied().all(is_lower_hex) => {
                return Err(error("the version is not two lowercase hex digits"));
            }
            // A later version keeps this layout and may append `-` and more fields.
            _ if bytes.len() < VERSION_00_LEN => return Err(error("too short")),
            _ if bytes.len() > VERSION_00_LEN && bytes[VERSION_00_LEN] != b'-' => {
                return Err(error("fields past the flags must follow a `-`"));
            }
            _ => {}
        }
        if [2, 35, 52].iter().any(|&at| bytes[at] != b'-') {
            return Err(error("the fields are not separated by `-` where expected"));
        }
        let trace_id = TraceId::parse(&bytes[3..35])
            .ok_or_else(|| error("the trace id is not 32 lowercase hex digits, not all zero"))?;
        let parent_id = SpanId::parse(&bytes[36..52])
            .ok_or_else(|| error("the parent id is not 16 lowercase hex digits, not all zero"))?;
        let mut flags = [0];
        super::ids::decode_hex(&bytes[53..55], &mut flags)
            .ok_or_else(|| error("the flags are not two lowercase hex digits"))?;
        Ok(TraceParent::new(trace_id, parent_id, flags[0]))
    }
}

fn is_lower_hex(byte: u8) -> bool {
    byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte)
}

impl fmt::Display for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "00-{}-{}-{:02x}",
            self.trace_id, self.parent_id, self.flags
        )
    }
}

impl fmt::Debug for TraceParent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceParent({self})")
    }
}

impl serde::Serialize for TraceParent {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        // Written straight into the output: no intermediate `String`.
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for TraceParent {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

    #[test]
    fn the_spec_example_round_trips() {
        let parent: TraceParent = EXAMPLE.parse().unwrap();
        assert_eq!(
            parent.trace_id().to_bytes(),
            0x4bf92f3577b34da6a3ce929d0e0e4736_u128.to_be_bytes()
        );
        assert_eq!(
            parent.parent_id().to_bytes(),
            0x00f067aa0ba902b7_u64.to_be_bytes()
        );
        assert_eq!((parent.flags(), parent.is_sampled()), (1, true));
        assert_eq!(parent.to_string(), EXAMPLE);
        let json = serde_json::to_string(&parent).unwrap();
        assert_eq!(json, format!("\"{EXAMPLE}\""));
        assert_eq!(serde_json::from_str::<TraceParent>(&json).unwrap(), parent);
    }

    #[test]
    fn later_versions_are_read_in_the_version_00_layout() {
        let later = "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00-what-the-future-holds";
        let parent: TraceParent = later.parse().unwrap();
        assert_eq!(
            parent.to_string(),
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
        );
        assert!(!parent.is_sampled());
    }

    #[test]
    fn malformed_values_say_what_is_wrong() {
        let cases = [
            ("", "too short"),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-",
                "exactly 55",
            ),
            (
                "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version ff",
            ),
            (
                "0g-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "version is not",
            ),
            (
                "cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x",
                "must follow a `-`",
            ),
            (
                "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
                "trace id",
            ),
            (
                "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
                "trace id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
                "parent id",
            ),
            (
                "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0x",
                "flags",
            ),
            (
                "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                "separated",
            ),
            // 55 bytes, one character of two: refused, never split.
            (
                "00-4bf92f3577b34da6a3ce929d0e0e47é-00f067aa0ba902b7-01",
                "trace id",
            ),
        ];
        for (input, reason) in cases {
            let error = input.parse::<TraceParent>().unwrap_err().to_string();
            assert!(error.contains(reason), "{input}: {error}");
            assert!(error.contains("expected `00-<32 hex digit"), "{error}");
        }
    }

    #[test]
    fn fresh_roots_are_valid_distinct_and_sampled() {
        let (a, b) = (TraceParent::root(), TraceParent::root());
        assert_ne!(a.trace_id(), b.trace_id());
        assert!(a.is_sampled());
        assert_eq!(a.to_string().parse::<TraceParent>().unwrap(), a);
        let child = a.with_parent(b.parent_id());
        assert_eq!(
            (child.trace_id(), child.parent_id(), child.flags()),
            (a.trace_id(), b.parent_id(), a.flags())
        );
    }
}
