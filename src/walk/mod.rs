//! walk: the project's Python files and notebooks, and the extension modules built among them.
//!
//! Honours `.gitignore`, `.ignore` and `.git/info/exclude` (the `ignore` crate, inside and
//! outside a git repository), skips virtual environments (any folder holding `pyvenv.cfg` or
//! `conda-meta`), `site-packages`, `__pycache__`, `.git`, `node_modules`, build caches, hidden
//! folders and the configured excludes (see [`rules`]). Symlinks are followed only while they
//! stay inside the project. File contents and sizes are not looked at: the parse stage does.
//!
//! Each file is named by its dotted module name under the project's import roots: the
//! configured `roots`, a `src/` layout, and the project folder itself; the most specific
//! root that contains a file names it (see [`roots`]).
//!
//! Decisions:
//! - A parent folder's `.gitignore` counts only when the project is inside a git repository
//!   (a `.git` in the project or above), and only up to that repository's top, as git does.
//!   Outside a repository only the project's own ignore files count, so a stray
//!   `~/.gitignore` cannot hide a project's files.
//! - The user's global gitignore (`core.excludesFile`) is not read: the same checkout lists
//!   the same files on every machine, which a lock made in CI depends on.
//! - `exclude` globs are gitignore-style, relative to the project (`tests/data`, `/scratch`,
//!   `*_pb2.py`); a glob starting with `!` is refused, since it would un-ignore everything.
//! - A file reached through several paths (an in-project symlink) is listed once, under a
//!   path without symlinks when there is one, otherwise under the first path in sorted order.
//! - The walk runs on `ignore`'s parallel walker: each thread records what it finds into a
//!   list of its own, and the lists are merged and sorted afterwards (`walk_in_parallel`), so
//!   the threads' order leaves no trace in any output.

pub(crate) mod ignore_files;
mod problems;
mod roots;
mod rules;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use ignore::overrides::{Override, OverrideBuilder};
use ignore::{DirEntry, ParallelVisitor, ParallelVisitorBuilder, WalkBuilder, WalkState};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic};
use crate::names::ModuleName;
use crate::settings::ScanSettings;

pub use problems::{INVALID_IGNORE_FILE, SYMLINK_LOOP, UNREADABLE_PATH};
pub use roots::{IMPORT_ROOT_MISSING, IMPORT_ROOT_OUTSIDE_PROJECT};
pub use rules::{NON_UTF8_PATH, SYMLINK_OUTSIDE_PROJECT};

use ignore_files::IgnoreFiles;
use rules::{EntryKind, Rules, is_extension_module, source_kind_of};

pub const INVALID_EXCLUDE: Code = Code("invalid-exclude");

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    Python,
    Notebook,
}

/// One file to parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceFile {
    /// Where to read it (may be a path through an in-project symlink).
    pub path: PathBuf,
    /// Relative to the project folder, forward slashes: how every output names it.
    pub rel: String,
    pub kind: SourceKind,
    /// Its module name under the import root that holds it; `None` for files whose path is not
    /// importable (`scripts/my-tool.py`, notebooks).
    pub module: Option<ModuleName>,
    /// `__init__.py`: relative imports resolve against the module itself, not its parent.
    pub is_package: bool,
}

/// A folder whose contents are importable by module name.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct ImportRoot {
    /// Relative to the project folder, forward slashes; `""` for the project folder itself.
    pub rel: String,
    pub path: PathBuf,
}

/// A compiled extension module in the project (built in place, as `setup.py build_ext
/// --inplace` or `pip install -e` leave them): never parsed, never packed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExtensionFile {
    pub path: PathBuf,
    /// Relative to the project folder, forward slashes.
    pub rel: String,
    /// Its module name under the import root that holds it, as for [`SourceFile::module`].
    pub module: Option<ModuleName>,
}

#[derive(Debug, Default)]
pub struct Walk {
    /// Sorted by `rel`.
    pub files: Vec<SourceFile>,
    /// Sorted by `rel`.
    pub extensions: Vec<ExtensionFile>,
    /// Most specific first.
    pub roots: Vec<ImportRoot>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Walks the project named by `settings.root`.
pub fn walk(settings: &ScanSettings) -> Walk {
    let root = settings.root.as_path();
    let mut diagnostics = Vec::new();
    let roots = roots::import_roots(root, &settings.roots, &mut diagnostics);
    let excludes = build_excludes(root, &settings.exclude, &mut diagnostics);
    let rules = Arc::new(Rules::new(root.to_path_buf(), excludes.clone()));
    // Ignore files are read by envscan, not by the walker (see [`ignore_files`]).
    let ignore_files = Arc::new(IgnoreFiles::new(root, true));

    let mut builder = WalkBuilder::new(root);
    builder
        .standard_filters(false)
        .ignore(false)
        .git_ignore(false)
        .git_exclude(false)
        .git_global(false)
        .parents(false)
        .follow_links(true)
        .overrides(excludes);
    let filter_rules = Arc::clone(&rules);
    let filter_ignores = Arc::clone(&ignore_files);
    builder.filter_entry(move |entry| keep(&filter_rules, &filter_ignores, entry));

    let found = walk_in_parallel(root, &builder);
    diagnostics.extend(found.diagnostics);
    diagnostics.extend(ignore_files.failures());
    diagnostics.extend(
        rules
            .diagnostics
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
            .drain(..),
    );

    let files = distinct(root, found.files, &found.links)
        .into_par_iter()
        .map(|(path, rel, kind)| {
            let (module, is_package) = roots::module_of(&rel, kind, &roots);
            SourceFile {
                path,
                rel,
                kind,
                module,
                is_package,
            }
        })
        .collect();
    let mut extensions: Vec<ExtensionFile> = found
        .extensions
        .into_iter()
        .map(|(path, rel)| ExtensionFile {
            module: roots::extension_module_of(&rel, &roots),
            path,
            rel,
        })
        .collect();
    extensions.sort_by(|a, b| a.rel.cmp(&b.rel));
    crate::diagnostic::sort(&mut diagnostics);
    Walk {
        files,
        extensions,
        roots,
        diagnostics,
    }
}

/// What the walker yields, before de-duplication and naming.
#[derive(Default)]
struct Found {
    /// Source files: path, rel, kind, whether the path itself is a symlink.
    files: Vec<(PathBuf, String, SourceKind, bool)>,
    /// Extension modules: path, rel.
    extensions: Vec<(PathBuf, String)>,
    /// `rel` of every symlink followed (folders and files).
    links: BTreeSet<String>,
    diagnostics: Vec<Diagnostic>,
}

/// Runs the walker on several threads, each recording into a [`Found`] of its own, merged at
/// the end: everything in it is sorted afterwards, so the threads' order leaves no trace.
fn walk_in_parallel(root: &Path, builder: &WalkBuilder) -> Found {
    struct Recorder<'a> {
        root: &'a Path,
        found: Found,
        done: &'a Mutex<Vec<Found>>,
    }
    impl ParallelVisitor for Recorder<'_> {
        fn visit(&mut self, result: Result<DirEntry, ignore::Error>) -> WalkState {
            record(self.root, result, &mut self.found);
            WalkState::Continue
        }
    }
    impl Drop for Recorder<'_> {
        fn drop(&mut self) {
            let found = std::mem::take(&mut self.found);
            self.done
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(found);
        }
    }
    struct Recorders<'a> {
        root: &'a Path,
        done: &'a Mutex<Vec<Found>>,
    }
    impl<'s> ParallelVisitorBuilder<'s> for Recorders<'s> {
        fn build(&mut self) -> Box<dyn ParallelVisitor + 's> {
            Box::new(Recorder {
                root: self.root,
                found: Found::default(),
                done: self.done,
            })
        }
    }

    let done = Mutex::new(Vec::new());
    builder
        .build_parallel()
        .visit(&mut Recorders { root, done: &done });
    let mut found = Found::default();
    for part in done.into_inner().unwrap_or_else(PoisonError::into_inner) {
        found.files.extend(part.files);
        found.extensions.extend(part.extensions);
        found.links.extend(part.links);
        found.diagnostics.extend(part.diagnostics);
    }
    found
}

/// The filter the walker asks before yielding a file or entering a folder.
fn keep(rules: &Rules, ignore_files: &IgnoreFiles, entry: &DirEntry) -> bool {
    if entry.depth() == 0 {
        return true;
    }
    let kind = match entry.file_type() {
        Some(kind) if kind.is_dir() => EntryKind::Folder,
        Some(kind) if kind.is_file() => EntryKind::File,
        // Sockets, fifos and devices: reading a fifo named `x.py` would block the parser.
        _ => return false,
    };
    if ignore_files.is_ignored(entry.path(), kind == EntryKind::Folder) {
        return false;
    }
    rules.keep(entry.path(), kind, entry.path_is_symlink())
}

fn record(root: &Path, result: Result<DirEntry, ignore::Error>, found: &mut Found) {
    let entry = match result {
        Ok(entry) => entry,
        Err(err) => {
            found.diagnostics.extend(problems::diagnose(root, &err));
            return;
        }
    };
    if entry.depth() == 0 {
        return;
    }
    let is_symlink = entry.path_is_symlink();
    let is_file = entry.file_type().is_some_and(|kind| kind.is_file());
    let path = entry.into_path();
    // Non-UTF-8 names were refused (and reported) by the filter.
    let Some(rel) = utf8_rel(root, &path) else {
        return;
    };
    if is_symlink {
        found.links.insert(rel.clone());
    }
    if let Some(kind) = path
        .file_name()
        .and_then(source_kind_of)
        .filter(|_| is_file)
    {
        found.files.push((path, rel, kind, is_symlink));
    } else if is_file && path.file_name().is_some_and(is_extension_module) {
        found.extensions.push((path, rel));
    }
}

/// `path` relative to `root` with forward slashes, when every component is UTF-8.
fn utf8_rel(root: &Path, path: &Path) -> Option<String> {
    // The walker's paths are `root` joined with plain names: nearly all are taken as text,
    // without splitting them into components and joining them again (a fifth of the walk's
    // own work).
    if let Some(rest) = crate::relpath::plain_relative(root, path) {
        return Some(rest.to_string());
    }
    let relative = path.strip_prefix(root).ok()?;
    let parts: Option<Vec<&str>> = relative.iter().map(|part| part.to_str()).collect();
    Some(parts?.join("/"))
}

/// One entry per real file, sorted by `rel`: a file reached through an in-project symlink
/// is kept under its path without links when the walk saw one.
fn distinct(
    root: &Path,
    mut files: Vec<(PathBuf, String, SourceKind, bool)>,
    links: &BTreeSet<String>,
) -> Vec<(PathBuf, String, SourceKind)> {
    // A path goes through a link when it, or one of its folders, is a link the walk followed.
    let through_link = |rel: &str, is_symlink: bool| {
        is_symlink
            || rel
                .match_indices('/')
                .any(|(slash, _)| links.contains(&rel[..slash]))
    };
    if links.is_empty() {
        // No link was followed: every rel is its own file, and no two are equal.
        files.par_sort_unstable_by(|a, b| a.1.cmp(&b.1));
        return files
            .into_iter()
            .map(|(path, rel, kind, _)| (path, rel, kind))
            .collect();
    }
    let mut keyed: Vec<(bool, PathBuf, String, SourceKind)> = files
        .drain(..)
        .map(|(path, rel, kind, is_symlink)| (through_link(&rel, is_symlink), path, rel, kind))
        .collect();
    // Paths without links first, then by rel: the first path of each real file wins.
    keyed.sort_by(|a, b| (a.0, &a.2).cmp(&(b.0, &b.2)));
    let mut seen = HashSet::new();
    let mut kept = Vec::with_capacity(keyed.len());
    for (linked, path, rel, kind) in keyed {
        let real = if linked {
            fs_err::canonicalize(&path).unwrap_or_else(|_| path.clone())
        } else {
            root.join(&rel)
        };
        if seen.insert(real) {
            kept.push((path, rel, kind));
        }
    }
    kept.sort_by(|a, b| a.1.cmp(&b.1));
    kept
}

/// Whether `root` is in a git repository: a `.git` folder or file (worktrees, submodules)
/// in it or above it.
#[cfg(test)]
fn inside_git_repository(root: &Path) -> bool {
    root.ancestors().any(|folder| folder.join(".git").exists())
}

/// The configured excludes as `ignore` overrides: each glob becomes `!glob`, an ignore rule.
fn build_excludes(root: &Path, globs: &[String], diagnostics: &mut Vec<Diagnostic>) -> Override {
    let mut builder = OverrideBuilder::new(root);
    for glob in globs {
        let trimmed = glob.trim();
        if trimmed.is_empty() || trimmed.starts_with('!') {
            diagnostics.push(
                Diagnostic::error(
                    INVALID_EXCLUDE,
                    format!("exclude `{glob}` is not a glob naming files to leave out"),
                )
                .with_hint("excludes are gitignore-style globs such as `tests/data` or `*_pb2.py`"),
            );
            continue;
        }
        if let Err(err) = builder.add(&format!("!{trimmed}")) {
            diagnostics.push(Diagnostic::error(
                INVALID_EXCLUDE,
                format!("exclude `{glob}` is not a valid glob: {}", glob_error(&err)),
            ));
        }
    }
    builder.build().unwrap_or_else(|err| {
        diagnostics.push(Diagnostic::error(
            INVALID_EXCLUDE,
            format!("excludes could not be compiled: {err}"),
        ));
        Override::empty()
    })
}

/// The reason inside a glob error, without the `!` this module added to the glob.
fn glob_error(err: &ignore::Error) -> String {
    match err {
        ignore::Error::Glob { err, .. } => err.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests;
