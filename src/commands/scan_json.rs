//! The import items of `envscan scan --format json`, written as `serde_json`'s pretty writer
//! writes them inside the report's `imports` list, without going through serde.
//!
//! A 20,000-file project has about 190,000 of them (40 MB): through serde, each item took two
//! levels of `#[serde(flatten)]` (a map with every key escaped at run time) and was written
//! once, then copied line by line to indent it. Here the keys and indentation are literals and
//! a string with nothing to escape is copied as is; anything else (a quote, a backslash, a
//! control character) and every enum name still goes through `serde_json`, so the bytes are
//! its bytes. The tests compare the two on every kind of field.

use std::sync::LazyLock;

use crate::graph::ImportClass;
use crate::parse::Context;

use super::scan::ScannedImport;

/// The fields of an item, four spaces deeper than the item's braces at the list's depth.
const FIELD: &[u8] = b",\n      ";
/// The elements of an array field.
const ELEMENT: &[u8] = b"\n        ";

/// Each context's JSON string, by `Context as usize`: the names serde gives the variants.
static CONTEXTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    Context::ALL
        .iter()
        .map(|c| serde_json::to_string(c).unwrap_or_default())
        .collect()
});

/// Each class's JSON string, in [`class_index`] order.
static CLASSES: LazyLock<Vec<String>> = LazyLock::new(|| {
    [
        ImportClass::Local,
        ImportClass::Stdlib,
        ImportClass::External,
    ]
    .iter()
    .map(|c| serde_json::to_string(c).unwrap_or_default())
    .collect()
});

fn class_index(class: ImportClass) -> usize {
    match class {
        ImportClass::Local => 0,
        ImportClass::Stdlib => 1,
        ImportClass::External => 2,
    }
}

/// Writes `import` from its `{` to its `}`, its lines indented for the report's list.
pub fn write_import(import: &ScannedImport<'_>, out: &mut Vec<u8>) -> serde_json::Result<()> {
    let site = import.site;
    out.extend_from_slice(b"{\n      \"module\": ");
    string(out, site.module.as_str())?;
    if let Some(member) = &site.member {
        field(out, b"member");
        string(out, member)?;
    }
    field(out, b"file");
    string(out, &site.file)?;
    field(out, b"line");
    number(out, site.line);
    field(out, b"column");
    number(out, site.column);
    if let Some(cell) = site.cell {
        field(out, b"cell");
        number(out, cell);
    }
    field(out, b"context");
    let contexts = site.context.iter().map(|c| CONTEXTS[c as usize].as_bytes());
    array(out, contexts.map(Ok))?;
    if let Some(extra) = site.extra.as_deref() {
        if !extra.conditions.is_empty() {
            field(out, b"conditions");
            array(out, extra.conditions.iter().map(|c| quoted(c)))?;
        }
        let optional = [
            (&b"relative"[..], &extra.relative),
            (b"call", &extra.call),
            (b"entry_point_group", &extra.entry_point_group),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                field(out, key);
                string(out, value)?;
            }
        }
    }
    field(out, b"class");
    out.extend_from_slice(CLASSES[class_index(import.class)].as_bytes());
    out.extend_from_slice(b"\n    }");
    Ok(())
}

/// `,`, a new line and `"key": ` at field depth (keys are plain ASCII: nothing to escape).
fn field(out: &mut Vec<u8>, key: &[u8]) {
    out.extend_from_slice(FIELD);
    out.push(b'"');
    out.extend_from_slice(key);
    out.extend_from_slice(b"\": ");
}

fn number(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// A string with nothing JSON escapes: no quote, no backslash, no control character.
fn is_plain(text: &str) -> bool {
    text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

fn string(out: &mut Vec<u8>, text: &str) -> serde_json::Result<()> {
    if is_plain(text) {
        out.push(b'"');
        out.extend_from_slice(text.as_bytes());
        out.push(b'"');
        Ok(())
    } else {
        serde_json::to_writer(out, text)
    }
}

/// `text` as a JSON string, for [`array`].
fn quoted(text: &str) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() + 2);
    string(&mut out, text)?;
    Ok(out)
}

/// An array of already-written JSON values, as the pretty writer lays it out at field depth.
fn array<T: AsRef<[u8]>>(
    out: &mut Vec<u8>,
    items: impl Iterator<Item = serde_json::Result<T>>,
) -> serde_json::Result<()> {
    let mut empty = true;
    for item in items {
        out.extend_from_slice(if empty { b"[" } else { b"," });
        out.extend_from_slice(ELEMENT);
        out.extend_from_slice(item?.as_ref());
        empty = false;
    }
    out.extend_from_slice(if empty { b"[]" } else { b"\n      ]" });
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::names::ModuleName;
    use crate::parse::{ContextSet, ImportSite, SiteExtra};

    fn through_serde(import: &ScannedImport<'_>) -> String {
        let mut out = Vec::new();
        crate::output::write_item_pretty(import, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    fn site(module: &str, file: &str) -> ImportSite {
        ImportSite {
            module: ModuleName::new(module).unwrap(),
            member: None,
            file: Arc::from(file),
            line: 1,
            column: 1,
            cell: None,
            context: ContextSet::new(),
            extra: None,
            statement: 0,
        }
    }

    #[test]
    fn every_field_is_written_as_serde_writes_it() {
        let awkward = [
            "plain",
            "",
            "a \"quoted\" word",
            "back\\slash",
            "tab\tnew\nline\r",
            "bell\u{7} esc\u{1b} nul\u{0} del\u{7f}",
            "caf\u{e9} \u{1F600} \u{202e}bidi",
            "</script> & 'single'",
        ];
        let mut sites = Vec::new();
        for (i, text) in awkward.iter().enumerate() {
            let mut s = site("pkg.mod", text);
            s.line = 10_u32.pow(i as u32 % 10);
            s.column = u32::MAX - i as u32;
            if i % 2 == 0 {
                s.member = Some((*text).to_string());
            }
            if i % 3 == 0 {
                s.cell = Some(i as u32);
            }
            s.context = Context::ALL
                .iter()
                .copied()
                .skip(i % 7)
                .step_by(2)
                .collect();
            s.extra = SiteExtra {
                conditions: awkward[..i % 4].iter().map(|t| t.to_string()).collect(),
                relative: (i % 2 == 1).then(|| format!("..{text}")),
                call: (i % 3 == 1).then(|| (*text).to_string()),
                entry_point_group: (i % 4 == 2).then(|| (*text).to_string()),
            }
            .boxed();
            sites.push(s);
        }
        let mut all = site("os", "a.py");
        all.context = Context::ALL.into_iter().collect();
        sites.push(all);
        sites.push(site("x", "bare.py"));
        for s in &sites {
            for class in [
                ImportClass::Local,
                ImportClass::Stdlib,
                ImportClass::External,
            ] {
                let import = ScannedImport { site: s, class };
                let mut got = Vec::new();
                write_import(&import, &mut got).unwrap();
                assert_eq!(String::from_utf8(got).unwrap(), through_serde(&import));
            }
        }
    }
}
