//! `envscan plan`: print the build plan, or render it as a Dockerfile.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::ExitStatus;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::emit::archive::ArchiveManifest;
use crate::emit::dockerfile;
use crate::emit::plan::BuildPlan;
use crate::outputs::PLAN_FILE;
use crate::settings::Project;

pub fn run(args: &PlanArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let plan_path = plan_file(&args.plan);
    let text = fs_err::read_to_string(&plan_path).with_context(|| {
        if args.plan.is_dir() {
            format!(
                "no build plan in the project {} (run `envscan lock {}` first)",
                args.plan.display(),
                args.plan.display()
            )
        } else {
            format!("cannot read the build plan {}", args.plan.display())
        }
    })?;
    let plan: BuildPlan = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an envscan build plan", plan_path.display()))?;
    let mut stdout = std::io::stdout().lock();
    if !args.dockerfile {
        write!(stdout, "{}", plan.render()?)?;
        return Ok(ExitStatus::Success);
    }
    let archives: BTreeMap<String, String> = match &args.manifest {
        Some(path) => {
            let manifest: ArchiveManifest = serde_json::from_str(&fs_err::read_to_string(path)?)
                .with_context(|| format!("{} is not a pack manifest", path.display()))?;
            manifest
                .archives
                .into_iter()
                .map(|e| (e.source, e.archive))
                .collect()
        }
        None => BTreeMap::new(),
    };
    write!(stdout, "{}", dockerfile::render(&plan, &archives))?;
    Ok(ExitStatus::Success)
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
