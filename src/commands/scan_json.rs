//! The import items of `envscan scan --format json` and its local modules, written as
//! `serde_json`'s pretty writer writes them inside the report's `imports` and `modules` lists,
//! without going through serde.
//!
//! A 20,000-file project has about 190,000 of them (40 MB): through serde, each item took two
//! levels of `#[serde(flatten)]` (a map with every key escaped at run time) and was written
//! once, then copied line by line to indent it. Here the keys and indentation are literals and
//! a string with nothing to escape is copied as is; anything else (a quote, a backslash, a
//! control character) and every enum name still goes through `serde_json`, so the bytes are
//! its bytes. The tests compare the two on every kind of field.

use std::sync::{Arc, LazyLock};

use crate::graph::ImportClass;
use crate::names::ModuleName;
use crate::parse::Context;

use super::scan::{LocalModule, ScannedImport};

/// `,`, a line break and `"key": ` at the depth of an item's fields, four spaces deeper than
/// its braces at the list's depth (keys are plain ASCII: nothing to escape). One literal per
/// key: an item is a dozen copies, not forty.
macro_rules! key {
    ($key:literal) => {
        concat!(",\n      \"", $key, "\": ").as_bytes()
    };
}

/// The elements of an array field.
const ELEMENT: &[u8] = b"\n        ";

/// Each context's JSON string, by `Context as usize`: the names serde gives the variants.
static CONTEXTS: LazyLock<Vec<String>> = LazyLock::new(|| {
    Context::ALL
        .iter()
        .map(|c| serde_json::to_string(c).unwrap_or_default())
        .collect()
});

/// The end of an item of each class, in [`class_index`] order: the `class` field (the name
/// serde gives the variant) and the closing brace.
static CLASS_ENDS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    [
        ImportClass::Local,
        ImportClass::Stdlib,
        ImportClass::External,
    ]
    .iter()
    .map(|c| {
        let mut end = key!("class").to_vec();
        end.extend_from_slice(serde_json::to_string(c).unwrap_or_default().as_bytes());
        end.extend_from_slice(b"\n    }");
        end
    })
    .collect()
});

fn class_index(class: ImportClass) -> usize {
    match class {
        ImportClass::Local => 0,
        ImportClass::Stdlib => 1,
        ImportClass::External => 2,
    }
}

/// The `"file"` field of the items of one file, rendered once for all of its sites (a file's
/// sites share one `Arc` of its name): `,`, the line break, the key and the quoted name.
#[derive(Default)]
pub struct FileField {
    file: Option<Arc<str>>,
    bytes: Vec<u8>,
}

impl FileField {
    fn of(&mut self, file: &Arc<str>) -> serde_json::Result<&[u8]> {
        if !self
            .file
            .as_ref()
            .is_some_and(|known| Arc::ptr_eq(known, file))
        {
            self.bytes.clear();
            self.bytes.extend_from_slice(key!("file"));
            string(&mut self.bytes, file)?;
            self.file = Some(Arc::clone(file));
        }
        Ok(&self.bytes)
    }
}

/// Writes `import` from its `{` to its `}`, its lines indented for the report's list; `file`
/// keeps the last file's field.
pub fn write_import(
    import: &ScannedImport<'_>,
    file: &mut FileField,
    out: &mut Vec<u8>,
) -> serde_json::Result<()> {
    let site = import.site;
    out.extend_from_slice(b"{\n      \"module\": ");
    module_name(out, &site.module);
    if let Some(member) = &site.member {
        out.extend_from_slice(key!("member"));
        string(out, member)?;
    }
    out.extend_from_slice(file.of(&site.file)?);
    out.extend_from_slice(key!("line"));
    number(out, site.line);
    out.extend_from_slice(key!("column"));
    number(out, site.column);
    if let Some(cell) = site.cell {
        out.extend_from_slice(key!("cell"));
        number(out, cell);
    }
    out.extend_from_slice(key!("context"));
    let contexts = site.context.iter().map(|c| CONTEXTS[c as usize].as_bytes());
    array(out, contexts.map(Ok))?;
    if let Some(extra) = site.extra.as_deref() {
        if !extra.conditions.is_empty() {
            out.extend_from_slice(key!("conditions"));
            array(out, extra.conditions.iter().map(|c| quoted(c)))?;
        }
        let optional = [
            (key!("relative"), &extra.relative),
            (key!("call"), &extra.call),
            (key!("entry_point_group"), &extra.entry_point_group),
        ];
        for (key, value) in optional {
            if let Some(value) = value {
                out.extend_from_slice(key);
                string(out, value)?;
            }
        }
    }
    out.extend_from_slice(&CLASS_ENDS[class_index(import.class)]);
    Ok(())
}

/// Writes a local module of the report's `modules` list from its `{` to its `}`, as serde
/// writes [`LocalModule`] there.
pub fn write_module(module: &LocalModule, out: &mut Vec<u8>) -> serde_json::Result<()> {
    out.extend_from_slice(b"{\n      \"name\": ");
    // Checked: a compiled module outside any package is named by its path.
    string(out, &module.name)?;
    if let Some(file) = &module.file {
        out.extend_from_slice(key!("file"));
        string(out, file)?;
    }
    out.extend_from_slice(key!("namespace"));
    out.extend_from_slice(if module.namespace { b"true" } else { b"false" });
    if module.compiled {
        out.extend_from_slice(key!("compiled"));
        out.extend_from_slice(b"true");
    }
    out.extend_from_slice(b"\n    }");
    Ok(())
}

fn number(out: &mut Vec<u8>, value: u32) {
    out.extend_from_slice(itoa::Buffer::new().format(value).as_bytes());
}

/// A string with nothing JSON escapes: no quote, no backslash, no control character.
fn is_plain(text: &str) -> bool {
    text.bytes().all(|b| b >= 0x20 && b != b'"' && b != b'\\')
}

/// A module name as a JSON string: its components are identifiers (`ModuleName` is only ever
/// built from checked ones), whose letters, digits and `_` JSON never escapes.
fn module_name(out: &mut Vec<u8>, name: &ModuleName) {
    debug_assert!(is_plain(name.as_str()));
    out.push(b'"');
    out.extend_from_slice(name.as_str().as_bytes());
    out.push(b'"');
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
    use super::*;
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
        sites.push(site("caf\u{e9}.\u{65e5}\u{672c}_2", "u.py"));
        let mut all = site("os", "a.py");
        all.context = Context::ALL.into_iter().collect();
        sites.push(all);
        sites.push(site("x", "bare.py"));
        let mut file = FileField::default();
        for s in &sites {
            for class in [
                ImportClass::Local,
                ImportClass::Stdlib,
                ImportClass::External,
            ] {
                let import = ScannedImport { site: s, class };
                let mut got = Vec::new();
                write_import(&import, &mut file, &mut got).unwrap();
                assert_eq!(String::from_utf8(got).unwrap(), through_serde(&import));
            }
        }
    }

    #[test]
    fn a_files_field_is_rendered_once_and_renewed_for_the_next_file() {
        let shared: Arc<str> = Arc::from("pkg/a \"b\".py");
        let mut first = site("os", "");
        first.file = Arc::clone(&shared);
        let mut second = site("sys", "");
        second.file = Arc::clone(&shared);
        let other = site("json", "pkg/other.py");
        let mut file = FileField::default();
        for s in [&first, &second, &other, &first] {
            let import = ScannedImport {
                site: s,
                class: ImportClass::Stdlib,
            };
            let mut got = Vec::new();
            write_import(&import, &mut file, &mut got).unwrap();
            assert_eq!(String::from_utf8(got).unwrap(), through_serde(&import));
        }
    }

    #[test]
    fn a_local_module_is_written_as_serde_writes_it() {
        for (name, file) in [("pkg.mod", Some("pkg/mod.py")), ("caf\u{e9}", None)] {
            for (namespace, compiled) in [(false, false), (true, false), (false, true)] {
                let module = LocalModule {
                    name: name.to_string(),
                    file: file.map(|f| format!("{f} \"odd\"\t")),
                    namespace,
                    compiled,
                };
                let mut got = Vec::new();
                write_module(&module, &mut got).unwrap();
                let mut want = Vec::new();
                crate::output::write_item_pretty(&module, &mut want).unwrap();
                assert_eq!(
                    String::from_utf8(got).unwrap(),
                    String::from_utf8(want).unwrap()
                );
            }
        }
    }
}
