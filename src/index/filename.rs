//! Distribution file names → project name, version and kind.
//!
//! - Wheels (<https://packaging.python.org/en/latest/specifications/binary-distribution-format/#file-name-convention>):
//!   `{name}-{version}(-{build})?-{python}-{abi}-{platform}.whl`, where `name` escapes `-` as
//!   `_` (so `zope_interface-6.0-...`), hence exactly five or six dash-separated fields.
//!   Ex) `numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl`.
//! - Sdists: `{name}-{version}.tar.gz` or `.zip` (and the legacy `.tar.bz2`, `.tar.xz`,
//!   `.tgz` that old releases still carry). Old sdists keep the project's own spelling, dashes
//!   included (`python-dateutil-2.8.2.tar.gz`), so the split point is the dash whose left side
//!   normalises to the project name and whose right side is a PEP 440 version.
//! - Eggs, `.exe` and `.msi` installers, and files of other projects are not ours: `None`.
//!
//! Versions compare as PEP 440 versions (`1.0` equals `1.0.0`, `1.0RC1` equals `1.0rc1`).

use std::str::FromStr;

use pep440_rs::Version;

use super::DistKind;
use super::tags::WheelTags;
use crate::names::PackageName;

pub const SDIST_EXTENSIONS: &[&str] = &[".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz"];

/// What a file name says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DistFilename {
    pub version: Version,
    pub kind: DistKind,
}

/// Parses `filename` as a wheel or sdist of `project`; `None` when it is neither, or belongs
/// to another project.
pub fn parse_dist_filename(filename: &str, project: &PackageName) -> Option<DistFilename> {
    if let Some(stem) = filename.strip_suffix(".whl") {
        let parts: Vec<&str> = stem.split('-').collect();
        let (name, version, build) = match parts.len() {
            5 => (parts[0], parts[1], None),
            6 => (parts[0], parts[1], Some(parts[2])),
            _ => return None,
        };
        if PackageName::new(name) != *project {
            return None;
        }
        let version = Version::from_str(version).ok()?;
        let n = parts.len();
        let mut tags = WheelTags::from_fields(parts[n - 3], parts[n - 2], parts[n - 1])?;
        if let Some(build) = build {
            if !build.starts_with(|c: char| c.is_ascii_digit()) {
                return None;
            }
            tags.build = Some(build.to_string());
        }
        return Some(DistFilename {
            version,
            kind: DistKind::Wheel { tags },
        });
    }
    let lower = filename.to_ascii_lowercase();
    let extension = SDIST_EXTENSIONS.iter().find(|ext| lower.ends_with(*ext))?;
    let stem = &filename[..filename.len() - extension.len()];
    stem.match_indices('-').find_map(|(dash, _)| {
        if PackageName::new(&stem[..dash]) != *project {
            return None;
        }
        let version = Version::from_str(&stem[dash + 1..]).ok()?;
        Some(DistFilename {
            version,
            kind: DistKind::Sdist,
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(filename: &str, project: &str) -> Option<(String, bool)> {
        parse_dist_filename(filename, &PackageName::new(project)).map(|f| {
            (
                f.version.to_string(),
                matches!(f.kind, DistKind::Wheel { .. }),
            )
        })
    }

    #[test]
    fn wheel_names_with_escaped_names_and_build_tags_parse() {
        assert_eq!(
            parse(
                "zope_interface-6.0-cp311-cp311-manylinux_2_17_x86_64.whl",
                "zope.interface"
            ),
            Some(("6.0".into(), true))
        );
        let built =
            parse_dist_filename("pkg-1.0-2-py3-none-any.whl", &PackageName::new("pkg")).unwrap();
        let DistKind::Wheel { tags } = built.kind else {
            panic!("not a wheel")
        };
        assert_eq!(tags.build.as_deref(), Some("2"));
        assert_eq!(tags.platform, ["any"]);
    }

    #[test]
    fn sdist_names_keep_dashes_in_the_project_name() {
        assert_eq!(
            parse("python-dateutil-2.8.2.tar.gz", "python_dateutil"),
            Some(("2.8.2".into(), false))
        );
        assert_eq!(
            parse("PyYAML-6.0.1.zip", "pyyaml"),
            Some(("6.0.1".into(), false))
        );
        assert_eq!(
            parse("numpy-1.26.4.tar.gz", "numpy"),
            Some(("1.26.4".into(), false))
        );
    }

    #[test]
    fn files_of_other_projects_and_other_formats_are_not_ours() {
        assert_eq!(parse("numpy-1.26.4.tar.gz", "numpy-quaternion"), None);
        assert_eq!(parse("numpy_quaternion-1.0.tar.gz", "numpy"), None);
        assert_eq!(parse("six-1.16.0-py2.7.egg", "six"), None);
        assert_eq!(parse("pkg-1.0.win32.exe", "pkg"), None);
        assert_eq!(parse("pkg-notaversion.tar.gz", "pkg"), None);
    }

    #[test]
    fn versions_compare_by_pep_440() {
        let a = parse_dist_filename("pkg-1.0.tar.gz", &PackageName::new("pkg")).unwrap();
        assert_eq!(a.version, Version::from_str("1.0.0").unwrap());
        let rc = parse_dist_filename("pkg-2.0RC1.tar.gz", &PackageName::new("pkg")).unwrap();
        assert_eq!(rc.version, Version::from_str("2.0rc1").unwrap());
    }
}
