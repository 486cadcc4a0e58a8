//! `direct_url.json` (PEP 610, <https://packaging.python.org/en/latest/specifications/direct-url-data-structure/>):
//! where a distribution installed from a URL or local folder came from.
//!
//! Exactly one of `dir_info` (a local folder; `editable: true` for `pip install -e`),
//! `vcs_info` (`vcs`, `commit_id`, `requested_revision`) or `archive_info` (`hash` or
//! `hashes`) must be present, with a `url`. Anything else is malformed: a diagnostic, and the
//! distribution is classified as if the file were absent.

use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Serialize;
use serde_json::Value;

use crate::diagnostic::{Code, Diagnostic};

pub const DIRECT_URL_INVALID: Code = Code("direct-url-invalid");

/// A parsed `direct_url.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct DirectUrl {
    pub url: String,
    pub source: DirectSource,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdirectory: Option<String>,
}

/// Which of `dir_info`, `vcs_info` and `archive_info` it holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case", tag = "type")]
pub enum DirectSource {
    Directory {
        editable: bool,
    },
    Vcs(VcsInfo),
    /// `hash` as `algo=value` (the `hashes` map is turned into the same form, sha256 first).
    Archive {
        hash: Option<String>,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct VcsInfo {
    pub vcs: String,
    pub commit_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requested_revision: Option<String>,
}

impl DirectUrl {
    /// Parses the JSON text; `None` plus a diagnostic on `file` when it is malformed.
    pub fn parse(text: &str, file: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<Self> {
        match Self::try_parse(text) {
            Ok(url) => Some(url),
            Err(why) => {
                diagnostics.push(
                    Diagnostic::warning(
                        DIRECT_URL_INVALID,
                        format!("malformed direct_url.json: {why}"),
                    )
                    .with_file(file.display().to_string()),
                );
                None
            }
        }
    }

    fn try_parse(text: &str) -> Result<Self, String> {
        let value: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let object = value.as_object().ok_or("not a JSON object")?;
        // Credentials (`https://user:token@host/repo.git`) are dropped here, where the URL
        // enters envscan, so no lock, report or message can carry them.
        let url = crate::index::redact::redact_url(
            object
                .get("url")
                .and_then(Value::as_str)
                .ok_or("no `url` string")?,
        );
        let infos: Vec<&str> = ["dir_info", "vcs_info", "archive_info"]
            .into_iter()
            .filter(|k| object.contains_key(*k))
            .collect();
        if infos.len() != 1 {
            return Err(format!(
                "needs exactly one of dir_info, vcs_info, archive_info; found {}",
                infos.len()
            ));
        }
        let info = object[infos[0]]
            .as_object()
            .ok_or("the info is not an object")?;
        let source = match infos[0] {
            "dir_info" => DirectSource::Directory {
                editable: info
                    .get("editable")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
            },
            "vcs_info" => DirectSource::Vcs(VcsInfo {
                vcs: info
                    .get("vcs")
                    .and_then(Value::as_str)
                    .ok_or("vcs_info without `vcs`")?
                    .to_string(),
                commit_id: info
                    .get("commit_id")
                    .and_then(Value::as_str)
                    .ok_or("vcs_info without `commit_id`")?
                    .to_string(),
                requested_revision: info
                    .get("requested_revision")
                    .and_then(Value::as_str)
                    .map(str::to_string),
            }),
            _ => {
                let from_map = info.get("hashes").and_then(Value::as_object).and_then(|m| {
                    let (algo, value) = m.get_key_value("sha256").or_else(|| m.iter().next())?;
                    Some(format!("{algo}={}", value.as_str()?))
                });
                let hash = from_map
                    .or_else(|| info.get("hash").and_then(Value::as_str).map(str::to_string));
                DirectSource::Archive { hash }
            }
        };
        Ok(Self {
            url,
            source,
            subdirectory: object
                .get("subdirectory")
                .and_then(Value::as_str)
                .map(str::to_string),
        })
    }

    pub fn is_editable(&self) -> bool {
        matches!(self.source, DirectSource::Directory { editable: true })
    }

    /// The local folder or file a `file://` URL names.
    pub fn local_path(&self) -> Option<PathBuf> {
        url::Url::parse(&self.url).ok()?.to_file_path().ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> (Option<DirectUrl>, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        (
            DirectUrl::parse(text, Path::new("direct_url.json"), &mut diags),
            diags,
        )
    }

    #[test]
    fn editable_dir_info_gives_its_local_folder() {
        let (url, _) = parse(r#"{"url": "file:///src/x", "dir_info": {"editable": true}}"#);
        let url = url.unwrap();
        assert!(url.is_editable());
        assert_eq!(url.local_path(), Some(PathBuf::from("/src/x")));
    }

    #[test]
    fn vcs_info_keeps_the_commit() {
        let (url, _) = parse(
            r#"{"url": "https://g/x.git", "vcs_info": {"vcs": "git", "commit_id": "abc", "requested_revision": "main"}}"#,
        );
        match url.unwrap().source {
            DirectSource::Vcs(vcs) => {
                assert_eq!((vcs.vcs.as_str(), vcs.commit_id.as_str()), ("git", "abc"))
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn credentials_in_the_url_are_dropped_when_read() {
        // Regression (issue 14, defect 4): the token reached the lock's `reason` and reports.
        let (url, _) = parse(
            r#"{"url": "https://user:s3cr3t-token@git.example/repo.git", "vcs_info": {"vcs": "git", "commit_id": "abc"}}"#,
        );
        assert_eq!(url.unwrap().url, "https://git.example/repo.git");
    }

    #[test]
    fn archive_hashes_map_prefers_sha256() {
        let (url, _) = parse(
            r#"{"url": "https://h/x.whl", "archive_info": {"hashes": {"md5": "m", "sha256": "s"}}}"#,
        );
        assert_eq!(
            url.unwrap().source,
            DirectSource::Archive {
                hash: Some("sha256=s".into())
            }
        );
    }

    #[test]
    fn malformed_files_are_diagnostics() {
        for text in [
            "{",
            "[]",
            r#"{"url": "x"}"#,
            r#"{"dir_info": {}}"#,
            r#"{"url": "x", "dir_info": {}, "vcs_info": {}}"#,
        ] {
            let (url, diags) = parse(text);
            assert!(url.is_none(), "{text}");
            assert_eq!(diags[0].code, DIRECT_URL_INVALID);
        }
    }
}
