//! End-to-end proofs of `envscan lock`, `check` and `pack` on a real virtualenv (issue 4
//! point 6, issue 5 points 7 and 8): the lock passes packaging's PEP 751 validator and installs
//! with uv into a fresh venv where the entry script runs; the plan materialises with the
//! reference runner (tests/reference_runner.py); a changed dependency makes `--check` fail with
//! a diff; outputs are deterministic, all or nothing under concurrency and failure, and carry
//! no machine paths, user names or credentials.
//!
//! Creating the fixture's virtualenv (venv, then pip installing requests, PyYAML and an
//! editable package) takes 10–25 s here, so it is built once per test process, in
//! target/tmp/lock-e2e-<pid>, and shared read-only: each test copies the project into its own
//! temporary folder and caches index answers there; the one test that changes a dependency
//! copies the venv first. uv's cache lives in target/tmp/uv-cache.

mod support;

use std::collections::BTreeSet;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::SystemTime;

/// The line the fixture's entry script prints when requests, yaml and both local packages
/// import.
const OK_LINE: &str = "[LOCK OK: ENVSCAN]";
const LOCK: &str = "pylock.envscan.toml";
const OUTPUTS: [&str; 3] = [LOCK, "envscan.conda.yaml", "envscan.plan.json"];
/// requests 2.32.3 and its Requires-Dist closure, PyYAML, and localutils (local: the wheel
/// envscan writes, by path and hash); not pandas (imported only under TYPE_CHECKING) or orjson
/// (not installed).
const EXPECTED_PACKAGES: [&str; 7] = [
    "certifi",
    "charset-normalizer",
    "idna",
    "localutils",
    "pyyaml",
    "requests",
    "urllib3",
];

/// The fixture's virtualenv and the editable package it points at.
struct Shared {
    venv: PathBuf,
    localutils: PathBuf,
}

fn shared() -> Option<&'static Shared> {
    static SHARED: OnceLock<Option<Shared>> = OnceLock::new();
    SHARED.get_or_init(build_shared).as_ref()
}

fn build_shared() -> Option<Shared> {
    let python = support::which_python()?;
    // One folder per test process, so two runs at once do not share a venv; folders of runs
    // whose process is gone are removed (where /proc tells).
    let prefix = "lock-e2e-";
    if Path::new("/proc/self").exists() {
        for entry in std::fs::read_dir(target_tmp())
            .into_iter()
            .flatten()
            .flatten()
        {
            let name = entry.file_name().to_string_lossy().into_owned();
            if let Some(pid) = name.strip_prefix(prefix)
                && !Path::new("/proc").join(pid).exists()
            {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    }
    let root = target_tmp().join(format!("{prefix}{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    let venv = root.join("venv");
    let localutils = support::lock_env_at(&python, &root, &venv);
    Some(Shared { venv, localutils })
}

/// Cargo's scratch folder for integration tests (inside target/).
fn target_tmp() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
}

/// A test's own copy of the lock-project fixture.
struct Case {
    dir: tempfile::TempDir,
    project: PathBuf,
    cache: PathBuf,
    venv: PathBuf,
}

fn case() -> Option<Case> {
    let shared = shared()?;
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    support::copy_tree(&support::fixture("lock-project"), &project);
    Some(Case {
        cache: dir.path().join("cache"),
        venv: shared.venv.clone(),
        project,
        dir,
    })
}

impl Case {
    /// `envscan SUBCOMMAND PROJECT --python VENV --cache-dir CACHE ARGS...`
    fn envscan(&self, subcommand: &str, args: &[&str]) -> Command {
        self.envscan_cached(subcommand, &self.cache, args)
    }

    /// The same with another cache folder.
    fn envscan_cached(&self, subcommand: &str, cache: &Path, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_envscan"));
        cmd.arg(subcommand)
            .arg(&self.project)
            .arg("--python")
            .arg(&self.venv)
            .arg("--cache-dir")
            .arg(cache)
            .args(args)
            .env_remove("VIRTUAL_ENV")
            .env_remove("CONDA_PREFIX");
        cmd
    }

    fn run(&self, subcommand: &str, args: &[&str]) -> Run {
        Run::of(&mut self.envscan(subcommand, args))
    }

    /// `envscan lock`, which must succeed.
    fn lock(&self) -> Run {
        let run = self.run("lock", &[]);
        run.assert_code(0);
        run
    }

    fn output(&self, name: &str) -> PathBuf {
        self.project.join(name)
    }

    fn snapshot(&self) -> Vec<FileState> {
        OUTPUTS
            .iter()
            .map(|name| FileState::of(&self.output(name)))
            .collect()
    }

    fn lock_toml(&self) -> toml::Table {
        toml::from_str(&std::fs::read_to_string(self.output(LOCK)).unwrap()).unwrap()
    }

    /// The project folder's entries: envscan adds its outputs and nothing else (no temporary
    /// or lock files left behind).
    fn project_entries(&self) -> BTreeSet<String> {
        std::fs::read_dir(&self.project)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    }
}

/// A finished command.
struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
    what: String,
}

impl Run {
    fn of(cmd: &mut Command) -> Run {
        let output = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
        Run::from_output(format!("{cmd:?}"), output)
    }

    fn from_output(what: String, output: Output) -> Run {
        Run {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            what,
        }
    }

    fn assert_code(&self, code: i32) {
        assert_eq!(
            self.code,
            Some(code),
            "{} exited {:?}, expected {code}\n--- stdout\n{}\n--- stderr\n{}",
            self.what,
            self.code,
            self.stdout,
            self.stderr
        );
    }
}

/// An output's bytes and identity: a rewrite with the same bytes still changes the mtime, and
/// a rename changes the inode.
#[derive(Debug, PartialEq, Eq)]
struct FileState {
    path: PathBuf,
    bytes: Vec<u8>,
    modified: SystemTime,
    inode: u64,
}

impl FileState {
    fn of(path: &Path) -> FileState {
        let meta = std::fs::metadata(path).unwrap();
        FileState {
            path: path.to_path_buf(),
            bytes: std::fs::read(path).unwrap(),
            modified: meta.modified().unwrap(),
            inode: meta.ino(),
        }
    }
}

/// uv (from the test tools) with its cache under target/ and never downloading a Python.
fn uv(test_env: &Path) -> Command {
    let mut cmd = Command::new(test_env.join("bin/uv"));
    uv_env(&mut cmd);
    cmd
}

fn uv_env(cmd: &mut Command) {
    cmd.env("UV_CACHE_DIR", target_tmp().join("uv-cache"))
        .env("UV_PYTHON_DOWNLOADS", "never")
        .env("UV_NO_CONFIG", "1")
        .env_remove("VIRTUAL_ENV")
        .env_remove("CONDA_PREFIX")
        .env_remove("PYTHONPATH");
}

/// The distributions installed in a venv, name (normalised) → version, as Python sees them.
fn installed(python: &Path) -> std::collections::BTreeMap<String, String> {
    let script = "import importlib.metadata as m, json, re\n\
                  print(json.dumps({re.sub(r'[-_.]+', '-', d.metadata['Name']).lower(): d.version \
                  for d in m.distributions()}))";
    let out = support::run(Command::new(python).args(["-c", script]));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Those of `modules` whose source file, in `python`'s environment, has no bytecode beside it.
fn uncompiled_modules(python: &Path, modules: &[&str]) -> Vec<String> {
    let script = "import importlib, importlib.util, os, sys\n\
                  for name in sys.argv[1:]:\n    \
                      source = importlib.import_module(name).__file__\n    \
                      if not os.path.isfile(importlib.util.cache_from_source(source)):\n        \
                          print(name)";
    let out = support::run(
        Command::new(python)
            .arg("-B")
            .args(["-c", script])
            .args(modules),
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(str::to_string)
        .collect()
}

fn locked_packages(lock: &toml::Table) -> Vec<(String, String)> {
    lock["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p["name"].as_str().unwrap().to_string(),
                p["version"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn the_lock_passes_packaging_installs_with_uv_into_a_fresh_venv_and_the_entry_script_runs() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let Some(case) = case() else { return };
    case.lock();
    // The lock installs localutils from the wheel `pack` writes where the lock names it.
    case.run("pack", &[]).assert_code(0);
    let lock_path = case.output(LOCK);

    // Exactly the runtime closure, each at the version installed in the venv.
    let lock = case.lock_toml();
    let packages = locked_packages(&lock);
    let names: Vec<&str> = packages.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, EXPECTED_PACKAGES, "locked packages");
    for absent in ["pandas", "orjson"] {
        assert!(!names.contains(&absent), "{absent} must not be locked");
    }
    let venv_dists = installed(&case.venv.join("bin/python"));
    for (name, version) in &packages {
        assert_eq!(venv_dists.get(name), Some(version), "version of {name}");
    }
    let tool = &lock["tool"]["envscan"];
    assert_eq!(
        tool["packages"]["localutils"]["class"].as_str(),
        Some("local")
    );
    assert!(tool["unresolved"].get("orjson").is_some());
    assert!(tool["packages"].get("pandas").is_none());

    // (a) packaging's PEP 751 validator reads the same packages.
    let validate = "import json, sys, tomllib\n\
                    from packaging.pylock import Pylock\n\
                    with open(sys.argv[1], 'rb') as f:\n    lock = Pylock.from_dict(tomllib.load(f))\n\
                    print(json.dumps([str(p.name) for p in lock.packages]))";
    let out = support::run(
        Command::new(test_env.join("bin/python"))
            .args(["-c", validate])
            .arg(&lock_path),
    );
    let validated: Vec<String> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(validated, EXPECTED_PACKAGES);

    // (b) uv installs it into a fresh venv made from the fixture's interpreter.
    let fresh = case.dir.path().join("fresh");
    support::run(
        uv(&test_env)
            .args(["venv", "--quiet", "--python"])
            .arg(case.venv.join("bin/python"))
            .arg(&fresh),
    );
    let fresh_python = fresh.join("bin/python");
    let dry = support::run(
        uv(&test_env)
            .args(["pip", "install", "--dry-run", "--python"])
            .arg(&fresh_python)
            .arg("-r")
            .arg(&lock_path),
    );
    let dry_text =
        String::from_utf8_lossy(&dry.stderr).into_owned() + &String::from_utf8_lossy(&dry.stdout);
    for (name, version) in &packages {
        // uv names a local wheel by its file (`+ localutils @ file:///...-0.3.0-py3-...whl`).
        let local = format!("+ {name} @ file://");
        let from_file = dry_text
            .lines()
            .any(|l| l.contains(&local) && l.contains(&format!("-{version}-py3-none-any.whl")));
        assert!(
            from_file || dry_text.contains(&format!("+ {name}=={version}")),
            "uv --dry-run does not plan {name}=={version}:\n{dry_text}"
        );
    }
    support::run(
        uv(&test_env)
            .args(["pip", "install", "--python"])
            .arg(&fresh_python)
            .arg("-r")
            .arg(&lock_path),
    );
    assert_eq!(
        installed(&fresh_python),
        packages.iter().cloned().collect(),
        "the fresh venv holds exactly the lock"
    );

    // (c) The entry script runs there, local code coming from PYTHONPATH only.
    let localutils_src = shared().unwrap().localutils.join("src");
    let python_path = std::env::join_paths([
        case.project.join("src"),
        case.project.clone(),
        localutils_src,
    ])
    .unwrap();
    let mut entry = Command::new(&fresh_python);
    uv_env(&mut entry);
    let out = support::run(
        entry
            .arg("main.py")
            .current_dir(&case.project)
            .env("PYTHONPATH", &python_path),
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), OK_LINE);
    let mut without = Command::new(&fresh_python);
    uv_env(&mut without);
    let bare = Run::of(without.arg("main.py").current_dir(&case.project));
    assert_ne!(
        bare.code,
        Some(0),
        "main.py must need its local code on PYTHONPATH"
    );
}

#[test]
fn pip_installs_the_lock_into_a_fresh_venv_too() {
    // pip ≥ 26.1 reads PEP 751 locks (experimental): the test tools pin pip 26.3, which
    // installs into another interpreter with `--python`.
    let Some(test_env) = support::test_env() else {
        return;
    };
    let Some(case) = case() else { return };
    case.lock();
    case.run("pack", &[]).assert_code(0);
    let fresh = case.dir.path().join("fresh-pip");
    support::run(
        Command::new(case.venv.join("bin/python"))
            .args(["-m", "venv", "--without-pip"])
            .arg(&fresh),
    );
    let fresh_python = fresh.join("bin/python");
    support::run(
        Command::new(test_env.join("bin/python"))
            .args(["-m", "pip", "--disable-pip-version-check", "--python"])
            .arg(&fresh_python)
            .args(["install", "--quiet", "-r"])
            .arg(case.output(LOCK)),
    );
    let packages = locked_packages(&case.lock_toml());
    assert_eq!(
        installed(&fresh_python),
        packages.iter().cloned().collect(),
        "pip installed exactly the lock"
    );
}

#[test]
fn a_second_lock_leaves_every_output_byte_identical_and_untouched() {
    let Some(case) = case() else { return };
    let first = case.lock();
    for name in OUTPUTS {
        assert!(
            first.stdout.contains(&format!("wrote {name}")),
            "{}",
            first.stdout
        );
    }
    let before = case.snapshot();
    let second = case.lock();
    assert_eq!(
        case.snapshot(),
        before,
        "bytes, mtime and inode of each output"
    );
    assert!(
        second.stdout.starts_with("Unchanged: pylock.envscan.toml"),
        "{}",
        second.stdout
    );
    assert!(!second.stdout.contains("wrote"), "{}", second.stdout);
    let json = case.run("lock", &["--format", "json"]);
    json.assert_code(0);
    let report: serde_json::Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(report["changed"], serde_json::json!([]));
    assert_eq!(case.snapshot(), before);
}

#[test]
fn the_reference_runner_materialises_the_plan_and_a_changed_dependency_makes_check_fail() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let Some(mut case) = case() else { return };
    // This test changes a dependency: it works on its own copy of the venv.
    let venv = case.dir.path().join("venv");
    support::copy_tree(&case.venv, &venv);
    case.venv = venv;
    let python = case.venv.join("bin/python");

    case.lock();
    let archives = case.dir.path().join("archives");
    let archives_arg = archives.to_str().unwrap();
    case.run("pack", &["--out", archives_arg]).assert_code(0);
    let work = case.dir.path().join("run");
    let runner = reference_runner(&test_env, &case, &archives, &python, &work);
    runner.assert_code(0);
    assert!(
        runner.stdout.contains("note: create_env skipped"),
        "{}",
        runner.stdout
    );
    assert!(
        runner.stdout.lines().any(|l| l == OK_LINE),
        "{}",
        runner.stdout
    );
    // The program ran from the unpacked archives, not from the project folder.
    assert!(work.join("root/app/main.py").is_file());
    // localutils came as its wheel, with its metadata, from wherever pack put it.
    assert_eq!(
        installed(&work.join("venv/bin/python"))
            .get("localutils")
            .map(String::as_str),
        Some("0.3.0")
    );
    // Installed as an image build installs it, compiled: the program's imports load bytecode,
    // they are not compiled again at each start.
    assert_eq!(
        uncompiled_modules(&work.join("venv/bin/python"), &["idna", "localutils"]),
        Vec::<String>::new()
    );

    // Change a dependency: every check now fails with a diff and writes nothing.
    let old = installed(&python)["idna"].clone();
    let new = if old == "3.7" { "3.6" } else { "3.7" };
    support::pip_install(&python, &[std::ffi::OsStr::new(&format!("idna=={new}"))]);
    let before = case.snapshot();
    let entries = case.project_entries();
    for (subcommand, args) in [
        ("lock", &["--check"][..]),
        ("check", &[][..]),
        ("check", &["--offline"][..]),
    ] {
        let check = case.run(subcommand, args);
        check.assert_code(1);
        for line in [
            "--- a/pylock.envscan.toml",
            "+++ b/pylock.envscan.toml",
            &format!("-version = \"{old}\""),
            &format!("+version = \"{new}\""),
            "@@ ",
        ] {
            assert!(
                check.stdout.lines().any(|l| l.starts_with(line)),
                "`envscan {subcommand} {args:?}` prints no line {line:?}:\n{}",
                check.stdout
            );
        }
        assert_eq!(
            case.snapshot(),
            before,
            "`envscan {subcommand} {args:?}` wrote"
        );
        assert_eq!(case.project_entries(), entries);
    }

    case.lock();
    let packages = locked_packages(&case.lock_toml());
    assert!(packages.contains(&("idna".to_string(), new.to_string())));
    for args in [&["--check"][..], &["--check", "--offline"][..]] {
        let check = case.run("lock", args);
        check.assert_code(0);
        assert!(check.stdout.starts_with("Up to date:"), "{}", check.stdout);
        assert!(!check.stdout.contains("--- a/"), "{}", check.stdout);
    }
}

fn reference_runner(
    test_env: &Path,
    case: &Case,
    archives: &Path,
    python: &Path,
    work: &Path,
) -> Run {
    let mut cmd = Command::new(test_env.join("bin/python"));
    uv_env(&mut cmd);
    cmd.arg(support::repo().join("tests/reference_runner.py"))
        .arg("--plan")
        .arg(case.output("envscan.plan.json"))
        .arg("--manifest")
        .arg(archives.join("manifest.json"))
        .arg("--python")
        .arg(python)
        .arg("--uv")
        .arg(test_env.join("bin/uv"))
        .arg("--work")
        .arg(work);
    Run::of(&mut cmd)
}

#[test]
fn the_reference_runner_refuses_another_python_extra_conda_packages_and_a_tampered_archive() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let Some(case) = case() else { return };
    case.lock();
    let archives = case.dir.path().join("archives");
    case.run("pack", &["--out", archives.to_str().unwrap()])
        .assert_code(0);
    let python = case.venv.join("bin/python");
    let plan_path = case.output("envscan.plan.json");
    let plan = std::fs::read_to_string(&plan_path).unwrap();
    let manifest: serde_json::Value =
        serde_json::from_slice(&std::fs::read(archives.join("manifest.json")).unwrap()).unwrap();
    let archive = archives.join(manifest["archives"][0]["archive"].as_str().unwrap());
    let archive_bytes = std::fs::read(&archive).unwrap();

    let refuse = |name: &str, expected: &str| {
        let run = reference_runner(
            &test_env,
            &case,
            &archives,
            &python,
            &case.dir.path().join(name),
        );
        run.assert_code(2);
        assert!(run.stderr.contains(expected), "{name}: {}", run.stderr);
        assert!(!run.stdout.contains(OK_LINE));
    };

    let version = serde_json::from_str::<serde_json::Value>(&plan).unwrap()["python"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(
        &plan_path,
        plan.replace(
            &format!("\"python\": \"{version}\""),
            "\"python\": \"3.0.1\"",
        ),
    )
    .unwrap();
    refuse("other-python", "the plan locks Python 3.0.1");
    std::fs::write(&plan_path, &plan).unwrap();

    // The runner creates the environment from the step's specs (the conda file's `pip:` list
    // is for conda users): a conda package there is refused.
    let with_numpy = plan.replace("\"pip\"\n", "\"numpy==1.26.4\",\n        \"pip\"\n");
    assert_ne!(with_numpy, plan);
    std::fs::write(&plan_path, with_numpy).unwrap();
    refuse("conda-package", "conda packages other than python and pip");
    std::fs::write(&plan_path, &plan).unwrap();

    let mut tampered = archive_bytes.clone();
    tampered.push(0);
    std::fs::write(&archive, &tampered).unwrap();
    refuse("tampered-archive", "does not match the manifest");
    std::fs::write(&archive, &archive_bytes).unwrap();
}

#[test]
fn two_locks_started_together_both_succeed_and_write_the_single_run_bytes() {
    let Some(single) = case() else { return };
    single.lock();
    let expected: Vec<Vec<u8>> = OUTPUTS
        .iter()
        .map(|n| std::fs::read(single.output(n)).unwrap())
        .collect();

    // A second copy of the project and an empty cache that both runs fill at once.
    let Some(together) = case() else { return };
    let entries = together.project_entries();
    let children: Vec<_> = (0..2)
        .map(|_| {
            together
                .envscan("lock", &[])
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let run = Run::from_output("envscan lock".into(), child.wait_with_output().unwrap());
        run.assert_code(0);
    }
    for (name, bytes) in OUTPUTS.iter().zip(&expected) {
        assert!(
            std::fs::read(together.output(name)).unwrap() == *bytes,
            "{name} differs from the single run's"
        );
    }
    let mut with_outputs = entries;
    with_outputs.extend(OUTPUTS.iter().map(|s| s.to_string()));
    assert_eq!(together.project_entries(), with_outputs, "no stray files");
}

#[test]
fn a_run_that_cannot_reach_the_index_fails_naming_it_and_leaves_the_outputs_alone() {
    let Some(case) = case() else { return };
    case.lock();
    let before = case.snapshot();
    let entries = case.project_entries();
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
        // dropped here: nothing listens on the port any more
    };
    let url = format!("http://127.0.0.1:{port}/simple");
    let empty = case.dir.path().join("empty-cache");
    // An empty cache, so the index must be asked.
    let run = Run::of(
        case.envscan_cached("lock", &empty, &["--index-url", &url])
            .env("ENVSCAN_TEST_NO_RETRY_DELAY", "1"),
    );
    run.assert_code(2);
    assert!(run.stderr.contains(&url), "{}", run.stderr);
    assert_eq!(case.snapshot(), before, "the outputs of the earlier run");
    assert_eq!(case.project_entries(), entries, "no stray files");
}

// A check whose lock on disk is the one it renders takes that lock's marks from the render
// instead of parsing it (issue 9): they must still be compared with the other two files'.
#[test]
fn a_check_of_a_current_set_is_clean_and_a_conda_file_from_another_run_is_a_mixed_set() {
    let Some(case) = case() else { return };
    case.lock();
    let check = case.run("check", &[]);
    check.assert_code(0);
    assert!(check.stdout.starts_with("Up to date:"), "{}", check.stdout);
    for run in [&check, &case.run("check", &["--format", "json"])] {
        assert!(
            !run.stdout.contains("outputs-mixed") && !run.stderr.contains("outputs-mixed"),
            "{}\n{}",
            run.stdout,
            run.stderr
        );
    }
    let conda = case.output("envscan.conda.yaml");
    let text = fs_err::read_to_string(&conda).unwrap();
    let mark = "# envscan cache key: ";
    let at = text.find(mark).expect("the conda file's mark") + mark.len();
    let mut other = text.clone();
    other.replace_range(at..at + 8, "00000000");
    assert_ne!(other, text);
    fs_err::write(&conda, &other).unwrap();
    let check = case.run("check", &[]);
    check.assert_code(1);
    assert!(
        check.stderr.contains("warning[outputs-mixed]"),
        "{}\n{}",
        check.stdout,
        check.stderr
    );
    case.lock();
    assert_eq!(fs_err::read_to_string(&conda).unwrap(), text);
}

#[test]
fn a_hand_edited_lock_that_no_longer_parses_is_reported_with_its_line_and_regenerated() {
    let Some(case) = case() else { return };
    case.lock();
    let lock_path = case.output(LOCK);
    let good = std::fs::read_to_string(&lock_path).unwrap();
    let line = good
        .lines()
        .position(|l| l == "created-by = \"envscan\"")
        .unwrap()
        + 1;
    let broken = good.replacen("created-by = \"envscan\"", "created-by = \"envscan", 1);
    std::fs::write(&lock_path, &broken).unwrap();

    let check = case.run("lock", &["--check"]);
    check.assert_code(1);
    let report = format!("{LOCK}:{line}: warning[lock-unparsable]");
    assert!(
        check.stderr.contains(&report),
        "no {report:?} in:\n{}",
        check.stderr
    );
    assert!(
        check.stdout.contains("--- a/pylock.envscan.toml"),
        "{}",
        check.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&lock_path).unwrap(),
        broken,
        "--check wrote"
    );

    let regenerate = case.lock();
    assert!(regenerate.stdout.contains("wrote pylock.envscan.toml"));
    assert_eq!(std::fs::read_to_string(&lock_path).unwrap(), good);
}

#[test]
fn no_output_holds_a_machine_path_a_user_name_or_an_index_credential() {
    let Some(case) = case() else { return };
    // PyPI ignores basic auth, so a credentialed URL reaches the real index.
    let (user, secret) = ("envscan-test-user", "envscan-test-secret");
    let url = format!("https://{user}:{secret}@pypi.org/simple/");
    let run = case.run("lock", &["--index-url", &url]);
    run.assert_code(0);
    assert!(!run.stdout.contains(secret) && !run.stderr.contains(secret));
    let lock = case.lock_toml();
    for package in lock["packages"].as_array().unwrap() {
        if package.get("archive").is_some() {
            continue; // a local wheel, by a path relative to the lock
        }
        assert_eq!(package["index"].as_str(), Some("https://pypi.org/simple"));
    }

    let mut forbidden: Vec<String> = vec![
        user.into(),
        secret.into(),
        case.dir.path().display().to_string(),
        std::fs::canonicalize(case.dir.path())
            .unwrap()
            .display()
            .to_string(),
        target_tmp().display().to_string(),
        support::repo().display().to_string(),
    ];
    if let Some(home) = std::env::var_os("HOME").filter(|h| h.len() > 1) {
        forbidden.push(PathBuf::from(home).display().to_string());
    }
    // A user name is checked as a whole word (it may be a common one such as `root`).
    let names: Vec<String> = ["USER", "LOGNAME"]
        .iter()
        .filter_map(|v| std::env::var(v).ok())
        .filter(|n| !n.is_empty())
        .collect();
    for name in OUTPUTS {
        let text = std::fs::read_to_string(case.output(name)).unwrap();
        for bad in &forbidden {
            assert!(!text.contains(bad.as_str()), "{name} holds {bad:?}");
        }
        let words: BTreeSet<&str> = text
            .split(|c: char| !(c.is_alphanumeric() || c == '_'))
            .collect();
        for user_name in &names {
            assert!(
                !words.contains(user_name.as_str()),
                "{name} holds the user name {user_name:?}"
            );
        }
    }
}
