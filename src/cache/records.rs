//! The parse cache's record types: mirrors of [`FileImports`] and the types in it, with no
//! serde attributes, so postcard (which does not describe itself) reads back exactly what it
//! wrote. One difference: a file's module names and members are kept in one string, each
//! site recording the lengths it takes (and its contexts as bits), so a warm run decodes one
//! string per file instead of one or two per site. Conversion is explicit both ways: a field
//! added to `ImportSite`, `FileRef` or `Diagnostic` stops this compiling until it is carried
//! here (and the parse cache's kind version is raised). Reading back validates what the
//! pipeline's constructors validate (module names) and that the lengths, context bits and
//! extra fields are what was written, and maps diagnostic codes to the parse stage's own;
//! anything else makes the entry unusable, and its file is parsed again.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::names::ModuleName;
use crate::parse::{self, Anchor, ContextSet, FileImports, FileRef, ImportSite, SiteExtra};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    /// Every site's module name and member, one after another in site order: one string to
    /// decode per file instead of one or two per site (allocating those was most of a warm
    /// 20,000-file scan's cache load).
    names: String,
    sites: Vec<SiteRecord>,
    refs: Vec<RefRecord>,
    diagnostics: Vec<DiagnosticRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct SiteRecord {
    /// The bytes of `names` the module name takes, then the member's (`None`: no member).
    module_len: u32,
    member_len: Option<u32>,
    line: u32,
    column: u32,
    cell: Option<u32>,
    /// The site's contexts as bits, `1 << (context as u8)`.
    context: u8,
    /// The fields most sites leave empty, when one is set.
    extra: Option<ExtraRecord>,
    statement: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct ExtraRecord {
    conditions: Vec<String>,
    relative: Option<String>,
    call: Option<String>,
    entry_point_group: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum AnchorRecord {
    Literal,
    FileFolder(u32),
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct RefRecord {
    cell: Option<u32>,
    line: u32,
    anchor: AnchorRecord,
    path: String,
    folder: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct DiagnosticRecord {
    code: String,
    severity: Severity,
    file: Option<String>,
    line: Option<u32>,
    column: Option<u32>,
    message: String,
    hint: Option<String>,
}

impl FileRecord {
    /// The record of one file's result. Sites and references name their file by `rel`, which
    /// the entry's key holds, so they are not stored. `None` for a name of 4 GiB or more.
    pub fn new(result: &FileImports) -> Option<Self> {
        let mut names = String::new();
        let sites = result
            .imports
            .iter()
            .map(|site| SiteRecord::new(site, &mut names))
            .collect::<Option<_>>()?;
        Some(FileRecord {
            names,
            sites,
            refs: result.file_refs.iter().map(RefRecord::new).collect(),
            diagnostics: result
                .diagnostics
                .iter()
                .map(DiagnosticRecord::new)
                .collect(),
        })
    }

    /// The result again, for the file `rel`; `None` when any part of it does not validate.
    pub fn to_imports(&self, rel: &str) -> Option<FileImports> {
        let file: Arc<str> = Arc::from(rel);
        let mut names = self.names.as_str();
        let imports = self
            .sites
            .iter()
            .map(|s| s.to_site(&file, &mut names))
            .collect::<Option<_>>()?;
        // Every name taken and none left over, or the record is not one `new` wrote.
        if !names.is_empty() {
            return None;
        }
        Some(FileImports {
            imports,
            file_refs: self.refs.iter().map(|r| r.to_ref(rel)).collect(),
            diagnostics: self
                .diagnostics
                .iter()
                .map(DiagnosticRecord::to_diagnostic)
                .collect::<Option<_>>()?,
        })
    }
}

impl SiteRecord {
    /// The site's record; its module name and member are appended to `names`.
    fn new(site: &ImportSite, names: &mut String) -> Option<Self> {
        let ImportSite {
            module,
            member,
            file: _,
            line,
            column,
            cell,
            context,
            extra,
            statement,
        } = site;
        let module_len = u32::try_from(module.as_str().len()).ok()?;
        let member_len = match member {
            Some(member) => Some(u32::try_from(member.len()).ok()?),
            None => None,
        };
        names.push_str(module.as_str());
        names.push_str(member.as_deref().unwrap_or_default());
        Some(SiteRecord {
            module_len,
            member_len,
            line: *line,
            column: *column,
            cell: *cell,
            context: context.bits(),
            extra: extra.as_deref().map(|extra| ExtraRecord {
                conditions: extra.conditions.clone(),
                relative: extra.relative.clone(),
                call: extra.call.clone(),
                entry_point_group: extra.entry_point_group.clone(),
            }),
            statement: *statement,
        })
    }

    /// The site again, its module name and member taken from the front of `names`.
    fn to_site(&self, file: &Arc<str>, names: &mut &str) -> Option<ImportSite> {
        let mut take = |len: u32| {
            let (taken, rest) = names.split_at_checked(usize::try_from(len).ok()?)?;
            *names = rest;
            Some(taken)
        };
        let module = ModuleName::new(take(self.module_len)?)?;
        let member = match self.member_len {
            Some(len) => Some(take(len)?.to_string()),
            None => None,
        };
        // A bit that is no context's: not what `new` wrote.
        let context = ContextSet::from_bits(self.context)?;
        let extra = match &self.extra {
            // Recorded only when set: an empty one is not what `new` wrote.
            Some(extra) => Some(
                SiteExtra {
                    conditions: extra.conditions.clone(),
                    relative: extra.relative.clone(),
                    call: extra.call.clone(),
                    entry_point_group: extra.entry_point_group.clone(),
                }
                .boxed()?,
            ),
            None => None,
        };
        Some(ImportSite {
            module,
            member,
            file: Arc::clone(file),
            line: self.line,
            column: self.column,
            cell: self.cell,
            context,
            extra,
            statement: self.statement,
        })
    }
}

impl RefRecord {
    fn new(found: &FileRef) -> Self {
        let FileRef {
            file: _,
            cell,
            line,
            anchor,
            path,
            folder,
        } = found;
        RefRecord {
            cell: *cell,
            line: *line,
            anchor: match anchor {
                Anchor::Literal => AnchorRecord::Literal,
                Anchor::FileFolder { up } => AnchorRecord::FileFolder(*up),
            },
            path: path.clone(),
            folder: *folder,
        }
    }

    fn to_ref(&self, rel: &str) -> FileRef {
        FileRef {
            file: rel.to_string(),
            cell: self.cell,
            line: self.line,
            anchor: match self.anchor {
                AnchorRecord::Literal => Anchor::Literal,
                AnchorRecord::FileFolder(up) => Anchor::FileFolder { up },
            },
            path: self.path.clone(),
            folder: self.folder,
        }
    }
}

impl DiagnosticRecord {
    fn new(diagnostic: &Diagnostic) -> Self {
        let Diagnostic {
            code,
            severity,
            file,
            line,
            column,
            message,
            hint,
        } = diagnostic;
        DiagnosticRecord {
            code: code.as_str().to_string(),
            severity: *severity,
            file: file.clone(),
            line: *line,
            column: *column,
            message: message.clone(),
            hint: hint.clone(),
        }
    }

    fn to_diagnostic(&self) -> Option<Diagnostic> {
        let code: Code = *parse::CODES.iter().find(|c| c.as_str() == self.code)?;
        Some(Diagnostic {
            code,
            severity: self.severity,
            file: self.file.clone(),
            line: self.line,
            column: self.column,
            message: self.message.clone(),
            hint: self.hint.clone(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::parse_source;
    use crate::walk::{SourceFile, SourceKind};

    /// A file with members, contexts, conditions, a relative import, a named module and a
    /// file reference: every part of a record.
    fn parsed() -> FileImports {
        let source = "import os\n\
            from . import sibling\n\
            from .pkg import a, b as c\n\
            try:\n    import ujson\nexcept ImportError:\n    ujson = None\n\
            if sys.platform == 'win32':\n    import winreg\n\
            def f():\n    from typing import TYPE_CHECKING\n\
            import importlib\nimportlib.import_module('plugins.x')\n\
            from pathlib import Path\nDATA = Path(__file__).parent / 'data' / 'x.json'\n\
            import caf\u{e9}\n";
        let file = SourceFile {
            path: "pkg/mod.py".into(),
            rel: "pkg/mod.py".to_string(),
            kind: SourceKind::Python,
            module: ModuleName::new("pkg.mod"),
            is_package: false,
        };
        parse_source(&file, source.as_bytes())
    }

    #[test]
    fn a_record_gives_back_the_result_it_was_made_of() {
        let result = parsed();
        assert!(result.imports.iter().any(|s| s.member.is_some()));
        assert!(result.imports.iter().any(|s| s.extra.is_some()));
        assert!(result.imports.iter().any(|s| !s.context.is_empty()));
        assert!(!result.file_refs.is_empty());
        let record = FileRecord::new(&result).unwrap();
        let back = record.to_imports("pkg/mod.py").unwrap();
        assert_eq!(back.imports, result.imports);
        assert_eq!(back.file_refs, result.file_refs);
        assert_eq!(back.diagnostics, result.diagnostics);
    }

    #[test]
    fn a_record_that_new_did_not_write_is_refused() {
        let good = FileRecord::new(&parsed()).unwrap();
        let mut tampered: Vec<(&str, FileRecord)> = Vec::new();
        let mut r = good.clone();
        r.names.push('x');
        tampered.push(("a name left over", r));
        let mut r = good.clone();
        r.names.pop();
        tampered.push(("a name cut short", r));
        let mut r = good.clone();
        r.sites[0].module_len += 1_000;
        tampered.push(("a length past the end", r));
        let mut r = good.clone();
        r.names = "é".repeat(r.names.len() / 2 + 1);
        r.sites[0].module_len = 1;
        tampered.push(("a length inside a character", r));
        let mut r = good.clone();
        r.sites[0].context = 0x80;
        tampered.push(("a context bit no context has", r));
        let mut r = good.clone();
        r.sites[0].extra = Some(ExtraRecord {
            conditions: Vec::new(),
            relative: None,
            call: None,
            entry_point_group: None,
        });
        tampered.push(("an empty extra", r));
        for (what, record) in tampered {
            assert!(record.to_imports("pkg/mod.py").is_none(), "{what}");
        }
    }
}
