//! CUDA pins for a conda environment rebuilt on a GPU target.
//!
//! conda picks a package's GPU build from a pin on a virtual package, not from its version:
//! - the `pytorch` channel: `pytorch-cuda==X.Y` (channels `pytorch` and `nvidia`), and no
//!   `cpuonly` (which forces the CPU build);
//! - conda-forge: `cuda-version==X.Y`, which every CUDA build there depends on
//!   (<https://github.com/conda-forge/cuda-version-feedstock>).
//!
//! A conda environment without GPU packages gets no pin.

use super::platform::TargetPlatform;

/// Conda packages that have CUDA builds selected by those pins.
const GPU_PACKAGES: &[&str] = &[
    "pytorch",
    "torchvision",
    "torchaudio",
    "jaxlib",
    "cupy",
    "tensorflow",
    "libtorch",
    "pytorch-cuda",
    "cuda-version",
];

/// One conda package as the conda file pins it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CondaSpec {
    pub name: String,
    pub version: String,
    pub channel: Option<String>,
}

/// What a GPU target changes in the conda file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CudaPins {
    /// (name, version) pins to add, or to replace a package of that name with.
    pub pins: Vec<(String, String)>,
    /// Channels the pins come from, before the others.
    pub channels: Vec<String>,
    /// Packages to leave out (`cpuonly`).
    pub drop: Vec<String>,
}

/// The pins a target with CUDA needs for these conda packages.
pub fn cuda_pins(packages: &[CondaSpec], target: &TargetPlatform) -> CudaPins {
    let Some(cuda) = target.cuda else {
        return CudaPins::default();
    };
    let version = cuda.to_string();
    let gpu: Vec<&CondaSpec> = packages
        .iter()
        .filter(|p| GPU_PACKAGES.contains(&p.name.as_str()))
        .collect();
    let mut pins = CudaPins::default();
    if gpu.is_empty() {
        return pins;
    }
    let from_pytorch_channel = gpu
        .iter()
        .any(|p| matches!(p.channel.as_deref(), Some("pytorch" | "nvidia")));
    if from_pytorch_channel {
        pins.pins
            .push(("pytorch-cuda".to_string(), version.clone()));
        pins.channels = vec!["pytorch".to_string(), "nvidia".to_string()];
    }
    let from_elsewhere = gpu
        .iter()
        .any(|p| !matches!(p.channel.as_deref(), Some("pytorch" | "nvidia")));
    if from_elsewhere || !from_pytorch_channel {
        pins.pins.push(("cuda-version".to_string(), version));
    }
    pins.drop.push("cpuonly".to_string());
    pins
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::Cuda;

    fn spec(name: &str, channel: &str) -> CondaSpec {
        CondaSpec {
            name: name.into(),
            version: "2.5.1".into(),
            channel: Some(channel.into()),
        }
    }

    fn gpu() -> TargetPlatform {
        TargetPlatform {
            cuda: Some(Cuda {
                major: 12,
                minor: 4,
            }),
            ..TargetPlatform::default()
        }
    }

    #[test]
    fn pytorch_channel_gets_pytorch_cuda_and_conda_forge_gets_cuda_version() {
        let pins = cuda_pins(
            &[spec("pytorch", "pytorch"), spec("cpuonly", "pytorch")],
            &gpu(),
        );
        assert_eq!(
            pins.pins,
            [("pytorch-cuda".to_string(), "12.4".to_string())]
        );
        assert_eq!(pins.channels, ["pytorch", "nvidia"]);
        assert_eq!(pins.drop, ["cpuonly"]);
        let forge = cuda_pins(&[spec("pytorch", "conda-forge")], &gpu());
        assert_eq!(
            forge.pins,
            [("cuda-version".to_string(), "12.4".to_string())]
        );
        assert!(forge.channels.is_empty());
    }

    #[test]
    fn no_cuda_or_no_gpu_package_means_no_pin() {
        assert_eq!(
            cuda_pins(&[spec("pytorch", "pytorch")], &TargetPlatform::default()),
            CudaPins::default()
        );
        assert_eq!(
            cuda_pins(&[spec("numpy", "conda-forge")], &gpu()),
            CudaPins::default()
        );
    }
}
