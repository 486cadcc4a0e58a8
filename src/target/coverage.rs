//! Coverage: which file of a locked version the target installs, or why it has none.
//!
//! The target installer takes the wheel whose best tag ranks first in the target's list
//! ([`TagPriority`]); without one it builds the sdist, which works anywhere for pure Python
//! and needs a compiler (and the libraries) otherwise. Whether an sdist needs a compiler is
//! told by the installed build (it has compiled modules) or by the version's wheels (one for
//! a platform or an ABI means compiled code); when neither tells, it is said to be unknown.
//! Yanked files are skipped as installers skip them, unless nothing else is left.

use schemars::JsonSchema;
use serde::Serialize;

use super::priority::TagPriority;
use crate::index::{DistFile, DistKind};

/// What the target installs of one locked version.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Coverage {
    /// A wheel for the target: the one its installer picks.
    Wheel { file: String },
    /// No wheel fits; the sdist is built there.
    Sdist { file: String, build: Build },
    /// Nothing installs there. `instead` says what exists.
    Nothing { instead: String },
}

/// What building an sdist on the target takes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Build {
    PurePython,
    NeedsCompiler,
    Unknown,
}

impl Coverage {
    /// True when the target cannot install the version without help: no file, or only an
    /// sdist of compiled code.
    pub fn is_gap(&self) -> bool {
        matches!(
            self,
            Coverage::Nothing { .. }
                | Coverage::Sdist {
                    build: Build::NeedsCompiler,
                    ..
                }
        )
    }

    /// The file the target installs, if any.
    pub fn file(&self) -> Option<&str> {
        match self {
            Coverage::Wheel { file } | Coverage::Sdist { file, .. } => Some(file),
            Coverage::Nothing { .. } => None,
        }
    }

    /// One line for reports: `wheel torch-...whl`, `sdist only (pure Python) x.tar.gz`.
    pub fn describe(&self) -> String {
        match self {
            Coverage::Wheel { file } => format!("wheel {file}"),
            Coverage::Sdist { file, build } => format!(
                "sdist only ({}): {file}",
                match build {
                    Build::PurePython => "pure Python, builds anywhere",
                    Build::NeedsCompiler => "compiled code: needs a C compiler on the target",
                    Build::Unknown => "may need a compiler",
                }
            ),
            Coverage::Nothing { instead } => format!("nothing installs: {instead}"),
        }
    }
}

/// The coverage of one version's `files` on the target. `installed_compiled`: the installed
/// build has compiled modules.
pub fn coverage(files: &[DistFile], priority: &TagPriority, installed_compiled: bool) -> Coverage {
    let best = files
        .iter()
        .filter_map(|f| match &f.kind {
            DistKind::Wheel { tags } => Some((priority.rank(tags)?, &f.filename)),
            DistKind::Sdist => None,
        })
        .min();
    if let Some((_, file)) = best {
        return Coverage::Wheel { file: file.clone() };
    }
    let wheel_tags: Vec<&crate::index::WheelTags> = files
        .iter()
        .filter_map(|f| match &f.kind {
            DistKind::Wheel { tags } => Some(tags),
            DistKind::Sdist => None,
        })
        .collect();
    let compiled_wheels = wheel_tags
        .iter()
        .any(|t| t.platform.iter().any(|p| p != "any") || t.abi.iter().any(|a| a != "none"));
    let mut sdists: Vec<&String> = files
        .iter()
        .filter(|f| matches!(f.kind, DistKind::Sdist))
        .map(|f| &f.filename)
        .collect();
    sdists.sort_by_key(|name| (!name.ends_with(".tar.gz"), (*name).clone()));
    let build = if installed_compiled || compiled_wheels {
        Build::NeedsCompiler
    } else if wheel_tags.is_empty() {
        // Nothing but the installed build tells, and it is pure Python.
        Build::PurePython
    } else {
        Build::Unknown
    };
    if let Some(file) = sdists.first() {
        if build == Build::NeedsCompiler {
            return Coverage::Nothing {
                instead: instead(&wheel_tags, true, &priority.interpreter),
            };
        }
        return Coverage::Sdist {
            file: (*file).clone(),
            build,
        };
    }
    Coverage::Nothing {
        instead: instead(&wheel_tags, false, &priority.interpreter),
    }
}

/// "only macosx_11_0_arm64 and win_amd64 wheels; sdist needs a C compiler".
fn instead(wheels: &[&crate::index::WheelTags], compiled_sdist: bool, interpreter: &str) -> String {
    let mut platforms: Vec<String> = wheels
        .iter()
        .flat_map(|t| {
            // A wheel for another Python (`cp312` for a cp311 target) says which one.
            let other_python = !t.python.iter().any(|p| {
                p == interpreter || p.starts_with("py") || t.abi.iter().any(|a| a == "abi3")
            });
            t.platform.iter().map(move |p| {
                if other_python {
                    format!("{p} ({})", t.python.join("."))
                } else {
                    p.clone()
                }
            })
        })
        .collect();
    platforms.sort();
    platforms.dedup();
    let wheels = match platforms.as_slice() {
        [] => "no wheels".to_string(),
        [one] => format!("only {one} wheels"),
        [rest @ .., last] => format!("only {} and {last} wheels", rest.join(", ")),
    };
    let sdist = if compiled_sdist {
        "sdist needs a C compiler"
    } else {
        "no sdist"
    };
    format!("{wheels}; {sdist}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::index::WheelTags;
    use crate::target::TargetPlatform;

    fn file(name: &str) -> DistFile {
        DistFile {
            filename: name.to_string(),
            url: format!("https://files.example/{name}"),
            size: Some(1),
            sha256: Some("00".repeat(32)),
            requires_python: None,
            yanked: false,
            kind: match WheelTags::of_filename(name) {
                Some(tags) => DistKind::Wheel { tags },
                None => DistKind::Sdist,
            },
        }
    }

    fn on(target: &str, names: &[&str], compiled: bool) -> Coverage {
        let target = TargetPlatform::parse(target).unwrap().with_python(3, 11);
        let files: Vec<DistFile> = names.iter().map(|n| file(n)).collect();
        coverage(&files, &TagPriority::new(&target), compiled)
    }

    #[test]
    fn the_best_ranked_wheel_is_the_one_the_target_installs() {
        let names = [
            "numpy-2.0.0-cp311-cp311-macosx_14_0_arm64.whl",
            "numpy-2.0.0-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl",
            "numpy-2.0.0-cp311-cp311-musllinux_1_2_x86_64.whl",
            "numpy-2.0.0.tar.gz",
        ];
        let wheel = |target| on(target, &names, true).file().map(str::to_string);
        assert_eq!(wheel("linux-x86_64").as_deref(), Some(names[1]));
        assert_eq!(wheel("linux-x86_64-musl1.2").as_deref(), Some(names[2]));
        assert_eq!(wheel("macos-arm64-14").as_deref(), Some(names[0]));
    }

    #[test]
    fn platform_only_files_say_what_exists_instead() {
        let names = [
            "pyobjc_core-10.0-cp311-cp311-macosx_11_0_arm64.whl",
            "pyobjc_core-10.0-cp311-cp311-win_amd64.whl",
            "pyobjc_core-10.0.tar.gz",
        ];
        let cov = on("linux-x86_64", &names, false);
        assert!(cov.is_gap());
        assert_eq!(
            cov,
            Coverage::Nothing {
                instead: "only macosx_11_0_arm64 and win_amd64 wheels; sdist needs a C compiler"
                    .into()
            }
        );
        let wheels_only = on("linux-x86_64", &names[..1], false);
        assert_eq!(
            wheels_only,
            Coverage::Nothing {
                instead: "only macosx_11_0_arm64 wheels; no sdist".into()
            }
        );
    }

    #[test]
    fn an_sdist_is_pure_python_unless_the_build_or_the_wheels_say_otherwise() {
        let pure = on("linux-aarch64", &["tiny-1.0.tar.gz"], false);
        assert_eq!(
            pure,
            Coverage::Sdist {
                file: "tiny-1.0.tar.gz".into(),
                build: Build::PurePython
            }
        );
        assert!(!pure.is_gap());
        assert!(on("linux-aarch64", &["tiny-1.0.tar.gz"], true).is_gap());
        let old_python = on(
            "linux-x86_64",
            &["x-1.0-py2-none-any.whl", "x-1.0.tar.gz"],
            false,
        );
        assert!(matches!(
            old_python,
            Coverage::Sdist {
                build: Build::Unknown,
                ..
            }
        ));
        let newer_python = on(
            "linux-x86_64",
            &["x-1.0-cp312-cp312-manylinux_2_17_x86_64.whl"],
            false,
        );
        assert_eq!(
            newer_python,
            Coverage::Nothing {
                instead: "only manylinux_2_17_x86_64 (cp312) wheels; no sdist".into()
            }
        );
    }
}
