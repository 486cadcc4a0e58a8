//! One `*.dist-info` folder (<https://packaging.python.org/en/latest/specifications/recording-installed-packages/>)
//! read into a [`Distribution`] whose kind, modules and editable roots are filled in later.
//!
//! Read: METADATA (Name, Version, Requires-Dist, Requires-Python, Provides-Extra), RECORD,
//! INSTALLER, direct_url.json, top_level.txt, entry_points.txt. Every problem is a
//! diagnostic naming the folder, and what can be read still is:
//! - METADATA missing, or without Name or Version: the folder name (`Foo_Bar-1.0.dist-info`)
//!   supplies them (uv reads name and version from it too).
//! - RECORD missing or empty: the distribution has no files (so owns no module).
//! - Unreadable files (permissions, not a file) are diagnostics too.

use std::path::Path;

use super::direct_url::DirectUrl;
use super::metadata::{self, CoreMetadata};
use super::record::{self, Placement};
use super::{DistKind, Distribution, MetadataFormat};
use crate::diagnostic::{Code, Diagnostic};
use crate::fsread::{self, cap};
use crate::names::PackageName;

pub const METADATA_MISSING: Code = Code("metadata-missing");
pub const METADATA_FIELD_MISSING: Code = Code("metadata-field-missing");
pub const METADATA_NAME_INVALID: Code = Code("metadata-name-invalid");
pub const METADATA_UNREADABLE: Code = Code("metadata-unreadable");
pub const VERSION_INVALID: Code = Code("version-invalid");
pub const REQUIRES_PYTHON_INVALID: Code = Code("requires-python-invalid");
pub const RECORD_MISSING: Code = Code("record-missing");
pub const RECORD_EMPTY: Code = Code("record-empty");

/// Reads a file of the metadata folder: `Ok(None)` when absent, a diagnostic when unreadable,
/// not a regular file (a FIFO, a link to `/dev/zero`) or over [`cap::METADATA`].
pub(super) fn read_optional(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    match fsread::read_lossy_capped(path, cap::METADATA) {
        Ok(text) => Some(text),
        Err(err) if err.is_not_found() => None,
        Err(err) => {
            diagnostics.push(
                Diagnostic::warning(METADATA_UNREADABLE, err.to_string())
                    .with_file(path.display().to_string()),
            );
            None
        }
    }
}

/// Reads a core-metadata file up to its first empty line: the headers. The long description
/// after it can be megabytes and is never needed. Headers past [`cap::METADATA`] are cut
/// there with a diagnostic (a file of one endless line cannot take the memory).
pub(super) fn read_headers(path: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<String> {
    use std::io::{BufRead, Read};
    let unreadable = |message: String, diagnostics: &mut Vec<Diagnostic>| {
        diagnostics.push(
            Diagnostic::warning(METADATA_UNREADABLE, message).with_file(path.display().to_string()),
        );
    };
    let file = match fsread::open_regular(path) {
        Ok((file, _)) => file,
        Err(err) if err.is_not_found() => return None,
        Err(err) => {
            unreadable(err.to_string(), diagnostics);
            return None;
        }
    };
    let mut reader = std::io::BufReader::with_capacity(8192, file.take(cap::METADATA + 1));
    let mut bytes = Vec::with_capacity(2048);
    loop {
        let start = bytes.len();
        match reader.read_until(b'\n', &mut bytes) {
            Ok(0) => break,
            Ok(_) if bytes.len() as u64 > cap::METADATA => {
                unreadable(
                    format!(
                        "{}: headers longer than {} bytes; the rest is not read",
                        path.display(),
                        cap::METADATA
                    ),
                    diagnostics,
                );
                bytes.truncate(start);
                break;
            }
            // Only a truly empty line ends the headers (a line of spaces continues a field);
            // metadata::headers finds the exact end, this only stops reading the body.
            Ok(_) if matches!(&bytes[start..], b"\n" | b"\r\n") => break,
            Ok(_) => {}
            Err(err) => {
                unreadable(
                    format!("cannot read {}: {err}", path.display()),
                    diagnostics,
                );
                break;
            }
        }
    }
    Some(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// `Foo_Bar-1.0.dist-info` → (`Foo_Bar`, `1.0`); a stem without `-` is all name.
pub(super) fn split_folder_name(stem: &str) -> (&str, Option<&str>) {
    match stem.split_once('-') {
        Some((name, version)) => (name, Some(version)),
        None => (stem, None),
    }
}

/// Name and version from METADATA, falling back to the folder name with a diagnostic.
pub(super) fn name_and_version(
    meta: &CoreMetadata,
    folder: &Path,
    stem: &str,
    has_file: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> (String, String) {
    let (folder_name, folder_version) = split_folder_name(stem);
    if let Some(name) = meta.name.as_deref().filter(|n| !PackageName::is_valid(n)) {
        // Ex) `Name: ../../etc`: never a path, a request or a file name in an output.
        diagnostics.push(
            Diagnostic::warning(
                METADATA_NAME_INVALID,
                format!(
                    "metadata Name {name:?} is not a valid project name; taken from the folder name"
                ),
            )
            .with_file(folder.display().to_string()),
        );
    }
    let mut missing = |field: &str| {
        // Without a metadata file at all, `metadata-missing` already said it.
        if !has_file {
            return;
        }
        diagnostics.push(
            Diagnostic::warning(
                METADATA_FIELD_MISSING,
                format!("metadata has no {field}; taken from the folder name"),
            )
            .with_file(folder.display().to_string()),
        );
    };
    let name = match &meta.name {
        Some(name) if PackageName::is_valid(name) => name.clone(),
        Some(_) => folder_name.to_string(),
        None => {
            missing("Name");
            folder_name.to_string()
        }
    };
    let version = meta.version.clone().unwrap_or_else(|| {
        missing("Version");
        folder_version.unwrap_or_default().to_string()
    });
    (name, version)
}

/// An empty distribution with its identity and core metadata filled in.
pub(super) fn from_core_metadata(
    meta: CoreMetadata,
    name: String,
    version: String,
    format: MetadataFormat,
    folder: &Path,
    site_packages: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Distribution {
    let parsed_version = if version.is_empty() {
        None
    } else {
        metadata::parse_version(&version, folder, VERSION_INVALID, diagnostics)
    };
    if let Some(spec) = &meta.requires_python
        && let Err(err) = super::pep508::parse_guarded::<pep440_rs::VersionSpecifiers>(spec)
    {
        diagnostics.push(
            Diagnostic::warning(
                REQUIRES_PYTHON_INVALID,
                format!("Requires-Python {spec:?} does not parse: {err}"),
            )
            .with_file(folder.display().to_string()),
        );
    }
    Distribution {
        name: PackageName::new(&name),
        display_name: name,
        version,
        parsed_version,
        kind: DistKind::Unknown,
        installer: None,
        format,
        metadata_dir: folder.to_path_buf(),
        site_packages: site_packages.to_path_buf(),
        requires_dist: metadata::parse_requires_dist(meta.requires_dist, folder, diagnostics),
        requires_python: meta.requires_python,
        provides_extra: meta.provides_extra,
        direct_url: None,
        top_level: Vec::new(),
        entry_points: Vec::new(),
        modules: Vec::new(),
        files: Default::default(),
        external_files: Vec::new(),
        editable_roots: Vec::new(),
        conda: None,
        has_compiled_modules: false,
    }
}

/// Reads one `*.dist-info` folder in `site_packages` of an environment rooted at `prefix`.
pub fn read(
    folder: &Path,
    site_packages: &Path,
    prefix: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Distribution {
    let stem = folder
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(|n| n.strip_suffix(".dist-info"))
        .unwrap_or_default()
        .to_string();
    let text = read_headers(&folder.join("METADATA"), diagnostics);
    let has_file = text.is_some();
    let meta = match text {
        Some(text) => CoreMetadata::parse(&text),
        None => {
            diagnostics.push(
                Diagnostic::error(METADATA_MISSING, "no METADATA file")
                    .with_file(folder.display().to_string()),
            );
            CoreMetadata::default()
        }
    };
    let (name, version) = name_and_version(&meta, folder, &stem, has_file, diagnostics);
    let mut dist = from_core_metadata(
        meta,
        name,
        version,
        MetadataFormat::DistInfo,
        folder,
        site_packages,
        diagnostics,
    );
    dist.installer = read_optional(&folder.join("INSTALLER"), diagnostics)
        .and_then(|t| t.lines().next().map(|l| l.trim().to_string()))
        .filter(|l| !l.is_empty());
    let direct_url_path = folder.join("direct_url.json");
    dist.direct_url = read_optional(&direct_url_path, diagnostics)
        .and_then(|text| DirectUrl::parse(&text, &direct_url_path, diagnostics));
    dist.top_level = read_optional(&folder.join("top_level.txt"), diagnostics)
        .map(|t| top_level_lines(&t))
        .unwrap_or_default();
    dist.entry_points = read_optional(&folder.join("entry_points.txt"), diagnostics)
        .map(|t| super::entry_points::parse(&t))
        .unwrap_or_default();
    let record_path = folder.join("RECORD");
    match read_optional(&record_path, diagnostics) {
        None => diagnostics.push(
            Diagnostic::warning(RECORD_MISSING, "no RECORD file; its files cannot be owned")
                .with_file(folder.display().to_string()),
        ),
        Some(text) if text.trim().is_empty() => diagnostics.push(
            Diagnostic::warning(RECORD_EMPTY, "RECORD is empty; its files cannot be owned")
                .with_file(folder.display().to_string()),
        ),
        Some(text) => {
            let entries = record::parse(&text, &record_path, diagnostics);
            place_entries(
                &mut dist,
                &entries,
                site_packages,
                site_packages,
                prefix,
                &record_path,
                diagnostics,
            );
        }
    }
    dist
}

/// Resolves RECORD (or installed-files.txt) entries into the distribution's file lists.
pub(super) fn place_entries(
    dist: &mut Distribution,
    entries: &[record::RecordEntry<'_>],
    base: &Path,
    site_packages: &Path,
    prefix: &Path,
    record_path: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) {
    let mut files = std::mem::take(&mut dist.files).to_vec();
    for entry in entries {
        match record::place(&entry.path, base, site_packages, prefix) {
            Ok(Placement::Inside(path)) => files.push(path),
            Ok(Placement::External(path)) => dist.external_files.push(path),
            Err(refusal) => {
                diagnostics.push(record::refusal_diagnostic(refusal, entry, record_path));
            }
        }
    }
    // Byte order: comparing paths component by component is several times slower.
    files.sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    files.dedup();
    dist.files = files.into();
    dist.external_files
        .sort_by(|a, b| a.as_os_str().cmp(b.as_os_str()));
    dist.external_files.dedup();
}

pub(super) fn top_level_lines(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    names.sort();
    names.dedup();
    names
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reproduces issue 8 through the file reader: it stopped at matplotlib's first License
    /// line holding only spaces, so `envscan env` showed `requires_dist: []`.
    #[test]
    fn a_real_matplotlib_dist_info_keeps_its_requires_dist() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("matplotlib-3.11.2.dist-info");
        fs_err::create_dir_all(&folder).unwrap();
        fs_err::copy(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("fixtures/metadata-real-wheels/matplotlib-3.11.2.METADATA"),
            folder.join("METADATA"),
        )
        .unwrap();
        let dist = read(&folder, dir.path(), dir.path(), &mut Vec::new());
        let names: Vec<String> = dist
            .requires_dist
            .iter()
            .filter_map(|r| r.parsed().map(|p| p.name.to_string()))
            .collect();
        assert_eq!(
            names,
            [
                "contourpy",
                "cycler",
                "fonttools",
                "kiwisolver",
                "numpy",
                "packaging",
                "pillow",
                "pyparsing",
                "python-dateutil"
            ]
        );
    }

    #[test]
    fn metadata_without_version_falls_back_to_the_folder_name() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("Foo_Bar-2.0.dist-info");
        fs_err::create_dir_all(&folder).unwrap();
        fs_err::write(
            folder.join("METADATA"),
            "Metadata-Version: 2.1\nName: Foo_Bar\n",
        )
        .unwrap();
        fs_err::write(folder.join("RECORD"), "foo_bar.py,,\n").unwrap();
        let mut diags = Vec::new();
        let dist = read(&folder, dir.path(), dir.path(), &mut diags);
        assert_eq!(dist.name.as_str(), "foo-bar");
        assert_eq!(dist.version, "2.0");
        assert_eq!(*dist.files, [dir.path().join("foo_bar.py")]);
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, METADATA_FIELD_MISSING);
    }

    #[test]
    fn missing_record_is_a_diagnostic_and_the_distribution_remains() {
        let dir = tempfile::tempdir().unwrap();
        let folder = dir.path().join("x-1.dist-info");
        fs_err::create_dir_all(&folder).unwrap();
        fs_err::write(folder.join("METADATA"), "Name: x\nVersion: 1\n").unwrap();
        let mut diags = Vec::new();
        let dist = read(&folder, dir.path(), dir.path(), &mut diags);
        assert_eq!(dist.version, "1");
        assert!(dist.files.is_empty());
        assert_eq!(diags[0].code, RECORD_MISSING);
    }
}
