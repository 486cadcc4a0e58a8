//! Command-line flags and `[tool.envscan]` in `pyproject.toml`, merged into the settings each
//! stage reads. Flags override the file; list options (`exclude`, `roots`) add to it.
//!
//! Unknown keys and values of the wrong type are diagnostics, not fatal errors: a typo in a
//! config file should not stop a pre-commit hook, but it must not pass silently either.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::cli::ProjectArgs;
use crate::diagnostic::{Code, Diagnostic};

pub const CONFIG_UNKNOWN_KEY: Code = Code("config-unknown-key");
pub const CONFIG_INVALID: Code = Code("config-invalid");

/// Default for `--max-file-size`: sources larger than this are skipped with a diagnostic.
pub const DEFAULT_MAX_FILE_SIZE: u64 = 10 * 1024 * 1024;

/// Python version assumed for the standard library when nothing else says.
pub const DEFAULT_PYTHON_VERSION: PythonVersion = PythonVersion {
    major: 3,
    minor: 12,
};

/// A Python `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct PythonVersion {
    pub major: u8,
    pub minor: u8,
}

impl PythonVersion {
    /// Parses `3.11` (also the leading part of `3.11.7`).
    pub fn parse(text: &str) -> Option<Self> {
        let mut parts = text.trim().split('.');
        let major = parts.next()?.parse().ok()?;
        let minor = parts.next()?.parse().ok()?;
        Some(Self { major, minor })
    }
}

impl std::fmt::Display for PythonVersion {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// `[tool.envscan]` as written in `pyproject.toml`.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "kebab-case", default)]
pub struct ToolConfig {
    pub exclude: Vec<String>,
    pub roots: Vec<String>,
    pub python_version: Option<String>,
    pub python: Option<String>,
    pub max_file_size: Option<u64>,
    /// The conda environment's name (default: the project folder's name).
    pub name: Option<String>,
    pub index_url: Option<String>,
    pub extra_index_url: Vec<String>,
    /// Import name → distribution name, for unresolved-import suggestions.
    pub import_names: BTreeMap<String, String>,
    /// Module or distribution name → class (`pypi`, `conda`, `local`, `binary_local`, `stdlib`).
    pub classes: BTreeMap<String, String>,
    /// Distributions to include although no import names them (plugins, entry points).
    pub add: Vec<String>,
    /// Modules whose imports are left out of the analysis.
    pub ignore: Vec<String>,
    pub base_image: Option<String>,
    /// The command that runs the program in the build plan.
    pub entrypoint: Vec<String>,
    /// Environment variables the build plan sets.
    pub variables: BTreeMap<String, String>,
    pub target_platform: Option<String>,
    /// Where the lock is written, relative to the project.
    pub lock: Option<String>,
}

/// Every key `[tool.envscan]` may hold; anything else is reported.
const KNOWN_KEYS: &[&str] = &[
    "add",
    "base-image",
    "classes",
    "entrypoint",
    "exclude",
    "extra-index-url",
    "ignore",
    "import-names",
    "index-url",
    "lock",
    "max-file-size",
    "name",
    "python",
    "python-version",
    "roots",
    "target-platform",
    "variables",
];

/// The project being analysed: its folder and its configuration.
#[derive(Debug)]
pub struct Project {
    /// The project folder, canonical.
    pub root: PathBuf,
    pub config: ToolConfig,
    /// Problems found in the configuration itself.
    pub diagnostics: Vec<Diagnostic>,
}

impl Project {
    /// Opens the project at `path`, reading `pyproject.toml` when there is one.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let root = fs_err::canonicalize(path)
            .with_context(|| format!("cannot open project folder {}", path.display()))?;
        if !root.is_dir() {
            bail!("{} is not a folder", path.display());
        }
        let mut diagnostics = Vec::new();
        let config = read_tool_config(&root, &mut diagnostics);
        Ok(Self {
            root,
            config,
            diagnostics,
        })
    }
}

fn read_tool_config(root: &Path, diagnostics: &mut Vec<Diagnostic>) -> ToolConfig {
    let path = root.join("pyproject.toml");
    let text = match fs_err::read_to_string(&path) {
        Ok(text) => text,
        Err(err) if err.kind() == std::io::ErrorKind::NotFound => return ToolConfig::default(),
        Err(err) => {
            diagnostics.push(
                Diagnostic::error(CONFIG_INVALID, format!("cannot read pyproject.toml: {err}"))
                    .with_file("pyproject.toml"),
            );
            return ToolConfig::default();
        }
    };
    let document: toml::Table = match toml::from_str(&text) {
        Ok(table) => table,
        Err(err) => {
            diagnostics.push(toml_diagnostic(
                &text,
                &err,
                "pyproject.toml is not valid TOML",
            ));
            return ToolConfig::default();
        }
    };
    let Some(section) = document
        .get("tool")
        .and_then(|tool| tool.get("envscan"))
        .cloned()
    else {
        return ToolConfig::default();
    };
    let Some(table) = section.as_table() else {
        diagnostics.push(
            Diagnostic::error(CONFIG_INVALID, "[tool.envscan] must be a table")
                .with_file("pyproject.toml"),
        );
        return ToolConfig::default();
    };
    for key in table.keys() {
        if !KNOWN_KEYS.contains(&key.as_str()) {
            diagnostics.push(
                Diagnostic::warning(
                    CONFIG_UNKNOWN_KEY,
                    format!("unknown key `{key}` in [tool.envscan]"),
                )
                .with_file("pyproject.toml")
                .with_hint(format!("known keys: {}", KNOWN_KEYS.join(", "))),
            );
        }
    }
    match ToolConfig::deserialize(section) {
        Ok(config) => config,
        Err(err) => {
            diagnostics.push(
                Diagnostic::error(CONFIG_INVALID, format!("[tool.envscan]: {}", err.message()))
                    .with_file("pyproject.toml"),
            );
            ToolConfig::default()
        }
    }
}

fn toml_diagnostic(text: &str, err: &toml::de::Error, what: &str) -> Diagnostic {
    let mut diagnostic = Diagnostic::error(CONFIG_INVALID, format!("{what}: {}", err.message()))
        .with_file("pyproject.toml");
    if let Some(span) = err.span() {
        let before = &text[..span.start.min(text.len())];
        let line = before.matches('\n').count() as u32 + 1;
        let column = (before.len() - before.rfind('\n').map_or(0, |i| i + 1)) as u32 + 1;
        diagnostic = diagnostic.at(line, column);
    }
    diagnostic
}

/// What the walk and parse stages need.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    pub root: PathBuf,
    /// Globs relative to `root` whose matches are left out.
    pub exclude: Vec<String>,
    /// Extra import roots (folders relative to `root`) from the configuration.
    pub roots: Vec<PathBuf>,
    pub python_version: PythonVersion,
    pub max_file_size: u64,
}

impl ScanSettings {
    pub fn resolve(
        project: &Project,
        args: &ProjectArgs,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> anyhow::Result<Self> {
        let config = &project.config;
        let python_version = match args.python_version.as_deref() {
            Some(text) => PythonVersion::parse(text)
                .with_context(|| format!("--python-version takes X.Y, not {text:?}"))?,
            None => match config.python_version.as_deref() {
                Some(text) => PythonVersion::parse(text).unwrap_or_else(|| {
                    diagnostics.push(
                        Diagnostic::error(
                            CONFIG_INVALID,
                            format!("[tool.envscan] python-version takes X.Y, not {text:?}"),
                        )
                        .with_file("pyproject.toml"),
                    );
                    DEFAULT_PYTHON_VERSION
                }),
                None => DEFAULT_PYTHON_VERSION,
            },
        };
        let mut exclude = config.exclude.clone();
        exclude.extend(args.exclude.iter().cloned());
        Ok(Self {
            root: project.root.clone(),
            exclude,
            roots: config.roots.iter().map(PathBuf::from).collect(),
            python_version,
            max_file_size: args
                .max_file_size
                .or(config.max_file_size)
                .unwrap_or(DEFAULT_MAX_FILE_SIZE),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_of(text: &str) -> (ToolConfig, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("pyproject.toml"), text).unwrap();
        let mut diagnostics = Vec::new();
        let config = read_tool_config(dir.path(), &mut diagnostics);
        (config, diagnostics)
    }

    #[test]
    fn unknown_keys_are_reported_and_known_ones_kept() {
        let (config, diagnostics) =
            config_of("[tool.envscan]\nexclude = [\"build\"]\nexlude = [\"x\"]\n");
        assert_eq!(config.exclude, ["build"]);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, CONFIG_UNKNOWN_KEY);
        assert!(diagnostics[0].message.contains("exlude"));
    }

    #[test]
    fn invalid_toml_is_a_diagnostic_with_a_line() {
        let (_, diagnostics) = config_of("[project]\nname = \n");
        assert_eq!(diagnostics[0].code, CONFIG_INVALID);
        assert_eq!(diagnostics[0].line, Some(2));
    }

    #[test]
    fn python_version_parses_major_minor_and_ignores_micro() {
        assert_eq!(
            PythonVersion::parse("3.11.7"),
            Some(PythonVersion {
                major: 3,
                minor: 11
            })
        );
        assert_eq!(PythonVersion::parse("three"), None);
    }
}
