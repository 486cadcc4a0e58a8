//! Local code that travels as archives: the project's own modules, the source trees of local
//! distributions with compiled parts (built on the target), and pure-Python modules on the
//! search path that nothing owns.
//!
//! Each source is a folder plus the top-level entries (package folders, module files) to take
//! from it, and the folder it is unpacked to in the image, which goes on `PYTHONPATH`.

use std::path::{Path, PathBuf};

use crate::analysis::Analysis;
use crate::emit::plan::APP_ROOT;
use crate::local_dists::{LocalDist, Travel};

/// Where sources other than the project are unpacked.
pub const VENDOR_ROOT: &str = "/opt/envscan";

/// Where the source trees of local distributions built on the target are unpacked.
pub const BUILD_ROOT: &str = "/opt/envscan/build";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LocalSource {
    /// `project`, a distribution name, or `orphans-<n>` for unowned modules of search path n.
    pub name: String,
    /// The folder the members are taken from.
    pub root: PathBuf,
    /// Top-level entries relative to `root`, forward slashes, sorted.
    pub members: Vec<String>,
    /// Relative to the project, or `<name>` when it lies outside (no absolute paths in outputs).
    pub label: String,
    /// Where the archive is unpacked in the image.
    pub destination: String,
    /// The folders to put on PYTHONPATH, most specific first.
    pub python_path: Vec<String>,
    pub compiled: bool,
    /// Installed with `pip install --no-deps` after unpacking (a local distribution's source
    /// tree), not put on PYTHONPATH.
    pub builds: bool,
}

/// Every local source of the analysis, the project first. Local distributions travel as
/// wheels in the lock ([`crate::local_dists`]); only those built on the target are sources
/// here, their source tree unpacked and installed by the plan's `build_local` step.
pub fn local_sources(analysis: &Analysis, dists: &[LocalDist]) -> Vec<LocalSource> {
    let project_root = &analysis.project.root;
    let mut sources = vec![project_source(analysis)];
    for dist in dists {
        let Travel::Build { tree, members } = &dist.travel else {
            continue;
        };
        sources.push(LocalSource {
            name: dist.name.to_string(),
            label: label(project_root, tree, dist.name.as_str()),
            root: tree.clone(),
            members: members.clone(),
            python_path: Vec::new(),
            destination: format!("{BUILD_ROOT}/{}", dist.name),
            compiled: true,
            builds: true,
        });
    }
    for orphan in analysis.orphans.iter().filter(|o| !o.compiled) {
        // Packed from the search-path folder that holds it, so that `google/mine.py` keeps
        // its place under the `google` namespace.
        let Some(search_path) = analysis
            .env
            .search_paths
            .iter()
            .map(|p| p.path.as_path())
            .filter(|p| orphan.path.starts_with(p))
            .max_by_key(|p| p.as_os_str().len())
        else {
            continue;
        };
        let Ok(member) = orphan.path.strip_prefix(search_path) else {
            continue;
        };
        let member = member.to_string_lossy().replace('\\', "/");
        let name = format!("orphans-{}", source_suffix(search_path, analysis));
        match sources.iter_mut().find(|s| s.name == name) {
            Some(source) => {
                source.members.push(member);
                source.members.sort();
                source.members.dedup();
            }
            None => {
                let destination = format!("{VENDOR_ROOT}/{name}");
                sources.push(LocalSource {
                    label: label(project_root, search_path, &name),
                    root: search_path.to_path_buf(),
                    members: vec![member],
                    python_path: vec![destination.clone()],
                    destination,
                    name,
                    compiled: false,
                    builds: false,
                });
            }
        }
    }
    sources
}

/// A stable name for a search-path folder: its position among the environment's search paths.
fn source_suffix(search_path: &Path, analysis: &Analysis) -> usize {
    analysis
        .env
        .search_paths
        .iter()
        .position(|p| p.path == search_path)
        .unwrap_or(0)
}

/// The project's import roots and the top-level entries its files live in.
fn project_source(analysis: &Analysis) -> LocalSource {
    let roots = &analysis.scan.roots;
    let mut members: Vec<String> = analysis
        .scan
        .files
        .iter()
        .map(|file| {
            // The most specific root holding the file names its top-level entry.
            let root = roots
                .iter()
                .find(|r| r.rel.is_empty() || file.rel.starts_with(&format!("{}/", r.rel)));
            let under = match root {
                Some(r) if !r.rel.is_empty() => &file.rel[r.rel.len() + 1..],
                _ => file.rel.as_str(),
            };
            let top = under.split('/').next().unwrap_or(under);
            match root {
                Some(r) if !r.rel.is_empty() => format!("{}/{top}", r.rel),
                _ => top.to_string(),
            }
        })
        .collect();
    members.sort();
    members.dedup();
    let python_path = roots
        .iter()
        .map(|r| {
            if r.rel.is_empty() {
                APP_ROOT.to_string()
            } else {
                format!("{APP_ROOT}/{}", r.rel)
            }
        })
        .collect();
    LocalSource {
        name: "project".to_string(),
        root: analysis.project.root.clone(),
        members,
        label: ".".to_string(),
        destination: APP_ROOT.to_string(),
        python_path,
        compiled: false,
        builds: false,
    }
}

fn label(project_root: &Path, folder: &Path, name: &str) -> String {
    match folder.strip_prefix(project_root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.to_string_lossy().replace('\\', "/"),
        Err(_) => format!("<{name}>"),
    }
}
