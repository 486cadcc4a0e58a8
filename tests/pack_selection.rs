//! What the project archive holds: the modules the graph reaches, their packages' data, the
//! tools' config files, what the metadata, the code's literal paths and `include` name; what
//! it costs, and a limit that refuses to pack (issue 11 points 4–5, issue 12 point 4).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};
use support::*;

/// A fixture copied to a temporary folder with an empty virtual environment beside it.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
    venv: PathBuf,
    out: PathBuf,
}

fn project(fixture_name: &str) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("project");
    copy_tree(&fixture(fixture_name), &root);
    let venv = dir.path().join("venv");
    minimal_venv(&venv);
    let out = dir.path().join("out");
    Project {
        _dir: dir,
        root,
        venv,
        out,
    }
}

/// `envscan pack --format json`: exit code and report.
fn pack(p: &Project, extra: &[&str]) -> (i32, Value) {
    let output = envscan()
        .current_dir(&p.root)
        .args(["pack", "--format", "json", "--offline", "--python"])
        .arg(&p.venv)
        .arg("--out")
        .arg(&p.out)
        .args(extra)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "no JSON ({e}):\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    assert_valid("pack.schema.json", &report);
    (output.status.code().unwrap_or(-1), report)
}

/// Path → content of every file in the archives of `out`.
fn archived(out: &Path) -> BTreeMap<String, Vec<u8>> {
    archive_entries(out)
}

/// The reasons the report gives for carrying `path`, as `kind` or `kind:detail`.
fn why(report: &Value, path: &str) -> Vec<String> {
    report["carried"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["path"] == path)
        .flat_map(|c| c["why"].as_array().unwrap().iter())
        .map(|w| {
            let kind = w["kind"].as_str().unwrap();
            let detail = ["by", "at", "pattern"]
                .iter()
                .find_map(|k| w[*k].as_str())
                .map(|d| format!("{kind}:{d}"));
            detail.unwrap_or_else(|| kind.to_string())
        })
        .collect()
}

fn codes(report: &Value) -> Vec<(String, String)> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_string(),
                d["file"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_project_archive_holds_reached_modules_package_data_config_and_includes_only() {
    let p = project("pack-package-data");
    // A checkpoint over 1 MB beside the code: left out, and listed so the user sees it.
    std::fs::write(p.root.join("checkpoints/big.ckpt"), vec![7u8; 1_500_000]).unwrap();
    let (code, report) = pack(&p, &[]);
    assert_eq!(code, 0, "{report:#}");
    let contents = archived(&p.out);
    let files: Vec<String> = contents.keys().cloned().collect();
    assert_eq!(
        files,
        [
            "README.md",
            "extra/notes.txt",
            "main.py",
            "notebooks/explore.ipynb",
            "pkg/__init__.py",
            "pkg/core.py",
            "pkg/plugins.py",
            "pkg/py.typed",
            "pkg/report.py",
            "pkg/templates/page.html",
            "pyproject.toml",
        ],
        "left out: pkg/orphan.py and pkg/unused/ (nothing imports them), checkpoints/, \
         docs/, extra/other.md, notebooks/output.csv"
    );
    assert_eq!(
        why(&report, "README.md"),
        ["metadata:pyproject.toml: project.readme"]
    );
    assert_eq!(why(&report, "extra/notes.txt"), ["include:extra/*.txt"]);
    assert_eq!(why(&report, "pyproject.toml"), ["config"]);
    assert_eq!(
        report["excluded_large_files"],
        serde_json::json!([{"path": "checkpoints/big.ckpt", "size": 1_500_000}])
    );
    let size = &report["sizes"][0];
    assert_eq!(size["source"], "project");
    assert_eq!(size["file_count"], 11);
    assert_eq!(size["largest"].as_array().unwrap().len(), 10);
    let mut by_size: Vec<(u64, &String)> = contents
        .iter()
        .map(|(path, data)| (data.len() as u64, path))
        .collect();
    by_size.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
    let largest: Vec<Value> = by_size[..10]
        .iter()
        .map(|(size, path)| serde_json::json!({"path": path, "size": size}))
        .collect();
    assert_eq!(size["largest"], Value::Array(largest));
}

#[test]
fn files_the_code_names_travel_with_the_line_naming_them_and_a_named_secret_is_reported() {
    let p = project("pack-file-references");
    let (code, report) = pack(&p, &[]);
    assert_eq!(code, 0, "{report:#}");
    let files: Vec<String> = archived(&p.out).into_keys().collect();
    assert_eq!(
        files,
        [
            "app.py",
            "assets/icon.svg",
            "assets/logo.svg",
            "settings.ini",
            "setup.cfg",
            "tests/fake-repo/cookiecutter.json",
            "tests/fake-repo/{{cookiecutter.name}}/run.py",
            "tests/fixtures/input.json",
            "tests/test_app.py",
            "tox.ini",
        ],
        "left out: .env (a secret), tests/fixtures/other.json and unrelated/ (never named)"
    );
    assert_eq!(why(&report, "settings.ini"), ["referenced:app.py:9"]);
    // `ASSETS = Path(__file__).parent / "assets"` names the folder; `ASSETS / "logo.svg"` the file.
    assert_eq!(
        why(&report, "assets/logo.svg"),
        ["referenced:app.py:14", "referenced:app.py:4"]
    );
    assert_eq!(
        why(&report, "tests/fixtures/input.json"),
        ["referenced:tests/test_app.py:10"]
    );
    assert_eq!(
        why(&report, "tests/fake-repo/cookiecutter.json"),
        ["referenced:tests/test_app.py:15"]
    );
    let secret = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "secret-excluded" && d["file"] == ".env")
        .unwrap_or_else(|| panic!("the named .env is not reported: {report:#}"));
    assert!(
        secret["message"].as_str().unwrap().contains("app.py:18"),
        "{secret:#}"
    );
}

#[test]
fn the_projects_own_tests_pass_with_cpython_from_the_unpacked_archive() {
    // The real check of the references: the tests that open them run from the archive, with
    // the project root as working folder, as pytest runs them (the test env has no pytest, so
    // each `test_*` function is called in turn).
    let Some(test_env) = test_env() else { return };
    let p = project("pack-file-references");
    let (code, report) = pack(&p, &[]);
    assert_eq!(code, 0, "{report:#}");
    let unpacked = p.out.join("unpacked");
    for (path, data) in archived(&p.out) {
        let target = unpacked.join(&path);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(target, data).unwrap();
    }
    let script = "import sys\nsys.path[:0] = ['.', 'tests']\nimport test_app\n\
                  names = sorted(n for n in vars(test_app) if n.startswith('test_'))\n\
                  for name in names:\n    getattr(test_app, name)()\n\
                  print(len(names), 'passed')\n";
    let output = run(std::process::Command::new(test_env.join("bin/python"))
        .args(["-B", "-c", script])
        .current_dir(&unpacked));
    assert_eq!(String::from_utf8_lossy(&output.stdout), "3 passed\n");
}

#[test]
fn the_manifest_lists_every_archived_file_with_its_size_and_sha256() {
    let p = project("pack-file-references");
    let (code, report) = pack(&p, &[]);
    assert_eq!(code, 0, "{report:#}");
    let manifest: Value =
        serde_json::from_str(&std::fs::read_to_string(p.out.join("manifest.json")).unwrap())
            .unwrap();
    let entry = &manifest["archives"][0];
    let listed: BTreeMap<String, (u64, String)> = entry["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["path"].as_str().unwrap().to_string(),
                (
                    f["size"].as_u64().unwrap(),
                    f["sha256"].as_str().unwrap().to_string(),
                ),
            )
        })
        .collect();
    let archived = archived(&p.out);
    assert_eq!(listed.len(), archived.len());
    for (path, data) in &archived {
        let (size, sha256) = &listed[path];
        assert_eq!(*size, data.len() as u64, "{path}");
        assert_eq!(*sha256, hex::encode(Sha256::digest(data)), "{path}");
    }
    let total: u64 = archived.values().map(|d| d.len() as u64).sum();
    assert_eq!(entry["content_size"], total);
    assert_eq!(report["archives"][0]["files"], entry["files"]);
}

#[test]
fn an_archive_over_max_pack_size_fails_the_run_with_its_largest_files_and_writes_nothing() {
    let p = project("pack-file-references");
    let (code, report) = pack(&p, &["--max-pack-size", "500B"]);
    assert_eq!(code, 1, "{report:#}");
    assert_eq!(report["packed"], false);
    let too_large = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "pack-too-large")
        .unwrap_or_else(|| panic!("no pack-too-large: {report:#}"));
    let message = too_large["message"].as_str().unwrap();
    assert!(message.contains("tests/test_app.py"), "{message}");
    assert_eq!(too_large["severity"], "error");
    let left: Vec<_> = std::fs::read_dir(&p.out)
        .map(|l| l.flatten().map(|e| e.file_name()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "pack wrote {left:?}");

    // The same limit from the configuration; a flag above it lets the run through.
    let pyproject = p.root.join("pyproject.toml");
    std::fs::write(&pyproject, "[tool.envscan]\nmax-pack-size = \"0.5KB\"\n").unwrap();
    let (code, report) = pack(&p, &[]);
    assert_eq!(code, 1);
    assert!(codes(&report).iter().any(|(c, _)| c == "pack-too-large"));
    let (code, report) = pack(&p, &["--max-pack-size", "1MB"]);
    assert_eq!(code, 0, "{report:#}");
}

#[test]
fn packing_twice_gives_the_same_bytes_and_an_edit_changes_only_the_file_entry_it_touches() {
    let p = project("pack-file-references");
    pack(&p, &[]);
    let first = std::fs::read_to_string(p.out.join("manifest.json")).unwrap();
    pack(&p, &[]);
    assert_eq!(
        std::fs::read_to_string(p.out.join("manifest.json")).unwrap(),
        first
    );
    std::fs::write(p.root.join("settings.ini"), "[app]\nname = other\n").unwrap();
    pack(&p, &[]);
    let second = std::fs::read_to_string(p.out.join("manifest.json")).unwrap();
    let entries = |text: &str| -> BTreeMap<String, Value> {
        let manifest: Value = serde_json::from_str(text).unwrap();
        manifest["archives"][0]["files"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| (f["path"].as_str().unwrap().to_string(), f.clone()))
            .collect()
    };
    let (before, after) = (entries(&first), entries(&second));
    let changed: Vec<&String> = before
        .keys()
        .filter(|path| before[*path] != after[*path])
        .collect();
    assert_eq!(changed, ["settings.ini"]);
}

#[test]
fn lock_json_reports_the_sizes_pack_will_have_and_the_plan_points_at_the_file_list() {
    let p = project("pack-package-data");
    std::fs::write(p.root.join("checkpoints/big.ckpt"), vec![7u8; 1_500_000]).unwrap();
    let output = envscan()
        .current_dir(&p.root)
        .args(["lock", "--format", "json", "--offline", "--python"])
        .arg(&p.venv)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_valid("lock.schema.json", &report);
    let (code, packed) = pack(&p, &[]);
    assert_eq!(code, 0, "{packed:#}");
    let before = &report["sizes"][0];
    let after = &packed["sizes"][0];
    assert_eq!(before["source"], "project");
    assert_eq!(before["file_count"], after["file_count"]);
    assert_eq!(before["content_size"], after["content_size"]);
    assert_eq!(before["largest"], after["largest"]);
    assert!(before.get("archive_size").is_none());
    assert!(after["archive_size"].as_u64().unwrap() > 0);
    assert_eq!(
        report["excluded_large_files"],
        packed["excluded_large_files"]
    );
    assert_eq!(report["carried"], packed["carried"]);

    let plan: Value =
        serde_json::from_str(&std::fs::read_to_string(p.root.join("envscan.plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["local_sources"][0]["name"], "project");
    assert_eq!(plan["local_sources"][0]["files"], "manifest.json#project");
    // The outputs stay current when only code changes (this edit imports nothing new): the
    // plan names the file list, not the hashes, so `lock --check` in a hook still passes.
    std::fs::write(p.root.join("pkg/core.py"), "def render():\n    return ''\n").unwrap();
    envscan()
        .current_dir(&p.root)
        .args(["lock", "--check", "--offline", "--python"])
        .arg(&p.venv)
        .assert()
        .success();
    let again = std::fs::read_to_string(p.root.join("envscan.plan.json")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&again).unwrap(), plan);
}
