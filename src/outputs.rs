//! The three files `envscan lock` writes, rendered from an [`Analysis`]: the PEP 751 lock,
//! the conda environment file and the build plan. Pure functions of the analysis: the same
//! analysis gives the same bytes, and nothing machine-specific (absolute paths, user names,
//! credentials, times) enters them.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::analysis::{self, Analysis};
use crate::classify::Class;
use crate::classify::closure::{REQUIREMENT_CONFLICT, REQUIREMENT_NOT_INSTALLED};
use crate::diagnostic::Diagnostic;
use crate::diagnostic::Severity;
use crate::emit::conda::CondaEnvironment;
use crate::emit::plan::{
    self, APP_ROOT, BuildPlan, Installer, LocalSource as PlanSource, PlanWarning, Step,
};
use crate::emit::plan_check;
use crate::emit::pylock::{LocalArchive, LockedFile, LockedPackage, Pylock};
use crate::emit::wheel::Wheel;
use crate::index::{self, DEFAULT_INDEX_URL};
use crate::local_dists::{self, LOCAL_BUILD_ON_TARGET, LocalDist, Travel};
use crate::resolve::Target;
use crate::sources::{self, LocalSource};
use crate::target::conda::CondaSpec;
use crate::target::{Libc, Os};

pub const DEFAULT_LOCK: &str = "pylock.envscan.toml";
pub const CONDA_FILE: &str = "envscan.conda.yaml";
pub const PLAN_FILE: &str = "envscan.plan.json";

/// The rendered outputs and where they go.
#[derive(Debug)]
pub struct Outputs {
    pub lock: (PathBuf, String),
    pub conda: (PathBuf, String),
    pub plan: (PathBuf, String),
    /// The (output set, cache key) the rendered lock records, as [`lock_marks`] reads them.
    pub lock_marks: (String, String),
    pub sources: Vec<LocalSource>,
    /// The sizes of the local distributions' wheels, for the size preflight.
    pub wheel_sizes: Vec<crate::pack_size::ArchiveSize>,
    /// What making the local distributions' wheels and build steps found.
    pub diagnostics: Vec<Diagnostic>,
}

impl Outputs {
    pub fn files(&self) -> [&(PathBuf, String); 3] {
        [&self.lock, &self.conda, &self.plan]
    }
}

/// A problem with what the outputs would hold or where they would go.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("--base-image: {0}")]
    BaseImage(String),
    #[error("the lock's file name: {0} (the build plan and Dockerfile name it)")]
    LockName(String),
    #[error("the build plan would not be valid: {0}: {1}")]
    Plan(String, String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// Renders every output. `lock_path` is relative to the project (or absolute).
///
/// Each of the three files records the set it belongs to (see [`SetMarks`]), so a set mixed
/// by a run killed between two renames is detected by the next run, which rewrites it.
pub fn render(
    analysis: &Analysis,
    lock_path: &Path,
    base_image: Option<&str>,
) -> Result<Outputs, RenderError> {
    let lock_path = analysis.project.root.join(lock_path);
    let folder = lock_path
        .parent()
        .map_or_else(|| analysis.project.root.clone(), Path::to_path_buf);
    let dists = local_dists::local_dists(analysis);
    let (wheels, mut diagnostics) = local_wheels(&dists);
    diagnostics.extend(build_diagnostics(analysis, &dists));
    let sources = sources::local_sources(analysis, &dists);
    let mut lock = render_lock(analysis, &sources);
    let wheel_folder = wheel_folder_from(&analysis.project.root, &folder);
    for (dist, wheel) in &wheels {
        lock.packages
            .push(local_package(analysis, dist, wheel, &wheel_folder));
    }
    lock.packages.sort_by(|a, b| a.name.cmp(&b.name));
    let installable = lock.render_installable()?;
    let conda_env = render_conda(analysis);
    let conda_plain = conda_env.render();
    if let Some(image) = base_image {
        plan_check::check_image_reference(image).map_err(RenderError::BaseImage)?;
    }
    let base_image = base_image
        .or(analysis.project.config.base_image.as_deref())
        .unwrap_or(plan::DEFAULT_BASE_IMAGE);
    let lock_name = lock_path.file_name().map_or_else(
        || DEFAULT_LOCK.to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    plan_check::check_file_name(&lock_name).map_err(RenderError::LockName)?;
    let cache_key = plan::cache_key(base_image, &conda_plain, &installable);
    let conda = mark_conda(&conda_plain, &cache_key);
    lock.tool.cache_key.clone_from(&cache_key);
    let mut build = build_plan(
        analysis,
        &sources,
        PlanInputs {
            base_image,
            lock_name: &lock_name,
            conda: &conda_env,
            cache_key: &cache_key,
            lock_has_packages: !lock.packages.is_empty(),
        },
    );
    build
        .validate()
        .map_err(|(field, message)| RenderError::Plan(field, message))?;
    // The set's digest over all three as they would be without it.
    let output_set = output_set_digest(
        &lock.render_with(installable.clone())?,
        &conda,
        &build.render()?,
    );
    lock.tool.output_set.clone_from(&output_set);
    build.output_set = output_set;
    Ok(Outputs {
        lock: (lock_path, lock.render_with(installable)?),
        lock_marks: (lock.tool.output_set.clone(), lock.tool.cache_key.clone()),
        conda: (folder.join(CONDA_FILE), conda),
        plan: (folder.join(PLAN_FILE), build.render()?),
        sources,
        wheel_sizes: wheels
            .iter()
            .map(|(_, wheel)| crate::pack_size::of_wheel(wheel))
            .collect(),
        diagnostics,
    })
}

/// The wheel of each pure local distribution, written in memory (the lock needs its hash;
/// `envscan pack` writes the same bytes), and what kept a wheel or a file out.
pub fn local_wheels(dists: &[LocalDist]) -> (Vec<(&LocalDist, Wheel)>, Vec<Diagnostic>) {
    let mut wheels = Vec::new();
    let mut diagnostics = Vec::new();
    for dist in dists.iter().filter(|d| d.travel == Travel::Wheel) {
        diagnostics.extend(dist.diagnostics.iter().cloned());
        match dist.wheel() {
            Ok((wheel, found)) => {
                diagnostics.extend(found);
                wheels.push((dist, wheel));
            }
            Err(failed) => diagnostics.push(failed),
        }
    }
    (wheels, diagnostics)
}

/// A warning for each local distribution built on the target, and for each compiled one
/// that cannot be (it stays behind).
fn build_diagnostics(analysis: &Analysis, dists: &[LocalDist]) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    for dist in dists {
        match &dist.travel {
            Travel::Build { .. } => out.push(
                Diagnostic::warning(
                    LOCAL_BUILD_ON_TARGET,
                    format!(
                        "{} {} has compiled parts: its source tree is copied and built on the \
                         target with `pip install --no-deps`",
                        dist.display_name, dist.version
                    ),
                )
                .with_hint("the target needs a compiler and the build's requirements; or install it in the base image"),
            ),
            Travel::Stays if analysis.packages.get(&dist.name).is_some_and(|p| p.class == Class::Local) => out.push(
                Diagnostic::warning(
                    analysis::BINARY_LOCAL,
                    format!(
                        "{} {} has compiled modules in its sources and no source tree to build; it \
                         is not moved",
                        dist.display_name, dist.version
                    ),
                )
                .with_hint("install it in the base image and pass --base-image"),
            ),
            Travel::Wheel | Travel::Stays => {}
        }
    }
    out
}

/// Where `envscan pack` writes wheels, relative to the lock's folder: its default output
/// folder under the project root.
fn wheel_folder_from(project_root: &Path, lock_folder: &Path) -> String {
    let depth = lock_folder
        .strip_prefix(project_root)
        .map_or(0, |rel| rel.components().count());
    format!("{}{}", "../".repeat(depth), local_dists::PACK_DIR)
}

/// The lock entry of a local distribution's wheel.
fn local_package(
    analysis: &Analysis,
    dist: &LocalDist,
    wheel: &Wheel,
    folder: &str,
) -> LockedPackage {
    LockedPackage {
        name: dist.name.clone(),
        version: dist.version.clone(),
        index: String::new(),
        requires_python: analysis
            .env
            .distribution(&dist.name)
            .and_then(|d| d.requires_python.clone()),
        sdist: None,
        wheels: Vec::new(),
        archive: Some(LocalArchive {
            path: format!("{folder}/{}", wheel.file_name),
            size: wheel.size(),
            sha256: wheel.sha256.clone(),
        }),
    }
}

/// The comment line of the conda file that names its set.
const CONDA_MARK: &str = "# envscan cache key: ";

fn mark_conda(plain: &str, cache_key: &str) -> String {
    match plain.split_once('\n') {
        Some((first, rest)) => format!("{first}\n{CONDA_MARK}{cache_key}\n{rest}"),
        None => format!("{CONDA_MARK}{cache_key}\n{plain}"),
    }
}

fn output_set_digest(lock: &str, conda: &str, plan: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut hasher = Sha256::new();
    for part in [lock, conda, plan] {
        hasher.update((part.len() as u64).to_le_bytes());
        hasher.update(part.as_bytes());
    }
    hex::encode(hasher.finalize())[..32].to_string()
}

/// What each output says about the set it was written with; `None` where a file is missing
/// or does not say (written by an older envscan, or edited).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct SetMarks {
    pub lock: Option<(String, String)>,
    pub conda: Option<String>,
    pub plan: Option<(String, String)>,
}

impl SetMarks {
    /// Reads the marks of the outputs at these paths (through [`crate::fsread`]: a file that
    /// is not a regular one, or over the cap, counts as saying nothing).
    pub fn read(lock: &Path, conda: &Path, plan: &Path) -> Self {
        Self::read_beside(lock_marks(lock), conda, plan)
    }

    /// The marks with the lock's already known (the lock on disk is the one just rendered).
    pub fn read_beside(lock: Option<(String, String)>, conda: &Path, plan: &Path) -> Self {
        SetMarks {
            lock,
            conda: conda_mark(conda),
            plan: read_output(plan).and_then(|t| {
                let value: serde_json::Value = serde_json::from_str(&t).ok()?;
                Some((
                    value.get("output_set")?.as_str()?.to_string(),
                    value.get("cache_key")?.as_str()?.to_string(),
                ))
            }),
        }
    }

    /// True when the three files exist but do not all come from one run.
    pub fn mixed(&self) -> bool {
        match (&self.lock, &self.conda, &self.plan) {
            (Some((set, key)), Some(conda_key), Some((plan_set, plan_key))) => {
                set != plan_set || key != conda_key || key != plan_key
            }
            (None, None, None) => false,
            _ => true,
        }
    }
}

fn read_output(path: &Path) -> Option<String> {
    crate::fsread::read_to_string_capped(path, crate::fsread::cap::OUTPUT).ok()
}

/// The (output set, cache key) a lock records.
pub fn lock_marks(path: &Path) -> Option<(String, String)> {
    let table: toml::Table = toml::from_str(&read_output(path)?).ok()?;
    let tool = table.get("tool")?.get("envscan")?;
    Some((
        tool.get("output-set")?.as_str()?.to_string(),
        tool.get("cache-key")?.as_str()?.to_string(),
    ))
}

/// The cache key a conda file records.
pub fn conda_mark(path: &Path) -> Option<String> {
    read_output(path)?
        .lines()
        .take(4)
        .find_map(|l| l.strip_prefix(CONDA_MARK).map(str::to_string))
}

/// Checks a lock path from the project's own configuration: relative, and not leaving the
/// project by `..` (the folders on the way are checked against links at write time).
pub fn check_project_relative(path: &Path) -> Result<(), String> {
    use std::path::Component;
    if path.as_os_str().is_empty() {
        return Err("the path is empty".into());
    }
    let mut depth = 0usize;
    for component in path.components() {
        match component {
            Component::Normal(_) => depth += 1,
            Component::CurDir => {}
            Component::ParentDir => {
                return Err(format!(
                    "{} leaves the project through `..`; the configuration may only name a path inside it",
                    path.display()
                ));
            }
            Component::RootDir | Component::Prefix(_) => {
                return Err(format!(
                    "{} is absolute; the configuration may only name a path inside the project (use --lock for a path elsewhere)",
                    path.display()
                ));
            }
        }
    }
    if depth == 0 || path.file_name().is_none() {
        return Err(format!("{} names no file", path.display()));
    }
    Ok(())
}

/// Checks a `--lock` path: the user's own choice, so it may leave the project, lexically or
/// absolutely; but a folder link on the way that the repository carries (`deploy ->
/// ~/.ssh`) must not take the write out of the project. Each existing folder on the way that
/// is a link and lies inside the project must resolve inside it.
pub fn check_no_link_leads_out(root: &Path, path: &Path) -> Result<(), String> {
    let full = root.join(path);
    let mut folder = PathBuf::new();
    for component in full.parent().unwrap_or(Path::new("")).components() {
        folder.push(component);
        let inside = std::fs::canonicalize(folder.parent().unwrap_or(Path::new("/")))
            .is_ok_and(|p| p.starts_with(root));
        let is_link = std::fs::symlink_metadata(&folder).is_ok_and(|m| m.file_type().is_symlink());
        if inside && is_link {
            match std::fs::canonicalize(&folder) {
                Ok(real) if real.starts_with(root) => {}
                Ok(real) => {
                    return Err(format!(
                        "{} is a link in the project leading outside it (to {})",
                        folder.display(),
                        real.display()
                    ));
                }
                Err(_) => return Err(format!("{} is a dangling link", folder.display())),
            }
        }
    }
    Ok(())
}

/// Checks that the folders on the way to a configured output, as far as they exist, resolve
/// inside the project (a folder link `out -> /elsewhere` in the repository is refused).
pub fn check_stays_inside(root: &Path, relative: &Path) -> Result<(), String> {
    let mut folder = root.to_path_buf();
    let parent = relative.parent().unwrap_or(Path::new(""));
    for component in parent.components() {
        folder.push(component);
        match std::fs::canonicalize(&folder) {
            Ok(real) if real.starts_with(root) => {}
            Ok(real) => {
                return Err(format!(
                    "{} leads outside the project (to {})",
                    folder.strip_prefix(root).unwrap_or(&folder).display(),
                    real.display()
                ));
            }
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                if std::fs::symlink_metadata(&folder).is_ok() {
                    return Err(format!(
                        "{} is a dangling link",
                        folder.strip_prefix(root).unwrap_or(&folder).display()
                    ));
                }
                break; // made at write time, inside the project
            }
            Err(err) => return Err(format!("{}: {err}", folder.display())),
        }
    }
    Ok(())
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ToolTable {
    /// The digest of the set of outputs this lock was written with (see [`SetMarks`]).
    output_set: String,
    /// The build plan's cache key, which the conda file records too.
    cache_key: String,
    python: PythonInfo,
    target_platform: String,
    /// False when something could not be verified.
    complete: bool,
    /// Imported module → the distribution that provides it, or `local` / `binary-local` for
    /// modules no distribution owns.
    imports: BTreeMap<String, String>,
    packages: BTreeMap<String, PackageInfo>,
    local: Vec<LocalInfo>,
    unresolved: BTreeMap<String, UnresolvedInfo>,
    warnings: Vec<String>,
}

#[derive(Serialize)]
struct PythonInfo {
    version: String,
    implementation: String,
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct PackageInfo {
    version: String,
    /// The installed version, when the lock holds the target's build instead.
    #[serde(skip_serializing_if = "Option::is_none")]
    installed_version: Option<String>,
    class: String,
    reason: String,
    /// What the target installs: `wheel NAME`, `sdist only (...)`, `nothing installs: ...`.
    #[serde(skip_serializing_if = "Option::is_none")]
    target_file: Option<String>,
    imported_as: Vec<String>,
    required_by: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    plugin_of: Vec<String>,
}

#[derive(Serialize)]
struct LocalInfo {
    name: String,
    path: String,
    destination: String,
}

#[derive(Serialize)]
struct UnresolvedInfo {
    locations: Vec<String>,
    guarded: bool,
    /// None when the project has a file of that name: no index is suggested for it.
    #[serde(skip_serializing_if = "Option::is_none")]
    suggestion: Option<String>,
}

/// The lock, its set marks still empty.
fn render_lock(analysis: &Analysis, sources: &[LocalSource]) -> Pylock<ToolTable> {
    let python = &analysis.env.python;
    let packages = analysis
        .packages
        .values()
        .filter(|p| p.class == Class::Pypi)
        .filter_map(|p| {
            let files = p.files.as_ref()?;
            let requires_python = analysis
                .env
                .distribution(&p.name)
                .and_then(|d| d.requires_python.clone());
            Some(locked_package(&p.name, &p.version, files, requires_python))
        })
        .collect();
    let mut imports = BTreeMap::new();
    for import in &analysis.imports {
        let provider = match &import.target {
            Target::Distribution(name) => name.to_string(),
            Target::Orphan { compiled: true, .. } => "binary-local".to_string(),
            Target::Orphan { .. } => "local".to_string(),
            Target::Unresolved => continue,
        };
        imports.insert(import.module.to_string(), provider);
    }
    let tool = ToolTable {
        output_set: String::new(),
        cache_key: String::new(),
        python: PythonInfo {
            version: python.version.clone(),
            implementation: python.implementation.clone(),
        },
        target_platform: analysis.target.to_string(),
        complete: analysis.complete,
        imports,
        packages: analysis
            .packages
            .values()
            .map(|p| {
                (
                    p.name.to_string(),
                    PackageInfo {
                        version: p.version.clone(),
                        installed_version: p.installed_version.clone(),
                        class: p.class.to_string(),
                        reason: p.reason.to_string(),
                        target_file: p.coverage.as_ref().map(|c| c.describe()),
                        imported_as: p.imported_as.iter().map(ToString::to_string).collect(),
                        required_by: p.required_by.iter().map(|r| r.name.to_string()).collect(),
                        plugin_of: p.plugin_of.iter().map(ToString::to_string).collect(),
                    },
                )
            })
            .collect(),
        local: sources
            .iter()
            .map(|s| LocalInfo {
                name: s.name.clone(),
                path: s.label.clone(),
                destination: s.destination.clone(),
            })
            .collect(),
        unresolved: analysis
            .unresolved
            .iter()
            .map(|u| {
                (
                    u.module.to_string(),
                    UnresolvedInfo {
                        locations: u
                            .sites
                            .iter()
                            .map(|s| format!("{}:{}", s.file, s.line))
                            .collect(),
                        guarded: u.guarded,
                        suggestion: u.suggestion.clone(),
                    },
                )
            })
            .collect(),
        warnings: lock_warnings(analysis),
    };
    Pylock {
        requires_python: format!("=={}.{}.*", python.major, python.minor),
        environments: vec![environment_marker(&analysis.target)],
        packages,
        tool,
    }
}

/// The analysis's own findings, which carry no machine-specific paths (environment
/// diagnostics name dist-info folders and stay out of the lock).
fn lock_warnings(analysis: &Analysis) -> Vec<String> {
    let codes = [
        analysis::BINARY_LOCAL,
        analysis::NOT_ON_INDEX,
        analysis::NO_USABLE_FILE,
        analysis::VARIANT_INDEX_MISSING,
        crate::target::apply::VARIANT_SWITCHED,
        crate::target::apply::VARIANT_MISMATCH,
        crate::target::apply::CUDA_MISMATCH,
        crate::target::apply::SDIST_ONLY,
        index::INDEX_UNVERIFIED,
        REQUIREMENT_CONFLICT,
        REQUIREMENT_NOT_INSTALLED,
    ];
    let warnings: BTreeSet<String> = analysis
        .diagnostics
        .iter()
        .filter(|d| codes.contains(&d.code) && d.severity != Severity::Info)
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect();
    warnings.into_iter().collect()
}

fn locked_package(
    name: &crate::names::PackageName,
    version: &str,
    files: &index::VersionFiles,
    requires_python: Option<String>,
) -> LockedPackage {
    let locked = |f: &index::DistFile| {
        Some(LockedFile {
            name: f.filename.clone(),
            url: f.url.clone(),
            size: f.size,
            sha256: f.sha256.clone()?,
            upload_time: None,
        })
    };
    let mut wheels: Vec<LockedFile> = files
        .files
        .iter()
        .filter(|f| matches!(f.kind, index::DistKind::Wheel { .. }))
        .filter_map(locked)
        .collect();
    wheels.sort();
    wheels.dedup_by(|a, b| a.name == b.name);
    // One sdist: PEP 751 allows one; prefer .tar.gz, the standard format.
    let mut sdists: Vec<LockedFile> = files
        .files
        .iter()
        .filter(|f| matches!(f.kind, index::DistKind::Sdist))
        .filter_map(locked)
        .collect();
    sdists.sort_by_key(|f| (!f.name.ends_with(".tar.gz"), f.name.clone()));
    LockedPackage {
        name: name.clone(),
        version: version.to_string(),
        index: files.index.trim_end_matches('/').to_string(),
        requires_python,
        sdist: sdists.into_iter().next(),
        wheels,
        archive: None,
    }
}

/// The PEP 508 environment the lock is for.
fn environment_marker(target: &crate::target::TargetPlatform) -> String {
    match target.os {
        Os::Linux(Libc::Glibc(..)) | Os::Linux(Libc::Musl(..)) => format!(
            "sys_platform == 'linux' and platform_machine == '{}'",
            target.arch
        ),
        Os::Macos(..) => format!(
            "sys_platform == 'darwin' and platform_machine == '{}'",
            if target.arch == "aarch64" {
                "arm64"
            } else {
                &target.arch
            }
        ),
        Os::Windows => "sys_platform == 'win32'".to_string(),
    }
}

fn render_conda(analysis: &Analysis) -> CondaEnvironment {
    let config = &analysis.project.config;
    // A configured name was checked when the configuration was read; a folder's name can
    // hold anything (`my proj`, `x$(id)`) and is made into a valid one.
    let name = config.name.clone().unwrap_or_else(|| {
        analysis.project.root.file_name().map_or_else(
            || "envscan".to_string(),
            |n| plan_check::env_name_from_folder(&n.to_string_lossy()),
        )
    });
    let specs: Vec<CondaSpec> = analysis
        .packages
        .values()
        .filter(|p| p.class == Class::Conda)
        .map(|p| {
            let dist = analysis.env.distribution(&p.name);
            let record = dist.and_then(|d| d.conda.as_ref());
            CondaSpec {
                name: record.map_or_else(|| p.name.to_string(), |r| r.name.clone()),
                version: record.map_or_else(|| p.version.clone(), |r| r.version.clone()),
                channel: p.channel.clone(),
            }
        })
        .collect();
    // A GPU target: the CUDA pins that make conda pick the GPU builds.
    let pins = crate::target::conda::cuda_pins(&specs, &analysis.target);
    let mut conda: BTreeMap<String, String> = specs
        .iter()
        .filter(|s| !pins.drop.contains(&s.name))
        .map(|s| (s.name.clone(), s.version.clone()))
        .collect();
    conda.extend(pins.pins.iter().cloned());
    let conda: Vec<(String, String)> = conda.into_iter().collect();
    let mut channels: Vec<String> = pins.channels.clone();
    for channel in specs
        .iter()
        .filter_map(|s| s.channel.clone())
        .collect::<BTreeSet<_>>()
    {
        if !channels.contains(&channel) {
            channels.push(channel);
        }
    }
    if channels.is_empty() {
        channels.push("conda-forge".to_string());
    }
    let (primary, extras) = match analysis.index_urls.split_first() {
        Some((primary, extras)) => (Some(primary.clone()), extras.to_vec()),
        None => (None, Vec::new()),
    };
    let index_url =
        primary.filter(|u| u.trim_end_matches('/') != DEFAULT_INDEX_URL.trim_end_matches('/'));
    CondaEnvironment {
        name,
        channels,
        python_version: analysis.env.python.version.clone(),
        conda,
        index_url,
        extra_index_urls: extras,
        pip: analysis
            .packages
            .values()
            .filter(|p| p.class == Class::Pypi)
            .map(|p| (p.name.to_string(), p.version.clone()))
            .collect(),
        variables: config.variables.clone(),
    }
}

/// What the plan refers to besides the analysis.
struct PlanInputs<'a> {
    base_image: &'a str,
    lock_name: &'a str,
    /// The conda environment the conda file describes.
    conda: &'a CondaEnvironment,
    /// Over the base image, the conda file and the lock without `[tool.envscan]` (which
    /// records import lines and must not change the key when only code moves).
    cache_key: &'a str,
    /// Whether the lock has anything to install; without, the plan has no install step.
    lock_has_packages: bool,
}

fn build_plan(analysis: &Analysis, sources: &[LocalSource], inputs: PlanInputs<'_>) -> BuildPlan {
    let PlanInputs {
        base_image,
        lock_name,
        conda,
        cache_key,
        lock_has_packages,
    } = inputs;
    let config = &analysis.project.config;
    let mut steps = vec![Step::CreateEnv {
        file: CONDA_FILE.to_string(),
        name: conda.name.clone(),
        channels: conda.channels.clone(),
        dependencies: conda.conda_specs(),
    }];
    if lock_has_packages {
        // Every index a locked package comes from, credential-free, in the order they were
        // configured; the lock's file URLs are absolute, so an installer reading the lock
        // needs none, but a runner that mirrors or pre-authenticates them does.
        let used: BTreeSet<&str> = analysis
            .packages
            .values()
            .filter(|p| p.class == Class::Pypi)
            .filter_map(|p| p.files.as_ref().map(|f| f.index.as_str()))
            .collect();
        steps.push(Step::InstallLock {
            file: lock_name.to_string(),
            installer: Installer::Uv,
            indexes: analysis
                .index_urls
                .iter()
                .filter(|url| used.contains(url.as_str()))
                .cloned()
                .collect(),
        });
    }
    // Built first: the project's code may import them.
    for source in sources.iter().filter(|s| s.builds) {
        steps.push(Step::BuildLocal {
            source: source.name.clone(),
            destination: source.destination.clone(),
        });
    }
    for source in sources.iter().filter(|s| !s.builds) {
        steps.push(Step::Unpack {
            source: source.name.clone(),
            destination: source.destination.clone(),
        });
    }
    let mut variables = config.variables.clone();
    let python_path: Vec<String> = sources
        .iter()
        .flat_map(|s| s.python_path.iter().cloned())
        .collect();
    variables.insert("PYTHONPATH".to_string(), python_path.join(":"));
    steps.push(Step::SetEnv { variables });
    steps.push(Step::Workdir {
        path: APP_ROOT.to_string(),
    });
    if !config.entrypoint.is_empty() {
        steps.push(Step::Entrypoint {
            command: config.entrypoint.clone(),
        });
    }
    let mut warnings = Vec::new();
    for source in sources.iter().filter(|s| s.builds) {
        warnings.push(PlanWarning {
            code: LOCAL_BUILD_ON_TARGET.as_str().into(),
            subject: source.name.clone(),
            message: format!(
                "{} has compiled parts; its source tree is built on the target",
                source.name
            ),
            hint: "the target needs a compiler; or install it in the base image".into(),
        });
    }
    for package in analysis.packages.values() {
        let built = sources
            .iter()
            .any(|s| s.builds && s.name == package.name.as_str());
        if package.class == Class::BinaryLocal && !built {
            warnings.push(PlanWarning {
                code: "binary-local-module".into(),
                subject: package.name.to_string(),
                message: format!(
                    "{} {} has compiled modules that no index provides",
                    package.display_name, package.version
                ),
                hint: "install it in the base image and pass --base-image".into(),
            });
        }
        if package.class == Class::Local && package.external_files > 0 {
            warnings.push(PlanWarning {
                code: "external-data-files".into(),
                subject: package.name.to_string(),
                message: format!(
                    "{} installed {} files outside site-packages that are not moved",
                    package.display_name, package.external_files
                ),
                hint: "install them in the base image if the program needs them".into(),
            });
        }
        if package.class == Class::Pypi && package.files.is_none() {
            warnings.push(PlanWarning {
                code: "unverified-package".into(),
                subject: package.name.to_string(),
                message: format!(
                    "{} {} was not verified on the index and is not in the lock",
                    package.display_name, package.version
                ),
                hint: "run `envscan lock` online once to fill the cache".into(),
            });
        }
    }
    for orphan in analysis.orphans.iter().filter(|o| o.compiled) {
        warnings.push(PlanWarning {
            code: "binary-local-module".into(),
            subject: orphan.module.to_string(),
            message: format!(
                "`{}` is a compiled module no distribution owns",
                orphan.module
            ),
            hint: "install it in the base image and pass --base-image".into(),
        });
    }
    for d in analysis
        .diagnostics
        .iter()
        .filter(|d| d.code == analysis::NO_USABLE_FILE)
    {
        warnings.push(PlanWarning {
            code: "no-usable-file".into(),
            subject: d
                .message
                .split_whitespace()
                .next()
                .unwrap_or_default()
                .to_string(),
            message: d.message.clone(),
            hint: d.hint.clone().unwrap_or_default(),
        });
    }
    warnings.sort();
    BuildPlan {
        schema_version: plan::SCHEMA_VERSION,
        base_image: base_image.to_string(),
        python: analysis.env.python.version.clone(),
        cache_key: cache_key.to_string(),
        output_set: String::new(),
        steps,
        local_sources: sources
            .iter()
            .map(|s| PlanSource {
                name: s.name.clone(),
                path: s.label.clone(),
                destination: s.destination.clone(),
                compiled: s.compiled,
                files: format!("{}#{}", crate::commands::pack::MANIFEST, s.name),
            })
            .collect(),
        warnings,
    }
}
