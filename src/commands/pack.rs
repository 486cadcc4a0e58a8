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
    for source in sources {
        let members: Vec<String> = source
            .members
            .iter()
            .filter(|m| !source.root.join(m).starts_with(&out_dir))
            .cloned()
            .collect();
        let collection = archive::collect(&source.root, &members, &options)?;
        diagnostics.extend(collection.diagnostics().iter().cloned());
        collections.push((source, collection));
    }
    let mut refused = escalate_ignore_failures(&mut diagnostics);
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
                let kept_out = needed_but_excluded(archive.diagnostics(), &needed);
                refused |= !kept_out.is_empty();
                diagnostics.extend(kept_out);
            }
            staged.push((source, archive));
        }
    }
    let mut manifest = ArchiveManifest::default();
    if !refused {
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
