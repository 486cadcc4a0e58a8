//! Finds a dotted module on disk the way CPython's `PathFinder` does, without running Python.
//!
//! For each component, the folders of the parent's `__path__` (for a top-level name, the search
//! paths) are scanned in order: the first folder holding a regular package (`name/__init__.py`)
//! or a module (`name.py`, or an extension module such as `name.cpython-311-x86_64-linux-gnu.so`,
//! `name.abi3.so`, `name.so`, `name.pyd`) wins; folders named `name` without `__init__.py` are
//! remembered as PEP 420 namespace portions and used, merged in path order, only when no path
//! holds a regular package or module (<https://peps.python.org/pep-0420/#specification>).
//! Top-level names that no search path has are then looked up in setuptools' editable finder
//! mappings, which that finder consults after the path-based search (it is appended to
//! `sys.meta_path`).
//!
//! Directory listings are read once and cached: a project imports many names from few folders.

use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::names::ModuleName;

/// Where a module was found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A `.py` file or an extension module.
    Module { file: PathBuf, compiled: bool },
    /// A regular package: its `__init__.py` and its folder.
    Package { init: PathBuf, dir: PathBuf },
    /// A namespace package: its portions, in path order.
    Namespace { dirs: Vec<PathBuf> },
}

impl Location {
    /// The file that defines the module, if it has one.
    pub fn file(&self) -> Option<&Path> {
        match self {
            Location::Module { file, .. } => Some(file),
            Location::Package { init, .. } => Some(init),
            Location::Namespace { .. } => None,
        }
    }

    fn search_dirs(&self) -> Vec<PathBuf> {
        match self {
            Location::Module { .. } => Vec::new(),
            Location::Package { dir, .. } => vec![dir.clone()],
            Location::Namespace { dirs } => dirs.clone(),
        }
    }
}

/// The result of looking a dotted name up: the longest prefix that exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Found {
    /// The name that was found: the whole name, or a prefix of it.
    pub name: ModuleName,
    pub location: Location,
    /// Whether `name` is the whole requested name.
    pub complete: bool,
}

#[derive(Debug, Default)]
pub struct Finder {
    paths: Vec<PathBuf>,
    editable: BTreeMap<String, PathBuf>,
    listings: HashMap<PathBuf, Listing>,
}

/// What one folder holds, by the module name each entry would define.
#[derive(Debug, Default)]
struct Listing {
    packages: HashMap<String, PathBuf>,
    modules: HashMap<String, (PathBuf, bool)>,
    dirs: HashMap<String, PathBuf>,
}

impl Finder {
    /// `paths` in search order; `editable` maps top-level names to a package folder or module file.
    pub fn new(paths: Vec<PathBuf>, editable: BTreeMap<String, PathBuf>) -> Self {
        Self {
            paths,
            editable,
            listings: HashMap::new(),
        }
    }

    /// Finds `name`, or the longest prefix of it that exists.
    pub fn find(&mut self, name: &ModuleName) -> Option<Found> {
        let mut components = name.components();
        let top = components.next()?;
        let paths = self.paths.clone();
        let mut location = self
            .find_in(top, &paths)
            .or_else(|| self.find_editable(top))?;
        let mut found = ModuleName::new(top)?;
        for component in components {
            let dirs = location.search_dirs();
            match self.find_in(component, &dirs) {
                Some(next) => {
                    location = next;
                    found = found.join(component)?;
                }
                None => {
                    return Some(Found {
                        name: found,
                        location,
                        complete: false,
                    });
                }
            }
        }
        Some(Found {
            name: found,
            location,
            complete: true,
        })
    }

    fn find_in(&mut self, component: &str, dirs: &[PathBuf]) -> Option<Location> {
        let mut portions = Vec::new();
        for dir in dirs {
            let listing = self.listing(dir);
            if let Some(init) = listing.packages.get(component) {
                return Some(Location::Package {
                    init: init.clone(),
                    dir: dir.join(component),
                });
            }
            if let Some((file, compiled)) = listing.modules.get(component) {
                return Some(Location::Module {
                    file: file.clone(),
                    compiled: *compiled,
                });
            }
            if let Some(portion) = listing.dirs.get(component) {
                portions.push(portion.clone());
            }
        }
        (!portions.is_empty()).then_some(Location::Namespace { dirs: portions })
    }

    fn find_editable(&mut self, top: &str) -> Option<Location> {
        let target = self.editable.get(top)?.clone();
        if target.is_dir() {
            let init = target.join("__init__.py");
            if init.is_file() {
                Some(Location::Package { init, dir: target })
            } else {
                Some(Location::Namespace { dirs: vec![target] })
            }
        } else if target.is_file() {
            let compiled = extension_stem(target.file_name()?.to_str()?).is_some();
            Some(Location::Module {
                file: target,
                compiled,
            })
        } else {
            None
        }
    }

    fn listing(&mut self, dir: &Path) -> &Listing {
        self.listings
            .entry(dir.to_path_buf())
            .or_insert_with(|| read_listing(dir))
    }
}

fn read_listing(dir: &Path) -> Listing {
    let mut listing = Listing::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return listing;
    };
    let mut names: Vec<(OsString, bool)> = entries
        .filter_map(Result::ok)
        .map(|e| {
            let is_dir = std::fs::metadata(e.path()).is_ok_and(|m| m.is_dir());
            (e.file_name(), is_dir)
        })
        .collect();
    // Sorted so that, of `a.py` and `a.cpython-311-x86_64-linux-gnu.so`, the same one wins on
    // every machine. CPython prefers extension modules over sources; so do we below.
    names.sort();
    for (name, is_dir) in names {
        let Some(name) = name.to_str() else { continue };
        let path = dir.join(name);
        if is_dir {
            if !crate::names::is_identifier(name) {
                continue;
            }
            let init = path.join("__init__.py");
            if init.is_file() {
                listing.packages.insert(name.to_string(), init);
            } else {
                listing.dirs.insert(name.to_string(), path);
            }
        } else if let Some(stem) = extension_stem(name) {
            listing.modules.insert(stem.to_string(), (path, true));
        } else if let Some(stem) = name.strip_suffix(".py")
            && crate::names::is_identifier(stem)
        {
            listing
                .modules
                .entry(stem.to_string())
                .or_insert((path, false));
        }
    }
    listing
}

/// The module name of an extension module file: `fast` for `fast.cpython-311-x86_64-linux-gnu.so`,
/// `fast.abi3.so`, `fast.so`, `fast.pyd` or `fast.cp311-win_amd64.pyd`. CPython's `FileFinder`
/// looks for `NAME` + each suffix of `importlib.machinery.EXTENSION_SUFFIXES`, so a name with
/// any other dot in it (`fast.old.so`, `libfoo.so.1`) is no module.
pub fn extension_stem(file_name: &str) -> Option<&str> {
    let base = file_name
        .strip_suffix(".so")
        .or_else(|| file_name.strip_suffix(".pyd"))?;
    let stem = match base.split_once('.') {
        None => base,
        Some((stem, tag)) if is_abi_tag(tag) => stem,
        Some(_) => return None,
    };
    crate::names::is_identifier(stem).then_some(stem)
}

/// `abi3`, `cpython-311-x86_64-linux-gnu`, `cp311-win_amd64`, `pypy310-pp73-x86_64-linux-gnu`.
fn is_abi_tag(tag: &str) -> bool {
    !tag.contains('.')
        && (tag == "abi3"
            || tag.starts_with("cpython-")
            || tag.starts_with("cp3")
            || tag.starts_with("pypy"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn touch(root: &Path, rel: &str) {
        let path = root.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, "").unwrap();
    }

    fn name(s: &str) -> ModuleName {
        ModuleName::new(s).unwrap()
    }

    #[test]
    fn namespace_portions_merge_across_paths() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        touch(&a, "google/protobuf/__init__.py");
        touch(&b, "google/api/__init__.py");
        let mut finder = Finder::new(vec![a.clone(), b.clone()], BTreeMap::new());
        let found = finder.find(&name("google.api")).unwrap();
        assert!(found.complete);
        assert_eq!(
            found.location.file(),
            Some(b.join("google/api/__init__.py").as_path())
        );
        let found = finder.find(&name("google.protobuf")).unwrap();
        assert_eq!(
            found.location.file(),
            Some(a.join("google/protobuf/__init__.py").as_path())
        );
    }

    #[test]
    fn a_regular_package_in_a_later_path_beats_an_earlier_namespace_portion() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        std::fs::create_dir_all(a.join("pkg")).unwrap();
        touch(&b, "pkg/__init__.py");
        let mut finder = Finder::new(vec![a, b.clone()], BTreeMap::new());
        let found = finder.find(&name("pkg")).unwrap();
        assert_eq!(
            found.location.file(),
            Some(b.join("pkg/__init__.py").as_path())
        );
    }

    #[test]
    fn an_earlier_regular_module_shadows_later_paths() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b) = (dir.path().join("a"), dir.path().join("b"));
        touch(&a, "six.py");
        touch(&b, "six/__init__.py");
        let mut finder = Finder::new(vec![a.clone(), b], BTreeMap::new());
        let found = finder.find(&name("six")).unwrap();
        assert_eq!(found.location.file(), Some(a.join("six.py").as_path()));
    }

    #[test]
    fn extension_modules_are_found_and_marked_compiled() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "fastops.cpython-311-x86_64-linux-gnu.so");
        touch(dir.path(), "pkg/__init__.py");
        touch(dir.path(), "pkg/_speed.abi3.so");
        let mut finder = Finder::new(vec![dir.path().to_path_buf()], BTreeMap::new());
        let found = finder.find(&name("fastops")).unwrap();
        assert!(matches!(
            found.location,
            Location::Module { compiled: true, .. }
        ));
        let found = finder.find(&name("pkg._speed")).unwrap();
        assert!(found.complete);
        assert!(matches!(
            found.location,
            Location::Module { compiled: true, .. }
        ));
    }

    #[test]
    fn a_missing_submodule_returns_the_longest_existing_prefix() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), "pkg/__init__.py");
        let mut finder = Finder::new(vec![dir.path().to_path_buf()], BTreeMap::new());
        let found = finder.find(&name("pkg.missing.deeper")).unwrap();
        assert!(!found.complete);
        assert_eq!(found.name.as_str(), "pkg");
        assert!(finder.find(&name("nothing")).is_none());
    }

    #[test]
    fn editable_mappings_are_consulted_after_the_search_paths() {
        let dir = tempfile::tempdir().unwrap();
        let site = dir.path().join("site");
        let src = dir.path().join("src");
        touch(&src, "localutils/__init__.py");
        touch(&src, "localutils/text.py");
        std::fs::create_dir_all(&site).unwrap();
        let editable = BTreeMap::from([("localutils".to_string(), src.join("localutils"))]);
        let mut finder = Finder::new(vec![site], editable);
        let found = finder.find(&name("localutils.text")).unwrap();
        assert!(found.complete);
        assert_eq!(
            found.location.file(),
            Some(src.join("localutils/text.py").as_path())
        );
    }

    #[test]
    fn extension_stems_cover_the_platform_suffixes() {
        assert_eq!(
            extension_stem("a.cpython-311-x86_64-linux-gnu.so"),
            Some("a")
        );
        assert_eq!(extension_stem("a.abi3.so"), Some("a"));
        assert_eq!(extension_stem("a.pyd"), Some("a"));
        assert_eq!(extension_stem("a.cp311-win_amd64.pyd"), Some("a"));
        assert_eq!(extension_stem("liba-1.so"), None);
        assert_eq!(extension_stem("a.so"), Some("a"));
        assert_eq!(extension_stem("a.old.so"), None);
        assert_eq!(extension_stem("liba.so.1"), None);
        assert_eq!(extension_stem("a.py"), None);
    }
}
