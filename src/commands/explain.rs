//! `envscan explain NAME`: why a distribution or module is in (or out of) the lock.
//!
//! For a distribution: its class and the reason, the import chains from project files that
//! reach the modules it provides, and the `Requires-Dist` edges that pulled it in. For a
//! module: what it resolved to, and the same chains.

use std::collections::{BTreeSet, VecDeque};
use std::io::Write;
use std::str::FromStr;

use owo_colors::OwoColorize;
use pep508_rs::{Requirement, VerbatimUrl};
use petgraph::Direction;
use petgraph::graph::NodeIndex;
use petgraph::visit::EdgeRef;
use schemars::JsonSchema;
use serde::Serialize;

use crate::ExitStatus;
use crate::analysis::{Analysis, RunOptions};
use crate::cli::{ExplainArgs, GlobalArgs};
use crate::graph::NodeKind;
use crate::names::{ModuleName, PackageName};
use crate::output;
use crate::resolve::Target;
use crate::target::coverage::Coverage;

/// `envscan explain --format json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct Explanation {
    pub name: String,
    /// What `name` turned out to be: `distribution`, `module` or `unknown`.
    pub found_as: String,
    /// Whether it is in the lock or travels another way.
    pub verdict: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub distribution: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The machine the lock is for (`manylinux_2_28_x86_64 cp311 cuda12.4`).
    pub target: String,
    /// The installed version, when the lock holds another build for the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    /// What the target installs of the locked version: the wheel its installer picks, the
    /// sdist, or nothing (with what exists instead).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target_file: Option<Coverage>,
    /// Import chains from a project file to the module, each link `file:line module`.
    pub import_chains: Vec<Vec<Link>>,
    /// Requirement chains from an imported distribution (or a plugin) down to this one.
    pub requirement_chains: Vec<Vec<String>>,
    /// The needed hosts that load it as a plugin, and how.
    pub plugin_of: Vec<String>,
    /// For an installed distribution that is not needed: what would pull it in (an entry-point
    /// group it provides, an option it registers, a command it installs, what requires it).
    pub would_pull_in: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Link {
    pub file: String,
    pub line: u32,
    /// The module imported at that line.
    pub imports: String,
}

pub fn run(args: &ExplainArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let json = output::wants_json(global)?;
    let analysis = Analysis::run(&args.analysis, RunOptions::default())?;
    let explanation = explain(&analysis, &args.name);
    if json {
        output::print_json(&explanation)?;
    } else {
        print_human(&explanation)?;
    }
    Ok(ExitStatus::Success)
}

pub fn explain(analysis: &Analysis, name: &str) -> Explanation {
    let package_name = PackageName::new(name);
    let module = ModuleName::new(name);
    let mut explanation = Explanation {
        name: name.to_string(),
        found_as: "unknown".into(),
        verdict: String::new(),
        distribution: None,
        version: None,
        class: None,
        reason: None,
        target: analysis.target.to_string(),
        installed_version: None,
        target_file: None,
        import_chains: Vec::new(),
        requirement_chains: Vec::new(),
        plugin_of: Vec::new(),
        would_pull_in: Vec::new(),
    };
    // The distribution, by name or through a module it provides.
    let dist_name = if analysis.packages.contains_key(&package_name) {
        explanation.found_as = "distribution".into();
        Some(package_name.clone())
    } else {
        module.as_ref().and_then(|m| {
            analysis
                .imports
                .iter()
                .find(|i| &i.module == m)
                .and_then(|i| {
                    explanation.found_as = "module".into();
                    match &i.target {
                        Target::Distribution(d) => Some(d.clone()),
                        _ => None,
                    }
                })
        })
    };
    let modules: Vec<ModuleName> = match (&dist_name, &module) {
        (_, Some(m)) if explanation.found_as == "module" => vec![m.clone()],
        (Some(d), _) => analysis
            .packages
            .get(d)
            .map(|p| p.imported_as.iter().cloned().collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    for module in &modules {
        explanation
            .import_chains
            .extend(import_chains(analysis, module.as_str()));
    }
    match dist_name.and_then(|d| analysis.packages.get(&d)) {
        Some(package) => {
            explanation.distribution = Some(package.name.to_string());
            explanation.version = Some(package.version.clone());
            explanation.class = Some(package.class.to_string());
            explanation.reason = Some(package.reason.to_string());
            explanation
                .installed_version
                .clone_from(&package.installed_version);
            explanation.target_file.clone_from(&package.coverage);
            explanation.verdict = match package.class {
                crate::classify::Class::Pypi if package.files.is_some() => "in the lock".into(),
                crate::classify::Class::Pypi => "needed, but not verified on an index".into(),
                crate::classify::Class::Conda => "in envscan.conda.yaml".into(),
                crate::classify::Class::Local => "travels as a local archive".into(),
                _ => "not moved".into(),
            };
            explanation.requirement_chains = requirement_chains(analysis, &package.name);
            explanation.plugin_of = package.plugin_of.iter().map(ToString::to_string).collect();
        }
        None => {
            explanation.verdict = out_verdict(analysis, name, module.as_ref(), &mut explanation);
        }
    }
    explanation
}

/// Why something that is not a needed distribution is out.
fn out_verdict(
    analysis: &Analysis,
    name: &str,
    module: Option<&ModuleName>,
    explanation: &mut Explanation,
) -> String {
    if let Some(m) = module {
        if analysis.typing_only.contains(m) {
            explanation.found_as = "module".into();
            return "not locked: imported only under TYPE_CHECKING".into();
        }
        if let Some(u) = analysis.unresolved.iter().find(|u| &u.module == m) {
            explanation.found_as = "module".into();
            explanation.class = Some("unresolved".into());
            return match (&u.suggestion, &u.project_path) {
                (Some(dist), _) => format!("not locked: imported but not installed (try `{dist}`)"),
                (None, Some(path)) => {
                    format!("not locked: not on the import path, although the project has `{path}`")
                }
                (None, None) => "not locked: imported but not installed".into(),
            };
        }
        if let Some(index) = analysis.scan.graph.node(m.as_str()) {
            explanation.found_as = "module".into();
            let node = &analysis.scan.graph.graph[index];
            explanation.import_chains = import_chains(analysis, m.as_str());
            return match &node.kind {
                NodeKind::Stdlib => {
                    explanation.class = Some("stdlib".into());
                    "not locked: standard library".into()
                }
                NodeKind::Compiled { .. } => {
                    explanation.class = Some("binary_local".into());
                    "a compiled module of the project: not moved; build it into the base image"
                        .into()
                }
                NodeKind::Local { .. } | NodeKind::Namespace | NodeKind::Script { .. } => {
                    explanation.class = Some("local".into());
                    "a module of the project: travels in the project archive".into()
                }
                NodeKind::External => "imported; see the distribution that provides it".into(),
            };
        }
    }
    let installed = analysis.env.distribution(&PackageName::new(name));
    match installed {
        Some(dist) => {
            explanation.found_as = "distribution".into();
            explanation.version = Some(dist.version.clone());
            explanation.would_pull_in = super::explain_unneeded::would_pull_in(analysis, dist);
            match excluded_by_marker(analysis, &dist.name) {
                Some((requirer, requirement)) => format!(
                    "not locked: {requirer} requires `{requirement}`, whose marker excludes it \
                     on the target ({})",
                    analysis.target
                ),
                None => "not locked: installed, but nothing the project imports needs it".into(),
            }
        }
        None => "not locked: neither imported by the project nor installed".into(),
    }
}

/// A needed distribution's requirement on `name` whose marker is false on the target (a
/// platform-only package such as pywin32 on Linux): (requirer, requirement).
fn excluded_by_marker(analysis: &Analysis, name: &PackageName) -> Option<(String, String)> {
    let environment =
        crate::target::marker_environment(&analysis.env.python.version, &analysis.target).ok()?;
    analysis.packages.values().find_map(|package| {
        let dist = analysis.env.distribution(&package.name)?;
        dist.requires_dist.iter().find_map(|r| {
            let parsed = r.parsed()?;
            (PackageName::new(parsed.name.as_ref()) == *name
                && parsed.extras.is_empty()
                && !parsed.marker.evaluate(&environment, &[]))
            .then(|| (package.display_name.clone(), r.raw.clone()))
        })
    })
}

/// Chains from a root (a file nothing in the project imports) to the sites importing `module`.
fn import_chains(analysis: &Analysis, module: &str) -> Vec<Vec<Link>> {
    let graph = &analysis.scan.graph.graph;
    let Some(target) = analysis.scan.graph.node(module) else {
        return Vec::new();
    };
    let mut chains = Vec::new();
    for edge in graph.edges_directed(target, Direction::Incoming) {
        let Some(site) = analysis.scan.site(*edge.weight()) else {
            continue;
        };
        let mut chain = path_from_root(analysis, edge.source());
        chain.push(Link {
            file: site.file.to_string(),
            line: site.line,
            imports: module.to_string(),
        });
        chains.push(chain);
    }
    chains.sort_by(|a, b| (a.len(), &a[0].file, a[0].line).cmp(&(b.len(), &b[0].file, b[0].line)));
    chains.truncate(10);
    chains
}

/// The shortest import path from a project root to `node` (excluding the final edge).
fn path_from_root(analysis: &Analysis, node: NodeIndex) -> Vec<Link> {
    let graph = &analysis.scan.graph.graph;
    // Breadth-first backwards until a node nobody imports.
    let mut previous: std::collections::HashMap<NodeIndex, petgraph::graph::EdgeIndex> =
        std::collections::HashMap::new();
    let mut seen = BTreeSet::from([node]);
    let mut queue = VecDeque::from([node]);
    let mut root = node;
    while let Some(current) = queue.pop_front() {
        let mut incoming: Vec<_> = graph
            .edges_directed(current, Direction::Incoming)
            .filter(|e| e.source() != current)
            .collect();
        if incoming.is_empty() {
            root = current;
            break;
        }
        incoming.sort_by(|a, b| a.weight().cmp(b.weight()));
        for edge in incoming {
            if seen.insert(edge.source()) {
                previous.insert(edge.source(), edge.id());
                queue.push_back(edge.source());
            }
        }
    }
    let mut links = Vec::new();
    let mut current = root;
    while let Some(&edge) = previous.get(&current) {
        let (_, to) = graph.edge_endpoints(edge).unwrap_or((current, current));
        let Some(site) = analysis.scan.site(graph[edge]) else {
            break;
        };
        links.push(Link {
            file: site.file.to_string(),
            line: site.line,
            imports: graph[to].name.clone(),
        });
        current = to;
    }
    links
}

/// Requirement chains from imported distributions down to `name`. A link that only an extra
/// brings (`pysocks; extra == 'socks'`) continues only through requirers that ask for that
/// extra (`requests[socks]`), so a chain never credits a requirer that did not pull it in.
fn requirement_chains(analysis: &Analysis, name: &PackageName) -> Vec<Vec<String>> {
    let environment =
        crate::target::marker_environment(&analysis.env.python.version, &analysis.target).ok();
    // The requirement, when its marker holds only with an extra of the requirer.
    let extra_only = |requirement: &str| -> Option<Requirement<VerbatimUrl>> {
        let parsed = Requirement::<VerbatimUrl>::from_str(requirement).ok()?;
        let environment = environment.as_ref()?;
        (!parsed.marker.evaluate(environment, &[])).then_some(parsed)
    };
    let asks_for = |pending: &Option<Requirement<VerbatimUrl>>, requirement: &str| match (
        pending,
        &environment,
    ) {
        (Some(pending), Some(environment)) => Requirement::<VerbatimUrl>::from_str(requirement)
            .is_ok_and(|r| pending.marker.evaluate(environment, &r.extras)),
        _ => true,
    };
    let mut chains = Vec::new();
    let mut queue: VecDeque<(PackageName, Vec<String>, Option<Requirement<VerbatimUrl>>)> =
        VecDeque::from([(name.clone(), vec![], None)]);
    let mut seen = BTreeSet::from([name.clone()]);
    while let Some((current, chain, pending)) = queue.pop_front() {
        let Some(package) = analysis.packages.get(&current) else {
            continue;
        };
        if package.required_by.is_empty() && !chain.is_empty() && pending.is_none() {
            let mut full = chain.clone();
            if let Some(plugin) = package.plugin_of.first() {
                full.push(format!("{current}: {plugin}"));
            }
            full.reverse();
            chains.push(full);
        }
        for requirer in &package.required_by {
            if !asks_for(&pending, &requirer.requirement) {
                continue;
            }
            let version = analysis
                .packages
                .get(&requirer.name)
                .map(|p| p.version.as_str())
                .unwrap_or_default();
            let own = analysis.own_distributions.contains(&requirer.name);
            let mut next = chain.clone();
            next.push(if own {
                format!(
                    "the project's distribution {} requires {}",
                    requirer.name, requirer.requirement
                )
            } else {
                format!(
                    "{} {version} requires {}",
                    requirer.name, requirer.requirement
                )
            });
            let next_pending = extra_only(&requirer.requirement);
            let requirer_package = analysis.packages.get(&requirer.name);
            // A plugin that nothing requires ends its chain when it is taken from the queue.
            let plugin = requirer_package
                .filter(|p| !p.required_by.is_empty())
                .and_then(|p| p.plugin_of.first());
            if (own
                || plugin.is_some()
                || requirer_package.is_some_and(|p| !p.imported_as.is_empty()))
                && next_pending.is_none()
            {
                let mut full = next.clone();
                if let Some(plugin) = plugin {
                    full.push(format!("{}: {plugin}", requirer.name));
                }
                full.reverse();
                chains.push(full);
            }
            if seen.insert(requirer.name.clone()) {
                queue.push_back((requirer.name.clone(), next, next_pending));
            }
        }
    }
    chains.sort();
    chains.dedup();
    chains
}

fn print_human(e: &Explanation) -> std::io::Result<()> {
    let mut out = anstream::stdout().lock();
    let title = match (&e.distribution, &e.version) {
        (Some(d), Some(v)) => format!("{d} {v}"),
        _ => e.name.clone(),
    };
    writeln!(out, "{}: {}", title.bold(), e.verdict)?;
    if let (Some(class), Some(reason)) = (&e.class, &e.reason) {
        writeln!(out, "  class {class}: {reason}")?;
    } else if let Some(class) = &e.class {
        writeln!(out, "  class {class}")?;
    }
    if let Some(installed) = &e.installed_version {
        writeln!(
            out,
            "  installed {installed}; the lock holds the target's build"
        )?;
    }
    if let Some(file) = &e.target_file {
        writeln!(out, "  on {}: {}", e.target, file.describe())?;
    }
    // One heading per kind; each chain starts at the margin below it and indents a step
    // per link, so two chains read as two, not as two headings.
    if !e.import_chains.is_empty() {
        writeln!(out, "  {}", "imported through".dimmed())?;
    }
    for chain in &e.import_chains {
        for (depth, link) in chain.iter().enumerate() {
            let indent = 4 + 2 * depth;
            writeln!(
                out,
                "{:indent$}{}:{} imports {}",
                "", link.file, link.line, link.imports
            )?;
        }
    }
    for plugin in &e.plugin_of {
        writeln!(out, "  {plugin}")?;
    }
    if !e.requirement_chains.is_empty() {
        writeln!(out, "  {}", "required through".dimmed())?;
    }
    for chain in &e.requirement_chains {
        for (depth, step) in chain.iter().enumerate() {
            let indent = 4 + 2 * depth;
            writeln!(out, "{:indent$}{step}", "")?;
        }
    }
    if !e.would_pull_in.is_empty() {
        writeln!(out, "  {}", "what would pull it in".dimmed())?;
    }
    for line in &e.would_pull_in {
        writeln!(out, "    {line}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explain_schema_is_current() {
        crate::schema::assert_current::<Explanation>("explain.schema.json");
    }
}
