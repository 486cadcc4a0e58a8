//! The module graph: the project's own modules, what they import, and how.
//!
//! Nodes are modules: local ones (named by the walk under the project's import roots, plus the
//! PEP 420 namespace packages their folders imply), scripts that have no module name, and the
//! imported names that are not local, classified `stdlib` or `external`. Edges are import
//! sites, each resolved once, here, in CPython's order:
//!
//! 1. builtin modules, modules imported at start-up and (3.11+) frozen modules are never
//!    shadowed ([`stdlib::is_never_shadowed`]);
//! 2. the importing file's own folder, when the file is run as a script: CPython puts a
//!    script's folder first on `sys.path` (`sys.path[0]`, <https://docs.python.org/3/library/sys_path_init.html>),
//!    and Jupyter starts a notebook's kernel in the notebook's folder. The rule: a file whose
//!    folder is not a regular package (no `__init__.py`) and not an import root is taken to be
//!    run as a script (`python tools/train.py`, a notebook, a test that pytest's default
//!    `prepend` import mode loads with its folder first on the path), so `import helpers`
//!    finds `tools/helpers.py`. A module inside a regular package is run as `python -m pkg.mod`
//!    (sys.path[0] is then the working folder) or imported; running it by path would break
//!    its relative imports, so its folder is not searched;
//! 3. the project's import roots (a project module shadows the standard library);
//! 4. the standard library of the target version ([`crate::resolve::stdlib`]);
//! 5. for a file inside a regular package, a name found nowhere above that exists beside the
//!    file, or under the first folder above it that is not a package: such a file is run by
//!    path after all (an example or tutorial script kept in a package), or collected by
//!    pytest, whose `prepend` import mode puts that folder first ([`Folders::package_fallbacks`]);
//! 6. everything else is external, for `resolve` to find in site-packages.
//!
//! Within one folder CPython's `FileFinder` takes a regular package before an extension module
//! before a `.py` file, and so does the graph. Once a name is decided it is never looked up as
//! another kind: `import http` then `from http.cookies import SimpleCookie` are both stdlib.

use std::collections::BTreeSet;
use std::collections::hash_map::Entry;
use std::sync::Arc;

use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};

use petgraph::graph::{DiGraph, NodeIndex};
use rayon::prelude::*;
use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic};
use crate::names::ModuleName;
use crate::parse::{ImportSite, Sites};
use crate::resolve::stdlib;
use crate::settings::PythonVersion;
use crate::walk::{ExtensionFile, ImportRoot, SourceFile};

pub mod render;

pub const LOCAL_MODULE_NOT_FOUND: Code = Code("local-module-not-found");

/// What a node stands for.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum NodeKind {
    /// A project module or regular package (`file` is the `.py` or `__init__.py`).
    Local {
        file: String,
    },
    /// A project folder without `__init__.py` that holds modules (PEP 420).
    Namespace,
    /// A project file that is not importable by name (a script with a dash, a notebook).
    Script {
        file: String,
    },
    /// A compiled extension module in the project (`fastops.cpython-311-x86_64-linux-gnu.so`
    /// built in place): the project's own `binary_local` code, which cannot travel.
    Compiled {
        file: String,
    },
    Stdlib,
    External,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, JsonSchema)]
pub struct Node {
    /// The dotted module name, or the file path of a script.
    pub name: String,
    #[serde(flatten)]
    pub kind: NodeKind,
}

/// How an imported name was classified, on its own: `local`, `stdlib` or `external`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImportClass {
    Local,
    Stdlib,
    External,
}

/// An import site, by its place in the sorted sites the graph was built from
/// ([`crate::scan::ProjectScan::imports`]): comparing two compares the sites.
pub type SiteIndex = u32;

#[derive(Debug, Default)]
pub struct ModuleGraph {
    /// Each edge is one import site.
    pub graph: DiGraph<Node, SiteIndex>,
    /// The project's nodes (modules, namespace packages, scripts, compiled modules) by name.
    /// A hash map: every import site looks names up here.
    by_name: HashMap<String, NodeIndex>,
    /// Stdlib and external nodes by name, apart: a project's `logging.py` that a script's
    /// `import sys` cannot shadow still leaves `import sys` its own `sys` node.
    imported: HashMap<String, NodeIndex>,
    /// The node each import site resolved to (by [`SiteIndex`]), decided once by [`build`];
    /// `None` for a site of a file that is not in the graph.
    targets: Vec<Option<NodeIndex>>,
    /// Each name that a project file or folder bears (a folder's name, a module's stem) and
    /// the first such path, in sorted order.
    project_names: HashMap<String, String>,
}

impl ModuleGraph {
    /// The node of `name`: the project's module of that name, else the imported one.
    pub fn node(&self, name: &str) -> Option<NodeIndex> {
        self.by_name
            .get(name)
            .or_else(|| self.imported.get(name))
            .copied()
    }

    fn add_imported(&mut self, name: &str, kind: NodeKind) -> NodeIndex {
        if let Some(&index) = self.imported.get(name) {
            return index;
        }
        let index = self.graph.add_node(Node {
            name: name.to_string(),
            kind,
        });
        self.imported.insert(name.to_string(), index);
        index
    }

    fn add(&mut self, name: String, kind: NodeKind) -> NodeIndex {
        match self.by_name.entry(name) {
            Entry::Occupied(known) => *known.get(),
            Entry::Vacant(slot) => {
                let index = self.graph.add_node(Node {
                    name: slot.key().clone(),
                    kind,
                });
                *slot.insert(index)
            }
        }
    }

    /// Local modules (namespace packages and compiled modules too), sorted by name.
    pub fn local_modules(&self) -> Vec<&Node> {
        // In node order: modules were added sorted by name, then namespace packages sorted,
        // then compiled modules without a module name, so a stable sort only merges those
        // runs (in hash order it sorted 20,000 names).
        let mut nodes: Vec<&Node> = self
            .graph
            .node_weights()
            .filter(|node| {
                matches!(
                    node.kind,
                    NodeKind::Local { .. } | NodeKind::Namespace | NodeKind::Compiled { .. }
                )
            })
            .collect();
        nodes.sort_by(|a, b| a.name.cmp(&b.name));
        nodes
    }

    /// The node the import site at `index` of the sites the graph was built from resolved to.
    pub fn target(&self, index: usize) -> Option<&Node> {
        self.targets
            .get(index)
            .copied()
            .flatten()
            .map(|i| &self.graph[i])
    }

    /// Each node's import sites, by node index: how many point at it and the first of them
    /// (`(0, 0)` for none); and the sites that are in no file of the graph, in order. One pass
    /// over the targets, counting by index: no name is hashed per site.
    pub fn site_counts(&self) -> (Vec<(usize, usize)>, Vec<usize>) {
        let mut by_node = vec![(0, 0); self.graph.node_count()];
        let mut outside = Vec::new();
        for (site, target) in self.targets.iter().enumerate() {
            match target {
                Some(node) => {
                    let (count, first) = &mut by_node[node.index()];
                    if *count == 0 {
                        *first = site;
                    }
                    *count += 1;
                }
                None => outside.push(site),
            }
        }
        (by_node, outside)
    }

    /// The class of the node the site at `index` points at (external for a site not in the
    /// graph).
    pub fn class_of(&self, index: usize) -> ImportClass {
        match self.target(index).map(|node| &node.kind) {
            Some(NodeKind::Stdlib) => ImportClass::Stdlib,
            Some(NodeKind::External) | None => ImportClass::External,
            Some(
                NodeKind::Local { .. }
                | NodeKind::Namespace
                | NodeKind::Script { .. }
                | NodeKind::Compiled { .. },
            ) => ImportClass::Local,
        }
    }

    /// A project file or folder named `name` (a module stem or a folder name anywhere in the
    /// project), whether or not it is on the import path.
    pub fn project_path_named(&self, name: &str) -> Option<&str> {
        self.project_names.get(name).map(String::as_str)
    }

    /// A project module or package of that name (scripts are named by path, not by module).
    fn project_node(&self, name: &str) -> Option<NodeIndex> {
        self.by_name.get(name).copied().filter(|&i| {
            matches!(
                self.graph[i].kind,
                NodeKind::Local { .. } | NodeKind::Namespace | NodeKind::Compiled { .. }
            )
        })
    }

    /// The node of `from a import b` is `a.b` when that is a module, else `a`. (`a.b` is
    /// spelled in `buffer`; a member that is no identifier, `*`, names no project module.)
    fn local_target_of(&self, site: &ImportSite, buffer: &mut String) -> Option<NodeIndex> {
        if let Some(member) = site.member.as_deref() {
            buffer.clear();
            buffer.push_str(site.module.as_str());
            buffer.push('.');
            buffer.push_str(member);
            if let Some(index) = self.project_node(buffer) {
                return Some(index);
            }
        }
        self.project_node(site.module.as_str())
    }
}

/// How CPython's `FileFinder` ranks what one folder offers for one name: lower wins.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Rank {
    Package,
    Extension,
    Source,
}

/// The project's files by folder, for the script-folder rule.
#[derive(Default)]
struct Folders {
    /// `folder/name` (no suffix) → the node of the package, extension or module file there.
    entries: HashMap<String, (Rank, NodeIndex)>,
    /// Every folder that holds a walked file, at any depth.
    folders: HashSet<String>,
    /// Folders holding an `__init__.py`.
    packages: HashSet<String>,
    /// Import roots, relative.
    roots: HashSet<String>,
}

impl Folders {
    fn insert(&mut self, key: String, rank: Rank, index: NodeIndex) {
        match self.entries.get(&key) {
            Some((known, _)) if *known <= rank => {}
            _ => {
                self.entries.insert(key, (rank, index));
            }
        }
    }

    /// The longest prefix of `parts` found under `folder`: how many parts matched, and the
    /// node of the last one that is a module (namespace folders are passed through).
    fn find(&self, folder: &str, parts: &[&str], path: &mut String) -> Option<(usize, NodeIndex)> {
        path.clear();
        path.push_str(folder);
        let mut best = None;
        for (i, part) in parts.iter().enumerate() {
            if !path.is_empty() {
                path.push('/');
            }
            path.push_str(part);
            if let Some(&(_, index)) = self.entries.get(path.as_str()) {
                best = Some((i + 1, index));
            } else if !self.folders.contains(path.as_str()) {
                break;
            }
        }
        best
    }

    /// What resolving the imports of `file` (whose node is `source`) needs of its folders.
    fn of_file<'a>(&self, file: &'a str, source: NodeIndex) -> FileFolders<'a> {
        let mut fallbacks = self.package_fallbacks(file);
        FileFolders {
            source,
            script: self.script_folder(file),
            fallbacks: [fallbacks.next(), fallbacks.next()],
        }
    }

    /// The folder searched first for imports in `file`, when it is run as a script.
    fn script_folder<'a>(&self, file: &'a str) -> Option<&'a str> {
        let folder = parent(file);
        (!self.packages.contains(folder) && !self.roots.contains(folder)).then_some(folder)
    }

    /// For a file inside a regular package, the folders where an import that names nothing
    /// else is looked for last: its own folder (the file is run by path, as typer's
    /// `docs_src/.../main.py` are) and the first folder above it that is not a package
    /// (pytest's `prepend` import mode puts that `rootdir` first when it collects the file, as
    /// for click's `examples/complex/complex/commands/cmd_init.py` importing `complex.cli`).
    fn package_fallbacks<'a>(&self, file: &'a str) -> impl Iterator<Item = &'a str> {
        let folder = parent(file);
        let (first, second) = if self.packages.contains(folder) {
            let mut base = folder;
            while !base.is_empty() && self.packages.contains(base) {
                base = parent(base);
            }
            let second = (base != folder && !self.packages.contains(base)).then_some(base);
            (Some(folder), second)
        } else {
            (None, None)
        };
        first.into_iter().chain(second)
    }
}

/// A project file's node and the folders its imports are looked for in besides the import
/// roots: the same for each of its sites, so worked out once per file.
#[derive(Clone, Copy)]
struct FileFolders<'a> {
    source: NodeIndex,
    /// [`Folders::script_folder`].
    script: Option<&'a str>,
    /// [`Folders::package_fallbacks`], in order.
    fallbacks: [Option<&'a str>; 2],
}

fn join(folder: &str, name: &str) -> String {
    if folder.is_empty() {
        name.to_string()
    } else {
        format!("{folder}/{name}")
    }
}

/// The folder part of `rel` ("" at the top). By `memrchr`: asked twice per import site.
fn parent(rel: &str) -> &str {
    memchr::memrchr(b'/', rel.as_bytes()).map_or("", |slash| &rel[..slash])
}

/// Builds the graph from the walked files and the parsed import sites.
#[cfg(test)]
pub fn build(
    files: &[SourceFile],
    extensions: &[ExtensionFile],
    roots: &[ImportRoot],
    imports: &[ImportSite],
    python: PythonVersion,
    diagnostics: &mut Vec<Diagnostic>,
) -> ModuleGraph {
    connect(
        local_nodes(files, extensions, roots),
        &Sites::from(imports.to_vec()),
        python,
        diagnostics,
    )
}

/// The project's side of the graph (its modules, namespace packages, scripts and compiled
/// modules, its folders and the names its files bear), made from the walk alone: a scan
/// builds it while the files are parsed.
pub struct LocalNodes<'a> {
    graph: ModuleGraph,
    folders: Folders,
    /// The node of each walked file, by its relative path.
    source_of_file: HashMap<&'a str, NodeIndex>,
}

/// The project's nodes, from the walked files.
pub fn local_nodes<'a>(
    files: &'a [SourceFile],
    extensions: &[ExtensionFile],
    roots: &[ImportRoot],
) -> LocalNodes<'a> {
    let mut graph = ModuleGraph::default();
    // Sized for every file at once: grown from empty, these tables were rehashed a dozen
    // times over a large project.
    let count = files.len() + extensions.len();
    graph.by_name.reserve(count);
    graph.project_names.reserve(count);
    graph.graph.reserve_nodes(count);
    // Every module a file or extension makes, with its rank; sorted by name then rank, the
    // first of each name is the one CPython's `FileFinder` takes.
    let mut local: Vec<(&ModuleName, Rank, NodeKind)> =
        Vec::with_capacity(files.len() + extensions.len());
    for file in files {
        if let Some(module) = &file.module {
            let rank = if file.is_package {
                Rank::Package
            } else {
                Rank::Source
            };
            let file = file.rel.clone();
            local.push((module, rank, NodeKind::Local { file }));
        }
    }
    for extension in extensions {
        if let Some(module) = &extension.module {
            let file = extension.rel.clone();
            local.push((module, Rank::Extension, NodeKind::Compiled { file }));
        }
    }
    // Stable: of two files claiming one name at one rank, the first walked stays.
    local.sort_by(|a, b| a.0.cmp(b.0).then(a.1.cmp(&b.1)));
    local.dedup_by(|later, first| later.0 == first.0);
    // Parents of local modules that are not modules themselves are namespace packages.
    let modules: HashSet<&str> = local.iter().map(|(m, _, _)| m.as_str()).collect();
    let mut namespaces: BTreeSet<&str> = BTreeSet::new();
    for module in &modules {
        for (dot, _) in module.match_indices('.') {
            let parent = &module[..dot];
            if !modules.contains(parent) {
                namespaces.insert(parent);
            }
        }
    }
    let namespaces: Vec<String> = namespaces.into_iter().map(str::to_string).collect();
    drop(modules);
    for (module, _, kind) in local {
        graph.add(module.to_string(), kind);
    }
    for namespace in namespaces {
        graph.add(namespace, NodeKind::Namespace);
    }

    let mut folders = Folders {
        roots: roots.iter().map(|r| r.rel.clone()).collect(),
        entries: HashMap::with_capacity_and_hasher(count, Default::default()),
        ..Folders::default()
    };
    let mut source_of_file: HashMap<&str, NodeIndex> =
        HashMap::with_capacity_and_hasher(files.len(), Default::default());
    for file in files {
        let index = match &file.module {
            Some(module) => graph.node(module.as_str()),
            None => Some(graph.add(
                file.rel.clone(),
                NodeKind::Script {
                    file: file.rel.clone(),
                },
            )),
        };
        let Some(index) = index else { continue };
        source_of_file.insert(&file.rel, index);
        let folder = parent(&file.rel);
        if let Some(stem) = file.rel.strip_suffix(".py") {
            if file.is_package {
                folders.packages.insert(folder.to_string());
                folders.insert(folder.to_string(), Rank::Package, index);
            } else {
                folders.insert(stem.to_string(), Rank::Source, index);
            }
        }
    }
    for extension in extensions {
        let index = match &extension.module {
            Some(module) => graph.node(module.as_str()),
            None => Some(graph.add(
                extension.rel.clone(),
                NodeKind::Compiled {
                    file: extension.rel.clone(),
                },
            )),
        };
        let name = extension.rel.rsplit('/').next().unwrap_or_default();
        if let (Some(index), Some(stem)) = (index, crate::resolve::finder::extension_stem(name)) {
            let key = join(parent(&extension.rel), stem);
            folders.insert(key, Rank::Extension, index);
        }
    }
    let all_rels = files
        .iter()
        .map(|f| (f.rel.as_str(), f.kind == crate::walk::SourceKind::Python))
        .chain(extensions.iter().map(|e| (e.rel.as_str(), true)));
    // Names are allocated only when first seen: most files share their folders.
    for (rel, importable) in all_rels {
        let mut start = 0;
        for (slash, _) in rel.match_indices('/') {
            let folder = &rel[..slash];
            let component = &rel[start..slash];
            start = slash + 1;
            if !folders.folders.contains(folder) {
                folders.folders.insert(folder.to_string());
            }
            if !graph.project_names.contains_key(component) {
                graph
                    .project_names
                    .insert(component.to_string(), format!("{folder}/"));
            }
        }
        let name = &rel[start..];
        let stem = name
            .strip_suffix(".py")
            .or_else(|| crate::resolve::finder::extension_stem(name));
        if let Some(stem) = stem.filter(|s| importable && *s != "__init__")
            && !graph.project_names.contains_key(stem)
        {
            graph
                .project_names
                .insert(stem.to_string(), rel.to_string());
        }
    }
    LocalNodes {
        graph,
        folders,
        source_of_file,
    }
}

/// The graph: the project's nodes and an edge for each import site, to a project node or to
/// the stdlib or external node it names.
pub fn connect(
    local: LocalNodes<'_>,
    imports: &Sites,
    python: PythonVersion,
    diagnostics: &mut Vec<Diagnostic>,
) -> ModuleGraph {
    let LocalNodes {
        mut graph,
        folders,
        source_of_file,
    } = local;
    // Resolving reads the graph and the folders only, so it runs in parallel; the stdlib and
    // external nodes are then added in site order, which keeps node indices deterministic.
    // Per thread: a path buffer, a parts list, what the last file's imports depend on (a
    // file's sites are consecutive, and share one `Arc` of its name) and the standard
    // library's and the project's answers for each top-level name seen (a project imports a
    // few hundred names from thousands of sites).
    let scratch = || {
        (
            String::new(),
            Vec::new(),
            None::<(&Arc<str>, Option<FileFolders>)>,
            TopLevelAnswers::default(),
        )
    };
    // By file (each part of `imports` is one file's sites, or, built from one list, all).
    let resolved: Vec<Vec<Option<SiteResolution>>> = imports
        .par_parts()
        .map_init(scratch, |(path, parts, last, answers), (_, sites)| {
            let mut resolved = Vec::with_capacity(sites.len());
            for site in sites {
                let file = match last {
                    Some((known, file)) if Arc::ptr_eq(known, &site.file) => *file,
                    _ => {
                        let file = source_of_file
                            .get(&*site.file)
                            .map(|&source| folders.of_file(&site.file, source));
                        *last = Some((&site.file, file));
                        file
                    }
                };
                resolved.push(file.map(|file| {
                    let top = answers.of(python, &graph, site.module.top_level());
                    let (target, missing) =
                        resolve_site(&graph, &folders, file, site, top, path, parts);
                    (file.source, target, missing.map(Box::new))
                }));
            }
            resolved
        })
        .collect();
    graph.targets = Vec::with_capacity(imports.len());
    graph.graph.reserve_edges(imports.len());
    let mut reported: HashSet<(&str, u32, &ModuleName)> = HashSet::default();
    let resolved = resolved.into_iter().flatten();
    for (index, (site, resolved)) in imports.iter().zip(resolved).enumerate() {
        let Some((source, target, missing)) = resolved else {
            graph.targets.push(None);
            continue;
        };
        let target = match target {
            Resolved::Node(node) => node,
            Resolved::Stdlib => graph.add_imported(site.module.as_str(), NodeKind::Stdlib),
            Resolved::External => graph.add_imported(site.module.as_str(), NodeKind::External),
        };
        if let Some(found) = missing
            && reported.insert((&*site.file, site.statement, &site.module))
        {
            diagnostics.push(
                Diagnostic::warning(
                    LOCAL_MODULE_NOT_FOUND,
                    format!(
                        "`{}` is not a module of this project (found `{found}`)",
                        site.module
                    ),
                )
                .with_file(&*site.file)
                .at(site.line, site.column),
            );
        }
        let index = SiteIndex::try_from(index).unwrap_or(SiteIndex::MAX);
        graph.graph.add_edge(source, target, index);
        graph.targets.push(Some(target));
    }
    graph
}

/// A site resolved in the parallel stage: the importing file's node, the target, and the part
/// that was found when only part of the module exists (boxed: it is rare).
type SiteResolution = (NodeIndex, Resolved, Option<Box<String>>);

/// What an import site resolves to, before the stdlib and external nodes exist.
enum Resolved {
    /// A project node.
    Node(NodeIndex),
    Stdlib,
    External,
}

/// What the standard library of the target and the project say of one top-level name.
#[derive(Clone, Copy)]
struct TopLevel {
    never_shadowed: bool,
    stdlib: bool,
    /// The project has a module, package or namespace of that name.
    in_project: bool,
}

/// [`TopLevel`] answers by name, worked out once per name.
#[derive(Default)]
struct TopLevelAnswers<'a>(HashMap<&'a str, TopLevel>);

impl<'a> TopLevelAnswers<'a> {
    fn of(&mut self, python: PythonVersion, graph: &ModuleGraph, top: &'a str) -> TopLevel {
        *self.0.entry(top).or_insert_with(|| TopLevel {
            never_shadowed: stdlib::is_never_shadowed(python, top),
            stdlib: stdlib::is_stdlib_top_level(python, top),
            in_project: graph.project_node(top).is_some(),
        })
    }
}

/// Finds or adds the node an import resolves to, in the order the module documentation gives.
/// The second value is the part that was found when the project has the top-level name but
/// not the whole module (reported as [`LOCAL_MODULE_NOT_FOUND`]).
fn resolve_site<'a>(
    graph: &ModuleGraph,
    folders: &Folders,
    file: FileFolders<'_>,
    site: &'a ImportSite,
    answers: TopLevel,
    path: &mut String,
    parts: &mut Vec<&'a str>,
) -> (Resolved, Option<String>) {
    parts.clear();
    parts.extend(site.module.components());
    let wanted = parts.len();
    parts.extend(site.member.as_deref());
    let parts = &parts[..];
    if !answers.never_shadowed {
        if let Some(folder) = file.script
            && let Some((matched, index)) = folders.find(folder, parts, path)
        {
            let missing = (matched < wanted).then(|| {
                let found = parts[..matched].join(".");
                if folder.is_empty() {
                    found
                } else {
                    format!("{found}` in `{folder}/")
                }
            });
            return (Resolved::Node(index), missing);
        }
        if answers.in_project {
            if let Some(index) = graph.local_target_of(site, path) {
                return (Resolved::Node(index), None);
            }
            // The top level is ours but the submodule is not there: report the longest part
            // that exists, so the user sees which file or folder is missing.
            let found = site
                .module
                .ancestors()
                .find_map(|m| graph.project_node(m.as_str()).map(|i| (m, i)));
            if let Some((found_name, index)) = found {
                return (Resolved::Node(index), Some(found_name.to_string()));
            }
        }
    }
    if answers.stdlib {
        return (Resolved::Stdlib, None);
    }
    for folder in file.fallbacks.into_iter().flatten() {
        if let Some((matched, index)) = folders.find(folder, parts, path)
            && matched >= wanted
        {
            return (Resolved::Node(index), None);
        }
    }
    (Resolved::External, None)
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::walk::SourceKind;

    const PY311: PythonVersion = PythonVersion {
        major: 3,
        minor: 11,
    };

    fn file(rel: &str, module: Option<&str>) -> SourceFile {
        SourceFile {
            path: PathBuf::from(rel),
            rel: rel.to_string(),
            kind: SourceKind::Python,
            module: module.and_then(ModuleName::new),
            is_package: rel.ends_with("__init__.py"),
        }
    }

    fn site(file: &str, line: u32, module: &str, member: Option<&str>) -> ImportSite {
        ImportSite {
            module: ModuleName::new(module).unwrap(),
            member: member.map(str::to_string),
            file: file.into(),
            line,
            column: 1,
            cell: None,
            context: crate::parse::ContextSet::new(),
            extra: None,
            statement: line,
        }
    }

    fn root() -> Vec<ImportRoot> {
        vec![ImportRoot {
            rel: String::new(),
            path: PathBuf::from("/p"),
        }]
    }

    // The nodes are added modules first, then namespace packages: `ns` must still come
    // before `ns.sub`, and a compiled module with no module name among the rest.
    #[test]
    fn local_modules_are_sorted_by_name_across_modules_and_namespace_packages() {
        let files = [
            file("app.py", Some("app")),
            file("ns/sub.py", Some("ns.sub")),
            file("zz.py", Some("zz")),
        ];
        let extensions = [ExtensionFile {
            path: PathBuf::from("bin/fast-ops.so"),
            rel: "bin/fast-ops.so".to_string(),
            module: None,
        }];
        let graph = build(&files, &extensions, &root(), &[], PY311, &mut Vec::new());
        let names: Vec<&str> = graph
            .local_modules()
            .iter()
            .map(|n| n.name.as_str())
            .collect();
        assert_eq!(names, ["app", "bin/fast-ops.so", "ns", "ns.sub", "zz"]);
    }

    #[test]
    fn site_counts_give_each_nodes_count_and_first_site_and_the_sites_outside_the_graph() {
        let files = [file("app.py", Some("app")), file("lib.py", Some("lib"))];
        let imports = [
            site("app.py", 1, "os", None),
            site("app.py", 2, "lib", None),
            site("gone.py", 1, "yaml", None),
            site("lib.py", 1, "os", None),
        ];
        let graph = build(&files, &[], &root(), &imports, PY311, &mut Vec::new());
        let (by_node, outside) = graph.site_counts();
        let count_of = |name: &str| by_node[graph.node(name).unwrap().index()];
        assert_eq!(count_of("os"), (2, 0));
        assert_eq!(count_of("lib"), (1, 1));
        assert_eq!(count_of("app"), (0, 0));
        assert_eq!(outside, [2]);
        assert_eq!(graph.class_of(2), ImportClass::External);
    }

    // Regression: after `import http`, `from http.cookies import SimpleCookie` was taken for a
    // missing project module (`local-module-not-found ... (found http)`) and then resolved as
    // external (`unresolved-import http.cookies`).
    #[test]
    fn a_stdlib_parent_in_the_graph_does_not_make_its_submodules_local() {
        let files = [file("app.py", Some("app"))];
        let imports = [
            site("app.py", 1, "http", None),
            site("app.py", 2, "http.cookies", Some("SimpleCookie")),
            site("app.py", 3, "sqlalchemy", None),
            site("app.py", 4, "sqlalchemy.orm", Some("Session")),
        ];
        let mut diagnostics = Vec::new();
        let graph = build(&files, &[], &root(), &imports, PY311, &mut diagnostics);
        assert!(diagnostics.is_empty(), "{diagnostics:?}");
        let classes: Vec<ImportClass> = (0..imports.len()).map(|i| graph.class_of(i)).collect();
        use ImportClass::{External, Stdlib};
        assert_eq!(classes, [Stdlib, Stdlib, External, External]);
    }

    #[test]
    fn a_missing_project_submodule_is_reported_once_per_statement_and_stays_local() {
        let files = [
            file("pkg/__init__.py", Some("pkg")),
            file("app.py", Some("app")),
        ];
        let mut a = site("app.py", 1, "pkg.missing", Some("a"));
        let mut b = site("app.py", 1, "pkg.missing", Some("b"));
        (a.column, b.column) = (25, 28);
        let mut diagnostics = Vec::new();
        let graph = build(&files, &[], &root(), &[a, b], PY311, &mut diagnostics);
        assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
        assert_eq!(diagnostics[0].code, LOCAL_MODULE_NOT_FOUND);
        assert_eq!(graph.class_of(0), ImportClass::Local);
        assert_eq!(graph.class_of(1), ImportClass::Local);
    }

    #[test]
    fn a_script_outside_packages_imports_its_neighbours_first() {
        let files = [
            file("tools/train.py", Some("tools.train")),
            file("tools/helpers.py", Some("tools.helpers")),
            file("pkg/__init__.py", Some("pkg")),
            file("pkg/cli.py", Some("pkg.cli")),
            file("pkg/sibling.py", Some("pkg.sibling")),
        ];
        let from_script = site("tools/train.py", 1, "helpers", None);
        let from_package = site("pkg/cli.py", 1, "sibling", None);
        let mut diagnostics = Vec::new();
        let imports = [from_script, from_package];
        let graph = build(&files, &[], &root(), &imports, PY311, &mut diagnostics);
        assert_eq!(graph.target(0).unwrap().name, "tools.helpers");
        // Found last, beside it: nothing above provides `sibling`, so the file is run by path.
        assert_eq!(graph.target(1).unwrap().name, "pkg.sibling");
        assert_eq!(graph.project_path_named("tools"), Some("tools/"));
    }

    #[test]
    fn an_extension_module_beats_a_source_file_of_the_same_name() {
        let files = [file("fast.py", Some("fast")), file("app.py", Some("app"))];
        let extensions = [ExtensionFile {
            path: PathBuf::from("fast.abi3.so"),
            rel: "fast.abi3.so".into(),
            module: ModuleName::new("fast"),
        }];
        let import = site("app.py", 1, "fast", None);
        let mut diagnostics = Vec::new();
        let imports = [import];
        let graph = build(
            &files,
            &extensions,
            &root(),
            &imports,
            PY311,
            &mut diagnostics,
        );
        assert_eq!(
            graph.target(0).unwrap().kind,
            NodeKind::Compiled {
                file: "fast.abi3.so".into()
            }
        );
    }
}
