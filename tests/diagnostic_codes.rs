//! Every diagnostic code the source declares is documented in docs/diagnostics.md, and the
//! document lists no code that does not exist: codes are a stable interface, like ruff's rules.

mod support;

use std::collections::BTreeSet;

fn declared_codes() -> BTreeSet<String> {
    let mut codes = BTreeSet::new();
    for entry in ignore::WalkBuilder::new(support::repo().join("src")).build() {
        let entry = entry.unwrap();
        if entry.path().extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(entry.path()).unwrap();
        for (i, _) in text.match_indices(": Code = Code(\"") {
            let rest = &text[i + ": Code = Code(\"".len()..];
            codes.insert(rest[..rest.find('"').unwrap()].to_string());
        }
    }
    codes
}

fn documented_codes() -> BTreeSet<String> {
    let text = std::fs::read_to_string(support::repo().join("docs/diagnostics.md")).unwrap();
    text.lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .filter_map(|rest| rest.split('`').next())
        .map(str::to_string)
        .collect()
}

#[test]
fn every_declared_code_is_documented_and_every_documented_code_exists() {
    let declared = declared_codes();
    let documented = documented_codes();
    assert!(declared.len() > 50, "found only {declared:?}");
    let undocumented: Vec<_> = declared.difference(&documented).collect();
    let stale: Vec<_> = documented.difference(&declared).collect();
    assert!(
        undocumented.is_empty(),
        "not in docs/diagnostics.md: {undocumented:?}"
    );
    assert!(stale.is_empty(), "documented but not declared: {stale:?}");
}
