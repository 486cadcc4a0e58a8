//! How each distribution got into the environment ([`DistKind`]), with its reason.
//!
//! In order, first match wins:
//! 1. `conda`: INSTALLER says `conda`, or a conda-meta record lists its metadata folder. A
//!    `direct_url.json` beside it that points at a build folder that does not exist is
//!    conda's artifact (conda issue 11580), not an editable install.
//! 2. `direct_url.json` (PEP 610): `dir_info.editable` with a folder that exists →
//!    `editable`; other `dir_info` → `path`; `vcs_info` → `vcs`; `archive_info` → `archive`.
//!    An editable one whose folder is gone is reported and falls through.
//! 3. Owning a setuptools editable finder, a `.pth` path line or an `*.egg-link` → `editable`.
//! 4. Any other INSTALLER (`pip`, `uv`, `poetry`, ...) → `index`.
//! 5. Nothing → `unknown`.

use super::direct_url::DirectSource;
use super::{DistKind, Distribution};
use crate::diagnostic::{Code, Diagnostic};

pub const DIRECT_URL_SOURCE_MISSING: Code = Code("direct-url-source-missing");

/// The kind of `dist`. `editable_evidence`: it owns an editable finder, a `.pth` path or an
/// egg-link.
pub fn classify(
    dist: &Distribution,
    editable_evidence: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> DistKind {
    if dist.installer.as_deref() == Some("conda") || dist.conda.is_some() {
        return DistKind::Conda;
    }
    if let Some(url) = &dist.direct_url {
        match &url.source {
            DirectSource::Directory { editable: true } => {
                if url.local_path().is_some_and(|p| p.is_dir()) {
                    return DistKind::Editable;
                }
                diagnostics.push(
                    Diagnostic::warning(
                        DIRECT_URL_SOURCE_MISSING,
                        format!(
                            "editable install of {} points at {}, which does not exist",
                            dist.display_name, url.url
                        ),
                    )
                    .with_file(dist.metadata_dir.display().to_string())
                    .with_hint("reinstall it, or uninstall it if the source is gone"),
                );
            }
            DirectSource::Directory { editable: false } => return DistKind::Path,
            DirectSource::Vcs(_) => return DistKind::Vcs,
            DirectSource::Archive { .. } => return DistKind::Archive,
        }
    }
    if editable_evidence {
        return DistKind::Editable;
    }
    if dist.installer.is_some() {
        return DistKind::Index;
    }
    DistKind::Unknown
}
