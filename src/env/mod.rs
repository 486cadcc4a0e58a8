//! env stage: the target environment, read from the filesystem without running Python.
//!
//! [`discover`] finds the prefix (`--python`, `[tool.envscan] python`, `VIRTUAL_ENV`,
//! `CONDA_PREFIX`, a project `.venv`/`venv`, `python3` on `PATH`), reads the interpreter
//! from `pyvenv.cfg`, conda-meta or the stdlib folder's name, lays out the search paths in
//! Python's order (stdlib, lib-dynload, each site-packages followed by its `.pth` paths),
//! reads every `*.dist-info` / `*.egg-info` on them, and indexes each installed file by the
//! distribution whose RECORD lists it, so modules are owned per file (a namespace package
//! split across distributions is owned correctly).
//!
//! Submodules, in pipeline order: [`discover`] (which prefix), [`pyvenv`] and [`layout`]
//! (interpreter and folders), [`pth`] and [`editable`] (paths `.pth` files add, setuptools'
//! PEP 660 finders), [`dist_info`], [`egg_info`], [`record`], [`direct_url`] and [`conda`]
//! (metadata), [`kind`] (how each distribution was installed) and [`file_index`] (files →
//! owners, modules, orphans).
//!
//! Bad metadata never stops discovery: it becomes a [`Diagnostic`] naming the folder.

pub mod conda;
pub mod direct_url;
pub mod discover;
pub mod dist_info;
pub mod editable;
pub mod egg_info;
pub mod entry_points;
pub mod file_index;
pub mod files;
pub mod kind;
pub mod layout;
pub mod metadata;
pub mod pep508;
pub mod pth;
pub mod pyvenv;
pub mod record;
mod scan;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::Diagnostic;
use crate::names::{ModuleName, PackageName};
use crate::settings::PythonVersion;

pub use conda::CondaRecord;
pub use direct_url::{DirectUrl, VcsInfo};
pub use discover::{DiscoverOptions, FoundBy, discover};
pub use editable::EditableFinder;
pub use file_index::{FileIndex, Orphan};
pub use files::Files;

/// The target interpreter, as far as the filesystem (or `--query-interpreter`) tells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interpreter {
    /// `cpython` or `pypy`.
    pub implementation: String,
    /// As precise as known: `3.11.7` from pyvenv.cfg or conda-meta, `3.11` from a folder name.
    pub version: String,
    pub major: u8,
    pub minor: u8,
    /// The environment's prefix (the venv or conda folder).
    pub prefix: PathBuf,
    /// The base installation's prefix; equal to `prefix` outside a venv.
    pub base_prefix: PathBuf,
    /// The interpreter file, when one was found.
    pub executable: Option<PathBuf>,
    /// pyvenv.cfg's `include-system-site-packages`.
    pub include_system_site_packages: bool,
    /// How the prefix was chosen.
    pub found_by: FoundBy,
}

impl Interpreter {
    pub fn python_version(&self) -> PythonVersion {
        PythonVersion {
            major: self.major,
            minor: self.minor,
        }
    }
}

/// What a search-path entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum SearchPathKind {
    /// The standard library folder.
    Stdlib,
    /// Compiled standard-library modules (`lib-dynload`, Windows' `DLLs`).
    LibDynload,
    /// A site-packages (or Debian dist-packages) folder.
    SitePackages,
    /// A folder added by a path line of a `.pth` file.
    Pth,
}

/// One `sys.path` entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SearchPath {
    pub path: PathBuf,
    pub kind: SearchPathKind,
    /// For [`SearchPathKind::Pth`]: the `.pth` file that added it.
    pub from_pth: Option<PathBuf>,
}

impl SearchPath {
    /// Whether distributions and orphans are looked for in it: site-packages and `.pth`
    /// folders, not the standard library's.
    pub fn holds_packages(&self) -> bool {
        matches!(
            self.kind,
            SearchPathKind::SitePackages | SearchPathKind::Pth
        )
    }
}

/// How a distribution got into the environment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum DistKind {
    /// Installed by pip, uv or another installer from a package index.
    Index,
    /// An editable (development) install of a local folder.
    Editable,
    /// A non-editable install of a local folder.
    Path,
    /// Installed from an archive file or URL.
    Archive,
    /// Installed from a version-control URL.
    Vcs,
    /// Installed by conda.
    Conda,
    /// No installer recorded and no other evidence.
    Unknown,
}

/// Which metadata format a distribution was read from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum MetadataFormat {
    DistInfo,
    EggInfo,
}

/// One `Requires-Dist` line: its text, and the parsed requirement when it parses. A line
/// read from METADATA is parsed at once (a line that does not parse is a diagnostic); one read
/// back from the environment cache (which keeps only lines that parsed, with this build) is
/// parsed when first asked for, which `envscan env` never does. Boxed: a requirement is some
/// hundreds of bytes, most lines are never parsed, and the list stays small.
#[derive(Clone, Debug)]
pub struct RequiresDist {
    pub raw: String,
    parsed: std::sync::OnceLock<Option<Box<pep508_rs::Requirement>>>,
}

impl RequiresDist {
    /// A line with its parse result.
    pub fn new(raw: String, parsed: Option<pep508_rs::Requirement>) -> Self {
        RequiresDist {
            raw,
            parsed: std::sync::OnceLock::from(parsed.map(Box::new)),
        }
    }

    /// A line parsed when first asked for.
    pub fn unparsed(raw: String) -> Self {
        RequiresDist {
            raw,
            parsed: std::sync::OnceLock::new(),
        }
    }

    /// The requirement, or `None` when the line does not parse.
    pub fn parsed(&self) -> Option<&pep508_rs::Requirement> {
        self.parsed
            .get_or_init(|| {
                pep508::parse_guarded::<pep508_rs::Requirement>(&self.raw)
                    .ok()
                    .map(Box::new)
            })
            .as_deref()
    }
}

/// The parsed form follows from the text.
impl PartialEq for RequiresDist {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for RequiresDist {}

/// One line of `entry_points.txt`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct EntryPoint {
    pub group: String,
    pub name: String,
    pub value: String,
}

/// An installed distribution.
#[derive(Clone, Debug)]
pub struct Distribution {
    /// Normalised per PEP 503.
    pub name: PackageName,
    /// The name as METADATA writes it (or the folder name when METADATA has none).
    pub display_name: String,
    /// The version as written.
    pub version: String,
    pub parsed_version: Option<pep440_rs::Version>,
    pub kind: DistKind,
    /// INSTALLER's first line (`pip`, `uv`, `conda`, ...).
    pub installer: Option<String>,
    pub format: MetadataFormat,
    /// The `*.dist-info` / `*.egg-info` folder (or file, for a distutils egg-info file).
    pub metadata_dir: PathBuf,
    /// The search-path folder the metadata was found in.
    pub site_packages: PathBuf,
    pub requires_dist: Vec<RequiresDist>,
    pub requires_python: Option<String>,
    pub provides_extra: Vec<String>,
    pub direct_url: Option<DirectUrl>,
    pub top_level: Vec<String>,
    pub entry_points: Vec<EntryPoint>,
    /// The importable modules it provides: every module whose parent is not a regular
    /// package of the same distribution (`google.protobuf`, not `google`), with a namespace
    /// folder below the top level that it alone fills listed as that folder (`google.api`),
    /// sorted. Ownership of single files is [`Environment::owner_of_file`]'s job.
    pub modules: Vec<ModuleName>,
    /// Files inside `site_packages`, absolute, in byte order.
    pub files: Files,
    /// Files inside the prefix but outside `site_packages` (scripts, data), absolute, sorted.
    pub external_files: Vec<PathBuf>,
    /// For editable and path installs: the folders they put on the path or map.
    pub editable_roots: Vec<PathBuf>,
    pub conda: Option<CondaRecord>,
    pub has_compiled_modules: bool,
}

/// Index of a distribution in [`Environment::distributions`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DistId(pub usize);

/// Everything envscan knows about the target environment.
#[derive(Debug)]
pub struct Environment {
    pub python: Interpreter,
    /// In Python's order, without duplicates.
    pub search_paths: Vec<SearchPath>,
    /// Sorted by normalised name; one per name (the one Python would use).
    pub distributions: Vec<Distribution>,
    /// Importable modules on the search path that no distribution owns, sorted.
    pub orphans: Vec<Orphan>,
    /// setuptools' PEP 660 finders, read statically.
    pub editable_finders: Vec<EditableFinder>,
    /// Sorted.
    pub diagnostics: Vec<Diagnostic>,
    pub(crate) index: FileIndex,
}

impl Environment {
    /// The distribution that installed `path` (a file, or a folder an editable install maps).
    pub fn owner_of_file(&self, path: &Path) -> Option<&Distribution> {
        self.owner_id_of_file(path)
            .map(|id| &self.distributions[id.0])
    }

    pub fn owner_id_of_file(&self, path: &Path) -> Option<DistId> {
        self.index.owner(path, &self.distributions)
    }

    pub fn distribution(&self, name: &PackageName) -> Option<&Distribution> {
        self.distributions
            .binary_search_by(|d| d.name.cmp(name))
            .ok()
            .map(|i| &self.distributions[i])
    }

    pub fn get(&self, id: DistId) -> &Distribution {
        &self.distributions[id.0]
    }

    /// Every distribution with an entry point in `group`, with those entry points, in name
    /// order: what `importlib.metadata.entry_points(group=...)` returns (one distribution per
    /// name, the one Python would use).
    pub fn entry_point_providers<'a>(
        &'a self,
        group: &'a str,
    ) -> impl Iterator<Item = (&'a Distribution, Vec<&'a EntryPoint>)> + 'a {
        self.distributions.iter().filter_map(move |d| {
            let eps: Vec<&EntryPoint> =
                d.entry_points.iter().filter(|e| e.group == group).collect();
            (!eps.is_empty()).then_some((d, eps))
        })
    }

    /// Every editable mapping (top-level name → source folder) from setuptools' finders.
    pub fn editable_mappings(&self) -> BTreeMap<&str, &Path> {
        self.editable_finders
            .iter()
            .flat_map(|f| f.mapping.iter().map(|(k, v)| (k.as_str(), v.as_path())))
            .collect()
    }
}
