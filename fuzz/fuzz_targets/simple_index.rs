//! Project pages of the simple repository API: PEP 691 JSON and PEP 503 HTML
//! (`envscan::index::simple::{format_of, parse}`), as an index or a proxy in front of it may
//! serve them.
//!
//! Input: `Content-Type\nproject name\nbody`, the body fetched from
//! `https://user:<password>@idx.example/simple/<project>/` (relative file URLs resolve against
//! it). The password is a hash of the input, so the page cannot spell it: a page's own
//! absolute URL may say `secret` (the fuzzer found `filesecretoihhsted.org`), but only a leak
//! can put the base's password in a kept URL.
//! Properties: no panic; every file kept is a wheel or sdist of that project, at an
//! `http(s)` URL with no credentials and no fragment; a sha256 is 64 lowercase hex digits;
//! version keys are PEP 440; the page survives the disk cache's JSON round trip.
#![no_main]

use std::hash::{DefaultHasher, Hash, Hasher};
use std::str::FromStr;

use envscan::index::parse_dist_filename;
use envscan::index::simple::{ProjectPage, format_of, parse};
use envscan::names::PackageName;
use libfuzzer_sys::fuzz_target;
use url::Url;

fuzz_target!(|data: &[u8]| {
    let mut parts = data.splitn(3, |&b| b == b'\n');
    let (Some(content_type), Some(project), Some(body)) =
        (parts.next(), parts.next(), parts.next())
    else {
        return;
    };
    let (Ok(content_type), Ok(project)) = (
        std::str::from_utf8(content_type),
        std::str::from_utf8(project),
    ) else {
        return;
    };
    let Ok(format) = format_of(Some(content_type)) else {
        return;
    };
    let name = PackageName::new(project);
    let mut hasher = DefaultHasher::new();
    data.hash(&mut hasher);
    // Lowercase hex: a kept URL is compared lowercased, as a host is case-folded.
    let password = format!("pw{:016x}", hasher.finish());
    let Ok(base) = Url::parse(&format!("https://user:{password}@idx.example/simple/"))
        .and_then(|b| b.join(&format!("{}/", name.as_str())))
    else {
        return;
    };
    let Ok(page) = parse(format, body, &base, &name) else {
        return;
    };
    for (version, files) in &page.versions {
        assert!(
            pep440_rs::Version::from_str(version).is_ok(),
            "version key {version:?}"
        );
        for file in files {
            assert!(
                parse_dist_filename(&file.filename, &name).is_some(),
                "{:?} is not a file of {name}",
                file.filename
            );
            let url = Url::parse(&file.url).expect("a kept URL parses");
            assert!(matches!(url.scheme(), "http" | "https"), "scheme of {url}");
            assert!(
                url.username().is_empty() && url.password().is_none(),
                "credentials in {url}"
            );
            assert!(
                !file.url.to_ascii_lowercase().contains(&password),
                "the index's password in {url}"
            );
            assert!(url.fragment().is_none(), "fragment in {url}");
            if let Some(sha) = &file.sha256 {
                assert!(
                    sha.len() == 64 && sha.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')),
                    "sha256 {sha:?}"
                );
            }
        }
    }
    let cached = serde_json::to_string(&page).expect("a page serialises");
    let back: ProjectPage = serde_json::from_str(&cached).expect("the cached page reads back");
    assert_eq!(back, page, "cache round trip");
});
