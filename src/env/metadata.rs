//! Core metadata (`METADATA`, `PKG-INFO`): the email-header format of
//! <https://packaging.python.org/en/latest/specifications/core-metadata/>.
//!
//! The headers are read exactly as `importlib.metadata` reads them: the file is decoded with
//! universal newlines, `email.parser` (policy compat32) splits the header block, and
//! `importlib.metadata`'s adapter re-indents folded values. That means:
//! - a line starting with a space or tab continues the previous field, even when it holds
//!   only whitespace (matplotlib's and scipy's License text has such lines);
//! - the headers end at the first truly empty line, or at the first line that is neither a
//!   continuation nor `Field-Name:` (a field name is printable ASCII without space or
//!   colon); what follows is the body (the long description, never needed here);
//! - a value keeps its continuation lines joined by newlines and dedented as
//!   `textwrap.dedent(" " * 8 + value)` does; only line ends are stripped from its end;
//! - field names compare case-insensitively; a single-use field takes its first
//!   occurrence, a multiple-use one (`Requires-Dist`, `Provides-Extra`) every occurrence.
//!
//! Values are kept raw here; parsing (PEP 440, PEP 508) happens in [`parse_requires_dist`]
//! and the callers, so a value that does not parse keeps its text.

use std::path::Path;

use super::RequiresDist;
use crate::diagnostic::{Code, Diagnostic};

pub const REQUIREMENT_INVALID: Code = Code("requirement-invalid");

/// The fields envscan reads, as `importlib.metadata` returns them.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CoreMetadata {
    pub name: Option<String>,
    pub version: Option<String>,
    pub requires_dist: Vec<String>,
    pub requires_python: Option<String>,
    pub provides_extra: Vec<String>,
    pub metadata_version: Option<String>,
}

impl CoreMetadata {
    pub fn parse(text: &str) -> Self {
        let mut out = Self::default();
        for (key, value) in headers(text) {
            let first = |slot: &mut Option<String>| {
                if slot.is_none() {
                    *slot = Some(value.clone());
                }
            };
            match key.to_ascii_lowercase().as_str() {
                "name" => first(&mut out.name),
                "version" => first(&mut out.version),
                "requires-python" => first(&mut out.requires_python),
                "metadata-version" => first(&mut out.metadata_version),
                // An empty Requires-Dist or Provides-Extra declares nothing.
                "requires-dist" if !value.is_empty() => out.requires_dist.push(value),
                "provides-extra" if !value.is_empty() => out.provides_extra.push(value),
                _ => {}
            }
        }
        out
    }
}

/// Every header of `text`, in order: (field name as written, value as `importlib.metadata`
/// returns it).
pub fn headers(text: &str) -> Vec<(String, String)> {
    let text = universal_newlines(text);
    let mut block: Vec<&str> = Vec::new();
    for line in text.split_inclusive('\n') {
        if line == "\n" || !is_header_line(line) {
            break;
        }
        block.push(line);
    }
    let mut out = Vec::new();
    // The lines of the field being read: its first line, then its continuation lines.
    let mut current: Vec<&str> = Vec::new();
    let last = block.len().saturating_sub(1);
    for (number, line) in block.iter().enumerate() {
        if line.starts_with([' ', '\t']) {
            // A continuation before any field is a defect email.parser drops.
            if !current.is_empty() {
                current.push(line);
            }
            continue;
        }
        if !current.is_empty() {
            out.push(field(&current));
            current.clear();
        }
        if line.starts_with("From ") {
            // A Unix "From " envelope line: skipped on the first line; on the last it starts
            // the body; elsewhere a defect that is dropped.
            if number == last && number != 0 {
                break;
            }
            continue;
        }
        if line.starts_with(':') {
            // No field name: a defect email.parser drops (with its continuation lines).
            continue;
        }
        current.push(line);
    }
    if !current.is_empty() {
        out.push(field(&current));
    }
    out
}

/// `\r\n` and a lone `\r` become `\n`, as Python's text files read them.
fn universal_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\r') {
        std::borrow::Cow::Owned(text.replace("\r\n", "\n").replace('\r', "\n"))
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// email.feedparser's `headerRE`: `From `, a continuation, or a field name (printable ASCII
/// other than space and colon, possibly none) followed by a colon.
fn is_header_line(line: &str) -> bool {
    if line.starts_with("From ") || line.starts_with([' ', '\t']) {
        return true;
    }
    let name_len = line
        .bytes()
        .take_while(|b| matches!(b, b'!'..=b'9' | b';'..=b'~'))
        .count();
    line.as_bytes().get(name_len) == Some(&b':')
}

/// One field from its lines, as compat32's `header_source_parse` and importlib.metadata's
/// `redent` make it.
fn field(lines: &[&str]) -> (String, String) {
    let (name, first) = lines[0].split_once(':').unwrap_or((lines[0], ""));
    let mut value = first.trim_start_matches([' ', '\t']).to_string();
    for line in &lines[1..] {
        value.push_str(line);
    }
    let value = value.trim_end_matches(['\r', '\n']);
    let value = if value.contains('\n') {
        dedent(&format!("        {value}"))
    } else {
        value.to_string()
    };
    (name.to_string(), value)
}

/// `textwrap.dedent`: lines of only spaces and tabs become empty, then the longest common
/// leading run of spaces and tabs of the other non-empty lines is removed from each.
fn dedent(text: &str) -> String {
    let lines: Vec<&str> = text
        .split('\n')
        .map(|l| {
            if !l.is_empty() && l.bytes().all(|b| b == b' ' || b == b'\t') {
                ""
            } else {
                l
            }
        })
        .collect();
    let mut margin: Option<&str> = None;
    for line in lines.iter().filter(|l| !l.is_empty()) {
        let indent = &line[..line.len() - line.trim_start_matches([' ', '\t']).len()];
        margin = Some(match margin {
            None => indent,
            Some(m) if indent.starts_with(m) => m,
            Some(m) if m.starts_with(indent) => indent,
            Some(m) => {
                let common = m
                    .bytes()
                    .zip(indent.bytes())
                    .take_while(|(a, b)| a == b)
                    .count();
                &m[..common]
            }
        });
    }
    let margin = margin.unwrap_or("");
    lines
        .iter()
        .map(|l| l.strip_prefix(margin).unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// Parses each requirement with pep508_rs; one that does not parse keeps its text and is a
/// diagnostic on `file`.
pub fn parse_requires_dist(
    raw: Vec<String>,
    file: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<RequiresDist> {
    raw.into_iter()
        .map(|raw| {
            // Guarded: pep508_rs panics on some malformed lines (see `super::pep508`).
            let parsed = match super::pep508::parse_guarded::<pep508_rs::Requirement>(&raw) {
                Ok(req) => Some(req),
                Err(err) => {
                    diagnostics.push(
                        Diagnostic::warning(
                            REQUIREMENT_INVALID,
                            format!("Requires-Dist {raw:?} does not parse: {err}"),
                        )
                        .with_file(file.display().to_string()),
                    );
                    None
                }
            };
            RequiresDist::new(raw, parsed)
        })
        .collect()
}

/// Parses a version with pep440_rs; `None` (and a diagnostic) when it does not parse.
pub fn parse_version(
    raw: &str,
    file: &Path,
    code: Code,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<pep440_rs::Version> {
    match super::pep508::parse_guarded::<pep440_rs::Version>(raw) {
        Ok(version) => Some(version),
        Err(err) => {
            diagnostics.push(
                Diagnostic::warning(
                    code,
                    format!("version {raw:?} is not a PEP 440 version: {err}"),
                )
                .with_file(file.display().to_string()),
            );
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_end_at_the_first_blank_line() {
        let meta = CoreMetadata::parse(
            "Metadata-Version: 2.1\nName: Foo_Bar\nversion: 1.0\nRequires-Dist: a>=1\n\
             Requires-Dist: b; extra == \"x\"\nProvides-Extra: x\n\nName: not-this\n",
        );
        assert_eq!(meta.name.as_deref(), Some("Foo_Bar"));
        assert_eq!(meta.version.as_deref(), Some("1.0"));
        assert_eq!(meta.requires_dist.len(), 2);
        assert_eq!(meta.provides_extra, ["x"]);
    }

    fn real_wheel(name: &str) -> CoreMetadata {
        let path = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures/metadata-real-wheels")
            .join(name);
        CoreMetadata::parse(&fs_err::read_to_string(path).unwrap())
    }

    /// Reproduces issue 8: matplotlib's License runs over 1,200 lines, some holding only
    /// spaces; reading stopped at the first of them and lost every Requires-Dist.
    #[test]
    fn real_matplotlib_metadata_keeps_every_requires_dist_after_its_license() {
        let meta = real_wheel("matplotlib-3.11.2.METADATA");
        assert_eq!(meta.version.as_deref(), Some("3.11.2"));
        assert_eq!(
            meta.requires_dist,
            [
                "contourpy>=1.0.1",
                "cycler>=0.10",
                "fonttools>=4.28.2",
                "kiwisolver>=1.3.1",
                "numpy>=1.25",
                "packaging>=20.0",
                "pillow>=9",
                "pyparsing>=3",
                "python-dateutil>=2.7",
            ]
        );
        assert_eq!(meta.requires_python.as_deref(), Some(">=3.11"));
    }

    /// The counts importlib.metadata gives for the same files (CPython 3.11.7).
    #[test]
    fn real_scipy_and_nbconvert_metadata_read_as_importlib_reads_them() {
        let scipy = real_wheel("scipy-1.17.1.METADATA");
        assert_eq!(scipy.requires_dist.len(), 38);
        assert_eq!(scipy.provides_extra, ["test", "doc", "dev"]);
        assert_eq!(scipy.requires_dist[0], "numpy<2.7,>=1.26.4");
        let nbconvert = real_wheel("nbconvert-7.17.2.METADATA");
        assert_eq!(nbconvert.requires_dist.len(), 45);
        assert_eq!(nbconvert.provides_extra.len(), 7);
        assert_eq!(nbconvert.requires_dist[0], "beautifulsoup4");
    }

    #[test]
    fn a_line_of_spaces_continues_the_field_and_only_an_empty_line_ends_the_headers() {
        let meta = CoreMetadata::parse(
            "Name: x\nLicense: MIT\n   \n\t\n  more\nRequires-Dist: a\n\nRequires-Dist: body\n",
        );
        assert_eq!(meta.requires_dist, ["a"]);
    }

    #[test]
    fn a_line_that_is_not_a_header_starts_the_body() {
        // A field name cannot hold a space, so "Bad Line: x" is the body's first line.
        let meta = CoreMetadata::parse("Name: x\nBad Line: x\nRequires-Dist: a\n");
        assert_eq!(meta.name.as_deref(), Some("x"));
        assert!(meta.requires_dist.is_empty());
        let meta = CoreMetadata::parse("Name: x\nno colon here\nRequires-Dist: a\n");
        assert!(meta.requires_dist.is_empty());
    }

    #[test]
    fn crlf_and_lone_cr_end_lines_as_python_reads_text() {
        let meta =
            CoreMetadata::parse("Name: x\r\nVersion: 1\rRequires-Dist: a\r\n\r\nRequires-Dist: b");
        assert_eq!(meta.version.as_deref(), Some("1"));
        assert_eq!(meta.requires_dist, ["a"]);
    }

    #[test]
    fn field_names_ignore_case_and_single_fields_take_their_first_value() {
        let meta = CoreMetadata::parse(
            "NAME: first\nname: second\nrequires-dist: a\nREQUIRES-DIST: b\nprovides-EXTRA: x\n",
        );
        assert_eq!(meta.name.as_deref(), Some("first"));
        assert_eq!(meta.requires_dist, ["a", "b"]);
        assert_eq!(meta.provides_extra, ["x"]);
    }

    /// Values as importlib.metadata gives them for the same text (CPython 3.11.7):
    /// continuation lines joined by newlines, then `textwrap.dedent("        " + value)`.
    #[test]
    fn folded_values_are_dedented_as_importlib_does() {
        let meta = CoreMetadata::parse("Name: x\nRequires-Python: >=3.8,\n  <4\n");
        assert_eq!(meta.requires_python.as_deref(), Some("      >=3.8,\n<4"));
        let meta = CoreMetadata::parse("Name: x\nRequires-Dist: a;\n        extra == 'y'  \n");
        assert_eq!(meta.requires_dist, ["a;\nextra == 'y'  "]);
    }

    #[test]
    fn a_description_with_continuation_lines_does_not_hide_later_fields() {
        let meta = CoreMetadata::parse(
            "Metadata-Version: 1.1\nName: old\nDescription: Line one\n        \n        |Line two\n        \nRequires-Dist: a\n",
        );
        assert_eq!(meta.metadata_version.as_deref(), Some("1.1"));
        assert_eq!(meta.requires_dist, ["a"]);
    }

    #[test]
    fn envelope_and_nameless_lines_are_dropped_as_email_parser_drops_them() {
        let meta = CoreMetadata::parse(
            "From someone\nName: x\n: no name\n  cont\nFrom here\nRequires-Dist: a\nFrom last\n",
        );
        assert_eq!(meta.name.as_deref(), Some("x"));
        assert_eq!(meta.requires_dist, ["a"]);
    }

    #[test]
    fn requirement_that_does_not_parse_keeps_its_text_and_is_reported() {
        let mut diags = Vec::new();
        let reqs = parse_requires_dist(
            vec!["numpy>=1.2".into(), "bad req ===".into()],
            Path::new("METADATA"),
            &mut diags,
        );
        assert!(reqs[0].parsed().is_some());
        assert_eq!(reqs[1].raw, "bad req ===");
        assert!(reqs[1].parsed().is_none());
        assert_eq!(diags[0].code, REQUIREMENT_INVALID);
    }
}
