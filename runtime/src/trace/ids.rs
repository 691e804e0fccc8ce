//! W3C trace and span ids: fixed-size byte arrays, printed and parsed as lowercase hex.

use std::fmt;

/// A W3C trace id: 16 bytes, never all zero; printed as 32 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct TraceId([u8; 16]);

/// A W3C span id (the `parent-id` of a `traceparent`): 8 bytes, never all zero; printed as 16
/// lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SpanId([u8; 8]);

impl TraceId {
    /// The id with these bytes; `None` for all zeros, which W3C reserves as invalid.
    pub fn from_bytes(bytes: [u8; 16]) -> Option<Self> {
        (bytes != [0; 16]).then_some(TraceId(bytes))
    }

    /// The id's bytes.
    pub fn to_bytes(self) -> [u8; 16] {
        self.0
    }

    /// A fresh random id, for a trace that starts here.
    pub(crate) fn random() -> Self {
        // Zero is invalid; 2^-128 odds, but a loop costs nothing.
        loop {
            if let Some(id) = Self::from_bytes(fastrand::u128(..).to_be_bytes()) {
                return id;
            }
        }
    }

    pub(super) fn parse(hex: &[u8]) -> Option<Self> {
        let mut bytes = [0; 16];
        decode_hex(hex, &mut bytes)?;
        Self::from_bytes(bytes)
    }
}

impl SpanId {
    /// The id with these bytes; `None` for all zeros, which W3C reserves as invalid.
    pub fn from_bytes(bytes: [u8; 8]) -> Option<Self> {
        (bytes != [0; 8]).then_some(SpanId(bytes))
    }

    /// The id's bytes.
    pub fn to_bytes(self) -> [u8; 8] {
        self.0
    }

    /// A fresh random id, for a span that starts here.
    pub(crate) fn random() -> Self {
        loop {
            if let Some(id) = Self::from_bytes(fastrand::u64(..).to_be_bytes()) {
                return id;
            }
        }
    }

    pub(super) fn parse(hex: &[u8]) -> Option<Self> {
        let mut bytes = [0; 8];
        decode_hex(hex, &mut bytes)?;
        Self::from_bytes(bytes)
    }
}

/// Fills `out` from exactly `2 * out.len()` lowercase hex digits (W3C refuses uppercase).
pub(super) fn decode_hex(hex: &[u8], out: &mut [u8]) -> Option<()> {
    if hex.len() != 2 * out.len() {
        return None;
    }
    let digit = |b: u8| match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        _ => None,
    };
    for (byte, pair) in out.iter_mut().zip(hex.chunks_exact(2)) {
        *byte = digit(pair[0])? << 4 | digit(pair[1])?;
    }
    Some(())
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:032x}", u128::from_be_bytes(self.0))
    }
}

impl fmt::Debug for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TraceId({self})")
    }
}

impl fmt::Display for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", u64::from_be_bytes(self.0))
    }
}

impl fmt::Debug for SpanId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SpanId({self})")
    }
}
