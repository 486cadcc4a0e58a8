//! `envscan lock --offline` on hand-made environments: resolution by full dotted name,
//! orphans, configuration overrides and incomplete locks, with no network at all (the index
//! URL points at a closed port, which `--offline` must never touch).

mod support;

use std::path::Path;

use assert_cmd::Command;
use serde_json::Value;

fn lock_json(project: &Path, env: &str, extra: &[&str]) -> (Value, tempfile::TempDir) {
    let cache = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .args(["lock", "--format", "json", "--offline"])
        .args(["--index-url", "http://127.0.0.1:9/simple"])
        .arg("--cache-dir")
        .arg(cache.path())
        .arg("--python")
        .arg(support::fixture(env))
        .args(extra)
        .arg(project)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    (serde_json::from_slice(&output.stdout).unwrap(), cache)
}

fn project(source: &str, pyproject: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("app.py"), source).unwrap();
    if !pyproject.is_empty() {
        std::fs::write(dir.path().join("pyproject.toml"), pyproject).unwrap();
    }
    dir
}

fn names(report: &Value, key: &str, field: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p[field].as_str().unwrap().to_string())
        .collect()
}

const NAMESPACE_IMPORTS: &str = "import google.protobuf.message\n\
from google.api import http_pb2\n\
import google.mine\n\
import notinstalled\n";

#[test]
fn modules_of_one_namespace_land_on_the_distributions_that_own_their_files() {
    let dir = project(NAMESPACE_IMPORTS, "");
    let (report, _cache) = lock_json(dir.path(), "site-namespace-split", &[]);
    assert_eq!(
        names(&report, "packages", "name"),
        ["googleapis-common-protos", "protobuf"]
    );
    let imported: Vec<&Value> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| &p["imported_as"])
        .collect();
    assert_eq!(imported[0], &serde_json::json!(["google.api.http_pb2"]));
    assert_eq!(imported[1], &serde_json::json!(["google.protobuf.message"]));
    // google/mine.py is in the shared folder but no RECORD lists it.
    assert_eq!(report["orphans"][0]["module"], "google.mine");
    assert_eq!(report["orphans"][0]["class"], "local");
    assert_eq!(names(&report, "unresolved", "module"), ["notinstalled"]);
    // Offline with an empty cache: nothing verified, so the lock says it is incomplete.
    assert_eq!(report["complete"], false);
    let lock = std::fs::read_to_string(dir.path().join("pylock.envscan.toml")).unwrap();
    let lock: toml::Table = toml::from_str(&lock).unwrap();
    assert_eq!(lock["tool"]["envscan"]["complete"].as_bool(), Some(false));
    assert!(
        lock.get("packages")
            .is_none_or(|p| p.as_array().unwrap().is_empty())
    );
}

#[test]
fn an_unowned_pure_module_travels_in_an_archive_that_keeps_its_namespace() {
    let dir = project(NAMESPACE_IMPORTS, "");
    let (report, _cache) = lock_json(dir.path(), "site-namespace-split", &[]);
    let orphans = report["local"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"].as_str().unwrap().starts_with("orphans-"))
        .expect("a local source for the orphan");
    assert_eq!(orphans["members"], serde_json::json!(["google/mine.py"]));
    let plan = std::fs::read_to_string(dir.path().join("envscan.plan.json")).unwrap();
    assert!(
        !plan.contains(dir.path().to_str().unwrap()),
        "absolute path in the plan"
    );
}

#[test]
fn a_compiled_orphan_is_binary_local_and_the_plan_says_so() {
    let dir = project("import _fastops\nimport dropped\nimport six\n", "");
    let (report, _cache) = lock_json(dir.path(), "orphan-extension", &[]);
    let orphans: Vec<(String, String)> = report["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["module"].as_str().unwrap().into(),
                o["class"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        orphans,
        [
            ("_fastops".into(), "binary_local".into()),
            ("dropped".into(), "local".into())
        ]
    );
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("envscan.plan.json")).unwrap(),
    )
    .unwrap();
    let warnings = plan["warnings"].as_array().unwrap();
    assert!(
        warnings
            .iter()
            .any(|w| w["code"] == "binary-local-module" && w["subject"] == "_fastops"),
        "{warnings:#?}"
    );
    assert!(
        warnings
            .iter()
            .any(|w| w["code"] == "unverified-package" && w["subject"] == "six"),
        "{warnings:#?}"
    );
}

#[test]
fn the_configuration_can_settle_unresolved_modules_and_reclassify_orphans() {
    let dir = project(
        "import _fastops\nimport provided_by_image\n",
        "[tool.envscan]\nclasses = { provided_by_image = \"binary_local\", _fastops = \"local\" }\n",
    );
    let (report, _cache) = lock_json(dir.path(), "orphan-extension", &[]);
    assert!(
        report["unresolved"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    assert_eq!(report["orphans"][0]["class"], "local");
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    assert!(!codes.contains(&"unresolved-import"), "{codes:?}");
}

#[test]
fn type_checking_imports_are_not_needed_and_optional_misses_are_only_info() {
    let dir = project(
        "from typing import TYPE_CHECKING\n\
         if TYPE_CHECKING:\n    import six\n\
         try:\n    import fancy_speedups\nexcept ImportError:\n    fancy_speedups = None\n",
        "",
    );
    let (report, _cache) = lock_json(dir.path(), "orphan-extension", &[]);
    assert!(
        report["packages"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    let unresolved = &report["unresolved"][0];
    assert_eq!(unresolved["module"], "fancy_speedups");
    assert_eq!(unresolved["guarded"], true);
    let severities: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "unresolved-import")
        .map(|d| d["severity"].as_str().unwrap())
        .collect();
    assert_eq!(severities, ["info"]);
}

#[test]
fn a_second_run_leaves_every_output_byte_identical() {
    let dir = project(NAMESPACE_IMPORTS, "");
    let _ = lock_json(dir.path(), "site-namespace-split", &[]);
    let read = |name: &str| std::fs::read(dir.path().join(name)).unwrap();
    let before: Vec<Vec<u8>> = [
        "pylock.envscan.toml",
        "envscan.conda.yaml",
        "envscan.plan.json",
    ]
    .iter()
    .map(|n| read(n))
    .collect();
    let (report, _) = lock_json(dir.path(), "site-namespace-split", &[]);
    assert!(report["changed"].as_array().unwrap().is_empty());
    let after: Vec<Vec<u8>> = [
        "pylock.envscan.toml",
        "envscan.conda.yaml",
        "envscan.plan.json",
    ]
    .iter()
    .map(|n| read(n))
    .collect();
    assert_eq!(before, after);
}

#[test]
fn added_distributions_are_needed_without_an_import_and_unknown_ones_are_errors() {
    let dir = project(
        "import os\n",
        "[tool.envscan]\nadd = [\"six\", \"not-installed-dist\"]\n",
    );
    let (report, _cache) = lock_json(dir.path(), "orphan-extension", &[]);
    assert_eq!(names(&report, "packages", "name"), ["six"]);
    assert_eq!(report["packages"][0]["class"], "pypi");
    assert!(
        report["packages"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("[tool.envscan] add"),
        "{report:#}"
    );
    let added_errors: Vec<&Value> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "added-not-installed")
        .collect();
    assert_eq!(added_errors.len(), 1);
    assert!(
        added_errors[0]["message"]
            .as_str()
            .unwrap()
            .contains("not-installed-dist")
    );
}

#[test]
fn ignored_modules_leave_the_analysis_entirely() {
    let dir = project(
        "import six\nimport vendored_helper.sub\n",
        "[tool.envscan]\nignore = [\"vendored_helper\", \"six\"]\n",
    );
    let (report, _cache) = lock_json(dir.path(), "orphan-extension", &[]);
    assert!(
        report["packages"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
    assert!(
        report["unresolved"].as_array().unwrap().is_empty(),
        "{report:#}"
    );
}
