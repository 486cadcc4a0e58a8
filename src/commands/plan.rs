//! `envscan plan`: print the build plan, or render it as a Dockerfile.

use std::collections::BTreeMap;
use std::io::Write;

use anyhow::Context as _;

use crate::ExitStatus;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::emit::archive::ArchiveManifest;
use crate::emit::dockerfile;
use crate::emit::plan::BuildPlan;

pub fn run(args: &PlanArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let text = fs_err::read_to_string(&args.plan)?;
    let plan: BuildPlan = serde_json::from_str(&text)
        .with_context(|| format!("{} is not an envscan build plan", args.plan.display()))?;
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
