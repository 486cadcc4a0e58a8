//! `envscan pack`: one deterministic archive per local source, plus `manifest.json` mapping
//! each source to its archive and destination.
//!
//! All or nothing: every archive is first streamed into a temporary file, and only when no
//! source failed to pack faithfully are they moved under their names and the manifest written.
//! Packing fails (nothing written, exit 1) when an ignore file could not be loaded (the files
//! it ignores would be shipped) or when a rule kept out a file of the project's own code that
//! the scan found (the archive would not run).

use std::collections::BTreeSet;
use std::io::Write;

use owo_colors::OwoColorize;
use schemars::JsonSchema;
use serde::Serialize;

use crate::ExitStatus;
use crate::analysis::{Analysis, RunOptions};
use crate::cli::{GlobalArgs, PackArgs};
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::emit::archive::{
    self, ArchiveManifest, ManifestEntry, Options, SECRET_EXCLUDED, WheelEntry,
};
use crate::emit::atomic::OutputSet;
use crate::output;
use crate::pack_size::{self, ArchiveSize};
use crate::project_files::{self, CarriedFile, SizedFile};
use crate::sources;
use crate::walk::INVALID_IGNORE_FILE;

pub const MANIFEST: &str = "manifest.json";

/// A file of the project's code that the scan found was kept out of its archive by a rule.
pub const NEEDED_FILE_EXCLUDED: Code = Code("needed-file-excluded");

/// `envscan pack --format json`. Described by `schemas/pack.schema.json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct PackReport {
    /// Whether the archives and the manifest were written.
    pub packed: bool,
    /// The archives written, sorted by destination then archive; empty when `packed` is false.
    pub archives: Vec<ManifestEntry>,
    /// What each archive costs (also when nothing was packed), in source order, the project
    /// first.
    pub sizes: Vec<ArchiveSize>,
    /// Files of the project left out of its archive that are larger than 1 MB, largest first.
    pub excluded_large_files: Vec<SizedFile>,
    /// Files the project archive carries besides its code and package data, with why.
    pub carried: Vec<CarriedFile>,
    /// The wheels of local distributions written, sorted; empty when `packed` is false.
    pub wheels: Vec<WheelEntry>,
    /// Everything found, secret exclusions included, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

pub fn run(args: &PackArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let json = output::wants_json(global)?;
    let analysis = Analysis::run(&args.analysis, RunOptions::default())?;
    let out_dir = analysis.project.root.join(&args.out);
    // The output folder may sit inside a source: its archives must never pack themselves.
    let options = Options {
        skip: fs_err::canonicalize(&out_dir).into_iter().collect(),
    };
    let mut diagnostics = analysis.diagnostics.clone();
    let needed: BTreeSet<&str> = analysis.scan.files.iter().map(|f| f.rel.as_str()).collect();
    // An ignore file the scan could not load already decides: nothing is packed.
    let scan_failed = diagnostics.iter().any(|d| d.code == INVALID_IGNORE_FILE);
    let dists = crate::local_dists::local_dists(&analysis);
    let (wheels, found) = if scan_failed {
        (Vec::new(), Vec::new())
    } else {
        crate::outputs::local_wheels(&dists)
    };
    diagnostics.extend(found);
    let sources = if scan_failed {
        Vec::new()
    } else {
        sources::local_sources(&analysis, &dists)
    };
    let mut collections = Vec::new();
    let mut excluded_large = Vec::new();
    let mut carried = Vec::new();
    // What the selection found about the project's files (a module that is a secret).
    let mut selected_found = Vec::new();
    for source in sources {
        let members = if source.name == "project" {
            let selection = project_files::select(&analysis, &options)?;
            diagnostics.extend(selection.diagnostics.iter().cloned());
            selected_found = selection.diagnostics.clone();
            excluded_large = selection.excluded_large.clone();
            carried = selection.carried();
            selection.members()
        } else {
            source.members.clone()
        };
        let members: Vec<String> = members
            .into_iter()
            .filter(|m| !source.root.join(m).starts_with(&out_dir))
            .collect();
        let collection = archive::collect(&source.root, &members, &options)?;
        diagnostics.extend(collection.diagnostics().iter().cloned());
        collections.push((source, collection));
    }
    let mut refused = escalate_ignore_failures(&mut diagnostics);
    // The preflight: sizes before anything is compressed or written.
    let mut sizes: Vec<ArchiveSize> = collections
        .iter()
        .map(|(source, collection)| {
            let files = collection.sized_files();
            ArchiveSize::new(
                &source.name,
                files.iter().map(|(p, s)| (p.as_str(), *s)),
                None,
            )
        })
        .chain(wheels.iter().map(|(_, wheel)| pack_size::of_wheel(wheel)))
        .collect();
    let limit = args.max_pack_size.or(analysis.project.config.max_pack_size);
    if let Some(limit) = limit {
        let over = pack_size::over_limit(&sizes, limit, Severity::Error);
        refused |= !over.is_empty();
        diagnostics.extend(over);
    }
    let mut staged = Vec::new();
    if !refused {
        for (source, collection) in collections {
            let is_project = source.root == analysis.project.root;
            let archive = collection.stage(&out_dir)?;
            // The write adds what it found by content and hard links.
            for diagnostic in archive.diagnostics() {
                if !diagnostics.contains(diagnostic) {
                    diagnostics.push(diagnostic.clone());
                }
            }
            if is_project {
                let found = [archive.diagnostics(), &selected_found].concat();
                let kept_out = needed_but_excluded(&found, &needed);
                refused |= !kept_out.is_empty();
                diagnostics.extend(kept_out);
            }
            staged.push((source, archive));
        }
    }
    let mut manifest = ArchiveManifest::default();
    if !refused {
        sizes = staged
            .iter()
            .map(|(source, archive)| {
                let files = archive.files().iter().map(|f| (f.path.as_str(), f.size));
                ArchiveSize::new(&source.name, files, Some(archive.size()))
            })
            .chain(wheels.iter().map(|(_, wheel)| pack_size::of_wheel(wheel)))
            .collect();
        for (source, archive) in staged {
            let packed = archive.publish()?;
            manifest.archives.push(ManifestEntry::new(
                &packed,
                &source.name,
                &source.destination,
            ));
        }
        // The wheels and the manifest together, all or nothing.
        let mut set = OutputSet::new();
        for (dist, wheel) in &wheels {
            manifest.wheels.push(WheelEntry {
                source: dist.name.to_string(),
                wheel: wheel.file_name.clone(),
                sha256: wheel.sha256.clone(),
                size: wheel.size(),
                file_count: wheel.files.len(),
            });
            set.add(out_dir.join(&wheel.file_name), wheel.bytes.clone());
        }
        set.add(out_dir.join(MANIFEST), manifest.to_json());
        set.commit()?;
    }
    // Dropping what was staged removes its temporary files.
    crate::diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    if json {
        let mut archives = manifest.archives.clone();
        archives.sort_by(|a, b| (&a.destination, &a.archive).cmp(&(&b.destination, &b.archive)));
        output::print_json(&PackReport {
            packed: !refused,
            archives,
            sizes,
            excluded_large_files: excluded_large,
            carried,
            wheels: {
                let mut wheels = manifest.wheels.clone();
                wheels.sort();
                wheels
            },
            diagnostics: diagnostics.clone(),
        })?;
    } else {
        let mut out = anstream::stdout().lock();
        for entry in &manifest.archives {
            writeln!(
                out,
                "{} {} → {} ({} files, {} bytes)",
                "Packed".green().bold(),
                entry.source,
                entry.destination,
                entry.file_count,
                entry.size
            )?;
            writeln!(out, "  {}", entry.archive.dimmed())?;
        }
        for entry in &manifest.wheels {
            writeln!(
                out,
                "{} {} ({} files, {} bytes)",
                "Wheel".green().bold(),
                entry.wheel,
                entry.file_count,
                entry.size
            )?;
        }
        if !global.quiet {
            print_sizes(
                &mut out,
                &sizes,
                &excluded_large,
                &carried,
                global.verbose > 0,
            )?;
        }
        output::print_diagnostics(&diagnostics, global)?;
        if refused {
            writeln!(
                anstream::stderr().lock(),
                "{} nothing was packed",
                "envscan:".red().bold()
            )?;
        }
    }
    if refused {
        return Ok(ExitStatus::Failure);
    }
    Ok(output::exit_status(&diagnostics, global))
}

/// Each archive's size and largest files, the large files left out, and (verbose) the files
/// carried besides the code.
pub fn print_sizes(
    out: &mut impl Write,
    sizes: &[ArchiveSize],
    excluded_large: &[SizedFile],
    carried: &[CarriedFile],
    verbose: bool,
) -> std::io::Result<()> {
    for size in sizes {
        let packed = size
            .archive_size
            .map(|bytes| format!(", {} compressed", pack_size::human(bytes)))
            .unwrap_or_default();
        writeln!(
            out,
            "{} {}: {} files, {} unpacked{packed}",
            "Size".bold(),
            size.source,
            size.file_count,
            pack_size::human(size.content_size),
        )?;
        for file in &size.largest {
            writeln!(out, "  {:>10}  {}", pack_size::human(file.size), file.path)?;
        }
    }
    if !excluded_large.is_empty() {
        writeln!(
            out,
            "{} (over 1 MB, left out of the project archive; `[tool.envscan] include` carries one):",
            "Excluded large files".yellow().bold()
        )?;
        for file in excluded_large {
            writeln!(out, "  {:>10}  {}", pack_size::human(file.size), file.path)?;
        }
    }
    if verbose && !carried.is_empty() {
        writeln!(out, "{} besides the code:", "Carried".bold())?;
        for file in carried {
            let why: Vec<String> = file.why.iter().map(describe).collect();
            writeln!(out, "  {}  ({})", file.path, why.join("; "))?;
        }
    }
    Ok(())
}

fn describe(why: &project_files::Why) -> String {
    use project_files::Why;
    match why {
        Why::Module => "module".to_string(),
        Why::PackageData { package } => format!("data of {package}"),
        Why::Config => "configuration".to_string(),
        Why::Metadata { by } => format!("named by {by}"),
        Why::Referenced { at } => format!("named at {at}"),
        Why::Include { pattern } => format!("include {pattern:?}"),
    }
}

/// An ignore file that failed to load is an error for pack; returns whether there was one.
fn escalate_ignore_failures(diagnostics: &mut [Diagnostic]) -> bool {
    let mut any = false;
    for diagnostic in diagnostics
        .iter_mut()
        .filter(|d| d.code == INVALID_IGNORE_FILE)
    {
        diagnostic.severity = Severity::Error;
        diagnostic.message = format!("{}; nothing is packed", diagnostic.message);
        any = true;
    }
    any
}

/// An error for each file of the project's scanned code that a secret rule kept out.
fn needed_but_excluded(found: &[Diagnostic], needed: &BTreeSet<&str>) -> Vec<Diagnostic> {
    found
        .iter()
        .filter(|d| d.code == SECRET_EXCLUDED)
        .filter_map(|d| d.file.as_deref())
        .filter(|file| needed.contains(file))
        .map(|file| {
            Diagnostic::error(
                NEEDED_FILE_EXCLUDED,
                "this file is part of the project's code, but a secret rule keeps it out of \
                 the archive; nothing is packed",
            )
            .with_file(file)
            .with_hint("move the secret out of the code (an environment variable, a secret store)")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pack_report_schema_is_current() {
        crate::schema::assert_current::<PackReport>("pack.schema.json");
    }

    #[test]
    fn a_secret_exclusion_of_a_scanned_file_is_an_error() {
        let found = vec![
            Diagnostic::warning(SECRET_EXCLUDED, "x").with_file("pkg/keys.py"),
            Diagnostic::warning(SECRET_EXCLUDED, "x").with_file("pkg/.env"),
        ];
        let needed: BTreeSet<&str> = ["pkg/keys.py", "main.py"].into_iter().collect();
        let errors = needed_but_excluded(&found, &needed);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].file.as_deref(), Some("pkg/keys.py"));
        assert_eq!(errors[0].severity, Severity::Error);
    }
}
