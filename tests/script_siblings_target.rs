//! Scripts run from their own folder on the target too (issue 12 point 5): the plan of
//! `fixtures/script-siblings`, whose entrypoint is a script in a subfolder that imports the
//! modules beside it, materialised by the reference runner with real CPython (uv makes the
//! venvs), runs the script from the unpacked archive and finds those modules there, as it does
//! in the project. `python tools/train.py` puts `tools/` first on `sys.path` itself; the plan's
//! working directory (the project's root, `/app`) and PYTHONPATH (the import roots, after the
//! script's folder) keep it so.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

struct Materialised {
    _dir: tempfile::TempDir,
    project: PathBuf,
    plan: PathBuf,
    manifest: PathBuf,
    python: PathBuf,
    uv: PathBuf,
    runner_python: PathBuf,
    work_base: PathBuf,
}

impl Materialised {
    /// Locks and packs the fixture with `entrypoint` as its run command, against an empty venv.
    fn new(test_env: &Path, entrypoint: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        support::copy_tree(&support::fixture("script-siblings"), &project);
        std::fs::write(
            project.join("pyproject.toml"),
            format!("[tool.envscan]\nentrypoint = {entrypoint}\n"),
        )
        .unwrap();
        // A module of the same name at the root, which PYTHONPATH (`/app`) also reaches: the
        // script's own folder comes first, in the project as on the target.
        std::fs::write(
            project.join("helpers.py"),
            "raise ImportError('the root helpers')\n",
        )
        .unwrap();
        let uv = test_env.join("bin/uv");
        let venv = dir.path().join("venv");
        support::run(Command::new(&uv).args(["venv", "--quiet"]).arg(&venv));
        let python = venv.join("bin/python");
        let cache = dir.path().join("cache");
        for (command, extra) in [("lock", vec![]), ("pack", vec!["--out"])] {
            let mut cmd = support::envscan();
            cmd.arg(command)
                .args(["--offline", "--python"])
                .arg(&python)
                .arg("--cache-dir")
                .arg(&cache)
                .args(&extra);
            if !extra.is_empty() {
                cmd.arg(dir.path().join("archives"));
            }
            let output = cmd.arg(&project).output().unwrap();
            assert!(output.status.success(), "envscan {command}: {output:?}");
        }
        Self {
            plan: project.join("envscan.plan.json"),
            manifest: dir.path().join("archives/manifest.json"),
            work_base: dir.path().join("run"),
            runner_python: test_env.join("bin/python"),
            project,
            python,
            uv,
            _dir: dir,
        }
    }

    fn run(&self, name: &str, command: &[&str]) -> (Output, PathBuf) {
        let work = self.work_base.join(name);
        let mut cmd = Command::new(&self.runner_python);
        cmd.arg(support::repo().join("tests/reference_runner.py"))
            .arg("--plan")
            .arg(&self.plan)
            .arg("--manifest")
            .arg(&self.manifest)
            .arg("--python")
            .arg(&self.python)
            .arg("--uv")
            .arg(&self.uv)
            .arg("--work")
            .arg(&work)
            .env_remove("PYTHONPATH")
            .env_remove("VIRTUAL_ENV");
        if !command.is_empty() {
            cmd.arg("--").args(command);
        }
        (cmd.output().unwrap(), work)
    }
}

fn stdout(output: &Output) -> String {
    assert!(output.status.success(), "{output:?}");
    String::from_utf8_lossy(&output.stdout).into_owned()
}

#[test]
fn a_script_in_a_subfolder_finds_its_siblings_when_the_plan_runs_it() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let case = Materialised::new(&test_env, r#"["python", "tools/train.py"]"#);
    let plan: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&case.plan).unwrap()).unwrap();
    let steps = plan["steps"].as_array().unwrap();
    let step = |kind: &str| steps.iter().find(|s| s["kind"] == kind).unwrap().clone();
    assert_eq!(step("workdir")["path"], "/app");
    assert_eq!(step("set_env")["variables"]["PYTHONPATH"], "/app");
    assert_eq!(
        step("entrypoint")["command"],
        serde_json::json!(["python", "tools/train.py"])
    );

    // In the project, CPython finds tools/helpers.py, not the root's helpers.py.
    let local = support::run(
        Command::new(&case.python)
            .arg("tools/train.py")
            .current_dir(&case.project)
            .env("PYTHONPATH", &case.project),
    );
    assert!(stdout(&local).contains("tools/helpers.py"), "{local:?}");

    let (output, work) = case.run("entrypoint", &[]);
    let printed = stdout(&output);
    let helpers = work.join("root/app/tools/helpers.py");
    assert!(
        printed.contains(&format!("<module 'helpers' from '{}'>", helpers.display())),
        "{printed}"
    );
    let loaders = work.join("root/app/tools/loaders/csv.py");
    assert!(loaders.is_file());
}

#[test]
fn a_command_after_two_dashes_runs_where_and_as_the_entrypoint_would() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let case = Materialised::new(&test_env, r#"["python", "tools/train.py"]"#);
    let (output, work) = case.run(
        "command",
        &[
            "python",
            "-c",
            "import os, sys; print(os.getcwd()); print(os.environ['PYTHONPATH']); print(sys.prefix)",
        ],
    );
    let printed = stdout(&output);
    let lines: Vec<&str> = printed.lines().rev().take(3).collect();
    let app = work.join("root/app");
    assert_eq!(
        lines,
        [
            work.join("venv").to_str().unwrap(),
            app.to_str().unwrap(),
            app.to_str().unwrap(),
        ],
        "{printed}"
    );
    // The entrypoint itself did not run.
    assert!(!printed.contains("<module 'helpers'"), "{printed}");
}
