//! Wheel compatibility tags as a wheel's file name carries them.
//!
//! Spec: <https://packaging.python.org/en/latest/specifications/platform-compatibility-tags/>.
//! A wheel name ends in `{python tag}-{abi tag}-{platform tag}.whl`; each may be a compressed
//! set (`py2.py3`, `manylinux_2_17_x86_64.manylinux2014_x86_64`), meaning every combination.
//! Which combinations a target machine accepts, and in which order, is the target stage's
//! business (`crate::target::priority`).

use serde::{Deserialize, Serialize};

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

    /// The tags of a wheel file name; `None` for an sdist or a name that is not a wheel's.
    pub fn of_filename(filename: &str) -> Option<Self> {
        let lower = filename.to_ascii_lowercase();
        let stem = lower.strip_suffix(".whl")?;
        let parts: Vec<&str> = stem.split('-').collect();
        if !(5..=6).contains(&parts.len()) {
            return None;
        }
        let n = parts.len();
        WheelTags::from_fields(parts[n - 3], parts[n - 2], parts[n - 1])
    }

    /// Every (python, abi, platform) combination the compressed sets stand for.
    pub fn triples(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.python.iter().flat_map(move |python| {
            self.abi.iter().flat_map(move |abi| {
                self.platform
                    .iter()
                    .map(move |platform| (python.as_str(), abi.as_str(), platform.as_str()))
            })
        })
    }
}
