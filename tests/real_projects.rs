//! envscan against CPython on real projects (issue 8 points 4 and 5): five open-source
//! projects from their PyPI sdists at pinned versions (tests/real_projects/projects.toml),
//! each installed with its test dependencies in its own venv by `scripts/real-projects`.
//!
//! For each, the runtime oracle (tests/real_projects/oracle.py, run by the project's own
//! interpreter) imports every file of the project and maps `sys.modules` to distributions
//! through their RECORD files; `envscan lock --check --format json` (which writes nothing)
//! must then lock every one of those distributions and their Requires-Dist closure (recall
//! 100%), lock nothing else that the project's own import statements do not justify
//! (precision at least 98%), and report no error-level diagnostic on an import that
//! `importlib.util.find_spec` resolves in that venv.
//!
//! Each test writes its measured row to target/tmp/real-projects/NAME.md and the oracle's
//! full comparison to NAME/result.json (docs/real-projects.md is made from them).
//! Building a venv takes a minute or more cold; builds are cached in
//! ~/.cache/envscan-real-projects (see the script). Outside CI a failed build (no network)
//! skips; under CI=true it fails.

mod support;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Recall must be exact; precision may lose this much to distributions no import explains.
const MIN_PRECISION: f64 = 0.98;

fn work_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("real-projects")
        .join(name);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The built project: its unpacked sdist and its venv's interpreter, or `None` (a skip
/// outside CI) when the build failed.
fn built(name: &str) -> Option<(PathBuf, PathBuf)> {
    let python = support::which_python()?;
    let output = Command::new(python)
        .arg(support::repo().join("scripts/real-projects"))
        .arg("build")
        .arg(name)
        .output()
        .unwrap();
    if !output.status.success() {
        let why = format!(
            "scripts/real-projects build {name} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(std::env::var_os("CI").is_none(), "{why}");
        support::skip(&why);
        return None;
    }
    let paths: Value = serde_json::from_slice(&output.stdout).unwrap();
    let entry = &paths[name];
    Some((
        PathBuf::from(entry["project"].as_str().unwrap()),
        PathBuf::from(entry["python"].as_str().unwrap()),
    ))
}

fn json_file(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Runs the oracle and envscan on one project; panics with every difference.
fn check(name: &str) {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let Some((project, python)) = built(name) else {
        return;
    };
    let work = work_dir(name);
    let oracle = support::repo().join("tests/real_projects/oracle.py");
    let imports = work.join("imports.json");
    support::run(
        Command::new(&python)
            .arg(&oracle)
            .arg("imports")
            .arg(&project)
            .arg(&imports)
            .current_dir(&project)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("MPLBACKEND", "Agg"),
    );

    // `--check` writes nothing into the (cached, shared) project; it exits 1 when the
    // outputs would change, which they always do here.
    let lock = work.join("lock.json");
    let out = support::envscan()
        .args(["lock", "--check", "--format", "json", "--python"])
        .arg(&python)
        .arg("--cache-dir")
        .arg(Path::new(env!("CARGO_TARGET_TMPDIR")).join("real-projects/envscan-cache"))
        .arg(&project)
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "envscan lock failed on {name}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(&lock, &out.stdout).unwrap();

    let result = work.join("result.json");
    support::run(
        Command::new(test_env.join("bin/python"))
            .arg(&oracle)
            .arg("compare")
            .arg("--venv")
            .arg(python.parent().and_then(Path::parent).unwrap())
            .arg("--project")
            .arg(&project)
            .arg("--imports")
            .arg(&imports)
            .arg("--lock")
            .arg(&lock)
            .arg("--own")
            .arg(name)
            .arg("--out")
            .arg(&result),
    );
    let r = json_file(&result);
    let row = table_row(name, &r);
    std::fs::write(work_dir("").join(format!("{name}.md")), &row).unwrap();
    eprintln!("{row}");

    let mut problems = String::new();
    let missing = r["missing"].as_object().unwrap();
    if !missing.is_empty() {
        writeln!(
            problems,
            "missing from the lock (CPython imports them or their closure needs them):"
        )
        .unwrap();
        for (dist, why) in missing {
            writeln!(problems, "  {dist}: {why}").unwrap();
        }
    }
    let precision = r["precision"].as_f64().unwrap();
    if precision < MIN_PRECISION {
        writeln!(
            problems,
            "precision {precision:.3} < {MIN_PRECISION}; locked outside the oracle's closure with no import to justify it:"
        )
        .unwrap();
        for dist in r["unjustified_extras"].as_array().unwrap() {
            let dist = dist.as_str().unwrap();
            writeln!(problems, "  {dist}: {}", r["extras"][dist]).unwrap();
        }
    }
    // The plugins pytest registers in the venv (`pytest -VV`, run by the oracle) are exactly
    // the ones envscan locks as pytest11 plugins, and are the ones projects.toml lists.
    let strings = |key: &str| -> Vec<String> {
        r[key]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_string())
            .collect()
    };
    if strings("locked_pytest_plugins") != strings("pytest_plugins") {
        writeln!(
            problems,
            "pytest11 plugins: envscan locks {:?}, pytest -VV registers {:?}",
            strings("locked_pytest_plugins"),
            strings("pytest_plugins")
        )
        .unwrap();
    }
    let listed = listed_pytest_plugins(name);
    if strings("pytest_plugins") != listed {
        writeln!(
            problems,
            "pytest -VV registers {:?}; projects.toml lists pytest_plugins = {listed:?}",
            strings("pytest_plugins")
        )
        .unwrap();
    }
    let false_errors = r["false_errors"].as_array().unwrap();
    if !false_errors.is_empty() {
        writeln!(
            problems,
            "error-level diagnostics on imports CPython resolves in the venv:"
        )
        .unwrap();
        for e in false_errors {
            writeln!(
                problems,
                "  {} {}: {} (CPython finds it, {}: {})",
                e["at"].as_str().unwrap(),
                e["code"].as_str().unwrap(),
                e["message"].as_str().unwrap(),
                e["kind"].as_str().unwrap(),
                e["cpython_finds"].as_str().unwrap()
            )
            .unwrap();
        }
    }
    assert!(
        problems.is_empty(),
        "{name} ({}):\n{problems}",
        result.display()
    );
}

/// `pytest_plugins` of the project's entry in projects.toml: the plugin distributions pytest
/// loads in its venv (normalised names, sorted).
fn listed_pytest_plugins(name: &str) -> Vec<String> {
    let text =
        std::fs::read_to_string(support::repo().join("tests/real_projects/projects.toml")).unwrap();
    let listed: toml::Table = toml::from_str(&text).unwrap();
    let project = listed["project"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"].as_str() == Some(name))
        .unwrap();
    project
        .get("pytest_plugins")
        .and_then(|p| p.as_array())
        .map(|a| a.iter().map(|v| v.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

/// One row of docs/real-projects.md's table.
fn table_row(name: &str, r: &Value) -> String {
    let count = |key: &str| r[key].as_object().map_or(0, |o| o.len());
    let levels = r["diagnostics_by_level"].as_object().unwrap();
    let level = |l: &str| levels.get(l).and_then(Value::as_u64).unwrap_or(0);
    format!(
        "| {name} | {} | {} | {} | {} | {:.1}% | {:.1}% | {} | {} | {} | {} | {} |\n",
        count("oracle"),
        count("closure"),
        r["locked"].as_array().unwrap().len(),
        count("missing"),
        r["recall"].as_f64().unwrap() * 100.0,
        r["precision"].as_f64().unwrap() * 100.0,
        r["unjustified_extras"].as_array().unwrap().len(),
        level("error"),
        level("warning"),
        level("info"),
        r["false_errors"].as_array().unwrap().len(),
    )
}

#[test]
fn httpie() {
    check("httpie");
}

#[test]
fn cookiecutter() {
    check("cookiecutter");
}

#[test]
fn typer() {
    check("typer");
}

#[test]
fn click() {
    check("click");
}

#[test]
fn seaborn() {
    check("seaborn");
}

/// Every project of projects.toml has its test above, and each sdist pin is complete.
#[test]
fn every_listed_project_is_checked() {
    let text =
        std::fs::read_to_string(support::repo().join("tests/real_projects/projects.toml")).unwrap();
    let listed: toml::Table = toml::from_str(&text).unwrap();
    let mut names: Vec<&str> = listed["project"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            assert_eq!(p["sdist_sha256"].as_str().unwrap().len(), 64, "{p:?}");
            assert!(
                support::repo()
                    .join(format!(
                        "tests/real_projects/requirements/{}.txt",
                        p["name"].as_str().unwrap()
                    ))
                    .is_file(),
                "{p:?} has no pinned requirements file"
            );
            p["name"].as_str().unwrap()
        })
        .collect();
    names.sort_unstable();
    assert_eq!(
        names,
        ["click", "cookiecutter", "httpie", "seaborn", "typer"]
    );
}
