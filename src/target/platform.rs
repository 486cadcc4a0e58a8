//! The target machine's platform, as `--target-platform` and `[tool.envscan] target` name it.
//!
//! [`TargetPlatform::parse`] accepts, case-insensitively:
//! - `linux`, `linux-ARCH` (glibc 2.28, uv's default Linux target), `linux-ARCH-glibcX.Y`,
//!   `linux-ARCH-muslX.Y`, `manylinux_X_Y_ARCH`, `manylinux2014_ARCH` / `manylinux2010_ARCH` /
//!   `manylinux1_ARCH`, `musllinux_X_Y_ARCH`;
//! - `macos`, `macos-ARCH` (macOS 14.0), `macos-ARCH-X` / `macos-ARCH-X.Y`, `macosx_X_Y_ARCH`;
//! - `windows`, `windows-ARCH`, `win_amd64`, `win32`, `win_arm64`.
//!
//! ARCH: `x86_64`/`amd64`/`x64`, `aarch64`/`arm64`, `i686`/`x86`, `ppc64le`, `s390x`,
//! `armv7l`, `riscv64`. The CUDA version (`--target-cuda 12.4`) rides along; it is not part of
//! the platform string.

use std::fmt;

use crate::settings::DEFAULT_PYTHON_VERSION;

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

/// A CUDA toolkit version, `major.minor`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Cuda {
    pub major: u16,
    pub minor: u16,
}

impl Cuda {
    /// Parses `12.4` (also `12.4.1`, whose patch is dropped, and `12`).
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut parts = text.trim().split('.');
        let number = |part: Option<&str>| part.and_then(|p| p.parse::<u16>().ok());
        let major = number(parts.next());
        let minor = match parts.next() {
            None => Some(0),
            some => number(some),
        };
        match (major, minor) {
            (Some(major), Some(minor)) if major > 0 => Ok(Cuda { major, minor }),
            _ => Err(format!(
                "the CUDA version {text:?} is not MAJOR.MINOR, such as 12.4"
            )),
        }
    }
}

impl fmt::Display for Cuda {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.major, self.minor)
    }
}

/// The machine the environment is rebuilt on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TargetPlatform {
    pub os: Os,
    /// Canonical: `x86_64`, `aarch64`, `i686`, `ppc64le`, `s390x`, `armv7l`, `riscv64`.
    pub arch: String,
    /// Python `(major, minor)`.
    pub python: (u8, u8),
    /// Interpreter tag prefix: `cp` for CPython.
    pub implementation: String,
    /// The CUDA version of the target's GPU stack, when it has one.
    pub cuda: Option<Cuda>,
}

impl Default for TargetPlatform {
    /// Linux x86_64 with glibc 2.28, CPython at envscan's default Python version, no GPU.
    fn default() -> Self {
        TargetPlatform {
            os: Os::Linux(Libc::Glibc(2, 28)),
            arch: "x86_64".to_string(),
            python: (DEFAULT_PYTHON_VERSION.major, DEFAULT_PYTHON_VERSION.minor),
            implementation: "cp".to_string(),
            cuda: None,
        }
    }
}

impl fmt::Display for TargetPlatform {
    /// `manylinux_2_28_x86_64 cp311`, with ` cuda12.4` when the target has CUDA.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (major, minor) = self.python;
        let python = format!("{}{major}{minor}", self.implementation);
        write!(f, "{} {python}", self.platform_tag())?;
        if let Some(cuda) = self.cuda {
            write!(f, " cuda{cuda}")?;
        }
        Ok(())
    }
}

impl TargetPlatform {
    /// Parses a platform (see the module doc for the forms); Python comes from the default.
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim().to_ascii_lowercase();
        let unknown = || {
            format!(
                "unknown target platform {text:?}; expected e.g. linux-x86_64, \
                 linux-x86_64-glibc2.28, linux-aarch64-musl1.2, manylinux_2_28_x86_64, \
                 macos-arm64-14, windows-amd64"
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
        if let Some(rest) = text.strip_prefix("linux-") {
            let (arch, libc) = rest.split_once('-').unwrap_or((rest, ""));
            let os = if libc.is_empty() {
                glibc
            } else if let Some(version) = libc.strip_prefix("glibc") {
                let (a, b) = dotted(version).ok_or_else(unknown)?;
                Os::Linux(Libc::Glibc(a, b))
            } else if let Some(version) = libc.strip_prefix("musl") {
                // Bare `musl`: musl 1.2, as uv's musl target.
                let (a, b) = if version.is_empty() {
                    (1, 2)
                } else {
                    dotted(version).ok_or_else(unknown)?
                };
                Os::Linux(Libc::Musl(a, b))
            } else {
                return Err(unknown());
            };
            return with(os, arch);
        }
        if let Some(rest) = text
            .strip_prefix("macos-")
            .or_else(|| text.strip_prefix("darwin-"))
        {
            let (arch, version) = rest.split_once('-').unwrap_or((rest, ""));
            let os = if version.is_empty() {
                macos
            } else {
                let (a, b) = dotted(version).ok_or_else(unknown)?;
                Os::Macos(a, b)
            };
            return with(os, arch);
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

    /// The most specific platform tag of the target: `manylinux_2_28_x86_64`,
    /// `musllinux_1_2_aarch64`, `macosx_14_0_arm64`, `win_amd64`.
    pub fn platform_tag(&self) -> String {
        match self.os {
            Os::Linux(Libc::Glibc(a, b)) => format!("manylinux_{a}_{b}_{}", self.arch),
            Os::Linux(Libc::Musl(a, b)) => format!("musllinux_{a}_{b}_{}", self.arch),
            Os::Macos(a, b) => format!("macosx_{a}_{b}_{}", mac_arch(&self.arch)),
            Os::Windows => windows_tag(&self.arch).to_string(),
        }
    }

    /// `platform_machine` as that OS reports it (`arm64` on macOS, `AMD64` on Windows).
    pub fn machine(&self) -> &str {
        match self.os {
            Os::Linux(_) => &self.arch,
            Os::Macos(..) => mac_arch(&self.arch),
            Os::Windows => match self.arch.as_str() {
                "x86_64" => "AMD64",
                "aarch64" => "ARM64",
                "i686" => "x86",
                other => other,
            },
        }
    }

    /// `sys_platform` of the target.
    pub fn sys_platform(&self) -> &'static str {
        match self.os {
            Os::Linux(_) => "linux",
            Os::Macos(..) => "darwin",
            Os::Windows => "win32",
        }
    }

    /// `platform_system` of the target.
    pub fn platform_system(&self) -> &'static str {
        match self.os {
            Os::Linux(_) => "Linux",
            Os::Macos(..) => "Darwin",
            Os::Windows => "Windows",
        }
    }
}

/// Whether a distribution file can be installed on `target`: a wheel when one of its tag
/// combinations is in the target's tag list, an sdist always (it can be built there),
/// anything else never.
pub fn wheel_is_usable(filename: &str, target: &TargetPlatform) -> bool {
    let lower = filename.to_ascii_lowercase();
    if !lower.ends_with(".whl") {
        return crate::index::SDIST_EXTENSIONS
            .iter()
            .any(|ext| lower.ends_with(ext));
    }
    crate::index::WheelTags::of_filename(&lower).is_some_and(|tags| {
        super::priority::TagPriority::new(target)
            .rank(&tags)
            .is_some()
    })
}

/// `14` → (14, 0); `2.28` → (2, 28).
fn dotted(text: &str) -> Option<(u16, u16)> {
    let (a, b) = text.split_once('.').unwrap_or((text, "0"));
    Some((a.parse().ok()?, b.parse().ok()?))
}

/// `2_17_x86_64` → (2, 17, `x86_64`).
pub(crate) fn versioned(rest: &str) -> Option<(u16, u16, &str)> {
    let mut parts = rest.splitn(3, '_');
    let a = parts.next()?.parse().ok()?;
    let b = parts.next()?.parse().ok()?;
    let arch = parts.next().filter(|a| !a.is_empty())?;
    Some((a, b, arch))
}

/// PEP 513/571/599 names → their glibc version (PEP 600).
pub(crate) fn legacy_manylinux(tag: &str) -> Option<((u16, u16), &str)> {
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

pub(crate) fn mac_arch(arch: &str) -> &str {
    if arch == "aarch64" { "arm64" } else { arch }
}

pub(crate) fn windows_tag(arch: &str) -> &'static str {
    match arch {
        "i686" => "win32",
        "aarch64" => "win_arm64",
        _ => "win_amd64",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn libc_and_macos_versions_parse_from_the_short_forms() {
        let glibc = TargetPlatform::parse("linux-x86_64-glibc2.17").unwrap();
        assert_eq!(glibc.os, Os::Linux(Libc::Glibc(2, 17)));
        let musl = TargetPlatform::parse("linux-aarch64-musl1.1").unwrap();
        assert_eq!(musl.os, Os::Linux(Libc::Musl(1, 1)));
        assert_eq!(musl.arch, "aarch64");
        assert_eq!(
            TargetPlatform::parse("linux-x86_64-musl").unwrap().os,
            Os::Linux(Libc::Musl(1, 2))
        );
        assert_eq!(
            TargetPlatform::parse("linux-aarch64").unwrap().os,
            Os::Linux(Libc::Glibc(2, 28))
        );
        assert_eq!(
            TargetPlatform::parse("macos-arm64-14").unwrap().os,
            Os::Macos(14, 0)
        );
        assert_eq!(
            TargetPlatform::parse("macos-x86_64-10.15").unwrap().os,
            Os::Macos(10, 15)
        );
        assert!(TargetPlatform::parse("linux-x86_64-uclibc1.0").is_err());
        assert!(TargetPlatform::parse("linux-x86_64-glibc2.x").is_err());
    }

    #[test]
    fn cuda_versions_parse_and_bad_ones_say_why() {
        assert_eq!(
            Cuda::parse("12.4").unwrap(),
            Cuda {
                major: 12,
                minor: 4
            }
        );
        assert_eq!(Cuda::parse("11.8.0").unwrap().to_string(), "11.8");
        assert_eq!(Cuda::parse("12").unwrap().to_string(), "12.0");
        let err = Cuda::parse("twelve").unwrap_err();
        assert!(err.contains("12.4"), "{err}");
        assert!(Cuda::parse("0.1").is_err());
    }

    #[test]
    fn marker_values_follow_each_os() {
        let mac = TargetPlatform::parse("macos-arm64").unwrap();
        assert_eq!(
            (mac.sys_platform(), mac.platform_system(), mac.machine()),
            ("darwin", "Darwin", "arm64")
        );
        let win = TargetPlatform::parse("windows-amd64").unwrap();
        assert_eq!(
            (win.sys_platform(), win.platform_system(), win.machine()),
            ("win32", "Windows", "AMD64")
        );
    }
}
