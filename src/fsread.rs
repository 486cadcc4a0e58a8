//! Reading files a repository or an environment provides, which are untrusted: a file is read
//! only when it is a regular file (after following links), and never past a size cap.
//!
//! A cloned repository can carry `pyproject.toml -> /dev/zero` (an endless read), a FIFO as
//! `.gitignore` (a read that never returns) or a 4 GB lock. Every reader of such a file goes
//! through [`read_capped`] / [`read_to_string_capped`]: the file is opened with `O_NONBLOCK`
//! (so opening a FIFO does not wait for a writer), checked with `fstat` on the opened handle
//! (so a link swapped after a check cannot smuggle a device in), and read through
//! [`Read::take`] one byte past the cap, so a file that grows while it is read is still caught.

use std::fs::File;
use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

/// Caps for the kinds of file envscan reads; generous for real files, small enough that a
/// hostile one cannot take the machine's memory.
pub mod cap {
    /// `pyproject.toml`, `pip.conf`, netrc, `pyvenv.cfg`, `.pth` files, ignore files.
    pub const CONFIG: u64 = 16 * 1024 * 1024;
    /// The previous lock, conda file and plan that envscan compares against.
    pub const OUTPUT: u64 = 64 * 1024 * 1024;
    /// A distribution's METADATA, RECORD or entry points.
    pub const METADATA: u64 = 64 * 1024 * 1024;
}

#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not a regular file ({kind}); it is not read", path.display())]
    NotRegular { path: PathBuf, kind: &'static str },
    #[error("{} is larger than {cap} bytes; it is not read", path.display())]
    TooLarge { path: PathBuf, cap: u64 },
    #[error("{} is not UTF-8 text", path.display())]
    NotUtf8 { path: PathBuf },
}

impl ReadError {
    /// The file does not exist (or a link to it dangles): for optional files, not an error.
    pub fn is_not_found(&self) -> bool {
        matches!(self, ReadError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

/// `path` opened for reading when it is a regular file (after following links), with its
/// length; for readers that stop early (a header, a first line) and cap what they read.
pub fn open_regular(path: &Path) -> Result<(File, u64), ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(io)?;
    regular(file, path)
}

/// `file`, opened from `path`, with its length when it is a regular file.
fn regular(file: File, path: &Path) -> Result<(File, u64), ReadError> {
    let meta = file.metadata().map_err(|source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    if !meta.is_file() {
        return Err(ReadError::NotRegular {
            path: path.to_path_buf(),
            kind: kind_of(&meta),
        });
    }
    Ok((file, meta.len()))
}

/// An open folder (`O_PATH`) whose entries are opened and looked at by name: the kernel then
/// resolves the name from the folder instead of walking the whole path from the root again.
/// What is reached is what the joined path reaches, links followed alike, as long as the
/// folder is not replaced while it is open.
#[derive(Debug)]
pub struct Folder {
    path: PathBuf,
    fd: rustix::fd::OwnedFd,
}

impl Folder {
    pub fn open(path: &Path) -> std::io::Result<Self> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::PATH | OFlags::DIRECTORY | OFlags::CLOEXEC;
        Ok(Folder {
            path: path.to_path_buf(),
            fd: rustix::fs::open(path, flags, Mode::empty())?,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The metadata of `rel` (relative) in the folder, links followed: `stat` of the joined
    /// path.
    pub fn stat(&self, rel: &Path) -> std::io::Result<rustix::fs::Stat> {
        Ok(rustix::fs::statat(
            &self.fd,
            rel,
            rustix::fs::AtFlags::empty(),
        )?)
    }

    /// [`open_regular`] of `name` in the folder; `path` (the joined path) names it in errors.
    fn open_regular(&self, name: &std::ffi::OsStr, path: &Path) -> Result<(File, u64), ReadError> {
        use rustix::fs::{Mode, OFlags};
        let flags = OFlags::RDONLY | OFlags::NONBLOCK | OFlags::CLOEXEC;
        let file = rustix::fs::openat(&self.fd, name, flags, Mode::empty()).map_err(|errno| {
            ReadError::Io {
                path: path.to_path_buf(),
                source: errno.into(),
            }
        })?;
        regular(File::from(file), path)
    }
}

/// Opens files as [`open_regular`] does, each from its [`Folder`], which stays open while the
/// files asked for are in it: a run of files from one folder (a parse task's sorted share of
/// the project) costs one lookup of the folder's path and one of each file's name, not a
/// lookup of every file's whole path (a tenth of reading a 20,000-file project's sources).
#[derive(Default)]
pub struct FolderOpener {
    folder: Option<Folder>,
}

impl FolderOpener {
    /// [`open_regular`] of `path`.
    pub fn open_regular(&mut self, path: &Path) -> Result<(File, u64), ReadError> {
        let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
            return open_regular(path);
        };
        if parent.as_os_str().is_empty() {
            return open_regular(path);
        }
        let folder = match &self.folder {
            Some(folder) if folder.path() == parent => folder,
            _ => self
                .folder
                .insert(Folder::open(parent).map_err(|source| ReadError::Io {
                    path: path.to_path_buf(),
                    source,
                })?),
        };
        folder.open_regular(name, path)
    }
}

/// [`read_capped`], invalid UTF-8 replaced (U+FFFD) as Python's readers of metadata do.
pub fn read_lossy_capped(path: &Path, cap: u64) -> Result<String, ReadError> {
    let bytes = read_capped(path, cap)?;
    Ok(match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(err) => String::from_utf8_lossy(err.as_bytes()).into_owned(),
    })
}

/// The bytes of `path` when it is a regular file of at most `cap` bytes.
pub fn read_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_path_buf(),
        source,
    };
    let (file, len) = open_regular(path)?;
    if len > cap {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    let mut bytes = Vec::with_capacity(len as usize);
    let mut limited: std::io::Take<File> = file.take(cap + 1);
    limited.read_to_end(&mut bytes).map_err(io)?;
    if bytes.len() as u64 > cap {
        return Err(ReadError::TooLarge {
            path: path.to_path_buf(),
            cap,
        });
    }
    Ok(bytes)
}

/// [`read_capped`] for text that must be UTF-8.
pub fn read_to_string_capped(path: &Path, cap: u64) -> Result<String, ReadError> {
    String::from_utf8(read_capped(path, cap)?).map_err(|_| ReadError::NotUtf8 {
        path: path.to_path_buf(),
    })
}

/// What a file that is not a regular one is, in words, for a diagnostic.
pub fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    let kind = meta.file_type();
    if kind.is_dir() {
        "a folder"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() {
        "a character device"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a regular file"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_regular_file_under_the_cap_is_read_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.txt");
        std::fs::write(&path, "hello").unwrap();
        assert_eq!(read_to_string_capped(&path, 5).unwrap(), "hello");
    }

    #[test]
    fn a_file_over_the_cap_is_refused_with_its_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.txt");
        std::fs::write(&path, "123456").unwrap();
        let err = read_capped(&path, 5).unwrap_err();
        assert!(matches!(err, ReadError::TooLarge { .. }), "{err}");
        assert!(err.to_string().contains("big.txt"));
    }

    #[test]
    fn a_link_to_dev_zero_is_refused_without_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("pyproject.toml");
        std::os::unix::fs::symlink("/dev/zero", &path).unwrap();
        let err = read_capped(&path, cap::CONFIG).unwrap_err();
        assert!(
            matches!(
                err,
                ReadError::NotRegular {
                    kind: "a character device",
                    ..
                }
            ),
            "{err}"
        );
    }

    #[test]
    fn a_fifo_is_refused_at_once_instead_of_waiting_for_a_writer() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(".gitignore");
        crate::test_support::mkfifo(&path);
        let err = read_capped(&path, cap::CONFIG).unwrap_err();
        assert!(
            matches!(err, ReadError::NotRegular { kind: "a FIFO", .. }),
            "{err}"
        );
    }

    #[test]
    fn a_folder_opener_reads_each_file_of_several_folders_as_its_path_names_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        for folder in ["a", "b", "a/c"] {
            std::fs::create_dir_all(root.join(folder)).unwrap();
        }
        std::os::unix::fs::symlink(root.join("b"), root.join("link")).unwrap();
        // Back and forth between folders, a folder reached through a link, and a file whose
        // name is that of a file in the folder before.
        let files = [
            ("a/x.py", "ax"),
            ("a/y.py", "ay"),
            ("b/x.py", "bx"),
            ("a/c/x.py", "acx"),
            ("a/x.py", "ax"),
            ("link/x.py", "bx"),
            ("b/x.py", "bx"),
        ];
        for (rel, text) in files {
            if !rel.starts_with("link/") {
                std::fs::write(root.join(rel), text).unwrap();
            }
        }
        let mut opener = FolderOpener::default();
        for (rel, text) in files {
            let (mut file, len) = opener.open_regular(&root.join(rel)).unwrap();
            let mut read = String::new();
            file.read_to_string(&mut read).unwrap();
            assert_eq!((read.as_str(), len), (text, text.len() as u64), "{rel}");
        }
        // A FIFO is refused at once, a missing file in a folder already open is not found,
        // and a missing folder is not found either.
        let fifo = root.join("a/pipe.py");
        crate::test_support::mkfifo(&fifo);
        let err = opener.open_regular(&fifo).unwrap_err();
        assert!(
            matches!(err, ReadError::NotRegular { kind: "a FIFO", .. }),
            "{err}"
        );
        assert!(
            opener
                .open_regular(&root.join("a/nope.py"))
                .unwrap_err()
                .is_not_found()
        );
        let err = opener.open_regular(&root.join("nope/x.py")).unwrap_err();
        assert!(err.is_not_found(), "{err}");
        assert!(err.to_string().contains("nope/x.py"), "{err}");
    }

    #[test]
    fn a_missing_file_is_not_found() {
        let dir = tempfile::tempdir().unwrap();
        assert!(
            read_capped(&dir.path().join("nope"), 10)
                .unwrap_err()
                .is_not_found()
        );
    }
}
