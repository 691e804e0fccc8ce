//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, not a public API).

use tidings_core::Result;
use tidings_core::transport::TransportUrl;

/// Reads an `amqp://` URL's options the way connecting does, without connecting.
pub fn parse_url(url: &TransportUrl) -> Result<()> {
    crate::settings::Settings::parse(url).map(drop)
}

/// Reads a received message's envelope from its properties and body the way a consumer does.
pub fn read_envelope(
    properties: &lapin::BasicProperties,
    data: &[u8],
    fallback_type: &str,
) -> std::result::Result<tidings_core::Envelope, tidings_core::WireError> {
    crate::consumer::read_properties(properties, data, fallback_type)
}
