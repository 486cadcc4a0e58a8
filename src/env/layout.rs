//! Where a prefix keeps its standard library and site-packages, per platform and distro.
//!
//! Layouts, in the order `site.py` adds them:
//! - POSIX: `lib/pythonX.Y/site-packages`, then `lib64/pythonX.Y/site-packages` (Fedora's
//!   platlibdir; a venv's `lib64` is a symlink to `lib`, so folders are compared canonically).
//! - Debian: `local/lib/pythonX.Y/dist-packages`, `lib/python3/dist-packages`,
//!   `lib/pythonX.Y/dist-packages`.
//! - PyPy: `lib/pypyX.Y/site-packages`.
//! - Windows: `Lib/site-packages`; the stdlib is `Lib`, compiled modules are in `DLLs`.
//!
//! The standard library lives in the *base* prefix (`lib/pythonX.Y`, with `lib-dynload`
//! inside it); its folder name is also the last resort for the Python version.

use std::path::{Path, PathBuf};

/// A `lib/python3.11` or `lib/pypy3.10` folder: implementation and version from its name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LibFolder {
    pub implementation: &'static str,
    pub major: u8,
    pub minor: u8,
    /// `python3.11`.
    pub dirname: String,
}

/// Parses `python3.11` / `pypy3.10`.
pub fn parse_lib_dirname(name: &str) -> Option<LibFolder> {
    let (implementation, rest) = if let Some(rest) = name.strip_prefix("python") {
        ("cpython", rest)
    } else if let Some(rest) = name.strip_prefix("pypy") {
        ("pypy", rest)
    } else {
        return None;
    };
    // Free-threaded builds use `python3.13t`.
    let rest = rest.strip_suffix('t').unwrap_or(rest);
    let (major, minor) = rest.split_once('.')?;
    Some(LibFolder {
        implementation,
        major: major.parse().ok()?,
        minor: minor.parse().ok()?,
        dirname: name.to_string(),
    })
}

/// The `lib/pythonX.Y` folders of a prefix (`lib` and `lib64`), highest version first.
pub fn lib_folders(prefix: &Path) -> Vec<LibFolder> {
    let mut found: Vec<LibFolder> = Vec::new();
    for lib in ["lib", "lib64"] {
        let Ok(entries) = fs_err::read_dir(prefix.join(lib)) else {
            continue;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            if let Some(folder) = name.to_str().and_then(parse_lib_dirname)
                && entry.path().is_dir()
                && !found.contains(&folder)
            {
                found.push(folder);
            }
        }
    }
    found.sort_by(|a, b| (b.major, b.minor, &b.dirname).cmp(&(a.major, a.minor, &a.dirname)));
    found
}

/// The name of the lib folder for an implementation and version.
pub fn lib_dirname(implementation: &str, major: u8, minor: u8) -> String {
    if implementation == "pypy" {
        format!("pypy{major}.{minor}")
    } else {
        format!("python{major}.{minor}")
    }
}

/// The standard library and its compiled-module folder under a base prefix, when they exist.
pub fn stdlib_folders(base_prefix: &Path, lib_dir: &str) -> (Option<PathBuf>, Option<PathBuf>) {
    for lib in ["lib", "lib64"] {
        let stdlib = base_prefix.join(lib).join(lib_dir);
        if stdlib.is_dir() {
            let dynload = stdlib.join("lib-dynload");
            return (Some(stdlib), dynload.is_dir().then_some(dynload));
        }
    }
    // Windows.
    let stdlib = base_prefix.join("Lib");
    if stdlib.join("os.py").is_file() {
        let dlls = base_prefix.join("DLLs");
        return (Some(stdlib), dlls.is_dir().then_some(dlls));
    }
    (None, None)
}

/// The site-packages folders of a prefix that exist, in `site.py`'s order, canonical and
/// without duplicates.
pub fn site_packages_folders(prefix: &Path, lib_dir: &str) -> Vec<PathBuf> {
    let candidates = [
        prefix.join("lib").join(lib_dir).join("site-packages"),
        prefix.join("lib64").join(lib_dir).join("site-packages"),
        prefix.join("local/lib").join(lib_dir).join("dist-packages"),
        prefix.join("lib/python3/dist-packages"),
        prefix.join("lib").join(lib_dir).join("dist-packages"),
        prefix.join("Lib").join("site-packages"),
    ];
    let mut out: Vec<PathBuf> = Vec::new();
    for candidate in candidates {
        if !candidate.is_dir() {
            continue;
        }
        let canonical = fs_err::canonicalize(&candidate).unwrap_or(candidate);
        if !out.contains(&canonical) {
            out.push(canonical);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lib_folder_names_give_implementation_and_version() {
        let folder = parse_lib_dirname("python3.11").unwrap();
        assert_eq!(
            (folder.implementation, folder.major, folder.minor),
            ("cpython", 3, 11)
        );
        let folder = parse_lib_dirname("pypy3.10").unwrap();
        assert_eq!((folder.implementation, folder.minor), ("pypy", 10));
        assert_eq!(parse_lib_dirname("python3.13t").unwrap().minor, 13);
        assert!(parse_lib_dirname("python3").is_none());
        assert!(parse_lib_dirname("pkgconfig").is_none());
    }

    #[test]
    fn lib64_symlink_to_lib_gives_one_site_packages() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("lib/python3.11/site-packages")).unwrap();
        #[cfg(unix)]
        std::os::unix::fs::symlink("lib", dir.path().join("lib64")).unwrap();
        let found = site_packages_folders(dir.path(), "python3.11");
        assert_eq!(found.len(), 1);
    }

    #[test]
    fn debian_dist_packages_are_found_in_site_order() {
        let dir = tempfile::tempdir().unwrap();
        for sub in [
            "lib/python3/dist-packages",
            "local/lib/python3.11/dist-packages",
        ] {
            fs_err::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let found = site_packages_folders(dir.path(), "python3.11");
        assert!(found[0].ends_with("local/lib/python3.11/dist-packages"));
        assert!(found[1].ends_with("lib/python3/dist-packages"));
    }
}
