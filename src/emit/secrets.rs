//! Which paths never travel in an archive of local code, and why.
//!
//! Two kinds of exclusion:
//! - [`Exclusion::Noise`]: version-control data (`.git`, `.hg`, `.svn`, `.bzr`), bytecode
//!   (`__pycache__`, `*.pyc`, `*.pyo`), tool caches (`.mypy_cache`, `.pytest_cache`,
//!   `.ruff_cache`, `.tox`, `.nox`, `.ipynb_checkpoints`) and virtual environments (any folder
//!   holding `pyvenv.cfg` or `conda-meta`). They are never code, so they are left out silently.
//! - [`Exclusion::Secret`]: names that usually hold credentials: `.env*` (`.env`, `.env.local`,
//!   `.envrc`), SSH keys (`id_rsa*`, `id_dsa*`, `id_ecdsa*`, `id_ed25519*`), keys and
//!   certificates (`*.pem`, `*.key`, `*.p12`, `*.pfx`), credential files (`.netrc`, `_netrc`,
//!   `.pypirc`, `.npmrc`, `.git-credentials`) and credential folders (`.ssh`, `.gnupg`,
//!   `.aws`). They are left out and reported, so a user who really needs one learns why it is
//!   missing on the remote side instead of shipping a key by accident.
//!
//! Names are compared without regard to ASCII case (`SERVER.PEM` on a case-insensitive file
//! system is the same file). A virtual environment named `.env` is noise, not a secret: the
//! folder check runs first.

use std::path::Path;

/// Why a path stays out of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// Never code; left out silently.
    Noise,
    /// Probably credentials; left out and reported. The text says what it looks like.
    Secret(&'static str),
}

const NOISE_DIRS: &[&str] = &[
    ".git",
    ".hg",
    ".svn",
    ".bzr",
    "__pycache__",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    ".tox",
    ".nox",
    ".ipynb_checkpoints",
];

const SECRET_DIRS: &[&str] = &[".ssh", ".gnupg", ".aws"];

const CREDENTIAL_FILES: &[&str] = &[".netrc", "_netrc", ".pypirc", ".npmrc", ".git-credentials"];

const SSH_KEY_PREFIXES: &[&str] = &["id_rsa", "id_dsa", "id_ecdsa", "id_ed25519"];

const KEY_SUFFIXES: &[&str] = &[".pem", ".key", ".p12", ".pfx"];

/// Classifies a folder by its name; `path` is where it is, to look for a virtual environment.
pub fn classify_dir(name: &str, path: &Path) -> Option<Exclusion> {
    let lower = name.to_ascii_lowercase();
    if NOISE_DIRS.contains(&lower.as_str()) || is_virtual_env(path) {
        return Some(Exclusion::Noise);
    }
    if SECRET_DIRS.contains(&lower.as_str()) {
        return Some(Exclusion::Secret("a credentials folder"));
    }
    if lower.starts_with(".env") {
        return Some(Exclusion::Secret("an environment file folder"));
    }
    None
}

/// Classifies a file by its name.
pub fn classify_file(name: &str) -> Option<Exclusion> {
    let lower = name.to_ascii_lowercase();
    // A `.git` file is a worktree or submodule pointer.
    if lower == ".git" || lower.ends_with(".pyc") || lower.ends_with(".pyo") {
        return Some(Exclusion::Noise);
    }
    if lower.starts_with(".env") {
        return Some(Exclusion::Secret("an environment file"));
    }
    if CREDENTIAL_FILES.contains(&lower.as_str()) {
        return Some(Exclusion::Secret("a credentials file"));
    }
    if SSH_KEY_PREFIXES.iter().any(|p| lower.starts_with(p)) {
        return Some(Exclusion::Secret("an SSH key"));
    }
    if KEY_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return Some(Exclusion::Secret("a private key or certificate"));
    }
    None
}

/// A folder holding `pyvenv.cfg` (venv, virtualenv, uv) or `conda-meta` (conda prefix).
pub fn is_virtual_env(path: &Path) -> bool {
    path.join("pyvenv.cfg").is_file() || path.join("conda-meta").is_dir()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_secret(name: &str) -> bool {
        matches!(classify_file(name), Some(Exclusion::Secret(_)))
    }

    #[test]
    fn environment_files_and_keys_are_secrets() {
        for name in [
            ".env",
            ".env.local",
            ".envrc",
            "id_rsa",
            "id_rsa.pub",
            "id_ed25519",
            "server.pem",
            "TLS.KEY",
            "cert.p12",
            "cert.pfx",
            ".netrc",
            ".pypirc",
            ".npmrc",
            ".git-credentials",
        ] {
            assert!(is_secret(name), "{name} should be a secret");
        }
    }

    #[test]
    fn ordinary_package_files_are_kept() {
        for name in [
            "__init__.py",
            "env.py",
            "environment.yaml",
            "keys.py",
            "data.json",
            "my.env.py",
            ".gitignore",
            "monkey.txt",
        ] {
            assert_eq!(classify_file(name), None, "{name} should be kept");
        }
    }

    #[test]
    fn bytecode_is_noise_not_a_secret() {
        assert_eq!(classify_file("mod.cpython-312.pyc"), Some(Exclusion::Noise));
    }

    #[test]
    fn a_virtual_env_named_dot_env_is_noise() {
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join(".env");
        fs_err::create_dir(&venv).unwrap();
        fs_err::write(venv.join("pyvenv.cfg"), "home = /usr/bin\n").unwrap();
        assert_eq!(classify_dir(".env", &venv), Some(Exclusion::Noise));
        let plain = dir.path().join(".env.d");
        fs_err::create_dir(&plain).unwrap();
        assert!(matches!(
            classify_dir(".env.d", &plain),
            Some(Exclusion::Secret(_))
        ));
    }

    #[test]
    fn conda_prefixes_and_vcs_folders_are_noise() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("env/conda-meta")).unwrap();
        assert_eq!(
            classify_dir("env", &dir.path().join("env")),
            Some(Exclusion::Noise)
        );
        assert_eq!(
            classify_dir(".git", &dir.path().join(".git")),
            Some(Exclusion::Noise)
        );
        assert_eq!(classify_dir("data", &dir.path().join("data")), None);
    }
}
