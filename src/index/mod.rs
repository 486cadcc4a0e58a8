//! index stage: is this exact distribution version on the package index, and which files
//! (wheels and sdists, with size and sha256) does it have?
//!
//! ```text
//! [(PackageName, version)] ──IndexClient::lookup──▶ [Lookup]     (same order as the input)
//!        │  per package, in a bounded pool of worker threads:
//!        ├─ disk cache (cache.rs)           hit: no request at all
//!        ├─ GET {index}/{name}/ (client.rs)  PEP 691 JSON, PEP 503 HTML fallback (simple.rs)
//!        │     retries with backoff and Retry-After (retry.rs)
//!        └─ files of the exact version       filename → name, version, tags (filename.rs, tags.rs)
//! ```
//!
//! Specs: PEP 503 and PEP 691 (the simple repository API, <https://packaging.python.org/en/latest/specifications/simple-repository-api/>),
//! PEP 440 versions, the wheel filename spec (<https://packaging.python.org/en/latest/specifications/binary-distribution-format/>),
//! platform compatibility tags (<https://packaging.python.org/en/latest/specifications/platform-compatibility-tags/>).
//!
//! **Index order.** Each package is looked up on the primary index (`--index-url`), then on
//! each extra index in order; the first index that has the *exact installed version* wins and
//! the others are not asked. pip merges every index and picks the highest version, which is
//! what makes dependency confusion work (someone uploads `yourcorp-utils 99.0` to PyPI).
//! envscan never chooses a version: it asks only for the name and version of a distribution
//! that is already installed, so a higher version elsewhere changes nothing. What remains is
//! the same name *and* version on an earlier index; put the private index first
//! (`--index-url`) and the public one as an extra when that matters.
//!
//! **Credentials** come from the index URL (`https://user:pass@host/simple`) or `~/.netrc`,
//! are sent as basic auth to the index host only, and never appear in a returned URL, an
//! error, a cache file or its name (see redact.rs).

mod cache;
mod client;
mod dns;
mod filename;
mod netrc;
mod pipconf;
pub mod redact;
mod retry;
mod settings;
#[doc(hidden)] // public for the fuzz target fuzz/fuzz_targets/simple_index.rs
pub mod simple;
pub mod sources;
pub mod tags;

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::diagnostic::Code;

pub use client::{IndexClient, Route};
pub use filename::{DistFilename, SDIST_EXTENSIONS, parse_dist_filename};
pub use settings::{Backoff, DEFAULT_INDEX_URL, IndexSettings, default_cache_dir};
pub use tags::WheelTags;

/// An index could not be reached, or answered with an error status after every retry.
pub const INDEX_UNREACHABLE: Code = Code("index-unreachable");
/// An index answered something that is not a simple-API project page (bad JSON, a login page).
pub const INDEX_INVALID_RESPONSE: Code = Code("index-invalid-response");
/// `--offline` and the cache did not hold the project page: the version was not verified.
pub const INDEX_UNVERIFIED: Code = Code("index-unverified");
/// The index settings (a URL from a flag, the environment, pip.conf) are unusable.
pub const INDEX_CONFIG: Code = Code("index-config");
/// An installed distribution's name or version cannot be looked up (not PEP 440 / PEP 508).
pub const INDEX_INVALID_VERSION: Code = Code("index-invalid-version");

/// The answer for one `(name, version)`: what was found, or why nothing could be said.
pub type Lookup = Result<Found, IndexError>;

/// What the indexes said about one exact version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// The first index that has this version, with its files of that version.
    Files(VersionFiles),
    /// Some index has the project, but none has this version.
    VersionMissing,
    /// Every index answered 404 for the project.
    ProjectMissing,
    /// `--offline`, and the cache could not answer. `url` is the project page it lacked
    /// (credential-free).
    Unverified { url: String },
}

/// The files of one version on the index that has it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VersionFiles {
    /// The index URL, credentials stripped, with a trailing slash.
    pub index: String,
    /// Wheels and sdists of the version, in the index's order.
    pub files: Vec<DistFile>,
}

/// One wheel or sdist.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DistFile {
    pub filename: String,
    /// Absolute, resolved against the final page URL (after redirects), credentials and
    /// `#sha256=` fragment stripped.
    pub url: String,
    /// Bytes; `None` when the index does not say (PEP 691 api-version 1.0, PEP 503 HTML).
    pub size: Option<u64>,
    /// Lowercase hex; `None` when the index gives no (valid) sha256.
    pub sha256: Option<String>,
    pub requires_python: Option<String>,
    pub yanked: bool,
    pub kind: DistKind,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DistKind {
    Wheel { tags: WheelTags },
    Sdist,
}

/// Why a lookup failed. Every URL in here is credential-free.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// A configured index URL is not usable.
    #[error("invalid index URL {url:?} from {origin}: {reason}")]
    InvalidUrl {
        url: String,
        origin: String,
        reason: String,
    },
    /// A per-package source names no defined index, or has an invalid marker.
    #[error("{origin}: {reason}")]
    Source { origin: String, reason: String },
    /// The HTTP client could not be built.
    #[error("cannot start the HTTP client: {0}")]
    Client(String),
    /// No answer from the index (after retries): connection refused, timeout, reset.
    #[error("cannot reach {url} (index {index}) after {attempts} attempt(s): {cause}")]
    Unreachable {
        index: String,
        url: String,
        attempts: u32,
        cause: String,
    },
    /// An HTTP status that is neither success nor 404 (after retries for 408, 429, 5xx).
    #[error("{url} (index {index}) answered HTTP {status} after {attempts} attempt(s)")]
    Status {
        index: String,
        url: String,
        status: u16,
        attempts: u32,
    },
    /// The installed name or version cannot be asked about.
    #[error("cannot look up {project} {version:?} on an index: {reason}")]
    InvalidVersion {
        project: String,
        version: String,
        reason: String,
    },
    /// The body is not a simple-API project page.
    #[error("{url} (index {index}) is not a valid simple-API project page: {reason}")]
    InvalidResponse {
        index: String,
        url: String,
        reason: String,
    },
}

impl IndexError {
    /// The diagnostic code the lock stage reports this error under.
    pub fn code(&self) -> Code {
        match self {
            IndexError::InvalidUrl { .. } | IndexError::Source { .. } | IndexError::Client(_) => {
                INDEX_CONFIG
            }
            IndexError::Unreachable { .. } | IndexError::Status { .. } => INDEX_UNREACHABLE,
            IndexError::InvalidResponse { .. } => INDEX_INVALID_RESPONSE,
            IndexError::InvalidVersion { .. } => INDEX_INVALID_VERSION,
        }
    }
}

impl fmt::Display for DistKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DistKind::Wheel { .. } => f.write_str("wheel"),
            DistKind::Sdist => f.write_str("sdist"),
        }
    }
}
