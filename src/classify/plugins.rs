//! Plugins: distributions that a needed distribution loads by entry-point group, without any
//! import statement naming them. pytest loads every installed `pytest11` entry point at start
//! (pluggy's `load_setuptools_entrypoints`), Flask adds every `flask.commands` entry point to
//! its CLI, keyring picks among every `keyring.backends` one: each installed provider of such a
//! group is needed as soon as its host is.
//!
//! [`HOSTS`] is the shipped table, each line checked against the host's own source (the call
//! that reads the group is named beside it). `[tool.envscan] entry-point-groups` adds hosts and
//! groups; `[tool.envscan] ignore` naming a plugin's distribution or its entry point's module
//! leaves it out. Hosts that were checked and load no entry points: click and typer (neither
//! reads an entry-point group; the third-party click-plugins loads a group the application
//! names, which `entry-point-groups` can list), jupyter_server (server extensions are enabled by
//! `jupyter_server_config.d/*.json` files, not entry points) and JupyterLab's prebuilt
//! extensions (found as files under `share/jupyter/labextensions`). pygments' lexer, formatter
//! and style groups are left out on purpose: pygments reads them only to look up a name its own
//! tables lack, and IPython (among others) registers a lexer, so every project that reaches
//! pygments through rich would lock IPython.
//!
//! The closure is taken to a fixed point by the caller: plugins are added as roots, the
//! `Requires-Dist` closure is taken again so their own requirements come too, and any host
//! that brings in is looked at in the next round.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::pytest_config::PytestConfig;
use super::pytest_options::{Registrant, Registry};
use crate::diagnostic::{Code, Diagnostic};
use crate::env::{EntryPoint, Environment};
use crate::names::PackageName;

pub const PYTEST_OPTION_UNKNOWN: Code = Code("pytest-option-unknown");
pub const PYTEST_PLUGIN_MISSING: Code = Code("pytest-plugin-missing");

/// Host distribution → the entry-point groups it loads every provider of.
pub const HOSTS: &[(&str, &[&str])] = &[
    // pluggy hosts: `PluginManager.load_setuptools_entrypoints(group)`.
    ("pytest", &["pytest11"]),
    ("tox", &["tox"]),
    ("datasette", &["datasette"]),
    ("llm", &["llm"]),
    ("hatchling", &["hatch"]),
    // flake8/plugins/finder.py: FLAKE8_GROUPS.
    ("flake8", &["flake8.extension", "flake8.report"]),
    // sphinx/registry.py (builders) and sphinx/theming.py (HTML themes).
    ("sphinx", &["sphinx.builders", "sphinx.html_themes"]),
    // jupyterlab/extensions/__init__.py.
    ("jupyterlab", &["jupyterlab.extension_manager_v1"]),
    // jupyter_client/provisioning/factory.py.
    ("jupyter-client", &["jupyter_client.kernel_provisioners"]),
    // nbconvert/exporters/base.py and script.py.
    (
        "nbconvert",
        &["nbconvert.exporters", "nbconvert.exporters.script"],
    ),
    // setuptools/dist.py, command/egg_info.py, command/sdist.py: what `setup()` loads.
    (
        "setuptools",
        &[
            "distutils.commands",
            "distutils.setup_keywords",
            "egg_info.writers",
            "setuptools.file_finders",
            "setuptools.finalize_distribution_options",
        ],
    ),
    // keyring/backend.py: `_load_plugins`.
    ("keyring", &["keyring.backends"]),
    // fsspec/__init__.py: `process_entries`.
    ("fsspec", &["fsspec.specs"]),
    // pandas/plotting/_core.py: `_load_backend`.
    ("pandas", &["pandas_plotting_backends"]),
    // matplotlib/backends/registry.py (3.9 and later).
    ("matplotlib", &["matplotlib.backend"]),
    // flask/cli.py: `FlaskGroup._load_plugin_commands`.
    ("flask", &["flask.commands"]),
];

/// Why a plugin distribution is needed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct PluginOf {
    /// The needed distribution that loads it.
    pub host: PackageName,
    pub via: Via,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// It provides an entry point in a group the host loads.
    EntryPointGroup { group: String },
    /// pytest's configuration (`file`) passes an option it registers (`--cov`).
    Option { option: String, file: String },
    /// pytest's configuration loads it by name (`-p xdist`).
    PluginArg { name: String, file: String },
    /// pytest's `required_plugins` names it.
    RequiredPlugin { requirement: String, file: String },
}

impl fmt::Display for PluginOf {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let host = &self.host;
        match &self.via {
            Via::EntryPointGroup { group } => {
                write!(f, "plugin of {host} via entry point group {group}")
            }
            Via::Option { option, file } => write!(
                f,
                "plugin of {host}: {file} passes {option}, an option it registers"
            ),
            Via::PluginArg { name, file } => write!(f, "plugin of {host}: {file} loads -p {name}"),
            Via::RequiredPlugin { requirement, file } => {
                write!(
                    f,
                    "plugin of {host}: {file} requires {requirement} (required_plugins)"
                )
            }
        }
    }
}

/// The table of hosts and groups, with the project's additions.
#[derive(Clone, Debug, Default)]
pub struct HostGroups {
    groups: BTreeMap<PackageName, BTreeSet<String>>,
}

impl HostGroups {
    /// [`HOSTS`] plus `[tool.envscan] entry-point-groups` (host distribution → groups).
    pub fn new(extra: &BTreeMap<String, Vec<String>>) -> Self {
        let mut groups: BTreeMap<PackageName, BTreeSet<String>> = BTreeMap::new();
        for (host, host_groups) in HOSTS {
            groups
                .entry(PackageName::new(host))
                .or_default()
                .extend(host_groups.iter().map(|g| g.to_string()));
        }
        for (host, host_groups) in extra {
            groups
                .entry(PackageName::new(host))
                .or_default()
                .extend(host_groups.iter().cloned());
        }
        Self { groups }
    }

    /// The groups `host` loads.
    pub fn of(&self, host: &PackageName) -> impl Iterator<Item = &str> {
        self.groups
            .get(host)
            .into_iter()
            .flatten()
            .map(String::as_str)
    }

    /// The hosts that load `group`.
    pub fn hosts_of<'a>(&'a self, group: &'a str) -> impl Iterator<Item = &'a PackageName> + 'a {
        self.groups
            .iter()
            .filter(move |(_, groups)| groups.contains(group))
            .map(|(host, _)| host)
    }
}

/// Plugins the user leaves out: `[tool.envscan] ignore` entries (a distribution name or a
/// module), and pytest's `-p no:NAME` (an entry point's name or module).
#[derive(Clone, Debug, Default)]
pub struct LeftOut {
    pub ignore: Vec<String>,
    /// pytest11 entry point names or modules disabled by `-p no:NAME`.
    pub pytest_disabled: BTreeSet<String>,
}

impl LeftOut {
    /// Why the plugin `dist` (through `entry`) stays out, if it does.
    pub fn why(&self, dist: &PackageName, entry: &EntryPoint) -> Option<String> {
        let module = entry.module().unwrap_or_default();
        let names_it = |item: &str| {
            PackageName::new(item) == *dist
                || module == item
                || module.starts_with(&format!("{item}."))
        };
        if let Some(item) = self.ignore.iter().find(|i| names_it(i)) {
            return Some(format!("[tool.envscan] ignore lists `{item}`"));
        }
        if entry.group == "pytest11"
            && (self.pytest_disabled.contains(&entry.name) || self.pytest_disabled.contains(module))
        {
            return Some(format!(
                "pytest's configuration disables it (-p no:{})",
                entry.name
            ));
        }
        None
    }
}

/// Every installed distribution that a needed host loads by entry-point group, with why.
/// `installed` lists each installed distribution with its entry points.
pub fn group_plugins<'a>(
    needed: &BTreeSet<PackageName>,
    hosts: &HostGroups,
    installed: impl IntoIterator<Item = (&'a PackageName, &'a [EntryPoint])>,
    left_out: &LeftOut,
) -> BTreeMap<PackageName, BTreeSet<PluginOf>> {
    let mut plugins: BTreeMap<PackageName, BTreeSet<PluginOf>> = BTreeMap::new();
    for (dist, entries) in installed {
        for entry in entries {
            for host in hosts.hosts_of(&entry.group) {
                if host == dist || !needed.contains(host) || left_out.why(dist, entry).is_some() {
                    continue;
                }
                plugins.entry(dist.clone()).or_default().insert(PluginOf {
                    host: host.clone(),
                    via: Via::EntryPointGroup {
                        group: entry.group.clone(),
                    },
                });
            }
        }
    }
    plugins
}

/// What pytest's configuration asks of the environment once pytest is needed.
#[derive(Debug, Default)]
pub struct PytestDemands {
    /// Plugin distributions its options, `-p` and `required_plugins` need.
    pub plugins: BTreeMap<PackageName, BTreeSet<PluginOf>>,
    /// `-p no:NAME` arguments.
    pub disabled: BTreeSet<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Maps pytest's configuration to the installed plugin distributions it needs: each option
/// to the plugin that registers it ([`Registry`], read from the plugins' own modules), each
/// `-p NAME` to the distribution with that `pytest11` entry point (by name or module) or that
/// provides the module, each `required_plugins` entry to the distribution of that name.
pub fn pytest_demands(config: &PytestConfig, env: &Environment) -> PytestDemands {
    let pytest = PackageName::new("pytest");
    let asks = config.asks();
    let mut demands = PytestDemands {
        disabled: asks.disabled.clone(),
        ..PytestDemands::default()
    };
    let file = &config.file;
    let mut add = |dist: PackageName, via: Via| {
        demands.plugins.entry(dist).or_default().insert(PluginOf {
            host: pytest.clone(),
            via,
        });
    };
    if !asks.options.is_empty() {
        let registry = Registry::read(env);
        for option in &asks.options {
            let registrants = registry.registrants(option);
            if registrants.is_empty() {
                demands.diagnostics.push(
                    Diagnostic::warning(
                        PYTEST_OPTION_UNKNOWN,
                        format!(
                            "`{option}` in pytest's addopts is registered by neither pytest nor \
                             an installed plugin; pytest stops with \"unrecognized arguments\""
                        ),
                    )
                    .with_file(file)
                    .with_hint("install the pytest plugin that provides it"),
                );
            }
            for registrant in registrants {
                if let Registrant::Plugin { dist, .. } = registrant {
                    add(
                        dist,
                        Via::Option {
                            option: option.clone(),
                            file: file.clone(),
                        },
                    );
                }
            }
        }
    }
    for name in &asks.plugins {
        if let Some(dist) = plugin_by_name(env, name) {
            add(
                dist,
                Via::PluginArg {
                    name: name.clone(),
                    file: file.clone(),
                },
            );
        }
    }
    for requirement in &config.required_plugins {
        let name: String = requirement
            .chars()
            .take_while(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.'))
            .collect();
        let dist = PackageName::new(&name);
        if env.distribution(&dist).is_some() {
            add(
                dist,
                Via::RequiredPlugin {
                    requirement: requirement.clone(),
                    file: file.clone(),
                },
            );
        } else {
            demands.diagnostics.push(
                Diagnostic::warning(
                    PYTEST_PLUGIN_MISSING,
                    format!(
                        "pytest's required_plugins names `{requirement}`, which is not \
                         installed; pytest stops with \"Missing required plugins\""
                    ),
                )
                .with_file(file),
            );
        }
    }
    demands
}

/// The distribution `-p NAME` loads: a `pytest11` entry point of that name or module first (as
/// pytest's `import_plugin` tries), else the distribution that provides module `NAME`.
fn plugin_by_name(env: &Environment, name: &str) -> Option<PackageName> {
    let by_entry = env.entry_point_providers("pytest11").find(|(_, entries)| {
        entries
            .iter()
            .any(|e| e.name == name || e.module() == Some(name))
    });
    if let Some((dist, _)) = by_entry {
        return Some(dist.name.clone());
    }
    env.distributions
        .iter()
        .find(|d| {
            d.modules.iter().any(|m| {
                let m = m.as_str();
                name == m
                    || name
                        .strip_prefix(m)
                        .is_some_and(|rest| rest.starts_with('.'))
            })
        })
        .map(|d| d.name.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::entry_points::entry;

    fn installed() -> Vec<(PackageName, Vec<EntryPoint>)> {
        vec![
            (
                PackageName::new("pytest"),
                vec![entry("console_scripts", "pytest", "pytest:console_main")],
            ),
            (
                PackageName::new("pytest-mock"),
                vec![entry("pytest11", "pytest_mock", "pytest_mock")],
            ),
            (
                PackageName::new("pytest_xdist"),
                vec![
                    entry("pytest11", "xdist", "xdist.plugin"),
                    entry("pytest11", "xdist.looponfail", "xdist.looponfail"),
                ],
            ),
            (
                PackageName::new("flask-migrate"),
                vec![entry("flask.commands", "db", "flask_migrate.cli:db")],
            ),
            (
                PackageName::new("myplug"),
                vec![entry("mytool.plugins", "p", "myplug.p")],
            ),
        ]
    }

    fn run(needed: &[&str], extra: &[(&str, &[&str])], left_out: &LeftOut) -> Vec<String> {
        let needed: BTreeSet<PackageName> = needed.iter().map(|n| PackageName::new(n)).collect();
        let extra: BTreeMap<String, Vec<String>> = extra
            .iter()
            .map(|(h, g)| (h.to_string(), g.iter().map(|g| g.to_string()).collect()))
            .collect();
        let installed = installed();
        let found = group_plugins(
            &needed,
            &HostGroups::new(&extra),
            installed.iter().map(|(n, e)| (n, e.as_slice())),
            left_out,
        );
        found
            .iter()
            .flat_map(|(dist, why)| why.iter().map(move |w| format!("{dist}: {w}")))
            .collect()
    }

    #[test]
    fn a_needed_host_pulls_in_every_provider_of_its_groups_and_only_then() {
        assert_eq!(
            run(&["pytest"], &[], &LeftOut::default()),
            [
                "pytest-mock: plugin of pytest via entry point group pytest11",
                "pytest-xdist: plugin of pytest via entry point group pytest11",
            ]
        );
        assert!(run(&["requests"], &[], &LeftOut::default()).is_empty());
        assert_eq!(
            run(&["flask"], &[], &LeftOut::default()),
            ["flask-migrate: plugin of flask via entry point group flask.commands"]
        );
    }

    #[test]
    fn the_project_adds_hosts_and_groups() {
        assert_eq!(
            run(
                &["mytool"],
                &[("MyTool", &["mytool.plugins"])],
                &LeftOut::default()
            ),
            ["myplug: plugin of mytool via entry point group mytool.plugins"]
        );
    }

    #[test]
    fn ignore_and_pytest_disabling_leave_a_plugin_out() {
        let by_dist = LeftOut {
            ignore: vec!["pytest_mock".into()],
            ..LeftOut::default()
        };
        assert_eq!(
            run(&["pytest"], &[], &by_dist),
            ["pytest-xdist: plugin of pytest via entry point group pytest11"]
        );
        let by_module = LeftOut {
            ignore: vec!["xdist".into()],
            ..LeftOut::default()
        };
        assert_eq!(
            run(&["pytest"], &[], &by_module),
            ["pytest-mock: plugin of pytest via entry point group pytest11"]
        );
        // `-p no:xdist` disables one of pytest-xdist's two entry points: the other still loads.
        let disabled = LeftOut {
            pytest_disabled: BTreeSet::from(["xdist".to_string(), "pytest_mock".to_string()]),
            ..LeftOut::default()
        };
        assert_eq!(
            run(&["pytest"], &[], &disabled),
            ["pytest-xdist: plugin of pytest via entry point group pytest11"]
        );
    }
}
