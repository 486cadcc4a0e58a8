//! The environment cache: each `*.dist-info` folder's reading ([`Distribution`] as
//! `dist_info::read` returns it, with the modules its files make), and the orphan search's
//! listing of each search-path folder ([`Listing`]). One cache file per environment:
//! `{cache_dir}/env-v3/{hash of the prefix}.bin`, with envscan's build in its header.
//!
//! A folder's entry is keyed by its path, the site-packages folder and prefix it was read
//! against, the folder's own size and modification time, and the size and time of RECORD
//! and METADATA, stat'ed by path. The folder's time moves whenever a file in it is created,
//! removed or renamed (how installers write, and how pip, uv and conda replace a
//! distribution: a new folder); RECORD and METADATA are the two files people and tools
//! rewrite in place, which leaves the folder's time alone. INSTALLER, direct_url.json,
//! entry_points.txt and top_level.txt rewritten in place (no installer does) are not seen
//! until the folder changes: three stats per distribution instead of a listing and a stat per
//! file, the price of a warm run that opens no metadata file. Stamps are taken before anything is
//! read, so a change during the reading leaves a key that no longer matches.
//!
//! An unchanged folder costs those three stats instead of reading and parsing METADATA and
//! RECORD and deriving its modules; a changed or new one is read again alone; entries of
//! folders that are gone are dropped on the next write. What is cached is only what the reader
//! produced cleanly: a folder whose reading gave any diagnostic, whose paths are not UTF-8, or
//! which is an `.egg-info` (read through files below it) is read every time. Requires-Dist
//! lines, versions and module names are stored as text, so the parsed forms need no serde of
//! their own: versions and module names are parsed again on load with the pipeline's own
//! functions, Requires-Dist lines (which parsed cleanly when recorded) only when asked for.
//! The files stay front-coded as stored until asked for (see `env::files`).
//!
//! A search-path folder's listing (see `file_index`) holds what the orphan search saw, with
//! the stamp of every folder it listed (the search-path folder, each package and namespace
//! folder it looked into) and of every symlink's target; on a warm run only a folder whose
//! stamp moved is listed again. Ownership is never cached: the orphans are worked out again
//! from the listing and this run's file index, so a changed RECORD changes them too.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::{Folder, Kept, Stamp, Store};
use crate::diagnostic::Diagnostic;
use crate::env::direct_url::{DirectSource, DirectUrl, VcsInfo};
use crate::env::file_index::{self, Listing};
use crate::env::files::FrontCoded;
use crate::env::{
    DistKind, Distribution, EntryPoint, Files, MetadataFormat, RequiresDist, metadata,
};
use crate::names::{ModuleName, PackageName};

const KIND: &str = "env-v3";

/// What a folder's entry is keyed by.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Key {
    metadata_dir: String,
    site_packages: String,
    prefix: String,
    /// The folder's own stamp: moves when a file in it is created, removed or renamed.
    folder: Stamp,
    /// RECORD's and METADATA's, by path (`None`: absent): these two are rewritten in place.
    record: Option<Stamp>,
    metadata: Option<Stamp>,
}

impl Key {
    /// Taken before the folder is read, so that a change during the reading moves the
    /// stamps past the ones kept. `open` is `site_packages` opened, to stamp by name.
    fn of(
        metadata_dir: &Path,
        site_packages: &Path,
        prefix: &Path,
        open: Option<&Folder>,
    ) -> Option<Self> {
        // By name from the open folder when the folder is `site_packages.join(name)`.
        let name = metadata_dir
            .file_name()
            .filter(|name| site_packages.join(name).as_os_str() == metadata_dir.as_os_str());
        let stamp = |file: Option<&str>| match (open, name) {
            (Some(open), Some(name)) => match file {
                Some(file) => open.stamp(&Path::new(name).join(file)),
                None => open.stamp(Path::new(name)),
            },
            _ => match file {
                Some(file) => Stamp::of(&metadata_dir.join(file)),
                None => Stamp::of(metadata_dir),
            },
        };
        let folder = stamp(None)?;
        Some(Key {
            metadata_dir: metadata_dir.to_str()?.to_string(),
            site_packages: site_packages.to_str()?.to_string(),
            prefix: prefix.to_str()?.to_string(),
            folder,
            record: stamp(Some("RECORD")),
            metadata: stamp(Some("METADATA")),
        })
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Entry {
    key: Key,
    dist: DistRecord,
}

/// A cache file's entries.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Contents {
    dists: Vec<Entry>,
    /// The orphan search's listing of each search-path folder, by path.
    folders: Vec<(String, Listing)>,
}

pub struct EnvCache {
    store: Store,
    /// The file's entries, by metadata folder.
    old: Kept<Entry>,
    fresh: Mutex<Vec<Entry>>,
    old_folders: FxHashMap<String, Listing>,
    /// Kept listings being refreshed on a thread of their own (see
    /// [`EnvCache::refresh_listings`]), then the results by folder: listing and whether it
    /// changed.
    refreshing: Option<JoinHandle<Vec<(String, Listing, bool)>>>,
    refreshed: FxHashMap<String, (Listing, bool)>,
    folders: Vec<(String, Listing)>,
    folders_changed: bool,
}

/// A metadata folder's key, stamped before its entry is looked up (see [`Stamper`]).
pub struct DistKey(Key);

/// Stamps metadata folders, by name from their opened site-packages folder. It needs no
/// cache file: a warm run takes its three stats per distribution while the cache thread is
/// still decoding the file, instead of after it.
pub struct Stamper {
    open: Vec<Folder>,
}

impl Stamper {
    /// Opens each of `folders` once (the site-packages and `.pth` folders metadata sits in);
    /// one that cannot be opened is stamped by whole paths.
    pub fn new<'a>(folders: impl IntoIterator<Item = &'a Path>) -> Self {
        let mut open: Vec<Folder> = Vec::new();
        for folder in folders {
            if !open.iter().any(|f| f.path() == folder)
                && let Some(opened) = Folder::open(folder)
            {
                open.push(opened);
            }
        }
        Stamper { open }
    }

    /// The key of the dist-info folder `metadata_dir` in `site_packages`; `None` when it
    /// cannot be stamped or its paths are not UTF-8 (then it is never cached).
    pub fn key(&self, metadata_dir: &Path, site_packages: &Path, prefix: &Path) -> Option<DistKey> {
        let open = self.open.iter().find(|f| f.path() == site_packages);
        Key::of(metadata_dir, site_packages, prefix, open).map(DistKey)
    }
}

impl EnvCache {
    /// The cache of the environment at `prefix`.
    pub fn open(cache_dir: &Path, prefix: &Path) -> Self {
        let store = Store::new(cache_dir, KIND, prefix, String::new());
        let contents = store.load::<Contents>().unwrap_or_default();
        EnvCache {
            store,
            old: Kept::new(contents.dists, |e| &e.key.metadata_dir),
            fresh: Mutex::new(Vec::new()),
            old_folders: contents.folders.into_iter().collect(),
            refreshing: None,
            refreshed: FxHashMap::default(),
            folders: Vec::new(),
            folders_changed: false,
        }
    }

    /// The distribution of the dist-info folder `metadata_dir`, with the modules its files
    /// make (`modules`, `has_compiled_modules`) filled: its entry's when `key` (from
    /// [`Stamper::key`], taken before anything was read) matches, else what `read` returns
    /// (kept for the next run when it is clean).
    pub fn get_or_read(
        &self,
        key: Option<DistKey>,
        metadata_dir: &Path,
        site_packages: &Path,
        read: impl FnOnce(&mut Vec<Diagnostic>) -> Distribution,
    ) -> (Distribution, Vec<Diagnostic>) {
        let mut diagnostics = Vec::new();
        let Some(DistKey(key)) = key else {
            let mut dist = read(&mut diagnostics);
            fill_modules(&mut dist);
            return (dist, diagnostics);
        };
        let hit = self.old.get(&key.metadata_dir, |entry| {
            (entry.key == key)
                .then(|| entry.dist.to_dist(metadata_dir, site_packages))
                .flatten()
        });
        if let Some(dist) = hit {
            return (dist, diagnostics);
        }
        let mut dist = read(&mut diagnostics);
        let record = if diagnostics.is_empty() {
            DistRecord::new(&dist)
        } else {
            None
        };
        fill_modules(&mut dist);
        if let Some(mut record) = record
            && let Ok(mut fresh) = self.fresh.lock()
        {
            record.modules = dist
                .modules
                .iter()
                .map(|m| m.as_str().to_string())
                .collect();
            record.compiled = dist.has_compiled_modules;
            fresh.push(Entry { key, dist: record });
        }
        (dist, diagnostics)
    }

    /// Starts refreshing the listings kept for `folders` (the search-path folders the orphan
    /// search will look at) on a thread of their own: their stats (one per package folder)
    /// then run while the distributions are read and indexed, which leave a core idle.
    /// Ownership is not needed for it: [`EnvCache::find_orphans`] asks that afterwards.
    pub fn refresh_listings(&mut self, folders: &[&Path]) {
        let old: Vec<(String, Listing)> = folders
            .iter()
            .filter_map(|folder| self.old_folders.remove_entry(folder.to_str()?))
            .collect();
        if old.is_empty() {
            return;
        }
        // A thread that cannot start drops these listings: the folders are listed afresh.
        self.refreshing = std::thread::Builder::new()
            .spawn(move || {
                old.into_iter()
                    .map(|(name, listing)| {
                        let (listing, changed) =
                            file_index::refresh_listing(Path::new(&name), Some(listing));
                        (name, listing, changed)
                    })
                    .collect()
            })
            .ok();
    }

    /// Waits for [`EnvCache::refresh_listings`]; a refresh that panicked leaves its folders to
    /// be listed afresh.
    fn refreshed(&mut self) -> &mut FxHashMap<String, (Listing, bool)> {
        if let Some(handle) = self.refreshing.take() {
            let done = handle.join().unwrap_or_default();
            self.refreshed.extend(
                done.into_iter()
                    .map(|(name, listing, changed)| (name, (listing, changed))),
            );
        }
        &mut self.refreshed
    }

    /// The orphans of the search-path folder `folder`, through the listing kept for it.
    pub fn find_orphans(
        &mut self,
        folder: &Path,
        owner: &dyn Fn(&Path) -> bool,
        out: &mut Vec<file_index::Orphan>,
    ) {
        let Some(name) = folder.to_str().map(str::to_string) else {
            file_index::find_orphans(folder, owner, out);
            return;
        };
        let (listing, changed) = match self.refreshed().remove(&name) {
            Some(done) => done,
            None => file_index::refresh_listing(folder, self.old_folders.remove(&name)),
        };
        file_index::replay_listing(folder, &listing, owner, out);
        self.folders_changed |= changed;
        self.folders.push((name, listing));
    }

    /// Writes the cache when an entry was added, changed or dropped.
    pub fn save(mut self) {
        // A listing refreshed but never asked for is a folder no longer searched: dropped.
        let unasked = !self.refreshed().is_empty();
        let fresh = self.fresh.into_inner().unwrap_or_default();
        let folders_changed = self.folders_changed || unasked || !self.old_folders.is_empty();
        let (mut dists, all_used) = self.old.into_used();
        if fresh.is_empty() && all_used && !folders_changed {
            return;
        }
        dists.extend(fresh);
        dists.sort_by(|a, b| a.key.metadata_dir.cmp(&b.key.metadata_dir));
        let mut folders = self.folders;
        folders.sort_by(|a, b| a.0.cmp(&b.0));
        folders.dedup_by(|a, b| a.0 == b.0);
        self.store.store(&Contents { dists, folders });
    }
}

/// Fills the modules a distribution's files make, as the environment shows them.
pub fn fill_modules(dist: &mut Distribution) {
    let (modules, compiled) = file_index::modules_of_files(&dist.files, &dist.site_packages);
    dist.modules = modules;
    dist.has_compiled_modules = compiled;
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
    /// Each relative to site-packages when that gives back the same bytes, else absolute,
    /// front-coded; shared with the [`Files`] made of it, which decode it only when asked.
    files: Arc<FrontCoded>,
    external_files: Vec<String>,
    /// What `file_index::modules_of_files` makes of `files`.
    modules: Vec<String>,
    compiled: bool,
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

/// `base.join(stored)`, allocated once.
fn join_stored(base: &Path, stored: &str) -> PathBuf {
    let mut path = PathBuf::with_capacity(base.as_os_str().len() + 1 + stored.len());
    path.push(base);
    path.push(stored);
    path
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
        let stored = files
            .iter()
            .map(|file| store_path(file, site_packages))
            .collect::<Option<Vec<String>>>()?;
        let files = Arc::new(FrontCoded::encode(&stored)?);
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
            files,
            external_files: external_files
                .iter()
                .map(|f| store_path(f, site_packages))
                .collect::<Option<_>>()?,
            modules: Vec::new(),
            compiled: false,
        })
    }

    fn to_dist(&self, metadata_dir: &Path, site_packages: &Path) -> Option<Distribution> {
        // The version parsed again with the reader's function (duplicates are ordered by
        // it); a version that no longer parses (it gave no diagnostic when recorded) makes the
        // entry unusable. Requires-Dist lines parsed cleanly when recorded: they are parsed
        // again only when asked for.
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
        if !diagnostics.is_empty() {
            return None;
        }
        let files = Files::from_front_coded(site_packages, Arc::clone(&self.files))?;
        let modules = self
            .modules
            .iter()
            .map(|m| ModuleName::new(m))
            .collect::<Option<Vec<_>>>()?;
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
            requires_dist: self
                .requires_dist
                .iter()
                .map(|raw| RequiresDist::unparsed(raw.clone()))
                .collect(),
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
            modules,
            files,
            external_files: self
                .external_files
                .iter()
                .map(|stored| join_stored(site_packages, stored))
                .collect(),
            editable_roots: Vec::new(),
            conda: None,
            has_compiled_modules: self.compiled,
        })
    }
}
