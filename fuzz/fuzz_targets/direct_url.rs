//! `direct_url.json` (PEP 610), as `envscan::env::DirectUrl::parse` reads it, then what the
//! rest of envscan asks of it: whether it is editable, the local path of a `file://` URL,
//! and its JSON form in reports.
//! Properties: no panic; malformed input is exactly one diagnostic; the report form is JSON
//! that parses back.
#![no_main]

use std::path::Path;

use envscan::env::DirectUrl;
use envscan_fuzz::text;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = text(data);
    let file = Path::new("/venv/lib/python3.12/site-packages/foo-1.0.dist-info/direct_url.json");
    let mut diagnostics = Vec::new();
    match DirectUrl::parse(&text, file, &mut diagnostics) {
        Some(url) => {
            let _ = url.is_editable();
            let _ = url.local_path();
            let json = serde_json::to_string(&url).expect("a DirectUrl serialises");
            serde_json::from_str::<serde_json::Value>(&json).expect("its JSON parses back");
        }
        None => assert_eq!(diagnostics.len(), 1, "malformed input gives one diagnostic"),
    }
});
