//! `envscan.plan.json`: the container build plan a separate runner consumes.
//!
//! Described by `schemas/build-plan.schema.json`, generated from these types. The plan names
//! the other outputs by path relative to itself and local code by source name; `envscan pack`
//! writes the archives and a manifest that maps each source to its archive, so the plan does
//! not change when only the project's code does. `cache_key` covers what determines the
//! environment (base image, conda file, the lock's packages, among them the wheels of local
//! distributions by hash) and nothing else, so a runner can reuse an image across changes of
//! the project's code, and rebuilds it when a local distribution's wheel changes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The version of this plan format; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// A conda-capable image to build on when the user names none.
pub const DEFAULT_BASE_IMAGE: &str = "condaforge/miniforge3:24.9.2-0";

/// Where local code is unpacked in the image.
pub const APP_ROOT: &str = "/app";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct BuildPlan {
    pub schema_version: u32,
    pub base_image: String,
    /// The exact Python version, X.Y.Z.
    pub python: String,
    /// sha256 over the base image, the conda file and the lock's packages (not its
    /// `[tool.envscan]` notes, which name code locations): equal keys mean an image built for
    /// one plan serves the other.
    pub cache_key: String,
    /// The digest of the set of outputs this plan was written with; the lock records the
    /// same, so a plan and lock from different runs are told apart.
    #[serde(default)]
    pub output_set: String,
    /// Steps in the order a runner applies them.
    pub steps: Vec<Step>,
    /// Local code that travels as archives (see `envscan pack`).
    pub local_sources: Vec<LocalSource>,
    pub warnings: Vec<PlanWarning>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Create the conda environment `name` from `channels` (in priority order) and
    /// `dependencies` (conda match specs: `python==X.Y.Z`, pinned conda packages, `pip`).
    /// `file` is the conda file of the same run (relative to the plan): it holds the same plus
    /// a `pip:` list for people who use it with conda alone. A runner creates the environment
    /// from `dependencies`, not from `file`, so the PyPI packages are installed once, by
    /// `install_lock`, with the lock's hashes.
    CreateEnv {
        file: String,
        name: String,
        channels: Vec<String>,
        dependencies: Vec<String>,
    },
    /// Install the PEP 751 lock into that environment, compiled to bytecode (pip's default;
    /// `uv pip install --compile-bytecode`), or every start of the program compiles its
    /// packages again. `indexes`: every index a locked package comes from (credential-free;
    /// the lock's file URLs point into them).
    InstallLock {
        file: String,
        installer: Installer,
        #[serde(default)]
        indexes: Vec<String>,
    },
    /// Unpack the archive of a local source (named in the pack manifest) at `destination`.
    Unpack { source: String, destination: String },
    /// A local distribution with compiled parts, built on the target: unpack its source tree
    /// (the archive of `source` in the pack manifest) at `destination`, then run
    /// `pip install --no-deps DESTINATION` in the environment. Needs a compiler there.
    BuildLocal { source: String, destination: String },
    /// Set environment variables.
    SetEnv { variables: BTreeMap<String, String> },
    /// The working directory of the program.
    Workdir { path: String },
    /// The command that runs the program.
    Entrypoint { command: Vec<String> },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Installer {
    Uv,
    Pip,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct LocalSource {
    /// The source's name, as in the pack manifest: `project` for the project's own import
    /// roots, the distribution name for an editable or path install.
    pub name: String,
    /// Where it comes from: relative to the project, or `<dist>` for a folder outside it.
    pub path: String,
    /// The folder it is unpacked to in the image; it goes on PYTHONPATH.
    pub destination: String,
    /// Whether it holds compiled modules (these need the base image's ABI).
    pub compiled: bool,
    /// Where the list of its archive's files (path, size, sha256) is, so a runner can upload
    /// or unpack only the files it does not already hold: `manifest.json#<name>`, the `files`
    /// of this source's entry in the manifest `envscan pack` writes beside the archives. The
    /// plan holds the reference, not the list: it is written by `envscan lock` and must stay
    /// the same when only the code changes (the lock check in a pre-commit hook, the cache
    /// key), and the files' hashes change with every edit.
    #[serde(default)]
    pub files: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct PlanWarning {
    /// A stable code: `binary-local-module`, `external-data-files`, `unverified-package`,
    /// `no-usable-file`.
    pub code: String,
    /// What it is about: a module or distribution name.
    pub subject: String,
    pub message: String,
    pub hint: String,
}

/// The cache key over what determines the environment.
pub fn cache_key(base_image: &str, conda_yaml: &str, lock: &str) -> String {
    let mut hasher = Sha256::new();
    for part in [base_image, conda_yaml, lock] {
        // Length-prefixed, so moving bytes between parts changes the key.
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())
}

impl BuildPlan {
    /// Pretty JSON with a final newline.
    pub fn render(&self) -> anyhow::Result<String> {
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        Ok(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn build_plan_schema_is_current() {
        crate::schema::assert_current::<BuildPlan>("build-plan.schema.json");
    }

    #[test]
    fn the_cache_key_changes_with_each_input_and_not_otherwise() {
        let key = cache_key("img", "conda", "lock");
        assert_eq!(key, cache_key("img", "conda", "lock"));
        assert_ne!(key, cache_key("img2", "conda", "lock"));
        assert_ne!(key, cache_key("img", "conda2", "lock"));
        assert_ne!(key, cache_key("img", "conda", "lock2"));
        assert_ne!(cache_key("ab", "c", ""), cache_key("a", "bc", ""));
    }
}
