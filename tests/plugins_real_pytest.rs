//! envscan's pytest plugins against real pytest (issue 12 points 1 and 2): a venv made by uv
//! (from the test env) with real wheels of pytest, pytest-mock, pytest-cov, pytest-xdist and
//! pytest-benchmark, and a project whose tests use `mocker` and whose configuration passes
//! `--cov`, `-n`, `--dist` and `--benchmark-disable`.
//!
//! Oracles, all from the venv's own interpreter:
//! - `importlib.metadata.entry_points(group="pytest11")`, the call pluggy makes: its
//!   distributions must be exactly the ones envscan locks as `pytest11` plugins;
//! - `pytest --trace-config`: the third-party plugins it registers must be the same set;
//! - `pytest --help` with one plugin's entry points blocked (`-p no:NAME`): the options of
//!   addopts that disappear are the ones that plugin registers, which must be the ones envscan
//!   credits to it.
//!
//! Needs the package index (uv downloads the wheels): skips outside CI when it cannot.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const WHEELS: &[&str] = &[
    "pytest==9.2.0",
    "pytest-mock==3.17.0",
    "pytest-cov==7.1.0",
    "pytest-xdist==3.8.0",
    "pytest-benchmark==5.3.1",
];
const ADDOPTS: &[&str] = &["--cov", "-n", "--dist", "--benchmark-disable"];

/// The venv's interpreter, or `None` (a skip outside CI) when uv could not build it.
fn venv(test_env: &Path, dir: &Path) -> Option<PathBuf> {
    let python = support::which_python()?;
    let venv = dir.join("venv");
    let uv = test_env.join("bin/uv");
    support::run(
        Command::new(&uv)
            .arg("venv")
            .arg("--python")
            .arg(python)
            .arg(&venv),
    );
    let out = Command::new(&uv)
        .args(["pip", "install", "--quiet", "--python"])
        .arg(venv.join("bin/python"))
        .args(WHEELS)
        .output()
        .unwrap();
    if !out.status.success() {
        let why = format!(
            "uv pip install failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(std::env::var_os("CI").is_none(), "{why}");
        support::skip(&why);
        return None;
    }
    Some(venv.join("bin/python"))
}

fn project(dir: &Path) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(project.join("tests")).unwrap();
    std::fs::write(
        project.join("pyproject.toml"),
        "[project]\nname = \"app\"\nversion = \"0.1\"\n\n[tool.pytest.ini_options]\n\
         addopts = \"--cov=app -n 2 --dist loadfile --benchmark-disable\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(project.join("app")).unwrap();
    std::fs::write(
        project.join("app/__init__.py"),
        "def answer():\n    return 42\n",
    )
    .unwrap();
    std::fs::write(
        project.join("tests/test_app.py"),
        "import pytest\n\nimport app\n\n\ndef test_answer(mocker):\n    \
         mocker.patch(\"app.answer\", return_value=1)\n    assert app.answer() == 1\n",
    )
    .unwrap();
    project
}

/// Distribution (normalised) → its pytest11 entry point names, from importlib.metadata.
fn pytest11(python: &Path) -> BTreeMap<String, Vec<String>> {
    let script = "import importlib.metadata as m, json, re\n\
                  out = {}\n\
                  for ep in m.entry_points(group='pytest11'):\n    \
                      name = re.sub(r'[-_.]+', '-', ep.dist.name).lower()\n    \
                      out.setdefault(name, []).append(ep.name)\n\
                  print(json.dumps(out))";
    let out = support::run(Command::new(python).args(["-c", script]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The third-party plugins `pytest --trace-config` registers, by distribution name.
fn trace_config(python: &Path, project: &Path) -> BTreeSet<String> {
    let out = Command::new(python)
        // Without addopts: only the plugins loaded at start-up are asked about.
        .args(["-m", "pytest", "--trace-config", "--co", "-o", "addopts="])
        .current_dir(project)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let mut in_section = false;
    let mut dists = BTreeSet::new();
    for line in text.lines() {
        if line.starts_with("registered third-party plugins:") {
            in_section = true;
            continue;
        }
        if in_section {
            let Some(entry) = line.strip_prefix("  ") else {
                break;
            };
            // `pytest-mock-3.17.0 at /.../pytest_mock/__init__.py`
            let name_version = entry.split(" at ").next().unwrap();
            let (name, _) = name_version.rsplit_once('-').unwrap();
            dists.insert(envscan::names::PackageName::new(name).to_string());
        }
    }
    assert!(!dists.is_empty(), "no plugins in:\n{text}");
    dists
}

/// Whether `pytest --help` (with `blocked` entry points disabled) lists `option`.
fn help_lists(python: &Path, blocked: &[String], empty: &Path, options: &[&str]) -> Vec<bool> {
    let mut cmd = Command::new(python);
    cmd.args(["-m", "pytest", "--help"]).current_dir(empty);
    for name in blocked {
        cmd.arg("-p").arg(format!("no:{name}"));
    }
    let out = support::run(&mut cmd);
    let text = String::from_utf8_lossy(&out.stdout);
    options
        .iter()
        .map(|option| {
            text.split(|c: char| c.is_whitespace() || c == ',' || c == '=' || c == '[')
                .any(|word| word == *option)
        })
        .collect()
}

#[test]
fn envscan_locks_the_plugins_real_pytest_loads_and_credits_each_option_to_its_registrant() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let Some(python) = venv(&test_env, dir.path()) else {
        return;
    };
    let project = project(dir.path());
    let out = support::envscan()
        .args([
            "lock",
            "--check",
            "--format",
            "json",
            "--offline",
            "--python",
        ])
        .arg(&python)
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .arg(&project)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let packages = report["packages"].as_array().unwrap();
    let reasons = |name: &str| -> Vec<String> {
        packages
            .iter()
            .find(|p| p["name"] == name)
            .map(|p| {
                p["plugin_of"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|r| r.as_str().unwrap().to_string())
                    .collect()
            })
            .unwrap_or_default()
    };
    let by_group: BTreeSet<String> = packages
        .iter()
        .filter(|p| {
            p["plugin_of"]
                .as_array()
                .unwrap()
                .iter()
                .any(|r| r.as_str() == Some("plugin of pytest via entry point group pytest11"))
        })
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();

    let entry_points = pytest11(&python);
    let expected: BTreeSet<String> = entry_points.keys().cloned().collect();
    assert_eq!(
        by_group, expected,
        "importlib.metadata's pytest11 distributions"
    );
    assert_eq!(
        expected,
        BTreeSet::from(
            [
                "pytest-benchmark",
                "pytest-cov",
                "pytest-mock",
                "pytest-xdist"
            ]
            .map(String::from)
        )
    );
    let traced = trace_config(&python, &project);
    assert_eq!(
        by_group, traced,
        "pytest --trace-config's third-party plugins"
    );
    // The plugins' own requirements are locked too (pytest-cov requires coverage).
    assert!(packages.iter().any(|p| p["name"] == "coverage"));

    // Which plugin registers each addopts option, as real pytest shows it.
    let empty = dir.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    std::fs::write(empty.join("pytest.ini"), "[pytest]\n").unwrap();
    let all = help_lists(&python, &[], &empty, ADDOPTS);
    assert!(all.iter().all(|listed| *listed), "{ADDOPTS:?}: {all:?}");
    for (dist, names) in &entry_points {
        let without = help_lists(&python, names, &empty, ADDOPTS);
        let registered: Vec<&str> = ADDOPTS
            .iter()
            .zip(&without)
            .filter(|(_, listed)| !**listed)
            .map(|(option, _)| *option)
            .collect();
        let credited: Vec<&str> = ADDOPTS
            .iter()
            .copied()
            .filter(|option| {
                reasons(dist).contains(&format!(
                    "plugin of pytest: pyproject.toml passes {option}, an option it registers"
                ))
            })
            .collect();
        assert_eq!(credited, registered, "options of {dist}");
    }
}
