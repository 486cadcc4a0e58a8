//! target: the machine the code will run on, which is often not this one (a Linux GPU box for
//! a laptop's project). Its platform, libc, Python and CUDA decide which file of each locked
//! version an installer picks there ([`priority`]), whether there is one at all
//! ([`coverage`]), which GPU build of torch belongs in the lock ([`variant`]) and which CUDA
//! pins the conda file carries ([`conda`]).
//!
//! ```text
//! --target-platform / --target-cuda / [tool.envscan] target
//!        └─▶ TargetPlatform ─┬─ marker_environment ──▶ Requires-Dist closure for the target
//!                            ├─ TagPriority        ──▶ the file the target installs (coverage)
//!                            └─ cuda               ──▶ +cuXYZ variant, conda CUDA pins
//! ```

pub mod apply;
pub mod conda;
pub mod coverage;
pub mod platform;
pub mod priority;
pub mod variant;

use pep508_rs::MarkerEnvironment;
use pep508_rs::pep440_rs::VersionParseError;

pub use platform::{Cuda, Libc, Os, TargetPlatform, wheel_is_usable};

/// The PEP 508 marker environment of the target with the given interpreter version (X.Y.Z):
/// `sys_platform`, `platform_system`, `os_name` and `platform_machine` are the target's, so
/// `pywin32; sys_platform == "win32"` drops out of a Linux lock.
pub fn marker_environment(
    python_full_version: &str,
    target: &TargetPlatform,
) -> Result<MarkerEnvironment, VersionParseError> {
    let python_version: String = python_full_version
        .split('.')
        .take(2)
        .collect::<Vec<_>>()
        .join(".");
    MarkerEnvironment::try_from(pep508_rs::MarkerEnvironmentBuilder {
        implementation_name: "cpython",
        implementation_version: python_full_version,
        os_name: if target.os == Os::Windows {
            "nt"
        } else {
            "posix"
        },
        platform_machine: target.machine(),
        platform_python_implementation: "CPython",
        platform_release: "",
        platform_system: target.platform_system(),
        platform_version: "",
        python_full_version,
        python_version: &python_version,
        sys_platform: target.sys_platform(),
    })
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use pep508_rs::Requirement;

    use super::*;

    fn holds(requirement: &str, target: &str) -> bool {
        let target = TargetPlatform::parse(target).unwrap();
        let env = marker_environment("3.11.7", &target).unwrap();
        Requirement::<pep508_rs::VerbatimUrl>::from_str(requirement)
            .unwrap()
            .marker
            .evaluate(&env, &[])
    }

    #[test]
    fn platform_only_requirements_hold_only_on_their_platform() {
        let pywin32 = "pywin32>=306; sys_platform == 'win32'";
        assert!(!holds(pywin32, "linux-x86_64"));
        assert!(holds(pywin32, "windows-amd64"));
        let appnope = "appnope; platform_system == 'Darwin'";
        assert!(!holds(appnope, "linux-aarch64"));
        assert!(holds(appnope, "macos-arm64"));
        let nvidia =
            "nvidia-cublas-cu12; platform_system == 'Linux' and platform_machine == 'x86_64'";
        assert!(holds(nvidia, "linux-x86_64"));
        assert!(!holds(nvidia, "linux-aarch64"));
        assert!(holds("colorama; os_name == 'nt'", "windows-amd64"));
    }
}
