//! Pure-Python wheels of local distributions, written by envscan itself: no build backend, no
//! `setup.py`, nothing of the project is run.
//!
//! Follows the binary distribution format
//! (<https://packaging.python.org/en/latest/specifications/binary-distribution-format/>) and
//! the recording of installed files
//! (<https://packaging.python.org/en/latest/specifications/recording-installed-packages/>):
//! - the file is `{name}-{version}-py3-none-any.whl`, the name lower-cased with every run of
//!   `-_.` as `_` (a PEP 503 name with `-` as `_`), the version in its PEP 440 normal form;
//! - `{name}-{version}.dist-info/` holds what the caller gives (METADATA, entry points,
//!   licenses...), then `WHEEL` (`Root-Is-Purelib: true`, `Tag: py3-none-any`) and `RECORD`,
//!   every file with `sha256=` (urlsafe base64 without padding) and its size, RECORD itself
//!   with empty fields.
//!
//! Deterministic: the same files give the same bytes. The code's entries come first, sorted by
//! path bytes, then the `.dist-info` files sorted, RECORD last (the spec asks archivers to put
//! the metadata at the end); every entry has the timestamp 1980-01-02T00:00:00 (the same instant
//! as the tar archives' mtime, see [`super::archive`]; ZIP cannot store dates before 1980),
//! mode 0o644, deflate level 6, and no extra fields. `Generator` names envscan without its
//! version, so an upgrade of envscan alone does not change an artifact and the image cache.

use std::io::{Cursor, Write};

use base64::Engine as _;
use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use crate::names::PackageName;

/// Fixed so the bytes do not change with a library default.
const DEFLATE_LEVEL: i64 = 6;

/// Why a wheel could not be written.
#[derive(Debug, thiserror::Error)]
pub enum WheelError {
    #[error("version {0:?} is not a PEP 440 version, so no wheel can be named for it")]
    Version(String),
    #[error("`{0}` cannot be stored in a wheel (not a clean relative path)")]
    Path(String),
    #[error("`{0}` is in the wheel twice")]
    Duplicate(String),
    #[error("cannot write the wheel: {0}")]
    Zip(#[from] zip::result::ZipError),
    #[error("cannot write the wheel: {0}")]
    Io(#[from] std::io::Error),
}

/// A wheel in memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wheel {
    /// `{name}-{version}-py3-none-any.whl`.
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Lower-case hex sha256 of `bytes`.
    pub sha256: String,
    /// Every path stored, in the order written (RECORD last).
    pub files: Vec<String>,
}

impl Wheel {
    pub fn size(&self) -> u64 {
        self.bytes.len() as u64
    }
}

/// `(name, version)` as a wheel's file name and `.dist-info` folder spell them.
pub fn escaped_name_and_version(
    name: &PackageName,
    version: &str,
) -> Result<(String, String), WheelError> {
    let parsed: pep440_rs::Version = version
        .trim()
        .parse()
        .map_err(|_| WheelError::Version(version.to_string()))?;
    Ok((
        name.as_str().replace('-', "_"),
        parsed.to_string().replace('-', "_"),
    ))
}

/// `{name}-{version}-py3-none-any.whl`.
pub fn file_name(name: &PackageName, version: &str) -> Result<String, WheelError> {
    let (name, version) = escaped_name_and_version(name, version)?;
    Ok(format!("{name}-{version}-py3-none-any.whl"))
}

/// Writes the wheel of `name` `version`: `files` are the importable code and its data, by
/// path relative to site-packages (`pkg/__init__.py`); `metadata` the files of the
/// `.dist-info` folder by path inside it (`METADATA`, `licenses/LICENSE`). `WHEEL` and
/// `RECORD` are made here; given ones are replaced.
pub fn write(
    name: &PackageName,
    version: &str,
    mut files: Vec<(String, Vec<u8>)>,
    mut metadata: Vec<(String, Vec<u8>)>,
) -> Result<Wheel, WheelError> {
    let (escaped, escaped_version) = escaped_name_and_version(name, version)?;
    let dist_info = format!("{escaped}-{escaped_version}.dist-info");
    files.sort_by(|a, b| a.0.cmp(&b.0));
    metadata.retain(|(path, _)| path != "WHEEL" && path != "RECORD");
    metadata.push(("WHEEL".to_string(), wheel_file().into_bytes()));
    metadata.sort_by(|a, b| a.0.cmp(&b.0));
    let mut entries: Vec<(String, Vec<u8>)> = Vec::with_capacity(files.len() + metadata.len());
    for (path, data) in files {
        check_path(&path)?;
        if path.split('/').next() == Some(dist_info.as_str()) {
            return Err(WheelError::Duplicate(path));
        }
        entries.push((path, data));
    }
    for (path, data) in metadata {
        check_path(&path)?;
        entries.push((format!("{dist_info}/{path}"), data));
    }
    for pair in entries.windows(2) {
        if pair[0].0 == pair[1].0 {
            return Err(WheelError::Duplicate(pair[0].0.clone()));
        }
    }
    let record_path = format!("{dist_info}/RECORD");
    let record = record(&entries, &record_path);
    entries.push((record_path, record.into_bytes()));

    let options = SimpleFileOptions::default()
        .compression_method(CompressionMethod::Deflated)
        .compression_level(Some(DEFLATE_LEVEL))
        .last_modified_time(fixed_time())
        .unix_permissions(0o644);
    let mut zip = ZipWriter::new(Cursor::new(Vec::new()));
    let mut stored = Vec::with_capacity(entries.len());
    for (path, data) in entries {
        zip.start_file(path.as_str(), options)?;
        zip.write_all(&data)?;
        stored.push(path);
    }
    let bytes = zip.finish()?.into_inner();
    Ok(Wheel {
        file_name: format!("{escaped}-{escaped_version}-py3-none-any.whl"),
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
        files: stored,
    })
}

fn wheel_file() -> String {
    "Wheel-Version: 1.0\nGenerator: envscan\nRoot-Is-Purelib: true\nTag: py3-none-any\n".to_string()
}

/// 1980-01-02T00:00:00, the archives' [`super::archive::ARCHIVE_MTIME`].
fn fixed_time() -> DateTime {
    DateTime::from_date_and_time(1980, 1, 2, 0, 0, 0).unwrap_or_default()
}

/// RECORD's CSV: `path,sha256=<urlsafe base64, no padding>,size`, RECORD itself last and empty.
fn record(entries: &[(String, Vec<u8>)], record_path: &str) -> String {
    let mut out = String::new();
    for (path, data) in entries {
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(data));
        out.push_str(&csv_field(path));
        out.push_str(&format!(",sha256={digest},{}\n", data.len()));
    }
    out.push_str(&csv_field(record_path));
    out.push_str(",,\n");
    out
}

/// A CSV field as Python's `csv` module writes it: quoted when it holds `,`, `"` or a newline.
fn csv_field(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_string()
    }
}

/// A path inside a wheel: relative, forward slashes, no empty, `.` or `..` part, no control
/// characters (names reach this only after the archive walker refused unsafe ones).
fn check_path(path: &str) -> Result<(), WheelError> {
    let bad = path.is_empty()
        || path.starts_with('/')
        || path.contains('\\')
        || path.chars().any(char::is_control)
        || path
            .split('/')
            .any(|part| part.is_empty() || part == "." || part == "..");
    if bad {
        return Err(WheelError::Path(path.to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::io::Read;

    use super::*;

    fn demo(files: &[(&str, &str)]) -> Wheel {
        write(
            &PackageName::new("My.Demo_pkg"),
            "1.0.0-rc1",
            files
                .iter()
                .map(|(p, d)| (p.to_string(), d.as_bytes().to_vec()))
                .collect(),
            vec![(
                "METADATA".to_string(),
                b"Metadata-Version: 2.1\nName: My.Demo_pkg\nVersion: 1.0.0rc1\n".to_vec(),
            )],
        )
        .unwrap()
    }

    fn read(wheel: &Wheel) -> Vec<(String, u32, zip::DateTime, Vec<u8>)> {
        let mut archive = zip::ZipArchive::new(Cursor::new(&wheel.bytes)).unwrap();
        (0..archive.len())
            .map(|i| {
                let mut file = archive.by_index(i).unwrap();
                let mut data = Vec::new();
                file.read_to_end(&mut data).unwrap();
                (
                    file.name().unwrap().to_string(),
                    file.unix_mode().unwrap(),
                    file.last_modified().unwrap(),
                    data,
                )
            })
            .collect()
    }

    #[test]
    fn the_name_and_version_are_normalised_as_the_wheel_spec_says() {
        let wheel = demo(&[("my_demo/__init__.py", "")]);
        assert_eq!(wheel.file_name, "my_demo_pkg-1.0.0rc1-py3-none-any.whl");
        assert_eq!(
            wheel.files,
            [
                "my_demo/__init__.py",
                "my_demo_pkg-1.0.0rc1.dist-info/METADATA",
                "my_demo_pkg-1.0.0rc1.dist-info/WHEEL",
                "my_demo_pkg-1.0.0rc1.dist-info/RECORD",
            ]
        );
    }

    #[test]
    fn entries_are_sorted_with_fixed_times_and_modes_whatever_order_they_come_in() {
        let one = demo(&[("b.py", "b"), ("a/__init__.py", "a")]);
        let two = demo(&[("a/__init__.py", "a"), ("b.py", "b")]);
        assert_eq!(one.bytes, two.bytes);
        assert_eq!(one.sha256, two.sha256);
        for (name, mode, time, _) in read(&one) {
            assert_eq!(mode & 0o777, 0o644, "{name}");
            assert_eq!(
                (time.year(), time.month(), time.day(), time.hour()),
                (1980, 1, 2, 0)
            );
        }
        assert_ne!(
            one.bytes,
            demo(&[("a/__init__.py", "A"), ("b.py", "b")]).bytes
        );
    }

    #[test]
    fn record_lists_every_file_with_its_digest_and_size_and_itself_empty() {
        let wheel = demo(&[("m.py", "print('hi')\n")]);
        let entries = read(&wheel);
        let (_, _, _, record) = entries.last().unwrap();
        let record = String::from_utf8(record.clone()).unwrap();
        let lines: Vec<&str> = record.lines().collect();
        assert_eq!(lines.len(), 4, "{record}");
        // sha256 of "print('hi')\n", urlsafe base64 without padding.
        let digest = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(Sha256::digest(b"print('hi')\n"));
        assert_eq!(lines[0], format!("m.py,sha256={digest},12"));
        assert_eq!(lines[3], "my_demo_pkg-1.0.0rc1.dist-info/RECORD,,");
        let wheel_text = String::from_utf8(entries[2].3.clone()).unwrap();
        assert!(wheel_text.contains("Root-Is-Purelib: true\nTag: py3-none-any\n"));
    }

    #[test]
    fn unsafe_or_duplicate_paths_and_bad_versions_are_refused() {
        let name = PackageName::new("x");
        let one = |p: &str| vec![(p.to_string(), Vec::new())];
        for bad in ["../x.py", "/x.py", "a//b.py", "a/./b.py", "a\\b.py"] {
            assert!(
                matches!(
                    write(&name, "1", one(bad), Vec::new()),
                    Err(WheelError::Path(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            write(&name, "1", one("x-1.dist-info/METADATA"), Vec::new()),
            Err(WheelError::Duplicate(_))
        ));
        assert!(matches!(
            write(&name, "not a version", Vec::new(), Vec::new()),
            Err(WheelError::Version(_))
        ));
    }

    #[test]
    fn commas_in_a_path_are_quoted_in_record() {
        assert_eq!(csv_field("a,b.txt"), "\"a,b.txt\"");
        assert_eq!(csv_field("a\"b"), "\"a\"\"b\"");
        assert_eq!(csv_field("plain/x.py"), "plain/x.py");
    }
}
