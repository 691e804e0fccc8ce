//! Where the order service got to, kept beside a durable bus so that a rerun resumes. The bus
//! keeps the events; this only remembers which orders the demo already placed (a real order
//! service would have that in its own database).

use std::path::PathBuf;

pub(crate) struct Progress {
    file: PathBuf,
}

impl Progress {
    /// The progress file for a `file://` URL; `None` for transports that keep nothing.
    pub(crate) fn of(url: &str) -> Option<Progress> {
        let dir = url.strip_prefix("file://")?.split('?').next()?;
        Some(Progress {
            file: PathBuf::from(dir).join("order-demo.next"),
        })
    }

    pub(crate) fn next_order(&self) -> u64 {
        std::fs::read_to_string(&self.file)
            .ok()
            .and_then(|text| text.trim().parse().ok())
            .unwrap_or(1)
    }

    pub(crate) fn save(&self, next_order: u64) {
        if let Err(error) = std::fs::write(&self.file, next_order.to_string()) {
            eprintln!("cannot save progress to {}: {error}", self.file.display());
        }
    }

    pub(crate) fn describe(&self, unfinished: Option<tidings::Error>) -> String {
        let dir = self
            .file
            .parent()
            .map_or_else(String::new, |dir| dir.display().to_string());
        match unfinished {
            Some(error) => format!("{error}: they stay in {dir}"),
            None => format!("nothing was left unfinished in {dir}"),
        }
    }
}
