//! Builds the [`Environment`] of a located interpreter: search paths, distributions (read in
//! parallel), conda records, kinds, the file index and orphans.
//!
//! Duplicates: two metadata folders for one name. The one on the earlier search path wins,
//! as `importlib.metadata` and pip take the first; within one folder (where the listing
//! order Python sees is the filesystem's) the higher version wins, then the folder name.
//! The other is reported. Folders starting with `~` are pip's leftovers of an interrupted
//! install or uninstall: reported, never read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;

use super::editable::{self, EditableFinder};
use super::file_index::{self, FileIndex};
use super::{
    DistId, Distribution, Environment, Interpreter, SearchPath, SearchPathKind, conda, dist_info,
    egg_info, kind, layout, pth,
};
use crate::cache::env::{self as env_cache, EnvCache};
use crate::diagnostic::{self, Code, Diagnostic};
use crate::names::ModuleName;

pub const SITE_PACKAGES_MISSING: Code = Code("site-packages-missing");
pub const DUPLICATE_DISTRIBUTION: Code = Code("duplicate-distribution");
pub const PIP_LEFTOVER: Code = Code("pip-leftover");
pub const STDLIB_MISSING: Code = Code("stdlib-missing");

/// A metadata folder to read.
struct Candidate {
    path: PathBuf,
    /// The search-path folder it sits in.
    folder: PathBuf,
    /// The prefix RECORD entries must stay inside.
    prefix: PathBuf,
    /// Index of its search path.
    order: usize,
}

/// Site-packages folders with the prefix each belongs to.
fn site_packages(python: &Interpreter, lib_dir: &str) -> Vec<(PathBuf, PathBuf)> {
    let mut out: Vec<(PathBuf, PathBuf)> = layout::site_packages_folders(&python.prefix, lib_dir)
        .into_iter()
        .map(|sp| (sp, python.prefix.clone()))
        .collect();
    if python.include_system_site_packages && python.base_prefix != python.prefix {
        for sp in layout::site_packages_folders(&python.base_prefix, lib_dir) {
            if !out.iter().any(|(s, _)| *s == sp) {
                out.push((sp, python.base_prefix.clone()));
            }
        }
    }
    out
}

pub(super) fn build(
    python: Interpreter,
    mut diagnostics: Vec<Diagnostic>,
    cache_dir: Option<&Path>,
) -> Environment {
    // The cache file (read and decoded: the largest step of a warm run) is opened on a
    // thread of its own while site-packages is listed and its .pth files are read.
    let opening = cache_dir.map(|dir| {
        let (dir, prefix) = (dir.to_path_buf(), python.prefix.clone());
        std::thread::spawn(move || EnvCache::open(&dir, &prefix))
    });
    let lib_dir = layout::lib_dirname(&python.implementation, python.major, python.minor);
    let mut search_paths: Vec<SearchPath> = Vec::new();
    let push = |paths: &mut Vec<SearchPath>, path: PathBuf, kind, from_pth: Option<PathBuf>| {
        if !paths.iter().any(|p| p.path == path) {
            paths.push(SearchPath {
                path,
                kind,
                from_pth,
            });
        }
    };
    let (stdlib, dynload) = layout::stdlib_folders(&python.base_prefix, &lib_dir);
    if stdlib.is_none() {
        diagnostics.push(Diagnostic::info(
            STDLIB_MISSING,
            format!(
                "no standard library under the base prefix {}; the base interpreter is not on \
                 this machine",
                python.base_prefix.display()
            ),
        ));
    }
    if let Some(stdlib) = stdlib {
        push(&mut search_paths, stdlib, SearchPathKind::Stdlib, None);
    }
    if let Some(dynload) = dynload {
        push(&mut search_paths, dynload, SearchPathKind::LibDynload, None);
    }
    let site_packages = site_packages(&python, &lib_dir);
    if site_packages.is_empty() {
        diagnostics.push(
            Diagnostic::warning(
                SITE_PACKAGES_MISSING,
                format!(
                    "no site-packages folder for {lib_dir} under {}",
                    python.prefix.display()
                ),
            )
            .with_hint("is this the right interpreter? pass --python"),
        );
    }
    let mut prefix_of_path: HashMap<PathBuf, PathBuf> = HashMap::new();
    let mut pth_files = Vec::new();
    let mut finders: Vec<EditableFinder> = Vec::new();
    let mut egg_links = Vec::new();
    // Each site-packages folder listed once, for its .pth files, egg-links and metadata.
    let mut listed: HashMap<PathBuf, pth::Entries> = HashMap::new();
    for (sp, prefix) in &site_packages {
        let entries = listed
            .entry(sp.clone())
            .or_insert_with(|| pth::list_entries(sp));
        push(
            &mut search_paths,
            sp.clone(),
            SearchPathKind::SitePackages,
            None,
        );
        prefix_of_path.insert(sp.clone(), prefix.clone());
        for file in pth::read_folder(sp, entries, &mut diagnostics) {
            for path in &file.paths {
                push(
                    &mut search_paths,
                    path.clone(),
                    SearchPathKind::Pth,
                    Some(file.file.clone()),
                );
                prefix_of_path
                    .entry(path.clone())
                    .or_insert_with(|| prefix.clone());
            }
            for (_, line) in &file.imports {
                if let Some(finder) = editable::read_finder(sp, &file.file, line, &mut diagnostics)
                {
                    finders.push(finder);
                }
            }
            pth_files.push(file);
        }
        egg_links.extend(pth::egg_links(sp, entries, &mut diagnostics));
    }

    // Metadata folders on every site-packages and .pth folder, plus egg-link targets.
    let mut candidates: Vec<Candidate> = Vec::new();
    for (order, search_path) in search_paths.iter().enumerate() {
        if !search_path.holds_packages() {
            continue;
        }
        let prefix = prefix_of_path
            .get(&search_path.path)
            .cloned()
            .unwrap_or_else(|| python.prefix.clone());
        let entries = listed
            .remove(&search_path.path)
            .unwrap_or_else(|| pth::list_entries(&search_path.path));
        list_metadata(
            &search_path.path,
            entries,
            &prefix,
            order,
            &mut candidates,
            &mut diagnostics,
        );
    }
    for link in &egg_links {
        if !search_paths.iter().any(|s| s.path == link.target) {
            list_metadata(
                &link.target,
                pth::list_entries(&link.target),
                &python.prefix,
                usize::MAX,
                &mut candidates,
                &mut diagnostics,
            );
        }
    }

    // The dist-info folders' keys are stamped while the cache thread decodes the file: the
    // stats are most of a warm run's reading.
    let dist_info_dir = |c: &Candidate| c.path.extension().is_some_and(|e| e == "dist-info");
    let mut keys: Vec<Option<env_cache::DistKey>> = Vec::new();
    if opening.is_some() {
        let stamper = env_cache::Stamper::new(candidates.iter().map(|c| c.folder.as_path()));
        candidates
            .par_iter()
            .map(|c| {
                dist_info_dir(c)
                    .then(|| stamper.key(&c.path, &c.folder, &c.prefix))
                    .flatten()
            })
            .collect_into_vec(&mut keys);
    }
    keys.resize_with(candidates.len(), || None);
    let mut cache = opening.and_then(|handle| handle.join().ok());
    if let Some(cache) = &mut cache {
        let searched: Vec<&Path> = search_paths
            .iter()
            .filter(|s| s.holds_packages())
            .map(|s| s.path.as_path())
            .collect();
        cache.refresh_listings(&searched);
    }

    // Two vectors filled in place: a distribution is 700 bytes, and every copy of 400 of them
    // into fresh memory is page faults a warm run can see.
    let (all, read_diagnostics): (Vec<(Distribution, usize)>, Vec<Vec<Diagnostic>>) = candidates
        .par_iter()
        .zip(keys)
        .map(|(c, key)| {
            let is_dist_info = dist_info_dir(c);
            let read = |diags: &mut Vec<Diagnostic>| {
                if is_dist_info {
                    dist_info::read(&c.path, &c.folder, &c.prefix, diags)
                } else {
                    egg_info::read(&c.path, &c.folder, &c.prefix, diags)
                }
            };
            let (dist, diags) = match &cache {
                Some(cache) if is_dist_info => cache.get_or_read(key, &c.path, &c.folder, read),
                _ => {
                    let mut diags = Vec::new();
                    let mut dist = read(&mut diags);
                    env_cache::fill_modules(&mut dist);
                    (dist, diags)
                }
            };
            ((dist, c.order), diags)
        })
        .unzip();
    diagnostics.extend(read_diagnostics.into_iter().flatten());
    let mut distributions = dedupe(all, &mut diagnostics);

    let conda_meta = conda::read(&python.prefix, &mut diagnostics);
    for dist in &mut distributions {
        dist.conda = conda_meta
            .owner_of_metadata_dir(&dist.metadata_dir)
            .cloned();
    }

    let mut index = FileIndex::build(&distributions);

    // Editable evidence: .pth path lines, finders and egg-links owned by a distribution.
    let mut evidence: Vec<Vec<PathBuf>> = vec![Vec::new(); distributions.len()];
    let mut mapped: Vec<Vec<String>> = vec![Vec::new(); distributions.len()];
    for file in &pth_files {
        // A path inside the environment (pywin32's `win32` folders) is not a source tree.
        if let Some(id) = index.owner(&file.file, &distributions) {
            evidence[id.0].extend(
                file.paths
                    .iter()
                    .filter(|p| {
                        !p.starts_with(&python.prefix) && !p.starts_with(&python.base_prefix)
                    })
                    .cloned(),
            );
        }
    }
    for finder in &finders {
        let owner = index
            .owner(&finder.file, &distributions)
            .or_else(|| index.owner(&finder.pth, &distributions));
        if let Some(id) = owner {
            evidence[id.0].extend(finder.mapping.values().cloned());
            evidence[id.0].extend(finder.namespaces.values().flatten().cloned());
            mapped[id.0].extend(finder.mapping.keys().cloned());
        }
    }
    for link in &egg_links {
        let owner = distributions.iter().position(|d| {
            d.metadata_dir.parent() == Some(link.target.as_path()) || d.site_packages == link.target
        });
        if let Some(i) = owner {
            evidence[i].push(link.target.clone());
        }
    }

    for (i, dist) in distributions.iter_mut().enumerate() {
        let roots = std::mem::take(&mut evidence[i]);
        dist.kind = kind::classify(dist, !roots.is_empty(), &mut diagnostics);
        // The modules its files make were filled when it was read.
        let mut modules = std::mem::take(&mut dist.modules);
        for name in &mapped[i] {
            if let Some(module) = crate::names::ModuleName::new(name) {
                modules.push(module);
            }
        }
        dist.editable_roots = roots;
        if dist.editable_roots.is_empty()
            && dist.kind == super::DistKind::Editable
            && let Some(path) = dist.direct_url.as_ref().and_then(|u| u.local_path())
        {
            dist.editable_roots.push(path);
        }
        dist.editable_roots.sort();
        dist.editable_roots.dedup();
        modules.sort();
        modules.dedup();
        dist.modules = modules;
    }
    for (i, dist) in distributions.iter().enumerate() {
        if matches!(dist.kind, super::DistKind::Editable | super::DistKind::Path) {
            for root in &dist.editable_roots {
                index.insert_root(root.clone(), DistId(i));
            }
        }
    }
    // Modules of editable installs that put a folder on the path: that folder's top level.
    let folder_modules: Vec<(usize, Vec<crate::names::ModuleName>)> = distributions
        .iter()
        .enumerate()
        .filter(|(_, d)| d.kind == super::DistKind::Editable)
        .map(|(i, d)| {
            let mut found = Vec::new();
            for root in &d.editable_roots {
                if search_paths.iter().any(|s| s.path == *root) {
                    let mut listed = Vec::new();
                    file_index::find_orphans(root, &|_| false, &mut listed);
                    // A project folder on the path also holds `setup.py`, `conftest.py`...:
                    // top_level.txt, when there is one, says which names are the package's.
                    found.extend(listed.into_iter().map(|o| o.module).filter(|m| {
                        d.top_level.is_empty() || d.top_level.iter().any(|t| t == m.top_level())
                    }));
                }
            }
            (i, found)
        })
        .collect();
    for (i, found) in folder_modules {
        let dist = &mut distributions[i];
        dist.modules.extend(found);
        dist.modules.sort();
        dist.modules.dedup();
    }

    collapse_namespace_portions(&mut distributions);

    let mut orphans = Vec::new();
    for search_path in &search_paths {
        if search_path.holds_packages() {
            let owned = |p: &Path| index.owner(p, &distributions).is_some();
            match &mut cache {
                Some(cache) => cache.find_orphans(&search_path.path, &owned, &mut orphans),
                None => file_index::find_orphans(&search_path.path, &owned, &mut orphans),
            }
        }
    }
    if let Some(cache) = cache {
        cache.save();
    }
    orphans.sort();
    orphans.dedup_by(|a, b| a.path == b.path);

    diagnostic::sort(&mut diagnostics);
    Environment {
        python,
        search_paths,
        distributions,
        orphans,
        editable_finders: finders,
        diagnostics,
        index,
    }
}

/// Lists the metadata folders of one search-path folder, from its `entries`; `~` leftovers
/// are reported.
fn list_metadata(
    folder: &Path,
    entries: pth::Entries,
    prefix: &Path,
    order: usize,
    out: &mut Vec<Candidate>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for (name, file_type) in entries {
        let Ok(name) = name.into_string() else {
            continue;
        };
        let is_metadata = name.ends_with(".dist-info") || name.ends_with(".egg-info");
        let is_egg = name.ends_with(".egg");
        if !is_metadata && !is_egg {
            continue;
        }
        let path = folder.join(&name);
        // The listing's own file type spares a stat per entry; symlinks are followed.
        let is_dir = match file_type {
            Some(t) if !t.is_symlink() => t.is_dir(),
            _ => path.is_dir(),
        };
        if name.starts_with('~') {
            diagnostics.push(
                Diagnostic::warning(
                    PIP_LEFTOVER,
                    "leftover of an interrupted pip install or uninstall; ignored",
                )
                .with_file(path.display().to_string())
                .with_hint("delete it"),
            );
            continue;
        }
        // An `.egg-info` may be a distutils file; the others must be folders.
        if is_dir || name.ends_with(".egg-info") {
            out.push(Candidate {
                path,
                folder: folder.to_path_buf(),
                prefix: prefix.to_path_buf(),
                order,
            });
        }
    }
}

/// One distribution per name, sorted by name; the losers are reported.
fn dedupe(
    mut all: Vec<(Distribution, usize)>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Distribution> {
    all.sort_by(|(a, ao), (b, bo)| {
        a.name
            .cmp(&b.name)
            .then(ao.cmp(bo))
            .then_with(|| b.parsed_version.cmp(&a.parsed_version))
            .then_with(|| a.metadata_dir.cmp(&b.metadata_dir))
    });
    let mut out: Vec<Distribution> = Vec::with_capacity(all.len());
    for (dist, _) in all {
        if let Some(winner) = out.last().filter(|w| w.name == dist.name) {
            // setuptools leaves `x.egg-info` in the source folder of an editable install:
            // the same version, found again on the path. Worth knowing, not a warning.
            let leftover = dist.format == super::MetadataFormat::EggInfo
                && winner.format == super::MetadataFormat::DistInfo
                && dist.version == winner.version;
            let severity = if leftover {
                crate::diagnostic::Severity::Info
            } else {
                crate::diagnostic::Severity::Warning
            };
            diagnostics.push(
                Diagnostic::new(
                    DUPLICATE_DISTRIBUTION,
                    severity,
                    format!(
                        "{} {} is shadowed by {} {} in {}",
                        dist.display_name,
                        dist.version,
                        winner.display_name,
                        winner.version,
                        winner.metadata_dir.display()
                    ),
                )
                .with_file(dist.metadata_dir.display().to_string())
                .with_hint("remove the stale metadata folder"),
            );
            continue;
        }
        out.push(dist);
    }
    out
}

/// A distribution that alone fills a namespace folder below the top level lists that folder
/// instead of every module in it: googleapis-common-protos provides `google.api`, not
/// `google.api.http_pb2`, `google.api.label_pb2`, ... The top level stays split
/// (`google.protobuf`, not `google`) because a top-level namespace is shared by design.
fn collapse_namespace_portions(distributions: &mut [Distribution]) {
    use std::collections::{BTreeMap, BTreeSet};
    let mut contributors: BTreeMap<ModuleName, BTreeSet<usize>> = BTreeMap::new();
    for (i, dist) in distributions.iter().enumerate() {
        for module in &dist.modules {
            for ancestor in module.ancestors().skip(1) {
                contributors.entry(ancestor).or_default().insert(i);
            }
        }
    }
    for (i, dist) in distributions.iter_mut().enumerate() {
        let mut modules: Vec<ModuleName> = dist
            .modules
            .iter()
            .map(|module| {
                let mut ancestors: Vec<ModuleName> = module.ancestors().skip(1).collect();
                ancestors.reverse();
                ancestors
                    .into_iter()
                    .filter(|a| a.components().count() >= 2)
                    .find(|a| {
                        contributors
                            .get(a)
                            .is_some_and(|c| c.len() == 1 && c.contains(&i))
                    })
                    .unwrap_or_else(|| module.clone())
            })
            .collect();
        modules.sort();
        modules.dedup();
        dist.modules = modules;
    }
}
