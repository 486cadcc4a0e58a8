//! Core metadata (`METADATA`, `PKG-INFO`) and the files beside it that name requirements and
//! entry points, read as envscan reads an installed distribution: from a real folder, through
//! `envscan::env::dist_info::read` / `egg_info::read`, so header-only reading, decoding,
//! PEP 440 versions, PEP 508 `Requires-Dist` and `Requires-Python` are all on the path.
//!
//! The first byte chooses the file the rest becomes: 0 `Foo-1.0.dist-info/METADATA`,
//! 1 `foo-1.0.dist-info/entry_points.txt` (with a minimal METADATA), 2
//! `Foo-1.0.egg-info/PKG-INFO`, 3 `Foo-1.0.egg-info/requires.txt` (with a minimal PKG-INFO).
//! Properties: no panic (defect 3 of issue 14: pep508_rs panics on some requirement
//! strings; envscan must turn those into diagnostics), and a distribution that always has a
//! name.
#![no_main]

use envscan::env::{dist_info, egg_info};
use envscan_fuzz::{put, scratch};
use libfuzzer_sys::fuzz_target;

const MINIMAL: &[u8] = b"Metadata-Version: 2.1\nName: Foo\nVersion: 1.0\n";

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    let prefix = scratch().join("metadata");
    let site = prefix.join("lib/python3.12/site-packages");
    let _ = std::fs::remove_dir_all(&prefix);
    let mut diagnostics = Vec::new();
    let sp = "metadata/lib/python3.12/site-packages";
    let dist = match mode % 4 {
        0 => {
            let file = put(&format!("{sp}/Foo-1.0.dist-info/METADATA"), bytes);
            dist_info::read(file.parent().unwrap(), &site, &prefix, &mut diagnostics)
        }
        1 => {
            put(&format!("{sp}/foo-1.0.dist-info/METADATA"), MINIMAL);
            let file = put(&format!("{sp}/foo-1.0.dist-info/entry_points.txt"), bytes);
            dist_info::read(file.parent().unwrap(), &site, &prefix, &mut diagnostics)
        }
        2 => {
            let file = put(&format!("{sp}/Foo-1.0.egg-info/PKG-INFO"), bytes);
            egg_info::read(file.parent().unwrap(), &site, &prefix, &mut diagnostics)
        }
        _ => {
            put(&format!("{sp}/Foo-1.0.egg-info/PKG-INFO"), MINIMAL);
            let file = put(&format!("{sp}/Foo-1.0.egg-info/requires.txt"), bytes);
            egg_info::read(file.parent().unwrap(), &site, &prefix, &mut diagnostics)
        }
    };
    assert!(
        !dist.display_name.is_empty(),
        "a distribution without a name"
    );
    for req in &dist.requires_dist {
        assert!(!req.raw.is_empty(), "an empty Requires-Dist kept");
    }
});
