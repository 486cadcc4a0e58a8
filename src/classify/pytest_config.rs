//! pytest's configuration, found and read as pytest 9 does (`_pytest/config/findpaths.py`),
//! and what it asks of the environment: the plugins that `addopts` and `required_plugins` need.
//!
//! In the project folder, the first of these that holds pytest configuration wins:
//! `pytest.toml` / `.pytest.toml` (`[pytest]`; always, even empty), `pytest.ini` /
//! `.pytest.ini` (always, even without `[pytest]`), `pyproject.toml` (`[tool.pytest]` with
//! native TOML values, or `[tool.pytest.ini_options]`), `tox.ini` (`[pytest]`), `setup.cfg`
//! (`[tool:pytest]`). pytest also walks up from the folder it runs in; envscan reads nothing
//! outside the project.
//!
//! INI files are read as iniconfig (pytest's parser) reads them: `#` and `;` start a comment
//! line, never an inline comment; `name = value` or `name: value`; an indented line continues
//! the value before it, joined with a newline. `addopts` and `required_plugins` are `args`
//! values: a string is split as Python's `shlex.split` does (the `shlex` crate), a TOML list
//! is taken as is.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::diagnostic::{Code, Diagnostic};
use crate::fsread;

pub const PYTEST_CONFIG_INVALID: Code = Code("pytest-config-invalid");

/// The configuration pytest would use, reduced to what decides its plugins.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PytestConfig {
    /// The file, relative to the project (`pytest.ini`).
    pub file: String,
    /// `addopts`, split into arguments.
    pub addopts: Vec<String>,
    /// `required_plugins`: requirement strings (`pytest-cov>=4`).
    pub required_plugins: Vec<String>,
}

/// What `addopts` asks for.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Asks {
    /// Options as registered (`--cov` of `--cov=src`, `-n` of `-n4`), in order, deduplicated.
    pub options: Vec<String>,
    /// `-p NAME`: plugins loaded by entry point name or module.
    pub plugins: Vec<String>,
    /// `-p no:NAME`: plugins blocked.
    pub disabled: BTreeSet<String>,
}

impl PytestConfig {
    /// The options and plugin arguments of `addopts`.
    pub fn asks(&self) -> Asks {
        let mut asks = Asks::default();
        let mut args = self.addopts.iter();
        while let Some(arg) = args.next() {
            let plugin = match arg.as_str() {
                "--" => break,
                "-p" => args.next().cloned(),
                _ => arg
                    .strip_prefix("-p")
                    .map(|rest| rest.trim_start_matches('=').to_string()),
            };
            if let Some(plugin) = plugin {
                match plugin.strip_prefix("no:") {
                    Some(name) => {
                        asks.disabled.insert(name.to_string());
                    }
                    None if !plugin.is_empty() => asks.plugins.push(plugin),
                    None => {}
                }
                continue;
            }
            let option = if arg.starts_with("--") {
                arg.split('=').next().unwrap_or(arg).to_string()
            } else if arg.starts_with('-') && arg.len() > 1 {
                // `-n4`, `-nauto`, `-ra`: argparse reads the first letter as the option.
                arg.chars().take(2).collect()
            } else {
                continue; // a value or a path
            };
            if !asks.options.contains(&option) {
                asks.options.push(option);
            }
        }
        asks
    }
}

/// The configuration pytest would read in `root`, if any. A file that does not parse is a
/// diagnostic (pytest itself stops on it) and ends the search, as it would for pytest.
pub fn find(root: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<PytestConfig> {
    const FILES: &[&str] = &[
        "pytest.toml",
        ".pytest.toml",
        "pytest.ini",
        ".pytest.ini",
        "pyproject.toml",
        "tox.ini",
        "setup.cfg",
    ];
    for name in FILES {
        let path = root.join(name);
        if !path.is_file() {
            continue;
        }
        let text = match fsread::read_to_string_capped(&path, fsread::cap::CONFIG) {
            Ok(text) => text,
            Err(err) => {
                diagnostics.push(invalid(name, None, &err.to_string()));
                return None;
            }
        };
        match read(name, &text) {
            Ok(Some(config)) => return Some(config),
            Ok(None) => {}
            Err((line, message)) => {
                diagnostics.push(invalid(name, line, &message));
                return None;
            }
        }
    }
    None
}

fn invalid(file: &str, line: Option<u32>, message: &str) -> Diagnostic {
    let mut d = Diagnostic::warning(
        PYTEST_CONFIG_INVALID,
        format!("pytest's configuration cannot be read: {message}"),
    )
    .with_file(file)
    .with_hint("pytest stops on this file too; its plugins are not looked for");
    if let Some(line) = line {
        d = d.with_line(line);
    }
    d
}

type ReadError = (Option<u32>, String);

/// The pytest configuration in the file `name` holding `text`: `Ok(None)` when it holds none.
fn read(name: &str, text: &str) -> Result<Option<PytestConfig>, ReadError> {
    let values: Option<BTreeMap<String, Value>> = match name {
        "pytest.toml" | ".pytest.toml" => {
            let document = toml_document(text)?;
            Some(toml_table(document.get("pytest")))
        }
        "pyproject.toml" => {
            let document = toml_document(text)?;
            let tool_pytest = document.get("tool").and_then(|t| t.get("pytest"));
            let native = toml_table(tool_pytest)
                .into_iter()
                .filter(|(k, _)| k != "ini_options")
                .collect::<BTreeMap<_, _>>();
            let ini = tool_pytest.and_then(|t| t.get("ini_options"));
            if !native.is_empty() {
                Some(native)
            } else {
                ini.map(|table| toml_table(Some(table)))
            }
        }
        _ => {
            let sections = parse_ini(text)?;
            let section = if name == "setup.cfg" {
                "tool:pytest"
            } else {
                "pytest"
            };
            match sections.get(section) {
                Some(values) => Some(
                    values
                        .iter()
                        .map(|(k, v)| (k.clone(), Value::Text(v.clone())))
                        .collect(),
                ),
                None if name.ends_with("pytest.ini") => Some(BTreeMap::new()),
                None => None,
            }
        }
    };
    let Some(values) = values else {
        return Ok(None);
    };
    let args = |key: &str| -> Result<Vec<String>, ReadError> {
        match values.get(key) {
            None => Ok(Vec::new()),
            Some(Value::List(items)) => Ok(items.clone()),
            Some(Value::Text(text)) => shlex::split(text)
                .ok_or_else(|| (None, format!("`{key}` has an unclosed quote or escape"))),
            Some(Value::Other) => Err((None, format!("`{key}` is neither a string nor a list"))),
        }
    };
    Ok(Some(PytestConfig {
        file: name.to_string(),
        addopts: args("addopts")?,
        required_plugins: args("required_plugins")?,
    }))
}

/// A configuration value, as far as the keys read here care.
#[derive(Clone, Debug)]
enum Value {
    Text(String),
    List(Vec<String>),
    Other,
}

fn toml_document(text: &str) -> Result<toml::Table, ReadError> {
    toml::from_str(text).map_err(|err| (None, format!("not valid TOML: {}", err.message().trim())))
}

fn toml_table(value: Option<&toml::Value>) -> BTreeMap<String, Value> {
    let Some(table) = value.and_then(toml::Value::as_table) else {
        return BTreeMap::new();
    };
    table
        .iter()
        .map(|(key, value)| {
            let value = match value {
                toml::Value::String(s) => Value::Text(s.clone()),
                toml::Value::Array(items) => {
                    let strings: Option<Vec<String>> = items
                        .iter()
                        .map(|i| i.as_str().map(str::to_string))
                        .collect();
                    strings.map_or(Value::Other, Value::List)
                }
                _ => Value::Other,
            };
            (key.clone(), value)
        })
        .collect()
}

/// Sections of an INI file as iniconfig reads them: section → name → value.
fn parse_ini(text: &str) -> Result<BTreeMap<String, BTreeMap<String, String>>, ReadError> {
    let mut sections: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
    let mut section: Option<String> = None;
    let mut last: Option<String> = None;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    for (index, raw) in text.lines().enumerate() {
        let line_no = Some(u32::try_from(index + 1).unwrap_or(u32::MAX));
        let err = |message: String| Err((line_no, message));
        if raw.trim_start().starts_with(['#', ';']) {
            continue;
        }
        let line = raw.trim_end();
        if line.is_empty() {
            continue;
        }
        if line.starts_with('[') {
            let head = line.split(['#', ';']).next().unwrap_or("").trim_end();
            let Some(name) = head.strip_prefix('[').and_then(|h| h.strip_suffix(']')) else {
                // iniconfig reads it as a continuation line.
                match (&section, &last) {
                    (Some(s), Some(key)) => push_line(&mut sections, s, key, line.trim()),
                    _ => return err("unexpected value continuation".into()),
                }
                continue;
            };
            if name.is_empty() {
                return err("empty section name".into());
            }
            if sections.contains_key(name) {
                return err(format!("duplicate section {name:?}"));
            }
            sections.insert(name.to_string(), BTreeMap::new());
            section = Some(name.to_string());
            last = None;
        } else if line.starts_with(char::is_whitespace) {
            match (&section, &last) {
                (Some(s), Some(key)) => push_line(&mut sections, s, key, line.trim()),
                _ => return err("unexpected value continuation".into()),
            }
        } else {
            let split = match line.split_once('=') {
                Some((name, value)) if !name.contains(':') => Some((name, value)),
                _ => line.split_once(':'),
            };
            let Some((name, value)) = split else {
                return err(format!("unexpected line: {line:?}"));
            };
            let Some(current) = &section else {
                return err("no section header defined".into());
            };
            let name = name.trim().to_string();
            let values = sections.entry(current.clone()).or_default();
            if values.contains_key(&name) {
                return err(format!("duplicate name {name:?}"));
            }
            values.insert(name.clone(), value.trim().to_string());
            last = Some(name);
        }
    }
    Ok(sections)
}

fn push_line(
    sections: &mut BTreeMap<String, BTreeMap<String, String>>,
    section: &str,
    key: &str,
    line: &str,
) {
    if let Some(value) = sections.get_mut(section).and_then(|s| s.get_mut(key)) {
        if !value.is_empty() {
            value.push('\n');
        }
        value.push_str(line);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(files: &[(&str, &str)]) -> (Option<PytestConfig>, Vec<Diagnostic>) {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            fs_err::write(dir.path().join(name), text).unwrap();
        }
        let mut diagnostics = Vec::new();
        (find(dir.path(), &mut diagnostics), diagnostics)
    }

    #[test]
    fn pytest_ini_wins_over_pyproject_and_counts_even_without_a_section() {
        let pyproject = "[tool.pytest.ini_options]\naddopts = \"--cov\"\n";
        let (found, _) = config(&[("pytest.ini", "[other]\n"), ("pyproject.toml", pyproject)]);
        let found = found.unwrap();
        assert_eq!(found.file, "pytest.ini");
        assert!(found.addopts.is_empty());
        let (found, _) = config(&[
            ("pyproject.toml", pyproject),
            ("setup.cfg", "[tool:pytest]\naddopts = -x\n"),
        ]);
        assert_eq!(found.unwrap().addopts, ["--cov"]);
    }

    #[test]
    fn tox_and_setup_cfg_count_only_with_their_section() {
        let (found, _) = config(&[
            ("tox.ini", "[tox]\nenvlist = py311\n"),
            (
                "setup.cfg",
                "[tool:pytest]\naddopts =\n    --cov=cookiecutter\n    -p no:cacheprovider\n",
            ),
        ]);
        let found = found.unwrap();
        assert_eq!(found.file, "setup.cfg");
        assert_eq!(
            found.addopts,
            ["--cov=cookiecutter", "-p", "no:cacheprovider"]
        );
        let (found, _) = config(&[(
            "tox.ini",
            "[pytest]\nrequired_plugins = pytest-mock>=3 pytest-cov\n",
        )]);
        assert_eq!(
            found.unwrap().required_plugins,
            ["pytest-mock>=3", "pytest-cov"]
        );
        let (found, _) = config(&[("setup.cfg", "[metadata]\nname = x\n")]);
        assert_eq!(found, None);
    }

    #[test]
    fn native_toml_lists_are_taken_as_arguments_and_strings_split_like_shlex() {
        let (found, _) = config(&[(
            "pyproject.toml",
            "[tool.pytest]\naddopts = [\"-n\", \"2\", \"--dist=loadfile\"]\n",
        )]);
        assert_eq!(found.unwrap().addopts, ["-n", "2", "--dist=loadfile"]);
        let (found, _) = config(&[("pytest.ini", "[pytest]\naddopts = -m 'not slow' --cov\n")]);
        assert_eq!(found.unwrap().addopts, ["-m", "not slow", "--cov"]);
    }

    #[test]
    fn a_broken_file_is_a_diagnostic_with_its_line_and_no_configuration() {
        let (found, diagnostics) = config(&[("pytest.ini", "[pytest]\naddopts = --cov\njunk\n")]);
        assert_eq!(found, None);
        assert_eq!(diagnostics.len(), 1);
        assert_eq!(diagnostics[0].line, Some(3));
        assert_eq!(diagnostics[0].file.as_deref(), Some("pytest.ini"));
        let (found, diagnostics) = config(&[("pytest.ini", "[pytest]\naddopts = '--cov\n")]);
        assert_eq!(found, None);
        assert!(
            diagnostics[0].message.contains("unclosed quote"),
            "{diagnostics:?}"
        );
    }

    #[test]
    fn iniconfig_keeps_inline_semicolons_and_reads_colon_pairs() {
        let sections =
            parse_ini("[pytest]\naddopts: -x ; not a comment\n; comment\nkey = a:b\n").unwrap();
        assert_eq!(sections["pytest"]["addopts"], "-x ; not a comment");
        assert_eq!(sections["pytest"]["key"], "a:b");
    }

    #[test]
    fn addopts_give_options_plugins_and_disabled_plugins() {
        let config = PytestConfig {
            addopts: [
                "-ra",
                "--cov=src",
                "--cov-report",
                "term",
                "-n4",
                "-p",
                "xdist",
                "-pno:randomly",
                "-p",
                "no:cacheprovider",
                "--benchmark-skip",
                "--",
                "-k",
            ]
            .map(String::from)
            .to_vec(),
            ..PytestConfig::default()
        };
        let asks = config.asks();
        assert_eq!(
            asks.options,
            ["-r", "--cov", "--cov-report", "-n", "--benchmark-skip"]
        );
        assert_eq!(asks.plugins, ["xdist"]);
        assert_eq!(
            asks.disabled,
            BTreeSet::from(["randomly".to_string(), "cacheprovider".to_string()])
        );
    }
}
