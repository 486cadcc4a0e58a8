//! `conda-meta/*.json` package records, read from a real prefix as
//! `envscan::env::conda::read` and `conda::python_version` read them.
//!
//! The input is written as `conda-meta/python-3.12.0-h_0.json` (so both readers see it).
//! Properties: no panic; a record that does not parse is a diagnostic, one that does is a
//! record; every metadata folder a record claims is a `*.dist-info`/`*.egg-info` path.
#![no_main]

use envscan::env::conda;
use envscan_fuzz::{put, scratch};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let prefix = scratch().join("conda");
    put("conda/conda-meta/python-3.12.0-h_0.json", data);
    let mut diagnostics = Vec::new();
    let meta = conda::read(&prefix, &mut diagnostics);
    assert_eq!(
        meta.records.len() + diagnostics.len(),
        1,
        "one record or one diagnostic for one file"
    );
    for (dir, &index) in &meta.by_metadata_dir {
        assert!(index < meta.records.len());
        let name = dir.file_name().and_then(|n| n.to_str()).unwrap_or_default();
        assert!(
            name.ends_with(".dist-info") || name.ends_with(".egg-info"),
            "claimed metadata folder {dir:?}"
        );
    }
    for record in &meta.records {
        if let Some(channel) = &record.channel {
            let _ = conda::channel_name(channel);
        }
    }
    let _ = conda::python_version(&prefix);
});
