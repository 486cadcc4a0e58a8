//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A fixture tree by name.
pub fn fixture(name: &str) -> PathBuf {
    repo().join("fixtures").join(name)
}

/// The virtualenv of Python test tools made by `scripts/test-env`, if there is one.
///
/// Under CI its absence is a failure, not a skip: a green run must have checked the outputs
/// with the real tools.
pub fn test_env() -> Option<PathBuf> {
    let candidate = std::env::var_os("ENVSCAN_TEST_ENV")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join(".test-env"));
    if candidate.join("bin/python").is_file() {
        return Some(candidate);
    }
    skip("no Python test tools (run scripts/test-env)");
    None
}

/// Copies a fixture tree into a fresh temporary folder (so tests may change it).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    dir
}

/// Copies a fixture tree into a fresh temporary folder with `@ROOT@` in its text files replaced
/// by the copy's (canonical) path: fixtures of real installs hold absolute paths. Returns the
/// folder and the copy's path.
pub fn copy_fixture_rooted(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = std::fs::canonicalize(dir.path()).unwrap().join(name);
    copy_tree(&fixture(name), &root);
    replace_root(&root, root.to_str().unwrap());
    (dir, root)
}

fn replace_root(folder: &Path, root: &str) {
    for entry in std::fs::read_dir(folder).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            replace_root(&path, root);
        } else if let Ok(text) = std::fs::read_to_string(&path)
            && text.contains("@ROOT@")
        {
            std::fs::write(&path, text.replace("@ROOT@", root)).unwrap();
        }
    }
}

pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_tree(&entry.path(), &target);
        } else if kind.is_symlink() {
            let link = std::fs::read_link(entry.path()).unwrap();
            std::os::unix::fs::symlink(link, target).unwrap();
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// The `lock-project` fixture in a temporary folder with a real virtualenv: `python3 -m venv`,
/// then pip installs two PyPI packages (requests and its closure, PyYAML) and the
/// `lock-localutils` fixture in editable mode. `None` (a skip) when python3 is missing outside
/// CI.
pub struct LockFixture {
    pub dir: tempfile::TempDir,
    pub project: PathBuf,
    pub localutils: PathBuf,
    pub venv: PathBuf,
    pub cache: PathBuf,
}

pub const LOCK_FIXTURE_REQUIREMENTS: &[&str] = &["requests==2.32.3", "PyYAML==6.0.3"];

pub fn lock_fixture() -> Option<LockFixture> {
    lock_fixture_in(tempfile::tempdir().unwrap())
}

/// [`lock_fixture`] in a given temporary folder.
pub fn lock_fixture_in(dir: tempfile::TempDir) -> Option<LockFixture> {
    let python = which_python()?;
    let project = dir.path().join("project");
    copy_tree(&fixture("lock-project"), &project);
    let venv = dir.path().join("venv");
    let localutils = lock_env_at(&python, dir.path(), &venv);
    let cache = dir.path().join("cache");
    Some(LockFixture {
        dir,
        project,
        localutils,
        venv,
        cache,
    })
}

/// A program on PATH.
pub fn which(program: &str) -> Option<PathBuf> {
    std::env::split_paths(&std::env::var_os("PATH")?)
        .map(|p| p.join(program))
        .find(|p| p.is_file())
}

/// python3 on PATH; its absence fails under CI and skips elsewhere.
pub fn which_python() -> Option<PathBuf> {
    let found = which("python3");
    if found.is_none() {
        skip("no python3 on PATH");
    }
    found
}

/// Prints why a test is skipped; under CI a skip is a failure, so a green run checked it all.
pub fn skip(reason: &str) {
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must not skip: {reason}"
    );
    eprintln!("skipped: {reason}");
}

/// A virtualenv made with `python -m venv` at `venv`, then `pip install --quiet ARGS` in it.
pub fn venv_with(python: &Path, venv: &Path, pip_args: &[&std::ffi::OsStr]) {
    run(std::process::Command::new(python)
        .args(["-m", "venv"])
        .arg(venv));
    pip_install(&venv.join("bin/python"), pip_args);
}

/// `pip install --quiet ARGS` into the environment of `python`.
pub fn pip_install(python: &Path, args: &[&std::ffi::OsStr]) {
    run(std::process::Command::new(python)
        .args([
            "-m",
            "pip",
            "install",
            "--quiet",
            "--disable-pip-version-check",
        ])
        .args(args));
}

/// Runs a command and panics with its output when it fails.
pub fn run(cmd: &mut std::process::Command) -> std::process::Output {
    let output = cmd
        .output()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    assert!(
        output.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// A [`lock_fixture`] for a whole test binary to share from a static, which is never dropped:
/// it lives under cargo's `target/tmp/<name>/`, emptied when the next run of that binary makes
/// a new one, so no run leaves a virtualenv behind in the system's temporary folder.
pub fn kept_lock_fixture(name: &str) -> Option<LockFixture> {
    let base = Path::new(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    lock_fixture_in(tempfile::tempdir_in(&base).unwrap())
}

/// `envscan` built by cargo, without colours.
pub fn envscan() -> assert_cmd::Command {
    let mut cmd = assert_cmd::Command::cargo_bin("envscan").unwrap();
    // The parse and environment caches of test runs stay in cargo's scratch folder, one per
    // test process, not in the user's ~/.cache/envscan (a test may set its own).
    let cache = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("envscan-cache-{}", std::process::id()));
    cmd.env("NO_COLOR", "1").env("ENVSCAN_CACHE_DIR", cache);
    cmd
}

/// Fails with every validation error unless `value` is valid against `schemas/<schema_file>`.
pub fn assert_valid(schema_file: &str, value: &serde_json::Value) {
    let schema: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo().join("schemas").join(schema_file)).unwrap(),
    )
    .unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let errors: Vec<String> = validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path))
        .collect();
    assert!(
        errors.is_empty(),
        "not valid against {schema_file}: {errors:#?}"
    );
}

/// Runs `script` with the test tools' Python (from [`test_env`]) and the given arguments;
/// panics with its output when it fails, else returns its stdout.
pub fn run_python(test_env: &Path, script: &str, args: &[&std::ffi::OsStr]) -> String {
    let output = run(std::process::Command::new(test_env.join("bin/python"))
        .arg("-c")
        .arg(script)
        .args(args));
    String::from_utf8(output.stdout).unwrap()
}

/// The virtualenv of [`lock_fixture`] at a place the caller chooses (for a fixture shared by
/// several tests): copies `lock-localutils` to `root/localutils`, creates `venv` with `python`
/// and pip-installs [`LOCK_FIXTURE_REQUIREMENTS`] and localutils in editable mode. Returns the
/// localutils folder.
pub fn lock_env_at(python: &Path, root: &Path, venv: &Path) -> PathBuf {
    let localutils = root.join("localutils");
    copy_tree(&fixture("lock-localutils"), &localutils);
    let mut args: Vec<&std::ffi::OsStr> = LOCK_FIXTURE_REQUIREMENTS
        .iter()
        .map(|r| r.as_ref())
        .collect();
    args.extend(["-e".as_ref(), localutils.as_os_str()]);
    venv_with(python, venv, &args);
    localutils
}

/// Every member of every `.tar.gz` directly under `root`: archive path → contents.
pub fn archive_entries(root: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    use std::io::Read;
    let mut out = std::collections::BTreeMap::new();
    let Ok(listing) = std::fs::read_dir(root) else {
        return out;
    };
    for entry in listing.flatten() {
        let path = entry.path();
        if !path.to_string_lossy().ends_with(".tar.gz") {
            continue;
        }
        let file = std::fs::File::open(&path).unwrap();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(file));
        for member in archive.entries().unwrap() {
            let mut member = member.unwrap();
            let name = member.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            member.read_to_end(&mut data).unwrap();
            out.insert(name, data);
        }
    }
    out
}

/// A minimal virtual environment at `venv`: pyvenv.cfg for CPython 3.11.7 and an empty
/// site-packages, enough for envscan to read it as the target environment.
pub fn minimal_venv(venv: &Path) {
    std::fs::create_dir_all(venv.join("lib/python3.11/site-packages")).unwrap();
    std::fs::create_dir_all(venv.join("bin")).unwrap();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
    )
    .unwrap();
}
