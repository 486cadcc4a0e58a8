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
//! Never packed (see [`super::secrets`] for the exact rules): version-control folders,
//! virtual environments, bytecode and caches (silently); secret-like files, reported as
//! [`SECRET_EXCLUDED`]: by the name of the path walked, by the *resolved* path of every file
//! (each folder on it and the target's name, so `settings.txt -> ../.env` and a folder link
//! `awsconf -> ../.aws` stay out), by any other name of a hard-linked file (same device and
//! inode as a file a name rule excludes anywhere under the source root), and by content (the
//! first [`secrets::CONTENT_PREFIX`] bytes); files that `.gitignore`/`.ignore` exclude (read by
//! [`crate::walk::ignore_files`], even outside a git repository; the user's global git
//! excludes are not, so the archive does not depend on whose machine packs it); the output
//! folder, when it lies inside the source root ([`Options::skip`]); and anything reached
//! through a symlink that leaves the source root ([`SYMLINK_OUTSIDE_PROJECT`]). Symlinks that
//! stay inside are followed: the archive stores their target's content under the link's path,
//! so it extracts the same on systems without symlinks. File names with control characters,
//! bidirectional-text controls (U+202A–U+202E, U+2066–U+2069, U+200E, U+200F, U+061C) or that
//! are not UTF-8 are refused ([`ARCHIVE_INVALID_PATH`]), since a runner could not extract them
//! faithfully everywhere and a reviewer could be shown another name than the real one.
//!
//! Files are streamed: each is opened once (only when it is a regular file, without waiting
//! on a FIFO), its first bytes are checked, and it is copied into the gzip stream, which is
//! hashed as it is written to a temporary file beside its final name. Memory does not grow
//! with file size.

use std::collections::{BTreeMap, HashMap};
use std::fs::File;
use std::io::{self, BufWriter, Read, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Component, Path, PathBuf};
use std::sync::{Arc, Mutex, PoisonError};

use flate2::{Compression, GzBuilder};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

use super::atomic::{OutputError, OutputSet};
use super::secrets::{self, Exclusion};
use crate::diagnostic::{Code, Diagnostic};
use crate::walk::ignore_files::IgnoreFiles;

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
/// A compiled extension module inside packed code: built for this machine, never moved.
pub const ARCHIVE_COMPILED_SKIPPED: Code = Code("archive-compiled-skipped");

/// Every entry's mtime: 1980-01-02T00:00:00Z (see the module documentation).
pub const ARCHIVE_MTIME: u64 = 315_619_200;

/// Fixed so the bytes do not change with a library default.
const GZIP_LEVEL: u32 = 6;

/// How much of a file is read at a time while it is streamed into an archive.
const COPY_BUFFER: usize = 64 * 1024;

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
    #[error("cannot pack {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write the archive in {}: {source}", folder.display())]
    Stage {
        folder: PathBuf,
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

/// One file stored in an archive: what a runner needs to upload only the files it lacks.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct FileEntry {
    /// Its path in the archive (relative to the source root, forward slashes).
    pub path: String,
    /// Its size in bytes.
    pub size: u64,
    /// Lower-case hex sha256 of its content.
    pub sha256: String,
}

/// An archive written to disk.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PackedArchive {
    /// `<sha256>.tar.gz`, inside the output folder.
    pub file_name: String,
    pub sha256: String,
    pub size: u64,
    pub file_count: usize,
    /// Every file stored, sorted by path.
    pub files: Vec<FileEntry>,
    /// What was left out and why, sorted.
    pub diagnostics: Vec<Diagnostic>,
}

/// What a walk leaves out besides the rules of [`super::secrets`].
#[derive(Clone, Debug, Default)]
pub struct Options {
    /// Folders never packed, whatever reaches them (the output folder): canonical paths.
    pub skip: Vec<PathBuf>,
}

/// The files an archive will hold, found but not yet read.
pub struct Collection {
    root: PathBuf,
    files: BTreeMap<String, SourceEntry>,
    diagnostics: Vec<Diagnostic>,
}

/// An archive written to a temporary file in its output folder, not yet under its name.
pub struct Staged {
    temp: NamedTempFile,
    out_dir: PathBuf,
    sha256: String,
    size: u64,
    files: Vec<FileEntry>,
    diagnostics: Vec<Diagnostic>,
}

/// Builds the archive of `members` under `source_root` and writes it to `out_dir` (created if
/// missing; an identical archive already there is left untouched).
pub fn pack(
    source_root: &Path,
    members: &[String],
    out_dir: &Path,
) -> Result<PackedArchive, ArchiveError> {
    collect(source_root, members, &Options::default())?
        .stage(out_dir)?
        .publish()
}

/// Builds the archive of `members` (top-level entries such as `mypkg` or `helpers.py`,
/// relative to `source_root`, forward slashes) in memory.
pub fn build(source_root: &Path, members: &[String]) -> Result<Archive, ArchiveError> {
    let collection = collect(source_root, members, &Options::default())?;
    let (bytes, written) = collection.write_to(Vec::new())?;
    Ok(Archive {
        bytes,
        sha256: written.sha256,
        files: written.files.into_iter().map(|f| f.path).collect(),
        diagnostics: written.diagnostics,
    })
}

/// Every file of the tree under `source_root` that an archive of it could hold (the same
/// rules as [`collect`]: secrets, noise, ignore files, links leaving it, [`Options::skip`]),
/// with its size. The top-level entries are taken in sorted order; one that an ignore file
/// excludes is left out as the walk leaves out deeper ones.
pub fn list(source_root: &Path, options: &Options) -> Result<Listing, ArchiveError> {
    let root = fs_err::canonicalize(source_root).map_err(|source| ArchiveError::SourceRoot {
        path: source_root.to_path_buf(),
        source,
    })?;
    let ignore_files = IgnoreFiles::new(&root, true);
    let mut members = Vec::new();
    let listing = fs_err::read_dir(&root).map_err(|source| ArchiveError::SourceRoot {
        path: root.clone(),
        source,
    })?;
    for entry in listing.flatten() {
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let is_dir = entry.file_type().is_ok_and(|t| t.is_dir());
        if check_member(&name).is_ok() && !ignore_files.is_ignored(&entry.path(), is_dir) {
            members.push(name);
        }
    }
    members.sort();
    let collection = collect(&root, &members, options)?;
    Ok(Listing {
        files: collection.sized_files(),
        diagnostics: collection.diagnostics,
    })
}

/// What [`list`] found.
#[derive(Debug, Default)]
pub struct Listing {
    /// Path relative to the source root → size in bytes, sorted by path.
    pub files: BTreeMap<String, u64>,
    /// What the walk left out and why (secrets, links leaving the tree, compiled modules).
    pub diagnostics: Vec<Diagnostic>,
}

/// Finds the files of `members` under `source_root`; what is left out is in its diagnostics.
pub fn collect(
    source_root: &Path,
    members: &[String],
    options: &Options,
) -> Result<Collection, ArchiveError> {
    let root = fs_err::canonicalize(source_root).map_err(|source| ArchiveError::SourceRoot {
        path: source_root.to_path_buf(),
        source,
    })?;
    let mut walker = Walker {
        root: root.clone(),
        skip: Arc::new(options.skip.clone()),
        ignore_files: Arc::new(IgnoreFiles::new(&root, true)),
        files: BTreeMap::new(),
        diagnostics: Vec::new(),
    };
    for member in members {
        walker.member(member);
    }
    let mut diagnostics = walker.diagnostics;
    diagnostics.extend(walker.ignore_files.failures());
    crate::diagnostic::sort(&mut diagnostics);
    diagnostics.dedup();
    Ok(Collection {
        root,
        files: walker.files,
        diagnostics,
    })
}

/// What writing an archive gave.
struct Written {
    sha256: String,
    size: u64,
    files: Vec<FileEntry>,
    diagnostics: Vec<Diagnostic>,
}

impl Collection {
    /// What the walk left out and why, sorted; the write adds exclusions found by content.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Each file found and its size now, by path (a file gone since is left out).
    pub fn sized_files(&self) -> BTreeMap<String, u64> {
        self.files
            .iter()
            .filter_map(|(rel, file)| {
                let meta = std::fs::metadata(&file.path).ok()?;
                Some((rel.clone(), meta.len()))
            })
            .collect()
    }

    /// The files found, by path in the archive (sorted) with the path to read each from: what
    /// a wheel of the same members holds (see [`crate::local_dists`]).
    pub fn files(&self) -> impl Iterator<Item = (&str, &Path)> {
        self.files
            .iter()
            .map(|(rel, entry)| (rel.as_str(), entry.path.as_path()))
    }

    /// Streams the archive into a temporary file in `out_dir` (created if missing).
    pub fn stage(self, out_dir: &Path) -> Result<Staged, ArchiveError> {
        let stage_error = |source| ArchiveError::Stage {
            folder: out_dir.to_path_buf(),
            source,
        };
        fs_err::create_dir_all(out_dir).map_err(stage_error)?;
        let temp = tempfile::Builder::new()
            .prefix(".envscan-")
            .suffix(".tmp")
            .tempfile_in(out_dir)
            .map_err(stage_error)?;
        let file = temp.as_file().try_clone().map_err(stage_error)?;
        let (file, written) = self.write_to(BufWriter::new(file))?;
        let file = file.into_inner().map_err(|e| stage_error(e.into_error()))?;
        file.sync_all().map_err(stage_error)?;
        Ok(Staged {
            temp,
            out_dir: out_dir.to_path_buf(),
            sha256: written.sha256,
            size: written.size,
            files: written.files,
            diagnostics: written.diagnostics,
        })
    }

    /// Writes the tar.gz into `sink`, hashing it on the way.
    fn write_to<W: Write>(self, sink: W) -> Result<(W, Written), ArchiveError> {
        let Collection {
            root,
            files,
            mut diagnostics,
        } = self;
        let build_error = |source| ArchiveError::Build {
            path: root.clone(),
            source,
        };
        let gz = GzBuilder::new()
            .mtime(0)
            .operating_system(255)
            .write(Hashing::new(sink), Compression::new(GZIP_LEVEL));
        let mut tar = tar::Builder::new(gz);
        let mut linked_secrets: Option<HashMap<(u64, u64), String>> = None;
        let mut stored = Vec::with_capacity(files.len());
        for (rel, file) in files {
            let (handle, meta) = match open_regular(&file.path) {
                Ok(opened) => opened,
                Err(err) => {
                    diagnostics.push(unreadable(&rel, &err));
                    continue;
                }
            };
            if meta.nlink() > 1 {
                let known = linked_secrets.get_or_insert_with(|| secret_inodes(&root));
                if let Some(name) = known.get(&(meta.dev(), meta.ino())) {
                    let what = format!("a hard link to `{name}`, which is secret");
                    diagnostics.push(secret(&rel, &what));
                    continue;
                }
            }
            let mut prefix = Vec::with_capacity(secrets::CONTENT_PREFIX.min(meta.len() as usize));
            let mut handle = handle;
            (&mut handle)
                .take(secrets::CONTENT_PREFIX as u64)
                .read_to_end(&mut prefix)
                .map_err(|source| ArchiveError::Read {
                    path: file.path.clone(),
                    source,
                })?;
            let name = rel.rsplit('/').next().unwrap_or(&rel);
            if let Some(what) = secrets::classify_content(name, &prefix) {
                diagnostics.push(secret(&rel, &format!("{what} by its content")));
                continue;
            }
            let size = meta.len();
            let rest = size.saturating_sub(prefix.len() as u64);
            // `io::copy` (inside `tar`) reads through a `BufReader`'s own buffer: 64 KiB
            // reads instead of 8 KiB ones for large files.
            let mut data = io::BufReader::with_capacity(
                COPY_BUFFER,
                Exact {
                    inner: io::Cursor::new(prefix).chain(handle.take(rest)),
                    left: size,
                    hasher: Sha256::new(),
                },
            );
            append_file(&mut tar, &rel, file.mode, size, &mut data).map_err(|source| {
                ArchiveError::Read {
                    path: file.path.clone(),
                    source,
                }
            })?;
            let sha256 = hex::encode(data.into_inner().hasher.finalize());
            stored.push(FileEntry {
                path: rel,
                size,
                sha256,
            });
        }
        let hashing = tar
            .into_inner()
            .and_then(|gz| gz.finish())
            .map_err(build_error)?;
        let (sink, sha256, size) = hashing.finish();
        crate::diagnostic::sort(&mut diagnostics);
        diagnostics.dedup();
        Ok((
            sink,
            Written {
                sha256,
                size,
                files: stored,
                diagnostics,
            },
        ))
    }
}

impl Staged {
    /// What was left out and why, sorted.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// Every file stored, sorted by path.
    pub fn files(&self) -> &[FileEntry] {
        &self.files
    }

    /// Size of the compressed archive in bytes.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Moves the archive to `<sha256>.tar.gz`; an archive already there under that name holds
    /// the same bytes (the name is their hash) and is left untouched.
    pub fn publish(self) -> Result<PackedArchive, ArchiveError> {
        let file_name = format!("{}.tar.gz", self.sha256);
        let target = self.out_dir.join(&file_name);
        let same = fs_err::symlink_metadata(&target)
            .is_ok_and(|meta| meta.is_file() && meta.len() == self.size);
        if !same {
            self.temp
                .persist(&target)
                .map_err(|err| ArchiveError::Stage {
                    folder: self.out_dir.clone(),
                    source: err.error,
                })?;
        }
        Ok(PackedArchive {
            file_name,
            sha256: self.sha256,
            size: self.size,
            file_count: self.files.len(),
            files: self.files,
            diagnostics: self.diagnostics,
        })
    }
}

/// A writer that hashes and counts what passes through it.
struct Hashing<W> {
    inner: W,
    hasher: Sha256,
    size: u64,
}

impl<W: Write> Hashing<W> {
    fn new(inner: W) -> Self {
        Hashing {
            inner,
            hasher: Sha256::new(),
            size: 0,
        }
    }

    fn finish(self) -> (W, String, u64) {
        (self.inner, hex::encode(self.hasher.finalize()), self.size)
    }
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// A reader that must give exactly `left` bytes: a file that shrank while it was packed is an
/// error, not a silently corrupt tar entry (tar pads whatever it got to the header's size).
/// It hashes what it gives, for the per-file manifest.
struct Exact<R> {
    inner: R,
    left: u64,
    hasher: Sha256,
}

impl<R: Read> Read for Exact<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.left == 0 {
            return Ok(0);
        }
        let want = buf
            .len()
            .min(usize::try_from(self.left).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..want])?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the file shrank while it was packed",
            ));
        }
        self.left -= n as u64;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
}

/// Opens `path` for reading only when it is a regular file after following links, without
/// blocking on a FIFO (`O_NONBLOCK`; the check is on the opened handle).
fn open_regular(path: &Path) -> io::Result<(File, std::fs::Metadata)> {
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(io::Error::other("not a regular file"));
    }
    Ok((file, meta))
}

/// (device, inode) → name of every file under `root` that a name rule marks secret (those
/// inside credentials folders included): a hard link elsewhere shares the secret's inode.
/// Links are not followed; noise folders are not entered.
fn secret_inodes(root: &Path) -> HashMap<(u64, u64), String> {
    let mut found = HashMap::new();
    let mut stack = vec![(root.to_path_buf(), false)];
    while let Some((folder, secret_folder)) = stack.pop() {
        let Ok(listing) = std::fs::read_dir(&folder) else {
            continue;
        };
        let folder_name = folder.file_name().map(|n| n.to_string_lossy().into_owned());
        for entry in listing.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if kind.is_dir() {
                match secrets::classify_dir(&name, &path) {
                    Some(Exclusion::Noise) => {}
                    Some(Exclusion::Secret(_)) => stack.push((path, true)),
                    None => stack.push((path, secret_folder)),
                }
            } else if kind.is_file() {
                let is_secret = secret_folder
                    || matches!(
                        secrets::classify_file(folder_name.as_deref(), &name),
                        Some(Exclusion::Secret(_))
                    );
                if is_secret && let Ok(meta) = entry.metadata() {
                    let rel = rel_of(root, &path);
                    found.entry((meta.dev(), meta.ino())).or_insert(rel);
                }
            }
        }
    }
    found
}

/// A file to store: where to read it and the mode it gets.
struct SourceEntry {
    path: PathBuf,
    mode: u32,
}

struct Walker {
    root: PathBuf,
    skip: Arc<Vec<PathBuf>>,
    ignore_files: Arc<IgnoreFiles>,
    /// Path in the archive → file. A `BTreeMap<String, _>` iterates in byte order.
    files: BTreeMap<String, SourceEntry>,
    diagnostics: Vec<Diagnostic>,
}

impl Walker {
    fn member(&mut self, member: &str) {
        let root = self.root.clone();
        if let Err(why) = check_member(member) {
            self.diagnostics.push(
                Diagnostic::error(
                    ARCHIVE_INVALID_MEMBER,
                    format!("not packing {:?}: {why}", escaped(member)),
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
        let Ok(target_rel) = target.strip_prefix(&root) else {
            self.diagnostics.push(outside(member));
            return;
        };
        if self.skip.iter().any(|skip| target.starts_with(skip)) {
            return;
        }
        // The walker never filters its starting point, so check the member itself here, by
        // the path asked for and by where it leads.
        let is_dir = target.is_dir();
        let asked = secrets::classify_path(&root, Path::new(member), is_dir);
        let resolved = secrets::classify_path(&root, target_rel, is_dir);
        match (asked, resolved) {
            (Some(Exclusion::Secret(what)), _) => {
                self.diagnostics.push(secret(member, what));
                return;
            }
            (_, Some(Exclusion::Secret(what))) => {
                self.diagnostics
                    .push(secret(member, &through_link(target_rel, what)));
                return;
            }
            (Some(Exclusion::Noise), _) | (_, Some(Exclusion::Noise)) => return,
            (None, None) => {}
        }
        self.walk(&path);
    }

    fn walk(&mut self, start: &Path) {
        let root = self.root.clone();
        let pruned = Arc::new(Mutex::new(Vec::new()));
        let mut builder = ignore::WalkBuilder::new(start);
        // Ignore files are read by envscan (see `walk::ignore_files`), not by the walker.
        builder
            .standard_filters(false)
            .hidden(false)
            .parents(false)
            .ignore(false)
            .git_ignore(false)
            .git_exclude(false)
            .git_global(false)
            .follow_links(true);
        let sink = Arc::clone(&pruned);
        let filter_root = root.clone();
        let skip = Arc::clone(&self.skip);
        let ignore_files = Arc::clone(&self.ignore_files);
        builder.filter_entry(
            move |entry| match prune(&filter_root, &skip, &ignore_files, entry) {
                Ok(()) => true,
                Err(None) => false,
                Err(Some(diagnostic)) => {
                    sink.lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(diagnostic);
                    false
                }
            },
        );
        for result in builder.build() {
            let entry = match result {
                Ok(entry) => entry,
                Err(err) => {
                    self.diagnostics.push(walk_error(&root, &err));
                    continue;
                }
            };
            let Some(file_type) = entry.file_type() else {
                continue;
            };
            if file_type.is_dir() {
                continue;
            }
            let rel = entry.path().strip_prefix(&root).unwrap_or(entry.path());
            let shown = escaped(&rel.to_string_lossy().replace('\\', "/"));
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
                let folder = rel
                    .parent()
                    .and_then(Path::file_name)
                    .map(|n| n.to_string_lossy());
                if crate::resolve::finder::extension_stem(&name).is_some() {
                    // binary_local: it travels as nothing; the graph's warning says to build it
                    // into the base image.
                    self.diagnostics.push(
                        Diagnostic::info(
                            ARCHIVE_COMPILED_SKIPPED,
                            "a compiled extension module; not packed (build it into the base image)",
                        )
                        .with_file(shown),
                    );
                    continue;
                }
                match secrets::classify_file(folder.as_deref(), &name) {
                    Some(Exclusion::Noise) => continue,
                    Some(Exclusion::Secret(what)) => {
                        self.diagnostics.push(secret(&shown, what));
                        continue;
                    }
                    None => {}
                }
                // Where the path really leads (through links in any of its folders too).
                match std::fs::canonicalize(entry.path()) {
                    Ok(target) => {
                        let Ok(target_rel) = target.strip_prefix(&root) else {
                            self.diagnostics.push(outside(&shown));
                            continue;
                        };
                        if self.skip.iter().any(|skip| target.starts_with(skip)) {
                            continue;
                        }
                        match secrets::classify_path(&root, target_rel, false) {
                            Some(Exclusion::Noise) => continue,
                            Some(Exclusion::Secret(what)) => {
                                self.diagnostics
                                    .push(secret(&shown, &through_link(target_rel, what)));
                                continue;
                            }
                            None => {}
                        }
                    }
                    Err(err) => {
                        self.diagnostics.push(unreadable(&shown, &err));
                        continue;
                    }
                }
            }
            let Some(rel) = archive_path(rel) else {
                self.diagnostics.push(
                    Diagnostic::warning(
                        ARCHIVE_INVALID_PATH,
                        "the name has control characters, bidirectional-text controls or is \
                         not UTF-8; not packed",
                    )
                    .with_file(shown)
                    .with_hint("rename the file"),
                );
                continue;
            };
            let mode = match entry.metadata() {
                Ok(metadata) => normalised_mode(&metadata),
                Err(err) => {
                    self.diagnostics.push(walk_error(&root, &err));
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
fn prune(
    root: &Path,
    skip: &[PathBuf],
    ignore_files: &IgnoreFiles,
    entry: &ignore::DirEntry,
) -> Result<(), Option<Diagnostic>> {
    if entry.depth() == 0 {
        return Ok(());
    }
    let rel = entry.path().strip_prefix(root).unwrap_or(entry.path());
    let shown = escaped(&rel.to_string_lossy().replace('\\', "/"));
    let is_dir = entry.file_type().is_some_and(|t| t.is_dir());
    if ignore_files.is_ignored(entry.path(), is_dir) {
        return Err(None);
    }
    if is_dir {
        let name = entry.file_name().to_string_lossy();
        match secrets::classify_dir(&name, entry.path()) {
            None => {}
            Some(Exclusion::Noise) => return Err(None),
            Some(Exclusion::Secret(what)) => return Err(Some(secret(&shown, what))),
        }
    }
    if entry.path_is_symlink() || is_dir {
        let target = match std::fs::canonicalize(entry.path()) {
            Ok(target) => target,
            // A broken link: the walker reports it.
            Err(_) => return Ok(()),
        };
        let Ok(target_rel) = target.strip_prefix(root) else {
            return Err(Some(outside(&shown)));
        };
        if skip.iter().any(|skip| target.starts_with(skip)) {
            return Err(None);
        }
        if entry.path_is_symlink() {
            match secrets::classify_path(root, target_rel, is_dir) {
                None => {}
                Some(Exclusion::Noise) => return Err(None),
                Some(Exclusion::Secret(what)) => {
                    return Err(Some(secret(&shown, &through_link(target_rel, what))));
                }
            }
        }
    }
    Ok(())
}

/// "a symlink to `.env`, which looks like …".
fn through_link(target_rel: &Path, what: &str) -> String {
    format!(
        "a link to `{}`, which is {what}",
        escaped(&target_rel.to_string_lossy())
    )
}

/// Checks a member name: relative, `/`-separated, no `.`/`..`/empty parts, no control
/// characters.
fn check_member(member: &str) -> Result<(), &'static str> {
    if member.chars().any(is_unsafe_char) {
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

/// Control characters and the invisible characters that reorder or disguise text (the
/// "Trojan Source" bidirectional controls, marks and isolates).
fn is_unsafe_char(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with every unsafe character written as `\u{…}`, so a diagnostic shows what is there.
fn escaped(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if is_unsafe_char(c) {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

/// The name a file gets in the archive: its path under the root joined with `/`, or `None`
/// when a part is not UTF-8, has unsafe characters, or is not a plain name.
fn archive_path(rel: &Path) -> Option<String> {
    let mut parts = Vec::new();
    for component in rel.components() {
        let Component::Normal(part) = component else {
            return None;
        };
        let part = part.to_str()?;
        if part.chars().any(is_unsafe_char) {
            return None;
        }
        parts.push(part);
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

fn rel_of(root: &Path, path: &Path) -> String {
    escaped(
        &path
            .strip_prefix(root)
            .unwrap_or(path)
            .to_string_lossy()
            .replace('\\', "/"),
    )
}

fn normalised_mode(metadata: &std::fs::Metadata) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    if metadata.permissions().mode() & 0o111 != 0 {
        0o755
    } else {
        0o644
    }
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
        Some(p) => diagnostic.with_file(rel_of(root, &p)),
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
    size: u64,
    data: impl Read,
) -> io::Result<()> {
    let mut header = fixed_header(tar::EntryType::Regular, size, mode)?;
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
    /// The wheels of local distributions, which the lock installs (by path relative to it).
    #[serde(default)]
    pub wheels: Vec<WheelEntry>,
}

/// One local distribution's wheel in the manifest.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct WheelEntry {
    /// The distribution's normalised name.
    pub source: String,
    /// File name beside the manifest: `{name}-{version}-py3-none-any.whl`.
    pub wheel: String,
    /// Lower-case hex sha256 of the wheel's bytes, as the lock records it.
    pub sha256: String,
    pub size: u64,
    /// Number of files in it, its `.dist-info` included.
    pub file_count: usize,
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
    /// The sum of its files' sizes, before compression: what it takes unpacked.
    #[serde(default)]
    pub content_size: u64,
    /// Every file in it (path, size, sha256), sorted by path, so a runner can upload or
    /// unpack only the files it does not already hold.
    #[serde(default)]
    pub files: Vec<FileEntry>,
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
            content_size: packed.files.iter().map(|f| f.size).sum(),
            files: packed.files.clone(),
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
        sorted.wheels.sort();
        sorted.wheels.dedup();
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
    fn compiled_modules_in_a_package_are_not_packed_and_are_reported() {
        // Regression (issue 8): `pkg/_speed.abi3.so` went into the project archive, though a
        // binary_local module travels as nothing.
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::create_dir_all(root.join("pkg")).unwrap();
        fs_err::write(root.join("pkg/__init__.py"), "").unwrap();
        fs_err::write(root.join("pkg/_speed.abi3.so"), "ELF").unwrap();
        fs_err::write(root.join("pkg/fast.cpython-311-x86_64-linux-gnu.so"), "ELF").unwrap();
        fs_err::write(root.join("pkg/libhelper.so.1"), "not a module").unwrap();
        let archive = build(root, &members(&["pkg"])).unwrap();
        assert_eq!(archive.files, ["pkg/__init__.py", "pkg/libhelper.so.1"]);
        let mut skipped = codes_for(&archive, ARCHIVE_COMPILED_SKIPPED);
        skipped.sort();
        assert_eq!(
            skipped,
            [
                "pkg/_speed.abi3.so",
                "pkg/fast.cpython-311-x86_64-linux-gnu.so"
            ]
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
    fn a_file_that_shrinks_while_it_is_packed_is_an_error_not_a_short_entry() {
        // tar pads whatever it got to the header's size; `Exact` refuses to give less.
        let mut short = Exact {
            inner: io::Cursor::new(b"abc".to_vec()),
            left: 5,
            hasher: Sha256::new(),
        };
        let mut out = Vec::new();
        let err = io::copy(&mut short, &mut out).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::UnexpectedEof);
        let mut long = Exact {
            inner: io::Cursor::new(b"abcdef".to_vec()).take(4),
            left: 4,
            hasher: Sha256::new(),
        };
        let mut out = Vec::new();
        io::copy(&mut long, &mut out).unwrap();
        assert_eq!(out, b"abcd");
    }

    #[test]
    fn the_streamed_archive_on_disk_has_the_bytes_built_in_memory() {
        let names = members(&["mypkg", "helpers.py"]);
        let in_memory = build(&fixture(), &names).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let packed = pack(&fixture(), &names, dir.path()).unwrap();
        assert_eq!(packed.sha256, in_memory.sha256);
        assert_eq!(
            fs_err::read(dir.path().join(&packed.file_name)).unwrap(),
            in_memory.bytes
        );
        // No temporary file is left beside the archive.
        let names: Vec<String> = fs_err::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(names, [packed.file_name]);
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
            content_size: 3,
            files: vec![FileEntry {
                path: "a.py".to_string(),
                size: 3,
                sha256: "00".repeat(32),
            }],
        };
        let one = ArchiveManifest {
            archives: vec![entry("bb", "src"), entry("aa", ".")],
            ..ArchiveManifest::default()
        };
        let two = ArchiveManifest {
            archives: vec![entry("aa", "."), entry("bb", "src")],
            ..ArchiveManifest::default()
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
