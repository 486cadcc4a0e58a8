//! The parse stage's cache, as ruff's is: per source file, its [`FileImports`], keyed by the
//! file's path (relative to the project), size, modification time and the hash of its bytes
//! ([`content_hash`], xxh3-128), and by what the walk said about it (kind, module name,
//! package or not: relative imports resolve against them). The file's header carries envscan's build and the parse settings
//! (the size limit and the nesting guard). One cache file per project:
//! `{cache_dir}/parse-v4/{hash of the project folder}.bin` (v1 was w9's JSON, v2 keyed by
//! sha256).
//!
//! The bytes are read and hashed in the parallel stage anyway (the parser needs them), so
//! a hit costs a read, a hash and a copy out of the record. A file whose entry does not match
//! in every part of its key is parsed again: the content hash makes a stale entry unusable
//! even when size and time were preserved (a `git checkout` can do that). The cache is
//! written only when an entry was added or dropped: a warm run writes nothing. Results that
//! did not come from parsing bytes (a file that does not read, a parser panic) are never kept.

use std::path::Path;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use super::records::FileRecord;
use super::{Kept, Stamp, Store, content_hash};
use crate::parse::{FileImports, MAX_NESTING};
use crate::walk::{SourceFile, SourceKind};

const KIND: &str = "parse-v4";

/// One file's entry.
#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    rel: String,
    stamp: Stamp,
    hash: [u8; 16],
    notebook: bool,
    module: Option<String>,
    is_package: bool,
    result: FileRecord,
}

impl Entry {
    fn key_matches(&self, file: &SourceFile, stamp: Stamp, hash: &[u8; 16]) -> bool {
        self.stamp == stamp
            && self.hash == *hash
            && self.notebook == is_notebook(file.kind)
            && self.module.as_deref() == file.module.as_ref().map(|m| m.as_str())
            && self.is_package == file.is_package
    }
}

fn is_notebook(kind: SourceKind) -> bool {
    match kind {
        SourceKind::Python => false,
        SourceKind::Notebook => true,
    }
}

pub struct ParseCache {
    store: Store,
    /// Entries as read, by relative path.
    old: Kept<Entry>,
    /// Entries made this run.
    fresh: Mutex<Vec<Entry>>,
}

impl ParseCache {
    /// The cache of the project in `root` (canonical), for files read with `max_file_size`.
    pub fn open(cache_dir: &Path, root: &Path, max_file_size: u64) -> Self {
        let key = format!("max-file-size={max_file_size} max-nesting={MAX_NESTING}");
        let store = Store::new(cache_dir, KIND, root, key);
        let old = store.load::<Vec<Entry>>().unwrap_or_default();
        ParseCache {
            store,
            old: Kept::new(old, |e| &e.rel),
            fresh: Mutex::new(Vec::new()),
        }
    }

    /// The imports of `file`, whose bytes are `bytes`: its entry's when every part of the key
    /// matches, else what `parse` returns, which is then kept for the next run.
    pub fn get_or_parse(
        &self,
        file: &SourceFile,
        bytes: &[u8],
        parse: impl FnOnce() -> FileImports,
    ) -> FileImports {
        let Some(stamp) = Stamp::of(&file.path) else {
            return parse();
        };
        let hash = content_hash(bytes);
        let hit = self.old.get(&file.rel, |entry| {
            entry
                .key_matches(file, stamp, &hash)
                .then(|| entry.result.to_imports(&file.rel))
                .flatten()
        });
        if let Some(result) = hit {
            return result;
        }
        let result = parse();
        if let Some(record) = FileRecord::new(&result)
            && let Ok(mut fresh) = self.fresh.lock()
        {
            fresh.push(Entry {
                rel: file.rel.clone(),
                stamp,
                hash,
                notebook: is_notebook(file.kind),
                module: file.module.as_ref().map(|m| m.as_str().to_string()),
                is_package: file.is_package,
                result: record,
            });
        }
        result
    }

    /// Writes the cache when an entry was added or dropped; entries of files this run did not
    /// see (removed, renamed, now unreadable) are dropped.
    pub fn save(self) {
        let fresh = self.fresh.into_inner().unwrap_or_default();
        let (mut entries, all_used) = self.old.into_used();
        if fresh.is_empty() && all_used {
            return;
        }
        entries.extend(fresh);
        entries.sort_by(|a, b| a.rel.cmp(&b.rel));
        self.store.store(&entries);
    }
}
