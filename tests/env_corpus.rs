//! The distribution-corpus oracle (issue 8): `envscan env` on a virtualenv of 222 real
//! distributions from PyPI (tests/corpus/requirements.txt, built by scripts/corpus-env and
//! passed in `ENVSCAN_CORPUS_ENV`) agrees with what CPython's importlib.metadata says about
//! every one of them (tests/corpus/oracle.py), field by field, with zero differences.
//!
//! Without `ENVSCAN_CORPUS_ENV` the corpus test skips outside CI and fails under it.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command as Process;
use std::sync::OnceLock;

use serde_json::Value;

/// The corpus virtualenv made by scripts/corpus-env, or `None` (a skip outside CI).
fn corpus_env() -> Option<PathBuf> {
    match std::env::var_os("ENVSCAN_CORPUS_ENV").filter(|v| !v.is_empty()) {
        Some(path) => {
            let path = PathBuf::from(path);
            assert!(
                path.join("bin/python").is_file(),
                "ENVSCAN_CORPUS_ENV={} is not a virtualenv",
                path.display()
            );
            Some(path)
        }
        None => {
            support::skip("no corpus virtualenv (ENVSCAN_CORPUS_ENV=$(bash scripts/corpus-env))");
            None
        }
    }
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// The oracle's answer: PEP 503 name → its fields.
fn oracle(venv: &Path) -> BTreeMap<String, Value> {
    let output = support::run(
        Process::new(venv.join("bin/python"))
            .arg("-I")
            .arg(support::repo().join("tests/corpus/oracle.py")),
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// envscan's answer: PEP 503 name → its distribution report.
fn envscan(venv: &Path) -> BTreeMap<String, Value> {
    let project = tempfile::tempdir().unwrap();
    let output = support::envscan()
        .args(["env", "--format", "json", "--python"])
        .arg(venv)
        .arg(project.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "envscan env failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    support::assert_valid("env.schema.json", &report);
    report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["name"].as_str().unwrap().to_string(), d.clone()))
        .collect()
}

type ByName = BTreeMap<String, Value>;

/// (envscan's answer, importlib's answer) for the corpus, computed once for both tests.
fn answers(venv: &Path) -> &'static (ByName, ByName) {
    static ANSWERS: OnceLock<(ByName, ByName)> = OnceLock::new();
    ANSWERS.get_or_init(|| (envscan(venv), oracle(venv)))
}

/// Every difference between envscan and importlib for one distribution, as
/// (field, envscan's value, importlib's value).
///
/// Requires-Dist and Provides-Extra are compared as exact strings in file order (both sides
/// keep the order of the METADATA lines, so nothing needs normalising); modules as the set of
/// top-level names (envscan lists `google.protobuf` where the top level `google` is a
/// namespace shared with other distributions).
fn differences(ours: &Value, theirs: &Value) -> Vec<(&'static str, String, String)> {
    let top_levels: BTreeSet<String> = strings(&ours["modules"])
        .iter()
        .map(|m| m.split('.').next().unwrap_or(m).to_string())
        .collect();
    let fields = [
        (
            "name",
            ours["display_name"].to_string(),
            theirs["name"].to_string(),
        ),
        (
            "version",
            ours["version"].to_string(),
            theirs["version"].to_string(),
        ),
        (
            "requires_dist",
            format!("{:?}", strings(&ours["requires_dist"])),
            format!("{:?}", strings(&theirs["requires_dist"])),
        ),
        (
            "provides_extra",
            format!("{:?}", strings(&ours["provides_extra"])),
            format!("{:?}", strings(&theirs["provides_extra"])),
        ),
        (
            "modules",
            format!("{top_levels:?}"),
            format!(
                "{:?}",
                strings(&theirs["modules"])
                    .into_iter()
                    .collect::<BTreeSet<_>>()
            ),
        ),
    ];
    fields.into_iter().filter(|(_, a, b)| a != b).collect()
}

#[test]
fn every_corpus_distribution_reads_as_importlib_metadata_reads_it() {
    let Some(venv) = corpus_env() else { return };
    let (ours, theirs) = answers(&venv);
    assert!(
        theirs.len() >= 150,
        "the corpus holds {} distributions, fewer than 150",
        theirs.len()
    );
    let mut report = Vec::new();
    let mut by_field: BTreeMap<&str, usize> = BTreeMap::new();
    for name in theirs.keys().chain(ours.keys()).collect::<BTreeSet<_>>() {
        let found = match (ours.get(name), theirs.get(name)) {
            (Some(a), Some(b)) => differences(a, b),
            (None, Some(_)) => vec![("distribution", "absent".into(), "installed".into())],
            (Some(_), None) => vec![("distribution", "listed".into(), "absent".into())],
            (None, None) => Vec::new(),
        };
        for (field, a, b) in found {
            *by_field.entry(field).or_default() += 1;
            report.push(format!("{name}: {field}: envscan {a}, importlib {b}"));
        }
    }
    assert!(
        report.is_empty(),
        "{} differences from importlib.metadata over {} distributions (by field: {by_field:?}):\n{}",
        report.len(),
        theirs.len(),
        report.join("\n")
    );
}

/// The corpus covers what it claims: old and new metadata versions, egg-info installs, a
/// top_level.txt that lies, namespace packages of several distributions and `.pth` hooks.
#[test]
fn the_corpus_covers_the_layouts_it_claims() {
    let Some(venv) = corpus_env() else { return };
    let (ours, theirs) = answers(&venv);
    let versions: BTreeSet<String> = theirs
        .values()
        .filter_map(|d| d["metadata_version"].as_str().map(str::to_string))
        .collect();
    for version in ["1.1", "1.2", "2.0", "2.1", "2.2", "2.3", "2.4", "2.5"] {
        assert!(
            versions.contains(version),
            "no Metadata-Version {version}: {versions:?}"
        );
    }
    let egg_info = ours
        .values()
        .filter(|d| {
            d["metadata"]
                .as_str()
                .is_some_and(|m| m.ends_with(".egg-info"))
        })
        .count();
    assert!(egg_info >= 2, "{egg_info} egg-info installs");
    let lying: Vec<&String> = theirs
        .iter()
        .filter(|(_, d)| {
            d["top_level_txt"].is_array() && strings(&d["top_level_txt"]) != strings(&d["modules"])
        })
        .map(|(name, _)| name)
        .collect();
    assert!(!lying.is_empty(), "no top_level.txt that lies");
    for shared in ["google", "azure", "sphinxcontrib", "jaraco"] {
        let owners = theirs
            .values()
            .filter(|d| strings(&d["modules"]).iter().any(|m| m == shared))
            .count();
        assert!(
            owners >= 2,
            "{owners} distributions share the {shared} namespace"
        );
    }
    let site = venv.join("lib/python3.11/site-packages");
    for pth in ["distutils-precedence.pth", "pytest-cov.pth"] {
        assert!(site.join(pth).is_file(), "no {pth}");
    }
    assert!(
        venv.join("share/jupyter/lab").is_dir(),
        "no jupyter data files"
    );
}
