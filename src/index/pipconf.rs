//! pip's configuration files: `index-url` and `extra-index-url` from `[install]` or `[global]`.
//!
//! pip reads INI files with Python's `configparser` (<https://pip.pypa.io/en/stable/topics/configuration/>):
//! `[section]` headers, `key = value` or `key: value`, comment lines starting with `#` or `;`,
//! and continuation lines (indented) that extend the previous value; pip splits
//! `extra-index-url` on whitespace, so one key may list several URLs over several lines.
//! Keys are matched case-insensitively with `_` and `-` alike, as pip does. `[install]` is
//! more specific than `[global]` for `pip install`, so it wins.

use std::path::{Path, PathBuf};

/// What one pip.conf says about indexes.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct PipConf {
    pub index_url: Option<String>,
    pub extra_index_urls: Option<Vec<String>>,
    /// `cert`: a PEM bundle of certificate authorities to trust.
    pub cert: Option<String>,
}

impl PipConf {
    pub fn parse(text: &str) -> Self {
        // (section, key, value) in file order.
        let mut entries: Vec<(String, String, String)> = Vec::new();
        let mut section = String::new();
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with('#') || trimmed.starts_with(';') {
                continue;
            }
            if line.starts_with([' ', '\t']) {
                if let Some(last) = entries.last_mut() {
                    last.2.push('\n');
                    last.2.push_str(trimmed);
                }
                continue;
            }
            if let Some(name) = trimmed.strip_prefix('[').and_then(|s| s.strip_suffix(']')) {
                section = name.trim().to_ascii_lowercase();
                continue;
            }
            let Some(split) = trimmed.find(['=', ':']) else {
                continue;
            };
            let key = trimmed[..split]
                .trim()
                .to_ascii_lowercase()
                .replace('_', "-");
            let value = trimmed[split + 1..].trim().to_string();
            entries.push((section.clone(), key, value));
        }
        let get = |key: &str| {
            ["install", "global"].iter().find_map(|wanted| {
                entries
                    .iter()
                    .rev()
                    .find(|(s, k, _)| s == wanted && k == key)
                    .map(|(_, _, v)| v.clone())
            })
        };
        PipConf {
            index_url: get("index-url").filter(|v| !v.is_empty()),
            extra_index_urls: get("extra-index-url")
                .map(|v| v.split_whitespace().map(str::to_string).collect()),
            cert: get("cert").filter(|v| !v.is_empty()),
        }
    }
}

/// The pip.conf files to consult, most important first: `$PIP_CONFIG_FILE`,
/// `$XDG_CONFIG_HOME/pip/pip.conf`, `~/.config/pip/pip.conf`, `~/.pip/pip.conf`,
/// `/etc/pip.conf`. `PIP_CONFIG_FILE=os.devnull` (`/dev/null`) means "no user files", as
/// in pip, and leaves only the site-wide file.
pub fn candidate_files(
    pip_config_file: Option<&str>,
    xdg_config_home: Option<&str>,
    home: Option<&Path>,
) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let devnull = pip_config_file == Some("/dev/null");
    if let Some(file) = pip_config_file.filter(|f| !f.is_empty() && !devnull) {
        files.push(PathBuf::from(file));
    }
    if !devnull {
        if let Some(xdg) = xdg_config_home.filter(|x| !x.is_empty()) {
            files.push(Path::new(xdg).join("pip").join("pip.conf"));
        }
        if let Some(home) = home {
            files.push(home.join(".config").join("pip").join("pip.conf"));
            files.push(home.join(".pip").join("pip.conf"));
        }
    }
    files.push(PathBuf::from("/etc/pip.conf"));
    files.dedup();
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_section_wins_over_global_and_continuations_list_extras() {
        let conf = PipConf::parse(
            "[global]\nindex-url = https://global.example/simple\n\
             ; comment\n[install]\nindex_url = https://install.example/simple\n\
             extra-index-url =\n    https://a.example/simple\n    https://b.example/simple\n",
        );
        assert_eq!(
            conf.index_url.as_deref(),
            Some("https://install.example/simple")
        );
        assert_eq!(
            conf.extra_index_urls.unwrap(),
            ["https://a.example/simple", "https://b.example/simple"]
        );
    }

    #[test]
    fn a_file_without_index_keys_says_nothing() {
        assert_eq!(
            PipConf::parse("[global]\ntimeout = 60\n"),
            PipConf::default()
        );
    }

    #[test]
    fn pip_config_file_comes_first_and_devnull_skips_user_files() {
        let home = Path::new("/home/u");
        let files = candidate_files(Some("/x/pip.conf"), None, Some(home));
        assert_eq!(files[0], Path::new("/x/pip.conf"));
        assert_eq!(files.last().unwrap(), Path::new("/etc/pip.conf"));
        assert_eq!(
            candidate_files(Some("/dev/null"), None, Some(home)),
            [PathBuf::from("/etc/pip.conf")]
        );
    }
}
