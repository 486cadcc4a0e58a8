//! Which installed distribution registers each pytest command-line option, read statically
//! from the code pytest would load: pytest's own modules (`_pytest/`), and the module of every
//! installed `pytest11` entry point (`pytest_cov.plugin`, `xdist.plugin`).
//!
//! An option is registered by a call to `addoption` / `_addoption` (`parser.addoption`,
//! `group.addoption`, `group._addoption("-n", "--numprocesses", ...)`), each leading string
//! literal argument that starts with `-` being one of its names. Names built at run time
//! (pytest-benchmark's `addoption(f"--{prefix}sort")` helpers) cannot be read; an option found
//! under no exact name is credited to the one distribution that registers other options of its
//! family (`--benchmark-sort` → the registrant of `--benchmark-min-time`), if only one does.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{Expr, Stmt};

use crate::env::{Distribution, EntryPoint, Environment};
use crate::names::PackageName;

/// Who registers an option.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Registrant {
    /// pytest itself.
    Pytest,
    /// A plugin distribution, through one of its `pytest11` entry points.
    Plugin { dist: PackageName, entry: String },
}

/// Option name → its registrants.
#[derive(Debug, Default)]
pub struct Registry {
    options: BTreeMap<String, BTreeSet<Registrant>>,
}

impl Registry {
    /// Reads pytest's own modules and every `pytest11` plugin module installed in `env`.
    pub fn read(env: &Environment) -> Self {
        let mut registry = Self::default();
        if let Some(pytest) = env.distribution(&PackageName::new("pytest")) {
            let own = pytest.files.iter().filter(|f| {
                f.extension().is_some_and(|e| e == "py")
                    && f.strip_prefix(&pytest.site_packages)
                        .is_ok_and(|rel| rel.starts_with("_pytest"))
            });
            for file in own {
                registry.add_file(file, &Registrant::Pytest);
            }
        }
        for (dist, entries) in env.entry_point_providers("pytest11") {
            for entry in entries {
                let registrant = Registrant::Plugin {
                    dist: dist.name.clone(),
                    entry: entry.name.clone(),
                };
                if let Some(file) = module_file(dist, entry) {
                    registry.add_file(&file, &registrant);
                }
            }
        }
        registry
    }

    fn add_file(&mut self, file: &Path, registrant: &Registrant) {
        // A plugin module is a regular file of a distribution; anything else is skipped.
        let Ok(bytes) = crate::fsread::read_capped(file, crate::fsread::cap::METADATA) else {
            return;
        };
        let rel = file.display().to_string();
        let names = crate::parse::with_parsed_module(&bytes, &rel, |body| {
            let mut collector = Options::default();
            for stmt in body {
                collector.visit_stmt(stmt);
            }
            collector.names
        })
        .unwrap_or_default();
        for name in names {
            self.options
                .entry(name)
                .or_default()
                .insert(registrant.clone());
        }
    }

    /// The registrants of `option` (`--cov`, `-n`): exact, else by option family.
    pub fn registrants(&self, option: &str) -> BTreeSet<Registrant> {
        if let Some(found) = self.options.get(option) {
            return found.clone();
        }
        let Some(family) = family(option) else {
            return BTreeSet::new();
        };
        let by_family: BTreeSet<Registrant> = self
            .options
            .iter()
            .filter(|(name, _)| self::family(name) == Some(family))
            .flat_map(|(_, r)| r.iter().cloned())
            .collect();
        if by_family.len() == 1 {
            by_family
        } else {
            BTreeSet::new()
        }
    }

    /// Every option `dist` registers, sorted.
    pub fn options_of(&self, dist: &PackageName) -> Vec<&str> {
        self.options
            .iter()
            .filter(|(_, r)| {
                r.iter()
                    .any(|r| matches!(r, Registrant::Plugin { dist: d, .. } if d == dist))
            })
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// `--benchmark` of `--benchmark-sort`; `None` for one-word and short options.
fn family(option: &str) -> Option<&str> {
    let rest = option.strip_prefix("--")?;
    let (head, _) = rest.split_once('-')?;
    (!head.is_empty()).then_some(&option[..head.len() + 2])
}

/// The file of an entry point's module inside its distribution: `pkg/mod.py` or
/// `pkg/mod/__init__.py` under the folder the distribution was installed to, or under an
/// editable install's source folders.
pub fn module_file(dist: &Distribution, entry: &EntryPoint) -> Option<PathBuf> {
    let module = entry.module()?;
    let rel: PathBuf = module.split('.').collect();
    let mut bases = vec![dist.site_packages.clone()];
    bases.extend(dist.editable_roots.iter().cloned());
    bases.iter().find_map(|base| {
        [
            base.join(&rel).with_extension("py"),
            base.join(&rel).join("__init__.py"),
        ]
        .into_iter()
        .find(|candidate| candidate.is_file())
    })
}

/// Collects the option names of `addoption` calls.
#[derive(Default)]
struct Options {
    names: Vec<String>,
}

impl<'a> Visitor<'a> for Options {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        ruff_python_ast::visitor::walk_stmt(self, stmt);
    }

    fn visit_expr(&mut self, expr: &'a Expr) {
        if let Expr::Call(call) = expr {
            let callee = match call.func.as_ref() {
                Expr::Attribute(attribute) => Some(attribute.attr.as_str()),
                Expr::Name(name) => Some(name.id.as_str()),
                _ => None,
            };
            if matches!(callee, Some("addoption" | "_addoption")) {
                for arg in &call.arguments.args {
                    let Expr::StringLiteral(literal) = arg else {
                        break;
                    };
                    let name = literal.value.to_str();
                    if name.starts_with('-') {
                        self.names.push(name.to_string());
                    }
                }
            }
        }
        walk_expr(self, expr);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(sources: &[(&str, &str)]) -> Registry {
        let dir = tempfile::tempdir().unwrap();
        let mut registry = Registry::default();
        for (dist, source) in sources {
            let file = dir.path().join(format!("{dist}.py"));
            fs_err::write(&file, source).unwrap();
            let registrant = if *dist == "pytest" {
                Registrant::Pytest
            } else {
                Registrant::Plugin {
                    dist: PackageName::new(dist),
                    entry: dist.to_string(),
                }
            };
            registry.add_file(&file, &registrant);
        }
        registry
    }

    fn plugin(dist: &str) -> BTreeSet<Registrant> {
        BTreeSet::from([Registrant::Plugin {
            dist: PackageName::new(dist),
            entry: dist.to_string(),
        }])
    }

    #[test]
    fn options_come_from_addoption_calls_of_each_module() {
        let r = registry(&[
            (
                "pytest",
                "def pytest_addoption(parser):\n    group = parser.getgroup('x')\n    group._addoption('-r', dest='r')\n    group.addoption('--strict-markers', action='store_true')\n",
            ),
            (
                "pytest-cov",
                "def pytest_addoption(parser):\n    group = parser.getgroup('cov')\n    group.addoption('--cov', action='append')\n    group.addoption('--cov-report')\n",
            ),
            (
                "pytest-xdist",
                "def pytest_addoption(parser):\n    g = parser.getgroup('xdist')\n    g._addoption('-n', '--numprocesses', dest='numprocesses')\n    g.addoption('--dist', metavar='distmode')\n",
            ),
            (
                "pytest-benchmark",
                "def add(addoption, prefix='benchmark-'):\n    addoption(f'--{prefix}sort')\ndef pytest_addoption(parser):\n    parser.getgroup('b').addoption('--benchmark-min-time')\n",
            ),
        ]);
        assert_eq!(r.registrants("-r"), BTreeSet::from([Registrant::Pytest]));
        assert_eq!(r.registrants("--cov"), plugin("pytest-cov"));
        assert_eq!(r.registrants("-n"), plugin("pytest-xdist"));
        assert_eq!(r.registrants("--numprocesses"), plugin("pytest-xdist"));
        assert_eq!(r.registrants("--dist"), plugin("pytest-xdist"));
        // Built at run time: credited by family, which one distribution alone has.
        assert_eq!(
            r.registrants("--benchmark-sort"),
            plugin("pytest-benchmark")
        );
        // `--cov-fail-under` is no exact name, and its family `--cov` has one registrant.
        assert_eq!(r.registrants("--cov-fail-under"), plugin("pytest-cov"));
        assert!(r.registrants("--strict").is_empty());
        assert!(r.registrants("--unknown-thing").is_empty());
        assert_eq!(
            r.options_of(&PackageName::new("pytest-xdist")),
            ["--dist", "--numprocesses", "-n"]
        );
    }

    #[test]
    fn a_syntax_error_keeps_what_parses_and_a_binary_module_registers_nothing() {
        let r = registry(&[
            (
                "broken",
                "def pytest_addoption(parser):\n    parser.addoption('--x')\n\ndef f(:\n",
            ),
            ("binary", "\0\0\0"),
        ]);
        // ruff's parser recovers: the call before the syntax error is still seen.
        assert_eq!(r.registrants("--x"), plugin("broken"));
        assert!(r.options_of(&PackageName::new("binary")).is_empty());
    }
}
