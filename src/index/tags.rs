//! Wheel compatibility tags and whether a wheel installs on the target machine.
//!
//! Spec: <https://packaging.python.org/en/latest/specifications/platform-compatibility-tags/>.
//! A wheel name ends in `{python tag}-{abi tag}-{platform tag}.whl`; each may be a compressed
//! set (`py2.py3`, `manylinux_2_17_x86_64.manylinux2014_x86_64`), meaning every combination.
//! A wheel is usable when any combination is one the target accepts, following what
//! `packaging.tags.sys_tags()` yields for CPython:
//! - `cp311-cp311-<plat>`: the exact interpreter and its ABI;
//! - `cp3X-abi3-<plat>` for 3.2 ≤ 3.X ≤ the target (the stable ABI, `cp38-abi3` runs on 3.11);
//! - `py3-none-*`, `py3X-none-*` (X ≤ target minor), `cp311-none-*`;
//! - platform `any`, or one of the target's: `manylinux_X_Y_arch` with glibc X.Y ≤ the
//!   target's (legacy aliases `manylinux1` = 2.5, `manylinux2010` = 2.12, `manylinux2014` =
//!   2.17), `musllinux_X_Y_arch` only on a musl target, `macosx_X_Y_arch` with X.Y ≤ the
//!   target macOS and `universal2`/`intel` fat binaries, `win_amd64` / `win32` / `win_arm64`.
//!   `linux_x86_64` (built for one machine, refused by PyPI) is never usable.
//!
//! [`TargetPlatform::parse`] accepts, case-insensitively:
//! `linux`, `linux-ARCH` (glibc 2.28, as uv's default Linux target), `manylinux_X_Y_ARCH`,
//! `manylinux2014_ARCH` / `manylinux2010_ARCH` / `manylinux1_ARCH`, `musllinux_X_Y_ARCH`,
//! `macos`, `macos-ARCH` (macOS 14.0), `macosx_X_Y_ARCH`, `windows`, `windows-ARCH`,
//! `win_amd64`, `win32`, `win_arm64`. ARCH: `x86_64`/`amd64`/`x64`, `aarch64`/`arm64`,
//! `i686`/`x86`, `ppc64le`, `s390x`, `armv7l`. An sdist is always usable (it can be built).

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::settings::DEFAULT_PYTHON_VERSION;

/// The tag sets of a wheel file name, each split on `.`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct WheelTags {
    pub python: Vec<String>,
    pub abi: Vec<String>,
    pub platform: Vec<String>,
    /// The optional build tag (`1` in `pkg-1.0-1-py3-none-any.whl`).
    pub build: Option<String>,
}

impl WheelTags {
    /// The tags of the last three dash-separated fields of a wheel name (without `.whl`).
    pub(crate) fn from_fields(python: &str, abi: &str, platform: &str) -> Option<Self> {
        let split = |s: &str| -> Option<Vec<String>> {
            let tags: Vec<String> = s.split('.').map(str::to_ascii_lowercase).collect();
            tags.iter().all(|t| !t.is_empty()).then_some(tags)
        };
        Some(WheelTags {
            python: split(python)?,
            abi: split(abi)?,
            platform: split(platform)?,
            build: None,
        })
    }
}

/// The C library of a Linux target, with its version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Libc {
    Glibc(u16, u16),
    Musl(u16, u16),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Os {
    Linux(Libc),
    /// macOS `major.minor`.
    Macos(u16, u16),
    Windows,
}

/// The machine the environment is rebuilt on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetPlatform {
    pub os: Os,
    /// Canonical: `x86_64`, `aarch64`, `i686`, `ppc64le`, `s390x`, `armv7l`.
    pub arch: String,
    /// Python `(major, minor)`.
    pub python: (u8, u8),
    /// Interpreter tag prefix: `cp` for CPython, `pp` for PyPy.
    pub implementation: String,
}

impl Default for TargetPlatform {
    /// Linux x86_64 with glibc 2.28, CPython at envscan's default Python version.
    fn default() -> Self {
        TargetPlatform {
            os: Os::Linux(Libc::Glibc(2, 28)),
            arch: "x86_64".to_string(),
            python: (DEFAULT_PYTHON_VERSION.major, DEFAULT_PYTHON_VERSION.minor),
            implementation: "cp".to_string(),
        }
    }
}

impl fmt::Display for TargetPlatform {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor) = self.python;
        let python = format!("{}{major}{minor}", self.implementation);
        match self.os {
            Os::Linux(Libc::Glibc(a, b)) => write!(f, "manylinux_{a}_{b}_{} {python}", self.arch),
            Os::Linux(Libc::Musl(a, b)) => write!(f, "musllinux_{a}_{b}_{} {python}", self.arch),
            Os::Macos(a, b) => write!(f, "macosx_{a}_{b}_{} {python}", mac_arch(&self.arch)),
            Os::Windows => write!(f, "{} {python}", windows_tag(&self.arch)),
        }
    }
}

impl TargetPlatform {
    /// Parses a platform (see the module doc for the forms); Python comes from the default.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        let unknown = || {
            format!(
                "unknown target platform {text:?}; expected e.g. linux-x86_64, \
                 manylinux_2_28_x86_64, musllinux_1_2_aarch64, macos-arm64, windows-amd64"
            )
        };
        let with = |os: Os, arch: &str| -> Result<Self, String> {
            Ok(TargetPlatform {
                os,
                arch: canonical_arch(arch).ok_or_else(unknown)?,
                ..TargetPlatform::default()
            })
        };
        let glibc = Os::Linux(Libc::Glibc(2, 28));
        let macos = Os::Macos(14, 0);
        match text.as_str() {
            "linux" => return with(glibc, "x86_64"),
            "macos" | "darwin" => return with(macos, "arm64"),
            "windows" | "win" | "win_amd64" => return with(Os::Windows, "x86_64"),
            "win32" => return with(Os::Windows, "i686"),
            "win_arm64" => return with(Os::Windows, "aarch64"),
            _ => {}
        }
        if let Some(arch) = text.strip_prefix("linux-") {
            return with(glibc, arch);
        }
        if let Some(arch) = text
            .strip_prefix("macos-")
            .or_else(|| text.strip_prefix("darwin-"))
        {
            return with(macos, arch);
        }
        if let Some(arch) = text
            .strip_prefix("windows-")
            .or_else(|| text.strip_prefix("win-"))
        {
            return with(Os::Windows, arch);
        }
        if let Some((version, arch)) = legacy_manylinux(&text) {
            return with(Os::Linux(Libc::Glibc(version.0, version.1)), arch);
        }
        for (prefix, make) in [
            (
                "manylinux_",
                (|a, b| Os::Linux(Libc::Glibc(a, b))) as fn(u16, u16) -> Os,
            ),
            ("musllinux_", |a, b| Os::Linux(Libc::Musl(a, b))),
            ("macosx_", Os::Macos),
        ] {
            if let Some(rest) = text.strip_prefix(prefix) {
                let (a, b, arch) = versioned(rest).ok_or_else(unknown)?;
                return with(make(a, b), arch);
            }
        }
        Err(unknown())
    }

    /// The same platform for another Python version.
    pub fn with_python(mut self, major: u8, minor: u8) -> Self {
        self.python = (major, minor);
        self
    }

    fn platform_ok(&self, tag: &str) -> bool {
        if tag == "any" {
            return true;
        }
        match self.os {
            Os::Linux(Libc::Glibc(major, minor)) => {
                let found = legacy_manylinux(tag).or_else(|| {
                    let (a, b, arch) = versioned(tag.strip_prefix("manylinux_")?)?;
                    Some(((a, b), arch))
                });
                matches!(found, Some((version, arch)) if arch == self.arch && version <= (major, minor))
            }
            Os::Linux(Libc::Musl(major, minor)) => tag
                .strip_prefix("musllinux_")
                .and_then(versioned)
                .is_some_and(|(a, b, arch)| arch == self.arch && (a, b) <= (major, minor)),
            Os::Macos(major, minor) => {
                tag.strip_prefix("macosx_")
                    .and_then(versioned)
                    .is_some_and(|(a, b, arch)| {
                        (a, b) <= (major, minor) && mac_arch_ok(arch, &self.arch)
                    })
            }
            Os::Windows => tag == windows_tag(&self.arch),
        }
    }

    fn triple_ok(&self, python: &str, abi: &str, platform: &str) -> bool {
        if !self.platform_ok(platform) {
            return false;
        }
        let (major, minor) = self.python;
        let interpreter = format!("{}{major}{minor}", self.implementation);
        let Some((implementation, version)) = split_python_tag(python) else {
            return false;
        };
        match abi {
            "none" => {
                python == interpreter
                    || (implementation == "py"
                        && version.0 == major
                        && version.1.is_none_or(|m| m <= minor))
            }
            "abi3" => {
                self.implementation == "cp"
                    && implementation == "cp"
                    && version.0 == 3
                    && major == 3
                    && version.1.is_some_and(|m| (2..=minor).contains(&m))
            }
            abi => {
                python == interpreter
                    && (abi == interpreter
                        || ((major, minor) <= (3, 7) && abi == format!("{interpreter}m")))
            }
        }
    }
}

/// Whether a distribution file can be installed on `target`: a wheel when one of its tag
/// combinations fits, an sdist always (it can be built there), anything else never.
pub fn wheel_is_usable(filename: &str, target: &TargetPlatform) -> bool {
    let lower = filename.to_ascii_lowercase();
    let Some(stem) = lower.strip_suffix(".whl") else {
        return super::filename::SDIST_EXTENSIONS
            .iter()
            .any(|ext| lower.ends_with(ext));
    };
    let parts: Vec<&str> = stem.split('-').collect();
    if !(5..=6).contains(&parts.len()) {
        return false;
    }
    let n = parts.len();
    let Some(tags) = WheelTags::from_fields(parts[n - 3], parts[n - 2], parts[n - 1]) else {
        return false;
    };
    tags_are_usable(&tags, target)
}

/// Whether any combination of `tags` fits `target`.
pub fn tags_are_usable(tags: &WheelTags, target: &TargetPlatform) -> bool {
    tags.python.iter().any(|python| {
        tags.abi.iter().any(|abi| {
            tags.platform
                .iter()
                .any(|platform| target.triple_ok(python, abi, platform))
        })
    })
}

/// `cp311` → (`cp`, (3, Some(11))); `py3` → (`py`, (3, None)).
fn split_python_tag(tag: &str) -> Option<(&str, (u8, Option<u8>))> {
    let digits = tag.find(|c: char| c.is_ascii_digit())?;
    let (implementation, version) = tag.split_at(digits);
    if implementation.is_empty() || !version.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let major = version[..1].parse().ok()?;
    let minor = if version.len() > 1 {
        Some(version[1..].parse().ok()?)
    } else {
        None
    };
    Some((implementation, (major, minor)))
}

/// `2_17_x86_64` → (2, 17, `x86_64`).
fn versioned(rest: &str) -> Option<(u16, u16, &str)> {
    let mut parts = rest.splitn(3, '_');
    let a = parts.next()?.parse().ok()?;
    let b = parts.next()?.parse().ok()?;
    let arch = parts.next().filter(|a| !a.is_empty())?;
    Some((a, b, arch))
}

/// PEP 513/571/599 names → their glibc version (PEP 600).
fn legacy_manylinux(tag: &str) -> Option<((u16, u16), &str)> {
    [
        ("manylinux1_", (2, 5)),
        ("manylinux2010_", (2, 12)),
        ("manylinux2014_", (2, 17)),
    ]
    .into_iter()
    .find_map(|(prefix, version)| Some((version, tag.strip_prefix(prefix)?)))
}

fn canonical_arch(arch: &str) -> Option<String> {
    Some(
        match arch {
            "x86_64" | "amd64" | "x64" => "x86_64",
            "aarch64" | "arm64" => "aarch64",
            "i686" | "x86" | "i386" => "i686",
            "ppc64le" | "s390x" | "armv7l" | "riscv64" => arch,
            _ => return None,
        }
        .to_string(),
    )
}

fn mac_arch(arch: &str) -> &str {
    if arch == "aarch64" { "arm64" } else { arch }
}

fn mac_arch_ok(tag_arch: &str, target_arch: &str) -> bool {
    match target_arch {
        "x86_64" => matches!(
            tag_arch,
            "x86_64" | "intel" | "fat64" | "fat3" | "universal" | "universal2"
        ),
        "aarch64" => matches!(tag_arch, "arm64" | "universal2"),
        other => tag_arch == other,
    }
}

fn windows_tag(arch: &str) -> &'static str {
    match arch {
        "i686" => "win32",
        "aarch64" => "win_arm64",
        _ => "win_amd64",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linux311() -> TargetPlatform {
        TargetPlatform::default().with_python(3, 11)
    }

    #[test]
    fn pure_python_wheels_are_usable_everywhere() {
        for target in [
            "linux",
            "macos-arm64",
            "windows-amd64",
            "musllinux_1_2_aarch64",
        ] {
            let target = TargetPlatform::parse(target).unwrap();
            assert!(wheel_is_usable("six-1.16.0-py2.py3-none-any.whl", &target));
            assert!(wheel_is_usable("requests-2.32.3-py3-none-any.whl", &target));
        }
        assert!(!wheel_is_usable("old-1.0-py2-none-any.whl", &linux311()));
    }

    #[test]
    fn manylinux_wheel_with_compressed_platform_set_is_usable_on_default_linux() {
        let name = "numpy-1.26.4-cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64.whl";
        assert!(wheel_is_usable(name, &linux311()));
        assert!(!wheel_is_usable(
            name,
            &TargetPlatform::default().with_python(3, 12)
        ));
        let arm = TargetPlatform::parse("linux-arm64")
            .unwrap()
            .with_python(3, 11);
        assert!(!wheel_is_usable(name, &arm));
    }

    #[test]
    fn legacy_manylinux_aliases_map_to_their_glibc() {
        let old = TargetPlatform::parse("manylinux2010_x86_64")
            .unwrap()
            .with_python(3, 11);
        assert!(wheel_is_usable(
            "a-1-cp311-cp311-manylinux1_x86_64.whl",
            &old
        ));
        assert!(wheel_is_usable(
            "a-1-cp311-cp311-manylinux2010_x86_64.whl",
            &old
        ));
        assert!(!wheel_is_usable(
            "a-1-cp311-cp311-manylinux2014_x86_64.whl",
            &old
        ));
        assert!(!wheel_is_usable(
            "a-1-cp311-cp311-manylinux_2_28_x86_64.whl",
            &old
        ));
        assert!(wheel_is_usable(
            "a-1-cp311-cp311-manylinux_2_28_x86_64.whl",
            &linux311()
        ));
        assert!(!wheel_is_usable(
            "a-1-cp311-cp311-manylinux_2_34_x86_64.whl",
            &linux311()
        ));
    }

    #[test]
    fn abi3_wheel_runs_on_later_pythons_only() {
        let name = "cryptography-42.0.0-cp38-abi3-manylinux_2_28_x86_64.whl";
        assert!(wheel_is_usable(name, &linux311()));
        assert!(!wheel_is_usable(name, &linux311().with_python(3, 7)));
    }

    #[test]
    fn musllinux_is_not_usable_on_glibc_and_the_reverse() {
        let musl_wheel = "numpy-1.26.4-cp311-cp311-musllinux_1_1_x86_64.whl";
        assert!(!wheel_is_usable(musl_wheel, &linux311()));
        let musl = TargetPlatform::parse("musllinux_1_2_x86_64")
            .unwrap()
            .with_python(3, 11);
        assert!(wheel_is_usable(musl_wheel, &musl));
        assert!(!wheel_is_usable(
            "a-1-cp311-cp311-manylinux2014_x86_64.whl",
            &musl
        ));
    }

    #[test]
    fn macos_and_windows_targets_take_their_own_wheels() {
        let mac = TargetPlatform::parse("macos-arm64")
            .unwrap()
            .with_python(3, 11);
        assert!(wheel_is_usable(
            "numpy-1.26.4-cp311-cp311-macosx_11_0_arm64.whl",
            &mac
        ));
        assert!(wheel_is_usable(
            "x-1-cp311-cp311-macosx_10_9_universal2.whl",
            &mac
        ));
        assert!(!wheel_is_usable(
            "numpy-1.26.4-cp311-cp311-macosx_10_9_x86_64.whl",
            &mac
        ));
        assert!(!wheel_is_usable(
            "x-1-cp311-cp311-macosx_15_0_arm64.whl",
            &mac
        ));
        let win = TargetPlatform::parse("windows-amd64")
            .unwrap()
            .with_python(3, 11);
        assert!(wheel_is_usable(
            "numpy-1.26.4-cp311-cp311-win_amd64.whl",
            &win
        ));
        assert!(!wheel_is_usable("numpy-1.26.4-cp311-cp311-win32.whl", &win));
    }

    #[test]
    fn sdists_are_always_usable_and_linux_tag_never() {
        assert!(wheel_is_usable("numpy-1.26.4.tar.gz", &linux311()));
        assert!(wheel_is_usable("pkg-1.0.zip", &linux311()));
        assert!(!wheel_is_usable(
            "a-1-cp311-cp311-linux_x86_64.whl",
            &linux311()
        ));
        assert!(!wheel_is_usable("pkg-1.0.egg", &linux311()));
    }

    #[test]
    fn platform_strings_parse_to_their_targets() {
        let t = TargetPlatform::parse("manylinux_2_17_x86_64").unwrap();
        assert_eq!(t.os, Os::Linux(Libc::Glibc(2, 17)));
        assert_eq!(t.arch, "x86_64");
        assert_eq!(TargetPlatform::parse("Linux-AMD64").unwrap().arch, "x86_64");
        assert_eq!(
            TargetPlatform::parse("macos-arm64").unwrap().arch,
            "aarch64"
        );
        assert_eq!(TargetPlatform::parse("win32").unwrap().arch, "i686");
        assert!(TargetPlatform::parse("solaris-sparc").is_err());
        assert!(TargetPlatform::parse("manylinux_x_y_x86_64").is_err());
    }
}
