//! Local distributions travel as wheels envscan writes (issue 11 points 1, 2, 3 and 6), proved
//! with the real tools of the test env (packaging, installer, pip, uv, pytest):
//! - fixtures/editable-real-pep660, two editable installs made by real pip (setuptools' PEP 660
//!   finder, hatchling's `.pth` path line): the lock lists each wheel as an `archive` with its
//!   path and sha256, packaging's and installer's readers accept the wheels, pip and uv install
//!   them, and then `importlib.metadata`, the console script and the entry points work;
//! - packing twice gives the same bytes, a changed file changes only its own wheel, and the
//!   plan's cache key changes only when a wheel does;
//! - compiled parts are not faked as pure: a `build_local` step, a warning, an error under
//!   `--strict`;
//! - fixtures/roundtrip-own-metadata, installed editable live: lock, pack, the reference runner
//!   in a fresh venv, where its console script runs and pytest loads its `pytest11` plugin.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

const FIXTURE: &str = "editable-real-pep660";

fn envscan(args: &[&str], venv: &Path, project: &Path) -> Output {
    support::envscan()
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .args(args)
        .arg("--python")
        .arg(venv)
        .arg(project)
        .output()
        .unwrap()
}

fn ok(output: Output) -> Output {
    assert!(
        output.status.success(),
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

fn json(output: &Output) -> Value {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{e}: {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

/// The committed fixture, locked and packed offline.
struct Packed {
    _dir: tempfile::TempDir,
    root: PathBuf,
    project: PathBuf,
    venv: PathBuf,
}

impl Packed {
    fn new() -> Self {
        let (dir, root) = support::copy_fixture_rooted(FIXTURE);
        let packed = Packed {
            project: root.join("project"),
            venv: root.join("venv"),
            root,
            _dir: dir,
        };
        packed.lock(&[]);
        packed.pack();
        packed
    }

    fn lock(&self, extra: &[&str]) -> Output {
        let mut args = vec!["lock", "--offline", "--format", "json"];
        args.extend(extra);
        envscan(&args, &self.venv, &self.project)
    }

    fn pack(&self) -> Value {
        json(&ok(envscan(
            &["pack", "--offline", "--format", "json"],
            &self.venv,
            &self.project,
        )))
    }

    fn out(&self) -> PathBuf {
        self.project.join("envscan-archives")
    }

    fn wheel(&self, name: &str) -> Vec<u8> {
        fs_err::read(self.out().join(name)).unwrap()
    }

    fn lock_text(&self) -> String {
        fs_err::read_to_string(self.project.join("pylock.envscan.toml")).unwrap()
    }

    fn plan(&self) -> Value {
        serde_json::from_str(
            &fs_err::read_to_string(self.project.join("envscan.plan.json")).unwrap(),
        )
        .unwrap()
    }
}

const FINDER_WHEEL: &str = "finderpkg-2.0.1-py3-none-any.whl";
const PATH_WHEEL: &str = "pathpkg-0.5-py3-none-any.whl";

#[test]
fn editable_installs_travel_as_wheels_that_packaging_installer_pip_and_uv_take() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let packed = Packed::new();
    let py = test_env.join("bin/python");
    // The lock lists both wheels by path and hash; packaging's PEP 751 reader (pip's own)
    // takes it, and the hashes are the files'.
    let checked = support::run_python(
        &test_env,
        r#"
import hashlib, sys, tomllib, zipfile
from pathlib import Path
from packaging.pylock import Pylock
from packaging.utils import parse_wheel_filename
from installer.sources import WheelFile
lock_path = Path(sys.argv[1])
lock = Pylock.from_dict(tomllib.loads(lock_path.read_text()))
for package in lock.packages:
    archive = package.archive
    data = (lock_path.parent / archive.path).read_bytes()
    assert archive.hashes["sha256"] == hashlib.sha256(data).hexdigest(), package.name
    assert archive.size == len(data)
    name = Path(archive.path).name
    assert parse_wheel_filename(name)[0] == package.name, name
    with WheelFile.open(lock_path.parent / archive.path) as wheel:
        wheel.validate_record()
        files = zipfile.ZipFile(lock_path.parent / archive.path).namelist()
        print(package.name, package.version, wheel.dist_info_dir, " ".join(files))
"#,
        &[packed.project.join("pylock.envscan.toml").as_os_str()],
    );
    let lines: Vec<&str> = checked.lines().collect();
    assert_eq!(lines.len(), 2, "{checked}");
    assert!(
        lines[0].starts_with(
            "finderpkg 2.0.1 finderpkg-2.0.1.dist-info finderpkg/__init__.py finderpkg/data.toml "
        ),
        "{checked}"
    );
    assert!(
        lines[0].contains("finderpkg-2.0.1.dist-info/licenses/LICENSE"),
        "{checked}"
    );
    assert!(
        lines[1].starts_with("pathpkg 0.5 pathpkg-0.5.dist-info pathpkg/__init__.py "),
        "{checked}"
    );
    for dropped in [
        "direct_url.json",
        "INSTALLER",
        "REQUESTED",
        "__editable__",
        ".pth",
    ] {
        assert!(!checked.contains(dropped), "{dropped}: {checked}");
    }

    // pip and uv install them (no index: --no-deps, nothing else asked for).
    let dir = tempfile::tempdir().unwrap();
    let wheels = [
        packed.out().join(FINDER_WHEEL),
        packed.out().join(PATH_WHEEL),
    ];
    for installer in ["pip", "uv"] {
        let target = dir.path().join(installer);
        support::run(
            Command::new(&py)
                .args(["-m", "venv", "--without-pip"])
                .arg(&target),
        );
        let target_py = target.join("bin/python");
        let mut install = if installer == "pip" {
            let mut c = Command::new(&py);
            c.args(["-m", "pip", "--python"]).arg(&target_py).args([
                "install",
                "--no-deps",
                "--no-index",
                "--quiet",
            ]);
            c
        } else {
            let mut c = Command::new(test_env.join("bin/uv"));
            c.args([
                "pip",
                "install",
                "--no-deps",
                "--offline",
                "--quiet",
                "--python",
            ])
            .arg(&target_py);
            c
        };
        support::run(install.args(&wheels).env("UV_NO_CONFIG", "1"));
        // Away from the sources, so only the installed wheels can answer.
        let out = support::run(
            Command::new(&target_py)
                .args([
                    "-c",
                    "from importlib.metadata import version, entry_points; import finderpkg, pathpkg; \
                     print(version('finderpkg'), finderpkg.__version__, finderpkg.__file__.startswith(__import__('sys').prefix)); \
                     print([e.load()() for e in entry_points(group='envscan.fixture')])",
                ])
                .current_dir(dir.path()),
        );
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "2.0.1 2.0.1 True\n['pathpkg']\n",
            "{installer}"
        );
        let script = support::run(&mut Command::new(target.join("bin/finderpkg")));
        assert_eq!(
            String::from_utf8_lossy(&script.stdout),
            "finderpkg 2.0.1\n",
            "{installer}"
        );
    }
}

#[test]
fn packing_twice_is_identical_and_a_change_moves_only_its_own_wheel_and_the_cache_key() {
    let packed = Packed::new();
    let finder = packed.wheel(FINDER_WHEEL);
    let path = packed.wheel(PATH_WHEEL);
    let key = packed.plan()["cache_key"].as_str().unwrap().to_string();
    let report = packed.pack();
    assert_eq!(report["packed"], true);
    assert_eq!(packed.wheel(FINDER_WHEEL), finder);
    assert_eq!(packed.wheel(PATH_WHEEL), path);
    let check = packed.lock(&["--check"]);
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );

    // The project's own code changes: its archive does, no wheel and not the cache key.
    fs_err::write(
        packed.project.join("main.py"),
        "import finderpkg\nimport pathpkg\n# changed\n",
    )
    .unwrap();
    ok(packed.lock(&[]));
    packed.pack();
    assert_eq!(packed.plan()["cache_key"], key.as_str());
    assert_eq!(packed.wheel(FINDER_WHEEL), finder);
    assert_eq!(packed.wheel(PATH_WHEEL), path);

    // One distribution's file changes: only its wheel, its lock hash and the cache key.
    let source = packed.root.join("pathpkg/src/pathpkg/__init__.py");
    fs_err::write(&source, "def hook():\n    return 'changed'\n").unwrap();
    let stale = packed.lock(&["--check"]);
    assert_eq!(stale.status.code(), Some(1));
    let before = packed.lock_text();
    ok(packed.lock(&[]));
    packed.pack();
    assert_eq!(packed.wheel(FINDER_WHEEL), finder);
    let changed = packed.wheel(PATH_WHEEL);
    assert_ne!(changed, path);
    let after = packed.lock_text();
    let finder_line = |text: &str| {
        text.lines()
            .find(|l| l.contains(FINDER_WHEEL))
            .map(str::to_string)
    };
    assert_eq!(finder_line(&before), finder_line(&after));
    use sha2::Digest;
    assert!(after.contains(&hex::encode(sha2::Sha256::digest(&changed))));
    assert_ne!(packed.plan()["cache_key"], key.as_str());
}

#[test]
fn a_local_distribution_with_compiled_parts_is_built_on_the_target_not_faked_as_pure() {
    let packed = Packed::new();
    fs_err::write(
        packed
            .root
            .join("finderpkg/finderpkg/_speed.cpython-311-x86_64-linux-gnu.so"),
        b"\x7fELF not really",
    )
    .unwrap();
    let report = json(&ok(packed.lock(&[])));
    let warning = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["code"] == "local-build-on-target")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(warning["severity"], "warning");
    assert!(
        warning["message"]
            .as_str()
            .unwrap()
            .starts_with("finderpkg 2.0.1")
    );
    let lock = packed.lock_text();
    assert!(!lock.contains("finderpkg-2.0.1-py3-none-any.whl"), "{lock}");
    assert!(lock.contains(PATH_WHEEL), "{lock}");
    let plan = packed.plan();
    let steps = plan["steps"].as_array().unwrap();
    let build = steps
        .iter()
        .find(|s| s["kind"] == "build_local")
        .unwrap_or_else(|| panic!("{plan:#}"));
    assert_eq!(build["source"], "finderpkg");
    assert_eq!(build["destination"], "/opt/envscan/build/finderpkg");
    assert!(
        plan["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|w| w["code"] == "local-build-on-target" && w["subject"] == "finderpkg")
    );
    let pack = packed.pack();
    let archive = pack["archives"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["source"] == "finderpkg")
        .unwrap_or_else(|| panic!("{pack:#}"));
    assert_eq!(archive["destination"], "/opt/envscan/build/finderpkg");
    let wheels: Vec<&str> = pack["wheels"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["wheel"].as_str().unwrap())
        .collect();
    assert_eq!(wheels, [PATH_WHEEL]);

    let strict = packed.lock(&["--strict", "--check"]);
    assert_eq!(strict.status.code(), Some(1));
    let report = json(&strict);
    assert!(
        report["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["code"] == "local-build-on-target" && d["severity"] == "error")
    );
}

#[test]
fn a_live_editable_install_round_trips_with_its_version_console_script_and_pytest_plugin() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let Some(python) = support::which_python() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("ownmeta");
    support::copy_tree(&support::fixture("roundtrip-own-metadata"), &project);
    let venv = dir.path().join("venv");
    support::venv_with(
        &python,
        &venv,
        &["pytest==9.2.0".as_ref(), "-e".as_ref(), project.as_os_str()],
    );
    let cache = dir.path().join("cache");
    let cache_arg = cache.to_str().unwrap();
    ok(envscan(
        &["lock", "--cache-dir", cache_arg],
        &venv,
        &project,
    ));
    let lock = fs_err::read_to_string(project.join("pylock.envscan.toml")).unwrap();
    assert!(
        lock.contains("archive = { path = \"envscan-archives/ownmeta-1.4.2-py3-none-any.whl\""),
        "{lock}"
    );
    // Packed elsewhere than the lock names: the runner still finds the wheel by the manifest.
    let out = dir.path().join("packed");
    ok(envscan(
        &[
            "pack",
            "--cache-dir",
            cache_arg,
            "--out",
            out.to_str().unwrap(),
        ],
        &venv,
        &project,
    ));
    let base_python = support::run(Command::new(venv.join("bin/python")).args([
        "-c",
        "import sys, os; print(os.path.realpath(sys._base_executable))",
    ]));
    let base_python = String::from_utf8(base_python.stdout).unwrap();
    let work = dir.path().join("work");
    let runner = Command::new(test_env.join("bin/python"))
        .arg(support::repo().join("tests/reference_runner.py"))
        .arg("--plan")
        .arg(project.join("envscan.plan.json"))
        .arg("--manifest")
        .arg(out.join("manifest.json"))
        .arg("--python")
        .arg(base_python.trim())
        .arg("--uv")
        .arg(test_env.join("bin/uv"))
        .arg("--work")
        .arg(&work)
        .env("UV_CACHE_DIR", dir.path().join("uv-cache"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&runner.stdout);
    assert!(
        runner.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&runner.stderr)
    );
    assert!(stdout.lines().any(|l| l == "ownmeta 1.4.2"), "{stdout}");
    assert!(stdout.contains("2 passed"), "{stdout}");
}

#[test]
fn a_path_install_travels_as_a_wheel_of_the_files_its_record_lists() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let Some(python) = support::which_python() else {
        return;
    };
    let (_dir, root) = support::copy_fixture_rooted(FIXTURE);
    let project = root.join("project");
    fs_err::write(project.join("main.py"), "import finderpkg\n").unwrap();
    let venv = root.join("path-venv");
    // Not editable: pip builds a wheel with setuptools and installs its files.
    support::venv_with(&python, &venv, &[root.join("finderpkg").as_os_str()]);
    let report = json(&ok(envscan(
        &["lock", "--offline", "--format", "json"],
        &venv,
        &project,
    )));
    let finder = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "finderpkg")
        .unwrap_or_else(|| panic!("{report:#}"));
    assert_eq!(finder["reason"], "installed from a local path, pure Python");
    ok(envscan(&["pack", "--offline"], &venv, &project));
    let wheel = project.join("envscan-archives").join(FINDER_WHEEL);
    let listing = support::run_python(
        &test_env,
        "import sys, zipfile; print(' '.join(zipfile.ZipFile(sys.argv[1]).namelist()))",
        &[wheel.as_os_str()],
    );
    assert!(listing.starts_with("finderpkg/__init__.py "), "{listing}");
    assert!(
        listing.contains("finderpkg-2.0.1.dist-info/licenses/LICENSE"),
        "{listing}"
    );
    for dropped in ["__pycache__", "direct_url.json", "INSTALLER", "bin/"] {
        assert!(!listing.contains(dropped), "{dropped}: {listing}");
    }
    let target = root.join("target-venv");
    support::run(
        Command::new(&python)
            .args(["-m", "venv", "--without-pip"])
            .arg(&target),
    );
    support::run(
        Command::new(test_env.join("bin/uv"))
            .args([
                "pip",
                "install",
                "--offline",
                "--quiet",
                "--no-deps",
                "--python",
            ])
            .arg(target.join("bin/python"))
            .arg(&wheel)
            .env("UV_NO_CONFIG", "1"),
    );
    let script = support::run(&mut Command::new(target.join("bin/finderpkg")));
    assert_eq!(String::from_utf8_lossy(&script.stdout), "finderpkg 2.0.1\n");
}

#[test]
fn secrets_beside_a_local_distributions_code_stay_out_of_its_wheel() {
    let (_dir, root) = support::copy_fixture_rooted(FIXTURE);
    let package = root.join("finderpkg/finderpkg");
    fs_err::write(package.join(".env"), "TOKEN=tok-wheel-env-1\n").unwrap();
    fs_err::write(
        package.join("notes.txt"),
        "-----BEGIN RSA PRIVATE KEY-----\ntok-wheel-pem-2\n-----END RSA PRIVATE KEY-----\n",
    )
    .unwrap();
    let project = root.join("project");
    let venv = root.join("venv");
    let report = json(&ok(envscan(
        &["pack", "--offline", "--format", "json"],
        &venv,
        &project,
    )));
    let wheel = fs_err::read(project.join("envscan-archives").join(FINDER_WHEEL)).unwrap();
    let mut zip = zip::ZipArchive::new(std::io::Cursor::new(wheel)).unwrap();
    let names: Vec<String> = zip.file_names().map(|n| n.unwrap().to_string()).collect();
    assert!(
        names.contains(&"finderpkg/data.toml".to_string()),
        "{names:?}"
    );
    for i in 0..zip.len() {
        let mut file = zip.by_index(i).unwrap();
        let mut text = String::new();
        std::io::Read::read_to_string(&mut file, &mut text).unwrap();
        assert!(!text.contains("tok-wheel"), "{:?}", file.name());
    }
    let excluded: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "secret-excluded")
        .filter_map(|d| d["file"].as_str())
        .collect();
    assert!(excluded.contains(&"finderpkg/.env"), "{report:#}");
    assert!(excluded.contains(&"finderpkg/notes.txt"), "{report:#}");
}

#[test]
fn pack_and_lock_json_report_each_wheels_size_file_count_and_largest_files() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let packed = Packed::new();
    let from_pack = packed.pack();
    let from_lock = json(&packed.lock(&[]));
    for name in [FINDER_WHEEL, PATH_WHEEL] {
        // Python's zipfile reads the wheel pack wrote: what the report must say of it.
        let measured = support::run_python(
            &test_env,
            r#"
import sys, zipfile
infos = zipfile.ZipFile(sys.argv[1]).infolist()
largest = sorted(infos, key=lambda i: (-i.file_size, i.filename))[0]
print(len(infos), sum(i.file_size for i in infos), largest.filename)
"#,
            &[packed.out().join(name).as_os_str()],
        );
        let bytes = packed.wheel(name).len() as u64;
        for (command, report) in [("pack", &from_pack), ("lock", &from_lock)] {
            let size = report["sizes"]
                .as_array()
                .unwrap()
                .iter()
                .find(|s| s["source"] == name)
                .unwrap_or_else(|| panic!("{command}: no size for {name}: {report}"));
            let got = format!(
                "{} {} {}",
                size["file_count"], size["content_size"], size["largest"][0]["path"]
            )
            .replace('"', "");
            assert_eq!(got, measured.trim(), "{command}: {size}");
            assert_eq!(size["archive_size"], bytes, "{command}: {size}");
        }
    }
}
