//! Legacy setuptools metadata: `*.egg-info` folders (or distutils' single `*.egg-info` file)
//! and `*.egg` folders with an `EGG-INFO` inside.
//!
//! - `PKG-INFO` is core metadata, as METADATA.
//! - `installed-files.txt` lists files relative to the egg-info folder (not to
//!   site-packages), one per line; it is absent for `setup.py develop` installs.
//! - `requires.txt` holds requirements when PKG-INFO has no `Requires-Dist`: plain lines, then
//!   `[extra]`, `[:marker]` or `[extra:marker]` sections, turned into PEP 508 markers.
//! - The folder name is `name-version(-pyX.Y)?.egg-info`.

use std::path::Path;

use super::dist_info::{
    METADATA_MISSING, from_core_metadata, name_and_version, place_entries, read_optional,
    split_folder_name, top_level_lines,
};
use super::metadata::CoreMetadata;
use super::record::RecordEntry;
use super::{Distribution, MetadataFormat};
use crate::diagnostic::Diagnostic;

/// Reads an `*.egg-info` folder or file, or an `*.egg` folder.
pub fn read(
    path: &Path,
    site_packages: &Path,
    prefix: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Distribution {
    let file_name = path
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    let stem = file_name
        .strip_suffix(".egg-info")
        .or_else(|| file_name.strip_suffix(".egg"))
        .unwrap_or(file_name);
    // `foo-1.0-py3.11` → `foo-1.0`.
    let stem = match split_folder_name(stem) {
        (name, Some(version)) => {
            let version = version.split('-').next().unwrap_or(version);
            format!("{name}-{version}")
        }
        (name, None) => name.to_string(),
    };
    let info_dir = if path.extension().is_some_and(|e| e == "egg") {
        path.join("EGG-INFO")
    } else {
        path.to_path_buf()
    };
    let pkg_info = if info_dir.is_dir() {
        info_dir.join("PKG-INFO")
    } else {
        info_dir.clone()
    };
    let text = super::dist_info::read_headers(&pkg_info, diagnostics);
    let has_file = text.is_some();
    let mut meta = match text {
        Some(text) => CoreMetadata::parse(&text),
        None => {
            diagnostics.push(
                Diagnostic::error(METADATA_MISSING, "no PKG-INFO file")
                    .with_file(path.display().to_string()),
            );
            CoreMetadata::default()
        }
    };
    if info_dir.is_dir()
        && meta.requires_dist.is_empty()
        && let Some(text) = read_optional(&info_dir.join("requires.txt"), diagnostics)
    {
        meta.requires_dist = requires_txt(&text);
    }
    let (name, version) = name_and_version(&meta, path, &stem, has_file, diagnostics);
    let mut dist = from_core_metadata(
        meta,
        name,
        version,
        MetadataFormat::EggInfo,
        path,
        site_packages,
        diagnostics,
    );
    if !info_dir.is_dir() {
        return dist;
    }
    dist.top_level = read_optional(&info_dir.join("top_level.txt"), diagnostics)
        .map(|t| top_level_lines(&t))
        .unwrap_or_default();
    dist.entry_points = read_optional(&info_dir.join("entry_points.txt"), diagnostics)
        .map(|t| super::entry_points::parse(&t))
        .unwrap_or_default();
    let list = info_dir.join("installed-files.txt");
    if let Some(text) = read_optional(&list, diagnostics) {
        let entries: Vec<RecordEntry> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| RecordEntry {
                path: std::borrow::Cow::Borrowed(l.trim_end()),
                has_hash: false,
                size: None,
                line: i as u32 + 1,
            })
            .collect();
        place_entries(
            &mut dist,
            &entries,
            &info_dir,
            site_packages,
            prefix,
            &list,
            diagnostics,
        );
    }
    dist
}

/// `requires.txt` → PEP 508 requirement strings, as importlib.metadata's `Distribution.requires`
/// makes them (except `#` comments, skipped here, which importlib returns as if requirements).
pub fn requires_txt(text: &str) -> Vec<String> {
    let mut marker: Option<String> = None;
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            let section = line.trim_matches(['[', ']']);
            let (extra, condition) = section.split_once(':').unwrap_or((section, ""));
            marker = match (extra.is_empty(), condition.is_empty()) {
                (true, true) => None,
                (true, false) => Some(condition.to_string()),
                (false, true) => Some(format!("extra == \"{extra}\"")),
                (false, false) => Some(format!("({condition}) and extra == \"{extra}\"")),
            };
            continue;
        }
        out.push(match &marker {
            // importlib puts a space before the `;` of a URL requirement, which would
            // otherwise end the URL.
            Some(marker) if line.contains('@') => format!("{line} ; {marker}"),
            Some(marker) => format!("{line}; {marker}"),
            None => line.to_string(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_txt_sections_become_markers() {
        let reqs = requires_txt(
            "a>=1\n\n[test]\npytest\n[:python_version < \"3.8\"]\nb\n[x:sys_platform == \"win32\"]\nc\n",
        );
        assert_eq!(
            reqs,
            [
                "a>=1",
                "pytest; extra == \"test\"",
                "b; python_version < \"3.8\"",
                "c; (sys_platform == \"win32\") and extra == \"x\"",
            ]
        );
    }

    /// The strings importlib.metadata's `Distribution.requires` gives for the same
    /// requires.txt (CPython 3.11.7).
    #[test]
    fn requires_txt_reads_as_importlib_reads_it() {
        let reqs = requires_txt("[dev]\npkg @ https://example.org/pkg.zip\n[[x]]\nc\n");
        assert_eq!(
            reqs,
            [
                "pkg @ https://example.org/pkg.zip ; extra == \"dev\"",
                "c; extra == \"x\"",
            ]
        );
    }

    #[test]
    fn installed_files_are_relative_to_the_egg_info_folder() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("old_pkg-0.3-py3.11.egg-info");
        fs_err::create_dir_all(&folder).unwrap();
        fs_err::write(folder.join("PKG-INFO"), "Name: old-pkg\nVersion: 0.3\n").unwrap();
        fs_err::write(
            folder.join("installed-files.txt"),
            "../old_pkg/__init__.py\nPKG-INFO\n",
        )
        .unwrap();
        let dist = read(&folder, dir.path(), dir.path(), &mut Vec::new());
        assert_eq!(dist.version, "0.3");
        assert!(dist.files.contains(&dir.path().join("old_pkg/__init__.py")));
    }
}
