//! What may be pasted into a Dockerfile: every value of a build plan checked against the
//! grammar of the place it goes, and a plan file read as the untrusted input it is.
//!
//! The Dockerfile renderer quotes what it can (`ENV` values, the `ENTRYPOINT` exec form), and
//! everything else is checked here first, so a hostile value is an error, never an instruction:
//! - image references follow the OCI distribution grammar (`[host[:port]/]path[:tag][@digest]`);
//! - conda environment names are `[A-Za-z0-9_][A-Za-z0-9._-]*` (they go into `RUN` and `ENV`
//!   unquoted, and conda itself refuses `/`, spaces, `:` and `#`);
//! - `ENV` keys are `[A-Za-z_][A-Za-z0-9_]*`; values hold no control character (a newline
//!   would start a new instruction, and cannot be quoted in a Dockerfile), and no backslash
//!   at the end or before a quote (a line continuation to some tools, a parse error to
//!   hadolint);
//! - file names (lock, conda file, archives) are `[A-Za-z0-9._+-]+` and not `.`/`..`;
//! - folders in the image are absolute, of the same characters and `/`, without `..`;
//! - the cache key is 64 lower-case hex digits.
//!
//! The checks are written here rather than taken from a crate: no small, kept crate covers
//! Dockerfile value grammars, and the OCI reference grammar is a dozen lines.

use std::path::Path;

use super::archive::ArchiveManifest;
use super::plan::{BuildPlan, SCHEMA_VERSION, Step};
use crate::fsread;

/// A plan or manifest file that cannot be used: named by path and field.
#[derive(Debug, thiserror::Error)]
pub enum PlanFileError {
    #[error(transparent)]
    Read(#[from] fsread::ReadError),
    #[error("{path} is not {what}: {field}: {message}")]
    Invalid {
        path: String,
        what: &'static str,
        field: String,
        message: String,
    },
}

/// Reads and checks a build plan file.
pub fn read_plan(path: &Path) -> Result<BuildPlan, PlanFileError> {
    let plan: BuildPlan = read_json(path, "an envscan build plan")?;
    plan.validate()
        .map_err(|(field, message)| invalid(path, "an envscan build plan", field, message))?;
    Ok(plan)
}

/// Reads and checks a pack manifest: archive names and destinations as in a plan.
pub fn read_manifest(path: &Path) -> Result<ArchiveManifest, PlanFileError> {
    let what = "an envscan pack manifest";
    let manifest: ArchiveManifest = read_json(path, what)?;
    for (i, entry) in manifest.archives.iter().enumerate() {
        let checks = [
            (
                format!("archives[{i}].source"),
                check_file_name(&entry.source),
            ),
            (
                format!("archives[{i}].archive"),
                check_file_name(&entry.archive),
            ),
            (
                format!("archives[{i}].destination"),
                check_image_folder(&entry.destination),
            ),
        ];
        for (field, result) in checks {
            result.map_err(|message| invalid(path, what, field, message))?;
        }
    }
    Ok(manifest)
}

fn invalid(path: &Path, what: &'static str, field: String, message: String) -> PlanFileError {
    PlanFileError::Invalid {
        path: path.display().to_string(),
        what,
        field,
        message,
    }
}

fn read_json<T: serde::de::DeserializeOwned>(
    path: &Path,
    what: &'static str,
) -> Result<T, PlanFileError> {
    let text = fsread::read_to_string_capped(path, fsread::cap::OUTPUT)?;
    let mut json = serde_json::Deserializer::from_str(&text);
    let value = serde_path_to_error::deserialize(&mut json).map_err(|err| {
        let field = match err.path().to_string() {
            p if p == "." => "(top level)".to_string(),
            p => p,
        };
        let inner = err.inner();
        invalid(
            path,
            what,
            field,
            format!("{inner} (line {}, column {})", inner.line(), inner.column()),
        )
    })?;
    json.end()
        .map_err(|err| invalid(path, what, "(end)".into(), err.to_string()))?;
    Ok(value)
}

impl BuildPlan {
    /// Checks every value the Dockerfile uses; the error names the field.
    pub fn validate(&self) -> Result<(), (String, String)> {
        let field = |name: &str, result: Result<(), String>| {
            result.map_err(|message| (name.to_string(), message))
        };
        if self.schema_version != SCHEMA_VERSION {
            return Err((
                "schema_version".into(),
                format!("{} is not {SCHEMA_VERSION}", self.schema_version),
            ));
        }
        field("base_image", check_image_reference(&self.base_image))?;
        field("python", check_python_version(&self.python))?;
        field("cache_key", check_cache_key(&self.cache_key))?;
        for (i, step) in self.steps.iter().enumerate() {
            let at = |name: &str| format!("steps[{i}].{name}");
            match step {
                Step::CreateEnv {
                    file,
                    name,
                    channels,
                    dependencies,
                } => {
                    field(&at("file"), check_file_name(file))?;
                    field(&at("name"), check_env_name(name))?;
                    for channel in channels {
                        field(&at("channels"), check_channel(channel))?;
                    }
                    for spec in dependencies {
                        field(&at("dependencies"), check_conda_spec(spec))?;
                    }
                }
                Step::InstallLock {
                    file,
                    installer: _,
                    indexes,
                } => {
                    field(&at("file"), check_file_name(file))?;
                    for index in indexes {
                        field(&at("indexes"), check_index_url(index))?;
                    }
                }
                Step::Unpack {
                    source,
                    destination,
                }
                | Step::BuildLocal {
                    source,
                    destination,
                } => {
                    field(&at("source"), check_file_name(source))?;
                    field(&at("destination"), check_image_folder(destination))?;
                }
                Step::SetEnv { variables } => {
                    for (key, value) in variables {
                        field(&at("variables"), check_env_variable(key, value))?;
                    }
                }
                Step::Workdir { path } => field(&at("path"), check_image_folder(path))?,
                Step::Entrypoint { command } => {
                    if command.iter().any(|a| a.contains('\0')) {
                        return Err((at("command"), "an argument holds a NUL character".into()));
                    }
                }
            }
        }
        Ok(())
    }
}

/// An index URL in a plan: http or https, and never with credentials.
pub fn check_index_url(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|e| format!("{text:?} is not a URL: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("{text:?} is not an http or https URL"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("an index URL in the plan carries credentials".into());
    }
    Ok(())
}

/// An OCI image reference: `[host[:port]/]path[:tag][@algorithm:hex]`.
pub fn check_image_reference(text: &str) -> Result<(), String> {
    let bad = |why: &str| Err(format!("{text:?} is not an image reference: {why}"));
    if text.is_empty() || text.len() > 255 {
        return bad("it must be 1 to 255 characters");
    }
    let (rest, digest) = match text.split_once('@') {
        Some((rest, digest)) => (rest, Some(digest)),
        None => (text, None),
    };
    if let Some(digest) = digest {
        let Some((algorithm, hex)) = digest.split_once(':') else {
            return bad("the digest has no `algorithm:`");
        };
        let algorithm_ok = algorithm.starts_with(|c: char| c.is_ascii_alphabetic())
            && algorithm
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "-_+.".contains(c));
        if !algorithm_ok || hex.len() < 32 || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return bad("the digest is not `algorithm:hex`");
        }
    }
    // A tag follows the last `:` that comes after the last `/` (a port's `:` comes before).
    let last_slash = rest.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match rest[last_slash..].rfind(':') {
        Some(i) => (&rest[..last_slash + i], Some(&rest[last_slash + i + 1..])),
        None => (rest, None),
    };
    if let Some(tag) = tag {
        let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
        let ok = tag.len() <= 128
            && tag.starts_with(word)
            && tag.chars().all(|c| word(c) || c == '.' || c == '-');
        if !ok {
            return bad("the tag must be letters, digits, `_`, `.` or `-` (at most 128)");
        }
    }
    let mut components: Vec<&str> = name.split('/').collect();
    if components.len() > 1 {
        let first = components[0];
        if first.contains(['.', ':'])
            || first == "localhost"
            || first.chars().any(|c| c.is_ascii_uppercase())
        {
            if !is_domain(first) {
                return bad("the registry is not `host[:port]`");
            }
            components.remove(0);
        }
    }
    if components.iter().all(|c| is_path_component(c)) {
        Ok(())
    } else {
        bad("a name part must be lower-case letters and digits joined by `.`, `_`, `__` or `-`")
    }
}

fn is_domain(text: &str) -> bool {
    let (host, port) = match text.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (text, None),
    };
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()));
    let label_ok = |label: &str| {
        !label.is_empty()
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
    };
    port_ok && host.split('.').all(label_ok)
}

fn is_path_component(text: &str) -> bool {
    let alnum = |c: char| c.is_ascii_lowercase() || c.is_ascii_digit();
    if !text.starts_with(alnum) || !text.ends_with(alnum) {
        return false;
    }
    // Separators: one `.` or `_`, `__`, or any run of `-`.
    let mut run = String::new();
    for c in text.chars() {
        if alnum(c) {
            let ok = run.is_empty()
                || run == "."
                || run == "_"
                || run == "__"
                || run.chars().all(|c| c == '-');
            if !ok {
                return false;
            }
            run.clear();
        } else if matches!(c, '.' | '_' | '-') {
            run.push(c);
        } else {
            return false;
        }
    }
    true
}

/// A conda environment name that is safe unquoted in a shell and an `ENV` line.
pub fn check_env_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && name.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not an environment name: use letters, digits, `.`, `_` and `-`, starting with a letter, digit or `_`"
        ))
    }
}

/// The environment name for a project folder that sets none: the folder's name with every
/// character an environment name cannot hold replaced by `-`; `envscan` when nothing is left.
pub fn env_name_from_folder(folder: &str) -> String {
    let mapped: String = folder
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-') {
                c
            } else {
                '-'
            }
        })
        .collect();
    let trimmed = mapped.trim_start_matches(['.', '-']);
    let name: String = trimmed.chars().take(128).collect();
    if name.trim_matches('-').is_empty() {
        "envscan".to_string()
    } else {
        name
    }
}

/// An `ENV` key and value: the key by the variable-name grammar, the value free of control
/// characters (it is quoted, but a newline cannot be).
pub fn check_env_variable(key: &str, value: &str) -> Result<(), String> {
    let key_ok = key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if !key_ok {
        return Err(format!(
            "{key:?} is not a variable name: use letters, digits and `_`, not starting with a digit"
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(format!(
            "the value of {key} holds a control character (a newline?)"
        ));
    }
    // Docker reads `"x \\"` right, but a trailing backslash is a line continuation to tools
    // that do not track quotes, and hadolint's parser rejects a backslash before a quote:
    // refused rather than rendered in a form that tools disagree on.
    if value.ends_with('\\') || value.contains("\\\"") {
        return Err(format!(
            "the value of {key} has a backslash at its end or before a quote, which Dockerfile tools read differently"
        ));
    }
    Ok(())
}

/// A file name the Dockerfile names in the build context.
/// A conda channel: a name (`conda-forge`, `nvidia`) or a credential-free `https://` URL,
/// pasted into `conda create -c` as it is.
pub fn check_channel(channel: &str) -> Result<(), String> {
    let name_ok = !channel.is_empty()
        && channel.len() <= 255
        && channel
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/'));
    let url_ok = channel.strip_prefix("https://").is_some_and(|rest| {
        !rest.is_empty()
            && rest.len() <= 255
            && rest
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '/' | ':'))
    });
    if name_ok || url_ok {
        Ok(())
    } else {
        Err(format!(
            "{channel:?} is not a channel: use a name of letters, digits, `.`, `_`, `-` and `/`, or an https:// URL without credentials"
        ))
    }
}

/// A conda match spec as envscan writes them: `name` or `name==version`, with the
/// characters conda names and versions use, pasted single-quoted into `conda create`.
pub fn check_conda_spec(spec: &str) -> Result<(), String> {
    let (name, version) = match spec.split_once("==") {
        Some((name, version)) => (name, Some(version)),
        None => (spec, None),
    };
    let name_ok = !name.is_empty()
        && name.len() <= 255
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    let version_ok = version.is_none_or(|v| {
        !v.is_empty()
            && v.len() <= 128
            && v.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '+' | '!' | '*'))
    });
    if name_ok && version_ok {
        Ok(())
    } else {
        Err(format!(
            "{spec:?} is not a pinned conda spec: use `name==version` with letters, digits and `._+!*`"
        ))
    }
}

pub fn check_file_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{name:?} is not a plain file name: use letters, digits, `.`, `_`, `-` and `+`"
        ))
    }
}

/// A relative path of plain file names, `..` allowed (an archive path in the lock).
pub fn check_relative_file(path: &str) -> Result<(), String> {
    path.split('/')
        .filter(|part| *part != "..")
        .try_for_each(check_file_name)
        .and_then(|()| match path.rsplit('/').next() {
            Some("..") | None => Err(format!("{path:?} does not end in a file name")),
            Some(_) => Ok(()),
        })
}

/// An absolute folder in the image.
pub fn check_image_folder(path: &str) -> Result<(), String> {
    let ok = path.starts_with('/')
        && path.len() <= 4096
        && path
            .split('/')
            .skip(1)
            .all(|part| part != ".." && part != ".")
        && path
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '+' | '/'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{path:?} is not an absolute folder of letters, digits, `.`, `_`, `-`, `+` and `/`"
        ))
    }
}

fn check_python_version(text: &str) -> Result<(), String> {
    let parts: Vec<&str> = text.split('.').collect();
    let ok = (2..=3).contains(&parts.len())
        && parts
            .iter()
            .all(|p| !p.is_empty() && p.len() <= 4 && p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        Ok(())
    } else {
        Err(format!("{text:?} is not a Python version X.Y.Z"))
    }
}

fn check_cache_key(text: &str) -> Result<(), String> {
    if text.len() == 64 && text.chars().all(|c| matches!(c, '0'..='9' | 'a'..='f')) {
        Ok(())
    } else {
        Err("not 64 lower-case hex digits (a sha256)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_references_follow_the_oci_grammar() {
        for good in [
            "condaforge/miniforge3:24.9.2-0",
            "ubuntu",
            "registry.example.com:5000/team/app:v1.2",
            "localhost/x",
            "ghcr.io/a/b@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "a__b/c-d---e:latest",
        ] {
            assert!(check_image_reference(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "Ubuntu",
            "ubuntu\nRUN id",
            "ubuntu AS x",
            "x$(id)",
            "ubuntu:`id`",
            "-x",
            "a/../b",
            "ubuntu:",
            "a@sha256:zz",
            "caf\u{e9}",
            "my\\\nimage",
        ] {
            assert!(check_image_reference(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn folder_names_become_safe_environment_names() {
        assert_eq!(env_name_from_folder("my proj"), "my-proj");
        assert_eq!(env_name_from_folder("x$(id)"), "x--id-");
        assert_eq!(env_name_from_folder("..."), "envscan");
        assert_eq!(env_name_from_folder("caf\u{e9}"), "caf-");
        for name in ["my proj", "x$(id)", "`a`", "a\nb", "\"q\"", "\\"] {
            assert!(
                check_env_name(&env_name_from_folder(name)).is_ok(),
                "{name:?}"
            );
        }
    }
}
