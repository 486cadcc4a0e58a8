//! `envscan plan`: print the build plan, or render it as a Dockerfile.
//!
//! A plan file is input like any other: it is read through [`crate::fsread`] (a regular file
//! under the output cap) and every value the Dockerfile uses is checked
//! ([`crate::emit::plan_check`]) before anything is printed; a bad plan is an error naming the
//! file and the field.

use std::collections::BTreeMap;
use std::io::Write;

use crate::ExitStatus;
use crate::cli::{GlobalArgs, PlanArgs};
use crate::emit::dockerfile;
use crate::emit::plan_check::{read_manifest, read_plan};

pub fn run(args: &PlanArgs, _global: &GlobalArgs) -> anyhow::Result<ExitStatus> {
    let plan = read_plan(&args.plan)?;
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
    write!(stdout, "{}", dockerfile::render(&plan, &archives))?;
    Ok(ExitStatus::Success)
}
