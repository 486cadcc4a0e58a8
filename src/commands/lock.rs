//! `envscan lock` and `envscan check` (`lock --check`): analyse, render the lock, conda file
//! and build plan, then write them all or nothing, or compare them with what is on disk.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

use owo_colors::OwoColorize;
use schemars::JsonSchema;
use serde::Serialize;

use crate::ExitStatus;
use crate::analysis::{Analysis, RunOptions};
use crate::classify::{Class, Reason};
use crate::cli::{GlobalArgs, LockArgs};
use crate::diagnostic::{Code, Diagnostic};
use crate::emit::atomic::{OutputSet, ProjectLock};
use crate::output;
use crate::outputs::{self, DEFAULT_LOCK, Outputs, SetMarks};
use crate::pack_size::{self, ArchiveSize};
use crate::project_files::{CarriedFile, SizedFile};
use crate::target::coverage::Coverage;

pub const LOCK_UNPARSABLE: Code = Code("lock-unparsable");
pub const OUTPUTS_MIXED: Code = Code("outputs-mixed");

/// `envscan lock --format json`. Described by `schemas/lock.schema.json`.
#[derive(Debug, Serialize, JsonSchema)]
pub struct LockReport {
    /// The lock file, relative to the project.
    pub lock: String,
    /// The outputs that were (or, with --check, would be) rewritten, relative to the project.
    pub changed: Vec<String>,
    /// False when something could not be verified on the index.
    pub complete: bool,
    /// The target interpreter's version.
    pub python: String,
    /// The machine the lock is for: platform tag, Python tag and CUDA version, such as
    /// `manylinux_2_28_x86_64 cp311 cuda12.4`.
    pub target: String,
    pub packages: Vec<PackageReport>,
    pub local: Vec<LocalReport>,
    /// Imported modules on the search path that no distribution owns.
    pub orphans: Vec<OrphanReport>,
    pub unresolved: Vec<UnresolvedReport>,
    /// What each archive `envscan pack` would write holds (file count, unpacked size, largest
    /// files), measured without packing; the project first.
    pub sizes: Vec<ArchiveSize>,
    /// Files of the project left out of its archive that are larger than 1 MB, largest first.
    pub excluded_large_files: Vec<SizedFile>,
    /// Files the project archive carries besides its code and package data, with why.
    pub carried: Vec<CarriedFile>,
    pub diagnostics: Vec<Diagnostic>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct OrphanReport {
    pub module: String,
    /// `local` (travels in an archive) or `binary_local` (compiled: not moved).
    pub class: Class,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct PackageReport {
    pub name: String,
    /// The locked version (the target's build when it differs from the installed one).
    pub version: String,
    /// The installed version, when the lock holds another build for the target.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed_version: Option<String>,
    /// What the target installs of the locked version, for packages verified on an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<Coverage>,
    pub class: Class,
    pub reason: Reason,
    /// The modules the project imports from it.
    pub imported_as: Vec<String>,
    pub required_by: Vec<RequirerReport>,
    /// Why a host loads it as a plugin ("plugin of pytest via entry point group pytest11").
    pub plugin_of: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct RequirerReport {
    pub name: String,
    /// The requirement as the requirer's metadata writes it.
    pub requirement: String,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct LocalReport {
    pub name: String,
    /// Relative to the project, or `<name>` outside it.
    pub path: String,
    pub destination: String,
    /// Top-level entries that travel.
    pub members: Vec<String>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct UnresolvedReport {
    pub module: String,
    /// Every site is optional or conditional.
    pub guarded: bool,
    /// The distribution that most likely provides it; absent when the project has a file or
    /// folder of that name (`project_path`), which must not be installed from an index.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub suggestion: Option<String>,
    /// The project's file or folder of that name, which is not on the import path.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub project_path: Option<String>,
    pub locations: Vec<Location>,
}

#[derive(Debug, Serialize, JsonSchema)]
pub struct Location {
    pub file: String,
    pub line: u32,
}

pub fn run(args: &LockArgs, global: &GlobalArgs, check: bool) -> anyhow::Result<ExitStatus> {
    let json = output::wants_json(global)?;
    let check = check || args.check;
    // Made first: temporary files older than it are a killed run's leftovers.
    let mut set = OutputSet::new();
    let progress = !global.quiet && std::io::stderr().is_terminal();
    // One writer at a time per project; a check reads only.
    let _guard = if check {
        None
    } else {
        Some(ProjectLock::acquire(&args.analysis.project.path)?)
    };
    let analysis = Analysis::run(
        &args.analysis,
        RunOptions {
            progress,
            ..RunOptions::default()
        },
    )?;
    let lock_path = lock_path(args, &analysis)?;
    let rendered = outputs::render(&analysis, &lock_path, args.base_image.as_deref())?;
    let mut diagnostics = analysis.diagnostics.clone();
    diagnostics.extend(rendered.diagnostics.iter().cloned());
    crate::local_dists::escalate_under_strict(&mut diagnostics, global.strict);
    crate::diagnostic::sort(&mut diagnostics);
    // A lock on disk that is the one just rendered parses, and records this run's marks: a
    // check of an unchanged project reads it as TOML neither for its problems nor its marks.
    let lock_is_current =
        crate::fsread::read_to_string_capped(&rendered.lock.0, crate::fsread::cap::OUTPUT)
            .is_ok_and(|text| text == rendered.lock.1);
    if !lock_is_current
        && let Some(d) = existing_lock_problem(&rendered.lock.0, &analysis.project.root)
    {
        diagnostics.push(d);
    }
    let marks = if lock_is_current {
        SetMarks::read_beside(
            Some(rendered.lock_marks.clone()),
            &rendered.conda.0,
            &rendered.plan.0,
        )
    } else {
        SetMarks::read(&rendered.lock.0, &rendered.conda.0, &rendered.plan.0)
    };
    if marks.mixed() {
        diagnostics.push(
            Diagnostic::warning(
                OUTPUTS_MIXED,
                "the lock, conda file and build plan on disk are not all from one run (a run was interrupted between two renames, or a file was edited)",
            )
            .with_file(relative(&rendered.lock.0, &analysis.project.root))
            .with_hint(if check {
                "run `envscan lock` to rewrite all three"
            } else {
                "all three are rewritten"
            }),
        );
    }

    let existed: Vec<PathBuf> = rendered
        .files()
        .into_iter()
        .map(|(path, _)| path.clone())
        .filter(|path| path.exists())
        .collect();
    for (path, text) in rendered.files() {
        set.add(path.clone(), text.clone());
    }
    let changed: Vec<PathBuf> = if check {
        set.stale()?
    } else {
        set.commit()?.changed
    };
    let mut report = report(&analysis, &rendered, &changed, diagnostics);
    if json {
        // The size preflight: what `envscan pack` would pack, before anyone packs it.
        let found = pack_size::preflight(
            &analysis,
            &rendered.sources,
            &rendered.wheel_sizes,
            Path::new(crate::cli::DEFAULT_PACK_OUT),
        )?;
        report.sizes = found.sizes;
        report.excluded_large_files = found.excluded_large;
        report.carried = found.carried;
        report.diagnostics.extend(found.diagnostics);
        crate::diagnostic::sort(&mut report.diagnostics);
    }
    if json {
        output::print_json(&report)?;
    } else {
        if check {
            print_diffs(&rendered, &changed, &analysis.project.root)?;
        }
        if !global.quiet {
            print_human(&report, check, global)?;
        }
        output::print_diagnostics(&report.diagnostics, global)?;
    }
    if !check && !json {
        print_written_note(
            &changed,
            &existed,
            &args.analysis.project.path,
            &analysis.project.root,
        )?;
    }
    if (check || args.fail_on_change) && !changed.is_empty() {
        return Ok(ExitStatus::Failure);
    }
    // The coverage gate: a needed package the target cannot install fails a check.
    if check
        && report
            .packages
            .iter()
            .any(|p| p.target.as_ref().is_some_and(Coverage::is_gap))
    {
        return Ok(ExitStatus::Failure);
    }
    Ok(output::exit_status(&report.diagnostics, global))
}

/// Where the lock goes. `--lock` is the user's own choice and may point anywhere (the outputs
/// still replace only regular files, never through a link); `[tool.envscan] lock` comes with
/// the repository and must stay inside the project, through no folder link leading out.
fn lock_path(args: &LockArgs, analysis: &Analysis) -> anyhow::Result<PathBuf> {
    if let Some(flag) = &args.lock {
        outputs::check_no_link_leads_out(&analysis.project.root, flag)
            .map_err(|why| anyhow::anyhow!("--lock: {why}"))?;
        return Ok(flag.clone());
    }
    let Some(configured) = &analysis.project.config.lock else {
        return Ok(PathBuf::from(DEFAULT_LOCK));
    };
    let path = PathBuf::from(configured);
    outputs::check_project_relative(&path)
        .and_then(|()| outputs::check_stays_inside(&analysis.project.root, &path))
        .map_err(|why| anyhow::anyhow!("pyproject.toml: [tool.envscan] lock: {why}"))?;
    Ok(path)
}

/// A hand-edited lock that no longer parses: report it with its line (it is regenerated).
/// One that is over the output cap is not read at all, and is regenerated too.
#[doc(hidden)] // public for the fuzz target fuzz/fuzz_targets/lock_reader.rs
pub fn existing_lock_problem(path: &Path, root: &Path) -> Option<Diagnostic> {
    let text = match crate::fsread::read_to_string_capped(path, crate::fsread::cap::OUTPUT) {
        Ok(text) => text,
        Err(crate::fsread::ReadError::TooLarge { cap, .. }) => {
            return Some(
                Diagnostic::warning(
                    LOCK_UNPARSABLE,
                    format!("the existing lock is larger than {cap} bytes; it is not read, and is regenerated"),
                )
                .with_file(relative(path, root)),
            );
        }
        Err(_) => return None,
    };
    let err = toml::from_str::<toml::Table>(&text).err()?;
    let line = err
        .span()
        .map(|s| text[..s.start.min(text.len())].matches('\n').count() as u32 + 1);
    let mut d = Diagnostic::warning(
        LOCK_UNPARSABLE,
        format!(
            "the existing lock is not valid TOML ({}); it is regenerated",
            err.message()
        ),
    )
    .with_file(relative(path, root));
    if let Some(line) = line {
        d = d.with_line(line);
    }
    Some(d)
}

/// On stderr, even under `-q` (a pre-commit hook's first run fails because its outputs are
/// new, and `exit code: 1` alone says nothing): which outputs were created or rewritten, and
/// the `git add` that puts them in the commit.
fn print_written_note(
    changed: &[PathBuf],
    existed: &[PathBuf],
    project_arg: &Path,
    root: &Path,
) -> std::io::Result<()> {
    if changed.is_empty() {
        return Ok(());
    }
    // As the user named them: relative to the folder they gave, which is where `git add` runs
    // when they gave `.`.
    let named = |path: &PathBuf| {
        let rel = relative(path, root);
        if project_arg == Path::new(".") {
            rel
        } else {
            project_arg.join(rel).to_string_lossy().into_owned()
        }
    };
    let created: Vec<String> = changed
        .iter()
        .filter(|p| !existed.contains(p))
        .map(named)
        .collect();
    let rewritten: Vec<String> = changed
        .iter()
        .filter(|p| existed.contains(p))
        .map(named)
        .collect();
    let mut err = anstream::stderr().lock();
    if !created.is_empty() {
        writeln!(
            err,
            "envscan: created {} (new outputs, not yet in git)",
            created.join(", ")
        )?;
    }
    if !rewritten.is_empty() {
        writeln!(err, "envscan: rewrote {} (stale)", rewritten.join(", "))?;
    }
    let all: Vec<String> = changed.iter().map(named).collect();
    writeln!(err, "  to commit them: git add {}", all.join(" "))
}

fn relative(path: &Path, root: &Path) -> String {
    path.strip_prefix(root)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

fn report(
    analysis: &Analysis,
    rendered: &Outputs,
    changed: &[PathBuf],
    diagnostics: Vec<Diagnostic>,
) -> LockReport {
    let root = &analysis.project.root;
    LockReport {
        lock: relative(&rendered.lock.0, root),
        changed: changed.iter().map(|p| relative(p, root)).collect(),
        complete: analysis.complete,
        python: analysis.env.python.version.clone(),
        target: analysis.target.to_string(),
        packages: analysis
            .packages
            .values()
            .map(|p| PackageReport {
                name: p.name.to_string(),
                version: p.version.clone(),
                installed_version: p.installed_version.clone(),
                target: p.coverage.clone(),
                class: p.class,
                reason: p.reason.clone(),
                imported_as: p.imported_as.iter().map(ToString::to_string).collect(),
                required_by: p
                    .required_by
                    .iter()
                    .map(|r| RequirerReport {
                        name: r.name.to_string(),
                        requirement: r.requirement.clone(),
                    })
                    .collect(),
                plugin_of: p.plugin_of.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        local: rendered
            .sources
            .iter()
            .map(|s| LocalReport {
                name: s.name.clone(),
                path: s.label.clone(),
                destination: s.destination.clone(),
                members: s.members.clone(),
            })
            .collect(),
        orphans: analysis
            .orphans
            .iter()
            .map(|o| OrphanReport {
                module: o.module.to_string(),
                class: if o.compiled {
                    Class::BinaryLocal
                } else {
                    Class::Local
                },
            })
            .collect(),
        unresolved: analysis
            .unresolved
            .iter()
            .map(|u| UnresolvedReport {
                module: u.module.to_string(),
                guarded: u.guarded,
                suggestion: u.suggestion.clone(),
                project_path: u.project_path.clone(),
                locations: u
                    .sites
                    .iter()
                    .map(|s| Location {
                        file: s.file.to_string(),
                        line: s.line,
                    })
                    .collect(),
            })
            .collect(),
        sizes: Vec::new(),
        excluded_large_files: Vec::new(),
        carried: Vec::new(),
        diagnostics,
    }
}

fn print_diffs(rendered: &Outputs, changed: &[PathBuf], root: &Path) -> std::io::Result<()> {
    output::print_text(|out| {
        for (path, text) in rendered.files() {
            if !changed.contains(path) {
                continue;
            }
            let old = crate::fsread::read_to_string_capped(path, crate::fsread::cap::OUTPUT)
                .unwrap_or_default();
            let name = relative(path, root);
            let diff = similar::TextDiff::from_lines(&old, text);
            write!(
                out,
                "{}",
                diff.unified_diff()
                    .context_radius(3)
                    .header(&format!("a/{name}"), &format!("b/{name}"))
            )?;
        }
        Ok(())
    })
}

fn print_human(report: &LockReport, check: bool, global: &GlobalArgs) -> std::io::Result<()> {
    output::print_text(|out| {
        let count = |class: Class| report.packages.iter().filter(|p| p.class == class).count();
        let verb = match (check, report.changed.is_empty()) {
            (true, true) => "Up to date:".green().bold().to_string(),
            (true, false) => "Stale:".red().bold().to_string(),
            (false, true) => "Unchanged:".green().bold().to_string(),
            (false, false) => "Locked".green().bold().to_string(),
        };
        writeln!(
            out,
            "{verb} {} ({} pypi, {} conda, {} local, {} binary_local) for Python {} on {}",
            report.lock,
            count(Class::Pypi),
            count(Class::Conda),
            // The sources that travel as archives (the JSON's `local`) and the local
            // distributions that travel as wheels, and compiled code that does not travel:
            // distributions and orphan modules alike, as the JSON lists them.
            report
                .local
                .iter()
                .filter(|l| !report.packages.iter().any(|p| p.name == l.name))
                .count()
                + count(Class::Local),
            count(Class::BinaryLocal)
                + report
                    .orphans
                    .iter()
                    .filter(|o| o.class == Class::BinaryLocal)
                    .count(),
            report.python,
            report.target
        )?;
        let width = report
            .packages
            .iter()
            .map(|p| p.name.len())
            .chain(report.unresolved.iter().map(|u| u.module.len()))
            .chain(report.orphans.iter().map(|o| o.module.len()))
            .max()
            .unwrap_or(0);
        let version_width = report
            .packages
            .iter()
            .map(|p| p.version.len())
            .max()
            .unwrap_or(0);
        for package in &report.packages {
            let why = if !package.imported_as.is_empty() {
                format!("imported as {}", package.imported_as.join(", "))
            } else if let Some(first) = package
                .plugin_of
                .first()
                .filter(|_| package.required_by.is_empty())
            {
                match package.plugin_of.len() - 1 {
                    0 => first.clone(),
                    more => format!("{first} (and {more} more reasons)"),
                }
            } else if package.required_by.is_empty() {
                // The project's own distribution (an editable install of it), or one `add` names.
                package.reason.to_string()
            } else {
                let by: Vec<&str> = package
                    .required_by
                    .iter()
                    .map(|r| r.name.as_str())
                    .collect();
                format!("required by {}", by.join(", "))
            };
            let why = match &package.installed_version {
                Some(installed) => {
                    format!("{why}; installed {installed}, locked the target's build")
                }
                None => why,
            };
            writeln!(
                out,
                "  {:<12} {:<width$} {:<version_width$}  {}",
                package.class.as_str(),
                package.name,
                package.version,
                why.dimmed()
            )?;
            if let Some(coverage) = package.target.as_ref().filter(|c| c.is_gap()) {
                writeln!(
                    out,
                    "  {:<12} {:<width$} {:<version_width$}  {}",
                    "",
                    "",
                    "",
                    coverage.describe().red()
                )?;
            }
        }
        for orphan in &report.orphans {
            writeln!(
                out,
                "  {:<12} {:<width$} {:<version_width$}  {}",
                orphan.class.as_str(),
                orphan.module,
                "",
                "owned by no distribution".dimmed()
            )?;
        }
        for unresolved in &report.unresolved {
            writeln!(
                out,
                "  {:<12} {:<width$} {:<version_width$}  {}",
                "unresolved",
                unresolved.module,
                "",
                match (&unresolved.suggestion, &unresolved.project_path) {
                    (Some(dist), _) => format!("try `{dist}`"),
                    (None, Some(path)) => format!("project has `{path}`, not on the import path"),
                    (None, None) => String::new(),
                }
                .dimmed()
            )?;
        }
        for file in &report.changed {
            writeln!(out, "  {} {file}", if check { "stale:" } else { "wrote" })?;
        }
        if let Some(summary) = output::diagnostics_summary(&report.diagnostics, global) {
            writeln!(out, "{summary}")?;
        }
        if !report.complete {
            writeln!(
                out,
                "{} some packages could not be verified (offline)",
                "note:".yellow()
            )?;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_schema_is_current() {
        crate::schema::assert_current::<LockReport>("lock.schema.json");
    }
}
