//! `envscan plan`: print the build plan, or render it as a Dockerfile.
//!
//! A plan file is input like any other: it is read through [`crate::fsread`] (a regular file
//! under the output cap) and every value the Dockerfile uses is checked
//! ([`crate::emit::plan_check`]) before anything is printed; a bad plan is an error naming the
//! file and the field.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::ExitStatus;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::commands::lock::OUTPUTS_MIXED;
use crate::diagnostic::Diagnostic;
use crate::emit::dockerfile;
use crate::emit::plan::{BuildPlan, Step};
use crate::emit::plan_check::{check_relative_file, read_manifest, read_plan};
use crate::output;
use crate::outputs::{PLAN_FILE, conda_mark, lock_marks};
use crate::settings::Project;

pub fn run(args: &PlanArgs, global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let plan_path = plan_file(&args.plan);
    if args.plan.is_dir() && !plan_path.exists() {
        anyhow::bail!(
            "no build plan in the project {} (run `envscan lock {}` first)",
            args.plan.display(),
            args.plan.display()
        );
    }
    let plan = read_plan(&plan_path)?;
    if let Some(d) = mixed_set(&plan, &plan_path) {
        output::print_diagnostics(&[d], global)?;
    }
    let mut stdout = std::io::stdout().lock();
    if !args.dockerfile {
        write!(stdout, "{}", plan.render()?)?;
        return Ok(ExitStatus::Success);
    }
    let archives: BTreeMap<String, String> = match &args.manifest {
        Some(path) => read_manifest(path)?
            .archives
            .into_iter()
            .map(|e| (e.source, e.archive))
            .collect(),
        None => BTreeMap::new(),
    };
    let wheels = lock_wheels(&plan, &plan_path)?;
    write!(stdout, "{}", dockerfile::render(&plan, &archives, &wheels))?;
    Ok(ExitStatus::Success)
}

/// The local wheels the plan's lock installs: each `archive` path, relative to the lock.
fn lock_wheels(plan: &BuildPlan, plan_path: &Path) -> anyhow::Result<Vec<String>> {
    let Some(file) = plan.steps.iter().find_map(|s| match s {
        Step::InstallLock { file, .. } => Some(file),
        _ => None,
    }) else {
        return Ok(Vec::new());
    };
    let lock = plan_path.parent().unwrap_or(Path::new("")).join(file);
    let text = match crate::fsread::read_to_string_capped(&lock, crate::fsread::cap::OUTPUT) {
        Ok(text) => text,
        // The Dockerfile is still rendered; building it fails at the lock's COPY, as before.
        Err(err) if err.is_not_found() => return Ok(Vec::new()),
        Err(err) => return Err(err.into()),
    };
    let table: toml::Table =
        toml::from_str(&text).map_err(|e| anyhow::anyhow!("{}: {e}", lock.display()))?;
    let mut wheels = Vec::new();
    let packages = table.get("packages").and_then(toml::Value::as_array);
    for package in packages.into_iter().flatten() {
        let Some(path) = package
            .get("archive")
            .and_then(|a| a.get("path"))
            .and_then(toml::Value::as_str)
        else {
            continue;
        };
        check_relative_file(path)
            .map_err(|why| anyhow::anyhow!("{}: archive path: {why}", lock.display()))?;
        wheels.push(path.to_string());
    }
    Ok(wheels)
}

/// The conda file and lock the plan names, beside it, when they are not from the plan's run
/// (a run killed between two renames): the image would not be what the plan describes.
fn mixed_set(plan: &BuildPlan, path: &Path) -> Option<Diagnostic> {
    if plan.output_set.is_empty() {
        return None; // written before plans recorded their set
    }
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut stale = Vec::new();
    for step in &plan.steps {
        match step {
            Step::CreateEnv { file, .. } => {
                if conda_mark(&folder.join(file)).as_deref() != Some(plan.cache_key.as_str()) {
                    stale.push(file.clone());
                }
            }
            Step::InstallLock { file, .. } => {
                let marks = lock_marks(&folder.join(file));
                if marks.as_ref().map(|(set, _)| set.as_str()) != Some(plan.output_set.as_str()) {
                    stale.push(file.clone());
                }
            }
            Step::Unpack { .. }
            | Step::BuildLocal { .. }
            | Step::SetEnv { .. }
            | Step::Workdir { .. }
            | Step::Entrypoint { .. } => {}
        }
    }
    if stale.is_empty() {
        return None;
    }
    Some(
        Diagnostic::warning(
            OUTPUTS_MIXED,
            format!(
                "{} not written with this plan (an interrupted `envscan lock`?)",
                stale.join(" and ")
            ),
        )
        .with_file(path.display().to_string())
        .with_hint("run `envscan lock` to rewrite all three"),
    )
}

/// The plan a `plan` argument names: a file as it is, a project folder's plan beside its lock
/// (`[tool.envscan] lock` may put it in a subfolder; a project whose pyproject.toml does not
/// read is looked at in its folder, and the lock run will report that file).
fn plan_file(path: &Path) -> PathBuf {
    if !path.is_dir() {
        return path.to_path_buf();
    }
    let lock_dir = Project::open(path)
        .ok()
        .and_then(|project| project.config.lock)
        .and_then(|lock| Path::new(&lock).parent().map(Path::to_path_buf))
        .unwrap_or_default();
    path.join(lock_dir).join(PLAN_FILE)
}
