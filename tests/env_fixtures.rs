//! `envscan env` on the hand-made environments under fixtures/.
//!
//! Each fixture is copied to a temporary folder first, with `@ROOT@` in its files replaced by
//! that folder, because editable finders and `.pth` files hold absolute paths.

use std::path::{Path, PathBuf};

use assert_cmd::Command;
use envscan::env::{DiscoverOptions, DistKind, discover};
use envscan::names::PackageName;
use serde_json::Value;

fn copy_tree(from: &Path, to: &Path, root: &str) {
    fs_err::create_dir_all(to).unwrap();
    for entry in fs_err::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target, root);
        } else {
            let bytes = fs_err::read(entry.path()).unwrap();
            let bytes = match String::from_utf8(bytes) {
                Ok(text) => text.replace("@ROOT@", root).into_bytes(),
                Err(err) => err.into_bytes(),
            };
            fs_err::write(&target, bytes).unwrap();
        }
    }
}

/// A copy of `fixtures/<name>` in a temporary folder.
fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap().join(name);
    let source = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures")
        .join(name);
    copy_tree(&source, &root, root.to_str().unwrap());
    (dir, root)
}

fn env_json(prefix: &Path) -> Value {
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .args(["env", "--format", "json", "--python"])
        .arg(prefix)
        .current_dir(prefix)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn dist<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no distribution {name}"))
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect()
}

fn codes(report: &Value) -> Vec<&str> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect()
}

fn orphans(report: &Value) -> Vec<(&str, bool)> {
    report["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["module"].as_str().unwrap(),
                o["compiled"].as_bool().unwrap(),
            )
        })
        .collect()
}

fn options(prefix: &Path) -> DiscoverOptions {
    DiscoverOptions {
        project_root: prefix.to_path_buf(),
        python: Some(prefix.to_path_buf()),
        ..DiscoverOptions::default()
    }
}

#[test]
fn venv_layout_keeps_data_files_outside_site_packages_as_external() {
    let (_dir, prefix) = fixture("venv-layout");
    let report = env_json(&prefix);
    assert_eq!(report["python"]["version"], "3.11.7");
    let nbext = dist(&report, "nbext");
    assert_eq!(nbext["kind"], "index");
    assert_eq!(nbext["has_compiled_modules"], true);
    assert_eq!(
        strings(&nbext["external_files"]),
        [
            "bin/nbext",
            "etc/jupyter/jupyter_server_config.d/nbext.json",
            "share/jupyter/labextensions/nbext/package.json"
        ]
    );
    assert_eq!(strings(&nbext["requires_dist"]).len(), 2);
    assert_eq!(strings(&dist(&report, "six")["modules"]), ["six"]);
}

#[test]
fn pth_path_entry_follows_its_site_packages_and_its_modules_are_orphans() {
    let (_dir, prefix) = fixture("venv-layout");
    let report = env_json(&prefix);
    let paths: Vec<(&str, &str)> = report["search_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| (s["path"].as_str().unwrap(), s["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        paths,
        [
            ("lib/python3.11/site-packages", "site-packages"),
            ("vendored", "pth")
        ]
    );
    assert_eq!(orphans(&report), [("vendmod", false)]);
}

#[test]
fn namespace_package_split_across_distributions_is_owned_per_file() {
    let (_dir, prefix) = fixture("site-namespace-split");
    let env = discover(&options(&prefix)).unwrap();
    let sp = prefix.join("lib/python3.11/site-packages");
    let owner = |rel: &str| env.owner_of_file(&sp.join(rel)).map(|d| d.name.to_string());
    assert_eq!(
        owner("google/protobuf/message.py").as_deref(),
        Some("protobuf")
    );
    assert_eq!(
        owner("google/_upb/_message.abi3.so").as_deref(),
        Some("protobuf")
    );
    assert_eq!(
        owner("google/api/http_pb2.py").as_deref(),
        Some("googleapis-common-protos")
    );
    assert_eq!(owner("google/mine.py"), None);
    let protos = env
        .distribution(&PackageName::new("googleapis_common_protos"))
        .unwrap();
    let modules: Vec<&str> = protos.modules.iter().map(|m| m.as_str()).collect();
    assert_eq!(modules, ["google.api", "google.rpc"]);
    let orphans: Vec<&str> = env.orphans.iter().map(|o| o.module.as_str()).collect();
    assert_eq!(orphans, ["google.mine"]);
}

#[test]
fn conda_records_own_their_distributions_and_a_missing_build_folder_is_not_editable() {
    let (_dir, prefix) = fixture("conda-prefix");
    let report = env_json(&prefix);
    assert_eq!(report["python"]["version"], "3.11.7");
    let numpy = dist(&report, "numpy");
    assert_eq!(numpy["kind"], "conda");
    assert_eq!(numpy["conda"]["channel"], "conda-forge");
    assert_eq!(numpy["conda"]["build"], "py311h64a7726_0");
    let tqdm = dist(&report, "tqdm");
    assert_eq!(tqdm["kind"], "conda");
    assert_eq!(tqdm["conda"]["channel"], "pkgs/main");
    assert_eq!(strings(&tqdm["external_files"]), ["bin/tqdm"]);
    assert_eq!(dist(&report, "requests")["kind"], "index");
    assert!(
        !codes(&report).contains(&"direct-url-source-missing"),
        "{report:#}"
    );
    let kinds: Vec<&str> = report["search_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["stdlib", "lib-dynload", "site-packages"]);
}

#[test]
fn setuptools_finder_hatchling_pth_and_egg_link_are_all_editable() {
    let (_dir, root) = fixture("editable-install");
    let env = discover(&options(&root.join("venv"))).unwrap();
    let get = |name: &str| env.distribution(&PackageName::new(name)).unwrap();
    let modules =
        |name: &str| -> Vec<String> { get(name).modules.iter().map(ToString::to_string).collect() };
    for name in ["localutils", "hatchpkg", "legacy-pkg"] {
        assert_eq!(get(name).kind, DistKind::Editable, "{name}");
    }
    assert_eq!(modules("localutils"), ["localutils"]);
    assert_eq!(modules("hatchpkg"), ["hatch_helpers", "hatchpkg"]);
    assert_eq!(modules("legacy-pkg"), ["legacy_pkg"]);
    assert_eq!(
        get("localutils").editable_roots,
        [root.join("project-setuptools/localutils")]
    );
    let helper = root.join("project-setuptools/localutils/helpers.py");
    assert_eq!(
        env.owner_of_file(&helper).unwrap().name.as_str(),
        "localutils"
    );
    let hatch = root.join("project-hatch/src/hatchpkg/__init__.py");
    assert_eq!(env.owner_of_file(&hatch).unwrap().name.as_str(), "hatchpkg");
    assert!(env.orphans.is_empty(), "{:?}", env.orphans);
    assert_eq!(env.editable_finders.len(), 1);
    let legacy = get("legacy-pkg");
    let reqs: Vec<&str> = legacy
        .requires_dist
        .iter()
        .map(|r| r.raw.as_str())
        .collect();
    assert_eq!(reqs, ["six", "pytest; extra == \"test\""]);
}

#[test]
fn broken_metadata_is_reported_per_folder_and_the_rest_is_read() {
    let (_dir, prefix) = fixture("broken-metadata");
    let report = env_json(&prefix);
    let names: Vec<&str> = report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "badurl",
            "badversion",
            "dup",
            "emptyrecord",
            "garbage",
            "nometadata",
            "norecord",
            "noversion"
        ]
    );
    assert_eq!(dist(&report, "dup")["version"], "2.0");
    assert_eq!(dist(&report, "noversion")["version"], "2.0");
    assert_eq!(dist(&report, "nometadata")["version"], "3.1");
    assert_eq!(dist(&report, "badversion")["version"], "not a version!");
    assert_eq!(dist(&report, "garbage")["files"], 2);
    let codes = codes(&report);
    for code in [
        "record-missing",
        "record-empty",
        "metadata-missing",
        "metadata-field-missing",
        "record-invalid-row",
        "record-absolute-path",
        "record-escapes-prefix",
        "direct-url-invalid",
        "version-invalid",
        "requirement-invalid",
        "duplicate-distribution",
        "pip-leftover",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    let leftover = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "pip-leftover")
        .unwrap();
    assert!(
        leftover["file"]
            .as_str()
            .unwrap()
            .ends_with("~ip-1.0.dist-info")
    );
}

#[test]
fn compiled_module_without_an_owner_is_a_compiled_orphan() {
    let (_dir, prefix) = fixture("orphan-extension");
    let report = env_json(&prefix);
    assert_eq!(orphans(&report), [("_fastops", true), ("dropped", false)]);
}

#[test]
fn project_venv_is_found_without_python_flag() {
    let (_dir, prefix) = fixture("orphan-extension");
    let project = prefix.parent().unwrap().join("project");
    fs_err::create_dir_all(&project).unwrap();
    fs_err::rename(&prefix, project.join(".venv")).unwrap();
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .args(["env", "--format", "json"])
        .arg(&project)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(report["python"]["found_by"], "project-venv");
}

#[test]
fn env_json_of_every_fixture_matches_the_committed_schema() {
    let schema_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas/env.schema.json");
    let schema: Value =
        serde_json::from_str(&fs_err::read_to_string(schema_path).unwrap()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    for name in [
        "venv-layout",
        "site-namespace-split",
        "conda-prefix",
        "editable-install",
        "broken-metadata",
        "orphan-extension",
    ] {
        let (_dir, root) = fixture(name);
        let venv = root.join("venv");
        let report = env_json(if venv.is_dir() { &venv } else { &root });
        let errors: Vec<String> = validator
            .iter_errors(&report)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}
