//! Named indexes and per-package sources, in the shape users know from uv
//! (<https://docs.astral.sh/uv/concepts/indexes/>):
//!
//! ```toml
//! [[tool.envscan.index]]            # or [[tool.uv.index]]
//! name = "pytorch-cu124"
//! url = "https://download.pytorch.org/whl/cu124"
//! explicit = true                    # only for packages pinned to it
//!
//! [tool.envscan.sources]            # or [tool.uv.sources]
//! torch = "pytorch-cu124"            # uv: { index = "pytorch-cu124" }
//! torchvision = [{ index = "pytorch-cu124", marker = "sys_platform == 'linux'" },
//!                { index = "pytorch-cpu", marker = "sys_platform == 'darwin'" }]
//! ```
//!
//! `[tool.envscan]` wins over `[tool.uv]` for an index or package named in both. A package
//! pinned to an index is looked up there and nowhere else (as uv does: that is what stops a
//! `torch` of the same version on PyPI from replacing the CUDA build); every other package is
//! looked up on the primary index, the extra ones, then each named index that is not
//! `explicit`, in that order. A list of sources takes the first whose marker holds for the
//! target. `default = true` makes an index the primary one when neither `--index-url` nor
//! `[tool.envscan] index-url` names one. Source tables without `index` (uv's `git`,
//! `path`, `workspace`) are not index sources and are left alone here.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep508_rs::{MarkerEnvironment, MarkerTree};
use serde::Deserialize;
use url::Url;

use super::IndexError;
use super::settings::parse_index_url;
use crate::names::PackageName;

/// `[[tool.envscan.index]]` / `[[tool.uv.index]]` as written.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct IndexEntry {
    pub name: String,
    pub url: String,
    #[serde(default)]
    pub explicit: bool,
    #[serde(default)]
    pub default: bool,
}

/// One value of `[tool.envscan.sources]` / `[tool.uv.sources]` as written.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum SourceEntry {
    /// `torch = "pytorch-cu124"` (envscan's short form).
    Name(String),
    /// `torch = { index = "pytorch-cu124", marker = "..." }`.
    Table(SourceTable),
    /// A list of tables, the first whose marker holds wins.
    List(Vec<SourceTable>),
}

#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
pub struct SourceTable {
    #[serde(default)]
    pub index: Option<String>,
    #[serde(default)]
    pub marker: Option<String>,
}

/// The configured named indexes and sources, from both tables.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SourceConfig {
    pub envscan_indexes: Vec<IndexEntry>,
    pub envscan_sources: BTreeMap<String, SourceEntry>,
    pub uv_indexes: Vec<IndexEntry>,
    pub uv_sources: BTreeMap<String, SourceEntry>,
}

/// A named index, checked.
#[derive(Clone, Debug)]
pub struct NamedIndex {
    pub name: String,
    /// May carry credentials; the client strips them.
    pub url: Url,
    pub explicit: bool,
    pub default: bool,
}

/// Which index each pinned package comes from, with the marker that selects it.
#[derive(Clone, Debug, Default)]
pub struct IndexSources {
    pub indexes: Vec<NamedIndex>,
    pins: BTreeMap<PackageName, Vec<(String, Option<MarkerTree>)>>,
}

impl IndexSources {
    /// Checks the configuration: every URL valid, every source naming a defined index, every
    /// marker valid. Errors name the table and key.
    pub fn resolve(config: &SourceConfig) -> Result<Self, IndexError> {
        let mut indexes: Vec<NamedIndex> = Vec::new();
        for (table, entries) in [
            ("[[tool.envscan.index]]", &config.envscan_indexes),
            ("[[tool.uv.index]]", &config.uv_indexes),
        ] {
            for entry in entries {
                if indexes.iter().any(|i| i.name == entry.name) {
                    continue; // envscan's entry of that name came first
                }
                let origin = format!("{table} {:?} in pyproject.toml", entry.name);
                indexes.push(NamedIndex {
                    name: entry.name.clone(),
                    url: parse_index_url(&entry.url, &origin)?,
                    explicit: entry.explicit,
                    default: entry.default,
                });
            }
        }
        let mut pins: BTreeMap<PackageName, Vec<(String, Option<MarkerTree>)>> = BTreeMap::new();
        for (table, sources) in [
            ("[tool.envscan.sources]", &config.envscan_sources),
            ("[tool.uv.sources]", &config.uv_sources),
        ] {
            for (package, entry) in sources {
                let name = PackageName::new(package);
                if pins.contains_key(&name) {
                    continue;
                }
                let invalid = |reason: String| IndexError::Source {
                    origin: format!("{table} {package} in pyproject.toml"),
                    reason,
                };
                let tables: Vec<SourceTable> = match entry {
                    SourceEntry::Name(index) => vec![SourceTable {
                        index: Some(index.clone()),
                        marker: None,
                    }],
                    SourceEntry::Table(table) => vec![table.clone()],
                    SourceEntry::List(list) => list.clone(),
                };
                let mut rules = Vec::new();
                for table in tables {
                    let Some(index) = table.index else { continue };
                    if !indexes.iter().any(|i| i.name == index) {
                        return Err(invalid(format!(
                            "names the index {index:?}, which no [[tool.envscan.index]] or \
                             [[tool.uv.index]] defines"
                        )));
                    }
                    let marker = match &table.marker {
                        Some(text) => Some(MarkerTree::from_str(text).map_err(|err| {
                            invalid(format!("the marker {text:?} is not valid: {err}"))
                        })?),
                        None => None,
                    };
                    rules.push((index, marker));
                }
                if !rules.is_empty() {
                    pins.insert(name, rules);
                }
            }
        }
        Ok(IndexSources { indexes, pins })
    }

    /// The index `name` is pinned to on the target, if any.
    pub fn index_for(&self, name: &PackageName, target: &MarkerEnvironment) -> Option<&str> {
        self.pins.get(name)?.iter().find_map(|(index, marker)| {
            marker
                .as_ref()
                .is_none_or(|m| m.evaluate(target, &[]))
                .then_some(index.as_str())
        })
    }

    /// The index marked `default = true`, if any.
    pub fn default_index(&self) -> Option<&NamedIndex> {
        self.indexes.iter().find(|i| i.default)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{TargetPlatform, marker_environment};

    fn config(text: &str) -> SourceConfig {
        #[derive(Deserialize)]
        struct Doc {
            #[serde(default)]
            index: Vec<IndexEntry>,
            #[serde(default)]
            sources: BTreeMap<String, SourceEntry>,
        }
        let doc: Doc = toml::from_str(text).unwrap();
        SourceConfig {
            uv_indexes: doc.index,
            uv_sources: doc.sources,
            ..SourceConfig::default()
        }
    }

    const UV: &str = r#"
[[index]]
name = "pytorch-cu124"
url = "https://download.pytorch.org/whl/cu124"
explicit = true
[[index]]
name = "pytorch-cpu"
url = "https://download.pytorch.org/whl/cpu"
explicit = true
[sources]
torch = [
  { index = "pytorch-cu124", marker = "sys_platform == 'linux'" },
  { index = "pytorch-cpu", marker = "sys_platform == 'darwin'" },
]
torchvision = { index = "pytorch-cu124" }
mylib = { path = "../mylib" }
"#;

    fn on(target: &str) -> MarkerEnvironment {
        marker_environment("3.11.7", &TargetPlatform::parse(target).unwrap()).unwrap()
    }

    #[test]
    fn uv_sources_with_markers_pick_the_index_for_the_target() {
        let sources = IndexSources::resolve(&config(UV)).unwrap();
        let torch = PackageName::new("torch");
        assert_eq!(
            sources.index_for(&torch, &on("linux-x86_64")),
            Some("pytorch-cu124")
        );
        assert_eq!(
            sources.index_for(&torch, &on("macos-arm64")),
            Some("pytorch-cpu")
        );
        assert_eq!(sources.index_for(&torch, &on("windows-amd64")), None);
        let vision = PackageName::new("TorchVision");
        assert_eq!(
            sources.index_for(&vision, &on("macos-arm64")),
            Some("pytorch-cu124")
        );
        assert_eq!(
            sources.index_for(&PackageName::new("mylib"), &on("linux")),
            None
        );
    }

    #[test]
    fn envscan_tables_win_over_uv_ones_of_the_same_name() {
        let mut both = config(UV);
        both.envscan_indexes.push(IndexEntry {
            name: "pytorch-cu124".into(),
            url: "https://mirror.example/cu124".into(),
            ..IndexEntry::default()
        });
        both.envscan_sources
            .insert("torch".into(), SourceEntry::Name("pytorch-cpu".into()));
        let sources = IndexSources::resolve(&both).unwrap();
        let cu124 = sources
            .indexes
            .iter()
            .find(|i| i.name == "pytorch-cu124")
            .unwrap();
        assert_eq!(cu124.url.as_str(), "https://mirror.example/cu124/");
        assert!(!cu124.explicit);
        let torch = PackageName::new("torch");
        assert_eq!(sources.index_for(&torch, &on("linux")), Some("pytorch-cpu"));
    }

    #[test]
    fn a_source_naming_an_undefined_index_or_a_bad_marker_is_an_error() {
        let err = IndexSources::resolve(&config("[sources]\ntorch = { index = \"nope\" }"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("\"nope\"") && err.contains("[tool.uv.sources] torch"),
            "{err}"
        );
        let bad = format!("{UV}\n[sources.x]\nindex = \"pytorch-cpu\"\nmarker = \"os ===\"\n");
        let err = IndexSources::resolve(&config(&bad))
            .unwrap_err()
            .to_string();
        assert!(err.contains("marker"), "{err}");
        let url = IndexSources::resolve(&config("[[index]]\nname = \"a\"\nurl = \"ftp://x/\""));
        assert!(
            url.unwrap_err()
                .to_string()
                .contains("[[tool.uv.index]] \"a\"")
        );
    }
}
