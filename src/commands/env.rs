//! `envscan env`: the target environment as envscan reads it.
//!
//! Paths inside the environment's prefix are shown relative to it (forward slashes), so the
//! report of one environment does not depend on where it lives; paths outside it (the
//! prefix itself, the base installation, editable source folders) are absolute.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

use owo_colors::OwoColorize;
use schemars::JsonSchema;
use serde::Serialize;

use crate::ExitStatus;
use crate::cli::{EnvArgs, GlobalArgs};
use crate::diagnostic::Diagnostic;
use crate::env::file_index::OrphanReport;
use crate::env::{
    CondaRecord, DirectUrl, DiscoverOptions, DistKind, Environment, FoundBy, SearchPathKind,
};
use crate::output;
use crate::settings::Project;

/// `envscan env --format json`. Described by `schemas/env.schema.json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct EnvReport {
    pub python: PythonReport,
    /// In Python's search order.
    pub search_paths: Vec<SearchPathReport>,
    /// Sorted by normalised name.
    pub distributions: Vec<DistributionReport>,
    /// Importable modules on the search path that no distribution owns.
    pub orphans: Vec<OrphanReport>,
    /// setuptools' editable finders: top-level module → source folder.
    pub editable_finders: Vec<EditableFinderReport>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PythonReport {
    /// `cpython` or `pypy`.
    pub implementation: String,
    /// As precise as known: `3.11.7`, or `3.11` when only a folder name tells.
    pub version: String,
    /// `3.11`.
    pub python_version: String,
    /// Absolute.
    pub prefix: String,
    /// Absolute; the prefix itself outside a virtual environment.
    pub base_prefix: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub executable: Option<String>,
    pub include_system_site_packages: bool,
    pub found_by: FoundBy,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct SearchPathReport {
    pub path: String,
    pub kind: SearchPathKind,
    /// For a `.pth` path: the `.pth` file that added it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub from_pth: Option<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct DistributionReport {
    /// Normalised per PEP 503.
    pub name: String,
    /// As the metadata writes it.
    pub display_name: String,
    pub version: String,
    pub kind: DistKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installer: Option<String>,
    /// The metadata folder.
    pub metadata: String,
    /// How many files its RECORD places inside site-packages.
    pub files: usize,
    /// Top importable modules it provides.
    pub modules: Vec<String>,
    /// Files inside the prefix but outside site-packages.
    pub external_files: Vec<String>,
    /// Folders an editable or path install puts on the path or maps.
    pub editable_roots: Vec<String>,
    pub requires_dist: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requires_python: Option<String>,
    pub provides_extra: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub direct_url: Option<DirectUrl>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conda: Option<CondaRecord>,
    pub has_compiled_modules: bool,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct EditableFinderReport {
    pub file: String,
    pub mapping: BTreeMap<String, String>,
    pub namespaces: BTreeMap<String, Vec<String>>,
}

pub fn run(args: &EnvArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let json = output::wants_json(global)?;
    let project = Project::open(&args.path)?;
    let mut opts = DiscoverOptions::from_process(&project.root);
    opts.python = args.python.clone();
    opts.config_python = project.config.python.clone();
    opts.query_interpreter = args.query_interpreter;
    opts.cache_dir = crate::settings::local_cache_dir(&crate::cli::ProjectArgs {
        cache_dir: args.cache_dir.clone(),
        no_cache: args.no_cache,
        ..Default::default()
    });
    let env = crate::env::discover(&opts)?;
    let mut report = report(&env);
    // Not dropped: the process ends after printing, and freeing each distribution's strings
    // one by one would only delay that.
    std::mem::forget(env);
    let mut diagnostics = project.diagnostics.clone();
    diagnostics.append(&mut report.diagnostics);
    crate::diagnostic::sort(&mut diagnostics);
    report.diagnostics = diagnostics;
    if json {
        output::print_json(&report)?;
    } else {
        print_human(&report, global)?;
        output::print_diagnostics(&report.diagnostics, global)?;
    }
    Ok(output::exit_status(&report.diagnostics, global))
}

/// `path` relative to `prefix` with `/` when inside it, else absolute.
fn shown(path: &Path, prefix: &Path) -> String {
    // Most paths are the prefix, a separator and a plain relative path.
    match crate::relpath::plain_relative(prefix, path) {
        Some(rest) => rest.to_string(),
        None => by_components(path, prefix),
    }
}

/// [`shown`] the long way: the components of `path` below `prefix`, joined with `/`.
fn by_components(path: &Path, prefix: &Path) -> String {
    match path.strip_prefix(prefix) {
        Ok(rel) => rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy())
            .collect::<Vec<_>>()
            .join("/"),
        Err(_) => path.display().to_string(),
    }
}

pub fn report(env: &Environment) -> EnvReport {
    let python = &env.python;
    let prefix = python.prefix.as_path();
    EnvReport {
        python: PythonReport {
            implementation: python.implementation.clone(),
            version: python.version.clone(),
            python_version: python.python_version().to_string(),
            prefix: prefix.display().to_string(),
            base_prefix: python.base_prefix.display().to_string(),
            executable: python.executable.as_ref().map(|e| e.display().to_string()),
            include_system_site_packages: python.include_system_site_packages,
            found_by: python.found_by,
        },
        search_paths: env
            .search_paths
            .iter()
            .map(|s| SearchPathReport {
                path: shown(&s.path, prefix),
                kind: s.kind,
                from_pth: s.from_pth.as_deref().map(|p| shown(p, prefix)),
            })
            .collect(),
        distributions: env
            .distributions
            .iter()
            .map(|d| DistributionReport {
                name: d.name.to_string(),
                display_name: d.display_name.clone(),
                version: d.version.clone(),
                kind: d.kind,
                installer: d.installer.clone(),
                metadata: shown(&d.metadata_dir, prefix),
                files: d.files.len(),
                modules: d.modules.iter().map(ToString::to_string).collect(),
                external_files: d.external_files.iter().map(|p| shown(p, prefix)).collect(),
                editable_roots: d.editable_roots.iter().map(|p| shown(p, prefix)).collect(),
                requires_dist: d.requires_dist.iter().map(|r| r.raw.clone()).collect(),
                requires_python: d.requires_python.clone(),
                provides_extra: d.provides_extra.clone(),
                direct_url: d.direct_url.clone(),
                conda: d.conda.clone(),
                has_compiled_modules: d.has_compiled_modules,
            })
            .collect(),
        orphans: env
            .orphans
            .iter()
            .map(|o| OrphanReport {
                module: o.module.to_string(),
                path: shown(&o.path, prefix),
                compiled: o.compiled,
            })
            .collect(),
        editable_finders: env
            .editable_finders
            .iter()
            .map(|f| EditableFinderReport {
                file: shown(&f.file, prefix),
                mapping: f
                    .mapping
                    .iter()
                    .map(|(k, v)| (k.clone(), shown(v, prefix)))
                    .collect(),
                namespaces: f
                    .namespaces
                    .iter()
                    .map(|(k, v)| (k.clone(), v.iter().map(|p| shown(p, prefix)).collect()))
                    .collect(),
            })
            .collect(),
        diagnostics: env.diagnostics.clone(),
    }
}

fn kind_label(kind: DistKind) -> &'static str {
    match kind {
        DistKind::Index => "index",
        DistKind::Editable => "editable",
        DistKind::Path => "path",
        DistKind::Archive => "archive",
        DistKind::Vcs => "vcs",
        DistKind::Conda => "conda",
        DistKind::Unknown => "unknown",
    }
}

fn print_human(report: &EnvReport, global: &GlobalArgs) -> std::io::Result<()> {
    output::print_text(|out| {
        let py = &report.python;
        writeln!(
            out,
            "{} {} {} at {}",
            "Python".green().bold(),
            py.implementation,
            py.version,
            py.prefix
        )?;
        if py.base_prefix != py.prefix {
            writeln!(out, "  base prefix {}", py.base_prefix.dimmed())?;
        }
        writeln!(out, "\n{}", "Search paths".bold())?;
        for path in &report.search_paths {
            let kind = serde_json::to_value(path.kind)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            writeln!(out, "  {:13} {}", kind.dimmed(), path.path)?;
        }
        writeln!(
            out,
            "\n{} ({})",
            "Distributions".bold(),
            report.distributions.len()
        )?;
        let width = report
            .distributions
            .iter()
            .map(|d| d.name.len() + d.version.len() + 1)
            .max()
            .unwrap_or(0);
        for dist in &report.distributions {
            let id = format!("{} {}", dist.name, dist.version);
            writeln!(
                out,
                "  {id:width$}  {:8}  {:>5} files  {}",
                kind_label(dist.kind),
                dist.files,
                dist.modules.join(", ").dimmed()
            )?;
            if !dist.external_files.is_empty() {
                writeln!(
                    out,
                    "    + {} files outside site-packages",
                    dist.external_files.len()
                )?;
            }
        }
        if !report.orphans.is_empty() {
            writeln!(out, "\n{}", "Modules no distribution owns".bold())?;
            for orphan in &report.orphans {
                let compiled = if orphan.compiled { " (compiled)" } else { "" };
                writeln!(
                    out,
                    "  {}{compiled}  {}",
                    orphan.module,
                    orphan.path.dimmed()
                )?;
            }
        }
        if let Some(summary) = output::diagnostics_summary(&report.diagnostics, global) {
            writeln!(out, "\n{summary}")?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn env_schema_is_current() {
        crate::schema::assert_current::<EnvReport>("env.schema.json");
    }

    #[test]
    fn paths_inside_the_prefix_are_shown_relative_with_slashes() {
        assert_eq!(shown(Path::new("/env/lib/x"), Path::new("/env")), "lib/x");
        assert_eq!(shown(Path::new("/src/x"), Path::new("/env")), "/src/x");
        // The same as the components give, on the short cut and off it.
        for (path, prefix) in [
            ("/env/lib/./x", "/env"),
            ("/env//lib/x/", "/env"),
            ("/env/", "/env"),
            ("/env", "/env"),
            ("/env/x", "/env/"),
            ("/envx/y", "/env"),
            ("/env/a/b.py", "/env"),
        ] {
            let (path, prefix) = (Path::new(path), Path::new(prefix));
            let slow = by_components(path, prefix);
            assert_eq!(shown(path, prefix), slow, "{path:?} in {prefix:?}");
        }
    }
}
