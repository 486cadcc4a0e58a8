//! `RECORD` (and its legacy form `installed-files.txt`), read through the distribution reader
//! (`envscan::env::dist_info::read` / `egg_info::read`) from a real folder, so CSV splitting
//! and the placement of each entry against site-packages and the prefix are both exercised.
//!
//! The first byte chooses: even, the rest is `Foo-1.0.dist-info/RECORD`; odd, it is
//! `Foo-1.0.egg-info/installed-files.txt` (entries relative to the egg-info folder).
//! Properties: no panic; every file the distribution is said to own lies inside
//! site-packages, every external file inside the prefix, all of them normalised (no `.` or
//! `..` left): a RECORD can never make envscan read or pack a file outside the environment.
#![no_main]

use std::path::{Component, Path};

use envscan::env::{dist_info, egg_info};
use envscan_fuzz::{put, scratch};
use libfuzzer_sys::fuzz_target;

const MINIMAL: &[u8] = b"Metadata-Version: 2.1\nName: Foo\nVersion: 1.0\n";

fn normalised(path: &Path) -> bool {
    path.components()
        .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let prefix = scratch().join("record");
    let site = prefix.join("lib/python3.12/site-packages");
    let _ = std::fs::remove_dir_all(&prefix);
    let sp = "record/lib/python3.12/site-packages";
    let mut diagnostics = Vec::new();
    let dist = if mode % 2 == 0 {
        put(&format!("{sp}/Foo-1.0.dist-info/METADATA"), MINIMAL);
        let file = put(&format!("{sp}/Foo-1.0.dist-info/RECORD"), bytes);
        dist_info::read(file.parent().unwrap(), &site, &prefix, &mut diagnostics)
    } else {
        put(&format!("{sp}/Foo-1.0.egg-info/PKG-INFO"), MINIMAL);
        let file = put(&format!("{sp}/Foo-1.0.egg-info/installed-files.txt"), bytes);
        egg_info::read(file.parent().unwrap(), &site, &prefix, &mut diagnostics)
    };
    for file in &dist.files {
        assert!(
            file.starts_with(&site),
            "owned file outside site-packages: {file:?}"
        );
        assert!(normalised(file), "owned file not normalised: {file:?}");
    }
    for file in &dist.external_files {
        assert!(
            file.starts_with(&prefix),
            "external file outside the prefix: {file:?}"
        );
        assert!(
            !file.starts_with(&site),
            "external file inside site-packages: {file:?}"
        );
        assert!(normalised(file), "external file not normalised: {file:?}");
    }
});
