//! `pyvenv.cfg` (PEP 405), as `envscan::env::pyvenv::PyvenvCfg::parse` reads it, then what
//! discovery does with it: the base prefix its `home` implies and the `major.minor` of its
//! `version`.
//! Properties: no panic; a version, when kept, is 2 or 3 dot-separated runs of digits.
#![no_main]

use envscan::env::pyvenv::PyvenvCfg;
use envscan::settings::PythonVersion;
use envscan_fuzz::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let cfg = PyvenvCfg::parse(&text(data));
    let _ = cfg.implied_base_prefix();
    if let Some(version) = &cfg.version {
        let parts: Vec<&str> = version.split('.').collect();
        assert!(
            (2..=3).contains(&parts.len())
                && parts
                    .iter()
                    .all(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())),
            "kept version {version:?}"
        );
        let _ = PythonVersion::parse(version);
    }
});
