//! `envscan scan`: every import of a project, where it is and how it is guarded.

use std::io::Write;

use owo_colors::{OwoColorize, Style};
use rustc_hash::{FxHashMap, FxHashSet};
use schemars::JsonSchema;
use serde::Serialize;

use super::scan_json::{FileField, write_import, write_module};
use crate::ExitStatus;
use crate::cli::{GlobalArgs, ScanArgs};
use crate::diagnostic::Diagnostic;
use crate::env::{DiscoverOptions, discover as discover_env};
use crate::graph::{ImportClass, NodeKind};
use crate::output;
use crate::parse::ImportSite;
use crate::scan::{ProjectScan, scan_project};
use crate::settings::{Project, ScanSettings};

/// `envscan scan --format json`. Described by `schemas/scan.schema.json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct ScanReport<'a> {
    /// The Python version whose standard library was assumed, X.Y.
    pub python_version: String,
    /// The import roots, relative to the project (`""` is the project folder).
    pub roots: Vec<String>,
    /// How many files were parsed.
    pub files: usize,
    /// Every import site, sorted by file, line and column.
    pub imports: Vec<ScannedImport<'a>>,
    /// The project's own modules, sorted by name.
    pub modules: Vec<LocalModule>,
    /// Imported top-level names that are neither local nor standard library.
    pub external: Vec<NameSummary>,
    /// Imported standard-library top-level names.
    pub stdlib: Vec<&'a str>,
    pub diagnostics: &'a [Diagnostic],
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct ScannedImport<'a> {
    #[serde(flatten)]
    pub site: &'a ImportSite,
    /// What the imported name is on its own.
    pub class: ImportClass,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LocalModule {
    pub name: String,
    /// The module's file; absent for a namespace package.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub file: Option<String>,
    pub namespace: bool,
    /// An extension module built in the project (`binary_local`: it cannot travel).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub compiled: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct NameSummary {
    pub name: String,
    /// How many import sites name it.
    pub count: usize,
    /// The first site, as `file:line`.
    pub first: String,
}

pub fn run(args: &ScanArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let json = output::wants_json(global)?;
    let project = Project::open(&args.project.path)?;
    let mut diagnostics = project.diagnostics.clone();
    let mut project_args = args.project.clone();
    // `--python`: the environment's version decides what is standard library, as in `lock`;
    // its files are read, the interpreter is not run.
    if let Some(python) = &args.python
        && project_args.python_version.is_none()
    {
        let mut discover = DiscoverOptions::from_process(&project.root);
        discover.python = Some(python.clone());
        discover.cache_dir = crate::settings::local_cache_dir(&args.project);
        let env = discover_env(&discover)?;
        diagnostics.extend(env.diagnostics.iter().cloned());
        project_args.python_version = Some(env.python.python_version().to_string());
    }
    let settings = ScanSettings::resolve(&project, &project_args, &mut diagnostics)?;
    let scan = scan_project(&settings, diagnostics);
    let mut report = report(&scan, &settings.python_version.to_string());
    if json {
        // Each file's sites, rendered as the report's `imports` items on the pool.
        let parts: Vec<(usize, &[ImportSite])> = scan.imports.parts().collect();
        let write_part = |&(start, sites): &(usize, &[ImportSite]), out: &mut Vec<u8>| {
            let mut file = FileField::default();
            for (index, site) in (start..).zip(sites) {
                out.extend_from_slice(output::LIST_ITEM);
                let class = scan.graph.class_of(index);
                write_import(&ScannedImport { site, class }, &mut file, out)?;
            }
            Ok(())
        };
        // The modules too (a line each of a large project's 20,000 files), spliced after.
        let modules = std::mem::take(&mut report.modules);
        let write_modules = |out: &mut Vec<u8>| {
            modules.iter().try_for_each(|module| {
                out.extend_from_slice(output::LIST_ITEM);
                write_module(module, out)
            })
        };
        let later = [output::LaterList {
            key: "modules",
            write: &write_modules,
        }];
        output::print_json_with_list(&report, "imports", &parts, write_part, &later)?;
    } else {
        print_human(&report, scan.imports.len(), global)?;
        output::print_diagnostics(report.diagnostics, global)?;
    }
    let status = output::exit_status(report.diagnostics, global);
    // The process ends here: freeing every site and node one by one would only cost time.
    std::mem::forget(report);
    std::mem::forget(scan);
    Ok(status)
}

/// The report of `scan`, its `imports` list left empty: the JSON output fills it from the
/// sites as it writes (a large project has hundreds of thousands), the human one counts them.
pub fn report<'a>(scan: &'a ProjectScan, python_version: &str) -> ScanReport<'a> {
    // Counted by target node, then summed by top-level name: a stdlib or external node is
    // named for the module its sites import, so its top level is theirs.
    let (by_node, outside) = scan.graph.site_counts();
    let mut tally = Tally::default();
    let nodes = scan.graph.graph.node_weights().zip(&by_node);
    for (node, &(count, first)) in nodes.filter(|(_, (count, _))| *count > 0) {
        let top = crate::names::top_level(&node.name);
        match node.kind {
            NodeKind::External => tally.external(top, count, first),
            NodeKind::Stdlib => {
                tally.stdlib.insert(top);
            }
            _ => {}
        }
    }
    // Sites of files outside the graph count as external (`class_of`).
    for index in outside {
        tally.external(scan.imports[index].module.top_level(), 1, index);
    }
    let external = tally.external.into_iter().map(|(top, (count, first))| {
        let site = &scan.imports[first];
        NameSummary {
            name: top.to_string(),
            count,
            first: format!("{}:{}", site.file, site.line),
        }
    });
    let mut external: Vec<NameSummary> = external.collect();
    external.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let mut stdlib: Vec<&str> = tally.stdlib.into_iter().collect();
    stdlib.sort_unstable();
    let modules = scan
        .graph
        .local_modules()
        .into_iter()
        .map(|node| LocalModule {
            name: node.name.clone(),
            file: match &node.kind {
                NodeKind::Local { file } | NodeKind::Compiled { file } => Some(file.clone()),
                _ => None,
            },
            namespace: node.kind == NodeKind::Namespace,
            compiled: matches!(node.kind, NodeKind::Compiled { .. }),
        })
        .collect();
    ScanReport {
        python_version: python_version.to_string(),
        roots: scan.roots.iter().map(|r| r.rel.clone()).collect(),
        files: scan.files.len(),
        imports: Vec::new(),
        modules,
        external,
        stdlib,
        diagnostics: &scan.diagnostics,
    }
}

/// The top-level names of the external imports (with their count and first site) and of the
/// standard-library ones.
#[derive(Default)]
struct Tally<'a> {
    external: FxHashMap<&'a str, (usize, usize)>,
    stdlib: FxHashSet<&'a str>,
}

impl<'a> Tally<'a> {
    /// `count` more sites of `top`; the first site is the earliest seen.
    fn external(&mut self, top: &'a str, count: usize, first: usize) {
        let known = self.external.entry(top).or_insert((0, first));
        known.0 += count;
        known.1 = known.1.min(first);
    }
}

/// The human report; `imports` is how many import sites there are (the report holds no list
/// of them for it).
fn print_human(report: &ScanReport, imports: usize, global: &GlobalArgs) -> std::io::Result<()> {
    output::print_text(|out| write_human(out, report, imports, global))
}

fn write_human(
    out: &mut Vec<u8>,
    report: &ScanReport,
    imports: usize,
    global: &GlobalArgs,
) -> std::io::Result<()> {
    // Plain when stdout strips colour anyway: a line per local module is too many to strip.
    let colour = output::stdout_has_colour();
    let bold = output::plain_unless(colour, Style::new().bold());
    let dimmed = output::plain_unless(colour, Style::new().dimmed());
    let scanned = if colour {
        "Scanned".green().bold().to_string()
    } else {
        "Scanned".to_string()
    };
    writeln!(
        out,
        "{scanned} {} files, {} imports (Python {})",
        report.files, imports, report.python_version
    )?;
    if !report.external.is_empty() {
        writeln!(out, "\n{}", "External".style(bold))?;
        let width = report
            .external
            .iter()
            .map(|e| e.name.len())
            .max()
            .unwrap_or(0);
        for name in &report.external {
            writeln!(
                out,
                "  {:width$}  {:>4}×  {}",
                name.name,
                name.count,
                name.first.style(dimmed)
            )?;
        }
    }
    let modules: Vec<&LocalModule> = report.modules.iter().filter(|m| !m.namespace).collect();
    if !modules.is_empty() {
        writeln!(out, "\n{}", "Local modules".style(bold))?;
        for module in modules {
            let file = module.file.as_deref().unwrap_or_default();
            writeln!(out, "  {}  {}", module.name, file.style(dimmed))?;
        }
    }
    if !report.stdlib.is_empty() {
        writeln!(out, "\n{}", "Standard library".style(bold))?;
        writeln!(out, "  {}", report.stdlib.join(", "))?;
    }
    if let Some(summary) = output::diagnostics_summary(report.diagnostics, global) {
        writeln!(out, "\n{summary}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scan_schema_is_current() {
        crate::schema::assert_current::<ScanReport<'static>>("scan.schema.json");
    }
}
