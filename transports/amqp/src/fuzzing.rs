//! Entry points for the fuzz targets in `fuzz/` (feature `fuzzing`, not a public API).

use tidings_core::Result;
use tidings_core::transport::TransportUrl;

/// Reads an `amqp://` URL's options the way connecting does, without connecting.
pub fn parse_url(url: &TransportUrl) -> Result<()> {
    crate::settings::Settings::parse(url).map(drop)
}
