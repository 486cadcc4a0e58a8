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
    CreateEnv {
        file: String,
        name: String,
        channels: Vec<String>,
        dependencies: Vec<String>,
    },
    InstallLock {
        file: String,
        uv: bool,
        indexes: Vec<String>,
    },
    Unpack { source: String, destination: String },
    BuildLocal { source: String, destination: String },
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
    /// Local wheels the lock names (paths relative to the lock).
    wheels: Vec<String>,
}

/// A plan, the archive names of its manifest and the local wheels of its lock.
type Rendered = (BuildPlan, BTreeMap<String, String>, Vec<String>);

fn plan_of(f: FuzzPlan) -> Rendered {
    let steps = f
        .steps
        .into_iter()
        .map(|s| match s {
            FuzzStep::CreateEnv {
                file,
                name,
                channels,
                dependencies,
            } => Step::CreateEnv {
                file,
                name,
                channels,
                dependencies,
            },
            FuzzStep::InstallLock { file, uv, indexes } => Step::InstallLock {
                file,
                installer: if uv { Installer::Uv } else { Installer::Pip },
                indexes,
            },
            FuzzStep::BuildLocal {
                source,
                destination,
            } => Step::BuildLocal {
                source,
                destination,
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
    (plan, f.archives, f.wheels)
}

/// Lines the plan asks for: the header comment, FROM, then per step.
fn expected_lines(
    plan: &BuildPlan,
    archives: &BTreeMap<String, String>,
    wheels: &[String],
) -> usize {
    2 + plan
        .steps
        .iter()
        .map(|step| match step {
            Step::CreateEnv { .. } => 2,
            Step::InstallLock { .. } => 2 + wheels.len(),
            // The archive, then the build; a comment alone when the manifest lacks it.
            Step::BuildLocal { source, .. } => 1 + usize::from(archives.contains_key(source)),
            Step::SetEnv { variables } => variables.len(),
            Step::Unpack { .. } | Step::Workdir { .. } | Step::Entrypoint { .. } => 1,
        })
        .sum::<usize>()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let (plan, archives, wheels) = if mode % 2 == 1 {
        let Ok(f) = FuzzPlan::arbitrary_take_rest(Unstructured::new(bytes)) else {
            return;
        };
        let (plan, archives, wheels) = plan_of(f);
        // Through the plan file, as `envscan plan` reads it.
        let Ok(text) = plan.render() else { return };
        let Ok(read) = serde_json::from_str::<BuildPlan>(&text) else {
            return;
        };
        assert_eq!(read, plan, "plan JSON round trip");
        (read, archives, wheels)
    } else {
        let Ok(plan) = serde_json::from_slice::<BuildPlan>(bytes) else {
            return;
        };
        (plan, BTreeMap::new(), Vec::new())
    };
    // `envscan plan` renders only a plan that passes its checks (`emit::plan_check`): the
    // property is that no plan passing them breaks out of an instruction.
    if plan.validate().is_err()
        || archives
            .values()
            .any(|a| plan_check::check_file_name(a).is_err())
        || wheels
            .iter()
            .any(|w| plan_check::check_relative_file(w).is_err())
    {
        return;
    }
    let rendered = dockerfile::render(&plan, &archives, &wheels);
    if let Some(problem) = dockerfile_breakout(&rendered, expected_lines(&plan, &archives, &wheels))
    {
        panic!(
            "{problem}\n--- plan: {plan:?}\n--- archives: {archives:?}\n--- wheels: {wheels:?}\n--- rendered:\n{rendered}"
        );
    }
});
