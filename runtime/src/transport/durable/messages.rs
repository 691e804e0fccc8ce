//! What a storage error says, in one place, so that each one gives advice that fits its cause:
//! none of them may suggest discarding a store whose data is fine.

use std::io;
use std::path::Path;

/// The I/O error behind a fjall error, if any.
fn io_error(error: &fjall::Error) -> Option<&io::Error> {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(error);
    while let Some(current) = source {
        if let Some(io) = current.downcast_ref::<io::Error>() {
            return Some(io);
        }
        source = current.source();
    }
    None
}

fn is_disk_full(io: &io::Error) -> bool {
    matches!(
        io.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    )
}

/// A commit, persist or reopen failed while the store was open.
pub(super) fn write_failed(error: &fjall::Error) -> String {
    match io_error(error) {
        Some(io) if is_disk_full(io) => format!(
            "the disk is full ({io}): free space on it; the store keeps what it acknowledged and \
             accepts publishes again once there is room, without a restart"
        ),
        Some(io) => format!(
            "a write failed ({io}); the store keeps what it acknowledged, reopens itself and \
             retries: check the disk if this repeats"
        ),
        None => format!(
            "a write failed ({error}); the store keeps what it acknowledged, reopens itself and \
             retries"
        ),
    }
}

/// fjall could not open an existing store.
pub(super) fn open_failed(path: &Path, error: &fjall::Error, owner: Option<u32>) -> String {
    if matches!(error, fjall::Error::Locked) {
        return locked(path, owner);
    }
    match io_error(error) {
        Some(io) if is_disk_full(io) => {
            format!("the disk is full ({io}): free space on it and open the store again")
        }
        Some(io) if io.kind() == io::ErrorKind::PermissionDenied => format!(
            "permission denied ({io}): run as the user that owns `{}`",
            path.display()
        ),
        Some(io) => format!("{io}: check the disk and open the store again"),
        None => format!(
            "it cannot be read ({error}): the store is damaged; keep the directory as it is and \
             restore it from a backup, or name another directory for a new store"
        ),
    }
}

/// Another process (or another store handle in this one) has the store open.
pub(super) fn locked(path: &Path, owner: Option<u32>) -> String {
    let path = path.display();
    match owner {
        Some(pid) if pid == std::process::id() => format!(
            "`{path}` is open already in this process, by another bus under another path to the \
             same directory: use one URL for both"
        ),
        Some(pid) => format!(
            "`{path}` is open in another process (pid {pid}); stop it or use another directory"
        ),
        None => {
            format!("`{path}` is open in another process; stop it or use another directory")
        }
    }
}

/// The store no longer reaches what it acknowledged.
pub(super) fn lost(
    path: &Path,
    stored_next: u64,
    recorded_next: u64,
    journal_missing: bool,
) -> String {
    let what = if journal_missing {
        "its journal files (`*.jnl`) are missing".to_owned()
    } else {
        "its journal is shorter than what was acknowledged".to_owned()
    };
    let first = stored_next;
    let last = recorded_next - 1;
    let count = recorded_next - stored_next;
    format!(
        "{what}: it ends before event {first}, but events up to {last} were acknowledged, so up \
         to {count} acknowledged events (sequences {first} to {last}) are gone, with any later \
         acknowledgement, retry or dead letter. Restore `{dir}` from a backup or copy if you have \
         one; to open it with what is left and accept the loss, add `accept_loss=true` to the URL \
         once (`file://{dir}?accept_loss=true`)",
        dir = path.display()
    )
}

/// The manifest cannot be read.
pub(super) fn manifest_damaged(path: &Path) -> String {
    format!(
        "its manifest (`{}`) is damaged, so the store cannot tell whether acknowledged events \
         are missing: restore the directory from a backup or copy if you have one; to open it as \
         it is, add `accept_loss=true` to the URL once (`file://{}?accept_loss=true`)",
        super::manifest::FILE_NAME,
        path.display()
    )
}
