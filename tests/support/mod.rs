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
    assert!(
        std::env::var_os("CI").is_none(),
        "CI must run with the Python test tools: run scripts/test-env"
    );
    eprintln!("skipped: no Python test tools (run scripts/test-env)");
    None
}

/// Copies a fixture tree into a fresh temporary folder (so tests may change it).
pub fn copy_fixture(name: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&fixture(name), dir.path());
    dir
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
