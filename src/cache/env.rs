//! The environment cache: each `*.dist-info` folder's reading ([`Distribution`] as
//! `dist_info::read` returns it), keyed by the folder's path, the site-packages folder and
//! prefix it was read against, the folder's size and modification time, and the name, size
//! and modification time of every entry in it (so a RECORD rewritten in place, which leaves
//! the folder's own time alone, is seen). One cache file per environment:
//! `{cache_dir}/env-v1/{hash of the prefix}.bin`, with envscan's build in its header.
//!
//! An unchanged folder costs a listing and a `stat` per entry instead of reading and parsing
//! METADATA and RECORD; a changed or new one is read again alone; entries of folders that are
//! gone are dropped on the next write. What is cached is only what the reader produced
//! cleanly: a folder whose reading gave any diagnostic, whose paths are not UTF-8, or which
//! is an `.egg-info` (read through files below it) is read every time. Requires-Dist lines
//! and versions are stored as text and parsed again on load with the reader's own functions,
//! so the parsed forms need no serde of their own.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{Stamp, Store};
use crate::diagnostic::Diagnostic;
use crate::env::direct_url::{DirectSource, DirectUrl, VcsInfo};
use crate::env::{DistKind, Distribution, EntryPoint, MetadataFormat, metadata};
use crate::names::PackageName;

const KIND: &str = "env-v1";

/// What a folder's entry is keyed by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Key {
    metadata_dir: String,
    site_packages: String,
    prefix: String,
    folder: Stamp,
    /// Every entry of the folder, by name, sorted.
    listing: Vec<(String, Stamp)>,
}

impl Key {
    fn of(metadata_dir: &Path, site_packages: &Path, prefix: &Path) -> Option<Self> {
        let folder = Stamp::of(metadata_dir)?;
        let mut listing = Vec::new();
        for entry in fs_err::read_dir(metadata_dir).ok()? {
            let entry = entry.ok()?;
            let name = entry.file_name().into_string().ok()?;
            // The listing's own metadata (a stat relative to the open folder); a symlink's
            // target, as the reader follows it.
            let metadata = entry.metadata().ok()?;
            let stamp = if metadata.file_type().is_symlink() {
                Stamp::of(&entry.path())?
            } else {
                Stamp::from_metadata(&metadata)?
            };
            listing.push((name, stamp));
        }
        listing.sort_by(|a, b| a.0.cmp(&b.0));
        Some(Key {
            metadata_dir: metadata_dir.to_str()?.to_string(),
            site_packages: site_packages.to_str()?.to_string(),
            prefix: prefix.to_str()?.to_string(),
            folder,
            listing,
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: Key,
    dist: DistRecord,
}

pub struct EnvCache {
    store: Store,
    old: FxHashMap<String, Entry>,
    hits: Mutex<Vec<String>>,
    fresh: Mutex<Vec<Entry>>,
}

impl EnvCache {
    /// The cache of the environment at `prefix`.
    pub fn open(cache_dir: &Path, prefix: &Path) -> Self {
        let store = Store::new(cache_dir, KIND, prefix, String::new());
        let old = store
            .load::<Vec<Entry>>()
            .map(|entries| {
                entries
                    .into_iter()
                    .map(|e| (e.key.metadata_dir.clone(), e))
                    .collect()
            })
            .unwrap_or_default();
        EnvCache {
            store,
            old,
            hits: Mutex::new(Vec::new()),
            fresh: Mutex::new(Vec::new()),
        }
    }

    /// The distribution of the dist-info folder `metadata_dir`: its entry's when the key
    /// matches, else what `read` returns (kept for the next run when it is clean).
    pub fn get_or_read(
        &self,
        metadata_dir: &Path,
        site_packages: &Path,
        prefix: &Path,
        read: impl FnOnce(&mut Vec<Diagnostic>) -> Distribution,
    ) -> (Distribution, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let Some(key) = Key::of(metadata_dir, site_packages, prefix) else {
            let dist = read(&mut diagnostics);
            return (dist, diagnostics);
        };
        if let Some(entry) = self.old.get(&key.metadata_dir)
            && entry.key == key
            && let Some(dist) = entry.dist.to_dist(metadata_dir, site_packages)
        {
            if let Ok(mut hits) = self.hits.lock() {
                hits.push(key.metadata_dir);
            }
            return (dist, diagnostics);
        }
        let dist = read(&mut diagnostics);
        if diagnostics.is_empty()
            && let Some(record) = DistRecord::new(&dist)
            && let Ok(mut fresh) = self.fresh.lock()
        {
            fresh.push(Entry { key, dist: record });
        }
        (dist, diagnostics)
    }

    /// Writes the cache when an entry was added or dropped.
    pub fn save(self) {
        let hits = self.hits.into_inner().unwrap_or_default();
        let fresh = self.fresh.into_inner().unwrap_or_default();
        if fresh.is_empty() && hits.len() == self.old.len() {
            return;
        }
        let mut old = self.old;
        let mut entries: Vec<Entry> = hits.iter().filter_map(|k| old.remove(k)).collect();
        entries.extend(fresh);
        entries.sort_by(|a, b| a.key.metadata_dir.cmp(&b.key.metadata_dir));
        self.store.store(&entries);
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum SourceRecord {
    Directory(bool),
    Vcs {
        vcs: String,
        commit_id: String,
        requested_revision: Option<String>,
    },
    Archive(Option<String>),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DirectUrlRecord {
    url: String,
    source: SourceRecord,
    subdirectory: Option<String>,
}

/// A [`Distribution`] as `dist_info::read` leaves it; the fields later stages fill (kind,
/// modules, editable roots, conda record) must still be empty for it to be recorded.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DistRecord {
    name: String,
    display_name: String,
    version: String,
    installer: Option<String>,
    requires_dist: Vec<String>,
    requires_python: Option<String>,
    provides_extra: Vec<String>,
    direct_url: Option<DirectUrlRecord>,
    top_level: Vec<String>,
    entry_points: Vec<(String, String, String)>,
    /// Relative to site-packages when that gives back the same bytes, else absolute.
    files: Vec<String>,
    external_files: Vec<String>,
}

/// `path` as `base.join(stored)` gives it back byte for byte; `None` when not UTF-8.
fn store_path(path: &Path, base: &Path) -> Option<String> {
    let text = path.to_str()?;
    if let Ok(rest) = path.strip_prefix(base)
        && let Some(rest) = rest.to_str()
        && base.join(rest).as_os_str() == path.as_os_str()
    {
        return Some(rest.to_string());
    }
    Some(text.to_string())
}

impl DistRecord {
    fn new(dist: &Distribution) -> Option<Self> {
        let Distribution {
            name,
            display_name,
            version,
            parsed_version: _,
            kind,
            installer,
            format,
            metadata_dir: _,
            site_packages,
            requires_dist,
            requires_python,
            provides_extra,
            direct_url,
            top_level,
            entry_points,
            modules,
            files,
            external_files,
            editable_roots,
            conda,
            has_compiled_modules,
        } = dist;
        let untouched = *kind == DistKind::Unknown
            && *format == MetadataFormat::DistInfo
            && modules.is_empty()
            && editable_roots.is_empty()
            && conda.is_none()
            && !has_compiled_modules;
        if !untouched {
            return None;
        }
        Some(DistRecord {
            name: name.as_str().to_string(),
            display_name: display_name.clone(),
            version: version.clone(),
            installer: installer.clone(),
            requires_dist: requires_dist.iter().map(|r| r.raw.clone()).collect(),
            requires_python: requires_python.clone(),
            provides_extra: provides_extra.clone(),
            direct_url: direct_url.as_ref().map(|u| DirectUrlRecord {
                url: u.url.clone(),
                source: match &u.source {
                    DirectSource::Directory { editable } => SourceRecord::Directory(*editable),
                    DirectSource::Vcs(info) => SourceRecord::Vcs {
                        vcs: info.vcs.clone(),
                        commit_id: info.commit_id.clone(),
                        requested_revision: info.requested_revision.clone(),
                    },
                    DirectSource::Archive { hash } => SourceRecord::Archive(hash.clone()),
                },
                subdirectory: u.subdirectory.clone(),
            }),
            top_level: top_level.clone(),
            entry_points: entry_points
                .iter()
                .map(|e| (e.group.clone(), e.name.clone(), e.value.clone()))
                .collect(),
            files: files
                .iter()
                .map(|f| store_path(f, site_packages))
                .collect::<Option<_>>()?,
            external_files: external_files
                .iter()
                .map(|f| store_path(f, site_packages))
                .collect::<Option<_>>()?,
        })
    }

    fn to_dist(&self, metadata_dir: &Path, site_packages: &Path) -> Option<Distribution> {
        // Parsed again with the reader's functions; a line that no longer parses the same
        // way (it gave no diagnostic when recorded) makes the entry unusable.
        let mut diagnostics = Vec::new();
        let parsed_version = if self.version.is_empty() {
            None
        } else {
            metadata::parse_version(
                &self.version,
                metadata_dir,
                crate::env::dist_info::VERSION_INVALID,
                &mut diagnostics,
            )
        };
        let requires_dist = metadata::parse_requires_dist(
            self.requires_dist.clone(),
            metadata_dir,
            &mut diagnostics,
        );
        if !diagnostics.is_empty() {
            return None;
        }
        let join = |stored: &String| -> PathBuf { site_packages.join(stored) };
        Some(Distribution {
            name: PackageName::new(&self.name),
            display_name: self.display_name.clone(),
            version: self.version.clone(),
            parsed_version,
            kind: DistKind::Unknown,
            installer: self.installer.clone(),
            format: MetadataFormat::DistInfo,
            metadata_dir: metadata_dir.to_path_buf(),
            site_packages: site_packages.to_path_buf(),
            requires_dist,
            requires_python: self.requires_python.clone(),
            provides_extra: self.provides_extra.clone(),
            direct_url: self.direct_url.as_ref().map(|u| DirectUrl {
                url: u.url.clone(),
                source: match &u.source {
                    SourceRecord::Directory(editable) => DirectSource::Directory {
                        editable: *editable,
                    },
                    SourceRecord::Vcs {
                        vcs,
                        commit_id,
                        requested_revision,
                    } => DirectSource::Vcs(VcsInfo {
                        vcs: vcs.clone(),
                        commit_id: commit_id.clone(),
                        requested_revision: requested_revision.clone(),
                    }),
                    SourceRecord::Archive(hash) => DirectSource::Archive { hash: hash.clone() },
                },
                subdirectory: u.subdirectory.clone(),
            }),
            top_level: self.top_level.clone(),
            entry_points: self
                .entry_points
                .iter()
                .map(|(group, name, value)| EntryPoint {
                    group: group.clone(),
                    name: name.clone(),
                    value: value.clone(),
                })
                .collect(),
            modules: Vec::new(),
            files: self.files.iter().map(join).collect(),
            external_files: self.external_files.iter().map(join).collect(),
            editable_roots: Vec::new(),
            conda: None,
            has_compiled_modules: false,
        })
    }
}
