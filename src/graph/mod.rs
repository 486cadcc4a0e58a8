//! The module graph: the project's own modules, what they import, and how.
//!
//! Nodes are modules: local ones (named by the walk under the project's import roots, plus the
//! PEP 420 namespace packages their folders imply), scripts that have no module name, and the
//! imported names that are not local, classified `stdlib` or `external`. Edges are import
//! sites. The local resolution follows Python's order for the first entry of `sys.path`:
//! a project module shadows the standard library, except builtin modules, which nothing shadows.

use std::collections::BTreeMap;

use petgraph::graph::{DiGraph, NodeIndex};
use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic};
use crate::names::ModuleName;
use crate::parse::ImportSite;
use crate::settings::PythonVersion;
use crate::walk::SourceFile;

pub mod render;

pub const LOCAL_MODULE_NOT_FOUND: Code = Code("local-module-not-found");

/// Modules compiled into CPython (`sys.builtin_module_names` on Linux, 3.8–3.13): a project
/// file of the same name never shadows them.
const BUILTIN_MODULES: &[&str] = &[
    "_abc",
    "_ast",
    "_codecs",
    "_collections",
    "_functools",
    "_imp",
    "_io",
    "_locale",
    "_operator",
    "_signal",
    "_sre",
    "_stat",
    "_string",
    "_symtable",
    "_thread",
    "_tokenize",
    "_tracemalloc",
    "_typing",
    "_warnings",
    "_weakref",
    "atexit",
    "builtins",
    "errno",
    "faulthandler",
    "gc",
    "itertools",
    "marshal",
    "posix",
    "pwd",
    "sys",
    "time",
    "xxsubtype",
];

pub fn is_builtin_module(top_level: &str) -> bool {
    BUILTIN_MODULES.contains(&top_level)
}

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

#[derive(Debug, Default)]
pub struct ModuleGraph {
    pub graph: DiGraph<Node, ImportSite>,
    by_name: BTreeMap<String, NodeIndex>,
}

impl ModuleGraph {
    pub fn node(&self, name: &str) -> Option<NodeIndex> {
        self.by_name.get(name).copied()
    }

    fn add(&mut self, name: String, kind: NodeKind) -> NodeIndex {
        if let Some(&index) = self.by_name.get(&name) {
            return index;
        }
        let index = self.graph.add_node(Node {
            name: name.clone(),
            kind,
        });
        self.by_name.insert(name, index);
        index
    }

    /// Local modules (and namespace packages), sorted by name.
    pub fn local_modules(&self) -> impl Iterator<Item = &Node> {
        self.by_name
            .values()
            .map(|&i| &self.graph[i])
            .filter(|node| matches!(node.kind, NodeKind::Local { .. } | NodeKind::Namespace))
    }

    /// The class of the node an import site points at.
    pub fn class_of(&self, site: &ImportSite) -> ImportClass {
        match self.target_of(site).map(|i| &self.graph[i].kind) {
            Some(NodeKind::Stdlib) => ImportClass::Stdlib,
            Some(NodeKind::External) | None => ImportClass::External,
            Some(_) => ImportClass::Local,
        }
    }

    /// The node of `from a import b` is `a.b` when that is a module, else `a`.
    fn target_of(&self, site: &ImportSite) -> Option<NodeIndex> {
        site.member
            .as_deref()
            .and_then(|member| site.module.join(member))
            .and_then(|name| self.node(name.as_str()))
            .or_else(|| self.node(site.module.as_str()))
    }
}

/// Builds the graph from the walked files and the parsed import sites.
pub fn build(
    files: &[SourceFile],
    imports: &[ImportSite],
    python: PythonVersion,
    diagnostics: &mut Vec<Diagnostic>,
) -> ModuleGraph {
    let mut graph = ModuleGraph::default();
    let mut local: BTreeMap<ModuleName, String> = BTreeMap::new();
    let mut source_of_file: BTreeMap<&str, String> = BTreeMap::new();
    for file in files {
        match &file.module {
            Some(module) => {
                // Two files can claim one name (`a.py` beside `a/__init__.py`); Python takes
                // the package, and so does the sorted walk's last writer here.
                if file.is_package || !local.contains_key(module) {
                    local.insert(module.clone(), file.rel.clone());
                }
                source_of_file.insert(&file.rel, module.to_string());
            }
            None => {
                source_of_file.insert(&file.rel, file.rel.clone());
            }
        }
    }
    for (module, file) in &local {
        graph.add(module.to_string(), NodeKind::Local { file: file.clone() });
    }
    // Parents of local modules that are not modules themselves are namespace packages.
    let namespaces: Vec<ModuleName> = local
        .keys()
        .flat_map(|m| m.ancestors().skip(1).collect::<Vec<_>>())
        .filter(|m| !local.contains_key(m))
        .collect();
    for namespace in namespaces {
        graph.add(namespace.to_string(), NodeKind::Namespace);
    }
    for file in files {
        if file.module.is_none() {
            graph.add(
                file.rel.clone(),
                NodeKind::Script {
                    file: file.rel.clone(),
                },
            );
        }
    }

    for site in imports {
        let Some(source_name) = source_of_file.get(site.file.as_str()) else {
            continue;
        };
        let Some(source) = graph.node(source_name) else {
            continue;
        };
        let target = resolve_site(&mut graph, site, python, diagnostics);
        graph.graph.add_edge(source, target, site.clone());
    }
    graph
}

/// Finds or adds the node an import resolves to.
fn resolve_site(
    graph: &mut ModuleGraph,
    site: &ImportSite,
    python: PythonVersion,
    diagnostics: &mut Vec<Diagnostic>,
) -> NodeIndex {
    let top = site.module.top_level();
    let top_is_local = !is_builtin_module(top) && graph.node(top).is_some();
    if top_is_local {
        if let Some(index) = graph.target_of(site) {
            return index;
        }
        // The top level is ours but the submodule is not there: report the longest part
        // that exists, so the user sees which file or folder is missing.
        let found = site
            .module
            .ancestors()
            .find_map(|m| graph.node(m.as_str()).map(|i| (m, i)));
        if let Some((found_name, index)) = found {
            diagnostics.push(
                Diagnostic::warning(
                    LOCAL_MODULE_NOT_FOUND,
                    format!(
                        "`{}` is not a module of this project (found `{found_name}`)",
                        site.module
                    ),
                )
                .with_file(site.file.clone())
                .at(site.line, site.column),
            );
            return index;
        }
    }
    let kind = if ruff_python_stdlib::sys::is_known_standard_library(python.minor, top) {
        NodeKind::Stdlib
    } else {
        NodeKind::External
    };
    graph.add(site.module.to_string(), kind)
}
