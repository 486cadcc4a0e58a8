//! Which folders and files the walk leaves out, beyond what `.gitignore` says.
//!
//! Files kept: `.py` and `.ipynb` sources, and compiled extension modules (`*.so`, `*.pyd`
//! named as CPython's `EXTENSION_SUFFIXES` are), which are never parsed but are the project's
//! own `binary_local` modules when imported.
//!
//! Decided per entry from its name first (no I/O), then with at most three `stat` calls for a
//! folder (`pyvenv.cfg`, `conda-meta`, `__init__.py`), and one `realpath` for a symlink.
//!
//! - Virtual environments are recognised by content, not name: a folder holding `pyvenv.cfg`
//!   (PEP 405, what `venv` and `virtualenv` write) or `conda-meta/` (every conda prefix).
//!   Pruning the folder itself prunes its whole subtree.
//! - Hidden folders (`.venv`, `.tox`, `.git`, ...) are skipped; hidden *files* are kept, since
//!   nothing about them is a cache (`.foo.py` is listed, with no module name).
//! - `build` and `dist` are skipped unless they hold an `__init__.py`: setuptools' `build/lib`
//!   copy and wheel output never have one at their top, while a package named `build` does.
//!   A namespace package named `build` (no `__init__.py`) is skipped; that is the price.
//! - A symlink is followed only when its canonical target is inside the project. The target
//!   is checked against the same name rules and excludes, component by component, so a link
//!   such as `lib -> .venv/lib/python3.12/site-packages` cannot bring a venv back in.
//!   `.gitignore` rules are not re-applied to the target (the `ignore` crate matches the path
//!   walked, not the target).

use std::ffi::OsStr;
use std::path::{Component, Path, PathBuf};
use std::sync::Mutex;

use ignore::overrides::Override;

use crate::diagnostic::{Code, Diagnostic, Severity};

pub const SYMLINK_OUTSIDE_PROJECT: Code = Code("symlink-outside-project");
pub const NON_UTF8_PATH: Code = Code("non-utf8-path");

/// Folder names skipped wherever they appear.
const SKIPPED_FOLDERS: &[&str] = &[
    "site-packages",
    "dist-packages",
    "__pycache__",
    "node_modules",
    // Also hidden, but named so the rule does not depend on the hidden-folder rule.
    ".git",
    ".hg",
    ".svn",
    ".tox",
    ".nox",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".ipynb_checkpoints",
    ".eggs",
];

/// Folder names skipped unless they hold an `__init__.py`.
const SKIPPED_UNLESS_PACKAGE: &[&str] = &["build", "dist"];

/// What a walk keeps. Shared by the walker threads; diagnostics found while filtering are
/// collected here because the `ignore` crate's filter can only answer yes or no.
pub(crate) struct Rules {
    root: PathBuf,
    excludes: Override,
    pub(crate) diagnostics: Mutex<Vec<Diagnostic>>,
}

/// What kind of entry the walker hands to [`Rules::keep`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EntryKind {
    Folder,
    File,
}

impl Rules {
    pub(crate) fn new(root: PathBuf, excludes: Override) -> Self {
        Self {
            root,
            excludes,
            diagnostics: Mutex::new(Vec::new()),
        }
    }

    /// Whether the walker should yield (a file) or descend into (a folder) `path`.
    /// `is_symlink` says the path itself is a link (already followed to find `kind`).
    pub(crate) fn keep(&self, path: &Path, kind: EntryKind, is_symlink: bool) -> bool {
        let Some(name) = path.file_name() else {
            return true;
        };
        if name.to_str().is_none() {
            self.report_non_utf8(path, name, kind);
            return false;
        }
        match kind {
            EntryKind::File if source_kind_of(name).is_none() && !is_extension_module(name) => {
                return false;
            }
            EntryKind::File => {}
            EntryKind::Folder if skipped_by_name(name) => return false,
            EntryKind::Folder => {}
        }
        if is_symlink && !self.link_target_is_kept(path, kind) {
            return false;
        }
        kind == EntryKind::File || !skipped_by_content(path, name)
    }

    /// A link is followed when its target is inside the project and is not itself (or inside)
    /// something the walk skips.
    fn link_target_is_kept(&self, link: &Path, kind: EntryKind) -> bool {
        let target = match fs_err::canonicalize(link) {
            Ok(target) => target,
            // The walker reports links it cannot follow before asking the filter; a link that
            // broke in between is simply not listed.
            Err(_) => return false,
        };
        let Ok(inside) = target.strip_prefix(&self.root) else {
            // A source file left out changes what is scanned; a folder link out of the
            // project is usually data (`data -> /mnt/datasets`), worth a note only.
            let (what, severity) = match kind {
                EntryKind::File => ("source file", Severity::Warning),
                EntryKind::Folder => ("folder", Severity::Info),
            };
            let message = format!("symbolic link to a {what} outside the project; not followed");
            self.report(
                Diagnostic::new(SYMLINK_OUTSIDE_PROJECT, severity, message)
                    .with_file(self.rel(link))
                    .with_hint("only files inside the project are scanned and shipped"),
            );
            return false;
        };
        let mut folder = self.root.clone();
        let count = inside.components().count();
        for (index, component) in inside.components().enumerate() {
            let Component::Normal(name) = component else {
                continue;
            };
            folder.push(name);
            let is_last = index + 1 == count;
            let is_folder = !is_last || kind == EntryKind::Folder;
            if is_folder && (skipped_by_name(name) || skipped_by_content(&folder, name)) {
                return false;
            }
            if self.excludes.matched(&folder, is_folder).is_ignore() {
                return false;
            }
        }
        true
    }

    /// Output names every file by a UTF-8 `rel`, so such a path cannot be listed faithfully.
    /// Reported for folders (their whole subtree is left out) and for source-like files.
    fn report_non_utf8(&self, path: &Path, name: &OsStr, kind: EntryKind) {
        let bytes = name.as_encoded_bytes();
        let what = match kind {
            EntryKind::Folder => "folder",
            EntryKind::File if bytes.ends_with(b".py") || bytes.ends_with(b".ipynb") => "file",
            EntryKind::File => return,
        };
        self.report(
            Diagnostic::warning(
                NON_UTF8_PATH,
                format!("{what} name is not valid UTF-8; skipped"),
            )
            .with_file(self.rel(path)),
        );
    }

    fn report(&self, diagnostic: Diagnostic) {
        // A poisoned lock means another walker thread panicked; keep its diagnostics anyway.
        let mut diagnostics = self
            .diagnostics
            .lock()
            .unwrap_or_else(|poison| poison.into_inner());
        diagnostics.push(diagnostic);
    }

    pub(crate) fn rel(&self, path: &Path) -> String {
        rel_path(&self.root, path)
    }
}

/// `path` relative to `root` with forward slashes (lossy for names that are not UTF-8).
pub(crate) fn rel_path(root: &Path, path: &Path) -> String {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut rel = String::new();
    for component in relative.components() {
        if let Component::Normal(part) = component {
            if !rel.is_empty() {
                rel.push('/');
            }
            rel.push_str(&part.to_string_lossy());
        }
    }
    rel
}

/// `.py` and `.ipynb` files are sources; `.pyi` stubs and everything else are not.
pub(crate) fn source_kind_of(name: &OsStr) -> Option<super::SourceKind> {
    let name = name.to_str()?;
    if name.ends_with(".py") {
        Some(super::SourceKind::Python)
    } else if name.ends_with(".ipynb") {
        Some(super::SourceKind::Notebook)
    } else {
        None
    }
}

/// A compiled extension module (`fastops.cpython-311-x86_64-linux-gnu.so`, `fastops.abi3.so`,
/// `fastops.so`, `fastops.pyd`): not parsed, but the project's own `binary_local` module.
pub(crate) fn is_extension_module(name: &OsStr) -> bool {
    name.to_str()
        .is_some_and(|name| crate::resolve::finder::extension_stem(name).is_some())
}

fn skipped_by_name(name: &OsStr) -> bool {
    let Some(name) = name.to_str() else {
        return true;
    };
    name.starts_with('.') || SKIPPED_FOLDERS.contains(&name) || name.ends_with(".egg-info")
}

/// Rules that need to look inside the folder.
fn skipped_by_content(folder: &Path, name: &OsStr) -> bool {
    if folder.join("pyvenv.cfg").is_file() || folder.join("conda-meta").is_dir() {
        return true;
    }
    let is_build_output = name
        .to_str()
        .is_some_and(|name| SKIPPED_UNLESS_PACKAGE.contains(&name));
    is_build_output && !folder.join("__init__.py").is_file()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_for(root: &Path) -> Rules {
        Rules::new(root.to_path_buf(), Override::empty())
    }

    fn keeps_folder(root: &Path, rel: &str) -> bool {
        let path = root.join(rel);
        fs_err::create_dir_all(&path).unwrap();
        rules_for(root).keep(&path, EntryKind::Folder, false)
    }

    #[test]
    fn folders_holding_pyvenv_cfg_or_conda_meta_are_skipped_whatever_their_name() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("my-env")).unwrap();
        fs_err::write(dir.path().join("my-env/pyvenv.cfg"), "home = /usr\n").unwrap();
        fs_err::create_dir_all(dir.path().join("miniconda/conda-meta")).unwrap();
        assert!(!keeps_folder(dir.path(), "my-env"));
        assert!(!keeps_folder(dir.path(), "miniconda"));
        assert!(keeps_folder(dir.path(), "plain"));
    }

    #[test]
    fn build_folder_is_skipped_unless_it_is_a_package() {
        let dir = tempfile::tempdir().unwrap();
        assert!(!keeps_folder(dir.path(), "build"));
        assert!(!keeps_folder(dir.path(), "pkg/dist"));
        fs_err::create_dir_all(dir.path().join("tools/build")).unwrap();
        fs_err::write(dir.path().join("tools/build/__init__.py"), "").unwrap();
        assert!(keeps_folder(dir.path(), "tools/build"));
    }

    #[test]
    fn caches_hidden_folders_and_egg_info_are_skipped_by_name() {
        let dir = tempfile::tempdir().unwrap();
        for rel in [
            "node_modules",
            "a/__pycache__",
            ".hidden",
            "proj.egg-info",
            "lib/site-packages",
            "lib/dist-packages",
        ] {
            assert!(!keeps_folder(dir.path(), rel), "{rel} should be skipped");
        }
    }

    #[test]
    fn only_py_and_ipynb_files_are_sources() {
        assert_eq!(
            source_kind_of(OsStr::new("a.py")),
            Some(super::super::SourceKind::Python)
        );
        assert_eq!(
            source_kind_of(OsStr::new("n.ipynb")),
            Some(super::super::SourceKind::Notebook)
        );
        assert_eq!(source_kind_of(OsStr::new("a.pyi")), None);
        assert_eq!(source_kind_of(OsStr::new("a.pyc")), None);
        assert_eq!(source_kind_of(OsStr::new("README.md")), None);
    }

    #[test]
    fn rel_paths_use_forward_slashes_and_drop_the_root() {
        let root = Path::new("/p/proj");
        assert_eq!(rel_path(root, Path::new("/p/proj/src/a.py")), "src/a.py");
        assert_eq!(rel_path(root, root), "");
    }
}
