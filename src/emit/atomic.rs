//! Writing a set of outputs all or nothing, and one envscan at a time per project.
//!
//! [`OutputSet::commit`] works in three phases:
//! 1. compare: each output is read back; one whose bytes already equal the new ones is not
//!    touched at all (its mtime stays, so `make` and pre-commit see no change);
//! 2. stage: every changed output is written to a temporary file in its own folder (so the
//!    rename stays on one file system), flushed with `fsync`, and given the mode of the file it
//!    replaces (a new file gets `0o666` minus the umask, like any file the user creates);
//! 3. publish: only when every temporary file was written are they renamed into place, in path
//!    order. A rename is atomic, so a reader sees the old file or the new one, never half.
//!
//! A failure in phases 1–2 changes no target file and removes the temporary files. A rename
//! that fails in phase 3 (rare: the checks already ran) puts back the outputs renamed before
//! it, from the old bytes read in phase 1, so the set stays consistent as far as the file
//! system allows. Missing output folders are created (they are left behind if the commit then
//! fails).
//!
//! Only a regular file is ever replaced: an output path that is a symlink (dangling or not), a
//! folder, a FIFO, a device or a socket is an error in phase 1, and nothing is written. An
//! existing output is read back through [`crate::fsread`]; one over
//! [`crate::fsread::cap::OUTPUT`] is not read at all and counts as stale (it is replaced, and
//! cannot be put back if a later rename fails).
//!
//! Three renames are not one: a process killed between two of them leaves a set from two runs.
//! Each output therefore records the set it belongs to (`crate::outputs::SetMarks`), the next
//! run detects a mixed set and rewrites it, and [`OutputSet::commit`] first removes the
//! `.envscan-XXXXXX.tmp` files a killed run left in the output folders (regular files only,
//! older than the set, and not locked: a live writer holds a `flock` on its own).
//!
//! [`ProjectLock`] serialises envscan runs on one project: two `envscan lock` started at the
//! same moment take turns, the second printing "waiting for lock on ..." on stderr. On Unix the
//! lock is an advisory `flock` on the project folder itself, so nothing is added to the project
//! tree and nothing is left behind; where a folder cannot be locked (some network file systems,
//! Windows) it falls back to a lock file in the system temporary folder named after a hash of
//! the project's canonical path. The lock is released when the [`ProjectLock`] is dropped or
//! the process ends, even by a crash.

use std::collections::BTreeMap;
use std::fs::TryLockError;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use sha2::{Digest, Sha256};
use tempfile::NamedTempFile;

/// A problem writing outputs. Each names the path involved.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("cannot write to folder {}: {source}", folder.display())]
    Folder {
        folder: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot write {}: it is a folder", path.display())]
    IsFolder { path: PathBuf },
    #[error("cannot write {}: it is {kind}, and envscan replaces only regular files", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("cannot write {}: it is a symbolic link (to {}); envscan neither follows nor replaces it", path.display(), target.display())]
    Symlink { path: PathBuf, target: PathBuf },
    #[error("cannot read the existing {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("cannot replace {}: {source}", path.display())]
    Replace {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

/// What a commit did, each list sorted by path.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Committed {
    /// Created or rewritten.
    pub changed: Vec<PathBuf>,
    /// Already held exactly these bytes; not touched.
    pub unchanged: Vec<PathBuf>,
}

/// Outputs to write together: path → bytes.
#[derive(Clone, Debug)]
pub struct OutputSet {
    outputs: BTreeMap<PathBuf, Vec<u8>>,
    /// Temporary files older than this in the output folders are a killed run's leftovers.
    created: SystemTime,
}

impl Default for OutputSet {
    fn default() -> Self {
        Self {
            outputs: BTreeMap::new(),
            created: SystemTime::now(),
        }
    }
}

/// An output whose bytes differ from the file on disk, with what was there before.
struct Pending<'a> {
    path: &'a Path,
    bytes: &'a [u8],
    /// The bytes there before, when there was a file and it was under the cap.
    old: Option<Vec<u8>>,
    /// There was a file (maybe too large to keep its bytes).
    existed: bool,
}

impl OutputSet {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds an output; adding the same path again replaces its bytes.
    pub fn add(&mut self, path: impl Into<PathBuf>, bytes: impl Into<Vec<u8>>) {
        self.outputs.insert(path.into(), bytes.into());
    }

    pub fn len(&self) -> usize {
        self.outputs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.outputs.is_empty()
    }

    /// Paths whose file on disk differs from the bytes to write (or does not exist), sorted.
    /// Writes nothing: this is what `--check` needs.
    pub fn stale(&self) -> Result<Vec<PathBuf>, OutputError> {
        Ok(self
            .pending()?
            .0
            .into_iter()
            .map(|p| p.path.to_path_buf())
            .collect())
    }

    /// Writes every changed output, all or nothing (see the module documentation).
    pub fn commit(&self) -> Result<Committed, OutputError> {
        let mut folders: Vec<&Path> = self.outputs.keys().map(|p| folder_of(p)).collect();
        folders.dedup();
        for folder in folders {
            remove_stale_temp_files(folder, self.created);
        }
        let (pending, unchanged) = self.pending()?;
        let mut staged = Vec::with_capacity(pending.len());
        for item in &pending {
            staged.push(stage(item)?);
        }
        let mut changed = Vec::with_capacity(pending.len());
        let mut folders = Vec::new();
        for (index, temp) in staged.into_iter().enumerate() {
            let item = &pending[index];
            if let Err(err) = temp.persist(item.path) {
                restore(&pending[..index]);
                return Err(OutputError::Replace {
                    path: item.path.to_path_buf(),
                    source: err.error,
                });
            }
            changed.push(item.path.to_path_buf());
            folders.push(folder_of(item.path).to_path_buf());
        }
        folders.dedup();
        for folder in folders {
            sync_folder(&folder);
        }
        Ok(Committed { changed, unchanged })
    }

    /// Phase 1: splits the outputs into those to write and those already current.
    fn pending(&self) -> Result<(Vec<Pending<'_>>, Vec<PathBuf>), OutputError> {
        let mut pending = Vec::new();
        let mut unchanged = Vec::new();
        for (path, bytes) in &self.outputs {
            let new = |old, existed| Pending {
                path,
                bytes,
                old,
                existed,
            };
            match std::fs::symlink_metadata(path) {
                Ok(meta) if meta.file_type().is_symlink() => {
                    return Err(OutputError::Symlink {
                        path: path.clone(),
                        target: std::fs::read_link(path).unwrap_or_default(),
                    });
                }
                Ok(meta) if meta.is_dir() => {
                    return Err(OutputError::IsFolder { path: path.clone() });
                }
                Ok(meta) if !meta.is_file() => {
                    return Err(OutputError::NotRegular {
                        path: path.clone(),
                        kind: crate::fsread::kind_of(&meta),
                    });
                }
                Ok(meta) if meta.len() > crate::fsread::cap::OUTPUT => {
                    pending.push(new(None, true));
                }
                Ok(_) => match crate::fsread::read_capped(path, crate::fsread::cap::OUTPUT) {
                    Ok(old) if old == *bytes => unchanged.push(path.clone()),
                    Ok(old) => pending.push(new(Some(old), true)),
                    // Grew past the cap since the check: stale, and not kept.
                    Err(crate::fsread::ReadError::TooLarge { .. }) => {
                        pending.push(new(None, true));
                    }
                    Err(err) => {
                        return Err(OutputError::Read {
                            path: path.clone(),
                            source: io::Error::other(err.to_string()),
                        });
                    }
                },
                // A parent that is a file (`NotADirectory`) means the folder cannot be
                // written; staging reports it with the folder's name.
                Err(err)
                    if matches!(
                        err.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    pending.push(new(None, false));
                }
                Err(source) => {
                    return Err(OutputError::Read {
                        path: path.clone(),
                        source,
                    });
                }
            }
        }
        Ok((pending, unchanged))
    }
}

/// The folder an output goes to; `.` for a bare file name.
fn folder_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Phase 2: writes one output to a flushed temporary file beside it.
fn stage(item: &Pending<'_>) -> Result<NamedTempFile, OutputError> {
    let folder = folder_of(item.path);
    let folder_error = |source: io::Error| OutputError::Folder {
        folder: folder.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(folder).map_err(folder_error)?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(".envscan-").suffix(".tmp");
    #[cfg(unix)]
    let new_file_mode = {
        use std::os::unix::fs::PermissionsExt;
        std::fs::Permissions::from_mode(0o666)
    };
    #[cfg(unix)]
    builder.permissions(new_file_mode);
    let mut temp = locked_temp_file(&builder, folder).map_err(folder_error)?;
    temp.write_all(item.bytes).map_err(folder_error)?;
    temp.as_file().sync_all().map_err(folder_error)?;
    if item.existed
        && let Ok(metadata) = std::fs::metadata(item.path)
    {
        // Keep the mode the user gave the file (exactly: fchmod ignores the umask).
        temp.as_file()
            .set_permissions(metadata.permissions())
            .map_err(folder_error)?;
    }
    Ok(temp)
}

/// A new temporary file in `folder`, holding an exclusive `flock` until it is renamed and
/// closed: that marks it as a live run's to [`remove_stale_temp_files`]. A cleaner in another
/// run may take the lock between the file's creation and ours and remove it; then the file we
/// hold is no longer the one at its path, and another is made. Where the file system has no
/// locks, the file is used unlocked (the age check still protects it).
fn locked_temp_file(
    builder: &tempfile::Builder<'_, '_>,
    folder: &Path,
) -> io::Result<NamedTempFile> {
    use std::os::unix::fs::MetadataExt;
    for _ in 0..16 {
        let temp = builder.tempfile_in(folder)?;
        if temp.as_file().lock().is_err() {
            return Ok(temp);
        }
        let held = temp.as_file().metadata()?;
        let still_there = std::fs::symlink_metadata(temp.path())
            .is_ok_and(|m| m.dev() == held.dev() && m.ino() == held.ino());
        if still_there {
            return Ok(temp);
        }
        // Removed under us: forget it (its path may now be another file) and make another.
        let _ = temp.into_temp_path().keep();
    }
    Err(io::Error::other("temporary files keep disappearing"))
}

/// Puts back outputs already renamed when a later rename failed; best effort.
fn restore(done: &[Pending<'_>]) {
    for item in done {
        match &item.old {
            Some(old) => {
                let back = Pending {
                    path: item.path,
                    bytes: old,
                    old: None,
                    existed: true,
                };
                if let Ok(temp) = stage(&back) {
                    let _ = temp.persist(item.path);
                }
            }
            // Too large to have been kept: the new file stays.
            None if item.existed => {}
            None => {
                let _ = std::fs::remove_file(item.path);
            }
        }
    }
}

/// Whether `name` is one of the temporary files [`stage`] makes: `.envscan-XXXXXX.tmp`.
fn is_temp_name(name: &str) -> bool {
    name.strip_prefix(".envscan-")
        .and_then(|rest| rest.strip_suffix(".tmp"))
        .is_some_and(|middle| {
            middle.len() == 6 && middle.chars().all(|c| c.is_ascii_alphanumeric())
        })
}

/// Removes the temporary files a killed run left in `folder`: regular files (links and
/// anything else are left alone) named like ours, last changed before `before`, and not
/// locked. A live writer holds an exclusive `flock` on its temporary file from the moment it
/// makes it (see [`stage`]); the kernel drops that lock when the process dies, however it dies,
/// so a lock that can be taken marks a dead run's file, and another run's file in progress is
/// never removed.
fn remove_stale_temp_files(folder: &Path, before: SystemTime) {
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(listing) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in listing.flatten() {
        if !entry.file_name().to_str().is_some_and(is_temp_name) {
            continue;
        }
        let path = entry.path();
        let Ok(file) = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(&path)
        else {
            continue;
        };
        let Ok(meta) = file.metadata() else {
            continue;
        };
        if meta.is_file() && meta.modified().is_ok_and(|m| m < before) && file.try_lock().is_ok() {
            let _ = std::fs::remove_file(&path);
        }
    }
}

/// Flushes a folder so the renames in it survive a power cut (Unix; best effort).
fn sync_folder(folder: &Path) {
    #[cfg(unix)]
    if let Ok(dir) = std::fs::File::open(folder) {
        let _ = dir.sync_all();
    }
    #[cfg(not(unix))]
    let _ = folder;
}

/// A problem taking the project lock.
#[derive(Debug, thiserror::Error)]
#[error("cannot lock {}: {source}", path.display())]
pub struct LockError {
    pub path: PathBuf,
    #[source]
    pub source: io::Error,
}

/// An exclusive advisory lock on a project, held until dropped.
#[derive(Debug)]
pub struct ProjectLock {
    file: fs_err::File,
}

impl ProjectLock {
    /// Takes the lock, printing "waiting for lock on PATH" on stderr if another envscan holds
    /// it, then waiting for it.
    pub fn acquire(project_root: &Path) -> Result<Self, LockError> {
        Self::acquire_with(project_root, |path| {
            eprintln!(
                "waiting for lock on {} (another envscan is running there)",
                path.display()
            );
        })
    }

    /// Takes the lock, calling `on_wait` with the project folder before waiting if it is held.
    pub fn acquire_with(
        project_root: &Path,
        on_wait: impl FnOnce(&Path),
    ) -> Result<Self, LockError> {
        let root = fs_err::canonicalize(project_root).map_err(|source| LockError {
            path: project_root.to_path_buf(),
            source,
        })?;
        let mut on_wait = Some(on_wait);
        let mut wait = |file: &fs_err::File| -> io::Result<()> {
            match file.try_lock() {
                Ok(()) => Ok(()),
                Err(TryLockError::WouldBlock) => {
                    if let Some(notify) = on_wait.take() {
                        notify(&root);
                    }
                    file.lock()
                }
                Err(TryLockError::Error(err)) => Err(err),
            }
        };
        #[cfg(unix)]
        if let Ok(folder) = fs_err::File::open(&root)
            && wait(&folder).is_ok()
        {
            return Ok(Self { file: folder });
        }
        let path = fallback_lock_path(&root);
        let file = fs_err::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|source| LockError {
                path: path.clone(),
                source,
            })?;
        wait(&file).map_err(|source| LockError { path, source })?;
        Ok(Self { file })
    }
}

impl Drop for ProjectLock {
    fn drop(&mut self) {
        // Closing the file releases the lock anyway; unlocking first just makes it prompt.
        let _ = self.file.unlock();
    }
}

/// `<temp>/envscan-<first 16 hex of sha256(canonical root)>.lock`.
fn fallback_lock_path(root: &Path) -> PathBuf {
    let digest = Sha256::digest(root.as_os_str().as_encoded_bytes());
    let name = format!("envscan-{}.lock", &hex::encode(digest)[..16]);
    std::env::temp_dir().join(name)
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::{Duration, SystemTime};

    use super::*;

    fn set_of(outputs: &[(&Path, &str)]) -> OutputSet {
        let mut set = OutputSet::new();
        for (path, text) in outputs {
            set.add(*path, text.as_bytes());
        }
        set
    }

    fn leftover_temp_files(folder: &Path) -> Vec<String> {
        fs_err::read_dir(folder)
            .unwrap()
            .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
            .filter(|name| name.starts_with(".envscan-"))
            .collect()
    }

    #[test]
    fn new_outputs_are_written_and_reported_as_changed() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("pylock.envscan.toml");
        let plan = dir.path().join("out/envscan.plan.json");
        let committed = set_of(&[(&lock, "lock\n"), (&plan, "{}\n")])
            .commit()
            .unwrap();
        assert_eq!(committed.changed, vec![plan.clone(), lock.clone()]);
        assert!(committed.unchanged.is_empty());
        assert_eq!(fs_err::read_to_string(&lock).unwrap(), "lock\n");
        assert_eq!(fs_err::read_to_string(&plan).unwrap(), "{}\n");
        assert!(leftover_temp_files(dir.path()).is_empty());
    }

    #[test]
    fn unchanged_content_leaves_the_file_and_its_mtime_alone() {
        let dir = tempfile::tempdir().unwrap();
        let lock = dir.path().join("pylock.envscan.toml");
        fs_err::write(&lock, "same\n").unwrap();
        let old = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000_000);
        fs_err::File::options()
            .write(true)
            .open(&lock)
            .unwrap()
            .set_modified(old)
            .unwrap();
        let committed = set_of(&[(&lock, "same\n")]).commit().unwrap();
        assert!(committed.changed.is_empty());
        assert_eq!(committed.unchanged, vec![lock.clone()]);
        assert_eq!(fs_err::metadata(&lock).unwrap().modified().unwrap(), old);
    }

    #[test]
    fn a_second_output_that_cannot_be_written_leaves_the_first_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.toml");
        fs_err::write(&first, "old\n").unwrap();
        // The second output's folder is a file: no user (not even root) can write into it.
        let blocker = dir.path().join("out");
        fs_err::write(&blocker, "not a folder").unwrap();
        let second = blocker.join("b.json");
        let err = set_of(&[(&first, "new\n"), (&second, "{}\n")])
            .commit()
            .unwrap_err();
        match &err {
            OutputError::Folder { folder, .. } => assert_eq!(folder, &blocker),
            other => panic!("unexpected error {other:?}"),
        }
        assert!(err.to_string().contains(&blocker.display().to_string()));
        assert_eq!(fs_err::read_to_string(&first).unwrap(), "old\n");
        assert!(leftover_temp_files(dir.path()).is_empty());
    }

    #[test]
    fn an_output_that_is_a_folder_is_an_error_naming_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = dir.path().join("a.toml");
        let second = dir.path().join("b.json");
        fs_err::create_dir(&second).unwrap();
        let err = set_of(&[(&first, "new\n"), (&second, "{}\n")])
            .commit()
            .unwrap_err();
        assert!(matches!(&err, OutputError::IsFolder { path } if path == &second));
        assert!(!first.exists());
    }

    #[cfg(unix)]
    #[test]
    fn a_rewritten_output_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("run.sh");
        fs_err::write(&path, "old\n").unwrap();
        fs_err::set_permissions(&path, std::fs::Permissions::from_mode(0o750)).unwrap();
        set_of(&[(&path, "new\n")]).commit().unwrap();
        let mode = fs_err::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o750);
    }

    #[cfg(unix)]
    #[test]
    fn a_new_output_gets_the_mode_of_any_new_file_not_the_temp_files_0600() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let reference = dir.path().join("reference");
        fs_err::write(&reference, "x").unwrap();
        let path = dir.path().join("pylock.envscan.toml");
        set_of(&[(&path, "new\n")]).commit().unwrap();
        let mode = |p: &Path| fs_err::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&path), mode(&reference));
    }

    #[test]
    fn stale_lists_only_outputs_that_differ_and_writes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let same = dir.path().join("same");
        let differs = dir.path().join("differs");
        let missing = dir.path().join("missing");
        fs_err::write(&same, "x").unwrap();
        fs_err::write(&differs, "old").unwrap();
        let set = set_of(&[(&same, "x"), (&differs, "new"), (&missing, "m")]);
        assert_eq!(set.stale().unwrap(), vec![differs.clone(), missing.clone()]);
        assert_eq!(fs_err::read_to_string(&differs).unwrap(), "old");
        assert!(!missing.exists());
    }

    #[test]
    fn concurrent_commits_of_the_same_set_leave_valid_identical_files() {
        let dir = tempfile::tempdir().unwrap();
        let paths: Vec<PathBuf> = ["a.toml", "b.yaml", "c/d.json"]
            .iter()
            .map(|name| dir.path().join(name))
            .collect();
        // Large enough that a torn write would show.
        let body = "0123456789abcdef\n".repeat(20_000);
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for round in 0..10 {
                        let mut set = OutputSet::new();
                        for path in &paths {
                            // Alternate between two versions so renames really race.
                            set.add(path, format!("{round}\n{body}").into_bytes());
                        }
                        set.commit().unwrap();
                        for path in &paths {
                            let text = fs_err::read_to_string(path).unwrap();
                            assert!(text.ends_with(&body), "torn file {}", path.display());
                        }
                    }
                });
            }
        });
        for path in &paths {
            assert_eq!(fs_err::read_to_string(path).unwrap(), format!("9\n{body}"));
        }
        assert!(leftover_temp_files(dir.path()).is_empty());
        assert!(leftover_temp_files(&dir.path().join("c")).is_empty());
    }

    #[test]
    fn a_second_lock_waits_for_the_first_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let first = ProjectLock::acquire(dir.path()).unwrap();
        let (notice_tx, notice_rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel();
        let root = dir.path().to_path_buf();
        let waiter = std::thread::spawn(move || {
            let lock = ProjectLock::acquire_with(&root, |path| {
                notice_tx.send(path.to_path_buf()).unwrap();
            })
            .unwrap();
            done_tx.send(()).unwrap();
            drop(lock);
        });
        let waited_on = notice_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(waited_on, fs_err::canonicalize(dir.path()).unwrap());
        // Still held: the waiter must not get through.
        assert!(done_rx.recv_timeout(Duration::from_millis(200)).is_err());
        drop(first);
        done_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        waiter.join().unwrap();
    }

    #[test]
    fn a_free_lock_is_taken_without_waiting() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ProjectLock::acquire_with(dir.path(), |_| panic!("should not wait"));
        assert!(lock.is_ok());
        drop(lock);
        // Released on drop: it can be taken again at once.
        assert!(ProjectLock::acquire_with(dir.path(), |_| panic!("should not wait")).is_ok());
    }

    #[test]
    fn the_lock_leaves_nothing_in_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let lock = ProjectLock::acquire(dir.path()).unwrap();
        assert_eq!(fs_err::read_dir(dir.path()).unwrap().count(), 0);
        drop(lock);
    }
}
