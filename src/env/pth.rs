//! `.pth` files and legacy `*.egg-link` files of a site-packages folder, read as `site.py`
//! reads them (<https://docs.python.org/3/library/site.html>), without executing anything.
//!
//! - Files are taken in alphabetical order; hidden ones (`.name.pth`) are skipped as Python
//!   3.13 does.
//! - Blank lines and lines starting with `#` are skipped.
//! - Lines starting with `import ` or `import\t` are code: never run, but kept so setuptools'
//!   editable finders they install can be read statically (see [`super::editable`]).
//! - Any other line is a path, joined to the site-packages folder when relative and
//!   normalised; only trailing whitespace is stripped, so a line with leading whitespace is
//!   a path that normally does not exist. Paths that do not exist are left out, as Python does.
//! - `easy-install.pth` is an ordinary `.pth` file; an `*.egg-link` file's first line names the
//!   folder of a `setup.py develop` install.

use std::ffi::OsString;
use std::fs::FileType;
use std::path::{Path, PathBuf};

use super::record::normalize_lexically;
use crate::diagnostic::{Code, Diagnostic};
use crate::fsread::{self, cap};
use crate::index::redact;

pub const PTH_UNREADABLE: Code = Code("pth-unreadable");
pub const PTH_PATH_MISSING: Code = Code("pth-path-missing");

/// One `.pth` file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PthFile {
    pub file: PathBuf,
    /// Folders it adds, in order, existing ones only.
    pub paths: Vec<PathBuf>,
    /// `import` lines, with their 1-based line number.
    pub imports: Vec<(u32, String)>,
}

/// Parses the text of a `.pth` file in `site_packages`. `exists` decides which paths count.
pub fn parse(
    file: &Path,
    text: &str,
    site_packages: &Path,
    exists: impl Fn(&Path) -> bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> PthFile {
    let mut out = PthFile {
        file: file.to_path_buf(),
        ..PthFile::default()
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut missing = 0usize;
    for (index, line) in text.lines().enumerate() {
        let number = index as u32 + 1;
        if line.starts_with('#') || line.trim().is_empty() {
            continue;
        }
        if line.starts_with("import ") || line.starts_with("import\t") {
            out.imports.push((number, line.trim_end().to_string()));
            continue;
        }
        let path = normalize_lexically(&site_packages.join(line.trim_end()));
        if exists(&path) {
            if !out.paths.contains(&path) {
                out.paths.push(path);
            }
        } else {
            missing += 1;
            if missing > MAX_MISSING_REPORTED {
                continue;
            }
            // A line may be a URL with credentials: never show its userinfo.
            let shown = if line.contains("://") {
                redact::redact_url(line.trim())
            } else {
                path.display().to_string()
            };
            diagnostics.push(
                Diagnostic::info(
                    PTH_PATH_MISSING,
                    format!("path {shown} does not exist; Python skips it"),
                )
                .with_file(file.display().to_string())
                .with_line(number),
            );
        }
    }
    if missing > MAX_MISSING_REPORTED {
        diagnostics.push(
            Diagnostic::info(
                PTH_PATH_MISSING,
                format!(
                    "and {} more paths that do not exist",
                    missing - MAX_MISSING_REPORTED
                ),
            )
            .with_file(file.display().to_string()),
        );
    }
    out
}

/// Missing paths reported one by one per `.pth` file; the rest are counted in one diagnostic
/// (a hostile file of a million lines must not make a million diagnostics).
pub const MAX_MISSING_REPORTED: usize = 20;

/// Every `.pth` file of a site-packages folder, in alphabetical order.
///
/// `entries` are the folder's ([`list_entries`]), shared with the other readers of it.
pub fn read_folder(
    site_packages: &Path,
    entries: &[(OsString, Option<FileType>)],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<PthFile> {
    let names = entries
        .iter()
        .filter_map(|(n, _)| n.to_str())
        .filter(|n| n.ends_with(".pth") && !n.starts_with('.'));
    let mut out = Vec::new();
    for name in names {
        let file = site_packages.join(name);
        match fsread::read_lossy_capped(&file, cap::CONFIG) {
            Ok(text) => out.push(parse(
                &file,
                &text,
                site_packages,
                |p| p.exists(),
                diagnostics,
            )),
            Err(err) => diagnostics.push(
                Diagnostic::warning(PTH_UNREADABLE, err.to_string())
                    .with_file(file.display().to_string()),
            ),
        }
    }
    out
}

/// A folder's entries: each name with the type the listing gave (`None` when it gave none),
/// in byte order of the names.
pub type Entries = Vec<(OsString, Option<FileType>)>;

/// The entries of `folder` (none when it cannot be listed): one listing for the `.pth` files,
/// the egg-links and the metadata folders of a site-packages folder, which holds a folder or
/// two per distribution.
pub fn list_entries(folder: &Path) -> Entries {
    let Ok(entries) = fs_err::read_dir(folder) else {
        return Vec::new();
    };
    let mut out: Entries = entries
        .flatten()
        .map(|e| (e.file_name(), e.file_type().ok()))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

/// A legacy `*.egg-link` file and the folder it names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EggLink {
    pub file: PathBuf,
    pub target: PathBuf,
}

/// Every `*.egg-link` file of a site-packages folder whose target exists, sorted.
///
/// `entries` are the folder's ([`list_entries`]).
pub fn egg_links(
    site_packages: &Path,
    entries: &[(OsString, Option<FileType>)],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<EggLink> {
    let files = entries
        .iter()
        .filter(|(n, _)| Path::new(n).extension().is_some_and(|e| e == "egg-link"))
        .map(|(n, _)| site_packages.join(n));
    let mut out = Vec::new();
    for file in files {
        let text = match fsread::read_lossy_capped(&file, cap::CONFIG) {
            Ok(text) => text,
            Err(err) => {
                diagnostics.push(
                    Diagnostic::warning(PTH_UNREADABLE, err.to_string())
                        .with_file(file.display().to_string()),
                );
                continue;
            }
        };
        let Some(first) = text.lines().map(str::trim).find(|l| !l.is_empty()) else {
            continue;
        };
        let target = normalize_lexically(&site_packages.join(first));
        if target.is_dir() {
            out.push(EggLink { file, target });
        } else {
            diagnostics.push(
                Diagnostic::warning(
                    PTH_PATH_MISSING,
                    format!(
                        "egg-link target {} does not exist",
                        if first.contains("://") {
                            redact::redact_url(first)
                        } else {
                            target.display().to_string()
                        }
                    ),
                )
                .with_file(file.display().to_string()),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse_text(text: &str) -> (PthFile, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let pth = parse(
            Path::new("/sp/x.pth"),
            text,
            Path::new("/sp"),
            |p| !p.to_string_lossy().contains("missing"),
            &mut diags,
        );
        (pth, diags)
    }

    #[test]
    fn relative_path_lines_join_the_site_packages_folder() {
        let (pth, _) = parse_text("../src\n/abs/dir\n");
        assert_eq!(
            pth.paths,
            [PathBuf::from("/src"), PathBuf::from("/abs/dir")]
        );
    }

    #[test]
    fn blank_comment_and_import_lines_add_no_path() {
        let (pth, diags) = parse_text("\n# comment\n   \nimport __editable___x_finder; x()\n");
        assert!(pth.paths.is_empty());
        assert_eq!(
            pth.imports,
            [(4, "import __editable___x_finder; x()".to_string())]
        );
        assert!(diags.is_empty());
    }

    #[test]
    fn pth_line_with_leading_whitespace_is_a_path_not_an_import() {
        let (pth, _) = parse_text(" import missing\n");
        assert!(pth.imports.is_empty());
        assert!(pth.paths.is_empty());
    }

    #[test]
    fn missing_paths_are_skipped_with_an_info_diagnostic() {
        let (pth, diags) = parse_text("missing\nsrc\nsrc\n");
        assert_eq!(pth.paths, [PathBuf::from("/sp/src")]);
        assert_eq!(diags[0].code, PTH_PATH_MISSING);
        assert_eq!(diags[0].line, Some(1));
    }
}
