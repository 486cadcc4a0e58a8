//! Core metadata (`METADATA`, `PKG-INFO`): the email-header format of
//! <https://packaging.python.org/en/latest/specifications/core-metadata/>.
//!
//! Only the headers are read: they end at the first blank line, after which comes the long
//! description (which can be megabytes and is never needed). Field names are
//! case-insensitive; a line starting with whitespace continues the previous field. Values are
//! kept raw here; parsing (PEP 440, PEP 508) happens in [`parse_requires_dist`] and the
//! callers, so a value that does not parse keeps its text.

use std::path::Path;

use super::RequiresDist;
use crate::diagnostic::{Code, Diagnostic};

pub const REQUIREMENT_INVALID: Code = Code("requirement-invalid");

/// The fields envscan reads, raw.
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
        let mut fields: Vec<(String, String)> = Vec::new();
        for line in text.lines() {
            if line.trim().is_empty() {
                break;
            }
            if line.starts_with([' ', '\t']) {
                if let Some((_, value)) = fields.last_mut() {
                    value.push(' ');
                    value.push_str(line.trim());
                }
                continue;
            }
            if let Some((key, value)) = line.split_once(':') {
                fields.push((key.trim().to_ascii_lowercase(), value.trim().to_string()));
            }
        }
        for (key, value) in fields {
            match key.as_str() {
                "name" if !value.is_empty() => out.name = Some(value),
                "version" if !value.is_empty() => out.version = Some(value),
                "requires-dist" if !value.is_empty() => out.requires_dist.push(value),
                "requires-python" if !value.is_empty() => out.requires_python = Some(value),
                "provides-extra" if !value.is_empty() => out.provides_extra.push(value),
                "metadata-version" => out.metadata_version = Some(value),
                _ => {}
            }
        }
        out
    }
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
            RequiresDist { raw, parsed }
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

    #[test]
    fn continuation_lines_extend_the_previous_field() {
        let meta = CoreMetadata::parse("Name: x\nRequires-Python: >=3.8,\n  <4\n");
        assert_eq!(meta.requires_python.as_deref(), Some(">=3.8, <4"));
    }

    #[test]
    fn requirement_that_does_not_parse_keeps_its_text_and_is_reported() {
        let mut diags = Vec::new();
        let reqs = parse_requires_dist(
            vec!["numpy>=1.2".into(), "bad req ===".into()],
            Path::new("METADATA"),
            &mut diags,
        );
        assert!(reqs[0].parsed.is_some());
        assert_eq!(reqs[1].raw, "bad req ===");
        assert!(reqs[1].parsed.is_none());
        assert_eq!(diags[0].code, REQUIREMENT_INVALID);
    }
}
