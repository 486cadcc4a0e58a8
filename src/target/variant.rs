//! GPU build variants: the PEP 440 local labels PyTorch's indexes publish (`2.5.1+cu124`,
//! `+cpu`, `+rocm6.2`, `+xpu`) and the CUDA-suffixed distributions other projects publish on
//! PyPI instead (`nvidia-cublas-cu12`, `jax-cuda12-plugin`, `cupy-cuda12x`).
//!
//! PyPI never carries a local version, so a `+cu124` build is verified only on the index that
//! serves it; when none is configured, [`missing_index_hint`] gives the exact lines to add.
//! For a target with CUDA, [`switch_candidates`] says which build of the same release the
//! target needs when the installed one differs (`+cpu`, a macOS build, `+cu118` on 12.4).
//! A `cuXY` build runs with any CUDA `X.Z`, Z ≥ Y (minor-version compatibility), so
//! `+cu121` is kept for a 12.4 target and `+cu126` is not.

use std::fmt;

use super::platform::{Cuda, Os, TargetPlatform};
use crate::names::PackageName;

/// PyTorch's variant indexes, one per label: `{PYTORCH_INDEXES}{label}`.
pub const PYTORCH_INDEXES: &str = "https://download.pytorch.org/whl/";

/// Distributions PyTorch publishes on its variant indexes with a local label.
const PYTORCH_FAMILY: &[&str] = &[
    "torch",
    "torchvision",
    "torchaudio",
    "torchtext",
    "torchdata",
    "torchrec",
    "fbgemm-gpu",
    "xformers",
];

/// The GPU variant a local version label names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Variant {
    Cuda(Cuda),
    Cpu,
    /// `rocm6.2` → "6.2".
    Rocm(String),
    Xpu,
}

impl Variant {
    /// The variant of a version's local label (`2.5.1+cu124` → CUDA 12.4); `None` without
    /// one of the GPU labels.
    pub fn of_version(version: &str) -> Option<Variant> {
        let (_, label) = version.split_once('+')?;
        Variant::of_label(&label.to_ascii_lowercase())
    }

    fn of_label(label: &str) -> Option<Variant> {
        if label == "cpu" || label.starts_with("cpu.") {
            return Some(Variant::Cpu);
        }
        if label == "xpu" {
            return Some(Variant::Xpu);
        }
        if let Some(rocm) = label.strip_prefix("rocm") {
            let ok = !rocm.is_empty() && rocm.split('.').all(|p| p.parse::<u16>().is_ok());
            return ok.then(|| Variant::Rocm(rocm.to_string()));
        }
        let digits = label.strip_prefix("cu")?;
        if digits.len() < 2 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        // The last digit is the minor version: cu118 → 11.8, cu92 → 9.2.
        let (major, minor) = digits.split_at(digits.len() - 1);
        Some(Variant::Cuda(Cuda {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
        }))
    }

    /// The local label: `cu124`, `cpu`, `rocm6.2`, `xpu`.
    pub fn label(&self) -> String {
        match self {
            Variant::Cuda(cuda) => format!("cu{}{}", cuda.major, cuda.minor),
            Variant::Cpu => "cpu".to_string(),
            Variant::Rocm(version) => format!("rocm{version}"),
            Variant::Xpu => "xpu".to_string(),
        }
    }
}

impl fmt::Display for Variant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Variant::Cuda(cuda) => write!(f, "CUDA {cuda}"),
            Variant::Cpu => f.write_str("CPU-only"),
            Variant::Rocm(version) => write!(f, "ROCm {version}"),
            Variant::Xpu => f.write_str("Intel XPU"),
        }
    }
}

/// Whether PyTorch's variant indexes serve this distribution.
pub fn is_pytorch_family(name: &PackageName) -> bool {
    PYTORCH_FAMILY.contains(&name.as_str())
}

/// The CUDA major version a distribution's name is built for: `nvidia-cublas-cu12`,
/// `jax-cuda12-plugin`, `jax-cuda12-pjrt`, `cupy-cuda12x`, `cupy-cuda11x` → 12, 12, 12, 12, 11.
pub fn cuda_major_of_name(name: &PackageName) -> Option<u16> {
    let name = name.as_str();
    let digits = |text: &str| -> Option<u16> {
        let end = text
            .find(|c: char| !c.is_ascii_digit())
            .unwrap_or(text.len());
        text[..end].parse().ok()
    };
    if name.starts_with("nvidia-") {
        return digits(name.rsplit_once("-cu")?.1)
            .filter(|_| name.ends_with(|c: char| c.is_ascii_digit()));
    }
    if let Some(rest) = name.strip_prefix("jax-cuda") {
        return digits(rest);
    }
    if let Some(rest) = name.strip_prefix("cupy-cuda") {
        // cupy-cuda12x, cupy-cuda11x; older ones name major and minor (cupy-cuda102).
        return match rest.strip_suffix('x') {
            Some(major) => major.parse().ok(),
            None => digits(rest).map(|n| if n >= 100 { n / 10 } else { n }),
        };
    }
    None
}

/// The index that normally serves a version whose local label is a GPU variant: PyTorch's
/// index for that label (every family member shares it).
pub fn variant_index(version: &str) -> Option<(Variant, String)> {
    let variant = Variant::of_version(version)?;
    let url = format!("{PYTORCH_INDEXES}{}", variant.label());
    Some((variant, url))
}

/// The `[tool.envscan]` lines that make `name` come from the variant's own index (the same
/// shape as uv's `[[tool.uv.index]]` / `[tool.uv.sources]`).
pub fn config_lines(name: &PackageName, variant: &Variant, url: &str) -> String {
    let index = format!("pytorch-{}", variant.label().replace('.', "-"));
    format!(
        "[[tool.envscan.index]]\nname = \"{index}\"\nurl = \"{url}\"\nexplicit = true\n\n\
         [tool.envscan.sources]\n{name} = \"{index}\""
    )
}

/// The hint for a GPU build that no configured index has.
pub fn missing_index_hint(name: &PackageName, version: &str) -> Option<String> {
    let (variant, url) = variant_index(version)?;
    let family = if is_pytorch_family(name) {
        "PyTorch's own index".to_string()
    } else {
        format!("an index of {variant} builds (PyTorch's is {url})")
    };
    Some(format!(
        "{name} {version} is a {variant} build, served by {family}, not PyPI; add to \
         pyproject.toml:\n{}",
        config_lines(name, &variant, &url)
    ))
}

/// The versions to look for, best first, when the target needs another build of `version`
/// than the installed one; `None` when the installed build suits the target (or the target
/// names no CUDA, or the distribution has no GPU builds).
pub fn switch_candidates(
    name: &PackageName,
    version: &str,
    target: &TargetPlatform,
) -> Option<Vec<String>> {
    let cuda = target.cuda?;
    // PyTorch publishes CUDA builds for Linux and Windows only.
    if matches!(target.os, Os::Macos(..)) {
        return None;
    }
    let installed = Variant::of_version(version);
    if installed.is_none() && !is_pytorch_family(name) {
        return None;
    }
    if let Some(Variant::Cuda(have)) = &installed
        && have.major == cuda.major
        && have.minor <= cuda.minor
    {
        return None;
    }
    let public = version.split_once('+').map_or(version, |(p, _)| p);
    Some(
        (0..=cuda.minor)
            .rev()
            .map(|minor| format!("{public}+cu{}{minor}", cuda.major))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cuda(major: u16, minor: u16) -> Cuda {
        Cuda { major, minor }
    }

    fn gpu_target(c: Cuda) -> TargetPlatform {
        TargetPlatform {
            cuda: Some(c),
            ..TargetPlatform::default()
        }
    }

    #[test]
    fn local_labels_name_their_variant() {
        assert_eq!(
            Variant::of_version("2.5.1+cu124"),
            Some(Variant::Cuda(cuda(12, 4)))
        );
        assert_eq!(
            Variant::of_version("2.0.1+cu118"),
            Some(Variant::Cuda(cuda(11, 8)))
        );
        assert_eq!(
            Variant::of_version("1.4.0+cu92"),
            Some(Variant::Cuda(cuda(9, 2)))
        );
        assert_eq!(Variant::of_version("2.5.1+cpu"), Some(Variant::Cpu));
        assert_eq!(
            Variant::of_version("2.1.0+cpu.cxx11.abi"),
            Some(Variant::Cpu)
        );
        assert_eq!(
            Variant::of_version("2.5.1+rocm6.2"),
            Some(Variant::Rocm("6.2".into()))
        );
        assert_eq!(Variant::of_version("2.5.1+xpu"), Some(Variant::Xpu));
        assert_eq!(Variant::of_version("2.5.1"), None);
        assert_eq!(Variant::of_version("1.0+local"), None);
        assert_eq!(Variant::of_version("1.0+cuda"), None);
        assert_eq!(Variant::of_version("1.0+rocm"), None);
    }

    #[test]
    fn cuda_suffixed_distribution_names_give_their_major() {
        let major = |n: &str| cuda_major_of_name(&PackageName::new(n));
        assert_eq!(major("nvidia-cublas-cu12"), Some(12));
        assert_eq!(major("nvidia-cudnn-cu11"), Some(11));
        assert_eq!(major("jax-cuda12-plugin"), Some(12));
        assert_eq!(major("cupy-cuda12x"), Some(12));
        assert_eq!(major("cupy-cuda102"), Some(10));
        assert_eq!(major("nvidia-ml-py"), None);
        assert_eq!(major("numpy"), None);
    }

    #[test]
    fn a_missing_variant_gets_the_index_and_source_lines() {
        let torch = PackageName::new("torch");
        let hint = missing_index_hint(&torch, "2.5.1+cu124").unwrap();
        assert!(
            hint.contains("url = \"https://download.pytorch.org/whl/cu124\""),
            "{hint}"
        );
        assert!(hint.contains("torch = \"pytorch-cu124\""), "{hint}");
        assert!(hint.contains("CUDA 12.4"), "{hint}");
        let rocm = missing_index_hint(&torch, "2.5.1+rocm6.2").unwrap();
        assert!(rocm.contains("name = \"pytorch-rocm6-2\""), "{rocm}");
        assert!(missing_index_hint(&torch, "2.5.1").is_none());
        // The lines parse as the TOML they claim to be.
        let lines = config_lines(
            &torch,
            &Variant::Cpu,
            "https://download.pytorch.org/whl/cpu",
        );
        let doc: toml::Table = toml::from_str(&lines).unwrap();
        assert_eq!(
            doc["tool"]["envscan"]["sources"]["torch"].as_str(),
            Some("pytorch-cpu")
        );
    }

    #[test]
    fn a_cpu_or_foreign_build_switches_and_a_compatible_cuda_build_stays() {
        let torch = PackageName::new("torch");
        let target = gpu_target(cuda(12, 4));
        assert_eq!(
            switch_candidates(&torch, "2.5.1+cpu", &target).unwrap()[..2],
            ["2.5.1+cu124", "2.5.1+cu123"]
        );
        // A macOS build carries no label.
        assert_eq!(
            switch_candidates(&torch, "2.5.1", &target).unwrap()[0],
            "2.5.1+cu124"
        );
        assert!(switch_candidates(&torch, "2.5.1+cu121", &target).is_none());
        assert!(switch_candidates(&torch, "2.5.1+cu126", &target).is_some());
        assert!(switch_candidates(&torch, "2.5.1+cu118", &target).is_some());
        assert!(switch_candidates(&torch, "2.5.1+cpu", &TargetPlatform::default()).is_none());
        assert!(switch_candidates(&PackageName::new("numpy"), "1.26.4", &target).is_none());
    }
}
