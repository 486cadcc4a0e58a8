//! Command-line flags and `[tool.envscan]` in `pyproject.toml`, merged into the settings each
//! stage reads. Flags override the file; list options (`exclude`, `roots`) add to it.
//!
//! An unknown key is a warning (with its line and the known key it most likely meant): a typo
//! should not stop a pre-commit hook, but must not pass silently either. A value of the wrong
//! type, or one envscan cannot use safely (a lock path leaving the project, a base image or
//! environment name that is not one), stops the run with [`ConfigError`]: the rest of the
//! table (a private `index-url`) is never silently dropped. A `pyproject.toml` that is not a
//! regular file, is over [`crate::fsread::cap::CONFIG`], is not UTF-8 or not TOML stops it too.

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

/// `[tool.envscan]` as written in `pyproject.toml`; each key is read on its own, so one bad
/// value is reported by name.
#[derive(Debug, Default)]
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
    /// Modules whose imports are left out of the analysis; also plugin distributions (or their
    /// entry point modules) that an entry-point group would bring in.
    pub ignore: Vec<String>,
    /// Host distribution → entry-point groups it loads every provider of, added to the
    /// shipped table (`crate::classify::plugins::HOSTS`).
    pub entry_point_groups: BTreeMap<String, Vec<String>>,
    pub base_image: Option<String>,
    /// The command that runs the program in the build plan.
    pub entrypoint: Vec<String>,
    /// Environment variables the build plan sets.
    pub variables: BTreeMap<String, String>,
    pub target_platform: Option<String>,
    /// `target = { platform = ..., cuda = ... }`: the CUDA version of the target.
    pub target_cuda: Option<String>,
    /// Named indexes and per-package sources, `[[tool.envscan.index]]` and
    /// `[tool.envscan.sources]`, with `[[tool.uv.index]]` and `[tool.uv.sources]`.
    pub sources: crate::index::sources::SourceConfig,
    /// Where the lock is written, relative to the project.
    pub lock: Option<String>,
    /// Globs (relative to the project, `globset` syntax) of files the project archive carries
    /// besides the modules the code reaches; a folder's name carries all of it.
    pub include: Vec<String>,
    /// The largest an archive may be unpacked, in bytes (`max-pack-size = "100MB"`).
    pub max_pack_size: Option<u64>,
}

/// `[tool.envscan] target`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct TargetTable {
    platform: Option<String>,
    cuda: Option<String>,
}

/// Every key `[tool.envscan]` may hold; anything else is reported.
const KNOWN_KEYS: &[&str] = &[
    "add",
    "base-image",
    "classes",
    "entry-point-groups",
    "entrypoint",
    "exclude",
    "extra-index-url",
    "ignore",
    "import-names",
    "include",
    "index",
    "index-url",
    "lock",
    "max-file-size",
    "max-pack-size",
    "name",
    "python",
    "python-version",
    "roots",
    "sources",
    "target",
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
        let config = read_tool_config(&root, &mut diagnostics)?;
        Ok(Self {
            root,
            config,
            diagnostics,
        })
    }
}

/// A `[tool.envscan]` problem that stops the run: the configuration cannot be trusted to be
/// what the user meant, so nothing is analysed with a part of it silently dropped.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error(transparent)]
    Unreadable(#[from] crate::fsread::ReadError),
    #[error("{}", list(.0))]
    Invalid(Vec<ConfigProblem>),
}

/// One bad value in `pyproject.toml`, with the line it is on when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigProblem {
    pub key: String,
    pub line: Option<u32>,
    pub message: String,
}

impl std::fmt::Display for ConfigProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.line {
            Some(line) => write!(f, "pyproject.toml:{line}: ")?,
            None => write!(f, "pyproject.toml: ")?,
        }
        if self.key.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "[tool.envscan] {}: {}", self.key, self.message)
        }
    }
}

fn list(problems: &[ConfigProblem]) -> String {
    let lines: Vec<String> = problems.iter().map(ToString::to_string).collect();
    lines.join("\n")
}

/// Only the key spans of `[tool.envscan]`, to give each problem its line.
#[derive(Deserialize)]
struct SpanDocument {
    tool: Option<SpanTool>,
}

#[derive(Deserialize)]
struct SpanTool {
    envscan: Option<BTreeMap<toml::Spanned<String>, serde::de::IgnoredAny>>,
}

fn line_of(text: &str, offset: usize) -> u32 {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|b| **b == b'\n')
        .count() as u32
        + 1
}

fn read_tool_config(
    root: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> Result<ToolConfig, ConfigError> {
    let path = root.join("pyproject.toml");
    let text = match crate::fsread::read_to_string_capped(&path, crate::fsread::cap::CONFIG) {
        Ok(text) => text,
        Err(err) if err.is_not_found() => return Ok(ToolConfig::default()),
        Err(err) => return Err(err.into()),
    };
    let problem = |key: &str, line, message: String| ConfigProblem {
        key: key.to_string(),
        line,
        message,
    };
    let document: toml::Table = toml::from_str(&text).map_err(|err| {
        let line = err.span().map(|s| line_of(&text, s.start));
        ConfigError::Invalid(vec![problem(
            "",
            line,
            format!("not valid TOML: {}", err.message().trim()),
        )])
    })?;
    let uv = uv_sources(&document).map_err(|message| {
        ConfigError::Invalid(vec![problem("", None, format!("[tool.uv]: {message}"))])
    })?;
    let Some(section) = document.get("tool").and_then(|tool| tool.get("envscan")) else {
        let mut config = ToolConfig::default();
        (config.sources.uv_indexes, config.sources.uv_sources) = uv;
        return Ok(config);
    };
    let Some(table) = section.as_table() else {
        return Err(ConfigError::Invalid(vec![problem(
            "",
            None,
            "[tool.envscan] must be a table".into(),
        )]));
    };
    let lines: BTreeMap<String, u32> = toml::from_str::<SpanDocument>(&text)
        .ok()
        .and_then(|d| d.tool)
        .and_then(|t| t.envscan)
        .map(|keys| {
            keys.into_keys()
                .map(|k| {
                    let line = line_of(&text, k.span().start);
                    (k.into_inner(), line)
                })
                .collect()
        })
        .unwrap_or_default();
    let mut config = ToolConfig::default();
    let mut problems = Vec::new();
    for (key, value) in table {
        let line = lines.get(key).copied();
        let result = config.set(key, value.clone());
        match result {
            Ok(true) => {}
            Ok(false) => {
                let mut d = Diagnostic::warning(
                    CONFIG_UNKNOWN_KEY,
                    // Escaped: a key can hold terminal control sequences.
                    format!(
                        "unknown key `{}` in [tool.envscan]; it is ignored",
                        key.escape_debug()
                    ),
                )
                .with_file("pyproject.toml");
                if let Some(line) = line {
                    d = d.with_line(line);
                }
                d = match closest_key(key) {
                    Some(known) => d.with_hint(format!("did you mean `{known}`?")),
                    None => d.with_hint(format!("known keys: {}", KNOWN_KEYS.join(", "))),
                };
                diagnostics.push(d);
            }
            Err(message) => problems.push(problem(key, line, message)),
        }
    }
    (config.sources.uv_indexes, config.sources.uv_sources) = uv;
    for (key, message) in config.validate() {
        let line = lines.get(key).copied();
        problems.push(problem(key, line, message));
    }
    if problems.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid(problems))
    }
}

/// `[[tool.uv.index]]` and `[tool.uv.sources]`, when present; the rest of `[tool.uv]` is
/// uv's business.
type UvSources = (
    Vec<crate::index::sources::IndexEntry>,
    std::collections::BTreeMap<String, crate::index::sources::SourceEntry>,
);

fn uv_sources(document: &toml::Table) -> Result<UvSources, String> {
    let Some(uv) = document.get("tool").and_then(|tool| tool.get("uv")) else {
        return Ok(UvSources::default());
    };
    let indexes = match uv.get("index") {
        Some(value) => typed(value.clone()).map_err(|e| format!("index: {e}"))?,
        None => Vec::new(),
    };
    let sources = match uv.get("sources") {
        Some(value) => typed(value.clone()).map_err(|e| format!("sources: {e}"))?,
        None => BTreeMap::new(),
    };
    Ok((indexes, sources))
}

/// The known key a mistyped one most likely meant (`index_url`, `exlude`).
fn closest_key(key: &str) -> Option<&'static str> {
    let normal = key.to_ascii_lowercase().replace('_', "-");
    KNOWN_KEYS
        .iter()
        .map(|known| (strsim::levenshtein(&normal, known), *known))
        .filter(|(distance, known)| *distance <= 2.max(known.len() / 4))
        .min()
        .map(|(_, known)| known)
}

/// A size written as a number of bytes or as `"100MB"`, `"1.5 GiB"` (the `bytesize` crate's
/// syntax: decimal and binary units).
pub fn byte_size(value: toml::Value) -> Result<u64, String> {
    match value {
        toml::Value::Integer(n) => u64::try_from(n).map_err(|_| "a size cannot be negative".into()),
        toml::Value::String(text) => parse_byte_size(&text),
        _ => Err("expected a size such as \"100MB\" or a number of bytes".into()),
    }
}

/// `"100MB"` → 100,000,000; `"1GiB"` → 2³⁰.
pub fn parse_byte_size(text: &str) -> Result<u64, String> {
    text.trim()
        .parse::<bytesize::ByteSize>()
        .map(|size| size.as_u64())
        .map_err(|why| format!("{text:?} is not a size such as \"100MB\": {why}"))
}

/// `value` as a `T`, or the message of why it is not one.
fn typed<T: serde::de::DeserializeOwned>(value: toml::Value) -> Result<T, String> {
    value
        .try_into()
        .map_err(|err: toml::de::Error| err.message().trim().to_string())
}

impl ToolConfig {
    /// Sets the field `key` names; `Ok(false)` for a key envscan does not know.
    fn set(&mut self, key: &str, value: toml::Value) -> Result<bool, String> {
        match key {
            "add" => self.add = typed(value)?,
            "base-image" => self.base_image = Some(typed(value)?),
            "classes" => self.classes = typed(value)?,
            "entry-point-groups" => self.entry_point_groups = typed(value)?,
            "entrypoint" => self.entrypoint = typed(value)?,
            "exclude" => self.exclude = typed(value)?,
            "extra-index-url" => self.extra_index_url = typed(value)?,
            "ignore" => self.ignore = typed(value)?,
            "import-names" => self.import_names = typed(value)?,
            "include" => self.include = typed(value)?,
            "index" => self.sources.envscan_indexes = typed(value)?,
            "index-url" => self.index_url = Some(typed(value)?),
            "lock" => self.lock = Some(typed(value)?),
            "max-file-size" => self.max_file_size = Some(typed(value)?),
            "max-pack-size" => self.max_pack_size = Some(byte_size(value)?),
            "name" => self.name = Some(typed(value)?),
            "python" => self.python = Some(typed(value)?),
            "python-version" => self.python_version = Some(typed(value)?),
            "roots" => self.roots = typed(value)?,
            "sources" => self.sources.envscan_sources = typed(value)?,
            "target" => {
                let target: TargetTable = typed(value)?;
                if target.platform.is_some() {
                    self.target_platform = target.platform;
                }
                self.target_cuda = target.cuda;
            }
            "target-platform" => self.target_platform = Some(typed(value)?),
            "variables" => self.variables = typed(value)?,
            _ => return Ok(false),
        }
        Ok(true)
    }

    /// Values of the right type that envscan still cannot use: each (key, why).
    fn validate(&self) -> Vec<(&'static str, String)> {
        let mut problems = Vec::new();
        if let Some(lock) = &self.lock
            && let Err(why) = crate::outputs::check_project_relative(Path::new(lock))
        {
            problems.push(("lock", why));
        }
        if let Some(image) = &self.base_image
            && let Err(why) = crate::emit::plan_check::check_image_reference(image)
        {
            problems.push(("base-image", why));
        }
        if let Some(name) = &self.name
            && let Err(why) = crate::emit::plan_check::check_env_name(name)
        {
            problems.push(("name", why));
        }
        for (key, value) in &self.variables {
            if let Err(why) = crate::emit::plan_check::check_env_variable(key, value) {
                problems.push(("variables", why));
            }
        }
        for (host, groups) in &self.entry_point_groups {
            let bad = |s: &str| s.trim().is_empty() || s.chars().any(char::is_control);
            if bad(host) || groups.iter().any(|g| bad(g)) {
                problems.push((
                    "entry-point-groups",
                    "a host or group name is empty or holds control characters".into(),
                ));
            }
        }
        for arg in &self.entrypoint {
            if arg.contains('\0') {
                problems.push(("entrypoint", "an argument holds a NUL character".into()));
            }
        }
        problems
    }
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
    /// Where the parse and environment caches live; `None` under `--no-cache`.
    pub cache_dir: Option<PathBuf>,
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
            cache_dir: local_cache_dir(args),
        })
    }
}

/// Where the parse and environment caches live for a command's options: `--cache-dir`, else
/// the index cache's default folder; `None` under `--no-cache`.
pub fn local_cache_dir(args: &ProjectArgs) -> Option<PathBuf> {
    (!args.no_cache).then(|| {
        args.cache_dir
            .clone()
            .unwrap_or_else(crate::index::default_cache_dir)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config_of(text: &str) -> (Result<ToolConfig, ConfigError>, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        fs_err::write(dir.path().join("pyproject.toml"), text).unwrap();
        let mut diagnostics = Vec::new();
        let config = read_tool_config(dir.path(), &mut diagnostics);
        (config, diagnostics)
    }

    #[test]
    fn unknown_keys_are_reported_with_line_and_suggestion_and_known_ones_kept() {
        let (config, diagnostics) =
            config_of("[tool.envscan]\nexclude = [\"build\"]\nexlude = [\"x\"]\n");
        assert_eq!(config.unwrap().exclude, ["build"]);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].code, CONFIG_UNKNOWN_KEY);
        assert!(diagnostics[0].message.contains("exlude"));
        assert_eq!(diagnostics[0].line, Some(3));
        assert_eq!(
            diagnostics[0].hint.as_deref(),
            Some("did you mean `exclude`?")
        );
    }

    #[test]
    fn a_wrong_type_is_an_error_naming_the_key_and_line() {
        let (config, _) = config_of(
            "[tool.envscan]\nindex-url = \"https://private.example/simple\"\nexclude = \"build\"\n",
        );
        let err = config.unwrap_err().to_string();
        assert!(err.contains("pyproject.toml:3"), "{err}");
        assert!(err.contains("exclude"), "{err}");
    }

    #[test]
    fn max_pack_size_takes_a_size_with_units_or_bytes_and_refuses_nonsense() {
        let (config, _) = config_of("[tool.envscan]\nmax-pack-size = \"100MB\"\n");
        assert_eq!(config.unwrap().max_pack_size, Some(100_000_000));
        let (config, _) = config_of("[tool.envscan]\nmax-pack-size = 2048\n");
        assert_eq!(config.unwrap().max_pack_size, Some(2048));
        let (config, _) = config_of("[tool.envscan]\nmax-pack-size = \"lots\"\n");
        let err = config.unwrap_err().to_string();
        assert!(err.contains("max-pack-size"), "{err}");
    }

    #[test]
    fn invalid_toml_is_an_error_with_a_line() {
        let (config, _) = config_of("[project]\nname = \n");
        let err = config.unwrap_err().to_string();
        assert!(err.contains("pyproject.toml:2"), "{err}");
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
