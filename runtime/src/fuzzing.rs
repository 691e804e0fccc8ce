//! Entry points for the fuzz targets in `fuzz/`: what a URL or message from outside reaches,
//! without a store or a connection. Not a public API (feature `fuzzing`).

use crate::Result;
use crate::transport::TransportUrl;

/// Reads a `file://` URL's options the way opening the store does, without opening it.
pub fn parse_file_url(url: &TransportUrl) -> Result<()> {
    #[cfg(feature = "durable")]
    crate::transport::durable::parse(url)?;
    #[cfg(not(feature = "durable"))]
    let _ = url;
    Ok(())
}
