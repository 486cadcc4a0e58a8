//! The size preflight: what each archive costs, before anyone uploads it.
//!
//! `envscan pack` and `envscan lock --format json` report, per archive and per local
//! distribution's wheel, its file count, the sum of its files' sizes (what it takes unpacked)
//! and its [`LARGEST`] largest files; `pack` adds the compressed size (a wheel's is known to
//! both, as the lock needs its hash). The limit (`--max-pack-size`, `[tool.envscan] max-pack-size`)
//! applies to the unpacked sum, which both commands know before anything is compressed or
//! written, so `pack` refuses before staging any archive and `lock` can warn.

use schemars::JsonSchema;
use serde::Serialize;

use crate::analysis::Analysis;
use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::emit::archive::{self, ArchiveError, Options};
use crate::emit::wheel::Wheel;
use crate::project_files::{self, CarriedFile, SizedFile};
use crate::sources::LocalSource;

/// An archive is larger than `--max-pack-size` / `max-pack-size`.
pub const PACK_TOO_LARGE: Code = Code("pack-too-large");

/// How many of an archive's largest files are listed.
pub const LARGEST: usize = 10;

/// What one archive costs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ArchiveSize {
    /// The local source it holds (`project`, a distribution).
    pub source: String,
    /// Number of files in it.
    pub file_count: usize,
    /// The sum of its files' sizes in bytes: what it takes unpacked.
    pub content_size: u64,
    /// Size of the compressed archive in bytes; absent before packing (`lock`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub archive_size: Option<u64>,
    /// Its largest files, largest first (ties by path), at most ten.
    pub largest: Vec<SizedFile>,
}

impl ArchiveSize {
    pub fn new<'a>(
        source: &str,
        files: impl IntoIterator<Item = (&'a str, u64)>,
        archive_size: Option<u64>,
    ) -> Self {
        let mut all: Vec<SizedFile> = files
            .into_iter()
            .map(|(path, size)| SizedFile {
                path: path.to_string(),
                size,
            })
            .collect();
        let file_count = all.len();
        let content_size = all.iter().map(|f| f.size).sum();
        all.sort_by(|a, b| b.size.cmp(&a.size).then_with(|| a.path.cmp(&b.path)));
        all.truncate(LARGEST);
        Self {
            source: source.to_string(),
            file_count,
            content_size,
            archive_size,
            largest: all,
        }
    }
}

/// What a local distribution's wheel costs, by the sizes of the members envscan wrote into it
/// (read back from its zip directory); its source is the wheel's file name.
pub fn of_wheel(wheel: &Wheel) -> ArchiveSize {
    let mut files = Vec::new();
    if let Ok(mut zip) = zip::ZipArchive::new(std::io::Cursor::new(&wheel.bytes)) {
        for index in 0..zip.len() {
            if let Ok(entry) = zip.by_index_raw(index)
                && let Ok(name) = entry.name()
            {
                files.push((name.to_string(), entry.size()));
            }
        }
    }
    ArchiveSize::new(
        &wheel.file_name,
        files.iter().map(|(p, s)| (p.as_str(), *s)),
        Some(wheel.size()),
    )
}

/// What `envscan pack` would pack, measured without compressing or writing anything.
#[derive(Debug, Default)]
pub struct Preflight {
    /// One per source, in source order (the project first), then one per wheel.
    pub sizes: Vec<ArchiveSize>,
    pub excluded_large: Vec<SizedFile>,
    pub carried: Vec<CarriedFile>,
    /// `pack-too-large` warnings under `[tool.envscan] max-pack-size`.
    pub diagnostics: Vec<Diagnostic>,
}

/// Measures the archives of `sources` as `pack` would select them, its default output folder
/// (`out`, relative to the project) left out, with the local wheels' `wheel_sizes`.
pub fn preflight(
    analysis: &Analysis,
    sources: &[LocalSource],
    wheel_sizes: &[ArchiveSize],
    out: &std::path::Path,
) -> Result<Preflight, ArchiveError> {
    let options = Options {
        skip: fs_err::canonicalize(analysis.project.root.join(out))
            .into_iter()
            .collect(),
    };
    let mut found = Preflight::default();
    for source in sources {
        if source.name == "project" {
            let selection = project_files::select(analysis, &options)?;
            let files = selection.sizes.iter().map(|(p, s)| (p.as_str(), *s));
            found
                .sizes
                .push(ArchiveSize::new(&source.name, files, None));
            found.excluded_large = selection.excluded_large.clone();
            found.carried = selection.carried();
        } else {
            let files = archive::collect(&source.root, &source.members, &options)?.sized_files();
            let files = files.iter().map(|(p, s)| (p.as_str(), *s));
            found
                .sizes
                .push(ArchiveSize::new(&source.name, files, None));
        }
    }
    found.sizes.extend_from_slice(wheel_sizes);
    if let Some(limit) = analysis.project.config.max_pack_size {
        found.diagnostics = over_limit(&found.sizes, limit, Severity::Warning);
    }
    Ok(found)
}

/// A diagnostic for each archive over `limit`, naming its largest files.
pub fn over_limit(sizes: &[ArchiveSize], limit: u64, severity: Severity) -> Vec<Diagnostic> {
    sizes
        .iter()
        .filter(|size| size.content_size > limit)
        .map(|size| {
            let largest: Vec<String> = size
                .largest
                .iter()
                .map(|f| format!("{} ({})", f.path, human(f.size)))
                .collect();
            let message = format!(
                "the archive of {} holds {} in {} files, over the limit of {}; largest: {}",
                size.source,
                human(size.content_size),
                size.file_count,
                human(limit),
                largest.join(", ")
            );
            Diagnostic::new(PACK_TOO_LARGE, severity, message).with_hint(
                "leave data out of the code (`[tool.envscan] exclude`, .gitignore), or raise \
                 `--max-pack-size` / `max-pack-size`",
            )
        })
        .collect()
}

/// `12.3 MB` (decimal units, as `max-pack-size = "100MB"` reads).
pub fn human(bytes: u64) -> String {
    bytesize::ByteSize::b(bytes).display().si().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_files_are_listed_largest_first_and_at_most_ten() {
        let names: Vec<String> = (0..12).map(|i| format!("f{i:02}")).collect();
        let size = ArchiveSize::new(
            "project",
            names
                .iter()
                .enumerate()
                .map(|(i, n)| (n.as_str(), i as u64 * 10)),
            None,
        );
        assert_eq!(size.file_count, 12);
        assert_eq!(size.content_size, (0..12).map(|i| i * 10).sum::<u64>());
        assert_eq!(size.largest.len(), LARGEST);
        assert_eq!(size.largest[0].path, "f11");
        assert_eq!(size.largest[9].path, "f02");
    }

    #[test]
    fn only_an_archive_over_the_limit_gets_a_diagnostic_naming_its_largest_file() {
        let small = ArchiveSize::new("small", [("a", 10)], None);
        let big = ArchiveSize::new("project", [("data/x.bin", 2_000_000), ("a.py", 10)], None);
        let found = over_limit(&[small, big], 1_000_000, Severity::Error);
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].code, PACK_TOO_LARGE);
        assert!(
            found[0].message.contains("data/x.bin (2.0 MB)"),
            "{}",
            found[0].message
        );
    }
}
