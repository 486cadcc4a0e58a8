//! classify: what each needed module or distribution is, and how it travels.
//!
//! | class | travels as |
//! |---|---|
//! | `pypi` | pinned entry in the lock and in conda.yaml `pip:` |
//! | `conda` | conda.yaml dependency with its channel |
//! | `local` | a wheel envscan writes, in the lock (editable, path, VCS installs of pure Python); the project: a content-addressed archive |
//! | `binary_local` | built from its source tree on the target when the install names one; else not moved: a warning to put it into the base image |
//! | `stdlib` | nothing |
//! | `unresolved` | a diagnostic with every location and a likely distribution name |
//!
//! Every decision carries the [`Reason`] that made it; `envscan explain` prints it.

pub mod closure;
pub mod plugins;
pub mod pytest_config;
pub mod pytest_options;
pub mod suggest;

use std::fmt;

use schemars::JsonSchema;

use crate::env::{DistKind, Distribution};
use serde::{Serialize, Serializer};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Class {
    Pypi,
    Conda,
    Local,
    BinaryLocal,
    Stdlib,
    Unresolved,
}

impl Class {
    pub fn as_str(self) -> &'static str {
        match self {
            Class::Pypi => "pypi",
            Class::Conda => "conda",
            Class::Local => "local",
            Class::BinaryLocal => "binary_local",
            Class::Stdlib => "stdlib",
            Class::Unresolved => "unresolved",
        }
    }

    /// Parses a class name as `[tool.envscan] classes` writes it.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "pypi" => Class::Pypi,
            "conda" => Class::Conda,
            "local" => Class::Local,
            "binary_local" | "binary-local" => Class::BinaryLocal,
            "stdlib" => Class::Stdlib,
            _ => return None,
        })
    }
}

impl fmt::Display for Class {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why something got its class. Serialised as its sentence.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Reason {
    /// Installed from an index and found there at this version.
    OnIndex {
        index: String,
    },
    /// Looks index-installed, but the index could not be asked (offline, not cached).
    Unverified {
        installer: String,
    },
    /// conda installed it (conda-meta record or INSTALLER).
    CondaMeta {
        channel: String,
    },
    /// One of the project's own modules.
    ProjectModule {
        file: String,
    },
    /// An editable install of pure Python code.
    Editable {
        compiled: bool,
    },
    /// Installed from a local folder or archive.
    PathInstall {
        compiled: bool,
    },
    /// Installed from a VCS URL.
    Vcs {
        url: String,
        compiled: bool,
    },
    /// No index has this version.
    NotOnIndex {
        compiled: bool,
    },
    /// A GPU build (`+cu124`) that no configured index has; `index` normally serves it.
    VariantNotOnIndex {
        variant: String,
        index: String,
    },
    /// The installed build did not suit the target; this build of the same release does.
    SwitchedForTarget {
        installed: String,
        index: String,
    },
    /// A module on the search path that no distribution owns.
    Orphan {
        compiled: bool,
    },
    StandardLibrary,
    NotInstalled,
    /// `[tool.envscan] classes` says so.
    Configured,
    /// `[tool.envscan] add` names it.
    Added,
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let compiled = |c: &bool| {
            if *c {
                "with compiled modules"
            } else {
                "pure Python"
            }
        };
        match self {
            Reason::OnIndex { index } => {
                write!(f, "installed from an index; this version is on {index}")
            }
            Reason::Unverified { installer } => write!(
                f,
                "installed by {installer}; not verified on the index (offline and not cached)"
            ),
            Reason::CondaMeta { channel } => write!(f, "installed by conda from {channel}"),
            Reason::ProjectModule { file } => write!(f, "a module of the project ({file})"),
            Reason::Editable { compiled: c } => write!(f, "an editable install, {}", compiled(c)),
            Reason::PathInstall { compiled: c } => {
                write!(f, "installed from a local path, {}", compiled(c))
            }
            Reason::Vcs { url, compiled: c } => {
                write!(f, "installed from version control ({url}), {}", compiled(c))
            }
            Reason::NotOnIndex { compiled: c } => {
                write!(f, "no index has this version, {}", compiled(c))
            }
            Reason::VariantNotOnIndex { variant, index } => write!(
                f,
                "a {variant} build that no configured index has; {index} serves it"
            ),
            Reason::SwitchedForTarget { installed, index } => write!(
                f,
                "{installed} is installed; the target's build of the same release is on {index}"
            ),
            Reason::Orphan { compiled: c } => write!(
                f,
                "on the search path but owned by no distribution, {}",
                compiled(c)
            ),
            Reason::StandardLibrary => write!(f, "part of the standard library"),
            Reason::NotInstalled => write!(f, "imported but not installed"),
            Reason::Configured => write!(f, "set by [tool.envscan] classes"),
            Reason::Added => write!(f, "added by [tool.envscan] add"),
        }
    }
}

impl Serialize for Reason {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl JsonSchema for Reason {
    fn schema_name() -> String {
        "Reason".to_string()
    }

    fn json_schema(generator: &mut schemars::r#gen::SchemaGenerator) -> schemars::schema::Schema {
        String::json_schema(generator)
    }
}

/// The class of an installed distribution from how it was installed. Index installs are
/// `pypi` and [`Reason::Unverified`] until the index confirms the version.
pub fn installed(dist: &Distribution) -> (Class, Reason) {
    let compiled = dist.has_compiled_modules;
    match dist.kind {
        DistKind::Conda => (
            Class::Conda,
            Reason::CondaMeta {
                channel: dist
                    .conda
                    .as_ref()
                    .and_then(|c| c.channel.clone())
                    .unwrap_or_else(|| "conda-forge".to_string()),
            },
        ),
        DistKind::Editable => (local_class(compiled), Reason::Editable { compiled }),
        DistKind::Path | DistKind::Archive => {
            (local_class(compiled), Reason::PathInstall { compiled })
        }
        DistKind::Vcs => (
            local_class(compiled),
            Reason::Vcs {
                url: dist
                    .direct_url
                    .as_ref()
                    .map(|u| u.url.clone())
                    .unwrap_or_default(),
                compiled,
            },
        ),
        DistKind::Index | DistKind::Unknown => (
            Class::Pypi,
            Reason::Unverified {
                installer: dist.installer.clone().unwrap_or_else(|| "unknown".into()),
            },
        ),
    }
}

/// `local` for pure Python, `binary_local` for compiled code.
pub fn local_class(compiled: bool) -> Class {
    if compiled {
        Class::BinaryLocal
    } else {
        Class::Local
    }
}
