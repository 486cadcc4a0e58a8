//! setuptools' PEP 660 editable finders, read statically.
//!
//! `pip install -e` with setuptools ≥ 64 on a flat layout writes
//! `__editable__.<name>-<ver>.pth` holding `import __editable___<name>_<ver>_finder;
//! __editable___<name>_<ver>_finder.install()`, and the finder module beside it. The finder
//! holds two dict literals:
//!
//! ```python
//! MAPPING: dict[str, str] = {'localutils': '/abs/src/localutils'}   # setuptools ≥ 69
//! NAMESPACES: dict[str, list[str]] = {}
//! MAPPING = {'localutils': '/abs/src/localutils'}                   # older releases
//! ```
//!
//! They are parsed with ruff's parser (the one the scan uses); nothing is executed. Only
//! top-level assignments with string keys and string (or list-of-string) values count; any
//! other entry is skipped with a diagnostic. A relative path is taken relative to the
//! site-packages folder (setuptools always writes absolute ones).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ruff_python_ast::{Expr, Stmt};

use super::record::normalize_lexically;
use crate::diagnostic::{Code, Diagnostic};

pub const EDITABLE_FINDER_UNREADABLE: Code = Code("editable-finder-unreadable");

/// The deepest line a finder may nest: setuptools' finders nest 3 levels; the rest of the
/// scan parses up to [`crate::parse::MAX_NESTING`] on large stacks, this runs on any thread.
pub const FINDER_MAX_NESTING: u32 = 100;

/// One finder module and what it maps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EditableFinder {
    /// The finder module.
    pub file: PathBuf,
    /// The `.pth` file whose `import` line installs it.
    pub pth: PathBuf,
    /// Top-level module name → its source folder (or file).
    pub mapping: BTreeMap<String, PathBuf>,
    /// Namespace package → its folders.
    pub namespaces: BTreeMap<String, Vec<PathBuf>>,
}

/// The finder module an `import` line of a `.pth` file loads, when it is setuptools' one.
pub fn finder_module_of(import_line: &str) -> Option<&str> {
    let rest = import_line.strip_prefix("import")?.trim_start();
    let name = rest
        .split(|c: char| c == ';' || c == ',' || c.is_whitespace())
        .next()?;
    (name.starts_with("__editable__") && name.ends_with("_finder")).then_some(name)
}

/// Reads the finder that an `import` line in `pth` loads, if there is one.
pub fn read_finder(
    site_packages: &Path,
    pth: &Path,
    import_line: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Option<EditableFinder> {
    let module = finder_module_of(import_line)?;
    let file = site_packages.join(format!("{module}.py"));
    let source = match crate::fsread::read_lossy_capped(&file, crate::fsread::cap::METADATA) {
        Ok(text) => text,
        Err(err) => {
            diagnostics.push(
                Diagnostic::warning(EDITABLE_FINDER_UNREADABLE, err.to_string())
                    .with_file(pth.display().to_string()),
            );
            return None;
        }
    };
    let mut finder = parse_finder(&source, &file, site_packages, diagnostics);
    finder.pth = pth.to_path_buf();
    Some(finder)
}

/// Reads `MAPPING` and `NAMESPACES` from a finder's source.
pub fn parse_finder(
    source: &str,
    file: &Path,
    site_packages: &Path,
    diagnostics: &mut Vec<Diagnostic>,
) -> EditableFinder {
    let mut finder = EditableFinder {
        file: file.to_path_buf(),
        ..EditableFinder::default()
    };
    let mut report = |message: String| {
        diagnostics.push(
            Diagnostic::warning(EDITABLE_FINDER_UNREADABLE, message)
                .with_file(file.display().to_string()),
        );
    };
    // Parsing, walking and dropping the tree recurse once per nesting level, on whatever
    // thread reads the environment: a finder nested thousands deep overflowed the stack
    // (SIGSEGV, found by fuzz/fuzz_targets/pth.rs). setuptools writes two flat dict literals.
    let (_, deep) = crate::parse::depth::guard(source, FINDER_MAX_NESTING);
    if let Some(first) = deep.first() {
        report(format!(
            "line {} nests about {} levels deep (limit {FINDER_MAX_NESTING}); not read",
            first.line, first.depth
        ));
        return finder;
    }
    let parsed = match ruff_python_parser::parse_module(source) {
        Ok(parsed) => parsed,
        Err(err) => {
            report(format!("the finder does not parse: {err}"));
            return finder;
        }
    };
    let path_of = |text: &str| normalize_lexically(&site_packages.join(text));
    for stmt in parsed.suite() {
        let (target, value) = match stmt {
            Stmt::Assign(assign) if assign.targets.len() == 1 => {
                (&assign.targets[0], Some(&*assign.value))
            }
            Stmt::AnnAssign(assign) => (&*assign.target, assign.value.as_deref()),
            _ => continue,
        };
        let (Expr::Name(name), Some(value)) = (target, value) else {
            continue;
        };
        let which = name.id.as_str();
        if which != "MAPPING" && which != "NAMESPACES" {
            continue;
        }
        let Expr::Dict(dict) = value else {
            report(format!("{which} is not a dict literal"));
            continue;
        };
        for item in &dict.items {
            let key = match &item.key {
                Some(Expr::StringLiteral(s)) => s.value.to_str().to_string(),
                _ => {
                    report(format!("{which} has a key that is not a string literal"));
                    continue;
                }
            };
            match (which, &item.value) {
                ("MAPPING", Expr::StringLiteral(s)) => {
                    finder.mapping.insert(key, path_of(s.value.to_str()));
                }
                ("NAMESPACES", Expr::List(list)) => {
                    let paths = list
                        .elts
                        .iter()
                        .filter_map(|e| match e {
                            Expr::StringLiteral(s) => Some(path_of(s.value.to_str())),
                            _ => None,
                        })
                        .collect();
                    finder.namespaces.insert(key, paths);
                }
                _ => report(format!(
                    "{which}[{key:?}] is not a literal of the expected type"
                )),
            }
        }
    }
    finder
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(source: &str) -> (EditableFinder, Vec<Diagnostic>) {
        let mut diags = Vec::new();
        let finder = parse_finder(source, Path::new("/sp/f.py"), Path::new("/sp"), &mut diags);
        (finder, diags)
    }

    #[test]
    fn annotated_mapping_and_namespaces_are_read() {
        let (finder, diags) = parse(
            "import sys\nMAPPING: dict[str, str] = {'localutils': '/src/localutils'}\n\
             NAMESPACES: dict[str, list[str]] = {'ns': ['/src/ns']}\n",
        );
        assert!(diags.is_empty());
        assert_eq!(
            finder.mapping["localutils"],
            PathBuf::from("/src/localutils")
        );
        assert_eq!(finder.namespaces["ns"], [PathBuf::from("/src/ns")]);
    }

    #[test]
    fn plain_mapping_assignment_of_older_setuptools_is_read() {
        let (finder, _) = parse("MAPPING = {'a': '/x/a', \"b\": '/x/b.py'}\nNAMESPACES = {}\n");
        assert_eq!(finder.mapping.len(), 2);
        assert_eq!(finder.mapping["b"], PathBuf::from("/x/b.py"));
    }

    #[test]
    fn non_literal_entries_are_reported_not_executed() {
        let (finder, diags) = parse("MAPPING = {'a': os.getcwd(), 'b': '/b'}\n");
        assert_eq!(finder.mapping.keys().collect::<Vec<_>>(), ["b"]);
        assert_eq!(diags[0].code, EDITABLE_FINDER_UNREADABLE);
    }

    #[test]
    fn a_finder_nested_too_deep_is_refused_without_overflowing_the_stack() {
        // Regression (fuzz target `pth`): 200,000 `[` overflowed the reading thread's stack
        // in ruff's parser (SIGSEGV, the whole run lost). Run on a main-thread-sized stack.
        let source = format!("MAPPING = {{'a': '/x/a'}}\nN = {}\n", "[".repeat(200_000));
        let (finder, diags) = std::thread::Builder::new()
            .stack_size(8 * 1024 * 1024)
            .spawn(move || parse(&source))
            .unwrap()
            .join()
            .unwrap();
        assert!(finder.mapping.is_empty());
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].code, EDITABLE_FINDER_UNREADABLE);
        assert!(
            diags[0].message.contains("line 2 nests"),
            "{}",
            diags[0].message
        );
    }

    #[test]
    fn only_setuptools_finder_imports_are_followed() {
        assert_eq!(
            finder_module_of(
                "import __editable___x_1_0_finder; __editable___x_1_0_finder.install()"
            ),
            Some("__editable___x_1_0_finder")
        );
        assert_eq!(finder_module_of("import _virtualenv"), None);
    }
}
