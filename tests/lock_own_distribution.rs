//! The project's own distribution, installed editable into its venv, is a root of the
//! `Requires-Dist` closure. Reproduces httpie 3.2.4 (tests/real_projects.rs): the project
//! declares `requests[socks]` and imports only `requests`; pip installs PySocks for the extra
//! and CPython imports it at run time (`requests.adapters` -> `urllib3.contrib.socks` ->
//! `socks`), but the lock left it out because nothing imported asked for the extra.

mod support;

use std::process::Command;

use serde_json::Value;

#[test]
fn the_extras_the_projects_own_distribution_requests_are_locked() {
    let Some(python) = support::which_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("socksapp");
    support::copy_tree(&support::fixture("own-dist-extras"), &project);
    let venv = dir.path().join("venv");
    support::venv_with(&python, &venv, &["-e".as_ref(), project.as_os_str()]);
    // pip installed PySocks for the extra, and importing the project loads it (from the venv
    // folder, so that `socksapp` is the editable install, not the project folder beside it).
    let loaded = support::run(
        Command::new(venv.join("bin/python"))
            .args(["-c", "import sys, socksapp; print('socks' in sys.modules)"])
            .current_dir(&venv),
    );
    assert_eq!(String::from_utf8_lossy(&loaded.stdout).trim(), "True");

    let cache = dir.path().join("cache");
    let explain = |name: &str| -> Value {
        let out = support::envscan()
            .args(["explain", name, "--format", "json", "--offline", "--python"])
            .arg(&venv)
            .arg("--cache-dir")
            .arg(&cache)
            .arg(&project)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        serde_json::from_slice(&out.stdout).unwrap()
    };
    let out = support::envscan()
        .args([
            "lock",
            "--check",
            "--format",
            "json",
            "--offline",
            "--python",
        ])
        .arg(&venv)
        .arg("--cache-dir")
        .arg(&cache)
        .arg(&project)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)));
    let packages = report["packages"].as_array().unwrap();
    let find = |name: &str| packages.iter().find(|p| p["name"] == name);
    let names: Vec<&str> = packages.iter().filter_map(|p| p["name"].as_str()).collect();

    let pysocks = find("pysocks").unwrap_or_else(|| panic!("PySocks not locked: {names:?}"));
    assert!(pysocks["version"].as_str().is_some_and(|v| !v.is_empty()));
    let requirers: Vec<(&str, &str)> = pysocks["required_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap(),
                r["requirement"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(
        requirers.iter().any(|(name, _)| *name == "requests"),
        "{requirers:?}"
    );
    // requests itself is also asked for by the project's distribution.
    let requests = find("requests").unwrap();
    assert!(
        requests["required_by"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "socksapp"),
        "{requests}"
    );
    // The project's own distribution travels as the wheel envscan writes, so its metadata
    // and entry points reach the target; its requirements are not all roots for that.
    let own = find("socksapp").unwrap_or_else(|| panic!("{names:?}"));
    assert_eq!(own["class"], "local");
    assert!(own["imported_as"].as_array().unwrap().is_empty());

    // Every chain explain gives starts at the project's distribution: requests alone (imported,
    // but not asked for `socks` by anything imported) does not pull PySocks in.
    let why = explain("pysocks");
    let chains = why["requirement_chains"].as_array().unwrap();
    assert!(!chains.is_empty(), "{why}");
    for chain in chains {
        let first = chain[0].as_str().unwrap();
        assert!(
            first.starts_with("the project's distribution socksapp requires requests[socks]"),
            "{why}"
        );
    }
}
