//! `envscan pack`: one deterministic archive per local source, plus `manifest.json` mapping
//! each source to its archive and destination.

use std::io::Write;

use owo_colors::OwoColorize;

use crate::ExitStatus;
use crate::analysis::{Analysis, RunOptions};
use crate::cli::{GlobalArgs, PackArgs};
use crate::emit::archive::{self, ArchiveManifest, ManifestEntry};
use crate::output;
use crate::sources;

pub const MANIFEST: &str = "manifest.json";

pub fn run(args: &PackArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let json = output::wants_json(global)?;
    let analysis = Analysis::run(&args.analysis, RunOptions::default())?;
    let out_dir = analysis.project.root.join(&args.out);
    let mut manifest = ArchiveManifest::default();
    let mut diagnostics = analysis.diagnostics.clone();
    // The output folder may sit inside the project: its archives must never pack themselves.
    for source in sources::local_sources(&analysis) {
        let members: Vec<String> = source
            .members
            .iter()
            .filter(|m| !source.root.join(m).starts_with(&out_dir))
            .cloned()
            .collect();
        let packed = archive::pack(&source.root, &members, &out_dir)?;
        diagnostics.extend(packed.diagnostics.iter().cloned());
        manifest.archives.push(ManifestEntry::new(
            &packed,
            &source.name,
            &source.destination,
        ));
    }
    manifest.write(&out_dir.join(MANIFEST))?;
    crate::diagnostic::sort(&mut diagnostics);
    if json {
        output::print_json(&manifest)?;
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
        output::print_diagnostics(&diagnostics, global)?;
    }
    Ok(output::exit_status(&diagnostics, global))
}
