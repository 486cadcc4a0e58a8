//! `envscan graph`: the module graph as Graphviz dot, Mermaid or JSON.
//!
//! Local modules and scripts are drawn as they are; external modules are grouped by the
//! distribution that provides them (a dot cluster or a Mermaid subgraph); the standard library
//! is hidden unless asked for. An edge stands for every import site between two nodes and is
//! labelled with their contexts unless one of them is a plain import. `focus` keeps only the
//! chains that reach a module (or its submodules) or a distribution.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::fmt::Write;

use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use schemars::JsonSchema;
use serde::Serialize;

use super::{ModuleGraph, NodeKind};
use crate::names::ModuleName;
use crate::parse::{Context, ImportSite, Sites};

#[derive(Debug, Default, Clone)]
pub struct RenderOptions {
    pub stdlib: bool,
    /// A module name or a distribution name.
    pub focus: Option<String>,
    /// External module → the distribution that provides it.
    pub distribution_of: BTreeMap<String, String>,
}

/// The graph after filtering: what every format draws.
#[derive(Debug, Serialize, JsonSchema)]
pub struct GraphView {
    pub nodes: Vec<ViewNode>,
    pub edges: Vec<ViewEdge>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ViewNode {
    pub id: usize,
    pub name: String,
    /// `local`, `namespace`, `script`, `binary_local`, `stdlib` or `external`.
    pub kind: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ViewEdge {
    pub from: usize,
    pub to: usize,
    /// How many import sites the edge stands for.
    pub sites: usize,
    /// Empty when at least one site is a plain import.
    pub context: Vec<Context>,
    /// The first site, as `file:line`.
    pub first: String,
}

/// Filters the graph. `None` when `focus` names nothing in it.
/// `sites` are the import sites the graph was built from (its edges are numbered by them).
pub fn view(graph: &ModuleGraph, sites: &Sites, options: &RenderOptions) -> Option<GraphView> {
    let g = &graph.graph;
    let shown = |index: NodeIndex| options.stdlib || g[index].kind != NodeKind::Stdlib;
    let mut kept: BTreeSet<NodeIndex> = g.node_indices().filter(|&i| shown(i)).collect();
    if let Some(focus) = &options.focus {
        let focus_module = ModuleName::new(focus);
        let targets: Vec<NodeIndex> = g
            .node_indices()
            .filter(|&i| {
                let name = &g[i].name;
                let by_module = focus_module
                    .as_ref()
                    .is_some_and(|f| ModuleName::new(name).is_some_and(|n| n.starts_with(f)));
                let by_distribution = options.distribution_of.get(name).is_some_and(|d| {
                    crate::names::PackageName::new(d) == crate::names::PackageName::new(focus)
                });
                by_module || by_distribution
            })
            .collect();
        if targets.is_empty() {
            return None;
        }
        // Everything that reaches a target, walking edges backwards.
        let mut reach: BTreeSet<NodeIndex> = targets.iter().copied().collect();
        let mut queue: VecDeque<NodeIndex> = targets.into_iter().collect();
        while let Some(node) = queue.pop_front() {
            for source in g.neighbors_directed(node, Direction::Incoming) {
                if reach.insert(source) {
                    queue.push_back(source);
                }
            }
        }
        kept.retain(|i| reach.contains(i));
    }
    // Ids follow names so output does not depend on insertion order.
    let mut ordered: Vec<NodeIndex> = kept.iter().copied().collect();
    ordered.sort_by(|a, b| g[*a].name.cmp(&g[*b].name));
    let id_of: BTreeMap<NodeIndex, usize> =
        ordered.iter().enumerate().map(|(id, &i)| (i, id)).collect();
    let nodes = ordered
        .iter()
        .enumerate()
        .map(|(id, &i)| {
            let node = &g[i];
            let (kind, file) = match &node.kind {
                NodeKind::Local { file } => ("local", Some(file.clone())),
                NodeKind::Namespace => ("namespace", None),
                NodeKind::Script { file } => ("script", Some(file.clone())),
                NodeKind::Compiled { file } => ("binary_local", Some(file.clone())),
                NodeKind::Stdlib => ("stdlib", None),
                NodeKind::External => ("external", None),
            };
            ViewNode {
                id,
                name: node.name.clone(),
                kind: kind.to_string(),
                file,
                distribution: options.distribution_of.get(&node.name).cloned(),
            }
        })
        .collect();
    let mut grouped: BTreeMap<(usize, usize), Vec<&ImportSite>> = BTreeMap::new();
    for edge in g.edge_references() {
        if let (Some(&from), Some(&to)) = (id_of.get(&edge.source()), id_of.get(&edge.target()))
            && from != to
            && let Some(site) = sites.get(*edge.weight() as usize)
        {
            grouped.entry((from, to)).or_default().push(site);
        }
    }
    let edges = grouped
        .into_iter()
        .map(|((from, to), mut sites)| {
            sites.sort();
            let plain = sites.iter().any(|s| s.context.is_empty());
            let context: BTreeSet<Context> = if plain {
                BTreeSet::new()
            } else {
                sites.iter().flat_map(|s| s.context.iter()).collect()
            };
            ViewEdge {
                from,
                to,
                sites: sites.len(),
                context: context.into_iter().collect(),
                first: format!("{}:{}", sites[0].file, sites[0].line),
            }
        })
        .collect();
    Some(GraphView { nodes, edges })
}

fn context_label(context: &[Context]) -> String {
    context
        .iter()
        .map(|c| {
            serde_json::to_value(c)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Graphviz dot; external modules clustered by distribution.
pub fn to_dot(view: &GraphView) -> String {
    let quote = |s: &str| format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""));
    let mut out = String::from(
        "digraph envscan {\n  rankdir=LR;\n  node [shape=box, fontname=\"Helvetica\"];\n",
    );
    let mut clusters: BTreeMap<&str, Vec<&ViewNode>> = BTreeMap::new();
    for node in &view.nodes {
        match &node.distribution {
            Some(dist) => clusters.entry(dist).or_default().push(node),
            None => {
                let style = match node.kind.as_str() {
                    "external" => ", style=dashed",
                    "stdlib" => ", style=dotted",
                    "namespace" => ", style=rounded",
                    "script" => ", shape=note",
                    _ => "",
                };
                let _ = writeln!(out, "  n{} [label={}{style}];", node.id, quote(&node.name));
            }
        }
    }
    for (index, (dist, nodes)) in clusters.into_iter().enumerate() {
        let _ = writeln!(
            out,
            "  subgraph cluster_{index} {{\n    label={};\n    style=dashed;",
            quote(dist)
        );
        for node in nodes {
            let _ = writeln!(out, "    n{} [label={}];", node.id, quote(&node.name));
        }
        out.push_str("  }\n");
    }
    for edge in &view.edges {
        if edge.context.is_empty() {
            let _ = writeln!(out, "  n{} -> n{};", edge.from, edge.to);
        } else {
            let label = context_label(&edge.context);
            let _ = writeln!(
                out,
                "  n{} -> n{} [label={}, style=dashed];",
                edge.from,
                edge.to,
                quote(&label)
            );
        }
    }
    out.push_str("}\n");
    out
}

/// Mermaid flowchart; external modules in a subgraph per distribution.
pub fn to_mermaid(view: &GraphView) -> String {
    let label = |s: &str| format!("\"{}\"", s.replace('"', "#quot;"));
    let mut out = String::from("flowchart LR\n");
    let mut clusters: BTreeMap<&str, Vec<&ViewNode>> = BTreeMap::new();
    for node in &view.nodes {
        match &node.distribution {
            Some(dist) => clusters.entry(dist).or_default().push(node),
            None => {
                let _ = writeln!(out, "  n{}[{}]", node.id, label(&node.name));
            }
        }
    }
    for (index, (dist, nodes)) in clusters.into_iter().enumerate() {
        let _ = writeln!(out, "  subgraph d{index}[{}]", label(dist));
        for node in nodes {
            let _ = writeln!(out, "    n{}[{}]", node.id, label(&node.name));
        }
        out.push_str("  end\n");
    }
    for edge in &view.edges {
        if edge.context.is_empty() {
            let _ = writeln!(out, "  n{} --> n{}", edge.from, edge.to);
        } else {
            let _ = writeln!(
                out,
                "  n{} -.->|{}| n{}",
                edge.from,
                label(&context_label(&edge.context)),
                edge.to
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn graph_schema_is_current() {
        crate::schema::assert_current::<GraphView>("graph.schema.json");
    }
}
