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
use crate::diagnostic::Severity;
use crate::emit::conda::CondaEnvironment;
use crate::emit::plan::{
    self, APP_ROOT, BuildPlan, Installer, LocalSource as PlanSource, PlanWarning, Step,
};
use crate::emit::pylock::{LockedFile, LockedPackage, Pylock};
use crate::index::tags::{Libc, Os};
use crate::index::{self, DEFAULT_INDEX_URL};
use crate::resolve::Target;
use crate::sources::{self, LocalSource};

pub const DEFAULT_LOCK: &str = "pylock.envscan.toml";
pub const CONDA_FILE: &str = "envscan.conda.yaml";
pub const PLAN_FILE: &str = "envscan.plan.json";

/// The rendered outputs and where they go.
#[derive(Debug)]
pub struct Outputs {
    pub lock: (PathBuf, String),
    pub conda: (PathBuf, String),
    pub plan: (PathBuf, String),
    pub sources: Vec<LocalSource>,
}

impl Outputs {
    pub fn files(&self) -> [&(PathBuf, String); 3] {
        [&self.lock, &self.conda, &self.plan]
    }
}

/// Renders every output. `lock_path` is relative to the project (or absolute).
pub fn render(
    analysis: &Analysis,
    lock_path: &Path,
    base_image: Option<&str>,
) -> anyhow::Result<Outputs> {
    let lock_path = analysis.project.root.join(lock_path);
    let folder = lock_path
        .parent()
        .map_or_else(|| analysis.project.root.clone(), Path::to_path_buf);
    let sources = sources::local_sources(analysis);
    let (lock, installable) = render_lock(analysis, &sources)?;
    let conda_env = render_conda(analysis);
    let conda = conda_env.render();
    let base_image = base_image
        .or(analysis.project.config.base_image.as_deref())
        .unwrap_or(plan::DEFAULT_BASE_IMAGE);
    let lock_name = lock_path.file_name().map_or_else(
        || DEFAULT_LOCK.to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let plan = build_plan(
        analysis,
        &sources,
        PlanInputs {
            base_image,
            lock_name: &lock_name,
            env_name: &conda_env.name,
            conda_text: &conda,
            lock_installable: &installable,
        },
    )
    .render()?;
    Ok(Outputs {
        lock: (lock_path, lock),
        conda: (folder.join(CONDA_FILE), conda),
        plan: (folder.join(PLAN_FILE), plan),
        sources,
    })
}

#[derive(Serialize)]
#[serde(rename_all = "kebab-case")]
struct ToolTable {
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
    class: String,
    reason: String,
    imported_as: Vec<String>,
    required_by: Vec<String>,
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

/// The lock's text, and the part of it installers read (what the cache key covers).
fn render_lock(analysis: &Analysis, sources: &[LocalSource]) -> anyhow::Result<(String, String)> {
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
                        class: p.class.to_string(),
                        reason: p.reason.to_string(),
                        imported_as: p.imported_as.iter().map(ToString::to_string).collect(),
                        required_by: p.required_by.iter().map(|r| r.name.to_string()).collect(),
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
    let lock = Pylock {
        requires_python: format!("=={}.{}.*", python.major, python.minor),
        environments: vec![environment_marker(&analysis.target)],
        packages,
        tool,
    };
    Ok((lock.render()?, lock.render_installable()?))
}

/// The analysis's own findings, which carry no machine-specific paths (environment
/// diagnostics name dist-info folders and stay out of the lock).
fn lock_warnings(analysis: &Analysis) -> Vec<String> {
    let codes = [
        analysis::BINARY_LOCAL,
        analysis::NOT_ON_INDEX,
        analysis::NO_USABLE_FILE,
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
    }
}

/// The PEP 508 environment the lock is for.
fn environment_marker(target: &index::TargetPlatform) -> String {
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
    let name = config.name.clone().unwrap_or_else(|| {
        analysis.project.root.file_name().map_or_else(
            || "envscan".to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    });
    let conda: Vec<(String, String)> = analysis
        .packages
        .values()
        .filter(|p| p.class == Class::Conda)
        .map(|p| {
            let dist = analysis.env.distribution(&p.name);
            let record = dist.and_then(|d| d.conda.as_ref());
            (
                record.map_or_else(|| p.name.to_string(), |r| r.name.clone()),
                record.map_or_else(|| p.version.clone(), |r| r.version.clone()),
            )
        })
        .collect();
    let mut channels: Vec<String> = analysis
        .packages
        .values()
        .filter(|p| p.class == Class::Conda)
        .filter_map(|p| p.channel.clone())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
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
    /// The conda environment's name, as the conda file gives it.
    env_name: &'a str,
    conda_text: &'a str,
    /// The lock without `[tool.envscan]`, which records import lines and must not change the
    /// cache key when only code moves.
    lock_installable: &'a str,
}

fn build_plan(analysis: &Analysis, sources: &[LocalSource], inputs: PlanInputs<'_>) -> BuildPlan {
    let PlanInputs {
        base_image,
        lock_name,
        env_name,
        conda_text,
        lock_installable,
    } = inputs;
    let config = &analysis.project.config;
    let env_name = env_name.to_string();
    let mut steps = vec![
        Step::CreateEnv {
            file: CONDA_FILE.to_string(),
            name: env_name,
        },
        Step::InstallLock {
            file: lock_name.to_string(),
            installer: Installer::Uv,
        },
    ];
    for source in sources {
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
    for package in analysis.packages.values() {
        if package.class == Class::BinaryLocal {
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
        cache_key: plan::cache_key(base_image, conda_text, lock_installable),
        steps,
        local_sources: sources
            .iter()
            .map(|s| PlanSource {
                name: s.name.clone(),
                path: s.label.clone(),
                destination: s.destination.clone(),
                compiled: s.compiled,
            })
            .collect(),
        warnings,
    }
}
