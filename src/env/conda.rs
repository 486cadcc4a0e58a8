//! `conda-meta/*.json`: what conda installed into a prefix.
//!
//! Each record (`<name>-<version>-<build>.json`) carries `name`, `version`, `build`,
//! `channel` (a URL such as `https://conda.anaconda.org/conda-forge/linux-64`, or a bare name
//! in old records), `subdir` and `files` (paths relative to the prefix, `/`-separated). A
//! record that lists files inside a `*.dist-info` / `*.egg-info` folder owns that Python
//! distribution. The `python` record gives the exact interpreter version.
//!
//! Records that do not parse are diagnostics; `history` and other non-JSON files are ignored.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use rayon::prelude::*;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::diagnostic::{Code, Diagnostic};
use crate::fsread::{self, cap};

pub const CONDA_META_INVALID: Code = Code("conda-meta-invalid");

/// One conda package record, as the report shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CondaRecord {
    pub name: String,
    pub version: String,
    pub build: String,
    /// The channel's name (`conda-forge`, `pkgs/main`), from its URL.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub channel: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subdir: Option<String>,
}

#[derive(Deserialize)]
struct RawRecord {
    name: String,
    version: String,
    #[serde(default)]
    build: String,
    #[serde(default)]
    channel: Option<String>,
    #[serde(default)]
    subdir: Option<String>,
    #[serde(default)]
    files: Vec<String>,
}

/// Every record of a prefix, and which metadata folders each owns.
#[derive(Debug, Default)]
pub struct CondaMeta {
    pub records: Vec<CondaRecord>,
    /// Absolute `*.dist-info` / `*.egg-info` path → index into `records`.
    pub by_metadata_dir: HashMap<PathBuf, usize>,
}

impl CondaMeta {
    pub fn owner_of_metadata_dir(&self, dir: &Path) -> Option<&CondaRecord> {
        self.by_metadata_dir.get(dir).map(|&i| &self.records[i])
    }
}

/// Reads `prefix/conda-meta`; empty when there is none.
pub fn read(prefix: &Path, diagnostics: &mut Vec<Diagnostic>) -> CondaMeta {
    let dir = prefix.join("conda-meta");
    let Ok(entries) = fs_err::read_dir(&dir) else {
        return CondaMeta::default();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let parsed: Vec<Result<RawRecord, Diagnostic>> = files
        .par_iter()
        .map(|file| {
            let bytes = fsread::read_capped(file, cap::METADATA).map_err(|err| {
                Diagnostic::warning(CONDA_META_INVALID, err.to_string())
                    .with_file(file.display().to_string())
            })?;
            serde_json::from_slice(&bytes).map_err(|err| {
                Diagnostic::warning(
                    CONDA_META_INVALID,
                    format!(
                        "not a conda record: {}",
                        crate::index::redact::strip_userinfo_in_text(&err.to_string())
                    ),
                )
                .with_file(file.display().to_string())
            })
        })
        .collect();
    let mut meta = CondaMeta::default();
    for result in parsed {
        let raw = match result {
            Ok(raw) => raw,
            Err(diagnostic) => {
                diagnostics.push(diagnostic);
                continue;
            }
        };
        let index = meta.records.len();
        for file in &raw.files {
            if let Some(dir) = metadata_dir_of(file) {
                meta.by_metadata_dir
                    .entry(prefix.join(dir))
                    .or_insert(index);
            }
        }
        meta.records.push(CondaRecord {
            channel: raw.channel.as_deref().map(channel_name),
            name: raw.name,
            version: raw.version,
            build: raw.build,
            subdir: raw.subdir,
        });
    }
    meta
}

/// `lib/python3.11/site-packages/six-1.16.0.dist-info/RECORD` →
/// `lib/python3.11/site-packages/six-1.16.0.dist-info`.
fn metadata_dir_of(file: &str) -> Option<&str> {
    let mut end = 0;
    for part in file.split('/') {
        end += part.len();
        if part.ends_with(".dist-info") || part.ends_with(".egg-info") {
            return Some(&file[..end]);
        }
        end += 1;
    }
    None
}

/// `https://conda.anaconda.org/conda-forge/linux-64` → `conda-forge`;
/// `https://repo.anaconda.com/pkgs/main/noarch` → `pkgs/main`; a bare name stays.
/// Credentials never survive: neither `user:password@` nor conda's token path segment
/// (`https://host/t/<token>/channel/linux-64`).
pub fn channel_name(channel: &str) -> String {
    let Ok(url) = url::Url::parse(channel) else {
        return crate::index::redact::strip_userinfo_in_text(channel.trim_end_matches('/'));
    };
    let mut parts: Vec<&str> = url
        .path_segments()
        .map(|s| s.filter(|p| !p.is_empty()).collect())
        .unwrap_or_default();
    if parts.first() == Some(&"t") && parts.len() >= 2 {
        parts.drain(..2);
    }
    if parts.last().is_some_and(|last| is_subdir(last)) {
        parts.pop();
    }
    if parts.is_empty() {
        url.host_str().unwrap_or(channel).to_string()
    } else {
        parts.join("/")
    }
}

fn is_subdir(part: &str) -> bool {
    part == "noarch"
        || ["linux-", "osx-", "win-", "emscripten-", "wasi-", "zos-"]
            .iter()
            .any(|p| part.starts_with(p))
}

/// The exact Python version from the prefix's `python-<version>-<build>.json` record.
pub fn python_version(prefix: &Path) -> Option<String> {
    let entries = fs_err::read_dir(prefix.join("conda-meta")).ok()?;
    let mut candidates: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("python-") && n.ends_with(".json"))
        })
        .collect();
    candidates.sort();
    for file in candidates {
        #[derive(Deserialize)]
        struct Head {
            name: String,
            version: String,
        }
        let Ok(bytes) = fsread::read_capped(&file, cap::METADATA) else {
            continue;
        };
        if let Ok(head) = serde_json::from_slice::<Head>(&bytes)
            && head.name == "python"
        {
            return Some(head.version);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channel_urls_become_channel_names() {
        assert_eq!(
            channel_name("https://conda.anaconda.org/conda-forge/linux-64"),
            "conda-forge"
        );
        assert_eq!(
            channel_name("https://repo.anaconda.com/pkgs/main/noarch"),
            "pkgs/main"
        );
        assert_eq!(channel_name("conda-forge"), "conda-forge");
    }

    #[test]
    fn channel_credentials_and_tokens_are_dropped() {
        assert_eq!(
            channel_name("https://conda.example/t/tk-12345/private/linux-64"),
            "private"
        );
        assert_eq!(
            channel_name("https://user:pw123@conda.example/linux-64"),
            "conda.example"
        );
    }

    #[test]
    fn record_files_name_their_metadata_folder() {
        assert_eq!(
            metadata_dir_of("lib/python3.11/site-packages/six-1.16.0.dist-info/RECORD"),
            Some("lib/python3.11/site-packages/six-1.16.0.dist-info")
        );
        assert_eq!(metadata_dir_of("bin/python3"), None);
    }

    #[test]
    fn a_record_that_does_not_parse_is_a_diagnostic() {
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("conda-meta")).unwrap();
        fs_err::write(dir.path().join("conda-meta/bad-1-0.json"), "{").unwrap();
        fs_err::write(dir.path().join("conda-meta/history"), "x").unwrap();
        let mut diags = Vec::new();
        let meta = read(dir.path(), &mut diags);
        assert!(meta.records.is_empty());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, CONDA_META_INVALID);
    }
}
