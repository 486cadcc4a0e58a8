//! Deterministic, content-addressed tar.gz archives of local code, and their manifest.
//!
//! An archive holds the files under each requested member (a package folder or a module file,
//! relative to the source root), package data included, named in the archive by their path
//! relative to the source root with forward slashes. Packing the same tree twice gives the same
//! bytes, whatever the files' mtimes, owners, umask or permission bits other than `x`:
//! - entries are regular files only, sorted by path bytes; folders have no entries of their own
//!   (every extractor creates them), so an empty folder does not travel;
//! - each header is POSIX ustar with uid/gid 0, empty user and group names, mode `0o755` when
//!   any execute bit is set and `0o644` otherwise, and mtime [`ARCHIVE_MTIME`]; a path too long
//!   for ustar's name and prefix fields gets a PAX `path` record (pax header with the same
//!   fixed fields, so no header in the stream carries mtime 0);
//! - gzip header mtime 0, no file name, OS byte 255 ("unknown"), compression level 6.
//!
//! The mtime is 1980-01-02T00:00:00Z = 3653 days × 86400 s = 315,619,200 s after the epoch.
//! Not 0: pip turns a source tree into a wheel, and ZIP cannot store dates before 1980
//! ("ZIP does not support timestamps before 1980"). Not 1980-01-01 either: tools that convert
//! to local time would land on 1979-12-31 west of Greenwich.
//!
//! Never packed (see [`super::secrets`]): version-control folders, virtual environments,
//! bytecode and caches (silently), secret-like files (reported as [`SECRET_EXCLUDED`]), files
//! that `.gitignore`/`.ignore` exclude (read even outside a git repository; the user's global
//! git excludes are not, so the archive does not depend on whose machine packs it), and
//! anything reached through a symlink that leaves the source root ([`SYMLINK_OUTSIDE_PROJECT`]).
//! Symlinks that stay inside are followed: the archive stores their target's content under
//! the link's path, so it extracts the same on systems without symlinks. File names with
//! control characters or that are not UTF-8 are skipped ([`ARCHIVE_INVALID_PATH`]), since a
//! runner could not extract them faithfully everywhere. Files are read whole into memory.

use std::collections::BTreeMap;
use std::io::{self, Write};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use flate2::{Compression, GzBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::atomic::{OutputError, OutputSet};
use super::secrets::{self, Exclusion};
use crate::diagnostic::{Code, Diagnostic};

/// A secret-like file or folder (`.env`, a private key, `.netrc`) was left out of an archive.
pub const SECRET_EXCLUDED: Code = Code("secret-excluded");
/// A symlink whose target leaves the source root was not followed.
pub const SYMLINK_OUTSIDE_PROJECT: Code = Code("symlink-outside-project");
/// A requested member is not a clean relative path, or does not exist.
pub const ARCHIVE_INVALID_MEMBER: Code = Code("archive-invalid-member");
/// A file whose name cannot be stored faithfully (control characters, not UTF-8) was skipped.
pub const ARCHIVE_INVALID_PATH: Code = Code("archive-invalid-path");
/// A file or folder could not be read (permissions, broken symlink, loop, special file).
pub const ARCHIVE_UNREADABLE: Code = Code("archive-unreadable");

/// Every entry's mtime: 1980-01-02T00:00:00Z (see the module documentation).
pub const ARCHIVE_MTIME: u64 = 315_619_200;

/// Fixed so the bytes do not change with a library default.
const GZIP_LEVEL: u32 = 6;

/// Why an archive could not be made at all (problems with single files are diagnostics).
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    #[error("cannot open source folder {}: {source}", path.display())]
    SourceRoot {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot build the archive of {}: {source}", path.display())]
    Build {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(transparent)]
    Write(#[from] OutputError),
}

/// An archive built in memory.
#[derive(Clone, Debug)]
pub struct Archive {
    pub bytes: Vec<u8>,
    /// Lower-case hex sha256 of `bytes`.
    pub sha256: String,
    /// The paths stored, sorted by bytes.
    pub files: Vec<String>,
    /// What was left out and why, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

impl Archive {
    /// `<sha256>.tar.gz`: the name says what the bytes are, so a runner can verify it and
    /// unchanged code gives an unchanged file.
    pub fn file_name(&self) -> String {
        format!("{}.tar.gz", self.sha256)
    }
}

/// An archive written to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedArchive {
    /// `<sha256>.tar.gz`, inside the output folder.
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub file_count: usize,
    /// What was left out and why, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

/// Builds the archive of `members` under `source_root` and writes it to `out_dir` (created if
/// missing; an identical archive already there is left untouched).
pub fn pack(
    source_root: &Path,
    members: &[String],
    out_dir: &Path,
) -> Result<PackedArchive, ArchiveError> {
    let archive = build(source_root, members)?;
    let file_name = archive.file_name();
    let mut outputs = OutputSet::new();
    outputs.add(out_dir.join(&file_name), archive.bytes.as_slice());
    outputs.commit()?;
    Ok(PackedArchive {
        file_name,
        sha256: archive.sha256,
        size: archive.bytes.len() as u64,
        file_count: archive.files.len(),
        diagnostics: archive.diagnostics,
    })
}

/// Builds the archive of `members` (top-level entries such as `mypkg` or `helpers.py`,
/// relative to `source_root`, forward slashes) in memory.
pub fn build(source_root: &Path, members: &[String]) -> Result<Archive, ArchiveError> {
    let root = fs_err::canonicalize(source_root).map_err(|source| ArchiveError::SourceRoot {
        path: source_root.to_path_buf(),
        source,
    })?;
    let mut collected = Collected::default();
    for member in members {
        collected.member(&root, member);
    }
    let Collected {
        files,
        mut diagnostics,
    } = collected;
    let build_error = |source| ArchiveError::Build {
        path: source_root.to_path_buf(),
        source,
    };

    let gz = GzBuilder::new()
        .mtime(0)
        .operating_system(255)
        .write(Vec::new(), Compression::new(GZIP_LEVEL));
    let mut tar = tar::Builder::new(gz);
    let mut stored = Vec::with_capacity(files.len());
    for (rel, file) in files {
        let data = match fs_err::read(&file.path) {
            Ok(data) => data,
            Err(err) => {
                diagnostics.push(unreadable(&rel, &err));
                continue;
            }
        };
        append_file(&mut tar, &rel, file.mode, &data).map_err(build_error)?;
        stored.push(rel);
    }
    let bytes = tar
        .into_inner()
        .and_then(|gz| gz.finish())
        .map_err(build_error)?;
    crate::diagnostic::sort(&mut diagnostics);
    Ok(Archive {
        sha256: hex::encode(Sha256::digest(&bytes)),
        bytes,
        files: stored,
        diagnostics,
    })
}

/// A file to store: where to read it and the mode it gets.
struct SourceEntry {
    path: PathBuf,
    mode: u32,
}

#[derive(Default)]
struct Collected {
    /// Path in the archive → file. A `BTreeMap<String, _>` iterates in byte order.
    files: BTreeMap<String, SourceEntry>,
    diagnostics: Vec<Diagnostic>,
}

impl Collected {
    fn member(&mut self, root: &Path, member: &str) {
        if let Err(why) = check_member(member) {
            self.diagnostics.push(
                Diagnostic::error(
                    ARCHIVE_INVALID_MEMBER,
                    format!("not packing {member:?}: {why}"),
                )
                .with_hint("members are paths relative to the source folder, such as `mypkg`"),
            );
            return;
        }
        let path = root.join(member);
        let target = match fs_err::canonicalize(&path) {
            Ok(target) => target,
            Err(err) => {
                let message = if path.symlink_metadata().is_ok() {
                    format!("cannot read {member}: {}", io_reason(&err))
                } else {
                    format!("{member} does not exist")
                };
                self.diagnostics
                    .push(Diagnostic::error(ARCHIVE_INVALID_MEMBER, message).with_file(member));
                return;
            }
        };
        if !target.starts_with(root) {
            self.diagnostics.push(outside(member));
            return;
        }
        // The walker never filters its starting point, so check the member itself here.
        let name = member.rsplit('/').next().unwrap_or(member);
        let exclusion = if target.is_dir() {
            secrets::classify_dir(name, &target)
        } else {
            secrets::classify_file(name)
        };
        match exclusion {
            Some(Exclusion::Noise) => return,
            Some(Exclusion::Secret(what)) => {
                self.diagnostics.push(secret(member, what));
                return;
            }
            None => {}
        }
        self.walk(root, &path);
    }

    fn walk(&mut self, root: &Path, start: &Path) {
        let pruned = Arc::new(Mutex::new(Vec::new()));
        let mut builder = ignore::WalkBuilder::new(start);
        builder
            .hidden(false)
            .parents(true)
            .ignore(true)
            .git_ignore(true)
            .git_exclude(true)
            .git_global(false)
            .require_git(false)
            .follow_links(true);
        let sink = Arc::clone(&pruned);
        let filter_root = root.to_path_buf();
        builder.filter_entry(move |entry| match prune(&filter_root, entry) {
            Ok(()) => true,
            Err(None) => false,
            Err(Some(diagnostic)) => {
                sink.lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push(diagnostic);
                false
            }
        });
        for result in builder.build() {
            let entry = match result {
                Ok(entry) => entry,
                Err(err) => {
                    self.diagnostics.push(walk_error(root, &err));
                    continue;
                }
            };
            let Some(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                continue;
            }
            let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
            let shown = rel.to_string_lossy().replace('\\', "/");
            if !file_type.is_file() {
                self.diagnostics.push(
                    Diagnostic::warning(ARCHIVE_UNREADABLE, "not a regular file; not packed")
                        .with_file(shown),
                );
                continue;
            }
            // Depth 0 is a member file, already classified.
            if entry.depth() > 0 {
                let name = entry.file_name().to_string_lossy();
                match secrets::classify_file(&name) {
                    Some(Exclusion::Noise) => continue,
                    Some(Exclusion::Secret(what)) => {
                        self.diagnostics.push(secret(&shown, what));
                        continue;
                    }
                    None => {}
                }
            }
            let Some(rel) = archive_path(rel) else {
                self.diagnostics.push(
                    Diagnostic::warning(
                        ARCHIVE_INVALID_PATH,
                        format!(
                            "{:?} has control characters or is not UTF-8; not packed",
                            rel.as_os_str()
                        ),
                    )
                    .with_hint("rename the file"),
                );
                continue;
            };
            let mode = match entry.metadata() {
                Ok(metadata) => normalised_mode(&metadata),
                Err(err) => {
                    self.diagnostics.push(walk_error(root, &err));
                    continue;
                }
            };
            let path = entry.into_path();
            self.files.insert(rel, SourceEntry { path, mode });
        }
        let pruned = std::mem::take(&mut *pruned.lock().unwrap_or_else(PoisonError::into_inner));
        self.diagnostics.extend(pruned);
    }
}

/// Decides whether the walker enters a folder or follows a link: `Err(None)` prunes silently,
/// `Err(Some(_))` prunes and reports. Files other than links are judged by the caller.
fn prune(root: &Path, entry: &ignore::DirEntry) -> Result<(), Option<Diagnostic>> {
    let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
    let shown = rel.to_string_lossy().replace('\\', "/");
    if entry.path_is_symlink() {
        match std::fs::canonicalize(entry.path()) {
            Ok(target) if !target.starts_with(root) => return Err(Some(outside(&shown))),
            // A broken link: the walker reports it.
            _ => {}
        }
    }
    if entry.file_type().is_some_and(|t| t.is_dir()) {
        let name = entry.file_name().to_string_lossy();
        return match secrets::classify_dir(&name, entry.path()) {
            None => Ok(()),
            Some(Exclusion::Noise) => Err(None),
            Some(Exclusion::Secret(what)) => Err(Some(secret(&shown, what))),
        };
    }
    Ok(())
}

/// Checks a member name: relative, `/`-separated, no `.`/`..`/empty parts, no control
/// characters.
fn check_member(member: &str) -> Result<(), &'static str> {
    if member.chars().any(char::is_control) {
        return Err("it contains control characters");
    }
    if member.starts_with('/') || member.contains('\\') || Path::new(member).is_absolute() {
        return Err("it is not a relative path with forward slashes");
    }
    if member
        .split('/')
        .any(|part| part.is_empty() || part == "." || part == "..")
    {
        return Err("it has an empty, `.` or `..` component");
    }
    Ok(())
}

/// The name a file gets in the archive: its path under the root joined with `/`, or `None`
/// when a part is not UTF-8, has control characters, or is not a plain name.
fn archive_path(rel: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in rel.components() {
        let Component::Normal(part) = component else {
            return None;
        };
        let part = part.to_str()?;
        if part.chars().any(char::is_control) {
            return None;
        }
        parts.push(part);
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn normalised_mode(metadata: &std::fs::Metadata) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if metadata.permissions().mode() & 0o111 != 0 {
            return 0o755;
        }
    }
    #[cfg(not(unix))]
    let _ = metadata;
    0o644
}

fn secret(path: &str, what: &str) -> Diagnostic {
    Diagnostic::warning(
        SECRET_EXCLUDED,
        format!("looks like {what}; left out of the archive"),
    )
    .with_file(path)
    .with_hint("secrets do not travel with the code: give them to the remote job another way")
}

fn outside(path: &str) -> Diagnostic {
    Diagnostic::warning(
        SYMLINK_OUTSIDE_PROJECT,
        "symlink leads outside the source folder; not followed",
    )
    .with_file(path)
}

fn unreadable(path: &str, err: &io::Error) -> Diagnostic {
    Diagnostic::warning(
        ARCHIVE_UNREADABLE,
        format!("cannot read: {}; not packed", io_reason(err)),
    )
    .with_file(path)
}

/// The OS's reason without the path that fs-err adds (the diagnostic carries the path).
fn io_reason(err: &io::Error) -> String {
    match err.get_ref().and_then(|inner| inner.source()) {
        Some(source) => source.to_string(),
        None => err.to_string(),
    }
}

/// A walker error as a diagnostic on the path it names, relative to the root.
fn walk_error(root: &Path, err: &ignore::Error) -> Diagnostic {
    let mut current = err;
    let mut path = None;
    loop {
        match current {
            ignore::Error::WithPath { path: p, err } => {
                path.get_or_insert(p.clone());
                current = err;
            }
            ignore::Error::WithDepth { err, .. } | ignore::Error::WithLineNumber { err, .. } => {
                current = err;
            }
            ignore::Error::Loop { child, .. } => {
                path.get_or_insert(child.clone());
                break;
            }
            _ => break,
        }
    }
    let broken_link = path
        .as_deref()
        .is_some_and(|p| p.is_symlink() && !p.exists());
    let message = match current {
        ignore::Error::Loop { .. } => "symlink loop; not followed".to_string(),
        _ if broken_link => "broken symlink; not packed".to_string(),
        ignore::Error::Io(err) => format!("cannot read: {}; not packed", io_reason(err)),
        other => format!("cannot read: {other}; not packed"),
    };
    let diagnostic = Diagnostic::warning(ARCHIVE_UNREADABLE, message);
    match path {
        Some(p) => diagnostic.with_file(
            p.strip_prefix(root)
                .unwrap_or(&p)
                .to_string_lossy()
                .replace('\\', "/"),
        ),
        None => diagnostic,
    }
}

/// A ustar header with every field that could vary pinned.
fn fixed_header(entry_type: tar::EntryType, size: u64, mode: u32) -> io::Result<tar::Header> {
    let mut header = tar::Header::new_ustar();
    header.set_entry_type(entry_type);
    header.set_size(size);
    header.set_mode(mode);
    header.set_uid(0);
    header.set_gid(0);
    header.set_mtime(ARCHIVE_MTIME);
    header.set_username("")?;
    header.set_groupname("")?;
    header.set_device_major(0)?;
    header.set_device_minor(0)?;
    Ok(header)
}

fn append_file<W: Write>(
    tar: &mut tar::Builder<W>,
    rel: &str,
    mode: u32,
    data: &[u8],
) -> io::Result<()> {
    let mut header = fixed_header(tar::EntryType::Regular, data.len() as u64, mode)?;
    if header.set_path(rel).is_err() {
        // Too long for ustar's 100 + 155 bytes: a PAX record carries the real path, and the
        // header keeps a truncated one for readers that ignore PAX.
        let record = pax_record("path", rel);
        let mut pax = fixed_header(tar::EntryType::XHeader, record.len() as u64, 0o644)?;
        set_raw_name(&mut pax, "././@PaxHeader");
        pax.set_cksum();
        tar.append(&pax, record.as_slice())?;
        set_raw_name(&mut header, rel);
    }
    header.set_cksum();
    tar.append(&header, data)
}

/// Writes up to 99 bytes of `name` into the name field, cut on a character boundary.
fn set_raw_name(header: &mut tar::Header, name: &str) {
    let mut end = name.len().min(99);
    while !name.is_char_boundary(end) {
        end -= 1;
    }
    let field = &mut header.as_old_mut().name;
    field.fill(0);
    field[..end].copy_from_slice(&name.as_bytes()[..end]);
}

/// `"<len> <key>=<value>\n"`, where `<len>` counts the whole record including its own digits.
fn pax_record(key: &str, value: &str) -> Vec<u8> {
    let base = key.len() + value.len() + 3; // space, '=', newline
    let mut len = base + 1;
    while base + len.to_string().len() != len {
        len = base + len.to_string().len();
    }
    format!("{len} {key}={value}\n").into_bytes()
}

/// The manifest beside the archives: which archive unpacks where.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ArchiveManifest {
    pub archives: Vec<ManifestEntry>,
}

/// One archive in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct ManifestEntry {
    /// The local source it holds, as the build plan names it (`project`, a distribution).
    pub source: String,
    /// File name beside the manifest: `<sha256>.tar.gz`.
    pub archive: String,
    /// Lower-case hex sha256 of the archive's bytes.
    pub sha256: String,
    /// Size of the archive in bytes.
    pub size: u64,
    /// Folder on the remote machine to unpack it in: an absolute path such as `/app`, the
    /// `destination` of the build plan's unpack step.
    pub destination: String,
    /// Number of files in it.
    pub file_count: usize,
}

impl ManifestEntry {
    pub fn new(
        packed: &PackedArchive,
        source: impl Into<String>,
        destination: impl Into<String>,
    ) -> Self {
        Self {
            source: source.into(),
            archive: packed.file_name.clone(),
            sha256: packed.sha256.clone(),
            size: packed.size,
            destination: destination.into(),
            file_count: packed.file_count,
        }
    }
}

impl ArchiveManifest {
    /// Pretty JSON with a final newline, entries sorted by destination then archive, so the
    /// same archives give the same bytes whatever order they were packed in.
    pub fn to_json(&self) -> String {
        let mut sorted = self.clone();
        sorted.archives.sort_by(|a, b| {
            (&a.destination, &a.archive, &a.sha256).cmp(&(&b.destination, &b.archive, &b.sha256))
        });
        sorted.archives.dedup();
        // Serialising plain strings and integers cannot fail.
        let mut text = serde_json::to_string_pretty(&sorted).unwrap_or_default();
        text.push('\n');
        text
    }

    /// Writes [`Self::to_json`] to `path` atomically; returns whether the file changed.
    pub fn write(&self, path: &Path) -> Result<bool, OutputError> {
        let mut outputs = OutputSet::new();
        outputs.add(path, self.to_json());
        Ok(!outputs.commit()?.changed.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::process::Command;

    use super::*;
    use crate::test_support::copy_tree;

    fn fixture() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/pack-secrets")
    }

    fn members(names: &[&str]) -> Vec<String> {
        names.iter().map(|name| name.to_string()).collect()
    }

    /// (path, mode, mtime, uid, gid, size) of each entry, PAX records applied.
    fn entries(bytes: &[u8]) -> Vec<(String, u32, u64, u64, u64, Vec<u8>)> {
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(bytes));
        let mut out = Vec::new();
        for entry in archive.entries().unwrap() {
            let mut entry = entry.unwrap();
            let header = entry.header().clone();
            let path = entry.path().unwrap().to_string_lossy().into_owned();
            let mut data = Vec::new();
            entry.read_to_end(&mut data).unwrap();
            out.push((
                path,
                header.mode().unwrap(),
                header.mtime().unwrap(),
                header.uid().unwrap(),
                header.gid().unwrap(),
                data,
            ));
        }
        out
    }

    fn codes_for(archive: &Archive, code: Code) -> Vec<String> {
        archive
            .diagnostics
            .iter()
            .filter(|d| d.code == code)
            .map(|d| d.file.clone().unwrap_or_default())
            .collect()
    }

    #[test]
    fn code_and_package_data_are_packed_in_byte_order() {
        let archive = build(&fixture(), &members(&["mypkg", "helpers.py"])).unwrap();
        assert_eq!(
            archive.files,
            [
                "helpers.py",
                "mypkg/__init__.py",
                "mypkg/core.py",
                "mypkg/data/config.json",
                "mypkg/data/nested/table.csv",
                "mypkg/run.sh",
            ]
        );
        let names: Vec<String> = entries(&archive.bytes).into_iter().map(|e| e.0).collect();
        assert_eq!(names, archive.files);
    }

    #[test]
    fn secrets_are_left_out_and_each_is_reported() {
        let archive = build(&fixture(), &members(&["mypkg", "helpers.py"])).unwrap();
        assert_eq!(
            codes_for(&archive, SECRET_EXCLUDED),
            [
                "mypkg/.env",
                "mypkg/.netrc",
                "mypkg/id_rsa",
                "mypkg/server.pem"
            ]
        );
        for (_, _, _, _, _, data) in entries(&archive.bytes) {
            let text = String::from_utf8_lossy(&data);
            assert!(!text.contains("not-a-real"), "a secret was packed: {text}");
        }
    }

    #[test]
    fn gitignored_files_and_bytecode_are_left_out_silently() {
        let archive = build(&fixture(), &members(&["mypkg"])).unwrap();
        assert!(!archive.files.iter().any(|f| f.ends_with(".log")));
        assert!(!archive.files.iter().any(|f| f.contains("__pycache__")));
        assert!(
            archive
                .diagnostics
                .iter()
                .all(|d| d.code == SECRET_EXCLUDED),
            "{:?}",
            archive.diagnostics
        );
    }

    #[test]
    fn a_secret_named_as_a_member_is_refused_and_reported() {
        let archive = build(&fixture(), &members(&["mypkg/.env"])).unwrap();
        assert!(archive.files.is_empty());
        assert_eq!(codes_for(&archive, SECRET_EXCLUDED), ["mypkg/.env"]);
    }

    #[test]
    fn packing_the_same_tree_twice_gives_the_same_bytes() {
        let names = members(&["mypkg", "helpers.py"]);
        let first = build(&fixture(), &names).unwrap();
        let second = build(&fixture(), &names).unwrap();
        assert_eq!(first.bytes, second.bytes);
        assert_eq!(first.sha256, hex::encode(Sha256::digest(&first.bytes)));
        assert_eq!(first.file_name(), format!("{}.tar.gz", first.sha256));
    }

    #[test]
    fn new_mtimes_another_folder_and_other_permissions_give_the_same_bytes() {
        let names = members(&["mypkg", "helpers.py"]);
        let original = build(&fixture(), &names).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let copy = dir.path().join("elsewhere");
        copy_tree(&fixture(), &copy);
        let later = std::time::SystemTime::now() + std::time::Duration::from_secs(86_400);
        for file in &original.files {
            let path = copy.join(file);
            let handle = fs_err::File::options().write(true).open(&path).unwrap();
            handle.set_modified(later).unwrap();
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                // Same x bit, different everything else (what another umask would give).
                let mode = if file.ends_with("run.sh") {
                    0o700
                } else {
                    0o600
                };
                fs_err::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            }
        }
        let moved = build(&copy, &names).unwrap();
        assert_eq!(original.bytes, moved.bytes);
    }

    #[test]
    fn headers_are_normalised() {
        let archive = build(&fixture(), &members(&["mypkg", "helpers.py"])).unwrap();
        for (path, mode, mtime, uid, gid, _) in entries(&archive.bytes) {
            assert_eq!(mtime, ARCHIVE_MTIME, "{path}");
            assert_eq!((uid, gid), (0, 0), "{path}");
            let expected = if cfg!(unix) && path.ends_with("run.sh") {
                0o755
            } else {
                0o644
            };
            assert_eq!(mode, expected, "{path}");
        }
        // gzip: no FNAME flag, mtime 0, OS unknown.
        assert_eq!(&archive.bytes[..4], &[0x1f, 0x8b, 8, 0]);
        assert_eq!(&archive.bytes[4..8], &[0, 0, 0, 0]);
        assert_eq!(archive.bytes[9], 255);
    }

    #[test]
    fn the_fixed_mtime_is_1980_01_02_utc() {
        let days = 10 * 365 + 2 /* 1972, 1976 */ + 1;
        assert_eq!(ARCHIVE_MTIME, days * 86_400);
    }

    #[test]
    fn pythons_tarfile_reads_every_member_with_a_date_from_1980() {
        let Ok(python) = which_python() else {
            eprintln!("python3 not found; skipping");
            return;
        };
        let dir = tempfile::tempdir().unwrap();
        let packed = pack(&fixture(), &members(&["mypkg", "helpers.py"]), dir.path()).unwrap();
        let script = r#"
import sys, tarfile
with tarfile.open(sys.argv[1], "r:gz") as tar:
    for m in tar.getmembers():
        assert m.isfile(), m.name
        assert m.mtime >= 315532800, (m.name, m.mtime)
        assert (m.uid, m.gid, m.uname, m.gname) == (0, 0, "", ""), m.name
        print(m.name, oct(m.mode))
    if hasattr(tarfile, "data_filter"):
        tar.extractall(sys.argv[2], filter="data")
"#;
        let out_dir = dir.path().join("unpacked");
        let output = Command::new(python)
            .arg("-c")
            .arg(script)
            .arg(dir.path().join(&packed.file_name))
            .arg(&out_dir)
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let listed = String::from_utf8(output.stdout).unwrap();
        assert_eq!(listed.lines().count(), packed.file_count);
        assert!(listed.contains("mypkg/data/nested/table.csv 0o644"));
    }

    fn which_python() -> Result<&'static str, ()> {
        Command::new("python3")
            .arg("--version")
            .output()
            .map(|_| "python3")
            .map_err(|_| ())
    }

    #[test]
    fn a_path_too_long_for_ustar_gets_a_pax_record_with_fixed_fields() {
        let dir = tempfile::tempdir().unwrap();
        let deep = format!("pkg/{}/{}", "d".repeat(120), "f".repeat(150));
        fs_err::create_dir_all(dir.path().join(&deep)).unwrap();
        let file = format!("{deep}/module_with_a_long_name.py");
        fs_err::write(dir.path().join(&file), "x = 1\n").unwrap();
        let archive = build(dir.path(), &members(&["pkg"])).unwrap();
        let read = entries(&archive.bytes);
        assert_eq!(read.len(), 1);
        assert_eq!(read[0].0, file);
        // Every header in the stream, the PAX one included, carries the fixed fields.
        let mut raw = tar::Archive::new(flate2::read::GzDecoder::new(archive.bytes.as_slice()));
        let mut headers = 0;
        for entry in raw.entries().unwrap().raw(true) {
            let header = entry.unwrap().header().clone();
            assert_eq!(header.mtime().unwrap(), ARCHIVE_MTIME);
            assert_eq!(header.uid().unwrap(), 0);
            headers += 1;
        }
        assert_eq!(headers, 2);
    }

    #[test]
    fn pax_record_length_counts_its_own_digits() {
        for value in ["a", &"b".repeat(93), &"c".repeat(94), &"d".repeat(995)] {
            let record = pax_record("path", value);
            let (len, _) = std::str::from_utf8(&record)
                .unwrap()
                .split_once(' ')
                .unwrap();
            assert_eq!(len.parse::<usize>().unwrap(), record.len());
        }
    }

    #[test]
    fn bad_member_names_are_rejected_and_the_rest_is_packed() {
        let archive = build(
            &fixture(),
            &members(&[
                "../etc",
                "/etc",
                "a\nb",
                "",
                "mypkg/../helpers.py",
                "helpers.py",
            ]),
        )
        .unwrap();
        assert_eq!(archive.files, ["helpers.py"]);
        let rejected = archive
            .diagnostics
            .iter()
            .filter(|d| d.code == ARCHIVE_INVALID_MEMBER)
            .count();
        assert_eq!(rejected, 5);
    }

    #[test]
    fn a_missing_member_is_an_error() {
        let archive = build(&fixture(), &members(&["nothere"])).unwrap();
        assert_eq!(archive.diagnostics.len(), 1);
        assert_eq!(archive.diagnostics[0].code, ARCHIVE_INVALID_MEMBER);
        assert_eq!(
            archive.diagnostics[0].severity,
            crate::diagnostic::Severity::Error
        );
    }

    #[cfg(unix)]
    #[test]
    fn symlinks_leaving_the_root_are_not_followed_and_inside_ones_are() {
        use std::os::unix::fs::symlink;
        let dir = tempfile::tempdir().unwrap();
        let outside = dir.path().join("outside");
        fs_err::create_dir_all(&outside).unwrap();
        fs_err::write(outside.join("stolen.py"), "secret = 1\n").unwrap();
        let root = dir.path().join("project");
        fs_err::create_dir_all(root.join("pkg")).unwrap();
        fs_err::create_dir_all(root.join("shared")).unwrap();
        fs_err::write(root.join("pkg/__init__.py"), "").unwrap();
        fs_err::write(root.join("shared/common.py"), "y = 2\n").unwrap();
        symlink("../../outside", root.join("pkg/out_dir")).unwrap();
        symlink(outside.join("stolen.py"), root.join("pkg/out_file.py")).unwrap();
        symlink("../shared", root.join("pkg/in_dir")).unwrap();
        symlink("../shared/common.py", root.join("pkg/in_file.py")).unwrap();
        symlink("missing.py", root.join("pkg/broken.py")).unwrap();
        symlink(&outside, root.join("ext")).unwrap();
        symlink(".", root.join("pkg/again")).unwrap();

        let archive = build(&root, &members(&["pkg", "ext"])).unwrap();
        assert_eq!(
            archive.files,
            ["pkg/__init__.py", "pkg/in_dir/common.py", "pkg/in_file.py"]
        );
        assert_eq!(
            codes_for(&archive, SYMLINK_OUTSIDE_PROJECT),
            ["ext", "pkg/out_dir", "pkg/out_file.py"]
        );
        let unreadable: Vec<String> = archive
            .diagnostics
            .iter()
            .filter(|d| d.code == ARCHIVE_UNREADABLE)
            .map(|d| format!("{}: {}", d.file.as_deref().unwrap_or(""), d.message))
            .collect();
        assert_eq!(
            unreadable,
            [
                "pkg/again: symlink loop; not followed",
                "pkg/broken.py: broken symlink; not packed"
            ]
        );
        let read = entries(&archive.bytes);
        assert_eq!(read[2].5, b"y = 2\n");
    }

    #[test]
    fn pack_writes_the_archive_under_its_hash_and_leaves_an_identical_one_alone() {
        let dir = tempfile::tempdir().unwrap();
        let names = members(&["mypkg", "helpers.py"]);
        let packed = pack(&fixture(), &names, &dir.path().join("out")).unwrap();
        let path = dir.path().join("out").join(&packed.file_name);
        let bytes = fs_err::read(&path).unwrap();
        assert_eq!(bytes.len() as u64, packed.size);
        assert_eq!(hex::encode(Sha256::digest(&bytes)), packed.sha256);
        assert_eq!(packed.file_count, 6);
        let before = fs_err::metadata(&path).unwrap().modified().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(20));
        let again = pack(&fixture(), &names, &dir.path().join("out")).unwrap();
        assert_eq!(again, packed);
        assert_eq!(fs_err::metadata(&path).unwrap().modified().unwrap(), before);
    }

    #[test]
    fn the_manifest_is_sorted_and_round_trips() {
        let entry = |archive: &str, destination: &str| ManifestEntry {
            source: archive.to_string(),
            archive: format!("{archive}.tar.gz"),
            sha256: archive.to_string(),
            size: 10,
            destination: destination.to_string(),
            file_count: 1,
        };
        let one = ArchiveManifest {
            archives: vec![entry("bb", "src"), entry("aa", ".")],
        };
        let two = ArchiveManifest {
            archives: vec![entry("aa", "."), entry("bb", "src")],
        };
        assert_eq!(one.to_json(), two.to_json());
        let text = one.to_json();
        assert!(text.ends_with("}\n"));
        let back: ArchiveManifest = serde_json::from_str(&text).unwrap();
        assert_eq!(back, two);

        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("envscan.archives.json");
        assert!(one.write(&path).unwrap());
        assert!(!two.write(&path).unwrap());
        let schema = serde_json::to_string(&schemars::schema_for!(ArchiveManifest)).unwrap();
        assert!(schema.contains("file_count"));
    }
}
