//! The parse cache's record types: plain mirrors of [`FileImports`] and the types in it, with
//! no serde attributes, so postcard (which does not describe itself) reads back exactly what
//! it wrote. Conversion is explicit both ways: a field added to `ImportSite`, `FileRef` or
//! `Diagnostic` stops this compiling until it is carried here (and the parse cache's kind
//! version is raised). Reading back validates what the pipeline's constructors validate
//! (module names) and maps diagnostic codes to the parse stage's own; anything else makes the
//! entry unusable, and its file is parsed again.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::diagnostic::{Code, Diagnostic, Severity};
use crate::names::ModuleName;
use crate::parse::{
    self, Anchor, Context, ContextSet, FileImports, FileRef, ImportSite, SiteExtra,
};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct FileRecord {
    sites: Vec<SiteRecord>,
    refs: Vec<RefRecord>,
    diagnostics: Vec<DiagnosticRecord>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
struct SiteRecord {
    module: String,
    member: Option<String>,
    line: u32,
    column: u32,
    cell: Option<u32>,
    /// The site's contexts, in order (a `ContextSet` serializes as a sequence of unknown
    /// length, which postcard cannot write).
    context: Vec<Context>,
    conditions: Vec<String>,
    relative: Option<String>,
    call: Option<String>,
    entry_point_group: Option<String>,
    statement: u32,
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
    /// the entry's key holds, so they are not stored.
    pub fn new(result: &FileImports) -> Self {
        FileRecord {
            sites: result.imports.iter().map(SiteRecord::new).collect(),
            refs: result.file_refs.iter().map(RefRecord::new).collect(),
            diagnostics: result
                .diagnostics
                .iter()
                .map(DiagnosticRecord::new)
                .collect(),
        }
    }

    /// The result again, for the file `rel`; `None` when any part of it does not validate.
    pub fn to_imports(&self, rel: &str) -> Option<FileImports> {
        let file: Arc<str> = Arc::from(rel);
        Some(FileImports {
            imports: self
                .sites
                .iter()
                .map(|s| s.to_site(&file))
                .collect::<Option<_>>()?,
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
    fn new(site: &ImportSite) -> Self {
        let ImportSite {
            module,
            member,
            file: _,
            line,
            column,
            cell,
            context,
            extra: _,
            statement,
        } = site;
        SiteRecord {
            module: module.as_str().to_string(),
            member: member.clone(),
            line: *line,
            column: *column,
            cell: *cell,
            context: context.iter().collect(),
            conditions: site.conditions().to_vec(),
            relative: site.relative().map(str::to_string),
            call: site.call().map(str::to_string),
            entry_point_group: site.entry_point_group().map(str::to_string),
            statement: *statement,
        }
    }

    fn to_site(&self, file: &Arc<str>) -> Option<ImportSite> {
        Some(ImportSite {
            module: ModuleName::new(&self.module)?,
            member: self.member.clone(),
            file: Arc::clone(file),
            line: self.line,
            column: self.column,
            cell: self.cell,
            context: self.context.iter().copied().collect::<ContextSet>(),
            extra: SiteExtra {
                conditions: self.conditions.clone(),
                relative: self.relative.clone(),
                call: self.call.clone(),
                entry_point_group: self.entry_point_group.clone(),
            }
            .boxed(),
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
