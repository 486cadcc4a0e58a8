//! Installed files → owning distribution, importable modules, and orphans.
//!
//! Ownership is per file: every RECORD entry inside site-packages maps to its distribution,
//! so `google/protobuf/__init__.py` belongs to protobuf and `google/api/http_pb2.py` to
//! googleapis-common-protos although both live under the namespace `google`. Editable and
//! path installs own the folders they put on the path or map (longest folder wins).
//!
//! Module names from paths relative to a search-path folder (as uv's installed-modules):
//! `pkg/__init__.py` → `pkg`; `pkg/mod.py` → `pkg.mod`; extension modules by suffix:
//! `_x.cpython-311-x86_64-linux-gnu.so`, `_x.abi3.so`, `_x.so`, `_x.cp311-win_amd64.pyd`,
//! `_x.pyd` → `_x`. Folders that are not identifiers (`*.dist-info`, `__pycache__`, `bin`
//! scripts with dashes) never make modules; neither do stubs (`.pyi`) or bytecode.
//!
//! Orphans: modules on site-packages and `.pth` folders that nobody owns, found by listing
//! each folder's top level and descending only into namespace folders (no `__init__`). The
//! search is in two steps: a [`Listing`] of what the filesystem holds (names, folder or not,
//! each folder's `__init__` and whether it holds an extension), then the orphans that listing
//! shows given who owns what. The environment cache keeps the listing with the stamp of every
//! folder listed (taken before the listing) and of every symlink's target, so a later run
//! stats those folders and lists again only the ones whose stamp moved: a module or package
//! created or removed moves its folder's time, an `__init__.py` appearing moves its package's.

use std::collections::BTreeSet;
use std::collections::hash_map::Entry;
use std::ffi::OsString;
use std::hash::BuildHasher;

use rayon::prelude::*;
use rustc_hash::{FxBuildHasher, FxHashMap};
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{DistId, Distribution};
use crate::cache::{Folder, Stamp};
use crate::names::{ModuleName, is_identifier};

/// How deep orphan search descends into namespace folders.
const MAX_NAMESPACE_DEPTH: usize = 4;

/// Which distribution owns each installed file: the first distribution, in the order Python
/// uses them, whose files hold the path byte for byte.
///
/// A distribution whose files were read from the environment cache and kept coded
/// ([`super::Files::coded_tops`]) is found by its base folder and the first component of the
/// path below it (`pkg` for `site-packages/pkg/mod.py`): a path is compared with the files of
/// the few distributions that have that component, decoded on the fly, and nothing is done
/// per file before a path is asked about. The others (read afresh) have each file's path
/// hashed: keys are 32-bit hashes of the path bytes pointing back (distribution, file) into
/// the distributions' own file lists, so no path is copied (an environment can hold a few
/// hundred thousand files) and an entry is 12 bytes; a hit is confirmed by comparing the
/// stored path's bytes, and the rare different path with the same hash goes to `collisions`.
#[derive(Debug, Default)]
pub struct FileIndex {
    files: FxHashMap<u32, (u32, u32)>,
    collisions: FxHashMap<OsString, DistId>,
    /// Coded distributions by base folder, then by first component, in order.
    coded: Vec<(PathBuf, ByTop)>,
    /// Folders owned as a whole (editable and path installs), longest first.
    roots: Vec<(PathBuf, DistId)>,
}

/// The distributions (indexes, in order) whose coded files start with each first component.
type ByTop = FxHashMap<Box<[u8]>, Vec<u32>>;

fn hash_path(path: &[u8]) -> u32 {
    let hash = FxBuildHasher.hash_one(path);
    (hash ^ (hash >> 32)) as u32
}

impl FileIndex {
    /// Indexes every file of every distribution. The first owner of a path stays:
    /// distributions come in the order Python uses them.
    pub fn build(distributions: &[Distribution]) -> Self {
        let mut index = Self::default();
        for (d, dist) in distributions.iter().enumerate() {
            let Some((base, tops)) = dist.files.coded_tops() else {
                continue;
            };
            let at = match index.coded.iter().position(|(b, _)| b == base) {
                Some(at) => at,
                None => {
                    index.coded.push((base.to_path_buf(), FxHashMap::default()));
                    index.coded.len() - 1
                }
            };
            for top in tops {
                index.coded[at]
                    .1
                    .entry(top.clone())
                    .or_default()
                    .push(d as u32);
            }
        }
        let hashed = |dist: &Distribution| dist.files.coded_tops().is_none();
        let total = distributions
            .iter()
            .filter(|d| hashed(d))
            .map(|d| d.files.len())
            .sum();
        index.files.reserve(total);
        // Paths by their bytes, hashed in parallel; the first owner of a hash is decided in
        // order.
        let hashes: Vec<Vec<u32>> = distributions
            .par_iter()
            .map(|dist| {
                if !hashed(dist) {
                    return Vec::new();
                }
                let mut hashes = Vec::with_capacity(dist.files.len());
                dist.files
                    .for_each_bytes(|_, file| hashes.push(hash_path(file)));
                hashes
            })
            .collect();
        for (d, dist_hashes) in hashes.iter().enumerate() {
            for (f, &hash) in dist_hashes.iter().enumerate() {
                match index.files.entry(hash) {
                    Entry::Vacant(slot) => {
                        slot.insert((d as u32, f as u32));
                    }
                    Entry::Occupied(slot) => {
                        // The same path twice, or (rarely) two paths with one hash.
                        let (od, of) = *slot.get();
                        let Some(file) = distributions[d].files.path_at(f) else {
                            continue;
                        };
                        let bytes = file.as_os_str().as_encoded_bytes();
                        if !distributions[od as usize].files.is_at(of as usize, bytes) {
                            index
                                .collisions
                                .entry(file.into_os_string())
                                .or_insert(DistId(d));
                        }
                    }
                }
            }
        }
        index
    }

    pub fn insert_root(&mut self, root: PathBuf, owner: DistId) {
        if !self.roots.iter().any(|(r, _)| *r == root) {
            self.roots.push((root, owner));
            self.roots.sort_by(|a, b| {
                b.0.as_os_str()
                    .len()
                    .cmp(&a.0.as_os_str().len())
                    .then(a.0.cmp(&b.0))
            });
        }
    }

    fn exact(&self, path: &Path, distributions: &[Distribution]) -> Option<DistId> {
        let bytes = path.as_os_str().as_encoded_bytes();
        let hashed = match self.files.get(&hash_path(bytes)) {
            Some(&(d, f))
                if distributions
                    .get(d as usize)
                    .is_some_and(|dist| dist.files.is_at(f as usize, bytes)) =>
            {
                Some(DistId(d as usize))
            }
            _ => self.collisions.get(path.as_os_str()).copied(),
        };
        let separator = std::path::MAIN_SEPARATOR_STR.as_bytes();
        let coded = self
            .coded
            .iter()
            .filter_map(|(base, by_top)| {
                let rel = bytes
                    .strip_prefix(base.as_os_str().as_encoded_bytes())?
                    .strip_prefix(separator)?;
                let cut = memchr::memchr(separator[0], rel).unwrap_or(rel.len());
                by_top.get(&rel[..cut])?.iter().copied().find(|&d| {
                    distributions
                        .get(d as usize)
                        .is_some_and(|dist| dist.files.has_relative(rel))
                })
            })
            .min()
            .map(|d| DistId(d as usize));
        match (hashed, coded) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// The owner of a file, or of the folder an editable install maps that holds it.
    pub fn owner(&self, path: &Path, distributions: &[Distribution]) -> Option<DistId> {
        if let Some(id) = self.exact(path, distributions) {
            return Some(id);
        }
        let normal = super::record::normalize_lexically(path);
        if let Some(id) = self.exact(&normal, distributions) {
            return Some(id);
        }
        self.roots
            .iter()
            .find(|(root, _)| normal.starts_with(root))
            .map(|(_, id)| *id)
    }
}

/// What a file name makes: a module stem and whether it is compiled.
pub fn module_file(name: &str) -> Option<(&str, bool)> {
    if let Some(stem) = name.strip_suffix(".py") {
        return is_identifier(stem).then_some((stem, false));
    }
    if name.ends_with(".so") || name.ends_with(".pyd") {
        // `_x.cpython-311-x86_64-linux-gnu.so`: the module is what comes before the first dot.
        let stem = name.split('.').next()?;
        return is_identifier(stem).then_some((stem, true));
    }
    None
}

/// The module a file makes, relative to its search-path folder, and whether it is an
/// `__init__` and compiled. `None` for files that are not importable.
pub fn module_of_relative(rel: &Path) -> Option<(ModuleName, bool, bool)> {
    module_of_relative_str(rel.to_str()?)
}

/// [`module_of_relative`] on a `/`-separated string.
fn module_of_relative_str(rel: &str) -> Option<(ModuleName, bool, bool)> {
    // The file name first: most files (bytecode, data) are rejected before any allocation.
    let (dir, file) = match rel.rsplit_once(['/', std::path::MAIN_SEPARATOR]) {
        Some((dir, file)) => (dir, file),
        None => ("", rel),
    };
    let (stem, compiled) = module_file(file)?;
    let mut parts: Vec<&str> = if dir.is_empty() {
        Vec::new()
    } else {
        dir.split(['/', std::path::MAIN_SEPARATOR]).collect()
    };
    if !parts
        .iter()
        .all(|p| is_identifier(p) && *p != "__pycache__")
    {
        return None;
    }
    let is_init = stem == "__init__";
    if is_init {
        ModuleName::from_components(parts).map(|m| (m, true, compiled))
    } else {
        parts.push(stem);
        ModuleName::from_components(parts).map(|m| (m, false, compiled))
    }
}

/// The modules a set of files inside `folder` provides, reduced to those whose parent is not
/// a regular package of the same set, and whether any is compiled.
pub fn modules_of_files(files: &[PathBuf], folder: &Path) -> (Vec<ModuleName>, bool) {
    let mut all: Vec<(ModuleName, bool)> = Vec::new();
    let mut packages: BTreeSet<ModuleName> = BTreeSet::new();
    let mut compiled_any = false;
    let folder = folder.as_os_str().as_encoded_bytes();
    for file in files {
        // A byte prefix check: `Path::strip_prefix` goes component by component.
        let Some(rel) = file
            .as_os_str()
            .as_encoded_bytes()
            .strip_prefix(folder)
            .and_then(|r| r.strip_prefix(std::path::MAIN_SEPARATOR_STR.as_bytes()))
            .and_then(|r| std::str::from_utf8(r).ok())
        else {
            continue;
        };
        let Some((module, is_init, compiled)) = module_of_relative_str(rel) else {
            continue;
        };
        if module.as_str().starts_with("__editable__") {
            continue;
        }
        compiled_any |= compiled;
        if is_init {
            packages.insert(module.clone());
        }
        all.push((module, is_init));
    }
    let mut modules: Vec<ModuleName> = all
        .into_iter()
        .filter(|(m, _)| m.parent().is_none_or(|p| !packages.contains(&p)))
        .map(|(m, _)| m)
        .collect();
    modules.sort();
    modules.dedup();
    (modules, compiled_any)
}

/// An importable module that no distribution owns.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Orphan {
    pub module: ModuleName,
    /// The module file, or the package's folder.
    pub path: PathBuf,
    pub compiled: bool,
    /// The search-path folder it was found on.
    pub search_path: PathBuf,
}

/// Report shape of an orphan.
#[derive(Clone, Debug, Serialize, JsonSchema)]
pub struct OrphanReport {
    pub module: String,
    pub path: String,
    pub compiled: bool,
}

/// The top-level importable modules of a folder that `owner` does not place, with namespace
/// folders searched a few levels down.
pub fn find_orphans(folder: &Path, owner: &dyn Fn(&Path) -> bool, out: &mut Vec<Orphan>) {
    let listing = list(folder, None, 0, Descend::Always, false, None);
    replay(folder, folder, &listing, None, 0, owner, out);
}

/// The search-path folder `folder` listed for the orphan search, from the listing an earlier
/// run kept (`old`): only the folders whose stamps moved are listed again. Returns the listing
/// to keep and whether it differs from `old`. [`replay_listing`] then finds the orphans.
pub fn refresh_listing(folder: &Path, old: Option<Listing>) -> (Listing, bool) {
    match old {
        Some(old) => refresh(folder, old, None, 0, Descend::Always, None),
        None => (list(folder, None, 0, Descend::Always, true, None), true),
    }
}

/// The orphans `listing` of the search-path folder `folder` shows, as [`find_orphans`] gives.
pub fn replay_listing(
    folder: &Path,
    listing: &Listing,
    owner: &dyn Fn(&Path) -> bool,
    out: &mut Vec<Orphan>,
) {
    replay(folder, folder, listing, None, 0, owner, out);
}

/// A folder as the orphan search reads it: the facts about its entries the search uses (names
/// and whether each is a folder, nothing about contents), and the stamps that tell a later
/// run whether they still hold. Ownership is not in it: that is asked again on every run.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Listing {
    /// The folder's size and time, taken before it was listed: any entry created, removed or
    /// renamed in it moves the time. `None` when not stamped, which no later run trusts.
    stamp: Option<Stamp>,
    /// Each symlink in it with its target's stamp (`None`: dangling): the listing follows
    /// symlinks to tell folders from files, and a target can change without the folder.
    links: Vec<(String, Option<Stamp>)>,
    /// Its first `__init__` module file (by name order), which makes it a regular package.
    init: Option<String>,
    /// Whether it holds an extension module.
    extension: bool,
    /// In name order, the entries the search looks at; only for folders it descends into
    /// (the search-path folder itself and namespace folders above the depth limit).
    entries: Vec<Node>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Node {
    name: String,
    kind: NodeKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
enum NodeKind {
    /// A module file (not `__init__` or `__editable__*`).
    File { compiled: bool },
    /// A folder whose name is an identifier.
    Folder(Listing),
}

/// Whether a listing holds the entries below it.
#[derive(Clone, Copy)]
enum Descend {
    Always,
    IfNamespace,
    Never,
}

/// How a folder listed at `depth` treats its subfolders.
fn child_descend(depth: usize) -> Descend {
    if depth < MAX_NAMESPACE_DEPTH {
        Descend::IfNamespace
    } else {
        Descend::Never
    }
}

fn join(parent: Option<&ModuleName>, name: &str) -> Option<ModuleName> {
    match parent {
        Some(p) => p.join(name),
        None => ModuleName::new(name),
    }
}

/// Lists `dir` (at `depth` below the search-path folder; `parent` is its module), stamped when
/// `stamped`. The subfolders of `old`, an earlier listing of it, are reused where their own
/// stamps still hold.
fn list(
    dir: &Path,
    parent: Option<&ModuleName>,
    depth: usize,
    descend: Descend,
    stamped: bool,
    old: Option<Listing>,
) -> Listing {
    // The stamp before the listing: a change between the two moves it past the one kept.
    let stamp = if stamped { Stamp::of(dir) } else { None };
    let found = sorted_entries(dir);
    // Dangling links too: a target that appears later leaves the folder's own stamp alone.
    let links = if stamped {
        found
            .iter()
            .filter(|e| e.is_link)
            .map(|e| (e.name.clone(), Stamp::of(&e.path)))
            .collect()
    } else {
        Vec::new()
    };
    let module_files = || {
        found
            .iter()
            .filter(|e| e.kind == EntryKind::File)
            .filter_map(|e| module_file(&e.name))
    };
    let init = found
        .iter()
        .find(|e| {
            e.kind == EntryKind::File && module_file(&e.name).is_some_and(|(s, _)| s == "__init__")
        })
        .map(|e| e.name.clone());
    let extension = module_files().any(|(_, compiled)| compiled);
    let descends = match descend {
        Descend::Always => true,
        Descend::IfNamespace => init.is_none(),
        Descend::Never => false,
    };
    let mut old_folders: FxHashMap<String, Listing> = FxHashMap::default();
    if let Some(old) = old {
        for node in old.entries {
            if let NodeKind::Folder(listing) = node.kind {
                old_folders.insert(node.name, listing);
            }
        }
    }
    let mut entries = Vec::new();
    if descends {
        let mut folders = Vec::new();
        for FolderEntry {
            name, path, kind, ..
        } in found
        {
            if name.starts_with(['.', '~']) || name == "__pycache__" || kind == EntryKind::Other {
                continue;
            }
            if kind == EntryKind::File {
                let Some((stem, compiled)) = module_file(&name) else {
                    continue;
                };
                if stem == "__init__" || stem.starts_with("__editable__") {
                    continue;
                }
                entries.push(Node {
                    name,
                    kind: NodeKind::File { compiled },
                });
                continue;
            }
            if !is_identifier(&name) {
                continue;
            }
            let Some(module) = join(parent, &name) else {
                continue;
            };
            let old = old_folders.remove(&name);
            // Placeholders, listed below (in parallel at the top level, where most are).
            folders.push((entries.len(), path, module, old));
            entries.push(Node {
                name,
                kind: NodeKind::Folder(Listing::empty()),
            });
        }
        let sub = child_descend(depth);
        let list_folder =
            |(at, path, module, old): (usize, PathBuf, ModuleName, Option<Listing>)| {
                let listing = match old {
                    Some(old) if stamped => {
                        refresh(&path, old, Some(&module), depth + 1, sub, None).0
                    }
                    _ => list(&path, Some(&module), depth + 1, sub, stamped, None),
                };
                (at, listing)
            };
        let listed: Vec<(usize, Listing)> = if depth == 0 {
            folders.into_par_iter().map(list_folder).collect()
        } else {
            folders.into_iter().map(list_folder).collect()
        };
        for (at, listing) in listed {
            entries[at].kind = NodeKind::Folder(listing);
        }
    }
    Listing {
        stamp,
        links,
        init,
        extension,
        entries,
    }
}

/// `old` when its stamps still hold, else `dir` listed again (reusing what below it holds);
/// and whether the listing changed. `from` is the open folder `dir` is an entry of, with the
/// entry's name, when there is one to stamp it by.
fn refresh(
    dir: &Path,
    mut old: Listing,
    parent: Option<&ModuleName>,
    depth: usize,
    descend: Descend,
    from: Option<(&Folder, &str)>,
) -> (Listing, bool) {
    let now = match from {
        Some((folder, name)) => folder.stamp(Path::new(name)),
        None => Stamp::of(dir),
    };
    // The search-path folder is opened, so that its entries (most folders) are stamped by
    // name.
    let this = if depth == 0 { Folder::open(dir) } else { None };
    let stamp_entry = |name: &str| match &this {
        Some(folder) => folder.stamp(Path::new(name)),
        None => Stamp::of(&dir.join(name)),
    };
    let holds = old.stamp.is_some()
        && now == old.stamp
        && old
            .links
            .iter()
            .all(|(name, stamp)| stamp_entry(name) == *stamp);
    if !holds {
        // Changed when it lists differently (a folder that cannot be stamped, such as one that
        // is gone, lists the same every time and is not written again).
        let new = list(dir, parent, depth, descend, true, Some(old.clone()));
        let changed = new != old;
        return (new, changed);
    }
    let sub = child_descend(depth);
    let refresh_node = |node: &mut Node| -> bool {
        let NodeKind::Folder(listing) = &mut node.kind else {
            return false;
        };
        let module = join(parent, &node.name);
        let (new, relisted) = refresh(
            &dir.join(&node.name),
            std::mem::replace(listing, Listing::empty()),
            module.as_ref(),
            depth + 1,
            sub,
            this.as_ref().map(|folder| (folder, node.name.as_str())),
        );
        *listing = new;
        relisted
    };
    // In parallel at the top level, where most folders are: a stat each.
    // Every child refreshed (no short cut): each keeps its own listing up to date.
    let changed: Vec<bool> = if depth == 0 {
        old.entries.par_iter_mut().map(refresh_node).collect()
    } else {
        old.entries.iter_mut().map(refresh_node).collect()
    };
    let changed = changed.contains(&true);
    (old, changed)
}

impl Listing {
    fn empty() -> Self {
        Listing {
            stamp: None,
            links: Vec::new(),
            init: None,
            extension: false,
            entries: Vec::new(),
        }
    }
}

/// The orphans a listing of `dir` shows, in the order the entries are listed.
fn replay(
    root: &Path,
    dir: &Path,
    listing: &Listing,
    parent: Option<&ModuleName>,
    depth: usize,
    owned: &dyn Fn(&Path) -> bool,
    out: &mut Vec<Orphan>,
) {
    for node in &listing.entries {
        let path = dir.join(&node.name);
        match &node.kind {
            NodeKind::File { compiled } => {
                let Some((stem, _)) = module_file(&node.name) else {
                    continue;
                };
                if owned(&path) {
                    continue;
                }
                if let Some(module) = join(parent, stem) {
                    out.push(Orphan {
                        module,
                        path,
                        compiled: *compiled,
                        search_path: root.to_path_buf(),
                    });
                }
            }
            NodeKind::Folder(sub) => {
                let Some(module) = join(parent, &node.name) else {
                    continue;
                };
                match &sub.init {
                    Some(init) if !owned(&path.join(init)) => {
                        out.push(Orphan {
                            compiled: sub.extension,
                            module,
                            path,
                            search_path: root.to_path_buf(),
                        });
                    }
                    Some(_) => {}
                    None if depth < MAX_NAMESPACE_DEPTH => {
                        replay(root, &path, sub, Some(&module), depth + 1, owned, out);
                    }
                    None => {}
                }
            }
        }
    }
}

/// What a folder entry is to the import system, following symlinks as `FileFinder` does
/// (`_path_isfile`, `_path_isdir`: a stat of the path).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum EntryKind {
    Folder,
    /// A regular file: the only kind a module file or an `__init__` can be.
    File,
    /// A dangling symlink, a socket, a FIFO, a device: nothing imports it.
    Other,
}

/// One entry of a listed folder.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct FolderEntry {
    name: String,
    path: PathBuf,
    kind: EntryKind,
    is_link: bool,
}

/// A folder's entries in name order. Names that are not UTF-8 are left out.
fn sorted_entries(dir: &Path) -> Vec<FolderEntry> {
    let Ok(entries) = fs_err::read_dir(dir) else {
        return Vec::new();
    };
    let kind_of = |t: std::fs::FileType| {
        if t.is_dir() {
            EntryKind::Folder
        } else if t.is_file() {
            EntryKind::File
        } else {
            EntryKind::Other
        }
    };
    let mut out: Vec<FolderEntry> = entries
        .flatten()
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let path = e.path();
            // The listing's own type avoids a stat per entry; only symlinks are followed.
            let followed = || {
                path.metadata()
                    .map_or(EntryKind::Other, |m| kind_of(m.file_type()))
            };
            let (kind, is_link) = match e.file_type() {
                Ok(t) if t.is_symlink() => (followed(), true),
                Ok(t) => (kind_of(t), false),
                Err(_) => (followed(), false),
            };
            Some(FolderEntry {
                name,
                path,
                kind,
                is_link,
            })
        })
        .collect();
    out.sort();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn orphan_scan_finds_packages_modules_namespace_portions_and_symlinked_packages() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for file in [
            "real/__init__.py",
            "single.py",
            "ns/sub/__init__.py",
            "ns/readme.txt",
        ] {
            let path = root.join(file);
            fs_err::create_dir_all(path.parent().unwrap()).unwrap();
            fs_err::write(path, "").unwrap();
        }
        std::os::unix::fs::symlink(root.join("real"), root.join("linked")).unwrap();
        let mut found = Vec::new();
        find_orphans(root, &|_| false, &mut found);
        let names: Vec<&str> = found.iter().map(|o| o.module.as_str()).collect();
        assert_eq!(names, ["linked", "ns.sub", "real", "single"]);
        // A package whose __init__.py its owner placed is no orphan.
        let mut owned = Vec::new();
        find_orphans(root, &|p| p.starts_with(root.join("real")), &mut owned);
        assert!(owned.iter().all(|o| o.module.as_str() != "real"));
    }

    fn module(rel: &str) -> Option<(String, bool, bool)> {
        module_of_relative(Path::new(rel)).map(|(m, i, c)| (m.to_string(), i, c))
    }

    #[test]
    fn extension_suffixes_make_modules() {
        assert_eq!(
            module("pkg/_speed.cpython-311-x86_64-linux-gnu.so"),
            Some(("pkg._speed".into(), false, true))
        );
        assert_eq!(module("_cffi.abi3.so"), Some(("_cffi".into(), false, true)));
        assert_eq!(
            module("win.cp311-win_amd64.pyd"),
            Some(("win".into(), false, true))
        );
        assert_eq!(module("pkg/__init__.py"), Some(("pkg".into(), true, false)));
    }

    #[test]
    fn metadata_caches_stubs_and_scripts_make_no_module() {
        assert_eq!(module("x-1.0.dist-info/METADATA"), None);
        assert_eq!(module("pkg/__pycache__/m.cpython-311.pyc"), None);
        assert_eq!(module("pkg/__pycache__/m.py"), None);
        assert_eq!(module("pkg/m.pyi"), None);
        assert_eq!(module("my-dir/m.py"), None);
    }

    #[test]
    fn namespace_split_lists_each_distributions_own_packages() {
        let sp = Path::new("/sp");
        let files: Vec<PathBuf> = [
            "google/protobuf/__init__.py",
            "google/protobuf/internal/__init__.py",
            "google/protobuf/internal/x.py",
            "google/_upb/_message.abi3.so",
        ]
        .iter()
        .map(|f| sp.join(f))
        .collect();
        let (modules, compiled) = modules_of_files(&files, sp);
        let names: Vec<&str> = modules.iter().map(ModuleName::as_str).collect();
        assert_eq!(names, ["google._upb._message", "google.protobuf"]);
        assert!(compiled);
    }

    #[test]
    fn the_first_owner_wins_between_coded_and_hashed_files() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("x-1.dist-info");
        fs_err::create_dir_all(&folder).unwrap();
        let blank = crate::env::dist_info::read(&folder, dir.path(), dir.path(), &mut Vec::new());
        let sp = Path::new("/sp");
        let coded = |rels: &[&str]| {
            let coded = crate::env::files::FrontCoded::encode(rels).unwrap();
            let files = super::super::Files::from_front_coded(sp, coded.into()).unwrap();
            assert!(files.coded_tops().is_some());
            files
        };
        let mut dists = vec![blank.clone(), blank.clone(), blank.clone(), blank];
        dists[0].files = vec![sp.join("shared/a.py")].into();
        dists[1].files = coded(&["pkg/__init__.py", "pkg/m.py", "shared/a.py", "shared/b.py"]);
        dists[2].files = coded(&["pkg/m.py", "pkg2/x.py"]);
        dists[3].files = vec![sp.join("pkg2/x.py"), sp.join("pkg/n.py")].into();
        let index = FileIndex::build(&dists);
        let owner = |p: &str| index.owner(Path::new(p), &dists).map(|id| id.0);
        assert_eq!(owner("/sp/shared/a.py"), Some(0));
        assert_eq!(owner("/sp/shared/b.py"), Some(1));
        assert_eq!(owner("/sp/pkg/m.py"), Some(1));
        assert_eq!(owner("/sp/pkg2/x.py"), Some(2));
        assert_eq!(owner("/sp/pkg/n.py"), Some(3));
        assert_eq!(owner("/sp/pkg/../pkg/m.py"), Some(1));
        assert_eq!(owner("/sp/pkg"), None);
        assert_eq!(owner("/sp/pkg/"), None);
        assert_eq!(owner("/other/pkg/m.py"), None);
    }

    #[test]
    fn editable_roots_own_everything_under_them_and_files_win() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("x-1.dist-info");
        fs_err::create_dir_all(&folder).unwrap();
        let mut dist =
            crate::env::dist_info::read(&folder, dir.path(), dir.path(), &mut Vec::new());
        dist.files = vec![PathBuf::from("/src/inner/x.py")].into();
        let dists = vec![dist.clone(), dist.clone(), dist.clone(), dist];
        let mut index = FileIndex::build(&dists);
        index.insert_root(PathBuf::from("/src"), DistId(1));
        index.insert_root(PathBuf::from("/src/inner"), DistId(2));
        let owner = |p: &str| index.owner(Path::new(p), &dists);
        assert_eq!(owner("/src/a.py"), Some(DistId(1)));
        assert_eq!(owner("/src/inner/b.py"), Some(DistId(2)));
        assert_eq!(owner("/src/inner/../inner/x.py"), Some(DistId(0)));
        assert_eq!(owner("/elsewhere.py"), None);
    }
}
