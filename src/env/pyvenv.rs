//! `pyvenv.cfg`, the marker file of a virtual environment (PEP 405,
//! <https://peps.python.org/pep-0405/>).
//!
//! Lines are `key = value`; keys are case-insensitive in practice (`home`, `version`,
//! `version_info` as uv and virtualenv write it, `include-system-site-packages`,
//! `implementation`, `executable`, `base-prefix`). Lines without `=` and `#` comments are
//! ignored, as `site.py` does. `home` is the folder of the base interpreter, normally its
//! `bin/` (Windows: the prefix itself), so the base prefix is its parent.

use std::path::{Path, PathBuf};

/// What a `pyvenv.cfg` says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PyvenvCfg {
    pub home: Option<PathBuf>,
    /// `version` or `version_info` (`3.11.7`, `3.12.0.final.0`).
    pub version: Option<String>,
    pub include_system_site_packages: bool,
    /// `implementation` (uv, virtualenv): `CPython`, `PyPy`.
    pub implementation: Option<String>,
    pub executable: Option<PathBuf>,
    pub base_prefix: Option<PathBuf>,
}

impl PyvenvCfg {
    pub fn parse(text: &str) -> Self {
        let mut cfg = Self::default();
        for line in text.lines() {
            let Some((key, value)) = line.split_once('=') else {
                continue;
            };
            let key = key.trim().to_ascii_lowercase().replace('_', "-");
            let value = value.trim();
            if key.starts_with('#') || value.is_empty() {
                continue;
            }
            match key.as_str() {
                "home" => cfg.home = Some(PathBuf::from(value)),
                "version" | "version-info" => {
                    // `3.12.0.final.0` → `3.12.0`; `3.11.7` stays.
                    let release: Vec<&str> = value
                        .split('.')
                        .take_while(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
                        .take(3)
                        .collect();
                    if release.len() >= 2 {
                        cfg.version = Some(release.join("."));
                    }
                }
                "include-system-site-packages" => {
                    cfg.include_system_site_packages = value.eq_ignore_ascii_case("true");
                }
                "implementation" => cfg.implementation = Some(value.to_ascii_lowercase()),
                "executable" | "base-executable" => {
                    cfg.executable.get_or_insert_with(|| PathBuf::from(value));
                }
                "base-prefix" => cfg.base_prefix = Some(PathBuf::from(value)),
                _ => {}
            }
        }
        cfg
    }

    /// The base prefix `home` implies: the parent of a `bin`/`Scripts` folder, else `home`.
    pub fn implied_base_prefix(&self) -> Option<PathBuf> {
        if let Some(prefix) = &self.base_prefix {
            return Some(prefix.clone());
        }
        let home = self.home.as_deref()?;
        Some(base_prefix_of_home(home))
    }
}

fn base_prefix_of_home(home: &Path) -> PathBuf {
    match home.file_name().and_then(|n| n.to_str()) {
        Some("bin" | "Scripts") => home.parent().unwrap_or(home).to_path_buf(),
        _ => home.to_path_buf(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn venv_module_cfg_gives_home_version_and_base_prefix() {
        let cfg = PyvenvCfg::parse(
            "home = /opt/py/bin\ninclude-system-site-packages = false\nversion = 3.11.7\n",
        );
        assert_eq!(cfg.version.as_deref(), Some("3.11.7"));
        assert!(!cfg.include_system_site_packages);
        assert_eq!(cfg.implied_base_prefix(), Some(PathBuf::from("/opt/py")));
    }

    #[test]
    fn uv_cfg_with_version_info_and_implementation_is_read() {
        let cfg = PyvenvCfg::parse(
            "home = C:\\Python312\nimplementation = CPython\nversion_info = 3.12.0.final.0\n\
             include-system-site-packages = True\n",
        );
        assert_eq!(cfg.version.as_deref(), Some("3.12.0"));
        assert_eq!(cfg.implementation.as_deref(), Some("cpython"));
        assert!(cfg.include_system_site_packages);
    }

    #[test]
    fn a_version_with_an_empty_part_is_not_kept() {
        // Regression (fuzz target `pyvenv_cfg`): `.4111` passed as a version (the empty part
        // before the dot counted as digits) and would reach the plan and the conda file.
        assert_eq!(PyvenvCfg::parse("version = .4111\n").version, None);
        assert_eq!(PyvenvCfg::parse("version = 3..11\n").version, None);
        assert_eq!(
            PyvenvCfg::parse("version = 3.11.\n").version.as_deref(),
            Some("3.11")
        );
    }

    #[test]
    fn lines_without_equals_and_comments_are_ignored() {
        let cfg = PyvenvCfg::parse("# home = /x\nnonsense\nversion = three\n");
        assert_eq!(cfg, PyvenvCfg::default());
    }
}
