//! The `[tool.envscan]` configuration loader: `pyproject.toml` read from a real project
//! folder by `envscan::settings::Project::open`, then merged with (empty) flags by
//! `ScanSettings::resolve`, as every command does first.
//! Properties: no panic; a broken or hostile config is diagnostics naming pyproject.toml, or
//! an error, never a crash; line numbers are 1-based.
#![no_main]

use envscan::cli::ProjectArgs;
use envscan::settings::{Project, ScanSettings};
use envscan_fuzz::{put, scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    put("config/pyproject.toml", data);
    let Ok(project) = Project::open(&scratch().join("config")) else {
        return;
    };
    for d in &project.diagnostics {
        assert_eq!(d.file.as_deref(), Some("pyproject.toml"), "{d:?}");
        assert!(
            d.line.is_none_or(|l| l >= 1) && d.column.is_none_or(|c| c >= 1),
            "{d:?}"
        );
    }
    let mut diagnostics = Vec::new();
    let _ = ScanSettings::resolve(&project, &ProjectArgs::default(), &mut diagnostics);
});
