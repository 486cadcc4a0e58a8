//! What the project's own archive holds: the code it runs and the files that code reads, not
//! every file that sits beside it (notebooks' outputs, data, checkpoints).
//!
//! Each file is selected for one or more reasons ([`Why`]):
//! - **modules** the import graph reaches from the project's entry points: every file Python
//!   can be started from (a module or script outside a regular package, a notebook, a test
//!   file or `conftest.py` that pytest collects, a package's `__main__.py`), the modules named
//!   by `[tool.envscan] entrypoint` and by `[project.scripts]`, `[project.gui-scripts]` and
//!   `[project.entry-points]` in `pyproject.toml`; with every package above a reached module
//!   (Python runs its `__init__.py` first);
//! - **package data**: every non-Python file whose nearest enclosing regular package (a
//!   folder with `__init__.py`) holds a reached module (`pkg/templates/x.html`, not the data
//!   of a subpackage nothing imports);
//! - **configuration** the project's tools read from its root ([`CONFIG_FILES`]), and the files
//!   its metadata names (`project.readme`, `project.license`, `project.license-files`,
//!   setuptools' dynamic `readme`, `setup.cfg`'s `long_description = file:` and
//!   `license_file(s)`);
//! - **references**: a path that a reached file names with string literals
//!   ([`crate::parse::file_refs`]) and that exists relative to the project root or to the file
//!   (a folder brings everything under it), each with the `file:line` naming it;
//! - **includes**: files that `[tool.envscan] include` globs match (`globset`, relative to the
//!   project root, `*` stays within one folder, `**` crosses folders; a pattern without glob
//!   characters also takes everything under a folder of that name).
//!
//! The candidates are the files an archive of the whole project could hold ([`archive::list`]):
//! secret-like files, ignored files, caches and links leaving the project never are. A secret
//! that a rule selects is reported (`secret-excluded`, with where it was named), and so is
//! every other file left out that is larger than [`LARGE_FILE`], so a data file the code needs
//! is one `include` away. Compiled extension modules never travel.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use petgraph::graph::NodeIndex;
use schemars::JsonSchema;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::diagnostic::{Code, Diagnostic};
use crate::emit::archive::{self, ArchiveError, Options, SECRET_EXCLUDED};
use crate::graph::{ModuleGraph, NodeKind};
use crate::parse::{Anchor, FileRef};
use crate::walk::SourceFile;

/// Files left out that are larger than this (1 MB) are listed in the report.
pub const LARGE_FILE: u64 = 1_000_000;

/// The places a file is named that the report lists (the first ones, by file and line).
pub const MAX_SITES: usize = 10;

/// The files the project's tools read from its root, carried whenever they exist.
pub const CONFIG_FILES: &[&str] = &[
    ".coveragerc",
    "MANIFEST.in",
    "pyproject.toml",
    "pytest.ini",
    "setup.cfg",
    "setup.py",
    "tox.ini",
];

/// An `[tool.envscan] include` pattern that is not a glob.
pub const INVALID_INCLUDE: Code = Code("invalid-include");
/// An `[tool.envscan] include` pattern that matches no file that can travel.
pub const INCLUDE_MATCHES_NOTHING: Code = Code("include-matches-nothing");

/// Why a file travels in the project archive.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Why {
    /// A module or script the import graph reaches from the project's entry points.
    Module,
    /// A file under the folder of a reached package.
    PackageData { package: String },
    /// A configuration file of the project's tools.
    Config,
    /// Named by the project's metadata: `pyproject.toml: project.readme`.
    Metadata { by: String },
    /// Named by a string literal in the code, at `file:line`.
    Referenced { at: String },
    /// Matched by this `[tool.envscan] include` pattern.
    Include { pattern: String },
}

/// A file and its size in bytes.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct SizedFile {
    pub path: String,
    pub size: u64,
}

/// A file the archive carries besides the reached modules and package data, with why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CarriedFile {
    pub path: String,
    pub why: Vec<Why>,
}

/// The project archive's selection.
#[derive(Debug, Default)]
pub struct ProjectFiles {
    /// Every selected file (relative to the project, forward slashes) and why, sorted.
    pub files: BTreeMap<String, BTreeSet<Why>>,
    /// Size in bytes of each selected file.
    pub sizes: BTreeMap<String, u64>,
    /// Files left out that are larger than [`LARGE_FILE`], largest first.
    pub excluded_large: Vec<SizedFile>,
    /// Secrets a rule selected, include problems, unreadable selected files.
    pub diagnostics: Vec<Diagnostic>,
}

impl ProjectFiles {
    /// The selected paths, sorted: the archive's members.
    pub fn members(&self) -> Vec<String> {
        self.files.keys().cloned().collect()
    }

    /// Files carried for a reason other than being code or package data, sorted by path.
    pub fn carried(&self) -> Vec<CarriedFile> {
        self.files
            .iter()
            .filter_map(|(path, why)| {
                let why: Vec<Why> = why
                    .iter()
                    .filter(|w| !matches!(w, Why::Module | Why::PackageData { .. }))
                    .cloned()
                    .collect();
                (!why.is_empty()).then(|| CarriedFile {
                    path: path.clone(),
                    why,
                })
            })
            .collect()
    }
}

/// Selects the files of the project's archive.
pub fn select(analysis: &Analysis, options: &Options) -> Result<ProjectFiles, ArchiveError> {
    let root = &analysis.project.root;
    let listing = archive::list(root, options)?;
    let candidates: BTreeMap<String, u64> = listing
        .files
        .into_iter()
        .filter(|(rel, _)| crate::resolve::finder::extension_stem(file_name(rel)).is_none())
        .collect();
    let package_dirs: HashSet<&str> = analysis
        .scan
        .files
        .iter()
        .filter(|f| f.is_package)
        .map(|f| parent(&f.rel))
        .collect();
    let mut selection = Selection {
        candidates: &candidates,
        package_dirs: &package_dirs,
        files: BTreeMap::new(),
        wanted_elsewhere: BTreeMap::new(),
    };

    let modules = reached_modules(analysis);
    for module in &modules {
        selection.add(module, Why::Module);
    }
    let reached_packages: HashSet<&str> = modules
        .iter()
        .map(|m| parent(m))
        .filter(|folder| package_dirs.contains(folder))
        .collect();
    for rel in candidates.keys() {
        if rel.ends_with(".py") {
            continue;
        }
        if let Some(package) = ancestors(rel).find(|folder| package_dirs.contains(folder))
            && reached_packages.contains(package)
        {
            let why = Why::PackageData {
                package: package.to_string(),
            };
            selection.add(rel, why);
        }
    }
    for name in CONFIG_FILES {
        selection.add(name, Why::Config);
    }
    let mut diagnostics = Vec::new();
    for (path, by) in metadata_files(root, &candidates, &mut diagnostics) {
        selection.add_path(&path, Why::Metadata { by });
    }
    for found in &analysis.scan.file_refs {
        if !modules.contains(&found.file) {
            continue;
        }
        for path in resolve_ref(found) {
            let why = Why::Referenced {
                at: location(found),
            };
            if found.folder {
                selection.add_path(&path, why);
            } else {
                selection.add(&path, why);
            }
        }
    }
    include(
        &analysis.project.config.include,
        &candidates,
        &listing.diagnostics,
        &mut selection,
        &mut diagnostics,
    );

    // A Python file selected for any reason runs its packages' `__init__.py` when imported
    // by name (`tests/assets/cli/sample.py`, named by path in typer's tests).
    let py_files: Vec<String> = selection
        .files
        .keys()
        .filter(|rel| rel.ends_with(".py"))
        .cloned()
        .collect();
    for rel in py_files {
        for folder in ancestors(&rel).take_while(|f| package_dirs.contains(f)) {
            let init = if folder.is_empty() {
                "__init__.py".to_string()
            } else {
                format!("{folder}/__init__.py")
            };
            if !selection.files.contains_key(&init) {
                selection.add(&init, Why::Module);
            }
        }
    }

    // What the listing left out (secrets above all) is reported when a rule wanted it.
    let Selection {
        files,
        wanted_elsewhere,
        ..
    } = selection;
    for diagnostic in &listing.diagnostics {
        let Some(file) = diagnostic.file.as_deref() else {
            continue;
        };
        let wanted = files.contains_key(file)
            || wanted_elsewhere.contains_key(file)
            || wanted_in_package(file, &package_dirs, &reached_packages);
        if !wanted {
            continue;
        }
        let mut diagnostic = diagnostic.clone();
        if diagnostic.code == SECRET_EXCLUDED
            && let Some(Why::Referenced { at }) = wanted_elsewhere.get(file)
        {
            diagnostic.message = format!("{} (named at {at})", diagnostic.message);
        }
        diagnostics.push(diagnostic);
    }
    let sizes: BTreeMap<String, u64> = files
        .keys()
        .filter_map(|rel| candidates.get(rel).map(|size| (rel.clone(), *size)))
        .collect();
    let mut excluded_large: Vec<SizedFile> = candidates
        .iter()
        .filter(|(rel, size)| **size > LARGE_FILE && !files.contains_key(*rel))
        .map(|(rel, size)| SizedFile {
            path: rel.clone(),
            size: *size,
        })
        .collect();
    excluded_large.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
    crate::diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    Ok(ProjectFiles {
        files,
        sizes,
        excluded_large,
        diagnostics,
    })
}

/// The files selected so far, over the candidates.
struct Selection<'a> {
    candidates: &'a BTreeMap<String, u64>,
    /// Folders with an `__init__.py`.
    package_dirs: &'a HashSet<&'a str>,
    files: BTreeMap<String, BTreeSet<Why>>,
    /// Paths a rule asked for that are not candidates (secrets, unreadable), with the first
    /// reason: what the listing said about them is reported.
    wanted_elsewhere: BTreeMap<String, Why>,
}

impl Selection<'_> {
    /// Selects `rel` when it is a candidate file; remembers it otherwise.
    fn add(&mut self, rel: &str, why: Why) -> bool {
        if !self.candidates.contains_key(rel) {
            self.wanted_elsewhere.entry(rel.to_string()).or_insert(why);
            return false;
        }
        let reasons = self.files.entry(rel.to_string()).or_default();
        let sites = reasons
            .iter()
            .filter(|w| matches!(w, Why::Referenced { .. }))
            .count();
        if !matches!(why, Why::Referenced { .. }) || sites < MAX_SITES {
            reasons.insert(why);
        }
        true
    }

    /// Selects the file `rel`, or every non-Python candidate under the folder `rel`;
    /// remembers it when it is neither (a secret, an ignored file) so the listing's word on it
    /// is reported.
    ///
    /// Python files under a named folder travel only when the graph reaches them (or they
    /// are entry points): a folder is named for what it holds. A package's folder is left to
    /// the package-data rule, so `resources.files("pkg")` or `getLogger("pkg")` does not
    /// carry the data of subpackages nothing imports.
    fn add_path(&mut self, rel: &str, why: Why) {
        if rel.is_empty() || self.package_dirs.contains(rel) {
            return;
        }
        if self.candidates.contains_key(rel) {
            self.add(rel, why);
            return;
        }
        let prefix = format!("{rel}/");
        let under: Vec<String> = self
            .candidates
            .range(prefix.clone()..)
            .map(|(path, _)| path)
            .take_while(|path| path.starts_with(&prefix))
            .filter(|path| !path.ends_with(".py"))
            .cloned()
            .collect();
        if under.is_empty() {
            self.wanted_elsewhere.entry(rel.to_string()).or_insert(why);
            return;
        }
        for path in under {
            self.add(&path, why.clone());
        }
    }
}

/// A listing diagnostic about a file inside a reached package's folder (a secret in it).
fn wanted_in_package(
    file: &str,
    package_dirs: &HashSet<&str>,
    reached_packages: &HashSet<&str>,
) -> bool {
    ancestors(file)
        .find(|folder| package_dirs.contains(folder))
        .is_some_and(|package| reached_packages.contains(package))
}

/// Every project file the graph reaches from the entry points, relative paths.
fn reached_modules(analysis: &Analysis) -> BTreeSet<String> {
    let scan = &analysis.scan;
    let graph = &scan.graph;
    let package_dirs: HashSet<&str> = scan
        .files
        .iter()
        .filter(|f| f.is_package)
        .map(|f| parent(&f.rel))
        .collect();
    let mut queue: VecDeque<NodeIndex> = scan
        .files
        .iter()
        .filter(|file| is_start(file, &package_dirs))
        .filter_map(|file| node_of(graph, file))
        .collect();
    let entry_modules = entry_point_modules(analysis);
    for module in &entry_modules {
        if let Some(index) = local_node(graph, module) {
            queue.push_back(index);
        }
    }
    for file in entry_point_files(&analysis.project.config.entrypoint) {
        if let Some(source) = scan.files.iter().find(|f| f.rel == file)
            && let Some(index) = node_of(graph, source)
        {
            queue.push_back(index);
        }
    }
    // Dotted names in string literals, by the file that holds them: the project's module a
    // string names is loaded by name somewhere (`'cookiecutter.extensions.JsonifyExtension'`
    // handed to Jinja, `"pkg.mod:func"` to a plugin loader).
    let mut named: HashMap<&str, Vec<&str>> = HashMap::new();
    for found in &scan.file_refs {
        if found.anchor == Anchor::Literal && !found.folder {
            let name = found.path.split(':').next().unwrap_or_default();
            if name.contains('.') && name.split('.').all(is_identifier) {
                named.entry(found.file.as_str()).or_default().push(name);
            }
        }
    }
    let mut seen: HashSet<NodeIndex> = HashSet::new();
    let mut reached = BTreeSet::new();
    while let Some(index) = queue.pop_front() {
        if !seen.insert(index) {
            continue;
        }
        let node = &graph.graph[index];
        match &node.kind {
            NodeKind::Local { file } | NodeKind::Script { file } => {
                reached.insert(file.clone());
                for name in named.get(file.as_str()).into_iter().flatten() {
                    if let Some(module) = local_module(graph, name) {
                        queue.push_back(module);
                    }
                }
                // Importing `a.b.c` runs `a` and `a.b` first (a script's name is its path).
                let mut name = node.name.as_str();
                while matches!(node.kind, NodeKind::Local { .. })
                    && let Some((up, _)) = name.rsplit_once('.')
                {
                    if let Some(parent) = local_node(graph, up) {
                        queue.push_back(parent);
                    }
                    name = up;
                }
            }
            NodeKind::Namespace => {}
            NodeKind::Compiled { .. } | NodeKind::Stdlib | NodeKind::External => continue,
        }
        queue.extend(graph.graph.neighbors(index));
    }
    reached
}

/// The project's module (not a namespace) that is the longest prefix of a dotted name.
fn local_module(graph: &ModuleGraph, dotted: &str) -> Option<NodeIndex> {
    let mut name = dotted;
    loop {
        if let Some(index) = graph.node(name)
            && matches!(graph.graph[index].kind, NodeKind::Local { .. })
        {
            return Some(index);
        }
        name = name.rsplit_once('.')?.0;
    }
}

fn is_identifier(part: &str) -> bool {
    let mut chars = part.chars();
    chars.next().is_some_and(|c| c == '_' || c.is_alphabetic())
        && chars.all(|c| c == '_' || c.is_alphanumeric())
}

/// A file Python can be started from: outside a regular package, not importable by name, or
/// one that pytest collects or `python -m` runs.
fn is_start(file: &SourceFile, package_dirs: &HashSet<&str>) -> bool {
    let name = file_name(&file.rel);
    file.module.is_none()
        || !package_dirs.contains(parent(&file.rel))
        || name == "conftest.py"
        || name == "__main__.py"
        || (name.starts_with("test_") && name.ends_with(".py"))
        || name.ends_with("_test.py")
}

/// The node of a walked file (a module by its name, a script by its path).
fn node_of(graph: &ModuleGraph, file: &SourceFile) -> Option<NodeIndex> {
    let index = match &file.module {
        Some(module) => graph.node(module.as_str()),
        None => graph.node(&file.rel),
    }?;
    matches!(
        graph.graph[index].kind,
        NodeKind::Local { .. } | NodeKind::Script { .. }
    )
    .then_some(index)
}

/// The project's own node of a module name (or of its nearest package that is one).
fn local_node(graph: &ModuleGraph, module: &str) -> Option<NodeIndex> {
    let mut name = module;
    loop {
        if let Some(index) = graph.node(name)
            && matches!(
                graph.graph[index].kind,
                NodeKind::Local { .. } | NodeKind::Namespace
            )
        {
            return Some(index);
        }
        name = name.rsplit_once('.')?.0;
    }
}

/// Modules named by `[tool.envscan] entrypoint` (`-m NAME`) and by `pyproject.toml`'s entry
/// points (`name = "pkg.cli:main"`).
fn entry_point_modules(analysis: &Analysis) -> Vec<String> {
    let mut modules = Vec::new();
    let entrypoint = &analysis.project.config.entrypoint;
    for pair in entrypoint.windows(2) {
        if pair[0] == "-m" {
            modules.push(pair[1].clone());
        }
    }
    let Some(project) = read_pyproject(&analysis.project.root)
        .and_then(|doc| doc.get("project").and_then(toml::Value::as_table).cloned())
    else {
        return modules;
    };
    let mut objects: Vec<&str> = Vec::new();
    for key in ["scripts", "gui-scripts"] {
        if let Some(table) = project.get(key).and_then(toml::Value::as_table) {
            objects.extend(table.values().filter_map(toml::Value::as_str));
        }
    }
    if let Some(groups) = project.get("entry-points").and_then(toml::Value::as_table) {
        for group in groups.values().filter_map(toml::Value::as_table) {
            objects.extend(group.values().filter_map(toml::Value::as_str));
        }
    }
    for object in objects {
        // `pkg.cli:main [extra]`
        let module = object.split([':', '[']).next().unwrap_or_default().trim();
        if !module.is_empty() {
            modules.push(module.to_string());
        }
    }
    modules
}

/// Script paths named by `[tool.envscan] entrypoint` (`python tools/train.py`).
fn entry_point_files(entrypoint: &[String]) -> Vec<String> {
    entrypoint
        .iter()
        .filter(|arg| arg.ends_with(".py") || arg.ends_with(".ipynb"))
        .filter_map(|arg| normalise("", arg))
        .collect()
}

fn read_pyproject(root: &std::path::Path) -> Option<toml::Table> {
    let text = crate::fsread::read_to_string_capped(
        &root.join("pyproject.toml"),
        crate::fsread::cap::CONFIG,
    )
    .ok()?;
    toml::from_str(&text).ok()
}

/// The files the project's metadata names, each with the key that names it.
fn metadata_files(
    root: &std::path::Path,
    candidates: &BTreeMap<String, u64>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<(String, String)> {
    let mut found = Vec::new();
    if let Some(doc) = read_pyproject(root) {
        let project = doc.get("project");
        let file_of = |value: Option<&toml::Value>| -> Vec<String> {
            match value {
                Some(toml::Value::String(path)) => vec![path.clone()],
                Some(toml::Value::Table(table)) => match table.get("file") {
                    Some(toml::Value::String(path)) => vec![path.clone()],
                    Some(toml::Value::Array(paths)) => paths
                        .iter()
                        .filter_map(|p| p.as_str().map(str::to_string))
                        .collect(),
                    _ => Vec::new(),
                },
                _ => Vec::new(),
            }
        };
        for path in file_of(project.and_then(|p| p.get("readme"))) {
            found.push((path, "pyproject.toml: project.readme".to_string()));
        }
        // PEP 621's `license = { file = "LICENSE" }`; a plain string is an SPDX expression.
        if let Some(license @ toml::Value::Table(_)) = project.and_then(|p| p.get("license")) {
            for path in file_of(Some(license)) {
                found.push((path, "pyproject.toml: project.license".to_string()));
            }
        }
        let dynamic_readme = doc
            .get("tool")
            .and_then(|t| t.get("setuptools"))
            .and_then(|t| t.get("dynamic"))
            .and_then(|t| t.get("readme"));
        for path in file_of(dynamic_readme) {
            found.push((
                path,
                "pyproject.toml: tool.setuptools.dynamic.readme".to_string(),
            ));
        }
        if let Some(globs) = project
            .and_then(|p| p.get("license-files"))
            .and_then(toml::Value::as_array)
        {
            let patterns: Vec<String> = globs
                .iter()
                .filter_map(|g| g.as_str().map(str::to_string))
                .collect();
            if let Some(set) = glob_set(&patterns, "project.license-files", diagnostics) {
                for rel in candidates.keys().filter(|rel| set.is_match(rel.as_str())) {
                    found.push((
                        rel.clone(),
                        "pyproject.toml: project.license-files".to_string(),
                    ));
                }
            }
        }
    }
    if let Ok(text) =
        crate::fsread::read_lossy_capped(&root.join("setup.cfg"), crate::fsread::cap::CONFIG)
    {
        found.extend(setup_cfg_files(&text));
    }
    found
        .into_iter()
        .filter_map(|(path, by)| normalise("", &path).map(|p| (p, by)))
        .collect()
}

/// `setup.cfg`'s `[metadata]` `long_description = file: README.rst, CHANGES.rst`,
/// `license_file = LICENSE` and `license_files = LICENSE\n  NOTICE` (setuptools' syntax:
/// values separated by commas or continuation lines).
fn setup_cfg_files(text: &str) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut in_metadata = false;
    let mut current: Option<String> = None;
    let push = |key: &str, value: &str, found: &mut Vec<(String, String)>| {
        let value = match key {
            "long_description" => match value.trim().strip_prefix("file:") {
                Some(rest) => rest,
                None => return,
            },
            "license_file" | "license_files" => value,
            _ => return,
        };
        for path in value.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            found.push((path.to_string(), format!("setup.cfg: metadata.{key}")));
        }
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('#') || trimmed.starts_with(';') {
            continue;
        }
        if trimmed.starts_with('[') {
            in_metadata = trimmed == "[metadata]";
            current = None;
            continue;
        }
        if !in_metadata || trimmed.is_empty() {
            continue;
        }
        if line.starts_with([' ', '\t']) {
            if let Some(key) = &current {
                push(key, trimmed, &mut found);
            }
            continue;
        }
        if let Some((key, value)) = trimmed.split_once(['=', ':']) {
            let key = key.trim().replace('-', "_");
            push(&key, value, &mut found);
            current = Some(key);
        }
    }
    found
}

/// Selects what `[tool.envscan] include` matches; a pattern that matches nothing is reported.
fn include(
    patterns: &[String],
    candidates: &BTreeMap<String, u64>,
    listed: &[Diagnostic],
    selection: &mut Selection<'_>,
    diagnostics: &mut Vec<Diagnostic>,
) {
    for pattern in patterns {
        let Some(set) = glob_set(std::slice::from_ref(pattern), "include", diagnostics) else {
            continue;
        };
        let why = Why::Include {
            pattern: pattern.clone(),
        };
        let mut any = false;
        for rel in candidates.keys().filter(|rel| set.is_match(rel.as_str())) {
            any |= selection.add(rel, why.clone());
        }
        for file in listed.iter().filter_map(|d| d.file.as_deref()) {
            if set.is_match(file) {
                selection
                    .wanted_elsewhere
                    .entry(file.to_string())
                    .or_insert(why.clone());
                any = true;
            }
        }
        if !any {
            diagnostics.push(
                Diagnostic::warning(
                    INCLUDE_MATCHES_NOTHING,
                    format!("[tool.envscan] include {pattern:?} matches no file that can travel"),
                )
                .with_file("pyproject.toml")
                .with_hint(
                    "patterns are relative to the project; files that .gitignore excludes, \
                     secrets and caches never travel",
                ),
            );
        }
    }
}

/// One glob set of `patterns`; a pattern without glob characters also matches everything
/// under a folder of that name. `None` (with a diagnostic) when one is not a glob.
fn glob_set(patterns: &[String], key: &str, diagnostics: &mut Vec<Diagnostic>) -> Option<GlobSet> {
    let mut builder = GlobSetBuilder::new();
    for pattern in patterns {
        let trimmed = pattern.trim_start_matches("./").trim_end_matches('/');
        let mut globs = vec![trimmed.to_string()];
        if !trimmed.contains(['*', '?', '[', '{']) {
            globs.push(format!("{trimmed}/**"));
        }
        for glob in globs {
            match GlobBuilder::new(&glob).literal_separator(true).build() {
                Ok(glob) => {
                    builder.add(glob);
                }
                Err(err) => {
                    diagnostics.push(
                        Diagnostic::warning(
                            INVALID_INCLUDE,
                            format!("[tool.envscan] {key} {pattern:?} is not a glob: {err}"),
                        )
                        .with_file("pyproject.toml"),
                    );
                    return None;
                }
            }
        }
    }
    builder.build().ok()
}

/// The project paths a reference can mean: relative to the project root and to the file's
/// folder for a bare literal, to the anchored folder for a `__file__` path.
fn resolve_ref(found: &FileRef) -> Vec<String> {
    let folder = parent(&found.file);
    let mut paths = Vec::new();
    match found.anchor {
        Anchor::Literal => {
            paths.extend(normalise("", &found.path));
            if !folder.is_empty() {
                paths.extend(normalise(folder, &found.path));
            }
        }
        Anchor::FileFolder { up } => {
            let mut base = Some(folder);
            for _ in 0..up {
                base = base.and_then(|b| (!b.is_empty()).then(|| parent(b)));
            }
            if let Some(base) = base {
                paths.extend(normalise(base, &found.path));
            }
        }
    }
    paths.sort();
    paths.dedup();
    paths
}

/// `folder/path` with `.` and `..` parts resolved; `None` when it leaves the project or is
/// the project itself.
fn normalise(folder: &str, path: &str) -> Option<String> {
    let mut parts: Vec<&str> = folder.split('/').filter(|p| !p.is_empty()).collect();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// `file:line`, with the cell for a notebook.
fn location(found: &FileRef) -> String {
    match found.cell {
        Some(cell) => format!("{}:{} (cell {cell})", found.file, found.line),
        None => format!("{}:{}", found.file, found.line),
    }
}

fn parent(rel: &str) -> &str {
    rel.rsplit_once('/').map_or("", |(folder, _)| folder)
}

fn file_name(rel: &str) -> &str {
    rel.rsplit('/').next().unwrap_or(rel)
}

/// The folders above `rel`, nearest first, ending with the project root (`""`).
fn ancestors(rel: &str) -> impl Iterator<Item = &str> {
    let mut current = Some(rel);
    std::iter::from_fn(move || {
        let here = current?;
        if here.is_empty() {
            current = None;
            return None;
        }
        let up = parent(here);
        current = Some(up);
        Some(up)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_path_is_normalised_inside_the_project_or_refused() {
        assert_eq!(
            normalise("tests", "../README.md").as_deref(),
            Some("README.md")
        );
        assert_eq!(normalise("", "./a//b/").as_deref(), Some("a/b"));
        assert_eq!(normalise("", "../outside"), None);
        assert_eq!(normalise("a", ".."), None);
    }

    #[test]
    fn a_file_anchored_reference_climbs_from_the_files_folder() {
        let found = FileRef {
            file: "tests/utils/__init__.py".into(),
            cell: None,
            line: 3,
            anchor: Anchor::FileFolder { up: 1 },
            path: "client_certs".into(),
            folder: true,
        };
        assert_eq!(resolve_ref(&found), vec!["tests/client_certs".to_string()]);
        let literal = FileRef {
            anchor: Anchor::Literal,
            path: "README.md".into(),
            ..found
        };
        assert_eq!(
            resolve_ref(&literal),
            vec!["README.md".to_string(), "tests/utils/README.md".to_string()]
        );
    }

    #[test]
    fn ancestors_run_from_the_nearest_folder_to_the_root() {
        let found: Vec<&str> = ancestors("a/b/c.txt").collect();
        assert_eq!(found, vec!["a/b", "a", ""]);
    }

    #[test]
    fn setup_cfg_names_its_readme_and_licenses() {
        let text = "[metadata]\nname = x\nlong_description = file: README.rst, CHANGES.rst\n\
                    license_files =\n    LICENSE\n    NOTICE\n[options]\nlicense_file = no\n";
        let found: Vec<String> = setup_cfg_files(text).into_iter().map(|(p, _)| p).collect();
        assert_eq!(found, ["README.rst", "CHANGES.rst", "LICENSE", "NOTICE"]);
    }
}
