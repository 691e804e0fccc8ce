//! The manifest: how far the store must reach at open, kept beside fjall's files.
//!
//! fjall recovers whatever prefix of its journal it finds, so a journal cut short or deleted
//! opens as a smaller or empty store without a word. The manifest records the store's next
//! sequence (one past the newest event on disk) after each group commit that synced events; at
//! open the store must reach it, or acknowledged events are gone.
//!
//! It is rewritten in place without an fsync of its own (one `pwrite` per commit): a killed
//! process leaves the page cache to the kernel, so after a kill the manifest is exact. It is
//! fsynced once a second and at close, so after a power cut it may lag the journal, never lead
//! it (it is written only once the journal is synced): a stale manifest can miss a loss but never
//! invent one.
//!
//! Layout, 32 bytes: `TIDINGS` and a format byte, next_seq (u64 BE), its complement (a damaged
//! record fails the check), the pid of the process that has the store open (u32 BE), 4 zeros.

use std::fs::{File, OpenOptions};
use std::io;
use std::path::Path;
use std::time::{Duration, Instant};

pub(super) const FILE_NAME: &str = "tidings-manifest";
const MAGIC: &[u8; 8] = b"TIDINGS\x01";
const LEN: usize = 32;
/// How stale the manifest may get on disk after a power cut.
const SYNC_EVERY: Duration = Duration::from_secs(1);

/// What the manifest of a store says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Found {
    /// A store made before manifests existed, or whose manifest was deleted.
    Missing,
    Recorded {
        next_seq: u64,
        pid: u32,
    },
    Damaged,
}

pub(super) fn read(dir: &Path) -> io::Result<Found> {
    let bytes = match std::fs::read(dir.join(FILE_NAME)) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Found::Missing),
        Err(e) => return Err(e),
    };
    Ok(decode(&bytes).unwrap_or(Found::Damaged))
}

fn decode(bytes: &[u8]) -> Option<Found> {
    let field = |at: usize| Some(u64::from_be_bytes(bytes.get(at..at + 8)?.try_into().ok()?));
    if bytes.len() != LEN || bytes.get(..8)? != MAGIC {
        return None;
    }
    let (next_seq, check) = (field(8)?, field(16)?);
    let pid = u32::from_be_bytes(bytes.get(24..28)?.try_into().ok()?);
    (next_seq == !check).then_some(Found::Recorded { next_seq, pid })
}

fn seq_bytes(next_seq: u64) -> [u8; 16] {
    let mut bytes = [0; 16];
    bytes[..8].copy_from_slice(&next_seq.to_be_bytes());
    bytes[8..].copy_from_slice(&(!next_seq).to_be_bytes());
    bytes
}

/// The open store's manifest, written by the journal writer.
pub(super) struct Manifest {
    file: File,
    recorded: u64,
    unsynced: bool,
    last_sync: Instant,
}

impl Manifest {
    /// Writes a whole record (`next_seq` and this process's pid) and syncs it.
    pub(super) fn open(dir: &Path, next_seq: u64) -> io::Result<Manifest> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join(FILE_NAME))?;
        let mut record = [0; LEN];
        record[..8].copy_from_slice(MAGIC);
        record[8..24].copy_from_slice(&seq_bytes(next_seq));
        record[24..28].copy_from_slice(&std::process::id().to_be_bytes());
        write_at(&file, &record, 0)?;
        file.set_len(LEN as u64)?;
        file.sync_all()?;
        // The file may be new: its directory entry must be on disk too.
        File::open(dir)?.sync_all()?;
        Ok(Manifest {
            file,
            recorded: next_seq,
            unsynced: false,
            last_sync: Instant::now(),
        })
    }

    /// Records that the store on disk reaches `next_seq`; call only once it is synced.
    pub(super) fn record(&mut self, next_seq: u64) -> io::Result<()> {
        if next_seq > self.recorded {
            write_at(&self.file, &seq_bytes(next_seq), 8)?;
            self.recorded = next_seq;
            self.unsynced = true;
        }
        if self.unsynced && self.last_sync.elapsed() >= SYNC_EVERY {
            self.sync()?;
        }
        Ok(())
    }

    pub(super) fn sync(&mut self) -> io::Result<()> {
        if self.unsynced {
            self.file.sync_data()?;
            self.unsynced = false;
        }
        self.last_sync = Instant::now();
        Ok(())
    }
}

#[cfg(unix)]
fn write_at(file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    std::os::unix::fs::FileExt::write_all_at(file, bytes, offset)
}

#[cfg(not(unix))]
fn write_at(mut file: &File, bytes: &[u8], offset: u64) -> io::Result<()> {
    use std::io::{Seek, SeekFrom, Write};
    file.seek(SeekFrom::Start(offset))?;
    file.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_damage_is_noticed() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(read(dir.path()).unwrap(), Found::Missing);
        let mut manifest = Manifest::open(dir.path(), 1).unwrap();
        manifest.record(1_001).unwrap();
        manifest.record(7).unwrap(); // never lowered
        let pid = std::process::id();
        assert_eq!(
            read(dir.path()).unwrap(),
            Found::Recorded {
                next_seq: 1_001,
                pid
            }
        );
        let mut bytes = std::fs::read(dir.path().join(FILE_NAME)).unwrap();
        bytes[12] ^= 0x40;
        std::fs::write(dir.path().join(FILE_NAME), &bytes).unwrap();
        assert_eq!(read(dir.path()).unwrap(), Found::Damaged);
        std::fs::write(dir.path().join(FILE_NAME), b"short").unwrap();
        assert_eq!(read(dir.path()).unwrap(), Found::Damaged);
    }
}
