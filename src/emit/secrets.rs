//! Which paths never travel in an archive of local code, and why.
//!
//! Two kinds of exclusion:
//! - [`Exclusion::Noise`]: version-control data (`.git`, `.hg`, `.svn`, `.bzr`), bytecode
//!   (`__pycache__`, `*.pyc`, `*.pyo`), tool caches (`.mypy_cache`, `.pytest_cache`,
//!   `.ruff_cache`, `.tox`, `.nox`, `.ipynb_checkpoints`) and virtual environments (any folder
//!   holding `pyvenv.cfg` or `conda-meta`). They are never code, so they are left out silently.
//! - [`Exclusion::Secret`]: files that hold or usually hold credentials. They are left out and
//!   reported, so a user who really needs one learns why it is missing on the remote side
//!   instead of shipping a key by accident. Exactly these:
//!   - by whole file name: `.env`, `.envrc`, `.env.<anything>` (`.env.local`); `.netrc`,
//!     `_netrc`, `.pypirc`, `.npmrc`, `.pgpass`, `.git-credentials`, `credentials.json`;
//!   - SSH keys: `id_rsa`, `id_dsa`, `id_ecdsa`, `id_ecdsa_sk`, `id_ed25519`, `id_ed25519_sk`,
//!     `id_xmss`, exactly or followed by one of the suffixes `.pub`, `-cert.pub`, `.old`,
//!     `.bak`, `.orig`, `.pem`, `.key`, `.txt` (so `id_rsa_utils.py` is code, not a key);
//!   - by suffix: `*.pem`, `*.key`, `*.p12`, `*.pfx`, `*.jks`, `*.keystore`;
//!   - by folder and name: `.docker/config.json`, `.kube/config`;
//!   - everything under a credentials folder: `.ssh`, `.gnupg`, `.aws`, and a folder with an
//!     environment file's name (`.env`, `.envrc`, `.env.<anything>`) that is not a virtual
//!     environment;
//!   - by content, whatever the name, from the first [`CONTENT_PREFIX`] bytes only: a PEM
//!     private key (a line `-----BEGIN <...>PRIVATE KEY-----`, which covers RSA, EC, DSA,
//!     PKCS#8, encrypted and OpenSSH keys, and `PGP PRIVATE KEY BLOCK`), a PuTTY key file, an
//!     AWS access key id (`AKIA`/`ASIA`/`ABIA`/`ACCA` and 16 upper-case letters or digits,
//!     standing alone; AWS's documented placeholder ending in `EXAMPLE` is not one), and a
//!     `.json` file with a `"private_key"` member (a cloud service-account key).
//!
//! Names are compared without regard to ASCII case (`SERVER.PEM` on a case-insensitive file
//! system is the same file). A virtual environment named `.env` is noise, not a secret: the
//! folder check runs first. The archive applies these rules to a link's own path *and* to
//! its target's path (every folder of it and its file name), and to every name of a file with
//! several hard links it can find, so `settings.txt -> ../.env` stays out too.

use std::path::Path;

/// Why a path stays out of an archive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exclusion {
    /// Never code; left out silently.
    Noise,
    /// Probably credentials; left out and reported. The text says what it looks like.
    Secret(&'static str),
}

/// How many bytes at the start of a file the content rules look at.
pub const CONTENT_PREFIX: usize = 64 * 1024;

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

const CREDENTIAL_FILES: &[&str] = &[
    ".netrc",
    "_netrc",
    ".pypirc",
    ".npmrc",
    ".pgpass",
    ".git-credentials",
    "credentials.json",
];

/// (folder, file) pairs: credential files whose name alone is too common.
const CREDENTIAL_PATHS: &[(&str, &str)] = &[(".docker", "config.json"), (".kube", "config")];

const SSH_KEY_NAMES: &[&str] = &[
    "id_rsa",
    "id_dsa",
    "id_ecdsa",
    "id_ecdsa_sk",
    "id_ed25519",
    "id_ed25519_sk",
    "id_xmss",
];

/// What may follow an SSH key's name: the public half, a certificate, a backup copy.
const SSH_KEY_SUFFIXES: &[&str] = &[
    "",
    ".pub",
    "-cert.pub",
    ".old",
    ".bak",
    ".orig",
    ".pem",
    ".key",
    ".txt",
];

const KEY_SUFFIXES: &[&str] = &[".pem", ".key", ".p12", ".pfx", ".jks", ".keystore"];

/// Classifies a folder by its name; `path` is where it is, to look for a virtual environment.
pub fn classify_dir(name: &str, path: &Path) -> Option<Exclusion> {
    let lower = name.to_ascii_lowercase();
    if NOISE_DIRS.contains(&lower.as_str()) || is_virtual_env(path) {
        return Some(Exclusion::Noise);
    }
    if SECRET_DIRS.contains(&lower.as_str()) {
        return Some(Exclusion::Secret("a credentials folder"));
    }
    if is_env_file_name(&lower) {
        return Some(Exclusion::Secret("an environment file folder"));
    }
    None
}

/// Classifies a file by its name and the name of the folder holding it (`None` at the top).
pub fn classify_file(folder: Option<&str>, name: &str) -> Option<Exclusion> {
    let lower = name.to_ascii_lowercase();
    // A `.git` file is a worktree or submodule pointer.
    if lower == ".git" || lower.ends_with(".pyc") || lower.ends_with(".pyo") {
        return Some(Exclusion::Noise);
    }
    if is_env_file_name(&lower) {
        return Some(Exclusion::Secret("an environment file"));
    }
    if CREDENTIAL_FILES.contains(&lower.as_str()) {
        return Some(Exclusion::Secret("a credentials file"));
    }
    if let Some(folder) = folder.map(str::to_ascii_lowercase)
        && CREDENTIAL_PATHS
            .iter()
            .any(|(dir, file)| *dir == folder && *file == lower)
    {
        return Some(Exclusion::Secret("a credentials file"));
    }
    if is_ssh_key_name(&lower) {
        return Some(Exclusion::Secret("an SSH key"));
    }
    if KEY_SUFFIXES.iter().any(|s| lower.ends_with(s)) {
        return Some(Exclusion::Secret("a private key or certificate"));
    }
    None
}

/// Classifies a path inside the source folder by every part of it: each folder by
/// [`classify_dir`] (`real_root` joined with the folders so far finds virtual environments),
/// then the file by [`classify_file`]. This is how a symlink's *target* is judged.
pub fn classify_path(real_root: &Path, rel: &Path, is_dir: bool) -> Option<Exclusion> {
    let parts: Vec<String> = rel
        .components()
        .filter_map(|c| match c {
            std::path::Component::Normal(part) => Some(part.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect();
    let mut folder = real_root.to_path_buf();
    let folders = if is_dir {
        parts.len()
    } else {
        parts.len().saturating_sub(1)
    };
    for part in &parts[..folders] {
        folder.push(part);
        if let Some(exclusion) = classify_dir(part, &folder) {
            return Some(exclusion);
        }
    }
    if is_dir {
        return None;
    }
    let name = parts.last()?;
    let parent = folders.checked_sub(1).map(|i| parts[i].as_str());
    classify_file(parent, name)
}

/// What the start of a file (at most [`CONTENT_PREFIX`] bytes) shows it holds, if a secret;
/// `name` is the file's name (the JSON rule applies to `.json` files only).
pub fn classify_content(name: &str, prefix: &[u8]) -> Option<&'static str> {
    let prefix = &prefix[..prefix.len().min(CONTENT_PREFIX)];
    if prefix.starts_with(b"PuTTY-User-Key-File-") {
        return Some("a PuTTY private key");
    }
    for line in prefix.split(|&b| b == b'\n') {
        let line = line.trim_ascii();
        if is_private_key_header(line) {
            return Some("a private key (PEM header)");
        }
    }
    if has_aws_access_key_id(prefix) {
        return Some("an AWS access key id");
    }
    if name.to_ascii_lowercase().ends_with(".json") && has_json_private_key(prefix) {
        return Some("a service-account key (a `private_key` field)");
    }
    None
}

/// A folder holding `pyvenv.cfg` (venv, virtualenv, uv) or `conda-meta` (conda prefix).
pub fn is_virtual_env(path: &Path) -> bool {
    path.join("pyvenv.cfg").is_file() || path.join("conda-meta").is_dir()
}

fn is_env_file_name(lower: &str) -> bool {
    lower == ".env" || lower == ".envrc" || lower.starts_with(".env.")
}

fn is_ssh_key_name(lower: &str) -> bool {
    SSH_KEY_NAMES.iter().any(|key| {
        lower
            .strip_prefix(key)
            .is_some_and(|rest| SSH_KEY_SUFFIXES.contains(&rest))
    })
}

/// `-----BEGIN <words>PRIVATE KEY-----` or `-----BEGIN PGP PRIVATE KEY BLOCK-----`.
fn is_private_key_header(line: &[u8]) -> bool {
    let Some(rest) = line.strip_prefix(b"-----BEGIN ") else {
        return false;
    };
    let Some(label) = rest.strip_suffix(b"-----") else {
        return false;
    };
    label.len() <= 64
        && label.iter().all(|b| b.is_ascii_uppercase() || *b == b' ')
        && (label.ends_with(b"PRIVATE KEY") || label.ends_with(b"PRIVATE KEY BLOCK"))
}

fn has_aws_access_key_id(text: &[u8]) -> bool {
    const PREFIXES: &[&[u8]] = &[b"AKIA", b"ASIA", b"ABIA", b"ACCA"];
    const LEN: usize = 20;
    let standalone = |b: Option<&u8>| b.is_none_or(|b| !b.is_ascii_alphanumeric());
    (0..text.len().saturating_sub(LEN - 1)).any(|start| {
        let candidate = &text[start..start + LEN];
        PREFIXES.iter().any(|p| candidate.starts_with(p))
            && candidate[4..]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && !candidate.ends_with(b"EXAMPLE")
            && (start == 0 || standalone(text.get(start - 1)))
            && standalone(text.get(start + LEN))
    })
}

/// A `"private_key"` member: the key, optional spaces, a colon.
fn has_json_private_key(text: &[u8]) -> bool {
    const KEY: &[u8] = b"\"private_key\"";
    text.windows(KEY.len())
        .enumerate()
        .filter(|(_, window)| *window == KEY)
        .any(|(at, _)| {
            text[at + KEY.len()..]
                .iter()
                .find(|b| !b.is_ascii_whitespace())
                == Some(&b':')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn is_secret(name: &str) -> bool {
        matches!(classify_file(None, name), Some(Exclusion::Secret(_)))
    }

    #[test]
    fn environment_files_and_keys_are_secrets() {
        for name in [
            ".env",
            ".env.local",
            ".ENV.Production",
            ".envrc",
            "id_rsa",
            "id_rsa.pub",
            "ID_ED25519",
            "id_ed25519_sk",
            "id_ecdsa-cert.pub",
            "id_rsa.bak",
            "server.pem",
            "TLS.KEY",
            "cert.p12",
            "cert.pfx",
            "store.jks",
            ".netrc",
            "_netrc",
            ".pypirc",
            ".npmrc",
            ".pgpass",
            ".git-credentials",
            "credentials.json",
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
            ".environment.py",
            "keys.py",
            "data.json",
            "my.env.py",
            ".gitignore",
            "monkey.txt",
            "id_rsa_utils.py",
            "id_rsa.py",
            "id_ed25519_helpers.py",
            "config.json",
            "config",
            "keyboard.py",
        ] {
            assert_eq!(classify_file(None, name), None, "{name} should be kept");
        }
    }

    #[test]
    fn docker_and_kube_configs_are_secrets_only_in_their_folders() {
        assert!(matches!(
            classify_file(Some(".docker"), "config.json"),
            Some(Exclusion::Secret(_))
        ));
        assert!(matches!(
            classify_file(Some(".KUBE"), "config"),
            Some(Exclusion::Secret(_))
        ));
        assert_eq!(classify_file(Some("settings"), "config.json"), None);
        assert_eq!(classify_file(Some("pkg"), "config"), None);
    }

    #[test]
    fn a_target_path_is_judged_by_every_folder_and_its_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let secret = |rel: &str, is_dir| {
            matches!(
                classify_path(root, Path::new(rel), is_dir),
                Some(Exclusion::Secret(_))
            )
        };
        assert!(secret(".env", false));
        assert!(secret("deploy/id_ed25519", false));
        assert!(secret(".aws", true));
        assert!(secret(".aws/credentials", false));
        assert!(secret("a/.ssh/config", false));
        assert!(secret("home/.docker/config.json", false));
        assert!(!secret("pkg/settings.txt", false));
        assert!(!secret("pkg", true));
        assert_eq!(
            classify_path(root, Path::new(".git/config"), false),
            Some(Exclusion::Noise)
        );
    }

    #[test]
    fn private_key_headers_are_found_whatever_the_kind() {
        for header in [
            "-----BEGIN RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "-----BEGIN ENCRYPTED PRIVATE KEY-----",
            "-----BEGIN EC PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----",
            "-----BEGIN PGP PRIVATE KEY BLOCK-----",
        ] {
            let text = format!("# notes\nKEY = '''\n    {header}\nMIIEow\n'''\n");
            assert!(
                classify_content("notes.py", text.as_bytes()).is_some(),
                "{header}"
            );
        }
        // Code that only names the header, and public material, are not keys.
        for text in [
            "if line.startswith(\"-----BEGIN RSA PRIVATE KEY-----\"):\n",
            "-----BEGIN CERTIFICATE-----\nMIIB\n",
            "-----BEGIN PUBLIC KEY-----\n",
        ] {
            assert_eq!(classify_content("x.py", text.as_bytes()), None, "{text}");
        }
    }

    #[test]
    fn aws_key_ids_must_stand_alone_and_the_placeholder_is_not_one() {
        let found = |text: &str| classify_content("x.py", text.as_bytes()).is_some();
        assert!(found("KEY = 'AKIAQWERTYUIOPASDFGH'\n"));
        assert!(found("ASIAQWERTYUIOPASDFGH"));
        assert!(!found("KEY = 'AKIAIOSFODNN7EXAMPLE'\n"));
        assert!(!found("XAKIAQWERTYUIOPASDFGH"));
        assert!(!found("AKIAQWERTYUIOPASDFGHJ"));
        assert!(!found("akiaqwertyuiopasdfgh"));
    }

    #[test]
    fn a_json_private_key_field_counts_in_json_files_only() {
        let text = br#"{"type": "service_account", "private_key" : "x"}"#;
        assert!(classify_content("sa-prod.json", text).is_some());
        assert!(classify_content("client.py", text).is_none());
        assert!(classify_content("a.json", br#"{"private_key_id_hint": 1}"#).is_none());
    }

    #[test]
    fn only_the_prefix_is_looked_at() {
        let mut text = vec![b' '; CONTENT_PREFIX];
        text.extend_from_slice(b"\n-----BEGIN RSA PRIVATE KEY-----\n");
        assert_eq!(classify_content("x.txt", &text), None);
    }

    #[test]
    fn bytecode_is_noise_not_a_secret() {
        assert_eq!(
            classify_file(None, "mod.cpython-312.pyc"),
            Some(Exclusion::Noise)
        );
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
