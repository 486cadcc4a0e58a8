//! `.pre-commit-hooks.yaml` (this repository's, and the wheel-based hook repository's in
//! `pre-commit-hook/`): read as pre-commit reads it. The hooks' behaviour (exit 1 when
//! the lock hook rewrote an output, the check hook writing nothing) is tested with a real
//! virtualenv in `outputs_pipeline.rs`.

mod support;

use support::{repo, run, run_python, test_env};

/// Loads the manifest with PyYAML, checks each hook's fields and which paths its `files`
/// pattern selects (with Python's `re.search`, as pre-commit applies it). Prints `ok`.
const HOOKS_SHAPE: &str = r#"
import re, sys, yaml
hooks = yaml.safe_load(open(sys.argv[1], encoding="utf-8"))
assert isinstance(hooks, list), hooks
by_id = {h["id"]: h for h in hooks}
assert sorted(by_id) == ["envscan-check", "envscan-lock"], sorted(by_id)
assert by_id["envscan-lock"]["entry"].split()[:3] == ["envscan", "lock", "--fail-on-change"]
assert by_id["envscan-check"]["entry"].split()[:2] == ["envscan", "check"]
selected = [
    "main.py", "src/app/core.py", "stubs/app.pyi", "notebooks/eda.ipynb", "pyproject.toml",
    "pylock.envscan.toml", "envscan.conda.yaml", "envscan.plan.json", "sub/pyproject.toml",
]
ignored = ["README.md", "Cargo.toml", "data/pyproject.toml.bak", "notpyproject.toml", "app.pyc"]
for hook in hooks:
    # No Rust: pre-commit's python language pip-installs the hook repository.
    assert hook["language"] == "python", hook
    # The hook's PATH and VIRTUAL_ENV are pre-commit's own environment, never the target.
    assert "--no-path-python" in hook["entry"].split(), hook
    assert hook["pass_filenames"] is False, hook
    assert hook["require_serial"] is True, hook
    assert isinstance(hook["name"], str) and isinstance(hook["description"], str), hook
    pattern = re.compile(hook["files"])
    for path in selected:
        assert pattern.search(path), (hook["id"], path)
    for path in ignored:
        assert not pattern.search(path), (hook["id"], path)
print("ok")
"#;

const MANIFESTS: [&str; 2] = [
    ".pre-commit-hooks.yaml",
    "pre-commit-hook/.pre-commit-hooks.yaml",
];

#[test]
fn hooks_manifest_defines_the_lock_and_check_hooks_for_python_files_and_outputs() {
    let Some(env) = test_env() else { return };
    for manifest in MANIFESTS {
        let manifest = repo().join(manifest);
        assert_eq!(
            run_python(&env, HOOKS_SHAPE, &[manifest.as_os_str()]).trim(),
            "ok"
        );
    }
}

#[test]
fn pre_commit_accepts_the_hooks_manifest() {
    let Some(env) = test_env() else { return };
    for manifest in MANIFESTS {
        let output = run(std::process::Command::new(env.join("bin/pre-commit"))
            .arg("validate-manifest")
            .arg(repo().join(manifest))
            // pre-commit keeps a cache and a log under $HOME; keep them out of the user's.
            .env("PRE_COMMIT_HOME", tempfile::tempdir().unwrap().path()));
        assert!(output.stdout.is_empty(), "{output:?}");
    }
}

#[test]
fn the_hook_repository_pins_the_envscan_wheel_of_this_version() {
    // A hook release that named another version would install another envscan than the one
    // its hooks were written for.
    let text = std::fs::read_to_string(repo().join("pre-commit-hook/pyproject.toml")).unwrap();
    let pyproject: toml::Table = toml::from_str(&text).unwrap();
    let project = pyproject["project"].as_table().unwrap();
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(project["version"].as_str(), Some(version));
    let dependencies: Vec<&str> = project["dependencies"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d.as_str())
        .collect();
    assert_eq!(dependencies, [format!("envscan=={version}")]);
}
