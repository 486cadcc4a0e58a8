//! The needed set: distributions that own an imported module, plus their `Requires-Dist`
//! closure with markers evaluated for the target environment.
//!
//! An extra is followed only when a needed distribution asks for it (`requests[socks]`); when a
//! distribution already visited is asked for a new extra, only the requirements that extra
//! adds are walked. Cycles end because each (distribution, extra) pair is visited once.
//! The project's own distributions (its editable or path installs) are not roots: what they
//! require is locked only when an import needs it, but the extras they ask for
//! (`requests[socks]`) are followed on every distribution that is needed anyway, as pip
//! installed them.
//! Requirements that are not installed, and installed versions outside a requirer's specifier,
//! are reported with pip check's wording.

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use pep508_rs::pep440_rs::Version;
use pep508_rs::{ExtraName, MarkerEnvironment, Requirement, VersionOrUrl};

use crate::diagnostic::{Code, Diagnostic};
use crate::names::PackageName;

pub const REQUIREMENT_NOT_INSTALLED: Code = Code("requirement-not-installed");
pub const REQUIREMENT_CONFLICT: Code = Code("requirement-conflict");

/// What the closure needs to know about an installed distribution.
pub struct Installed<'a> {
    /// As written in its metadata, for messages.
    pub display_name: &'a str,
    pub version: &'a str,
    pub parsed_version: Option<&'a Version>,
    /// Its `Requires-Dist` entries that parse.
    pub requires: Vec<&'a Requirement>,
}

/// Why a distribution is in the closure.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct RequiredBy {
    pub name: PackageName,
    /// The requirement as its metadata writes it.
    pub requirement: String,
}

#[derive(Debug, Default)]
pub struct Closure {
    /// Every needed distribution and the distributions that require it (empty for roots).
    pub needed: BTreeMap<PackageName, BTreeSet<RequiredBy>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Walks `Requires-Dist` from `roots`, applying the extras that the `own` distributions ask
/// for. `lookup` finds an installed distribution by name.
pub fn closure<'a>(
    roots: impl IntoIterator<Item = PackageName>,
    own: impl IntoIterator<Item = PackageName>,
    lookup: impl Fn(&PackageName) -> Option<Installed<'a>>,
    environment: &MarkerEnvironment,
) -> Closure {
    let mut result = Closure::default();
    // Requirement target -> (own distribution, requirement) for requirements with extras.
    let mut own_extras: BTreeMap<PackageName, Vec<(PackageName, &'a Requirement)>> =
        BTreeMap::new();
    for name in own {
        let Some(dist) = lookup(&name) else { continue };
        for requirement in dist.requires {
            if !requirement.extras.is_empty() && requirement.marker.evaluate(environment, &[]) {
                own_extras
                    .entry(PackageName::new(requirement.name.as_ref()))
                    .or_default()
                    .push((name.clone(), requirement));
            }
        }
    }
    let mut visited: BTreeMap<PackageName, BTreeSet<Option<ExtraName>>> = BTreeMap::new();
    let mut queue: VecDeque<(PackageName, Option<ExtraName>)> =
        roots.into_iter().map(|name| (name, None)).collect();
    let mut missing_reported = BTreeSet::new();

    while let Some((name, extra)) = queue.pop_front() {
        if !visited
            .entry(name.clone())
            .or_default()
            .insert(extra.clone())
        {
            continue;
        }
        result.needed.entry(name.clone()).or_default();
        if extra.is_none()
            && let Some(asked) = own_extras.remove(&name)
        {
            for (requirer, requirement) in asked {
                result
                    .needed
                    .entry(name.clone())
                    .or_default()
                    .insert(RequiredBy {
                        name: requirer,
                        requirement: requirement.to_string(),
                    });
                for extra in &requirement.extras {
                    queue.push_back((name.clone(), Some(extra.clone())));
                }
            }
        }
        let Some(dist) = lookup(&name) else { continue };
        let extras: Vec<ExtraName> = extra.iter().cloned().collect();
        for requirement in &dist.requires {
            // Requirements of the base distribution are walked with `extra` = None; an extra's
            // walk takes only what that extra adds.
            let applies = requirement.marker.evaluate(environment, &extras);
            let applies_without = requirement.marker.evaluate(environment, &[]);
            if !applies || (extra.is_some() && applies_without) {
                continue;
            }
            let target = PackageName::new(requirement.name.as_ref());
            result
                .needed
                .entry(target.clone())
                .or_default()
                .insert(RequiredBy {
                    name: name.clone(),
                    requirement: requirement.to_string(),
                });
            match lookup(&target) {
                None => {
                    if missing_reported.insert((name.clone(), target.clone())) {
                        result.diagnostics.push(Diagnostic::error(
                            REQUIREMENT_NOT_INSTALLED,
                            format!(
                                "{} {} requires {}, which is not installed.",
                                dist.display_name, dist.version, requirement.name
                            ),
                        ));
                    }
                }
                Some(installed) => {
                    if let Some(VersionOrUrl::VersionSpecifier(specifiers)) =
                        &requirement.version_or_url
                        && let Some(version) = installed.parsed_version
                        && !specifiers.contains(version)
                    {
                        result.diagnostics.push(Diagnostic::error(
                            REQUIREMENT_CONFLICT,
                            format!(
                                "{} {} has requirement {}, but you have {} {}.",
                                dist.display_name,
                                dist.version,
                                requirement,
                                installed.display_name,
                                installed.version
                            ),
                        ));
                    }
                }
            }
            queue.push_back((target.clone(), None));
            for extra in &requirement.extras {
                queue.push_back((target.clone(), Some(extra.clone())));
            }
        }
    }
    result
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    struct Fake {
        name: &'static str,
        version: &'static str,
        parsed: Version,
        requires: Vec<Requirement>,
    }

    fn fake(name: &'static str, version: &'static str, requires: &[&str]) -> Fake {
        Fake {
            name,
            version,
            parsed: Version::from_str(version).unwrap(),
            requires: requires
                .iter()
                .map(|r| Requirement::from_str(r).unwrap())
                .collect(),
        }
    }

    fn run(dists: &[Fake], roots: &[&str]) -> Closure {
        run_with_own(dists, roots, &[])
    }

    fn run_with_own(dists: &[Fake], roots: &[&str], own: &[&str]) -> Closure {
        let env =
            crate::target::marker_environment("3.11.7", &crate::target::TargetPlatform::default())
                .unwrap();
        closure(
            roots.iter().map(|r| PackageName::new(r)),
            own.iter().map(|r| PackageName::new(r)),
            |name| {
                dists
                    .iter()
                    .find(|d| PackageName::new(d.name) == *name)
                    .map(|d| Installed {
                        display_name: d.name,
                        version: d.version,
                        parsed_version: Some(&d.parsed),
                        requires: d.requires.iter().collect(),
                    })
            },
            &env,
        )
    }

    fn names(closure: &Closure) -> Vec<&str> {
        closure.needed.keys().map(PackageName::as_str).collect()
    }

    #[test]
    fn markers_are_evaluated_for_the_target_and_extras_followed_only_when_asked() {
        let dists = [
            fake(
                "app",
                "1.0",
                &["lib[fast]", "winonly; sys_platform == 'win32'"],
            ),
            fake(
                "lib",
                "2.0",
                &[
                    "base",
                    "speedups; extra == 'fast'",
                    "docs-tool; extra == 'docs'",
                ],
            ),
            fake("base", "1.0", &[]),
            fake("speedups", "1.0", &[]),
            fake("docs-tool", "1.0", &[]),
        ];
        let result = run(&dists, &["app"]);
        assert_eq!(names(&result), ["app", "base", "lib", "speedups"]);
        assert!(result.diagnostics.is_empty());
        let required_by = &result.needed[&PackageName::new("lib")];
        assert_eq!(required_by.first().unwrap().name.as_str(), "app");
    }

    #[test]
    fn the_own_distributions_extras_apply_to_what_is_needed_anyway() {
        let dists = [
            fake(
                "project",
                "0.1",
                &["requests[socks]", "pip", "lib[fast]", "unused[x]"],
            ),
            fake(
                "requests",
                "2.32.3",
                &["urllib3", "PySocks!=1.5.7,>=1.5.6; extra == 'socks'"],
            ),
            fake("urllib3", "2.2.3", &["lib"]),
            fake("pysocks", "1.7.1", &[]),
            fake("lib", "1", &["speedups; extra == 'fast'"]),
            fake("speedups", "1", &[]),
            fake("pip", "24.2", &[]),
            fake("unused", "1", &["x-dep; extra == 'x'"]),
            fake("x-dep", "1", &[]),
        ];
        let result = run_with_own(&dists, &["requests"], &["project"]);
        // lib is needed only through urllib3, after requests' extra was taken: it still gets
        // the extra the project asks for. What nothing needs (pip, unused) stays out.
        assert_eq!(
            names(&result),
            ["lib", "pysocks", "requests", "speedups", "urllib3"]
        );
        let requirers: Vec<&str> = result.needed[&PackageName::new("requests")]
            .iter()
            .map(|r| r.name.as_str())
            .collect();
        assert_eq!(requirers, ["project"]);
        assert_eq!(
            result.needed[&PackageName::new("pysocks")]
                .first()
                .unwrap()
                .name
                .as_str(),
            "requests"
        );
    }

    #[test]
    fn cycles_end() {
        let dists = [fake("a", "1", &["b"]), fake("b", "1", &["a"])];
        assert_eq!(names(&run(&dists, &["a"])), ["a", "b"]);
    }

    #[test]
    fn a_meta_package_stays_when_something_needed_requires_it() {
        // tensorflow (nothing importable of its own) over tensorflow-intel.
        let dists = [
            fake("app-lib", "1", &["tensorflow"]),
            fake("tensorflow", "2.15.0", &["tensorflow-intel==2.15.0"]),
            fake("tensorflow-intel", "2.15.0", &[]),
        ];
        assert_eq!(
            names(&run(&dists, &["app-lib"])),
            ["app-lib", "tensorflow", "tensorflow-intel"]
        );
    }

    #[test]
    fn version_conflicts_and_missing_requirements_read_like_pip_check() {
        let dists = [
            fake(
                "requests",
                "2.32.3",
                &["urllib3<3,>=1.21.1", "idna<4,>=2.5"],
            ),
            fake("urllib3", "0.9", &[]),
        ];
        let result = run(&dists, &["requests"]);
        let messages: Vec<&str> = result
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert!(
            messages.contains(&"requests 2.32.3 requires idna, which is not installed."),
            "{messages:?}"
        );
        assert!(
            messages
                .iter()
                .any(|m| m.starts_with("requests 2.32.3 has requirement urllib3")
                    && m.ends_with("but you have urllib3 0.9.")),
            "{messages:?}"
        );
    }
}
