//! Backups: a consistent copy of every tree, taken while serving, and its restore.
//!
//! Every write goes through the one writer thread, so a backup made *by* that thread sees the
//! store between two batches: a point in time, with each ticket beside its outbox messages,
//! indexes and counters. Writes wait while the copy is made (about a second per 100 MB of store);
//! reads go on.
//!
//! The file: `HOTLINE-BACKUP` and a format byte, then per tree `T` + name, and per entry `E` +
//! key + value (each length-prefixed, u32 big-endian), then `Z` + the entry count (u64) + the
//! SHA-256 of everything before it. A restore checks the digest before it writes anything.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{SledStore, Trees, io_error};
use crate::store::{StoreError, StoreFuture};

const MAGIC: &[u8] = b"HOTLINE-BACKUP\x01";

/// What a backup or restore moved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BackupSummary {
    pub trees: u64,
    pub entries: u64,
    pub bytes: u64,
}

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error("{file}: {message}")]
    Invalid { file: String, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
    #[error(
        "{dir} already holds a store with data; restore into a new --data folder (or move this one aside) so nothing is overwritten"
    )]
    NotEmpty { dir: String },
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Writes and hashes at once.
struct Hashing<W: Write> {
    inner: W,
    digest: Sha256,
    bytes: u64,
}

impl<W: Write> Hashing<W> {
    fn put(&mut self, data: &[u8]) -> std::io::Result<()> {
        self.digest.update(data);
        self.bytes += data.len() as u64;
        self.inner.write_all(data)
    }

    fn put_chunk(&mut self, data: &[u8]) -> std::io::Result<()> {
        let len = u32::try_from(data.len())
            .map_err(|_| std::io::Error::other("a record longer than 4 GiB"))?;
        self.put(&len.to_be_bytes())?;
        self.put(data)
    }
}

fn write_trees(trees: &Trees, path: &Path) -> std::io::Result<BackupSummary> {
    let file = File::create(path)?;
    let mut out = Hashing {
        inner: BufWriter::new(file),
        digest: Sha256::new(),
        bytes: 0,
    };
    out.put(MAGIC)?;
    let (mut tree_count, mut entries) = (0u64, 0u64);
    for name in trees.db.tree_names() {
        let tree = trees.db.open_tree(&name).map_err(std::io::Error::other)?;
        out.put(b"T")?;
        out.put_chunk(&name)?;
        tree_count += 1;
        for item in tree.iter() {
            let (key, value) = item.map_err(std::io::Error::other)?;
            out.put(b"E")?;
            out.put_chunk(&key)?;
            out.put_chunk(&value)?;
            entries += 1;
        }
    }
    out.put(b"Z")?;
    out.put(&entries.to_be_bytes())?;
    let digest = out.digest.clone().finalize();
    out.inner.write_all(&digest)?;
    let bytes = out.bytes + digest.len() as u64;
    let file = out.inner.into_inner().map_err(|e| e.into_error())?;
    file.sync_all()?;
    Ok(BackupSummary {
        trees: tree_count,
        entries,
        bytes,
    })
}

impl SledStore {
    /// Writes a consistent backup of the whole store to `path` (first to `path.partial`, renamed
    /// once complete and on disk). Runs on the writer thread, between two batches of writes.
    pub fn backup_to(&self, path: PathBuf) -> StoreFuture<'_, BackupSummary> {
        self.write(move |trees| {
            let partial = partial_path(&path);
            let summary = write_trees(trees, &partial)
                .and_then(|s| std::fs::rename(&partial, &path).map(|_| s))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&partial);
                    StoreError::Io(format!("backup to {}: {e}", path.display()))
                })?;
            Ok(summary)
        })
    }
}

fn partial_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

/// Reads the backup at `file` into memory-light passes: first to check it whole, then to load.
struct Reader {
    input: BufReader<File>,
    digest: Sha256,
    file: String,
}

impl Reader {
    fn open(file: &Path) -> Result<Reader, BackupError> {
        let name = file.display().to_string();
        let input = File::open(file).map_err(|source| BackupError::Io {
            file: name.clone(),
            source,
        })?;
        Ok(Reader {
            input: BufReader::new(input),
            digest: Sha256::new(),
            file: name,
        })
    }

    fn invalid(&self, message: impl Into<String>) -> BackupError {
        BackupError::Invalid {
            file: self.file.clone(),
            message: message.into(),
        }
    }

    fn take(&mut self, n: usize) -> Result<Vec<u8>, BackupError> {
        let mut buf = vec![0u8; n];
        self.input
            .read_exact(&mut buf)
            .map_err(|_| self.invalid("the file ends early: not a complete hotline backup"))?;
        self.digest.update(&buf);
        Ok(buf)
    }

    fn chunk(&mut self) -> Result<Vec<u8>, BackupError> {
        let len = self.take(4)?;
        let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
        self.take(len)
    }

    /// Walks the file, handing each tree name and entry to `visit`; checks the trailer.
    fn walk(
        mut self,
        mut visit: impl FnMut(Record) -> Result<(), BackupError>,
    ) -> Result<u64, BackupError> {
        if self.take(MAGIC.len())? != MAGIC {
            return Err(self.invalid("not a hotline backup (wrong header)"));
        }
        let mut entries = 0u64;
        loop {
            match self.take(1)?[0] {
                b'T' => {
                    let name = self.chunk()?;
                    visit(Record::Tree(name))?;
                }
                b'E' => {
                    let key = self.chunk()?;
                    let value = self.chunk()?;
                    entries += 1;
                    visit(Record::Entry(key, value))?;
                }
                b'Z' => break,
                other => return Err(self.invalid(format!("unexpected record type {other}"))),
            }
        }
        let count = self.take(8)?;
        let expected = self.digest.clone().finalize();
        let mut stored = [0u8; 32];
        self.input
            .read_exact(&mut stored)
            .map_err(|_| self.invalid("the checksum is missing: the backup is incomplete"))?;
        if stored[..] != expected[..] {
            return Err(self.invalid("checksum mismatch: the backup is damaged"));
        }
        let declared = u64::from_be_bytes(count.try_into().unwrap_or([0; 8]));
        if declared != entries {
            return Err(self.invalid("entry count mismatch: the backup is damaged"));
        }
        Ok(entries)
    }
}

enum Record {
    Tree(Vec<u8>),
    Entry(Vec<u8>, Vec<u8>),
}

/// Checks a backup file whole (format, entry count, checksum); returns its entry count.
pub fn verify(file: &Path) -> Result<u64, BackupError> {
    Reader::open(file)?.walk(|_| Ok(()))
}

/// Restores the backup at `file` into `data` (which must hold no store with data yet). The
/// backup is checked whole first; the trees are written into `sled.restoring`, flushed, and only
/// then renamed into place, so an interrupted restore leaves no half store behind.
pub fn restore(file: &Path, data: &Path) -> Result<BackupSummary, BackupError> {
    Reader::open(file)?.walk(|_| Ok(()))?;
    let live = data.join("sled");
    if live.exists() {
        let store = SledStore::open(data)?;
        let empty = store.trees.db.tree_names().iter().all(|name| {
            store
                .trees
                .db
                .open_tree(name)
                .map(|t| t.is_empty())
                .unwrap_or(false)
        });
        store.close()?;
        drop(store);
        if !empty {
            return Err(BackupError::NotEmpty {
                dir: data.display().to_string(),
            });
        }
        std::fs::remove_dir_all(&live).map_err(|source| BackupError::Io {
            file: live.display().to_string(),
            source,
        })?;
    }
    let staging = data.join("sled.restoring");
    let io = |source| BackupError::Io {
        file: staging.display().to_string(),
        source,
    };
    if staging.exists() {
        std::fs::remove_dir_all(&staging).map_err(io)?;
    }
    let db = sled::Config::new()
        .path(&staging)
        .open()
        .map_err(|e| BackupError::Store(io_error(e)))?;
    let mut tree: Option<sled::Tree> = None;
    let mut summary = BackupSummary {
        trees: 0,
        entries: 0,
        bytes: std::fs::metadata(file).map(|m| m.len()).unwrap_or(0),
    };
    Reader::open(file)?.walk(|record| {
        match record {
            Record::Tree(name) => {
                tree = Some(db.open_tree(name).map_err(io_error)?);
                summary.trees += 1;
            }
            Record::Entry(key, value) => {
                let Some(t) = &tree else {
                    return Err(BackupError::Invalid {
                        file: file.display().to_string(),
                        message: "an entry before any tree".into(),
                    });
                };
                t.insert(key, value).map_err(io_error)?;
                summary.entries += 1;
            }
        }
        Ok(())
    })?;
    db.flush().map_err(io_error)?;
    drop(tree);
    drop(db);
    std::fs::rename(&staging, &live).map_err(io)?;
    Ok(summary)
}
