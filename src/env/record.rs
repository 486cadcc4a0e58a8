//! `RECORD` files (<https://packaging.python.org/en/latest/specifications/recording-installed-packages/#the-record-file>)
//! and where their entries lead.
//!
//! A RECORD is CSV: `path,hash,size`, paths relative to the site-packages folder with `/`,
//! fields quoted with `"` when they hold a comma. Rows with an unterminated quote, more than
//! three fields, an empty path or control characters are diagnostics and skipped; a bad size
//! is a diagnostic and the path is kept.
//!
//! Resolution ([`place`]): `../../bin/tool` and `../../share/jupyter/...` lead outside
//! site-packages but stay inside the prefix: external files. An absolute entry, or one that
//! normalises outside the prefix, is refused and never read (uv does the same: "Invalid
//! RECORD entry ... that escapes the Python environment").

use std::path::{Component, Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};

pub const RECORD_INVALID_ROW: Code = Code("record-invalid-row");
pub const RECORD_ABSOLUTE_PATH: Code = Code("record-absolute-path");
pub const RECORD_ESCAPES_PREFIX: Code = Code("record-escapes-prefix");

/// One row of a RECORD.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordEntry<'a> {
    /// Borrowed from the RECORD text, owned only for a quoted field.
    pub path: std::borrow::Cow<'a, str>,
    /// Whether the row carries a hash (the hash itself is never needed: files are not
    /// verified).
    pub has_hash: bool,
    pub size: Option<u64>,
    /// 1-based line in the RECORD.
    pub line: u32,
}

/// Parses RECORD text; bad rows become diagnostics on `file`.
pub fn parse<'a>(
    text: &'a str,
    file: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<RecordEntry<'a>> {
    let mut entries = Vec::new();
    let invalid = |line: u32, why: &str| {
        Diagnostic::warning(
            RECORD_INVALID_ROW,
            format!("RECORD row {line} skipped: {why}"),
        )
        .with_file(file.display().to_string())
        .with_line(line)
    };
    for (index, line) in text.lines().enumerate() {
        let number = index as u32 + 1;
        if line.trim().is_empty() {
            continue;
        }
        // Quoted rows are rare (a comma in a file name); split the rest without allocating.
        let fields: Vec<std::borrow::Cow<'a, str>> = if line.contains('"') {
            let Some(fields) = split_row(line) else {
                diagnostics.push(invalid(number, "unterminated quote"));
                continue;
            };
            fields.into_iter().map(std::borrow::Cow::Owned).collect()
        } else {
            line.split(',').map(std::borrow::Cow::Borrowed).collect()
        };
        if fields.len() > 3 {
            diagnostics.push(invalid(number, "more than three fields"));
            continue;
        }
        let path = fields[0].clone();
        if path.is_empty() {
            diagnostics.push(invalid(number, "empty path"));
            continue;
        }
        if path.chars().any(char::is_control) {
            diagnostics.push(invalid(number, "control character in path"));
            continue;
        }
        let size = match fields.get(2).map(|s| s.trim()).filter(|s| !s.is_empty()) {
            None => None,
            Some(text) => match text.parse() {
                Ok(size) => Some(size),
                Err(_) => {
                    diagnostics.push(
                        Diagnostic::warning(
                            RECORD_INVALID_ROW,
                            format!("RECORD row {number}: size {text:?} is not a number"),
                        )
                        .with_file(file.display().to_string())
                        .with_line(number),
                    );
                    None
                }
            },
        };
        entries.push(RecordEntry {
            path,
            has_hash: fields.get(1).is_some_and(|h| !h.is_empty()),
            size,
            line: number,
        });
    }
    entries
}

/// Splits one CSV row (`"` quoting, `""` escapes). `None` on an unterminated quote.
fn split_row(line: &str) -> Option<Vec<String>> {
    let mut fields = Vec::with_capacity(3);
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => in_quotes = false,
            (false, '"') if field.is_empty() => in_quotes = true,
            (false, ',') => fields.push(std::mem::take(&mut field)),
            (_, c) => field.push(c),
        }
    }
    if in_quotes {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// Where a RECORD entry leads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Placement {
    /// Inside the site-packages folder.
    Inside(PathBuf),
    /// Inside the prefix, outside site-packages.
    External(PathBuf),
}

/// Why an entry was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    Absolute,
    EscapesPrefix,
}

/// Resolves an entry against `base` (the folder entries are relative to), keeping it inside
/// `prefix`. Purely lexical: nothing is read.
pub fn place(
    entry: &str,
    base: &Path,
    site_packages: &Path,
    prefix: &Path,
) -> Result<Placement, Refusal> {
    if is_absolute_entry(entry) {
        return Err(Refusal::Absolute);
    }
    // Most entries are plain `pkg/mod.py` relative to site-packages itself: no need to
    // normalise those. (Bytes compared: comparing paths goes component by component.)
    if base.as_os_str() == site_packages.as_os_str()
        && !entry
            .split(['/', '\\'])
            .any(|c| c.is_empty() || c == "." || c == "..")
    {
        return Ok(Placement::Inside(base.join(entry)));
    }
    let joined = normalize_lexically(&base.join(entry));
    if joined.starts_with(site_packages) {
        Ok(Placement::Inside(joined))
    } else if joined.starts_with(prefix) {
        Ok(Placement::External(joined))
    } else {
        Err(Refusal::EscapesPrefix)
    }
}

/// `/x`, `\x`, `C:\x` or `C:/x`, whatever the platform: RECORD paths must be relative.
fn is_absolute_entry(entry: &str) -> bool {
    let bytes = entry.as_bytes();
    entry.starts_with('/')
        || entry.starts_with('\\')
        || (bytes.len() >= 2 && bytes[0].is_ascii_alphabetic() && bytes[1] == b':')
        || Path::new(entry).is_absolute()
}

/// The diagnostic for a refused entry.
pub fn refusal_diagnostic(refusal: Refusal, entry: &RecordEntry<'_>, record: &Path) -> Diagnostic {
    let (code, why) = match refusal {
        Refusal::Absolute => (RECORD_ABSOLUTE_PATH, "is absolute"),
        Refusal::EscapesPrefix => (RECORD_ESCAPES_PREFIX, "leads out of the environment"),
    };
    Diagnostic::warning(
        code,
        format!("RECORD entry {:?} {why}; skipped", entry.path),
    )
    .with_file(record.display().to_string())
    .with_line(entry.line)
}

/// Removes `.` and resolves `..` against earlier components without touching the disk
/// (`os.path.normpath`). `..` at the root stays at the root.
pub fn normalize_lexically(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if matches!(out.components().next_back(), Some(Component::Normal(_))) {
                    out.pop();
                } else if !out.has_root() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SP: &str = "/env/lib/python3.11/site-packages";

    fn placed(entry: &str) -> Result<Placement, Refusal> {
        place(entry, Path::new(SP), Path::new(SP), Path::new("/env"))
    }

    #[test]
    fn quoted_paths_with_commas_are_one_field() {
        let rows = parse(
            "\"a,b.py\",sha256=x,12\nplain.py,,\n",
            Path::new("RECORD"),
            &mut Vec::new(),
        );
        assert_eq!(rows[0].path, "a,b.py");
        assert_eq!(rows[0].size, Some(12));
        assert!(rows[0].has_hash);
        assert!(!rows[1].has_hash);
    }

    #[test]
    fn garbage_rows_are_diagnostics_with_their_line() {
        let mut diags = Vec::new();
        let rows = parse(
            "ok.py,,\n\"open.py,,\n,,\na,b,c,d\nsize.py,,big\n",
            Path::new("RECORD"),
            &mut diags,
        );
        assert_eq!(rows.len(), 2);
        let lines: Vec<_> = diags.iter().map(|d| d.line.unwrap()).collect();
        assert_eq!(lines, [2, 3, 4, 5]);
        assert!(diags.iter().all(|d| d.code == RECORD_INVALID_ROW));
    }

    #[test]
    fn entries_outside_site_packages_but_inside_the_prefix_are_external() {
        assert_eq!(
            placed("../../../share/jupyter/kernels/k.json"),
            Ok(Placement::External(PathBuf::from(
                "/env/share/jupyter/kernels/k.json"
            )))
        );
        assert_eq!(
            placed("pkg/./__init__.py"),
            Ok(Placement::Inside(PathBuf::from(format!(
                "{SP}/pkg/__init__.py"
            ))))
        );
    }

    #[test]
    fn absolute_and_escaping_entries_are_refused() {
        assert_eq!(placed("/etc/passwd"), Err(Refusal::Absolute));
        assert_eq!(placed("C:\\Windows\\x.dll"), Err(Refusal::Absolute));
        assert_eq!(
            placed("../../../../etc/passwd"),
            Err(Refusal::EscapesPrefix)
        );
        assert_eq!(placed("../../../../env2/x"), Err(Refusal::EscapesPrefix));
    }
}
