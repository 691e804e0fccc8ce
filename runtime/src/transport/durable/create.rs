//! Creating a store so that a process killed at any instant leaves either no store or a whole one.
//!
//! fjall creates its files one at a time and writes its `version` marker last: a process killed
//! in between left a directory that fjall could neither open (no marker) nor create again (its
//! `0.jnl` exists). So a new store is built in a staging directory beside `PATH`, synced, and
//! renamed onto `PATH`: the rename is the instant the store comes to exist. Creators in one parent
//! directory take turns under a lock on that directory, which the kernel releases when its holder
//! dies; so a staging directory found while holding the lock was left by a creator that died, and
//! is removed (it never held an acknowledged event: nothing is written before the rename).

use std::fs::{self, File};
use std::io;
use std::path::{Path, PathBuf};

/// The file fjall writes last when it creates a database: a store exists once this does.
const VERSION_MARKER: &str = "version";

/// What fjall creates before its version marker: all a creation interrupted before tidings
/// built stores in a staging directory can have left behind.
const PRE_MARKER_LEFTOVERS: [&str; 3] = ["lock", "0.jnl", "keyspaces"];

/// Whether a whole store exists at `path`.
pub(super) fn exists(path: &Path) -> io::Result<bool> {
    path.join(VERSION_MARKER).try_exists()
}

/// Makes sure a whole store exists at `path`, building a new one with `build` if there is none.
/// `build` gets an empty directory to create the store in and must leave it closed.
pub(super) fn ensure(
    path: &Path,
    build: impl FnOnce(&Path) -> Result<(), String>,
) -> Result<(), String> {
    if fs::metadata(path).is_ok_and(|meta| !meta.is_dir()) {
        return Err("it is a file, not a directory: name a directory".to_owned());
    }
    if exists(path).map_err(|e| e.to_string())? {
        return Ok(());
    }
    let (parent, staging) = staging_for(path)?;
    fs::create_dir_all(&parent)
        .map_err(|e| format!("cannot create its parent `{}`: {e}", parent.display()))?;
    let turn = File::open(&parent)
        .map_err(|e| format!("cannot open its parent `{}`: {e}", parent.display()))?;
    turn.lock()
        .map_err(|e| format!("cannot lock its parent `{}`: {e}", parent.display()))?;
    // Another creator may have finished while this one waited for its turn.
    if exists(path).map_err(|e| e.to_string())? {
        return Ok(());
    }
    prepare_target(path)?;
    let io = |what: &str, e: io::Error| format!("{what} `{}`: {e}", staging.display());
    match fs::remove_dir_all(&staging) {
        Ok(()) => tracing::warn!(
            staging = %staging.display(),
            "removed the staging directory of a store creation that was interrupted"
        ),
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(io("cannot remove the interrupted staging directory", e)),
    }
    fs::create_dir(&staging).map_err(|e| io("cannot create the staging directory", e))?;
    build(&staging)?;
    sync_tree(&staging).map_err(|e| io("cannot sync the staging directory", e))?;
    // Replaces `path` if it is an empty directory (a fresh temporary directory, say).
    fs::rename(&staging, path).map_err(|e| {
        format!(
            "cannot move the new store from `{}` into place: {e}",
            staging.display()
        )
    })?;
    sync_dir(&parent).map_err(|e| format!("cannot sync `{}`: {e}", parent.display()))?;
    Ok(())
}

/// The parent of `path` and the staging directory beside it.
fn staging_for(path: &Path) -> Result<(PathBuf, PathBuf), String> {
    let absolute = std::path::absolute(path).map_err(|e| e.to_string())?;
    let (Some(parent), Some(name)) = (absolute.parent(), absolute.file_name()) else {
        return Err("name a directory below the root, such as `file://./data`".to_owned());
    };
    let mut staging = std::ffi::OsString::from(".");
    staging.push(name);
    staging.push(".tidings-creating");
    Ok((parent.to_owned(), parent.join(staging)))
}

/// `path` must be absent or an empty directory for the new store to be renamed onto it. Files
/// that an interrupted creation of an older tidings left there are removed: fjall had not
/// written its version marker, so the store never opened and never held an event.
fn prepare_target(path: &Path) -> Result<(), String> {
    let entries = match fs::read_dir(path) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => {
            return Err("it is a file, not a directory: name a directory".to_owned());
        }
        Err(e) => return Err(format!("cannot read the directory: {e}")),
    };
    let names = entries
        .map(|entry| entry.map(|entry| entry.file_name()))
        .collect::<io::Result<Vec<_>>>()
        .map_err(|e| format!("cannot read the directory: {e}"))?;
    if names.is_empty() {
        return Ok(());
    }
    if !names
        .iter()
        .all(|name| PRE_MARKER_LEFTOVERS.iter().any(|l| name == *l))
    {
        return Err(
            "the directory holds files but no tidings store (it has no `version` file): name \
             an empty or new directory for a new store"
                .to_owned(),
        );
    }
    for name in names {
        let leftover = path.join(name);
        let removed = if leftover.is_dir() {
            fs::remove_dir_all(&leftover)
        } else {
            fs::remove_file(&leftover)
        };
        removed.map_err(|e| format!("cannot remove `{}`: {e}", leftover.display()))?;
    }
    tracing::warn!(path = %path.display(), "removed what an interrupted store creation left");
    Ok(())
}

/// Fsyncs every file and directory under `dir`, so that the rename publishes a store whose
/// contents are on disk.
fn sync_tree(dir: &Path) -> io::Result<()> {
    for entry in fs::read_dir(dir)? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            sync_tree(&entry.path())?;
        } else {
            File::open(entry.path())?.sync_all()?;
        }
    }
    sync_dir(dir)
}

fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_of_an_interrupted_creation_are_cleared_and_anything_else_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        fs::create_dir_all(store.join("keyspaces")).unwrap();
        fs::write(store.join("lock"), b"").unwrap();
        fs::write(store.join("0.jnl"), b"").unwrap();
        ensure(&store, |staging| {
            fs::write(staging.join(VERSION_MARKER), b"v3").map_err(|e| e.to_string())
        })
        .unwrap();
        assert!(exists(&store).unwrap());
        assert!(!store.join("0.jnl").exists());

        let other = dir.path().join("other");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("notes.txt"), b"mine").unwrap();
        let error = ensure(&other, |_| Ok(())).unwrap_err();
        assert!(
            error.contains("holds files but no tidings store"),
            "{error}"
        );
        assert_eq!(fs::read(other.join("notes.txt")).unwrap(), b"mine");
    }

    #[test]
    fn a_staging_directory_left_by_a_dead_creator_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = dir.path().join("store");
        let (_, staging) = staging_for(&store).unwrap();
        fs::create_dir_all(staging.join("keyspaces")).unwrap();
        fs::write(staging.join("0.jnl"), b"half").unwrap();
        ensure(&store, |staging| {
            assert_eq!(
                fs::read_dir(staging).unwrap().count(),
                0,
                "built in an empty directory"
            );
            fs::write(staging.join(VERSION_MARKER), b"v3").map_err(|e| e.to_string())
        })
        .unwrap();
        assert!(exists(&store).unwrap());
        assert!(!staging.exists());
    }
}
