//! The whole analysis behind `lock`, `check`, `pack`, `explain` and `graph`: scan the project,
//! read the environment, resolve imports to distributions, take the `Requires-Dist` closure,
//! classify everything and verify index distributions on the index.
//!
//! Nothing here writes a file; `outputs` renders the result and the commands decide what to
//! write. An index failure (after retries) is an error of the whole run, so that a lock is
//! never rewritten from partial knowledge.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::Context as _;

use crate::classify::closure::{self, Installed, RequiredBy};
use crate::classify::plugins::{self, HostGroups, LeftOut, PluginOf};
use crate::classify::pytest_config;
use crate::classify::suggest::Suggestions;
use crate::classify::{Class, Reason};
use crate::cli::AnalysisArgs;
use crate::diagnostic::{self, Code, Diagnostic, Severity};
use crate::env::{self, DiscoverOptions, DistKind, Environment};
use crate::index::sources::IndexSources;
use crate::index::{self, Found, IndexClient, IndexSettings, Route, VersionFiles};
use crate::names::{ModuleName, PackageName};
use crate::parse::{Context, ImportSite};
use crate::resolve::{self, ResolvedImport, Target};
use crate::scan::{ProjectScan, scan_project};
use crate::settings::{Project, PythonVersion, ScanSettings};
use crate::target::coverage::Coverage;
use crate::target::{Cuda, TargetPlatform};

pub const UNRESOLVED_IMPORT: Code = Code("unresolved-import");
pub const NOT_ON_INDEX: Code = Code("not-on-index");
pub const BINARY_LOCAL: Code = Code("binary-local-module");
/// A needed package has no file the target can install (or only an sdist of compiled code).
pub const NO_USABLE_FILE: Code = Code("no-usable-file");
pub const CONFIG_CLASS: Code = Code("config-invalid-class");
pub const ADDED_NOT_INSTALLED: Code = Code("added-not-installed");
/// A GPU build (`torch 2.5.1+cu124`) whose index is not configured.
pub const VARIANT_INDEX_MISSING: Code = Code("variant-index-missing");

/// A needed distribution and what was decided about it.
#[derive(Clone, Debug)]
pub struct Package {
    pub name: PackageName,
    pub display_name: String,
    pub version: String,
    pub class: Class,
    pub reason: Reason,
    /// The modules the project imports from it.
    pub imported_as: BTreeSet<ModuleName>,
    /// The needed distributions that require it (empty when only imported).
    pub required_by: BTreeSet<RequiredBy>,
    /// The needed hosts that load it as a plugin, and how (empty when it is no plugin).
    pub plugin_of: BTreeSet<PluginOf>,
    /// Its files of this version on the index, for `pypi` packages that were verified.
    pub files: Option<VersionFiles>,
    /// The conda channel, for `conda` packages.
    pub channel: Option<String>,
    /// Where its code lives, for `local` editable and path installs.
    pub source_roots: Vec<PathBuf>,
    /// Its top-level modules.
    pub modules: Vec<ModuleName>,
    /// Files it installed outside site-packages (data, scripts), relative to the prefix.
    pub external_files: usize,
    /// The named index `[tool.envscan.sources]` / `[tool.uv.sources]` pins it to.
    pub pinned_index: Option<String>,
    /// The installed version, when the lock holds another build for the target (`version`).
    pub installed_version: Option<String>,
    /// What the target installs of the locked version, once verified on the index.
    pub coverage: Option<Coverage>,
}

/// An imported module no distribution owns.
#[derive(Clone, Debug)]
pub struct OrphanModule {
    pub module: ModuleName,
    pub path: PathBuf,
    pub compiled: bool,
}

/// An imported module that nothing on the search path provides.
#[derive(Clone, Debug)]
pub struct Unresolved {
    pub module: ModuleName,
    pub sites: Vec<ImportSite>,
    /// Every site is guarded (`optional` or `conditional`): the program may run without it.
    pub guarded: bool,
    /// The distribution that most likely provides it; `None` when the project has a file or
    /// folder of that name (see `project_path`), which no index must be suggested for.
    pub suggestion: Option<String>,
    /// The project's file or folder of that name, when there is one (not on the import path).
    pub project_path: Option<String>,
}

/// How much of the analysis to run.
#[derive(Clone, Copy, Debug, Default)]
pub struct RunOptions {
    /// Draw the index progress bar.
    pub progress: bool,
    /// Leave index distributions unverified (for views that do not need it, such as the graph).
    pub skip_index: bool,
}

#[derive(Debug)]
pub struct Analysis {
    pub project: Project,
    pub scan: ProjectScan,
    pub env: Environment,
    pub target: TargetPlatform,
    /// Credential-free index URLs, primary first.
    pub index_urls: Vec<String>,
    pub imports: Vec<ResolvedImport>,
    /// `[tool.envscan] ignore`: modules whose import sites the analysis leaves out.
    pub ignored: Vec<ModuleName>,
    /// Every needed distribution.
    pub packages: BTreeMap<PackageName, Package>,
    pub orphans: Vec<OrphanModule>,
    pub unresolved: Vec<Unresolved>,
    /// Modules imported only for type checkers: not needed at run time.
    pub typing_only: BTreeSet<ModuleName>,
    /// The project's own distributions: editable or path installs whose source lies inside
    /// the project. The extras they ask for are applied to needed distributions.
    pub own_distributions: BTreeSet<PackageName>,
    /// Hosts and the entry-point groups they load (shipped table and configuration).
    pub plugin_hosts: HostGroups,
    /// Plugins the configuration leaves out (`ignore`, pytest's `-p no:NAME`).
    pub plugins_left_out: LeftOut,
    /// pytest's configuration file, when the project has one.
    pub pytest_config: Option<pytest_config::PytestConfig>,
    pub diagnostics: Vec<Diagnostic>,
    /// False when something could not be verified (offline without cache).
    pub complete: bool,
}

impl Analysis {
    /// Runs the analysis for a project.
    pub fn run(args: &AnalysisArgs, options: RunOptions) -> anyhow::Result<Self> {
        let project = Project::open(&args.project.path)?;
        let config = &project.config;
        let mut diagnostics = project.diagnostics.clone();

        let mut discover = DiscoverOptions::from_process(&project.root);
        discover.python = args.python.clone();
        discover.config_python = config.python.clone();
        discover.no_path_python = args.no_path_python;
        discover.cache_dir = crate::settings::local_cache_dir(&args.project);
        let env = env::discover(&discover)?;
        diagnostics.extend(env.diagnostics.iter().cloned());

        let mut project_args = args.project.clone();
        if project_args.python_version.is_none() && config.python_version.is_none() {
            project_args.python_version = Some(env.python.python_version().to_string());
        }
        let scan_settings = ScanSettings::resolve(&project, &project_args, &mut diagnostics)?;
        let mut scan = scan_project(&scan_settings, Vec::new());
        diagnostics.append(&mut scan.diagnostics);
        // The sites stay in the scan (the graph's edges are numbered by them); the analysis
        // leaves these out.
        let ignored: Vec<ModuleName> = config
            .ignore
            .iter()
            .filter_map(|m| ModuleName::new(m))
            .collect();

        let target = target_platform(
            args.target_platform
                .as_deref()
                .or(config.target_platform.as_deref()),
            args.target_cuda
                .as_deref()
                .or(config.target_cuda.as_deref()),
            env.python.python_version(),
        )?;
        let sources = IndexSources::resolve(&config.sources)?;
        let mut index_settings = IndexSettings::resolve(
            args.index_url.clone(),
            args.extra_index_url.clone(),
            config
                .index_url
                .clone()
                .or_else(|| sources.default_index().map(|i| i.url.to_string())),
            config.extra_index_url.clone(),
            args.offline,
            args.project.cache_dir.clone(),
        )
        .map(|mut s| {
            s.progress = options.progress;
            s.named_indexes = sources.indexes.clone();
            s
        })?;
        diagnostics.append(&mut index_settings.diagnostics);

        let imports = resolve::resolve_imports(&scan, &env, |site| !is_ignored(&ignored, site));
        let mut analysis = Analysis {
            project,
            scan,
            env,
            target,
            index_urls: Vec::new(),
            imports,
            ignored,
            packages: BTreeMap::new(),
            orphans: Vec::new(),
            unresolved: Vec::new(),
            typing_only: BTreeSet::new(),
            own_distributions: BTreeSet::new(),
            plugin_hosts: HostGroups::default(),
            plugins_left_out: LeftOut::default(),
            pytest_config: None,
            diagnostics,
            complete: true,
        };
        let roots = analysis.collect_roots();
        analysis.take_closure(roots)?;
        analysis.classify_installed();
        if !options.skip_index {
            analysis.verify_on_index(index_settings, &sources)?;
        }
        diagnostic::sort(&mut analysis.diagnostics);
        Ok(analysis)
    }

    /// Sorts the resolved imports into distributions to lock, orphans and unresolved names.
    fn collect_roots(&mut self) -> BTreeMap<PackageName, BTreeSet<ModuleName>> {
        let suggestions = Suggestions::new(&self.project.config.import_names);
        let mut roots: BTreeMap<PackageName, BTreeSet<ModuleName>> = BTreeMap::new();
        for import in &self.imports {
            let runtime: Vec<&ImportSite> = import
                .sites
                .iter()
                .filter(|s| !s.context.contains(&Context::TypeChecking))
                .collect();
            if runtime.is_empty() {
                self.typing_only.insert(import.module.clone());
                continue;
            }
            match &import.target {
                Target::Distribution(name) => {
                    roots
                        .entry(name.clone())
                        .or_default()
                        .insert(import.module.clone());
                }
                Target::Orphan { path, compiled } => {
                    self.orphans.push(OrphanModule {
                        module: import.module.clone(),
                        path: path.clone(),
                        compiled: *compiled,
                    });
                    if *compiled {
                        self.diagnostics.push(
                            Diagnostic::warning(
                                BINARY_LOCAL,
                                format!(
                                    "`{}` is a compiled module that no distribution installed; it \
                                     cannot be moved",
                                    import.module
                                ),
                            )
                            .with_file(&*runtime[0].file)
                            .with_line(runtime[0].line)
                            .with_hint("build it into the base image (--base-image)"),
                        );
                    }
                }
                Target::Unresolved => {
                    let guarded = runtime.iter().all(|s| {
                        s.context.contains(&Context::Optional)
                            || s.context.contains(&Context::Conditional)
                    });
                    let only_optional = runtime
                        .iter()
                        .all(|s| s.context.contains(&Context::Optional));
                    let severity = if only_optional {
                        Severity::Info
                    } else if guarded {
                        Severity::Warning
                    } else {
                        Severity::Error
                    };
                    // A name the project itself has must never send the user to an index:
                    // installing it from there is how dependency confusion starts.
                    let project_path = self
                        .scan
                        .graph
                        .project_path_named(import.module.top_level())
                        .map(str::to_string);
                    let suggestion = match project_path {
                        Some(_) => None,
                        None => Some(suggestions.likely_distribution(import.module.as_str())),
                    };
                    // One diagnostic per statement: `from a import b, c` names `a` twice.
                    let mut statements = BTreeSet::new();
                    for site in &runtime {
                        if !statements.insert((&site.file, site.statement)) {
                            continue;
                        }
                        let d = match &project_path {
                            Some(path) => Diagnostic::new(
                                UNRESOLVED_IMPORT,
                                severity,
                                format!(
                                    "`{}` is not installed and not on the import path; the \
                                     project has `{path}`",
                                    import.module
                                ),
                            )
                            .with_hint(
                                "it is a project file, not a distribution: add its folder to \
                                 [tool.envscan] roots, or import it by its package name",
                            ),
                            None => {
                                let d = Diagnostic::new(
                                    UNRESOLVED_IMPORT,
                                    severity,
                                    format!("`{}` is imported but not installed", import.module),
                                );
                                if suggestions.differs(import.module.as_str()) {
                                    d.with_hint(format!(
                                        "it is usually provided by `{}`",
                                        suggestions.likely_distribution(import.module.as_str())
                                    ))
                                } else {
                                    d
                                }
                            }
                        };
                        self.diagnostics
                            .push(d.with_file(&*site.file).at(site.line, site.column));
                    }
                    self.unresolved.push(Unresolved {
                        module: import.module.clone(),
                        sites: runtime.into_iter().cloned().collect(),
                        guarded,
                        suggestion,
                        project_path,
                    });
                }
            }
        }
        self.collect_compiled_project_modules();
        for added in &self.project.config.add {
            let name = PackageName::new(added);
            if self.env.distribution(&name).is_some() {
                roots.entry(name).or_default();
            } else {
                self.diagnostics.push(
                    Diagnostic::error(
                        ADDED_NOT_INSTALLED,
                        format!("[tool.envscan] add names `{added}`, which is not installed"),
                    )
                    .with_file("pyproject.toml"),
                );
            }
        }
        roots
    }

    /// The project's own compiled modules that some import reaches at run time: `binary_local`,
    /// never packed, with a warning to build them into the base image.
    fn collect_compiled_project_modules(&mut self) {
        let mut compiled: BTreeMap<ModuleName, (String, &ImportSite)> = BTreeMap::new();
        for (index, site) in self.scan.imports.iter().enumerate() {
            if site.context.contains(&Context::TypeChecking) || is_ignored(&self.ignored, site) {
                continue;
            }
            let Some(node) = self.scan.graph.target(index) else {
                continue;
            };
            let crate::graph::NodeKind::Compiled { file } = &node.kind else {
                continue;
            };
            let module = ModuleName::new(&node.name).unwrap_or_else(|| site.module.clone());
            compiled.entry(module).or_insert((file.clone(), site));
        }
        for (module, (file, site)) in compiled {
            self.diagnostics.push(
                Diagnostic::warning(
                    BINARY_LOCAL,
                    format!(
                        "`{module}` is a compiled module of the project ({file}); it cannot be \
                         moved"
                    ),
                )
                .with_file(&*site.file)
                .at(site.line, site.column)
                .with_hint("build it into the base image (--base-image)"),
            );
            self.orphans.push(OrphanModule {
                module,
                path: self.project.root.join(&file),
                compiled: true,
            });
        }
    }

    fn take_closure(
        &mut self,
        roots: BTreeMap<PackageName, BTreeSet<ModuleName>>,
    ) -> anyhow::Result<()> {
        let environment = crate::target::marker_environment(&self.env.python.version, &self.target)
            .with_context(|| format!("invalid Python version {:?}", self.env.python.version))?;
        self.own_distributions = self.own_distributions();
        self.plugin_hosts = HostGroups::new(&self.project.config.entry_point_groups);
        self.plugins_left_out.ignore = self.project.config.ignore.clone();
        self.pytest_config = pytest_config::find(&self.project.root, &mut self.diagnostics);
        let (result, plugin_roots) = self.closure_with_plugins(&roots, &environment);
        self.diagnostics.extend(result.diagnostics);
        let added: BTreeSet<PackageName> = self
            .project
            .config
            .add
            .iter()
            .map(|a| PackageName::new(a))
            .collect();
        // The project's own distributions travel too, even when the project's imports resolve
        // to its files rather than to them: their metadata is what `importlib.metadata`, the
        // console scripts and entry points (pytest plugins) of the project read on the target.
        let mut needed = result.needed;
        for own in &self.own_distributions {
            needed.entry(own.clone()).or_default();
        }
        for (name, required_by) in needed {
            let Some(dist) = self.env.distribution(&name) else {
                continue; // reported by the closure as not installed
            };
            let (class, reason) = crate::classify::installed(dist);
            let reason = if added.contains(&name) && required_by.is_empty() {
                Reason::Added
            } else {
                reason
            };
            let modules: Vec<ModuleName> = dist.modules.clone();
            self.packages.insert(
                name.clone(),
                Package {
                    name: name.clone(),
                    display_name: dist.display_name.clone(),
                    version: dist.version.clone(),
                    class,
                    reason,
                    imported_as: roots.get(&name).cloned().unwrap_or_default(),
                    required_by,
                    plugin_of: plugin_roots.get(&name).cloned().unwrap_or_default(),
                    files: None,
                    channel: dist.conda.as_ref().and_then(|c| c.channel.clone()),
                    source_roots: dist.editable_roots.clone(),
                    modules,
                    external_files: dist.external_files.len(),
                    pinned_index: None,
                    installed_version: None,
                    coverage: None,
                },
            );
        }
        Ok(())
    }

    /// The `Requires-Dist` closure of `roots` plus every plugin a needed host loads, taken again
    /// with those plugins as roots until nothing new comes in (a plugin's requirements can bring
    /// a host of its own). pytest's configuration is mapped to plugins once pytest is needed.
    fn closure_with_plugins(
        &mut self,
        roots: &BTreeMap<PackageName, BTreeSet<ModuleName>>,
        environment: &pep508_rs::MarkerEnvironment,
    ) -> (closure::Closure, BTreeMap<PackageName, BTreeSet<PluginOf>>) {
        let pytest = PackageName::new("pytest");
        let env = &self.env;
        let lookup = |name: &PackageName| {
            let dist = env.distribution(name)?;
            Some(Installed {
                display_name: &dist.display_name,
                version: &dist.version,
                parsed_version: dist.parsed_version.as_ref(),
                requires: dist
                    .requires_dist
                    .iter()
                    .filter_map(|r| r.parsed())
                    .collect(),
            })
        };
        let mut demands: Option<plugins::PytestDemands> = None;
        let mut plugin_roots: BTreeMap<PackageName, BTreeSet<PluginOf>> = BTreeMap::new();
        // The plugin set only grows (a larger needed set loads more), so it settles within as
        // many rounds as there are distributions; the bound only guards that reasoning.
        let mut rounds = 0;
        loop {
            let result = closure::closure(
                roots.keys().chain(plugin_roots.keys()).cloned(),
                self.own_distributions.iter().cloned(),
                lookup,
                environment,
            );
            let needed: BTreeSet<PackageName> = result.needed.keys().cloned().collect();
            if demands.is_none()
                && needed.contains(&pytest)
                && let Some(config) = &self.pytest_config
            {
                let found = plugins::pytest_demands(config, env);
                self.plugins_left_out.pytest_disabled = found.disabled.clone();
                demands = Some(found);
            }
            let installed = env
                .distributions
                .iter()
                .map(|d| (&d.name, d.entry_points.as_slice()));
            let mut found = plugins::group_plugins(
                &needed,
                &self.plugin_hosts,
                installed,
                &self.plugins_left_out,
            );
            for (dist, why) in demands.iter().flat_map(|d| &d.plugins) {
                found
                    .entry(dist.clone())
                    .or_default()
                    .extend(why.iter().cloned());
            }
            if found == plugin_roots || rounds > env.distributions.len() {
                self.diagnostics
                    .extend(demands.into_iter().flat_map(|d| d.diagnostics));
                return (result, plugin_roots);
            }
            plugin_roots = found;
            rounds += 1;
        }
    }

    /// Installed editable or path distributions whose source roots all lie inside the project:
    /// the project's own, whose requirements pip installed with it.
    fn own_distributions(&self) -> BTreeSet<PackageName> {
        let project = &self.project.root;
        let canonical = fs_err::canonicalize(project).unwrap_or_else(|_| project.clone());
        let inside = |path: &Path| {
            path.starts_with(project)
                || path.starts_with(&canonical)
                || fs_err::canonicalize(path).is_ok_and(|p| p.starts_with(&canonical))
        };
        self.env
            .distributions
            .iter()
            .filter(|d| matches!(d.kind, DistKind::Editable | DistKind::Path))
            .filter(|d| {
                let mut roots = d.editable_roots.clone();
                roots.extend(d.direct_url.as_ref().and_then(|u| u.local_path()));
                !roots.is_empty() && roots.iter().all(|r| inside(r))
            })
            .map(|d| d.name.clone())
            .collect()
    }

    /// Applies `[tool.envscan] classes` and reports what cannot travel.
    fn classify_installed(&mut self) {
        for (name, class_text) in &self.project.config.classes {
            let Some(class) = Class::parse(class_text) else {
                self.diagnostics.push(
                    Diagnostic::error(
                        CONFIG_CLASS,
                        format!("[tool.envscan] classes: `{class_text}` is not a class"),
                    )
                    .with_file("pyproject.toml")
                    .with_hint("use pypi, conda, local, binary_local or stdlib"),
                );
                continue;
            };
            if let Some(package) = self.packages.get_mut(&PackageName::new(name)) {
                package.class = class;
                // Forcing `pypi` still has the index verify the version and give its files.
                package.reason = if class == Class::Pypi {
                    Reason::Unverified {
                        installer: "[tool.envscan] classes".into(),
                    }
                } else {
                    Reason::Configured
                };
                continue;
            }
            // A module name: an unresolved import the user says is provided another way (the
            // base image, the standard library of the remote), or an orphan's class.
            let Some(module) = ModuleName::new(name) else {
                continue;
            };
            let (settled, unresolved): (Vec<Unresolved>, Vec<Unresolved>) =
                std::mem::take(&mut self.unresolved)
                    .into_iter()
                    .partition(|u| u.module.starts_with(&module));
            self.unresolved = unresolved;
            for u in settled {
                // Every unresolved-import message starts with the module in backticks.
                let subject = format!("`{}` ", u.module);
                self.diagnostics
                    .retain(|d| d.code != UNRESOLVED_IMPORT || !d.message.starts_with(&subject));
            }
            for orphan in &mut self.orphans {
                if orphan.module.starts_with(&module) {
                    orphan.compiled = class == Class::BinaryLocal;
                }
            }
        }
        for package in self.packages.values() {
            if package.class == Class::BinaryLocal {
                self.diagnostics.push(
                    Diagnostic::warning(
                        BINARY_LOCAL,
                        format!(
                            "{} {} has compiled modules and no index provides it; it cannot be moved",
                            package.display_name, package.version
                        ),
                    )
                    .with_hint("build it into the base image (--base-image)"),
                );
            }
        }
    }

    /// Asks the index about every distribution that looks index-installed, each on its own
    /// route (a package pinned to a named index is asked there only), switches GPU builds
    /// that do not suit the target, and classifies what the target installs.
    fn verify_on_index(
        &mut self,
        settings: IndexSettings,
        sources: &IndexSources,
    ) -> anyhow::Result<()> {
        let candidates: Vec<(PackageName, String)> = self
            .packages
            .values()
            // Every `pypi` package is unverified until the index answers.
            .filter(|p| p.class == Class::Pypi)
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        // One distribution whose version is not PEP 440 cannot be asked about (nor locked):
        // a diagnostic on its metadata folder, it travels as local code, the rest is locked.
        let (candidates, unaskable): (Vec<_>, Vec<_>) =
            candidates.into_iter().partition(|(name, _)| {
                self.env
                    .distribution(name)
                    .is_none_or(|d| d.parsed_version.is_some())
            });
        for (name, version) in unaskable {
            self.not_askable(&name, &version);
        }
        let client = IndexClient::new(settings)?;
        let environment = crate::target::marker_environment(&self.env.python.version, &self.target)
            .with_context(|| format!("invalid Python version {:?}", self.env.python.version))?;
        let mut routed: Vec<(PackageName, String, Route)> = Vec::new();
        for (name, version) in candidates {
            let pinned = sources.index_for(&name, &environment);
            // Sources were checked to name defined indexes, so a route always exists.
            let Some(route) = client.route(pinned) else {
                continue;
            };
            if let Some(package) = self.packages.get_mut(&name) {
                package.pinned_index = pinned.map(str::to_string);
            }
            routed.push((name, version, route));
        }
        let routed = self.switch_variants(&client, routed);
        let answers = client.lookup_routed(&routed);
        for ((name, version, _), answer) in routed.iter().zip(answers) {
            let found = match answer {
                Err(index::IndexError::InvalidVersion { .. }) => {
                    self.not_askable(name, version);
                    continue;
                }
                answer => answer.map_err(anyhow::Error::new)?,
            };
            let Some(package) = self.packages.get_mut(name) else {
                continue;
            };
            let compiled = self
                .env
                .distribution(name)
                .is_some_and(|d| d.has_compiled_modules);
            match found {
                Found::Files(files) => {
                    if matches!(package.reason, Reason::Unverified { .. }) {
                        package.reason = Reason::OnIndex {
                            index: files.index.clone(),
                        };
                    }
                    package.files = Some(files);
                }
                Found::VersionMissing | Found::ProjectMissing => {
                    if let Some((variant, url)) = crate::target::variant::variant_index(version) {
                        // A GPU build: its index is missing from the configuration, which is
                        // said with the lines to add; it is not local code.
                        package.reason = Reason::VariantNotOnIndex {
                            variant: variant.to_string(),
                            index: url,
                        };
                        let mut d = Diagnostic::error(
                            VARIANT_INDEX_MISSING,
                            format!(
                                "{} {} is a {variant} build and no configured index has it; it \
                                 is not locked",
                                package.display_name, package.version
                            ),
                        );
                        if let Some(hint) =
                            crate::target::variant::missing_index_hint(name, version)
                        {
                            d = d.with_hint(hint);
                        }
                        self.diagnostics.push(d);
                        continue;
                    }
                    package.class = crate::classify::local_class(compiled);
                    package.reason = Reason::NotOnIndex { compiled };
                    self.diagnostics.push(
                        Diagnostic::warning(
                            NOT_ON_INDEX,
                            format!(
                                "{} {} is installed but no index has this version; it travels as {}",
                                package.display_name,
                                package.version,
                                if compiled { "nothing (compiled)" } else { "local code" }
                            ),
                        )
                        .with_hint("publish it to your index, or install a released version"),
                    );
                }
                Found::Unverified { url } => {
                    self.complete = false;
                    self.diagnostics.push(Diagnostic::warning(
                        index::INDEX_UNVERIFIED,
                        format!(
                            "{} {} not verified: {url} is not in the cache (offline)",
                            package.display_name, package.version
                        ),
                    ));
                }
            }
        }
        self.index_urls = self.used_index_urls(&client);
        self.check_coverage();
        Ok(())
    }

    /// The primary index, the extra ones, then every other index a locked package comes
    /// from, credential-free: what an installer of the conda file's `pip:` list needs.
    fn used_index_urls(&self, client: &IndexClient) -> Vec<String> {
        let all = client.index_urls();
        let configured = 1 + client.settings().extra_index_urls.len();
        let used: BTreeSet<&str> = self
            .packages
            .values()
            .filter_map(|p| p.files.as_ref().map(|f| f.index.as_str()))
            .collect();
        all.iter()
            .enumerate()
            .filter(|(i, url)| *i < configured || used.contains(url.as_str()))
            .map(|(_, url)| url.clone())
            .collect()
    }

    /// `name` cannot be looked up on an index (its version or name is not valid there): it
    /// travels as local code, with an error naming its metadata folder.
    fn not_askable(&mut self, name: &PackageName, version: &str) {
        let dist = self.env.distribution(name);
        let compiled = dist.is_some_and(|d| d.has_compiled_modules);
        if let Some(package) = self.packages.get_mut(name) {
            package.class = crate::classify::local_class(compiled);
            package.reason = Reason::NotOnIndex { compiled };
        }
        let mut diagnostic = Diagnostic::error(
            index::INDEX_INVALID_VERSION,
            format!(
                "{name} {version:?} is not a PEP 440 version, so no index can be asked about \
                 it; it travels as {}",
                if compiled {
                    "nothing (compiled)"
                } else {
                    "local code"
                }
            ),
        )
        .with_hint("reinstall it from a released version");
        if let Some(dist) = dist {
            diagnostic = diagnostic.with_file(dist.metadata_dir.display().to_string());
        }
        self.diagnostics.push(diagnostic);
    }

    /// The distribution that provides an imported module, for the graph's clusters.
    pub fn distribution_of_modules(&self) -> BTreeMap<String, String> {
        self.imports
            .iter()
            .filter_map(|i| match &i.target {
                Target::Distribution(name) => Some((i.module.to_string(), name.to_string())),
                _ => None,
            })
            .collect()
    }
}

fn target_platform(
    text: Option<&str>,
    cuda: Option<&str>,
    python: PythonVersion,
) -> anyhow::Result<TargetPlatform> {
    let mut platform = match text {
        Some(text) => TargetPlatform::parse(text)
            .map_err(|e| anyhow::anyhow!("--target-platform {text:?}: {e}"))?,
        None => TargetPlatform::default(),
    };
    if let Some(cuda) = cuda {
        platform.cuda = Some(Cuda::parse(cuda).map_err(|e| anyhow::anyhow!("--target-cuda: {e}"))?);
    }
    Ok(platform.with_python(python.major, python.minor))
}

/// Whether `[tool.envscan] ignore` leaves the site out (it names the module or a parent).
fn is_ignored(ignored: &[ModuleName], site: &ImportSite) -> bool {
    ignored.iter().any(|i| site.module.starts_with(i))
}
