//! Turns the walker's errors into diagnostics: the walk itself never stops on one.
//!
//! The `ignore` crate reports a symlink cycle between folders as `Error::Loop`; a link that
//! points at itself (or a cycle of file links) only shows up as an I/O error `ELOOP` when it is
//! followed. `std::io::ErrorKind::FilesystemLoop` is not stable yet, so that kind is
//! recognised by its `Debug` name, which is stable text for a given variant.
//!
//! Broken links are reported only when their name is a source file (`tool.py -> gone.py`):
//! dangling links to anything else (editor lock files, stale build outputs) are common and
//! carry nothing the scan needs.

use std::io;
use std::path::Path;

use crate::diagnostic::{Code, Diagnostic};

use super::rules::{rel_path, source_kind_of};

pub const UNREADABLE_PATH: Code = Code("unreadable-path");
pub const SYMLINK_LOOP: Code = Code("symlink-loop");
pub const INVALID_IGNORE_FILE: Code = Code("invalid-ignore-file");

/// The diagnostics one walker error stands for (a partial error holds several).
pub(crate) fn diagnose(root: &Path, err: &ignore::Error) -> Vec<Diagnostic> {
    let mut found = Vec::new();
    collect(root, err, None, None, &mut found);
    found
}

fn collect(
    root: &Path,
    err: &ignore::Error,
    path: Option<&Path>,
    line: Option<u64>,
    found: &mut Vec<Diagnostic>,
) {
    use ignore::Error;
    match err {
        Error::Partial(errs) => {
            for err in errs {
                collect(root, err, path, line, found);
            }
        }
        Error::WithLineNumber { line, err } => collect(root, err, path, Some(*line), found),
        Error::WithPath { path, err } => collect(root, err, Some(path), line, found),
        Error::WithDepth { err, .. } => collect(root, err, path, line, found),
        Error::Loop { child, .. } => found.push(loop_at(root, child)),
        Error::Io(io_err) => {
            if let Some(diagnostic) = io_problem(root, path, io_err) {
                found.push(diagnostic);
            }
        }
        Error::Glob { glob, err } => {
            let glob = glob.as_deref().unwrap_or("?");
            let mut diagnostic = Diagnostic::warning(
                INVALID_IGNORE_FILE,
                format!("pattern `{glob}` is not a valid glob ({err}); it is not applied"),
            );
            if let Some(path) = path {
                diagnostic = diagnostic.with_file(rel_path(root, path));
            }
            if let Some(line) = line.and_then(|line| u32::try_from(line).ok()) {
                diagnostic = diagnostic.with_line(line);
            }
            found.push(diagnostic);
        }
        // Only produced by file-type selection, which the walk does not use.
        Error::UnrecognizedFileType(_) | Error::InvalidDefinition => {}
    }
}

fn loop_at(root: &Path, link: &Path) -> Diagnostic {
    Diagnostic::warning(
        SYMLINK_LOOP,
        "symbolic link leads back into a folder it is in; not followed",
    )
    .with_file(rel_path(root, link))
}

fn io_problem(root: &Path, path: Option<&Path>, err: &io::Error) -> Option<Diagnostic> {
    let Some(path) = path else {
        return Some(Diagnostic::warning(
            UNREADABLE_PATH,
            format!("cannot list a folder: {err}"),
        ));
    };
    let rel = rel_path(root, path);
    let is_link = fs_err::symlink_metadata(path).is_ok_and(|meta| meta.file_type().is_symlink());
    if is_link && format!("{:?}", err.kind()) == "FilesystemLoop" {
        return Some(loop_at(root, path));
    }
    if is_link && err.kind() == io::ErrorKind::NotFound {
        let named_as_source = path.file_name().and_then(source_kind_of).is_some();
        return named_as_source.then(|| {
            Diagnostic::warning(
                UNREADABLE_PATH,
                "broken symbolic link: its target does not exist",
            )
            .with_file(rel)
        });
    }
    // A path that vanished between listing and reading (a temporary file removed during
    // the walk) is simply gone, not unreadable.
    if err.kind() == io::ErrorKind::NotFound && !is_link && !path.exists() {
        return None;
    }
    if rel.is_empty() {
        return Some(Diagnostic::error(
            UNREADABLE_PATH,
            format!("cannot list the project folder: {err}"),
        ));
    }
    Some(Diagnostic::warning(UNREADABLE_PATH, format!("cannot read: {err}")).with_file(rel))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_that_cannot_be_listed_is_unreadable_with_its_relative_path() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        fs_err::create_dir_all(root.join("locked")).unwrap();
        let err = ignore::Error::WithDepth {
            depth: 1,
            err: Box::new(ignore::Error::WithPath {
                path: root.join("locked"),
                err: Box::new(ignore::Error::Io(io::Error::from(
                    io::ErrorKind::PermissionDenied,
                ))),
            }),
        };
        let found = diagnose(root, &err);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, UNREADABLE_PATH);
        assert_eq!(found[0].file.as_deref(), Some("locked"));
        assert!(
            found[0].message.contains("permission denied"),
            "{}",
            found[0]
        );
    }

    #[test]
    fn a_bad_line_in_a_gitignore_names_the_file_and_line() {
        let root = Path::new("/p");
        let err = ignore::Error::Partial(vec![ignore::Error::WithPath {
            path: root.join("sub/.gitignore"),
            err: Box::new(ignore::Error::WithLineNumber {
                line: 3,
                err: Box::new(ignore::Error::Glob {
                    glob: Some("a[".into()),
                    err: "unclosed character class".into(),
                }),
            }),
        }]);
        let found = diagnose(root, &err);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, INVALID_IGNORE_FILE);
        assert_eq!(found[0].file.as_deref(), Some("sub/.gitignore"));
        assert_eq!(found[0].line, Some(3));
    }

    #[test]
    fn a_folder_loop_names_the_link() {
        let root = Path::new("/p");
        let err = ignore::Error::Loop {
            ancestor: root.to_path_buf(),
            child: root.join("a/up"),
        };
        let found = diagnose(root, &err);
        assert_eq!(found[0].code, SYMLINK_LOOP);
        assert_eq!(found[0].file.as_deref(), Some("a/up"));
    }
}
