//! Which environment: the prefix, the interpreter, and how it was chosen.
//!
//! First match wins: `--python PATH` (an interpreter or a prefix), `[tool.envscan] python`
//! (relative to the project), `VIRTUAL_ENV`, `CONDA_PREFIX`, a `.venv` or `venv` folder in the
//! project, then each `python3` on `PATH` resolved to its prefix. A path the user named that
//! is not an environment is fatal; an environment variable pointing nowhere is a diagnostic
//! and the search goes on. The interpreter is never run unless `--query-interpreter` asks.
//!
//! An interpreter maps to its prefix as `site.py` does: `pyvenv.cfg` beside the executable or
//! one folder up (PEP 405), else the parent of its `bin/` folder. Symlinks are followed only
//! when the unresolved path is not an environment (a venv's `python` links to the base one).

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use anyhow::bail;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::pyvenv::PyvenvCfg;
use super::{Environment, Interpreter, conda, layout, scan};
use crate::diagnostic::{Code, Diagnostic};
use crate::settings::DEFAULT_PYTHON_VERSION;

pub const ENV_NOT_FOUND: Code = Code("env-not-found");
pub const PYTHON_VERSION_UNKNOWN: Code = Code("python-version-unknown");
pub const QUERY_INTERPRETER_FAILED: Code = Code("query-interpreter-failed");
pub const PYVENV_CFG_UNREADABLE: Code = Code("pyvenv-cfg-unreadable");

/// What [`discover`] looks at. [`DiscoverOptions::from_process`] fills the environment
/// variables from the process; tests set them by hand.
#[derive(Clone, Debug, Default)]
pub struct DiscoverOptions {
    /// The project folder, where `.venv` / `venv` are looked for.
    pub project_root: PathBuf,
    /// `--python`.
    pub python: Option<PathBuf>,
    /// `[tool.envscan] python`, relative to the project.
    pub config_python: Option<String>,
    /// `--query-interpreter`: run the interpreter to ask its version and prefixes.
    pub query_interpreter: bool,
    pub virtual_env: Option<PathBuf>,
    pub conda_prefix: Option<PathBuf>,
    /// `PATH`.
    pub path_var: Option<OsString>,
    /// `--no-path-python`: no fallback to `python3` on PATH (an activated virtual
    /// environment's still counts), and never the environment envscan runs from.
    pub no_path_python: bool,
    /// The virtual environment envscan's own executable is installed in (pre-commit's hook
    /// environment, a `uv tool` environment), if it is in one.
    pub own_prefix: Option<PathBuf>,
    /// Where the environment cache lives (`crate::cache::env`); `None` under `--no-cache`.
    pub cache_dir: Option<PathBuf>,
}

impl DiscoverOptions {
    pub fn from_process(project_root: &Path) -> Self {
        let non_empty = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Self {
            project_root: project_root.to_path_buf(),
            virtual_env: non_empty("VIRTUAL_ENV").map(PathBuf::from),
            conda_prefix: non_empty("CONDA_PREFIX").map(PathBuf::from),
            path_var: non_empty("PATH"),
            own_prefix: own_prefix(),
            ..Self::default()
        }
    }
}

/// How the environment was chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum FoundBy {
    /// `--python`.
    Flag,
    /// `[tool.envscan] python`.
    Config,
    VirtualEnv,
    CondaPrefix,
    /// A `.venv` or `venv` folder in the project.
    ProjectVenv,
    /// `python3` on `PATH`.
    Path,
}

/// The venv holding the running executable (`<prefix>/bin/envscan` beside `pyvenv.cfg`).
fn own_prefix() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    let prefix = exe.parent()?.parent()?;
    prefix
        .join("pyvenv.cfg")
        .is_file()
        .then(|| fs_err::canonicalize(prefix).ok())
        .flatten()
}

/// Finds and reads the target environment. Fails only when there is none.
pub fn discover(opts: &DiscoverOptions) -> anyhow::Result<Environment> {
    let mut diagnostics = Vec::new();
    let Some((found_by, prefix, executable)) = locate(opts, &mut diagnostics)? else {
        if opts.no_path_python {
            bail!(
                "no Python environment found for this project (python3 on PATH is not used \
                 with --no-path-python): create .venv in the project, pass --python PATH, or \
                 set `python = \".venv\"` under [tool.envscan] in pyproject.toml \
                 (`python = \"python3\"` takes the first python3 on PATH)"
            );
        }
        bail!(
            "no Python environment found: pass --python, set [tool.envscan] python, activate a \
             virtual environment, or create .venv in the project"
        );
    };
    let python = read_interpreter(opts, found_by, &prefix, executable, &mut diagnostics);
    Ok(scan::build(python, diagnostics, opts.cache_dir.as_deref()))
}

type Located = (FoundBy, PathBuf, Option<PathBuf>);

fn locate(
    opts: &DiscoverOptions,
    diagnostics: &mut Vec<Diagnostic>,
) -> anyhow::Result<Option<Located>> {
    if let Some(path) = &opts.python {
        return match prefix_of(path) {
            Some((prefix, exe)) => Ok(Some((FoundBy::Flag, prefix, exe))),
            None => bail!(
                "--python {}: not a Python interpreter or environment (an interpreter is an \
                 executable file named python* in the bin/ folder of a prefix that has \
                 pyvenv.cfg or lib/pythonX.Y; or pass the prefix folder itself)",
                path.display()
            ),
        };
    }
    if let Some(text) = &opts.config_python {
        let path = opts.project_root.join(text);
        // A bare name that is no file in the project (`python = "python3"`) is a command,
        // looked up on PATH as a shell would.
        if !path.exists()
            && !text.contains(['/', '\\'])
            && let Some((prefix, exe)) = on_path(opts, &[text.as_str()], false)
        {
            return Ok(Some((FoundBy::Config, prefix, exe)));
        }
        return match prefix_of(&path) {
            Some((prefix, exe)) => Ok(Some((FoundBy::Config, prefix, exe))),
            None => {
                bail!("[tool.envscan] python = {text:?}: not a Python interpreter or environment")
            }
        };
    }
    let from_vars = [
        (FoundBy::VirtualEnv, "VIRTUAL_ENV", &opts.virtual_env),
        (FoundBy::CondaPrefix, "CONDA_PREFIX", &opts.conda_prefix),
    ];
    for (found_by, var, value) in from_vars {
        let Some(path) = value else { continue };
        // Under pre-commit, VIRTUAL_ENV is the hook's own environment, not the project's.
        if opts.no_path_python && is_own(opts, path) {
            continue;
        }
        match prefix_of(path) {
            Some((prefix, exe)) => return Ok(Some((found_by, prefix, exe))),
            None => diagnostics.push(
                Diagnostic::warning(
                    ENV_NOT_FOUND,
                    format!(
                        "{var} is set but {} is not a Python environment",
                        path.display()
                    ),
                )
                .with_hint("unset it or point it at an existing environment"),
            ),
        }
    }
    for name in [".venv", "venv"] {
        let path = opts.project_root.join(name);
        if path.is_dir()
            && let Some((prefix, exe)) = prefix_of(&path)
        {
            return Ok(Some((FoundBy::ProjectVenv, prefix, exe)));
        }
    }
    // With --no-path-python only an activated virtual environment's bin/ on PATH counts.
    let names = ["python3", "python3.exe", "python.exe"];
    Ok(
        on_path(opts, &names, opts.no_path_python)
            .map(|(prefix, exe)| (FoundBy::Path, prefix, exe)),
    )
}

/// The first of `names` on PATH that maps to a prefix (only virtual environments when
/// `venvs_only`), skipping envscan's own environment under --no-path-python.
fn on_path(
    opts: &DiscoverOptions,
    names: &[&str],
    venvs_only: bool,
) -> Option<(PathBuf, Option<PathBuf>)> {
    let path_var = opts.path_var.as_ref()?;
    for dir in std::env::split_paths(path_var) {
        for name in names {
            let candidate = dir.join(name);
            if !candidate.is_file() {
                continue;
            }
            let Some((prefix, exe)) = prefix_of(&candidate) else {
                continue;
            };
            if (venvs_only && !prefix.join("pyvenv.cfg").is_file())
                || (opts.no_path_python && is_own(opts, &prefix))
            {
                continue;
            }
            return Some((prefix, exe));
        }
    }
    None
}

/// Whether `path` is the environment envscan itself runs from.
fn is_own(opts: &DiscoverOptions, path: &Path) -> bool {
    opts.own_prefix
        .as_ref()
        .is_some_and(|own| fs_err::canonicalize(path).is_ok_and(|p| &p == own))
}

/// Whether a folder is a Python prefix: a venv, a conda prefix or a plain installation.
fn looks_like_prefix(dir: &Path) -> bool {
    dir.join("pyvenv.cfg").is_file()
        || dir.join("conda-meta").is_dir()
        || !layout::lib_folders(dir).is_empty()
        || dir.join("Lib").join("site-packages").is_dir()
}

fn executable_in(prefix: &Path) -> Option<PathBuf> {
    [
        "bin/python3",
        "bin/python",
        "python.exe",
        "Scripts/python.exe",
    ]
    .iter()
    .map(|rel| prefix.join(rel))
    .find(|p| p.is_file())
}

/// The prefix of an interpreter path or prefix folder, and the interpreter when known.
pub fn prefix_of(path: &Path) -> Option<(PathBuf, Option<PathBuf>)> {
    let absolute = std::path::absolute(path).ok()?;
    if absolute.is_dir() {
        if looks_like_prefix(&absolute) {
            let exe = executable_in(&absolute);
            return Some((absolute, exe));
        }
        if absolute
            .file_name()
            .is_some_and(|n| n == "bin" || n == "Scripts")
        {
            let parent = absolute.parent()?;
            if looks_like_prefix(parent) {
                return Some((parent.to_path_buf(), executable_in(parent)));
            }
        }
        return None;
    }
    // `--python /etc/passwd` once "found" a Python at `/` (which has a lib/python3.X): a file
    // must look like an interpreter, and its prefix must be where interpreters live.
    if !is_interpreter_file(&absolute) {
        return None;
    }
    let exe_dir = absolute.parent()?;
    if exe_dir.join("pyvenv.cfg").is_file() {
        return Some((exe_dir.to_path_buf(), Some(absolute.clone())));
    }
    if exe_dir
        .file_name()
        .is_some_and(|n| n == "bin" || n == "Scripts")
        && let Some(dir) = exe_dir.parent()
        && looks_like_prefix(dir)
    {
        return Some((dir.to_path_buf(), Some(absolute.clone())));
    }
    // A symlink such as /usr/bin/python3 → python3.11, or a Windows base install.
    if exe_dir.join("Lib").join("os.py").is_file() {
        return Some((exe_dir.to_path_buf(), Some(absolute.clone())));
    }
    let resolved = fs_err::canonicalize(&absolute).ok()?;
    if resolved != absolute && is_interpreter_file(&resolved) {
        let bin = resolved.parent()?;
        let dir = bin.parent()?;
        if bin.file_name().is_some_and(|n| n == "bin") && looks_like_prefix(dir) {
            return Some((dir.to_path_buf(), Some(absolute)));
        }
    }
    None
}

/// An executable regular file (after links) named like an interpreter: `python`,
/// `python3.12`, `pypy3`, `python.exe`.
fn is_interpreter_file(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    let named = path.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
        let n = n.to_ascii_lowercase();
        n.starts_with("python") || n.starts_with("pypy")
    });
    named && meta.is_file() && meta.permissions().mode() & 0o111 != 0
}

/// `3.11` or `3.11.7`: a major and a minor that fit, and a valid PEP 440 release.
fn is_usable_python_version(version: &str) -> bool {
    crate::settings::PythonVersion::parse(version).is_some()
        && super::pep508::parse_guarded::<pep440_rs::Version>(version).is_ok()
}

fn read_interpreter(
    opts: &DiscoverOptions,
    found_by: FoundBy,
    prefix: &Path,
    executable: Option<PathBuf>,
    diagnostics: &mut Vec<Diagnostic>,
) -> Interpreter {
    let prefix = fs_err::canonicalize(prefix).unwrap_or_else(|_| prefix.to_path_buf());
    let cfg_path = prefix.join("pyvenv.cfg");
    let cfg = match crate::fsread::read_lossy_capped(&cfg_path, crate::fsread::cap::CONFIG) {
        Ok(text) => Some(PyvenvCfg::parse(&text)),
        Err(err) if err.is_not_found() => None,
        Err(err) => {
            diagnostics.push(
                Diagnostic::error(PYVENV_CFG_UNREADABLE, err.to_string())
                    .with_file(cfg_path.display().to_string()),
            );
            None
        }
    };
    let queried = if opts.query_interpreter {
        executable
            .as_deref()
            .and_then(|exe| query(exe, diagnostics))
    } else {
        None
    };
    let base_prefix = queried
        .as_ref()
        .map(|q| PathBuf::from(&q.base_prefix))
        .or_else(|| cfg.as_ref().and_then(PyvenvCfg::implied_base_prefix))
        .unwrap_or_else(|| prefix.clone());
    let base_prefix = fs_err::canonicalize(&base_prefix).unwrap_or(base_prefix);
    let mut lib = layout::lib_folders(&prefix);
    if lib.is_empty() {
        lib = layout::lib_folders(&base_prefix);
    }
    // A version read from a file must be a usable one (`version = 3.99999999999999999999`
    // in pyvenv.cfg once made `lock` fail whole): otherwise a diagnostic, and the next source.
    let mut usable = |version: String, source: &Path| {
        if is_usable_python_version(&version) {
            return Some(version);
        }
        diagnostics.push(
            Diagnostic::warning(
                PYTHON_VERSION_UNKNOWN,
                format!("{version:?} is not a Python version; it is ignored"),
            )
            .with_file(source.display().to_string()),
        );
        None
    };
    let version = queried
        .as_ref()
        .map(|q| q.version.clone())
        .or_else(|| {
            cfg.as_ref()
                .and_then(|c| c.version.clone())
                .and_then(|v| usable(v, &cfg_path))
        })
        .or_else(|| {
            conda::python_version(&prefix).and_then(|v| usable(v, &prefix.join("conda-meta")))
        })
        .or_else(|| lib.first().map(|f| format!("{}.{}", f.major, f.minor)));
    let version = version.unwrap_or_else(|| {
        diagnostics.push(
            Diagnostic::warning(
                PYTHON_VERSION_UNKNOWN,
                format!(
                    "cannot tell the Python version of {}; assuming {DEFAULT_PYTHON_VERSION}",
                    prefix.display()
                ),
            )
            .with_hint("pass --query-interpreter to ask the interpreter"),
        );
        DEFAULT_PYTHON_VERSION.to_string()
    });
    let (major, minor) = crate::settings::PythonVersion::parse(&version)
        .map(|v| (v.major, v.minor))
        .unwrap_or((DEFAULT_PYTHON_VERSION.major, DEFAULT_PYTHON_VERSION.minor));
    let is_pypy_exe = executable
        .as_deref()
        .and_then(Path::file_name)
        .is_some_and(|n| n.to_string_lossy().contains("pypy"));
    let implementation = queried
        .as_ref()
        .map(|q| q.implementation.clone())
        .or_else(|| cfg.as_ref().and_then(|c| c.implementation.clone()))
        .or_else(|| {
            lib.iter()
                .find(|f| (f.major, f.minor) == (major, minor))
                .map(|f| f.implementation.to_string())
        })
        .unwrap_or_else(|| if is_pypy_exe { "pypy" } else { "cpython" }.to_string());
    Interpreter {
        implementation,
        version,
        major,
        minor,
        prefix,
        base_prefix,
        executable: queried.map(|q| PathBuf::from(q.executable)).or(executable),
        include_system_site_packages: cfg.is_some_and(|c| c.include_system_site_packages),
        found_by,
    }
}

#[derive(Deserialize)]
struct Queried {
    implementation: String,
    version: String,
    base_prefix: String,
    executable: String,
}

const QUERY_SCRIPT: &str = "import json, sys, platform; print(json.dumps({\
'implementation': sys.implementation.name, 'version': platform.python_version(), \
'base_prefix': sys.base_prefix, 'executable': sys.executable}))";

/// Runs the interpreter once to ask what the filesystem cannot say for sure.
fn query(exe: &Path, diagnostics: &mut Vec<Diagnostic>) -> Option<Queried> {
    let failed = |message: String| {
        Diagnostic::warning(QUERY_INTERPRETER_FAILED, message)
            .with_file(exe.display().to_string())
            .with_hint("the environment is read from the filesystem instead")
    };
    let output = match std::process::Command::new(exe)
        .args(["-I", "-c", QUERY_SCRIPT])
        .output()
    {
        Ok(output) => output,
        Err(err) => {
            diagnostics.push(failed(format!("cannot run the interpreter: {err}")));
            return None;
        }
    };
    if !output.status.success() {
        diagnostics.push(failed(format!(
            "the interpreter exited with {}: {}",
            output.status,
            String::from_utf8_lossy(&output.stderr).trim()
        )));
        return None;
    }
    match serde_json::from_slice(&output.stdout) {
        Ok(q) => Some(q),
        Err(err) => {
            diagnostics.push(failed(format!(
                "unexpected answer from the interpreter: {err}"
            )));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn venv(dir: &Path) {
        fs_err::create_dir_all(dir.join("lib/python3.11/site-packages")).unwrap();
        fs_err::create_dir_all(dir.join("bin")).unwrap();
        fs_err::write(dir.join("bin/python3"), "").unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            fs_err::set_permissions(
                dir.join("bin/python3"),
                std::fs::Permissions::from_mode(0o755),
            )
            .unwrap();
        }
        fs_err::write(
            dir.join("pyvenv.cfg"),
            "home = /nonexistent/bin\nversion = 3.11.4\n",
        )
        .unwrap();
    }

    #[test]
    fn python_flag_wins_over_virtual_env_and_project_venv() {
        let dir = tempfile::tempdir().unwrap();
        let (a, b, project) = (
            dir.path().join("a"),
            dir.path().join("b"),
            dir.path().join("p"),
        );
        venv(&a);
        venv(&b);
        venv(&project.join(".venv"));
        let mut opts = DiscoverOptions {
            project_root: project.clone(),
            python: Some(a.join("bin/python3")),
            virtual_env: Some(b.clone()),
            ..DiscoverOptions::default()
        };
        let mut diags = Vec::new();
        let (found_by, prefix, exe) = locate(&opts, &mut diags).unwrap().unwrap();
        assert_eq!((found_by, prefix), (FoundBy::Flag, a.clone()));
        assert_eq!(exe, Some(a.join("bin/python3")));
        opts.python = None;
        let (found_by, prefix, _) = locate(&opts, &mut diags).unwrap().unwrap();
        assert_eq!((found_by, prefix), (FoundBy::VirtualEnv, b));
        opts.virtual_env = None;
        let (found_by, prefix, _) = locate(&opts, &mut diags).unwrap().unwrap();
        assert_eq!(
            (found_by, prefix),
            (FoundBy::ProjectVenv, project.join(".venv"))
        );
    }

    #[test]
    fn virtual_env_pointing_nowhere_is_a_diagnostic_and_search_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        venv(&dir.path().join("venv"));
        let opts = DiscoverOptions {
            project_root: dir.path().to_path_buf(),
            virtual_env: Some(dir.path().join("gone")),
            ..DiscoverOptions::default()
        };
        let mut diags = Vec::new();
        let (found_by, _, _) = locate(&opts, &mut diags).unwrap().unwrap();
        assert_eq!(found_by, FoundBy::ProjectVenv);
        assert_eq!(diags[0].code, ENV_NOT_FOUND);
    }

    #[test]
    fn a_file_that_is_no_interpreter_names_no_environment() {
        // Regression (issue 14, defect 16): `--python /etc/passwd` used a Python at `/`.
        let dir = tempfile::tempdir().unwrap();
        fs_err::create_dir_all(dir.path().join("lib/python3.11")).unwrap();
        fs_err::create_dir_all(dir.path().join("etc")).unwrap();
        fs_err::write(dir.path().join("etc/passwd"), "root:x:0:0\n").unwrap();
        assert_eq!(prefix_of(&dir.path().join("etc/passwd")), None);
        // Named like one but not executable, or not in a bin/ folder: still not.
        fs_err::create_dir_all(dir.path().join("bin")).unwrap();
        fs_err::write(dir.path().join("bin/python3"), "").unwrap();
        assert_eq!(prefix_of(&dir.path().join("bin/python3")), None);
    }

    #[test]
    fn python_flag_naming_no_environment_is_fatal() {
        let dir = tempfile::tempdir().unwrap();
        let opts = DiscoverOptions {
            python: Some(dir.path().join("nothing")),
            ..DiscoverOptions::default()
        };
        assert!(locate(&opts, &mut Vec::new()).is_err());
    }

    #[test]
    fn interpreter_version_comes_from_pyvenv_cfg() {
        let dir = tempfile::tempdir().unwrap();
        venv(dir.path());
        let python = read_interpreter(
            &DiscoverOptions::default(),
            FoundBy::Flag,
            dir.path(),
            None,
            &mut Vec::new(),
        );
        assert_eq!(python.version, "3.11.4");
        assert_eq!((python.major, python.minor), (3, 11));
        assert_eq!(python.base_prefix, PathBuf::from("/nonexistent"));
        assert_eq!(python.implementation, "cpython");
    }
}
