//! `envscan env` against real environments built with `python3 -m venv` and pip, compared
//! with what `importlib.metadata` says about the same environment.
//!
//! Each test skips (with the reason printed) when `python3` is missing; the one that needs
//! the package index skips when pip cannot reach it. Under CI a skip is a failure.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command as Process;

use assert_cmd::Command;
use envscan::names::PackageName;
use serde_json::Value;

/// A fresh venv in `dir/venv`, or `None` (a skip outside CI) without python3.
fn make_venv(dir: &Path) -> Option<PathBuf> {
    let python = support::which_python()?;
    let venv = dir.join("venv");
    support::run(Process::new(python).args(["-m", "venv"]).arg(&venv));
    Some(venv)
}

fn pip(venv: &Path, args: &[&str]) -> bool {
    let output = Process::new(venv.join("bin/python"))
        .args(["-m", "pip", "install", "-q", "--disable-pip-version-check"])
        .args(args)
        .output()
        .unwrap();
    if !output.status.success() {
        eprintln!(
            "pip install {args:?} failed:\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output.status.success()
}

fn env_json(venv: &Path) -> Value {
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .args(["env", "--format", "json", "--python"])
        .arg(venv.join("bin/python"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

/// What importlib.metadata reports: (name, version) of every distribution, and
/// `packages_distributions()`.
fn importlib_view(venv: &Path) -> (Vec<(String, String)>, Value) {
    let script = "import importlib.metadata as m, json\n\
                  dists = sorted({(d.metadata['Name'], d.version) for d in m.distributions()})\n\
                  print(json.dumps({'dists': dists, 'pd': m.packages_distributions()}))";
    let output = Process::new(venv.join("bin/python"))
        .args(["-c", script])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let value: Value = serde_json::from_slice(&output.stdout).unwrap();
    let mut dists: Vec<(String, String)> = value["dists"]
        .as_array()
        .unwrap()
        .iter()
        .map(|pair| {
            (
                PackageName::new(pair[0].as_str().unwrap()).to_string(),
                pair[1].as_str().unwrap().to_string(),
            )
        })
        .collect();
    dists.sort();
    dists.dedup_by(|a, b| a.0 == b.0);
    (dists, value["pd"].clone())
}

/// envscan sees the same distributions as importlib.metadata, and each module envscan
/// assigns to a distribution is one importlib maps to it too.
fn assert_agrees_with_importlib(venv: &Path, report: &Value) {
    let (expected, pd) = importlib_view(venv);
    let ours: Vec<(String, String)> = report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["name"].as_str().unwrap().to_string(),
                d["version"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    assert_eq!(ours, expected);
    for dist in report["distributions"].as_array().unwrap() {
        let name = dist["name"].as_str().unwrap();
        for module in dist["modules"].as_array().unwrap() {
            let top = module.as_str().unwrap().split('.').next().unwrap();
            let owners: Vec<String> = pd[top]
                .as_array()
                .map(|a| {
                    a.iter()
                        .map(|v| PackageName::new(v.as_str().unwrap()).to_string())
                        .collect()
                })
                .unwrap_or_default();
            assert!(
                owners.iter().any(|o| o == name),
                "{top}: importlib says {owners:?}, envscan says {name}"
            );
        }
    }
}

fn dist<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["distributions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["name"] == name)
        .unwrap_or_else(|| panic!("no distribution {name}: {report:#}"))
}

#[test]
fn fresh_venv_is_read_as_importlib_metadata_reads_it() {
    let dir = tempfile::tempdir().unwrap();
    let Some(venv) = make_venv(dir.path()) else {
        return;
    };
    let report = env_json(&venv);
    assert_eq!(report["python"]["found_by"], "flag");
    let kinds: Vec<&str> = report["search_paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert_eq!(kinds[..3], ["stdlib", "lib-dynload", "site-packages"]);
    assert_eq!(dist(&report, "pip")["kind"], "index");
    assert!(
        !dist(&report, "pip")["external_files"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(report["orphans"], Value::Array(Vec::new()));
    assert_agrees_with_importlib(&venv, &report);
}

#[test]
fn editable_install_of_a_fixture_package_is_editable_and_maps_its_module() {
    let dir = tempfile::tempdir().unwrap();
    let Some(venv) = make_venv(dir.path()) else {
        return;
    };
    // pip writes build files into the source folder: install a copy.
    let source = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pkg-localutils");
    let project = dir.path().join("pkg-localutils");
    fs_err::create_dir_all(project.join("localutils")).unwrap();
    for file in ["pyproject.toml", "setup.py", "localutils/__init__.py"] {
        fs_err::copy(source.join(file), project.join(file)).unwrap();
    }
    let project_arg = project.to_str().unwrap();
    // A PEP 660 install needs a current setuptools (and wheel) from the index; offline, fall
    // back to the legacy `setup.py develop` (an egg-link and easy-install.pth), which needs
    // only the setuptools every venv has up to Python 3.11.
    let modern = pip(&venv, &["-e", project_arg]);
    if !modern {
        eprintln!("the index is unreachable: testing a legacy egg-link install instead");
        let status = Process::new(venv.join("bin/python"))
            .args(["setup.py", "-q", "develop"])
            .current_dir(&project)
            .status()
            .unwrap();
        if !status.success() {
            support::skip("no way to install editable offline here");
            return;
        }
    }
    let report = env_json(&venv);
    let local = dist(&report, "local-utils");
    assert_eq!(local["kind"], "editable");
    assert_eq!(local["modules"], serde_json::json!(["localutils"]));
    assert_eq!(report["orphans"], Value::Array(Vec::new()));
    if modern {
        assert_eq!(
            report["editable_finders"][0]["mapping"]["localutils"],
            project.join("localutils").to_str().unwrap()
        );
    }
    assert_agrees_with_importlib(&venv, &report);
}

#[test]
fn protobuf_and_googleapis_common_protos_split_google_and_protobuf_is_compiled() {
    let dir = tempfile::tempdir().unwrap();
    let Some(venv) = make_venv(dir.path()) else {
        return;
    };
    if !pip(
        &venv,
        &[
            "--only-binary",
            ":all:",
            "protobuf",
            "googleapis-common-protos",
        ],
    ) {
        support::skip("the package index is unreachable");
        return;
    }
    let report = env_json(&venv);
    let protobuf = dist(&report, "protobuf");
    assert_eq!(protobuf["kind"], "index");
    assert_eq!(protobuf["has_compiled_modules"], true);
    let modules = protobuf["modules"].as_array().unwrap();
    assert!(
        modules.iter().any(|m| m == "google.protobuf"),
        "{modules:?}"
    );
    let protos = dist(&report, "googleapis-common-protos");
    let modules = protos["modules"].as_array().unwrap();
    assert!(modules.iter().any(|m| m == "google.api"), "{modules:?}");
    assert!(
        !modules
            .iter()
            .any(|m| m == "google" || m.as_str().unwrap().starts_with("google.protobuf"))
    );
    assert_eq!(report["orphans"], Value::Array(Vec::new()));

    let env = envscan::env::discover(&envscan::env::DiscoverOptions {
        python: Some(venv.clone()),
        ..Default::default()
    })
    .unwrap();
    let sp = env
        .search_paths
        .iter()
        .find(|s| s.kind == envscan::env::SearchPathKind::SitePackages)
        .unwrap()
        .path
        .clone();
    let owner = |rel: &str| env.owner_of_file(&sp.join(rel)).map(|d| d.name.to_string());
    assert_eq!(
        owner("google/protobuf/__init__.py").as_deref(),
        Some("protobuf")
    );
    assert_eq!(
        owner("google/api/http_pb2.py").as_deref(),
        Some("googleapis-common-protos")
    );
    assert_agrees_with_importlib(&venv, &report);
}

/// Those of the top-level `names` that importlib finds a file for in the venv's interpreter:
/// modules and regular packages (a namespace package has no origin; the orphan search
/// reports the modules in one, not the folder).
fn importable(venv: &Path, names: &[&str]) -> Vec<String> {
    let script = "import importlib.util, sys\n\
                  found = lambda n: (s := importlib.util.find_spec(n)) and s.origin\n\
                  print('\\n'.join(n for n in sys.argv[1:] if found(n)))";
    let output = support::run(
        Process::new(venv.join("bin/python"))
            .args(["-c", script])
            .args(names),
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

/// The orphans `envscan env` reports, with the cache under `cache`.
fn orphan_names(venv: &Path, cache: &Path) -> Vec<String> {
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .args(["env", "--format", "json", "--cache-dir"])
        .arg(cache)
        .arg("--python")
        .arg(venv.join("bin/python"))
        .output()
        .unwrap();
    assert!(output.status.success());
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    report["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["module"].as_str().unwrap().to_string())
        .collect()
}

/// A module file that is a dangling symlink or a FIFO is nothing CPython imports
/// (`FileFinder` stats the path), and a folder whose `__init__.py` is one is a namespace
/// package, not a regular one: no orphan either way. The same names become orphans when the
/// links' targets appear, with the cache kept between runs.
#[cfg(unix)]
#[test]
fn dangling_links_and_special_files_on_site_packages_are_no_orphans_as_importlib_finds() {
    use std::os::unix::fs::symlink;
    let dir = tempfile::tempdir().unwrap();
    let Some(venv) = make_venv(dir.path()) else {
        return;
    };
    let site = fs_err::read_dir(venv.join("lib"))
        .unwrap()
        .flatten()
        .map(|e| e.path().join("site-packages"))
        .find(|p| p.is_dir())
        .unwrap();
    let suffix = support::run(Process::new(venv.join("bin/python")).args([
        "-c",
        "import importlib.machinery as m; print(m.EXTENSION_SUFFIXES[0])",
    ]))
    .stdout;
    let suffix = String::from_utf8(suffix).unwrap().trim().to_string();
    let targets = dir.path().join("targets");
    fs_err::write(site.join("present.py"), "").unwrap();
    fs_err::create_dir(site.join("pkg_ok")).unwrap();
    fs_err::write(site.join("pkg_ok/__init__.py"), "").unwrap();
    symlink(targets.join("gone.py"), site.join("gone.py")).unwrap();
    symlink(
        targets.join("gone_ext.so"),
        site.join(format!("gone_ext{suffix}")),
    )
    .unwrap();
    symlink(targets.join("gone_pkg"), site.join("gone_pkg")).unwrap();
    fs_err::create_dir(site.join("init_gone")).unwrap();
    symlink(targets.join("init.py"), site.join("init_gone/__init__.py")).unwrap();
    let fifo = std::ffi::CString::new(
        site.join("fifo_mod.py")
            .into_os_string()
            .into_encoded_bytes(),
    )
    .unwrap();
    // SAFETY: a NUL-terminated path and a mode; mkfifo only creates the node.
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o644) }, 0);
    let names = [
        "fifo_mod",
        "gone",
        "gone_ext",
        "gone_pkg",
        "init_gone",
        "pkg_ok",
        "present",
    ];
    let cache = dir.path().join("cache");
    let want = importable(&venv, &names);
    assert_eq!(want, ["pkg_ok", "present"], "importlib in this venv");
    assert_eq!(orphan_names(&venv, &cache), want, "cold");
    assert_eq!(orphan_names(&venv, &cache), want, "warm");

    // The targets appear: the folder's own stamp does not move, the links' do.
    fs_err::create_dir_all(targets.join("gone_pkg")).unwrap();
    fs_err::write(targets.join("gone_pkg/__init__.py"), "").unwrap();
    fs_err::write(targets.join("gone.py"), "").unwrap();
    fs_err::write(targets.join("init.py"), "").unwrap();
    let want = importable(&venv, &names);
    assert_eq!(want, ["gone", "gone_pkg", "init_gone", "pkg_ok", "present"]);
    assert_eq!(orphan_names(&venv, &cache), want, "warm, targets present");
    assert_eq!(
        orphan_names(&venv, &dir.path().join("cold")),
        want,
        "cold, targets present"
    );
}
