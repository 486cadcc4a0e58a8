//! The plan-to-Dockerfile renderer (`envscan plan --dockerfile`): a build plan read as JSON
//! into `envscan::emit::plan::BuildPlan`, rendered by `emit::dockerfile::render` with the
//! archive names of a pack manifest.
//!
//! First byte even: the rest is arbitrary plan JSON (exercises the plan's schema checks);
//! odd: the rest drives a well-formed plan and manifest whose every string is arbitrary
//! (base image, names, paths, variables, archive names, cache key).
//! Properties: no panic (issue 14 defect 5: byte slicing of a non-ASCII `cache_key`); the
//! plan JSON round-trips; the Dockerfile has exactly one line per instruction or comment the
//! plan asks for, each a comment or an envscan instruction, none continued with a trailing
//! `\`: no value can break out of its instruction (defect 9).
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use envscan::emit::dockerfile;
use envscan::emit::plan::{BuildPlan, Installer, LocalSource, Step};
use envscan::emit::plan_check;
use envscan_fuzz::dockerfile_breakout;
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum FuzzStep {
    CreateEnv { file: String, name: String },
    InstallLock { file: String, uv: bool },
    Unpack { source: String, destination: String },
    SetEnv { variables: BTreeMap<String, String> },
    Workdir { path: String },
    Entrypoint { command: Vec<String> },
}

#[derive(Arbitrary, Debug)]
struct FuzzPlan {
    base_image: String,
    python: String,
    cache_key: String,
    steps: Vec<FuzzStep>,
    archives: BTreeMap<String, String>,
}

fn plan_of(f: FuzzPlan) -> (BuildPlan, BTreeMap<String, String>) {
    let steps = f
        .steps
        .into_iter()
        .map(|s| match s {
            FuzzStep::CreateEnv { file, name } => Step::CreateEnv { file, name },
            FuzzStep::InstallLock { file, uv } => Step::InstallLock {
                file,
                installer: if uv { Installer::Uv } else { Installer::Pip },
            },
            FuzzStep::Unpack {
                source,
                destination,
            } => Step::Unpack {
                source,
                destination,
            },
            FuzzStep::SetEnv { variables } => Step::SetEnv { variables },
            FuzzStep::Workdir { path } => Step::Workdir { path },
            FuzzStep::Entrypoint { command } => Step::Entrypoint { command },
        })
        .collect();
    let plan = BuildPlan {
        schema_version: 1,
        base_image: f.base_image,
        python: f.python,
        cache_key: f.cache_key.clone(),
        output_set: f.cache_key,
        steps,
        local_sources: Vec::<LocalSource>::new(),
        warnings: Vec::new(),
    };
    (plan, f.archives)
}

/// Lines the plan asks for: the header comment, FROM, then per step.
fn expected_lines(plan: &BuildPlan) -> usize {
    2 + plan
        .steps
        .iter()
        .map(|step| match step {
            Step::CreateEnv { .. } => 3,
            Step::InstallLock { .. } => 2,
            Step::SetEnv { variables } => variables.len(),
            Step::Unpack { .. } | Step::Workdir { .. } | Step::Entrypoint { .. } => 1,
        })
        .sum::<usize>()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let (plan, archives) = if mode % 2 == 1 {
        let Ok(f) = FuzzPlan::arbitrary_take_rest(Unstructured::new(bytes)) else {
            return;
        };
        let (plan, archives) = plan_of(f);
        // Through the plan file, as `envscan plan` reads it.
        let Ok(text) = plan.render() else { return };
        let Ok(read) = serde_json::from_str::<BuildPlan>(&text) else {
            return;
        };
        assert_eq!(read, plan, "plan JSON round trip");
        (read, archives)
    } else {
        let Ok(plan) = serde_json::from_slice::<BuildPlan>(bytes) else {
            return;
        };
        (plan, BTreeMap::new())
    };
    // `envscan plan` renders only a plan that passes its checks (`emit::plan_check`): the
    // property is that no plan passing them breaks out of an instruction.
    if plan.validate().is_err()
        || archives
            .values()
            .any(|a| plan_check::check_file_name(a).is_err())
    {
        return;
    }
    let rendered = dockerfile::render(&plan, &archives);
    if let Some(problem) = dockerfile_breakout(&rendered, expected_lines(&plan)) {
        panic!(
            "{problem}\n--- plan: {plan:?}\n--- archives: {archives:?}\n--- rendered:\n{rendered}"
        );
    }
});
