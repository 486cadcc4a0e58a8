//! The variant index of `tests/data/variant_index.py` (PyTorch-style `/cpu/`, `/cu121/`,
//! `/cu124/` indexes and a `/pypi/` one) on 127.0.0.1, real venvs installed from it with uv,
//! and uv installing a lock for another platform to see which files it picks.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use crate::support;

/// The index server; stopped (its stdin closed, then killed) when dropped.
pub struct VariantIndex {
    pub url: String,
    pub test_env: PathBuf,
    pub dir: tempfile::TempDir,
    child: Child,
}

impl VariantIndex {
    /// Starts the index, or `None` (a skip outside CI) without the Python test tools.
    pub fn start() -> Option<Self> {
        let test_env = support::test_env()?;
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(test_env.join("bin/python"))
            .arg(support::repo().join("tests/data/variant_index.py"))
            .arg(dir.path().join("files"))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert!(line.starts_with("http://127.0.0.1:"), "index said {line:?}");
        Some(VariantIndex {
            url: line.trim().to_string(),
            test_env,
            dir,
            child,
        })
    }

    /// `{url}/{index}/`.
    pub fn index(&self, name: &str) -> String {
        format!("{}/{name}/", self.url)
    }

    pub fn uv(&self) -> Command {
        let mut cmd = Command::new(self.test_env.join("bin/uv"));
        cmd.env("UV_CACHE_DIR", self.dir.path().join("uv-cache"))
            .env("UV_NO_PROGRESS", "1");
        cmd
    }

    /// A real venv at `dir/name` with each `(index, requirement)` installed by uv from that
    /// index of this server.
    pub fn venv(&self, dir: &Path, name: &str, installs: &[(&str, &str)]) -> PathBuf {
        let venv = dir.join(name);
        support::run(
            Command::new(support::which_python().unwrap())
                .args(["-m", "venv", "--without-pip"])
                .arg(&venv),
        );
        for (index, requirement) in installs {
            support::run(
                self.uv()
                    .args(["pip", "install", "--quiet", "--python"])
                    .arg(venv.join("bin/python"))
                    .args(["--index-url", &self.index(index), requirement]),
            );
        }
        venv
    }

    /// What uv installs from `lock` for `platform` (`x86_64-manylinux_2_28`, ...): each
    /// distribution's dist-info folder name → the `Tag:` lines of its WHEEL file, which say
    /// which wheel it took. Installs into a scratch `--target` folder, never into a venv.
    pub fn uv_picks(
        &self,
        lock: &Path,
        platform: &str,
        macos: &str,
    ) -> BTreeMap<String, Vec<String>> {
        let target = tempfile::tempdir_in(self.dir.path()).unwrap();
        support::run(
            self.uv()
                .args(["pip", "install", "--quiet", "-r"])
                .arg(lock)
                .args(["--python-platform", platform, "--python-version", "3.11"])
                .arg("--target")
                .arg(target.path())
                .env("MACOSX_DEPLOYMENT_TARGET", macos),
        );
        let mut picks = BTreeMap::new();
        for entry in std::fs::read_dir(target.path()).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let Some(dist) = name.strip_suffix(".dist-info") else {
                continue;
            };
            let wheel = std::fs::read_to_string(path.join("WHEEL")).unwrap();
            let tags = wheel
                .lines()
                .filter_map(|l| l.strip_prefix("Tag: "))
                .map(str::to_string)
                .collect();
            picks.insert(dist.to_string(), tags);
        }
        picks
    }
}

/// A started index and a venv installed from it (see [`VariantIndex::venv`]) in a fresh
/// temporary folder; `None` (a skip outside CI) without the Python test tools.
pub fn index_and_venv(
    installs: &[(&str, &str)],
) -> Option<(VariantIndex, tempfile::TempDir, PathBuf)> {
    let index = VariantIndex::start()?;
    let dir = tempfile::tempdir().unwrap();
    let venv = index.venv(dir.path(), "venv", installs);
    Some((index, dir, venv))
}

/// `envscan ARGS PROJECT --python VENV --cache-dir ...`, with the cache [`envscan_json`] uses.
pub fn envscan_at(args: &[&str], project: &Path, venv: &Path) -> std::process::Output {
    support::envscan()
        .args(args)
        .arg(project)
        .arg("--python")
        .arg(venv.join("bin/python"))
        .arg("--cache-dir")
        .arg(project.parent().unwrap().join("envscan-cache"))
        .output()
        .unwrap()
}

impl Drop for VariantIndex {
    fn drop(&mut self) {
        drop(self.child.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A project folder with `main.py` importing `imports` and this `pyproject.toml`.
pub fn project(dir: &Path, imports: &[&str], pyproject: &str) -> PathBuf {
    let project = dir.join("project");
    std::fs::create_dir_all(&project).unwrap();
    let main: String = imports.iter().map(|m| format!("import {m}\n")).collect();
    std::fs::write(project.join("main.py"), main).unwrap();
    std::fs::write(project.join("pyproject.toml"), pyproject).unwrap();
    project
}

/// `envscan COMMAND PROJECT --python VENV --cache-dir ... ARGS --format json`: (exit code,
/// the JSON report, stderr).
pub fn envscan_json(
    command: &str,
    project: &Path,
    venv: &Path,
    args: &[&str],
) -> (i32, serde_json::Value, String) {
    let output = support::envscan()
        .arg(command)
        .arg(project)
        .arg("--python")
        .arg(venv.join("bin/python"))
        .arg("--cache-dir")
        .arg(project.parent().unwrap().join("envscan-cache"))
        .args(args)
        .args(["--format", "json"])
        .output()
        .unwrap();
    let report = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        )
    });
    (
        output.status.code().unwrap_or(-1),
        report,
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// The report's entry for a package.
pub fn package<'a>(report: &'a serde_json::Value, name: &str) -> Option<&'a serde_json::Value> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
}

/// The codes of the report's diagnostics.
pub fn codes(report: &serde_json::Value) -> Vec<String> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_string())
        .collect()
}

/// The `[[packages]]` of a lock: name → (version, index, wheel names).
pub fn lock_packages(lock: &Path) -> BTreeMap<String, (String, String, Vec<String>)> {
    let doc: toml::Table = toml::from_str(&std::fs::read_to_string(lock).unwrap()).unwrap();
    doc["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let wheels = p
                .get("wheels")
                .and_then(|w| w.as_array())
                .map(|w| {
                    w.iter()
                        .map(|f| f["name"].as_str().unwrap().to_string())
                        .collect()
                })
                .unwrap_or_default();
            (
                p["name"].as_str().unwrap().to_string(),
                (
                    p["version"].as_str().unwrap().to_string(),
                    p["index"].as_str().unwrap().to_string(),
                    wheels,
                ),
            )
        })
        .collect()
}
