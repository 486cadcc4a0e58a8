//! Records the git commit envscan is built from, for `envscan --version`.
//!
//! Reads `git rev-parse HEAD` in the source folder. A build without git or without a
//! repository (an sdist, a wheel built from an archive) records `unknown`, and so does a build
//! whose git fails for any reason: the version line never breaks a build.
//! `ENVSCAN_GIT_COMMIT` in the build's environment overrides it (for packagers who know).

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=ENVSCAN_GIT_COMMIT");
    let manifest_dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = match std::env::var("ENVSCAN_GIT_COMMIT") {
        Ok(commit) if !commit.trim().is_empty() => commit.trim().to_string(),
        _ => git_commit(&manifest_dir).unwrap_or_else(|| "unknown".to_string()),
    };
    println!("cargo:rustc-env=ENVSCAN_GIT_COMMIT={commit}");
}

/// The short commit of HEAD, and the files whose change moves it watched by cargo.
fn git_commit(dir: &Path) -> Option<String> {
    // Only this source tree's own repository: an unpacked sdist inside some other checkout
    // must not take that checkout's commit.
    let toplevel = git(dir, &["rev-parse", "--show-toplevel"])?;
    if std::fs::canonicalize(&toplevel).ok()? != std::fs::canonicalize(dir).ok()? {
        return None;
    }
    let commit = git(dir, &["rev-parse", "--short=12", "HEAD"])?;
    // HEAD itself (a checkout), the branch it names (a commit) and packed-refs (a gc). In a
    // worktree the first lives in its own git dir, the others in the common one.
    if let Some(git_dir) = git(dir, &["rev-parse", "--absolute-git-dir"]) {
        watch(&Path::new(&git_dir).join("HEAD"));
        if let Some(common) = git(
            dir,
            &["rev-parse", "--path-format=absolute", "--git-common-dir"],
        ) {
            let common = PathBuf::from(common);
            watch(&common.join("packed-refs"));
            if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"]) {
                watch(&common.join(branch));
            }
        }
    }
    Some(commit)
}

/// Asks cargo to rerun this script when `path` changes; only for files that exist, since
/// cargo reruns on every build for a missing one.
fn watch(path: &Path) {
    if path.is_file() {
        println!("cargo:rerun-if-changed={}", path.display());
    }
}

fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    if !output.status.success() {
        return None;
    }
    let text = String::from_utf8(output.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}
