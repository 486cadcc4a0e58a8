//! The incremental caches that make an unchanged project nearly free to check (issue 9):
//! [`parse`] keeps each source file's parse result, [`env`] each metadata folder's reading.
//!
//! Both live under the cache dir the index cache uses (`--cache-dir`, `ENVSCAN_CACHE_DIR`,
//! `$XDG_CACHE_HOME/envscan`, `~/.cache/envscan`), one file per project or environment, named
//! by a hash of the folder it is for: `{cache_dir}/{kind}/{16 hex}.bin`.
//!
//! A file is `MAGIC`, the checksum of the rest (its xxh3-128, little-endian: a checksum
//! against truncation and corruption, fast enough to cost nothing beside the read; container
//! version 1 had a sha256 here), then the rest: a [`Header`] and the entries, both
//! in postcard (a compact, non-self-describing serde format with a stable wire format). The
//! header names the kind, the envscan build that wrote it and the settings that decide its
//! contents; the entries are dedicated record types (`records`), never the pipeline's own
//! types, whose `skip_serializing_if` attributes only self-describing formats read back.
//!
//! Nothing in a cache file is trusted beyond its own key. A file that is absent, short, of
//! another magic, whose checksum does not match (truncated, corrupt), whose header is another
//! build's, kind's or setting's (foreign), or whose entries do not decode is ignored: the run
//! goes on as if there were no cache and rewrites it. Each entry is then checked against the
//! file it stands for before it is used. Files are written to a temporary file in the same
//! folder and renamed over the old one, so a reader sees a whole file, old or new (no fsync:
//! a cache lost in a crash costs one cold run, and a torn one fails its checksum). A cache
//! that cannot be read or written costs time, never a result: its errors are swallowed here.

pub mod env;
pub mod parse;
mod records;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};
use std::time::UNIX_EPOCH;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use xxhash_rust::xxh3::xxh3_128;

/// The first bytes of every cache file; the last byte is the container format's version.
const MAGIC: &[u8; 8] = b"envscan\x02";

/// The length of the checksum after the magic.
const SUM_LEN: usize = 16;

fn checksum(body: &[u8]) -> [u8; SUM_LEN] {
    xxh3_128(body).to_le_bytes()
}

/// What a cache file was written by and for; the whole of it must match for it to be read.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Header {
    kind: String,
    build: String,
    key: String,
}

/// One cache file: where it is and the header it must carry.
#[derive(Clone, Debug)]
pub struct Store {
    path: PathBuf,
    header: Header,
}

impl Store {
    /// The file of `kind` for `subject` (a canonical project or prefix path) under
    /// `cache_dir`, whose contents depend on `key` (the settings that change them).
    pub fn new(cache_dir: &Path, kind: &str, subject: &Path, key: String) -> Self {
        let digest = Sha256::digest(subject.as_os_str().as_encoded_bytes());
        let name = format!("{}.bin", &hex::encode(digest)[..16]);
        Store {
            path: cache_dir.join(kind).join(name),
            header: Header {
                kind: kind.to_string(),
                build: build_id().to_string(),
                key,
            },
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The entries, or `None` when the file is absent, unreadable, damaged or foreign.
    pub fn load<T: DeserializeOwned>(&self) -> Option<T> {
        let bytes = fs_err::read(&self.path).ok()?;
        self.decode(&bytes)
    }

    fn decode<T: DeserializeOwned>(&self, bytes: &[u8]) -> Option<T> {
        let rest = bytes.strip_prefix(MAGIC.as_slice())?;
        let (sum, body) = rest.split_at_checked(SUM_LEN)?;
        if checksum(body) != sum {
            return None;
        }
        let (header, entries) = postcard::take_from_bytes::<Header>(body).ok()?;
        if header != self.header {
            return None;
        }
        let (value, tail) = postcard::take_from_bytes::<T>(entries).ok()?;
        tail.is_empty().then_some(value)
    }

    /// Writes the entries atomically; a failure leaves the old file (or none) in place.
    pub fn store<T: Serialize>(&self, entries: &T) {
        let _ = self.try_store(entries);
    }

    fn encode<T: Serialize>(&self, entries: &T) -> Option<Vec<u8>> {
        let mut body = postcard::to_stdvec(&self.header).ok()?;
        body.extend(postcard::to_stdvec(entries).ok()?);
        let mut bytes = Vec::with_capacity(MAGIC.len() + SUM_LEN + body.len());
        bytes.extend_from_slice(MAGIC);
        bytes.extend_from_slice(&checksum(&body));
        bytes.extend_from_slice(&body);
        Some(bytes)
    }

    fn try_store<T: Serialize>(&self, entries: &T) -> std::io::Result<()> {
        let bytes = self
            .encode(entries)
            .ok_or_else(|| std::io::Error::other("cache entries do not encode"))?;
        let folder = self.path.parent().unwrap_or(Path::new("."));
        fs_err::create_dir_all(folder)?;
        let mut temp = tempfile::Builder::new()
            .prefix(".envscan-")
            .suffix(".tmp")
            .tempfile_in(folder)?;
        temp.write_all(&bytes)?;
        temp.persist(&self.path).map_err(|err| err.error)?;
        Ok(())
    }
}

/// A cache file's entries as decoded, sorted by their key (as each cache's `save` writes them)
/// and found by bisection where they lie, with the ones a run used. Moving thousands of
/// entries into a map cost a copy of each on every warm run.
pub struct Kept<E> {
    entries: Vec<E>,
    key: fn(&E) -> &str,
    /// Indexes into `entries`, in the order they were used.
    used: Mutex<Vec<usize>>,
}

impl<E> Kept<E> {
    /// `entries`, keyed by `key`. A file not as `save` writes it (unsorted, or with a key
    /// twice) is sorted, and the first entry of each key kept.
    pub fn new(mut entries: Vec<E>, key: fn(&E) -> &str) -> Self {
        if !entries.is_sorted_by(|a, b| key(a) < key(b)) {
            entries.sort_by(|a, b| key(a).cmp(key(b)));
            entries.dedup_by(|a, b| key(a) == key(b));
        }
        Kept {
            entries,
            key,
            used: Mutex::new(Vec::new()),
        }
    }

    /// What `take` makes of the entry of `key`; the entry counts as used when it gives
    /// something.
    pub fn get<T>(&self, key: &str, take: impl FnOnce(&E) -> Option<T>) -> Option<T> {
        let at = self
            .entries
            .binary_search_by(|e| (self.key)(e).cmp(key))
            .ok()?;
        let value = take(&self.entries[at])?;
        if let Ok(mut used) = self.used.lock() {
            used.push(at);
        }
        Some(value)
    }

    /// The entries used, in key order, and whether that is all of them.
    pub fn into_used(self) -> (Vec<E>, bool) {
        let mut used = self.used.into_inner().unwrap_or_default();
        used.sort_unstable();
        used.dedup();
        if used.len() == self.entries.len() {
            return (self.entries, true);
        }
        let kept = self
            .entries
            .into_iter()
            .enumerate()
            .filter(|(i, _)| used.binary_search(i).is_ok())
            .map(|(_, entry)| entry)
            .collect();
        (kept, false)
    }
}

/// A file's size and modification time, the cheap half of every entry's key.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    /// Nanoseconds since the Unix epoch.
    pub mtime: u128,
}

impl Stamp {
    /// `None` when the path cannot be read or has no usable time: it is then never cached.
    pub fn of(path: &Path) -> Option<Self> {
        Self::from_metadata(&fs_err::metadata(path).ok()?)
    }

    fn from_metadata(metadata: &std::fs::Metadata) -> Option<Self> {
        let mtime = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        Some(Stamp {
            size: metadata.len(),
            mtime: mtime.as_nanos(),
        })
    }
}

/// An open folder whose entries are stamped by name ([`fsread::Folder`]): a quarter less time
/// per stat on a warm run, which is mostly stats (three per distribution, one per package
/// folder). The same stamps as [`Stamp::of`] on the joined path.
#[derive(Debug)]
pub struct Folder(crate::fsread::Folder);

impl Folder {
    /// `None` when `path` cannot be opened.
    pub fn open(path: &Path) -> Option<Self> {
        crate::fsread::Folder::open(path).ok().map(Folder)
    }

    pub fn path(&self) -> &Path {
        self.0.path()
    }

    /// [`Stamp::of`] of `self.path().join(rel)`, for a relative `rel`.
    pub fn stamp(&self, rel: &Path) -> Option<Stamp> {
        if rel.is_absolute() || rel.as_os_str().is_empty() {
            return Stamp::of(&self.0.path().join(rel));
        }
        let stat = self.0.stat(rel).ok()?;
        // As `Metadata::modified` and `duration_since(UNIX_EPOCH)`: none before the epoch.
        let seconds = u128::try_from(stat.st_mtime).ok()?;
        let nanos = Some(u128::from(stat.st_mtime_nsec)).filter(|&n| n < 1_000_000_000)?;
        Some(Stamp {
            size: u64::try_from(stat.st_size).ok()?,
            mtime: seconds * 1_000_000_000 + nanos,
        })
    }
}

/// The content half of an entry's key: the xxh3-128 of the bytes. 128 bits make an accidental
/// match of two contents out of reach (a changed file that kept its size and time still
/// misses), at memory speed; the bytes are the user's own files, so there is no adversary to
/// craft a collision who could not simply edit the file.
pub fn content_hash(bytes: &[u8]) -> [u8; 16] {
    xxh3_128(bytes).to_le_bytes()
}

/// The envscan build: its version, commit, and the size and time of its own executable, so
/// that a rebuilt binary (a developer's, with the same commit) never reads an older build's
/// entries.
fn build_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let exe = std::env::current_exe()
            .ok()
            .and_then(|exe| Stamp::of(&exe))
            .map_or_else(
                || "unknown".to_string(),
                |s| format!("{}-{}", s.size, s.mtime),
            );
        format!(
            "{} {} {exe}",
            env!("CARGO_PKG_VERSION"),
            env!("ENVSCAN_GIT_COMMIT")
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn store(dir: &Path, key: &str) -> Store {
        Store::new(dir, "test-v1", Path::new("/project"), key.to_string())
    }

    #[test]
    fn a_folder_stamps_its_entries_as_stamp_of_does() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("a.dist-info")).unwrap();
        fs_err::write(dir.path().join("a.dist-info/RECORD"), "x").unwrap();
        let folder = Folder::open(dir.path()).unwrap();
        for rel in [
            "a.dist-info",
            "a.dist-info/RECORD",
            "missing",
            "a.dist-info/../a.dist-info",
        ] {
            let path = dir.path().join(rel);
            assert_eq!(folder.stamp(Path::new(rel)), Stamp::of(&path), "{rel}");
        }
        assert!(folder.stamp(Path::new("a.dist-info/RECORD")).is_some());
        assert_eq!(folder.stamp(Path::new("missing")), None);
    }

    #[test]
    fn entries_read_back_only_under_the_same_header_and_checksum() {
        let dir = tempfile::tempdir().unwrap();
        let a = store(dir.path(), "a");
        let entries = vec![("x".to_string(), 7u32)];
        a.store(&entries);
        assert_eq!(a.load::<Vec<(String, u32)>>(), Some(entries));
        assert_eq!(store(dir.path(), "b").load::<Vec<(String, u32)>>(), None);
        let mut bytes = fs_err::read(a.path()).unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        assert_eq!(a.decode::<Vec<(String, u32)>>(&bytes), None, "corrupt");
        let good = fs_err::read(a.path()).unwrap();
        for cut in 0..good.len() {
            assert_eq!(
                a.decode::<Vec<(String, u32)>>(&good[..cut]),
                None,
                "cut {cut}"
            );
        }
    }
}
