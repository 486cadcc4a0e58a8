//! What a first-time user tripped over on the command line (issue 13), each as the user saw it:
//! options refused where the README says they are shared, formats offered where they are
//! refused, `plan DIR`, counts that disagree with the JSON, a heading printed per chain, a
//! count line that reads as output, a silent first hook run, and a hook that locks against
//! whatever `python3` is on PATH.

mod support;

use std::path::{Path, PathBuf};

use serde_json::Value;
use support::envscan;

/// A project folder holding `app.py` with `source` and, when given, a pyproject.toml.
fn project(source: &str, pyproject: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), source).unwrap();
    if !pyproject.is_empty() {
        std::fs::write(dir.path().join("pyproject.toml"), pyproject).unwrap();
    }
    dir
}

/// `envscan lock --offline` against a fixture environment, touching no network.
fn lock(project: &Path, cache: &Path, extra: &[&str]) -> assert_cmd::assert::Assert {
    envscan()
        .args([
            "lock",
            "--offline",
            "--index-url",
            "http://127.0.0.1:9/simple",
        ])
        .arg("--cache-dir")
        .arg(cache)
        .arg("--python")
        .arg(support::fixture("site-namespace-split"))
        .args(extra)
        .arg(project)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .assert()
}

fn stdout(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stdout).into_owned()
}

fn stderr(assert: &assert_cmd::assert::Assert) -> String {
    String::from_utf8_lossy(&assert.get_output().stderr).into_owned()
}

#[test]
fn scan_takes_python_and_the_environment_version_decides_the_stdlib() {
    // Reproduces `envscan scan --python ...`: "unexpected argument '--python'".
    // tomllib is standard library from 3.11 on; the fixture environment is 3.11.7.
    let dir = project("import tomllib\n", "");
    let assert = envscan()
        .args(["scan", "--format", "json", "--python"])
        .arg(support::fixture("site-namespace-split"))
        .arg(dir.path())
        .assert()
        .success();
    let report: Value = serde_json::from_str(&stdout(&assert)).unwrap();
    assert_eq!(report["python_version"], "3.11");
    assert_eq!(report["stdlib"], serde_json::json!(["tomllib"]));
    // --python-version still wins over the environment's.
    let assert = envscan()
        .args([
            "scan",
            "--format",
            "json",
            "--python-version",
            "3.10",
            "--python",
        ])
        .arg(support::fixture("site-namespace-split"))
        .arg(dir.path())
        .assert()
        .success();
    let report: Value = serde_json::from_str(&stdout(&assert)).unwrap();
    assert_eq!(report["python_version"], "3.10");
}

#[test]
fn options_that_mean_nothing_to_a_command_are_refused_by_name() {
    let dir = project("import os\n", "");
    let assert = envscan()
        .args(["scan", "--offline"])
        .arg(dir.path())
        .assert()
        .code(2);
    assert!(
        stderr(&assert).contains("unexpected argument '--offline'"),
        "{}",
        stderr(&assert)
    );
    let assert = envscan()
        .args(["plan", "--python", "/usr"])
        .assert()
        .code(2);
    assert!(stderr(&assert).contains("unexpected argument '--python'"));
    // The global options work before the command as well as after it.
    envscan()
        .args(["--format", "json", "scan"])
        .arg(dir.path())
        .assert()
        .success();
}

#[test]
fn help_offers_only_the_formats_a_command_accepts() {
    // Reproduces every subcommand's help listing `dot` and `mermaid`.
    for command in ["scan", "env", "lock", "check", "pack", "plan", "explain"] {
        let assert = envscan().args([command, "--help"]).assert().success();
        let help = stdout(&assert);
        assert!(help.contains("json"), "{command}: {help}");
        assert!(
            !help.contains("mermaid"),
            "{command} offers mermaid: {help}"
        );
        assert!(!help.contains("dot:"), "{command} offers dot: {help}");
    }
    let assert = envscan().args(["graph", "--help"]).assert().success();
    let help = stdout(&assert);
    for format in ["dot", "mermaid", "json"] {
        assert!(help.contains(&format!("- {format}")), "graph: {help}");
    }
    assert!(!help.contains("- human"), "graph offers human: {help}");
    let assert = envscan().args(["scan", "--format", "dot"]).assert().code(2);
    assert!(stderr(&assert).contains("possible values: human, json"));
}

#[test]
fn graph_formats_reach_the_graph_command() {
    let dir = project("import os\nimport app2\n", "");
    std::fs::write(dir.path().join("app2.py"), "").unwrap();
    let run = |format: Option<&str>| {
        let mut cmd = envscan();
        cmd.arg("graph").arg(dir.path()).arg("--python");
        cmd.arg(support::fixture("site-namespace-split"));
        if let Some(format) = format {
            cmd.args(["--format", format]);
        }
        stdout(&cmd.assert().success())
    };
    assert!(run(None).starts_with("digraph"));
    assert!(run(Some("dot")).starts_with("digraph"));
    assert!(run(Some("mermaid")).starts_with("flowchart"));
    let json: Value = serde_json::from_str(&run(Some("json"))).unwrap();
    assert!(json["nodes"].is_array());
}

#[test]
fn plan_takes_the_project_folder_or_the_plan_file() {
    // Reproduces `envscan plan DIR --dockerfile`: "Is a directory (os error 21)".
    let dir = project("import google.protobuf.message\n", "");
    let cache = tempfile::tempdir().unwrap();
    lock(dir.path(), cache.path(), &["-q"]).success();
    let from_dir = envscan()
        .arg("plan")
        .arg(dir.path())
        .arg("--dockerfile")
        .assert()
        .success();
    let from_file = envscan()
        .arg("plan")
        .arg(dir.path().join("envscan.plan.json"))
        .arg("--dockerfile")
        .assert()
        .success();
    assert!(stdout(&from_dir).contains("FROM "));
    assert_eq!(stdout(&from_dir), stdout(&from_file));
    // A folder without a plan says what to run.
    let empty = tempfile::tempdir().unwrap();
    let assert = envscan().arg("plan").arg(empty.path()).assert().code(2);
    assert!(
        stderr(&assert).contains("run `envscan lock"),
        "{}",
        stderr(&assert)
    );
}

#[test]
fn plan_of_a_folder_follows_the_configured_lock_folder() {
    let dir = project(
        "import google.protobuf.message\n",
        "[tool.envscan]\nlock = \"deploy/pylock.envscan.toml\"\n",
    );
    let cache = tempfile::tempdir().unwrap();
    lock(dir.path(), cache.path(), &["-q"]).success();
    assert!(dir.path().join("deploy/envscan.plan.json").is_file());
    envscan().arg("plan").arg(dir.path()).assert().success();
}

#[test]
fn summary_counts_equal_the_json() {
    // Reproduces "0 local" in the summary where the JSON lists the project as a local source.
    let dir = project("import google.protobuf.message\nimport google.mine\n", "");
    let cache = tempfile::tempdir().unwrap();
    let json = lock(dir.path(), cache.path(), &["--format", "json"]).success();
    let report: Value = serde_json::from_str(&stdout(&json)).unwrap();
    let local = report["local"].as_array().unwrap().len();
    assert!(local >= 1, "{report}");
    let of_class = |class: &str| {
        ["packages", "orphans"]
            .iter()
            .flat_map(|key| report[key].as_array().unwrap())
            .filter(|p| p["class"] == class)
            .count()
    };
    let human = lock(dir.path(), cache.path(), &[]).success();
    let first = stdout(&human)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    let want = format!(
        "({} pypi, {} conda, {local} local, {} binary_local)",
        of_class("pypi"),
        of_class("conda"),
        of_class("binary_local")
    );
    assert!(first.contains(&want), "{first:?} lacks {want:?}");
}

#[test]
fn explain_prints_its_heading_once_for_several_chains() {
    // Reproduces "imported through" printed once per chain.
    let dir = project("import google.protobuf.message\nimport helper\n", "");
    std::fs::write(
        dir.path().join("helper.py"),
        "import google.protobuf.message\n",
    )
    .unwrap();
    let cache = tempfile::tempdir().unwrap();
    let json = envscan()
        .args(["explain", "protobuf", "--format", "json", "--offline"])
        .args(["--index-url", "http://127.0.0.1:9/simple", "--cache-dir"])
        .arg(cache.path())
        .arg("--python")
        .arg(support::fixture("site-namespace-split"))
        .arg(dir.path())
        .assert()
        .success();
    let report: Value = serde_json::from_str(&stdout(&json)).unwrap();
    assert!(
        report["import_chains"].as_array().unwrap().len() >= 2,
        "{report}"
    );
    let human = envscan()
        .args(["explain", "protobuf", "--offline"])
        .args(["--index-url", "http://127.0.0.1:9/simple", "--cache-dir"])
        .arg(cache.path())
        .arg("--python")
        .arg(support::fixture("site-namespace-split"))
        .arg(dir.path())
        .assert()
        .success();
    let text = stdout(&human);
    assert_eq!(text.matches("imported through").count(), 1, "{text}");
    assert!(
        text.contains("app.py:1 imports google.protobuf.message"),
        "{text}"
    );
    assert!(
        text.contains("helper.py:1 imports google.protobuf.message"),
        "{text}"
    );
}

#[test]
fn the_count_line_says_held_back_info_was_not_printed() {
    // Reproduces "1 info on stderr (info with -v)" when nothing was printed on stderr.
    // A notebook in another kernel language is skipped with an info diagnostic.
    let dir = project("import os\n", "");
    std::fs::write(
        dir.path().join("analysis.ipynb"),
        r#"{"metadata": {"kernelspec": {"language": "R"}}, "cells": [], "nbformat": 4}"#,
    )
    .unwrap();
    let scan = |flags: &[&str]| {
        let assert = envscan()
            .args(["scan", "--python-version", "3.11"])
            .args(flags)
            .arg(dir.path())
            .assert()
            .success();
        let summary = stdout(&assert)
            .lines()
            .find(|l| l.contains("on stderr"))
            .unwrap_or_default()
            .to_string();
        (summary, stderr(&assert))
    };
    let (summary, err) = scan(&[]);
    assert_eq!(err.matches("info[").count(), 0, "{err}");
    assert_eq!(
        summary,
        "0 errors, 0 warnings on stderr; 1 info not shown (-v shows them)"
    );
    let (summary, err) = scan(&["-v"]);
    assert_eq!(err.matches("info[").count(), 1, "{err}");
    assert_eq!(summary, "0 errors, 0 warnings, 1 info on stderr");
}

#[test]
fn a_quiet_first_lock_says_what_it_created_and_what_to_git_add() {
    // Reproduces the first `envscan-lock` hook run failing with only "exit code: 1".
    let dir = project("import google.protobuf.message\n", "");
    let cache = tempfile::tempdir().unwrap();
    let first = lock(dir.path(), cache.path(), &["-q", "--fail-on-change"]).code(1);
    let err = stderr(&first);
    assert!(stdout(&first).is_empty(), "-q prints no report");
    assert!(err.contains("created"), "{err}");
    for name in [
        "pylock.envscan.toml",
        "envscan.conda.yaml",
        "envscan.plan.json",
    ] {
        assert!(err.contains(name), "{err}");
    }
    assert!(err.contains("git add"), "{err}");
    // Nothing changed: nothing to say, and the hook passes.
    let second = lock(dir.path(), cache.path(), &["-q", "--fail-on-change"]).success();
    assert_eq!(stderr(&second), "");
    // A stale output is named as rewritten.
    std::fs::write(dir.path().join("envscan.conda.yaml"), "stale\n").unwrap();
    let third = lock(dir.path(), cache.path(), &["-q", "--fail-on-change"]).code(1);
    let err = stderr(&third);
    assert!(
        err.contains("rewrote ") && err.contains("envscan.conda.yaml (stale)"),
        "{err}"
    );
    assert!(!err.contains("created"), "{err}");
}

/// An empty executable file: discovery takes only an executable as an interpreter.
fn executable(path: &std::path::Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::write(path, "").unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

/// A folder on PATH whose `python3` belongs to a plain (non-venv) prefix, like /usr.
fn plain_python_on_path() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("prefix");
    std::fs::create_dir_all(prefix.join("lib/python3.11/site-packages")).unwrap();
    std::fs::create_dir_all(prefix.join("bin")).unwrap();
    executable(&prefix.join("bin/python3"));
    let bin = prefix.join("bin");
    (dir, bin)
}

#[test]
fn no_path_python_refuses_the_path_interpreter_and_says_how_to_name_one() {
    // Reproduces the hook locking quietly against PATH's python3 when the project has no venv.
    let dir = project("import os\n", "");
    let (_keep, bin) = plain_python_on_path();
    let without = envscan()
        .arg("graph")
        .arg(dir.path())
        .env("PATH", &bin)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .assert()
        .success();
    assert!(stdout(&without).starts_with("digraph"));
    let with = envscan()
        .args(["graph", "--no-path-python"])
        .arg(dir.path())
        .env("PATH", &bin)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .assert()
        .code(2);
    let err = stderr(&with);
    assert!(err.contains("no Python environment found"), "{err}");
    assert!(err.contains("create .venv"), "{err}");
    assert!(err.contains(r#"python = "python3""#), "{err}");
    // `[tool.envscan] python = "python3"` asks for PATH's interpreter: then it is used.
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.envscan]\npython = \"python3\"\n",
    )
    .unwrap();
    let asked = envscan()
        .args(["env", "--format", "json"])
        .arg(dir.path())
        .env("PATH", &bin)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .assert()
        .success();
    let report: Value = serde_json::from_str(&stdout(&asked)).unwrap();
    assert_eq!(report["python"]["found_by"], "config", "{report}");
    envscan()
        .args(["graph", "--no-path-python"])
        .arg(dir.path())
        .env("PATH", &bin)
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .assert()
        .success();
}

#[test]
fn no_path_python_still_takes_an_activated_venv_on_path() {
    let dir = project("import os\n", "");
    let venv = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(venv.path().join("lib/python3.11/site-packages")).unwrap();
    std::fs::create_dir_all(venv.path().join("bin")).unwrap();
    executable(&venv.path().join("bin/python3"));
    std::fs::write(venv.path().join("pyvenv.cfg"), "version = 3.11.7\n").unwrap();
    envscan()
        .args(["graph", "--no-path-python"])
        .arg(dir.path())
        .env("PATH", venv.path().join("bin"))
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .assert()
        .success();
}

#[test]
fn version_names_the_commit_it_was_built_from() {
    let assert = envscan().arg("--version").assert().success();
    let line = stdout(&assert);
    assert!(
        line.starts_with(&format!("envscan {} (commit ", env!("CARGO_PKG_VERSION"))),
        "{line}"
    );
    let commit = line
        .trim_end()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    // Built from this checkout: the commit is git's (or `unknown` outside a repository).
    let git = std::process::Command::new("git")
        .args(["-C", env!("CARGO_MANIFEST_DIR"), "rev-parse", "HEAD"])
        .output();
    match git {
        Ok(out) if out.status.success() => {
            let head = String::from_utf8_lossy(&out.stdout);
            assert!(head.starts_with(&commit), "{commit} is not HEAD {head}");
        }
        _ => assert_eq!(commit, "unknown"),
    }
}
