//! Local distributions (editable, path and VCS installs, and anything classed `local`) travel
//! with their metadata, so `importlib.metadata.version()`, console scripts and entry points
//! (`pytest11` plugins) work on the target.
//!
//! - Pure Python: a wheel envscan writes itself ([`crate::emit::wheel`]) from the files the
//!   installed mapping points at and the installed `.dist-info`. Where the files come from:
//!   - setuptools' PEP 660 finder (`__editable___<name>_<ver>_finder.py`): each `MAPPING`
//!     entry, `'pkg': '/src/pkg'` (a folder, stored as `pkg/...`) or `'mod': '/src/mod.py'`;
//!   - a `.pth` path line or an egg-link (hatchling, pdm, flit, uv, `setup.py develop`): each
//!     of the distribution's modules under that folder, `pkg/` or `mod.py`;
//!   - otherwise (a path, VCS or archive install, or an index install classed `local`): the
//!     files its RECORD lists inside site-packages, less its metadata folder and bytecode.
//!
//!   Files are found by the archive walker ([`crate::emit::archive::collect`]), so the same
//!   rules keep secrets, ignored files, caches and links leading out of the folder out of
//!   wheels as out of archives. The `.dist-info` keeps METADATA (PKG-INFO for egg-info, with
//!   `Requires-Dist` from `requires.txt`), `entry_points.txt`, `top_level.txt` and license
//!   files; INSTALLER, REQUESTED, direct_url.json, RECORD and the editable `.pth`/finder are
//!   dropped, and WHEEL and RECORD are written anew.
//! - Compiled parts (an extension module among those files, or in RECORD): not faked as
//!   pure. When the install names its source tree (direct_url.json's folder, holding a
//!   `pyproject.toml` or `setup.py`), the tree travels as an archive and the plan builds it on
//!   the target with `pip install --no-deps` ([`LOCAL_BUILD_ON_TARGET`], an error under
//!   `--strict`); without one it stays `binary_local`, a warning to use a base image.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::analysis::Analysis;
use crate::classify::Class;
use crate::diagnostic::{Code, Diagnostic};
use crate::emit::archive::{self, ARCHIVE_COMPILED_SKIPPED, Options};
use crate::emit::secrets;
use crate::emit::wheel::{self, Wheel};
use crate::env::{Distribution, MetadataFormat};
use crate::names::PackageName;

/// A local distribution with compiled parts is built from its source tree on the target.
pub const LOCAL_BUILD_ON_TARGET: Code = Code("local-build-on-target");
/// A local distribution's wheel could not be written; it does not travel.
pub const LOCAL_WHEEL_FAILED: Code = Code("local-wheel-failed");

/// `envscan pack`'s default output folder, under the project root: the lock names the wheels
/// there, by a path relative to itself.
pub const PACK_DIR: &str = crate::cli::DEFAULT_PACK_OUT;

/// The largest single file a wheel takes (wheels are written in memory).
const MAX_MEMBER: u64 = 512 * 1024 * 1024;

/// How a local distribution travels.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Travel {
    /// A pure-Python wheel envscan writes.
    Wheel,
    /// Its source tree, copied to the target and installed there with `pip install --no-deps`.
    Build {
        tree: PathBuf,
        /// The tree's top-level entries, sorted.
        members: Vec<String>,
    },
    /// Compiled, with no source tree to build: not moved (the plan warns).
    Stays,
}

/// A local distribution and what travels of it.
#[derive(Clone, Debug)]
pub struct LocalDist {
    pub name: PackageName,
    pub display_name: String,
    pub version: String,
    pub travel: Travel,
    /// Path in the wheel → the file to read, sorted.
    pub files: BTreeMap<String, PathBuf>,
    metadata_dir: PathBuf,
    format: MetadataFormat,
    requires_dist: Vec<String>,
    /// What the walk left out, named for this distribution.
    pub diagnostics: Vec<Diagnostic>,
}

/// Every needed local distribution (class `local` or `binary_local` with installed metadata),
/// sorted by name.
pub fn local_dists(analysis: &Analysis) -> Vec<LocalDist> {
    analysis
        .packages
        .values()
        .filter(|p| matches!(p.class, Class::Local | Class::BinaryLocal))
        .filter_map(|p| analysis.env.distribution(&p.name))
        .map(|dist| local_dist(analysis, dist))
        .collect()
}

fn local_dist(analysis: &Analysis, dist: &Distribution) -> LocalDist {
    let mut files = BTreeMap::new();
    let mut diagnostics = Vec::new();
    let mut compiled = dist.has_compiled_modules;
    for part in parts_of(analysis, dist) {
        let collection = match archive::collect(
            &part.root,
            std::slice::from_ref(&part.member),
            &Options::default(),
        ) {
            Ok(collection) => collection,
            Err(err) => {
                diagnostics.push(
                    Diagnostic::warning(
                        LOCAL_WHEEL_FAILED,
                        format!("{}: {err}", dist.display_name),
                    )
                    .with_file(shown(&dist.metadata_dir)),
                );
                continue;
            }
        };
        for d in collection.diagnostics() {
            if d.code == ARCHIVE_COMPILED_SKIPPED {
                compiled = true;
                continue;
            }
            let mut d = d.clone();
            d.message = format!("{}: {}", dist.display_name, d.message);
            diagnostics.push(d);
        }
        if crate::resolve::finder::extension_stem(&part.member).is_some() {
            compiled = true;
        }
        for (rel, path) in collection.files() {
            let rest = rel.strip_prefix(part.member.as_str()).unwrap_or(rel);
            files.insert(format!("{}{rest}", part.stored_as), path.to_path_buf());
        }
    }
    let travel = if !compiled {
        Travel::Wheel
    } else {
        match source_tree(dist) {
            Some((tree, members)) => Travel::Build { tree, members },
            None => Travel::Stays,
        }
    };
    LocalDist {
        name: dist.name.clone(),
        display_name: dist.display_name.clone(),
        version: dist.version.clone(),
        travel,
        files,
        metadata_dir: dist.metadata_dir.clone(),
        format: dist.format,
        requires_dist: dist.requires_dist.iter().map(|r| r.raw.clone()).collect(),
        diagnostics,
    }
}

/// One thing to take: `member` under `root`, stored in the wheel as `stored_as` (the member's
/// own path, or the module name a finder maps to a folder of another name).
struct Part {
    root: PathBuf,
    member: String,
    stored_as: String,
}

impl Part {
    /// `path` split into its folder and name, stored as `stored_as`.
    fn of(path: &Path, stored_as: String) -> Option<Self> {
        Some(Part {
            root: path.parent()?.to_path_buf(),
            member: path.file_name()?.to_str()?.to_string(),
            stored_as,
        })
    }
}

fn parts_of(analysis: &Analysis, dist: &Distribution) -> Vec<Part> {
    let owned = |file: &Path| dist.files.iter().any(|f| f == file);
    let finders: Vec<_> = analysis
        .env
        .editable_finders
        .iter()
        .filter(|f| owned(&f.file) || owned(&f.pth))
        .collect();
    if !finders.is_empty() {
        let mut parts = Vec::new();
        for (top, path) in finders.iter().flat_map(|f| &f.mapping) {
            let stored = if path.is_dir() {
                top.clone()
            } else {
                let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("py");
                let file_name = path
                    .file_name()
                    .map(|n| n.to_string_lossy())
                    .unwrap_or_default();
                if crate::resolve::finder::extension_stem(&file_name).is_some() {
                    // Stored under its own name; only its presence matters (compiled).
                    path.file_name()
                        .map_or_else(|| top.clone(), |n| n.to_string_lossy().into_owned())
                } else {
                    format!("{top}.{ext}")
                }
            };
            parts.extend(Part::of(path, stored));
        }
        return parts;
    }
    let path_roots: Vec<&PathBuf> = dist.editable_roots.iter().filter(|r| r.is_dir()).collect();
    if !path_roots.is_empty() {
        let mut parts = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        for module in &dist.modules {
            let rel = module.as_str().replace('.', "/");
            for root in &path_roots {
                let candidates = [rel.clone(), format!("{rel}.py")];
                let Some(member) = candidates.iter().find(|c| root.join(c).exists()) else {
                    continue;
                };
                if seen.insert(member.clone()) {
                    parts.extend(Part::of(&root.join(member), member.clone()));
                }
                break;
            }
        }
        return parts;
    }
    // The installed files themselves.
    dist.files
        .iter()
        .filter(|f| !f.starts_with(&dist.metadata_dir))
        .filter_map(|f| {
            let rel = f
                .strip_prefix(&dist.site_packages)
                .ok()?
                .to_str()?
                .replace('\\', "/");
            let first = rel.split('/').next().unwrap_or_default();
            let skip = first.ends_with(".dist-info")
                || first.ends_with(".egg-info")
                || first.starts_with("__editable__")
                || rel.split('/').any(|p| p == "__pycache__")
                || rel.ends_with(".pyc");
            (!skip).then(|| Part::of(f, rel)).flatten()
        })
        .collect()
}

/// The folder an install came from, when it is still there and holds a project to build.
fn source_tree(dist: &Distribution) -> Option<(PathBuf, Vec<String>)> {
    let tree = dist.direct_url.as_ref()?.local_path()?;
    if !(tree.join("pyproject.toml").is_file() || tree.join("setup.py").is_file()) {
        return None;
    }
    let mut members: Vec<String> = fs_err::read_dir(&tree)
        .ok()?
        .flatten()
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .collect();
    members.sort();
    Some((tree, members))
}

/// Under `--strict`, building on the target is an error: the lock alone does not make the
/// environment.
pub fn escalate_under_strict(diagnostics: &mut [Diagnostic], strict: bool) {
    if !strict {
        return;
    }
    for d in diagnostics
        .iter_mut()
        .filter(|d| d.code == LOCAL_BUILD_ON_TARGET)
    {
        d.severity = crate::diagnostic::Severity::Error;
    }
}

impl LocalDist {
    /// `{name}-{version}-py3-none-any.whl`, when the version makes one.
    pub fn wheel_file_name(&self) -> Option<String> {
        wheel::file_name(&self.name, &self.version).ok()
    }

    /// Writes its wheel in memory; what kept a file out is in the diagnostics.
    pub fn wheel(&self) -> Result<(Wheel, Vec<Diagnostic>), Diagnostic> {
        let fail = |why: String| {
            Diagnostic::error(
                LOCAL_WHEEL_FAILED,
                format!("{} {}: no wheel: {why}", self.display_name, self.version),
            )
            .with_file(shown(&self.metadata_dir))
        };
        let mut diagnostics = Vec::new();
        let mut files = Vec::with_capacity(self.files.len());
        for (rel, path) in &self.files {
            let data =
                crate::fsread::read_capped(path, MAX_MEMBER).map_err(|e| fail(e.to_string()))?;
            let name = rel.rsplit('/').next().unwrap_or(rel);
            let prefix = &data[..data.len().min(secrets::CONTENT_PREFIX)];
            if let Some(what) = secrets::classify_content(name, prefix) {
                diagnostics.push(
                    Diagnostic::warning(
                        archive::SECRET_EXCLUDED,
                        format!(
                            "{}: left out of the wheel: {what} by its content",
                            self.display_name
                        ),
                    )
                    .with_file(rel.clone()),
                );
                continue;
            }
            files.push((rel.clone(), data));
        }
        let metadata = self.metadata_files().map_err(fail)?;
        let wheel = wheel::write(&self.name, &self.version, files, metadata)
            .map_err(|e| fail(e.to_string()))?;
        Ok((wheel, diagnostics))
    }

    /// The `.dist-info` files that travel, by path inside it.
    fn metadata_files(&self) -> Result<Vec<(String, Vec<u8>)>, String> {
        let read = |path: &Path| {
            crate::fsread::read_capped(path, crate::fsread::cap::METADATA)
                .map_err(|e| e.to_string())
        };
        let mut out = Vec::new();
        let (metadata, dir) = match self.format {
            MetadataFormat::DistInfo => (
                self.metadata_dir.join("METADATA"),
                self.metadata_dir.clone(),
            ),
            MetadataFormat::EggInfo if self.metadata_dir.is_dir() => (
                self.metadata_dir.join("PKG-INFO"),
                self.metadata_dir.clone(),
            ),
            MetadataFormat::EggInfo => (self.metadata_dir.clone(), PathBuf::new()),
        };
        let mut text = read(&metadata)?;
        if self.format == MetadataFormat::EggInfo {
            text = with_requires_dist(&text, &self.requires_dist);
        }
        out.push(("METADATA".to_string(), text));
        if dir.as_os_str().is_empty() {
            return Ok(out);
        }
        for name in ["entry_points.txt", "top_level.txt"] {
            let path = dir.join(name);
            if path.is_file() {
                out.push((name.to_string(), read(&path)?));
            }
        }
        let mut listing: Vec<_> = fs_err::read_dir(&dir)
            .map_err(|e| e.to_string())?
            .flatten()
            .collect();
        listing.sort_by_key(|e| e.file_name());
        for entry in listing {
            let Some(name) = entry.file_name().to_str().map(str::to_string) else {
                continue;
            };
            let path = entry.path();
            if name == "licenses" && path.is_dir() {
                let collection = archive::collect(&dir, &[name], &Options::default())
                    .map_err(|e| e.to_string())?;
                for (rel, file) in collection.files() {
                    out.push((rel.to_string(), read(file)?));
                }
            } else if path.is_file() && is_license_name(&name) {
                out.push((name, read(&path)?));
            }
        }
        Ok(out)
    }
}

/// LICENSE, LICENCE, COPYING, NOTICE and AUTHORS files, as setuptools copies them into a
/// `.dist-info` before PEP 639's `licenses/` folder.
fn is_license_name(name: &str) -> bool {
    let upper = name.to_ascii_uppercase();
    ["LICENSE", "LICENCE", "COPYING", "NOTICE", "AUTHORS"]
        .iter()
        .any(|p| upper.starts_with(p))
}

/// PKG-INFO of an egg-info keeps its requirements in `requires.txt`: as `Requires-Dist`
/// headers (already PEP 508, see [`crate::env::egg_info`]) at the end of the headers.
fn with_requires_dist(pkg_info: &[u8], requires: &[String]) -> Vec<u8> {
    let text = String::from_utf8_lossy(pkg_info);
    if requires.is_empty() || text.lines().any(|l| l.starts_with("Requires-Dist:")) {
        return pkg_info.to_vec();
    }
    let (headers, body) = match text.find("\n\n") {
        Some(at) => (&text[..at + 1], &text[at + 1..]),
        None => (text.as_ref(), ""),
    };
    // `Requires-Dist` came with metadata 1.2 (PEP 345).
    let mut out = headers
        .replacen("Metadata-Version: 1.0\n", "Metadata-Version: 1.2\n", 1)
        .replacen("Metadata-Version: 1.1\n", "Metadata-Version: 1.2\n", 1);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    for requirement in requires {
        out.push_str(&format!("Requires-Dist: {requirement}\n"));
    }
    out.push_str(body);
    out.into_bytes()
}

fn shown(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requires_txt_lines_become_requires_dist_headers_before_the_description() {
        let out = with_requires_dist(
            b"Metadata-Version: 1.0\nName: x\nVersion: 1\n\nThe description.\n",
            &[
                "requests>=2".to_string(),
                "rich; extra == \"ui\"".to_string(),
            ],
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "Metadata-Version: 1.2\nName: x\nVersion: 1\nRequires-Dist: requests>=2\n\
             Requires-Dist: rich; extra == \"ui\"\n\nThe description.\n"
        );
        let has = b"Name: x\nRequires-Dist: a\n".to_vec();
        assert_eq!(with_requires_dist(&has, &["b".to_string()]), has);
    }

    #[test]
    fn license_files_are_told_by_name() {
        assert!(is_license_name("LICENSE.txt"));
        assert!(is_license_name("COPYING"));
        assert!(!is_license_name("INSTALLER"));
        assert!(!is_license_name("direct_url.json"));
    }
}
