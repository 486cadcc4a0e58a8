//! `.gitignore`, `.ignore` and `.git/info/exclude`, loaded by envscan itself.
//!
//! The `ignore` crate's walker reads these files on its own, with no size cap and no check
//! that they are regular files: a `.gitignore -> /dev/zero` grows one line until the process
//! aborts, a FIFO blocks it forever, and a file whose patterns do not compile (about 6,000
//! complex `**` lines exceed the regex size limit) is dropped with the files it ignores then
//! walked as if it were not there. So both walks (the scan's and the archive's) switch that
//! loading off and ask [`IgnoreFiles`] instead, which reads each file through
//! [`crate::fsread::read_capped`] and compiles it with `ignore::gitignore`.
//!
//! A file that cannot be read or compiled (not a regular file, over the cap, a pattern that is
//! not a glob, a set too large to compile) is a *failure*, recorded as an
//! [`INVALID_IGNORE_FILE`] warning naming it; its folder is walked without it. `scan` goes on
//! with the warning; `pack` refuses to write anything, since files the project meant to keep
//! out might otherwise be shipped.
//!
//! Precedence is the `ignore` crate's (and so ripgrep's): a match in any `.ignore` beats any
//! `.gitignore`, which beats `.git/info/exclude`; within a kind the deepest folder's file
//! decides. Folders are consulted from the walked path's folder up to the *ceiling*: the top
//! of the git repository holding the walk root when there is one, else the walk root itself.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use ignore::Match;
use ignore::gitignore::{Gitignore, GitignoreBuilder};

use crate::diagnostic::Diagnostic;
use crate::fsread::{self, cap};

use super::problems::INVALID_IGNORE_FILE;
use super::rules::rel_path;

/// The ignore files of one folder.
#[derive(Default)]
struct FolderRules {
    ignore: Option<Gitignore>,
    gitignore: Option<Gitignore>,
}

/// The rules of the folders above a path, innermost first.
type RulesAbove = Arc<[Arc<FolderRules>]>;

/// Loads ignore files on demand (once per folder) and answers whether a path is ignored.
pub(crate) struct IgnoreFiles {
    /// Paths in diagnostics are relative to this folder.
    shown_from: PathBuf,
    ceiling: PathBuf,
    exclude: Option<Gitignore>,
    folders: Mutex<HashMap<PathBuf, Arc<FolderRules>>>,
    /// Tells this one from the others in [`LAST`].
    id: u64,
    failures: Mutex<Vec<Diagnostic>>,
}

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

thread_local! {
    /// Per thread: which [`IgnoreFiles`], the folder it was last asked about and that folder's
    /// rules. Each thread of a walk asks about every entry of one folder in a row; one cache
    /// shared by the threads went back and forth between their folders and mostly missed.
    static LAST: RefCell<Option<(u64, PathBuf, RulesAbove)>> = const { RefCell::new(None) };
}

impl IgnoreFiles {
    /// Ignore files for a walk of `root`; folders above it count up to its git repository's
    /// top when `parents` is set and there is one.
    pub(crate) fn new(root: &Path, parents: bool) -> Self {
        let repository = root
            .ancestors()
            .find(|folder| folder.join(".git").exists())
            .map(Path::to_path_buf);
        let ceiling = match &repository {
            Some(top) if parents => top.clone(),
            _ => root.to_path_buf(),
        };
        let files = IgnoreFiles {
            shown_from: root.to_path_buf(),
            ceiling,
            exclude: None,
            folders: Mutex::new(HashMap::new()),
            id: NEXT_ID.fetch_add(1, Ordering::Relaxed),
            failures: Mutex::new(Vec::new()),
        };
        let exclude = repository.and_then(|top| {
            let git = top.join(".git");
            // A `.git` file (worktree, submodule) points elsewhere; its excludes are skipped.
            git.is_dir()
                .then(|| files.load(&top, &git.join("info/exclude")))
                .flatten()
        });
        IgnoreFiles { exclude, ..files }
    }

    /// Whether `path` (a file, or a folder when `is_dir`) is ignored. Paths not under the
    /// ceiling are never ignored.
    pub(crate) fn is_ignored(&self, path: &Path, is_dir: bool) -> bool {
        let folders = self.rules_above(path);
        let decide = |pick: fn(&FolderRules) -> Option<&Gitignore>| {
            folders
                .iter()
                .filter_map(|rules| pick(rules))
                .map(|gitignore| gitignore.matched(path, is_dir))
                .find(|m| !m.is_none())
        };
        let decided = decide(|r| r.ignore.as_ref())
            .or_else(|| decide(|r| r.gitignore.as_ref()))
            .or_else(|| {
                self.exclude
                    .as_ref()
                    .map(|g| g.matched(path, is_dir))
                    .filter(|m| !m.is_none())
            });
        matches!(decided, Some(Match::Ignore(_)))
    }

    /// The rules of every folder above `path` up to the ceiling, innermost first.
    fn rules_above(&self, path: &Path) -> RulesAbove {
        let parent = path.parent().unwrap_or(path);
        let known = LAST.with_borrow(|last| match last {
            Some((id, folder, rules))
                if *id == self.id && folder.as_os_str() == parent.as_os_str() =>
            {
                Some(Arc::clone(rules))
            }
            _ => None,
        });
        if let Some(rules) = known {
            return rules;
        }
        let rules: RulesAbove = path
            .ancestors()
            .skip(1)
            .take_while(|folder| folder.starts_with(&self.ceiling))
            .map(|folder| self.folder(folder))
            .collect();
        LAST.set(Some((self.id, parent.to_path_buf(), Arc::clone(&rules))));
        rules
    }

    /// The ignore files that failed to load so far, sorted, each once.
    pub(crate) fn failures(&self) -> Vec<Diagnostic> {
        let mut failures = self
            .failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        crate::diagnostic::sort(&mut failures);
        failures.dedup();
        failures
    }

    fn folder(&self, folder: &Path) -> Arc<FolderRules> {
        if let Some(known) = self
            .folders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(folder)
        {
            return Arc::clone(known);
        }
        let rules = Arc::new(FolderRules {
            ignore: self.load(folder, &folder.join(".ignore")),
            gitignore: self.load(folder, &folder.join(".gitignore")),
        });
        self.folders
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(folder.to_path_buf(), Arc::clone(&rules));
        rules
    }

    /// The compiled file, `None` when there is none or it failed (the failure is recorded).
    fn load(&self, folder: &Path, file: &Path) -> Option<Gitignore> {
        // Only a name that exists (a link, even a dangling one, exists) is read.
        file.symlink_metadata().ok()?;
        let bytes = match fsread::read_capped(file, cap::CONFIG) {
            Ok(bytes) => bytes,
            Err(err) => {
                let reason = match &err {
                    fsread::ReadError::NotRegular { kind, .. } => {
                        format!("it is not a regular file ({kind})")
                    }
                    fsread::ReadError::TooLarge { cap, .. } => {
                        format!("it is larger than {cap} bytes")
                    }
                    fsread::ReadError::Io { source, .. } => source.to_string(),
                    fsread::ReadError::NotUtf8 { .. } => "it is not UTF-8".to_string(),
                };
                self.fail(file, None, format!("ignore file not loaded: {reason}"));
                return None;
            }
        };
        let text = String::from_utf8_lossy(&bytes);
        let mut builder = GitignoreBuilder::new(folder);
        for (index, line) in text.lines().enumerate() {
            if let Err(err) = builder.add_line(Some(file.to_path_buf()), line) {
                let line_number = u32::try_from(index + 1).ok();
                self.fail(
                    file,
                    line_number,
                    format!("ignore file not fully loaded: {}", glob_reason(&err)),
                );
            }
        }
        match builder.build() {
            Ok(gitignore) => Some(gitignore),
            Err(err) => {
                self.fail(
                    file,
                    None,
                    format!(
                        "ignore file not loaded: its patterns do not compile ({})",
                        glob_reason(&err)
                    ),
                );
                None
            }
        }
    }

    fn fail(&self, file: &Path, line: Option<u32>, message: String) {
        let mut diagnostic = Diagnostic::warning(INVALID_IGNORE_FILE, message)
            .with_file(rel_path(&self.shown_from, file))
            .with_hint("fix or remove this file: the files it ignores were not left out");
        if let Some(line) = line {
            diagnostic = diagnostic.with_line(line);
        }
        self.failures
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(diagnostic);
    }
}

/// The reason in a glob error, short: a regex size error can be very long.
fn glob_reason(err: &ignore::Error) -> String {
    let text = match err {
        ignore::Error::Glob {
            glob: Some(glob),
            err,
        } => format!("`{glob}`: {err}"),
        ignore::Error::Glob { glob: None, err } => err.clone(),
        other => other.to_string(),
    };
    let mut short: String = text
        .lines()
        .next()
        .unwrap_or("")
        .chars()
        .take(200)
        .collect();
    if short.len() < text.len() {
        short.push('…');
    }
    short
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap();
        (dir, root)
    }

    #[test]
    fn deeper_files_decide_and_dot_ignore_beats_gitignore() {
        let (_dir, root) = setup();
        fs_err::create_dir_all(root.join("a/b")).unwrap();
        fs_err::write(root.join(".gitignore"), "*.log\nbuild/\n").unwrap();
        fs_err::write(root.join("a/.gitignore"), "!keep.log\n").unwrap();
        fs_err::write(root.join("a/b/.ignore"), "keep.log\n").unwrap();
        let files = IgnoreFiles::new(&root, false);
        assert!(files.is_ignored(&root.join("x.log"), false));
        assert!(!files.is_ignored(&root.join("a/keep.log"), false));
        assert!(files.is_ignored(&root.join("a/b/keep.log"), false));
        assert!(files.is_ignored(&root.join("a/build"), true));
        assert!(!files.is_ignored(&root.join("a/build"), false));
        assert!(files.failures().is_empty());
    }

    #[test]
    fn a_gitignore_that_is_a_fifo_or_a_device_fails_without_blocking() {
        let (_dir, root) = setup();
        fs_err::create_dir_all(root.join("sub")).unwrap();
        std::os::unix::fs::symlink("/dev/zero", root.join(".gitignore")).unwrap();
        let fifo = root.join("sub/.gitignore");
        crate::test_support::mkfifo(&fifo);
        let files = IgnoreFiles::new(&root, false);
        assert!(!files.is_ignored(&root.join("sub/a.py"), false));
        let failures = files.failures();
        let named: Vec<&str> = failures.iter().filter_map(|d| d.file.as_deref()).collect();
        assert_eq!(named, [".gitignore", "sub/.gitignore"]);
    }

    #[test]
    fn a_bad_pattern_names_its_line() {
        let (_dir, root) = setup();
        fs_err::write(root.join(".gitignore"), "ok.txt\n{a,b\n").unwrap();
        let files = IgnoreFiles::new(&root, false);
        assert!(files.is_ignored(&root.join("ok.txt"), false));
        let failures = files.failures();
        assert_eq!(failures.len(), 1);
        assert_eq!(failures[0].line, Some(2));
    }

    #[test]
    fn folders_above_count_only_inside_a_repository() {
        let (_dir, top) = setup();
        fs_err::write(top.join(".gitignore"), "secret.txt\n").unwrap();
        let root = top.join("proj");
        fs_err::create_dir_all(&root).unwrap();
        assert!(!IgnoreFiles::new(&root, true).is_ignored(&root.join("secret.txt"), false));
        fs_err::create_dir_all(top.join(".git/info")).unwrap();
        fs_err::write(top.join(".git/info/exclude"), "excluded.txt\n").unwrap();
        let files = IgnoreFiles::new(&root, true);
        assert!(files.is_ignored(&root.join("secret.txt"), false));
        assert!(files.is_ignored(&root.join("excluded.txt"), false));
        assert!(!IgnoreFiles::new(&root, false).is_ignored(&root.join("secret.txt"), false));
    }
}
