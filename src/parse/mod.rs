//! parse: every import in a file, with the context that decides whether it is needed.
//!
//! Uses ruff's error-resilient parser (`ruff_python_parser::parse_unchecked`), so a file with
//! a syntax error still contributes every import the parser recovered, plus one `syntax-error`
//! diagnostic at its first error (1-based line, column in characters).
//!
//! Per file: read (`decode::read_source`: size and type checks) → decode (`decode`: PEP 263,
//! BOM, NUL, binary) or extract notebook cells (`notebook`) → blank over-deep lines (`depth`) →
//! parse → collect imports (`imports`, `dynamic`, `named`, `guards`) → drop the tree. All of it runs on
//! threads with [`STACK_SIZE`] stacks, because walking and dropping a deep tree recurse, and a
//! stack overflow aborts the process; the depth guard bounds how deep that can go. A panic in
//! any of it (a parser bug) is caught per file and becomes `parser-panic`.
//!
//! Notebooks are parsed as one module made of their code cells (so an alias imported in one
//! cell is known in the next), with each site and diagnostic mapped back to its cell.
//! Output is sorted by (file, cell, line, column, module, member), whatever the thread order.

mod context;
mod decode;
pub(crate) mod depth;
mod dynamic;
pub(crate) mod file_refs;
mod guards;
mod imports;
pub mod named;
mod notebook;
mod run;
mod sites;
mod source_map;

pub use context::{Context, ContextSet};
pub use decode::{
    BINARY_FILE, DECODE_ERROR, FILE_TOO_LARGE, NUL_BYTE, UNKNOWN_ENCODING, UNREADABLE_FILE,
};
pub use depth::{MAX_NESTING, NESTING_TOO_DEEP};
pub use dynamic::{DYNAMIC_IMPORT_INVALID, DYNAMIC_IMPORT_NOT_LITERAL};
pub use imports::{RELATIVE_IMPORT_BEYOND_TOP_LEVEL, RELATIVE_IMPORT_NO_PACKAGE};
pub use notebook::{INVALID_NOTEBOOK, NOTEBOOK_NOT_PYTHON};
pub use run::with_parsed_module;
pub use run::{
    PARSER_PANIC, STACK_SIZE, SYNTAX_ERROR, parse_files, parse_files_cached, parse_source,
    use_large_stack_global_pool,
};
pub use sites::Sites;

use std::sync::Arc;

use schemars::JsonSchema;
use serde::Serialize;

use crate::diagnostic::{Code, Diagnostic};
use crate::names::ModuleName;

/// Every code the parse stage gives a diagnostic. The parse cache reads codes back through
/// this list (an entry with any other code is parsed again), so a new code belongs here.
pub const CODES: [Code; 15] = [
    BINARY_FILE,
    DECODE_ERROR,
    DYNAMIC_IMPORT_INVALID,
    DYNAMIC_IMPORT_NOT_LITERAL,
    FILE_TOO_LARGE,
    INVALID_NOTEBOOK,
    NESTING_TOO_DEEP,
    NOTEBOOK_NOT_PYTHON,
    NUL_BYTE,
    PARSER_PANIC,
    RELATIVE_IMPORT_BEYOND_TOP_LEVEL,
    RELATIVE_IMPORT_NO_PACKAGE,
    SYNTAX_ERROR,
    UNKNOWN_ENCODING,
    UNREADABLE_FILE,
];

/// One imported name at one place. Ordered by (file, cell, line, column, module, member), then
/// the remaining fields, so a sorted list reads in source order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ImportSite {
    /// Absolute dotted name (relative imports already resolved).
    pub module: ModuleName,
    /// For `from a import b`: `b`, which may turn out to be the submodule `a.b`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// The file, relative to the project, forward slashes.
    // Shared by the file's sites: one allocation per file, not per site.
    pub file: Arc<str>,
    /// 1-based; for a notebook, the line inside its cell.
    pub line: u32,
    /// 1-based, in characters.
    pub column: u32,
    /// For a notebook: the 1-based index of the code cell.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cell: Option<u32>,
    pub context: ContextSet,
    /// The fields most sites leave empty, boxed so that a plain site stays small (there is
    /// one per import of every file, all held at once).
    #[serde(flatten)]
    pub extra: Option<Box<SiteExtra>>,
    /// The byte offset, in the file's source, of the statement (or call) that names it: the
    /// members of one `from a import b, c` share it, so diagnostics can be given once per
    /// statement. Not part of any output.
    #[serde(skip)]
    #[schemars(skip)]
    pub statement: u32,
}

/// The rarely set fields of an [`ImportSite`]; never all empty (then there is none).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SiteExtra {
    /// The source text of the enclosing `conditional` test(s), innermost last.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<String>,
    /// The import as written when it was relative, such as `..a`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub relative: Option<String>,
    /// For a module named in a string (context `dynamic`): the call or setting it came from,
    /// such as `subprocess.run`, `runpy.run_module` or `pytest_plugins`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// For `importlib.metadata.entry_points(group=G)` and its kin: the entry-point group G the
    /// code loads plugins from (the site's module is the one providing the call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub entry_point_group: Option<String>,
}

impl SiteExtra {
    /// The box an [`ImportSite`] holds: `None` when every field is empty.
    pub fn boxed(self) -> Option<Box<SiteExtra>> {
        (self != SiteExtra::default()).then(|| Box::new(self))
    }
}

impl ImportSite {
    /// The source text of the enclosing `conditional` test(s), innermost last.
    pub fn conditions(&self) -> &[String] {
        self.extra.as_deref().map_or(&[], |e| &e.conditions)
    }

    /// The import as written when it was relative, such as `..a`.
    pub fn relative(&self) -> Option<&str> {
        self.extra.as_deref().and_then(|e| e.relative.as_deref())
    }

    /// The call or setting a module named in a string came from.
    pub fn call(&self) -> Option<&str> {
        self.extra.as_deref().and_then(|e| e.call.as_deref())
    }

    /// The entry-point group the code loads plugins from.
    pub fn entry_point_group(&self) -> Option<&str> {
        self.extra
            .as_deref()
            .and_then(|e| e.entry_point_group.as_deref())
    }
}

impl Ord for ImportSite {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (&self.file, self.cell, self.line, self.column)
            .cmp(&(&other.file, other.cell, other.line, other.column))
            .then_with(|| (&self.module, &self.member).cmp(&(&other.module, &other.member)))
            .then_with(|| {
                (
                    &self.context,
                    self.conditions(),
                    self.relative(),
                    self.call(),
                    self.entry_point_group(),
                )
                    .cmp(&(
                        &other.context,
                        other.conditions(),
                        other.relative(),
                        other.call(),
                        other.entry_point_group(),
                    ))
            })
    }
}

impl PartialOrd for ImportSite {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// What a file reference's path is relative to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anchor {
    /// A bare literal: relative to the working folder, taken as the project root or the
    /// file's own folder.
    Literal,
    /// Built from `__file__`: the file's folder, `up` levels higher.
    FileFolder { up: u32 },
}

/// A project path the code names with string literals (see [`file_refs`]), not yet checked
/// against the tree. Ordered by file, cell, line, then the path.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct FileRef {
    /// The file that names it, relative to the project, forward slashes.
    pub file: String,
    /// For a notebook: the 1-based index of the code cell.
    pub cell: Option<u32>,
    /// 1-based; for a notebook, the line inside its cell.
    pub line: u32,
    pub anchor: Anchor,
    /// Relative to the anchor, `/`-separated; may start with `..` parts.
    pub path: String,
    /// Whether it may name a folder (see [`file_refs::RawFileRef::folder`]).
    pub folder: bool,
}

/// What one file contributed.
#[derive(Debug, Default)]
pub struct FileImports {
    pub imports: Vec<ImportSite>,
    /// Sorted.
    pub file_refs: Vec<FileRef>,
    pub diagnostics: Vec<Diagnostic>,
}

/// What a project's files contributed, each list sorted.
#[derive(Debug, Default)]
pub struct ParsedFiles {
    pub imports: Sites,
    pub file_refs: Vec<FileRef>,
    pub diagnostics: Vec<Diagnostic>,
}

#[cfg(test)]
mod tests;
