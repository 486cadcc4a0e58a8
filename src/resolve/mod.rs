//! resolve: each external import (not the project's, not the standard library) to the file
//! that defines it on the target environment's search path, and that file to its owner.
//!
//! The search runs over the environment's site-packages folders and the paths their `.pth`
//! files add, in Python's order ([`finder`]), by full dotted name: `google.protobuf` and
//! `google.api` are different files owned by different distributions. `from a import b` tries
//! the submodule `a.b` first, then `a`. A file no distribution's RECORD lists is an orphan
//! (a `.so` dropped into site-packages, a module on a `.pth` path).

pub mod finder;
pub mod stdlib;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::env::Environment;
use crate::graph::ImportClass;
use crate::names::{ModuleName, PackageName};
use crate::parse::ImportSite;
use crate::scan::ProjectScan;

use finder::{Finder, Location};

/// What an imported name turned out to be.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    /// A file (or namespace portion) that this distribution installed.
    Distribution(PackageName),
    /// A module on the search path that no distribution owns.
    Orphan { path: PathBuf, compiled: bool },
    /// Nothing on the search path provides it.
    Unresolved,
}

/// One imported module name and every site that imports it.
#[derive(Clone, Debug)]
pub struct ResolvedImport {
    /// The name as imported (for `from a import b`, `a.b` when that is a module, else `a`).
    pub module: ModuleName,
    /// The defining file, when there is one.
    pub file: Option<PathBuf>,
    pub target: Target,
    pub sites: Vec<ImportSite>,
}

/// Resolves every external import of the scan that `keep` accepts. Sorted by module name.
pub fn resolve_imports(
    scan: &ProjectScan,
    env: &Environment,
    keep: impl Fn(&ImportSite) -> bool,
) -> Vec<ResolvedImport> {
    let paths: Vec<PathBuf> = env
        .search_paths
        .iter()
        .filter(|p| p.holds_packages())
        .map(|p| p.path.clone())
        .collect();
    let editable = env
        .editable_mappings()
        .into_iter()
        .map(|(name, path)| (name.to_string(), path.to_path_buf()))
        .collect();
    let mut finder = Finder::new(paths, editable);
    let mut by_module: BTreeMap<ModuleName, ResolvedImport> = BTreeMap::new();
    for (index, site) in scan.imports.iter().enumerate() {
        if scan.graph.class_of(index) != ImportClass::External || !keep(site) {
            continue;
        }
        let (module, location) = locate(&mut finder, site);
        let entry = by_module.entry(module.clone()).or_insert_with(|| {
            let (file, target) = match &location {
                Some(location) => (location.file().map(Path::to_path_buf), owner(env, location)),
                None => (None, Target::Unresolved),
            };
            ResolvedImport {
                module,
                file,
                target,
                sites: Vec::new(),
            }
        });
        entry.sites.push(site.clone());
    }
    by_module.into_values().collect()
}

/// The module a site names and where it is: `a.b` for `from a import b` when that exists.
fn locate(finder: &mut Finder, site: &ImportSite) -> (ModuleName, Option<Location>) {
    if let Some(member) = site.member.as_deref().and_then(|m| site.module.join(m))
        && let Some(found) = finder.find(&member)
        && found.complete
    {
        return (member, Some(found.location));
    }
    match finder.find(&site.module) {
        // A missing submodule of an installed package still needs that package.
        Some(found) => (site.module.clone(), Some(found.location)),
        None => (site.module.clone(), None),
    }
}

fn owner(env: &Environment, location: &Location) -> Target {
    match location {
        Location::Module { file, compiled } => match env.owner_of_file(file) {
            Some(dist) => Target::Distribution(dist.name.clone()),
            None => Target::Orphan {
                path: file.clone(),
                compiled: *compiled,
            },
        },
        Location::Package { init, dir } => match env.owner_of_file(init) {
            Some(dist) => Target::Distribution(dist.name.clone()),
            None => Target::Orphan {
                path: dir.clone(),
                compiled: has_extension_modules(dir),
            },
        },
        // A bare namespace package: owned by whoever installed files in its first portion.
        Location::Namespace { dirs } => dirs
            .iter()
            .find_map(|dir| first_owned_file(env, dir))
            .map_or(Target::Unresolved, Target::Distribution),
    }
}

/// The owner of the first file (in sorted order) under `dir` that some RECORD lists. The walk
/// does not follow symlinks, so a link loop in site-packages cannot make it recurse forever.
fn first_owned_file(env: &Environment, dir: &Path) -> Option<PackageName> {
    ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .sort_by_file_path(|a, b| a.cmp(b))
        .build()
        .filter_map(Result::ok)
        .filter(|e| e.file_type().is_some_and(|t| t.is_file()))
        .find_map(|e| env.owner_of_file(e.path()).map(|d| d.name.clone()))
}

fn has_extension_modules(dir: &Path) -> bool {
    ignore::WalkBuilder::new(dir)
        .standard_filters(false)
        .build()
        .filter_map(Result::ok)
        .any(|e| {
            e.file_name()
                .to_str()
                .is_some_and(|name| finder::extension_stem(name).is_some())
        })
}
