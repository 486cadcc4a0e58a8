//! The target's wheel tags, best first, as `packaging.tags.sys_tags()` (what pip uses) would
//! list them on that machine; the wheel an installer picks is the one whose best tag comes
//! first. `tests/target_tags.rs` compares this list with packaging's own for every target kind.
//!
//! For CPython `cp3X` (packaging's `cpython_tags` then `compatible_tags`):
//! 1. `cp3X-cp3X-P` for every platform P (and `cp3Xm` on 3.7 and older);
//! 2. `cp3X-abi3-P`, then `cp3X-none-P`, then `cp3Y-abi3-P` for Y from X-1 down to 2;
//! 3. `py3X-none-P`, `py3-none-P`, `py3Y-none-P` for Y from X-1 down to 0;
//! 4. `cp3X-none-any`, `py3X-none-any`, `py3-none-any`, `py3Y-none-any`.
//!
//! Platforms, best first (packaging 26.3 put `linux_*` before manylinux, issue 160):
//! - glibc X.Y on ARCH: `linux_ARCH`, then `manylinux_X_Y_ARCH` down to `manylinux_X_0`
//!   (2.5 on x86_64/i686, 2.17 elsewhere), each legacy alias (`manylinux2014` = 2.17,
//!   `manylinux2010` = 2.12, `manylinux1` = 2.5) right after its version;
//! - musl X.Y: `linux_ARCH`, then `musllinux_X_Y_ARCH` down to `musllinux_X_0_ARCH`;
//! - macOS: packaging's `mac_platforms(version, arch)`, fat binaries included;
//! - Windows: `win_amd64`, `win32` or `win_arm64`.

use std::collections::HashMap;

use super::platform::{Libc, Os, TargetPlatform, mac_arch, windows_tag};
use crate::index::WheelTags;

/// The target's tags with their rank (0 is best).
#[derive(Debug, Clone)]
pub struct TagPriority {
    rank: HashMap<(String, String, String), usize>,
    ordered: Vec<(String, String, String)>,
    /// The target's interpreter tag, `cp311`.
    pub interpreter: String,
}

impl TagPriority {
    pub fn new(target: &TargetPlatform) -> Self {
        let ordered = ordered_tags(target);
        let rank = ordered
            .iter()
            .enumerate()
            .map(|(i, tag)| (tag.clone(), i))
            .collect();
        let (major, minor) = target.python;
        TagPriority {
            rank,
            ordered,
            interpreter: format!("{}{major}{minor}", target.implementation),
        }
    }

    /// Every tag, best first, as `python-abi-platform`.
    pub fn tags(&self) -> impl Iterator<Item = String> + '_ {
        self.ordered.iter().map(|(p, a, f)| format!("{p}-{a}-{f}"))
    }

    /// The best rank any of a wheel's tag combinations has; `None` when it does not install.
    pub fn rank(&self, tags: &WheelTags) -> Option<usize> {
        tags.triples()
            .filter_map(|(p, a, f)| {
                self.rank
                    .get(&(p.to_string(), a.to_string(), f.to_string()))
                    .copied()
            })
            .min()
    }
}

/// The target's platform tags, best first.
pub fn platform_tags(target: &TargetPlatform) -> Vec<String> {
    let arch = target.arch.as_str();
    match target.os {
        Os::Linux(Libc::Glibc(major, minor)) => {
            let mut tags = vec![format!("linux_{arch}")];
            let oldest = if matches!(arch, "x86_64" | "i686") {
                4
            } else {
                16
            };
            // glibc has only ever had major version 2, so older majors add nothing.
            if major == 2 {
                for m in (oldest + 1..=minor).rev() {
                    tags.push(format!("manylinux_2_{m}_{arch}"));
                    if let Some(legacy) = match m {
                        17 => Some("manylinux2014"),
                        12 => Some("manylinux2010"),
                        5 => Some("manylinux1"),
                        _ => None,
                    } {
                        tags.push(format!("{legacy}_{arch}"));
                    }
                }
            }
            tags
        }
        Os::Linux(Libc::Musl(major, minor)) => {
            let mut tags = vec![format!("linux_{arch}")];
            tags.extend(
                (0..=minor)
                    .rev()
                    .map(|m| format!("musllinux_{major}_{m}_{arch}")),
            );
            tags
        }
        Os::Macos(major, minor) => mac_platforms((major, minor), mac_arch(arch)),
        Os::Windows => vec![windows_tag(arch).to_string()],
    }
}

/// packaging's `mac_platforms(version, arch)`.
fn mac_platforms(version: (u16, u16), arch: &str) -> Vec<String> {
    let mut tags = Vec::new();
    let mut push = |major: u16, minor: u16, formats: Vec<&str>| {
        for format in formats {
            tags.push(format!("macosx_{major}_{minor}_{format}"));
        }
    };
    if ((10, 0)..(11, 0)).contains(&version) {
        for minor in (0..=version.1).rev() {
            push(10, minor, mac_binary_formats((10, minor), arch));
        }
    }
    if version >= (11, 0) {
        for major in (11..=version.0).rev() {
            push(major, 0, mac_binary_formats((major, 0), arch));
        }
        for minor in (4..=16).rev() {
            if arch == "x86_64" {
                push(10, minor, mac_binary_formats((10, minor), arch));
            } else {
                push(10, minor, vec!["universal2"]);
            }
        }
    }
    tags
}

/// packaging's `_mac_binary_formats` for the architectures a target can name.
fn mac_binary_formats(version: (u16, u16), arch: &str) -> Vec<&str> {
    let mut formats = vec![arch];
    if arch == "x86_64" {
        if version < (10, 4) {
            return Vec::new();
        }
        formats.extend(["intel", "fat64", "fat3"]);
    }
    if matches!(arch, "arm64" | "x86_64") {
        formats.push("universal2");
    }
    if arch == "x86_64" {
        formats.push("universal");
    }
    formats
}

fn ordered_tags(target: &TargetPlatform) -> Vec<(String, String, String)> {
    let platforms = platform_tags(target);
    let (major, minor) = target.python;
    let interpreter = format!("{}{major}{minor}", target.implementation);
    let mut tags = Vec::new();
    let all = |python: &str, abi: &str, tags: &mut Vec<(String, String, String)>| {
        for platform in &platforms {
            tags.push((python.to_string(), abi.to_string(), platform.clone()));
        }
    };
    let mut abis = vec![interpreter.clone()];
    if (major, minor) <= (3, 7) {
        abis = vec![format!("{interpreter}m")];
    }
    for abi in &abis {
        all(&interpreter, abi, &mut tags);
    }
    // abi3 exists from 3.2 on.
    let abi3 = major == 3 && minor >= 2;
    if abi3 {
        all(&interpreter, "abi3", &mut tags);
    }
    all(&interpreter, "none", &mut tags);
    if abi3 {
        for older in (2..minor).rev() {
            all(&format!("cp{major}{older}"), "abi3", &mut tags);
        }
    }
    let py_range: Vec<String> = std::iter::once(format!("py{major}{minor}"))
        .chain(std::iter::once(format!("py{major}")))
        .chain((0..minor).rev().map(|m| format!("py{major}{m}")))
        .collect();
    for python in &py_range {
        all(python, "none", &mut tags);
    }
    tags.push((interpreter, "none".into(), "any".into()));
    for python in &py_range {
        tags.push((python.clone(), "none".into(), "any".into()));
    }
    tags
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::wheel_is_usable;

    fn linux311() -> TargetPlatform {
        TargetPlatform::default().with_python(3, 11)
    }

    fn parse(text: &str) -> TargetPlatform {
        TargetPlatform::parse(text).unwrap().with_python(3, 11)
    }

    fn best<'a>(target: &TargetPlatform, names: &[&'a str]) -> Option<&'a str> {
        let priority = TagPriority::new(target);
        names
            .iter()
            .filter_map(|n| Some((priority.rank(&WheelTags::of_filename(n)?)?, *n)))
            .min()
            .map(|(_, n)| n)
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
        assert!(!wheel_is_usable(name, &parse("linux-arm64")));
    }

    #[test]
    fn legacy_manylinux_aliases_map_to_their_glibc() {
        let old = parse("manylinux2010_x86_64");
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
        let musl = parse("musllinux_1_2_x86_64");
        assert!(wheel_is_usable(musl_wheel, &musl));
        assert!(!wheel_is_usable(
            "a-1-cp311-cp311-manylinux2014_x86_64.whl",
            &musl
        ));
    }

    #[test]
    fn macos_and_windows_targets_take_their_own_wheels() {
        let mac = parse("macos-arm64");
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
        let win = parse("windows-amd64");
        assert!(wheel_is_usable(
            "numpy-1.26.4-cp311-cp311-win_amd64.whl",
            &win
        ));
        assert!(!wheel_is_usable("numpy-1.26.4-cp311-cp311-win32.whl", &win));
    }

    #[test]
    fn sdists_are_always_usable_and_eggs_never() {
        assert!(wheel_is_usable("numpy-1.26.4.tar.gz", &linux311()));
        assert!(wheel_is_usable("pkg-1.0.zip", &linux311()));
        assert!(!wheel_is_usable("pkg-1.0.egg", &linux311()));
    }

    #[test]
    fn a_plain_linux_wheel_installs_on_any_linux_of_its_arch_and_ranks_first() {
        // packaging 26.3+ (pip) ranks `linux_x86_64` above every manylinux tag.
        let names = [
            "a-1-cp311-cp311-manylinux_2_17_x86_64.whl",
            "a-1-cp311-cp311-linux_x86_64.whl",
        ];
        assert_eq!(best(&linux311(), &names), Some(names[1]));
        assert!(!wheel_is_usable(names[1], &parse("linux-aarch64")));
        assert!(!wheel_is_usable(names[1], &parse("macos-x86_64")));
    }

    #[test]
    fn the_newest_glibc_and_the_exact_abi_win() {
        let names = [
            "torch-2.5.1-cp311-none-manylinux_2_28_x86_64.whl",
            "torch-2.5.1-cp311-cp311-manylinux_2_17_x86_64.whl",
            "torch-2.5.1-cp311-cp311-manylinux_2_28_x86_64.whl",
            "torch-2.5.1-py3-none-any.whl",
        ];
        assert_eq!(best(&linux311(), &names), Some(names[2]));
        let old = parse("linux-x86_64-glibc2.17");
        assert_eq!(best(&old, &names), Some(names[1]));
        assert_eq!(best(&parse("macos-arm64"), &names), Some(names[3]));
    }
}
