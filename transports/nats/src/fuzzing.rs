//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, not a public API).

use async_nats::HeaderMap;
use tidings_core::transport::TransportUrl;
use tidings_core::{Envelope, Result, WireError};

/// Reads a `nats://` URL's options the way connecting does, without connecting.
pub fn parse_url(url: &TransportUrl) -> Result<()> {
    crate::parse(url).map(drop)
}

/// Reads a received message's envelope the way a consumer does.
pub fn read_envelope(
    headers: Option<&HeaderMap>,
    payload: &[u8],
    fallback_type: &str,
) -> std::result::Result<Envelope, WireError> {
    let pairs = crate::publish::header_pairs(headers);
    crate::publish::read_envelope(&pairs, payload, fallback_type)
}
