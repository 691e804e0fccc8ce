//! `file://PATH` opened by a tool that must create nothing (`BusBuilder::existing_only`): the
//! directory must already hold a store, or opening fails naming the path.

use std::path::Path;

use crate::error::Result;
use crate::transport::TransportUrl;

/// The file fjall writes first into a store's directory (`fjall::file::VERSION_MARKER`).
const STORE_MARKER: &str = "version";

pub(crate) fn check_exists(url: &TransportUrl, path: &Path) -> Result<()> {
    let shown = path.display();
    if !path.exists() {
        return Err(url.unsupported(format!(
            "there is no store at `{shown}`: the directory does not exist; check the path \
             (a bus creates it on its first start)"
        )));
    }
    if !path.join(STORE_MARKER).is_file() {
        return Err(url.unsupported(format!(
            "`{shown}` is not a tidings store (it has no `{STORE_MARKER}` file); check the path"
        )));
    }
    Ok(())
}
