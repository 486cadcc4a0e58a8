//! Import roots and the module name each file has under them.
//!
//! The roots are what Python would put on `sys.path` for the project: the configured `roots`
//! (in the order written), a `src/` layout, then the project folder itself. A file is named
//! under the *most specific* root holding it (the longest one), as the Python packaging guide
//! describes the src layout (<https://packaging.python.org/en/latest/discussions/src-layout-vs-flat-layout/>):
//! `src/pkg/a.py` is `pkg.a`, never `src.pkg.a`.
//!
//! Corner cases:
//! - `src/` with an `__init__.py` is a package called `src` (some projects `import src.x`),
//!   not a src layout, so it is not a root.
//! - Folders without `__init__.py` still name modules (PEP 420 namespace packages).
//! - A path component that is not an identifier (`run-me.py`, `my.tools/`) gives no name.
//! - A configured root is canonicalised, so `lib/`, `./lib` and `lib/../lib` are one root; a
//!   root that leaves the project is refused: envscan ships nothing outside it.

use std::path::{Path, PathBuf};

use crate::diagnostic::{Code, Diagnostic};
use crate::names::ModuleName;

use super::rules::rel_path;
use super::{ImportRoot, SourceKind};

pub const IMPORT_ROOT_MISSING: Code = Code("import-root-missing");
pub const IMPORT_ROOT_OUTSIDE_PROJECT: Code = Code("import-root-outside-project");

/// The project's import roots, most specific first: configured ones, `src/`, the project.
pub(crate) fn import_roots(
    root: &Path,
    configured: &[PathBuf],
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<ImportRoot> {
    let mut roots: Vec<ImportRoot> = Vec::new();
    let add = |roots: &mut Vec<ImportRoot>, path: PathBuf| {
        let rel = rel_path(root, &path);
        if !roots.iter().any(|known| known.rel == rel) {
            roots.push(ImportRoot { rel, path });
        }
    };
    for wanted in configured {
        let shown = wanted.display().to_string();
        let path = match fs_err::canonicalize(root.join(wanted)) {
            Ok(path) if path.is_dir() => path,
            Ok(_) => {
                diagnostics.push(Diagnostic::warning(
                    IMPORT_ROOT_MISSING,
                    format!("import root `{shown}` is not a folder"),
                ));
                continue;
            }
            Err(_) => {
                diagnostics.push(
                    Diagnostic::warning(
                        IMPORT_ROOT_MISSING,
                        format!("import root `{shown}` does not exist"),
                    )
                    .with_hint("roots are folders relative to the project"),
                );
                continue;
            }
        };
        if !path.starts_with(root) {
            diagnostics.push(Diagnostic::warning(
                IMPORT_ROOT_OUTSIDE_PROJECT,
                format!("import root `{shown}` is outside the project; ignored"),
            ));
            continue;
        }
        add(&mut roots, path);
    }
    let src = root.join("src");
    if src.is_dir() && !src.join("__init__.py").is_file() {
        add(&mut roots, src);
    }
    add(&mut roots, root.to_path_buf());
    roots
}

/// The module name of the file at `rel` and whether it is a package's `__init__.py`.
pub(crate) fn module_of(
    rel: &str,
    kind: SourceKind,
    roots: &[ImportRoot],
) -> (Option<ModuleName>, bool) {
    if kind == SourceKind::Notebook {
        return (None, false);
    }
    let Some(inside) = roots
        .iter()
        .filter_map(|root| strip_root(rel, &root.rel))
        .min_by_key(|inside| inside.len())
    else {
        return (None, false);
    };
    let Some(path) = inside.strip_suffix(".py") else {
        return (None, false);
    };
    let (folder, stem) = path.rsplit_once('/').unwrap_or(("", path));
    let is_package = stem == "__init__";
    // A package is named by its folder; the root's own `__init__.py` (folder "") names nothing.
    let named = if is_package { folder } else { path };
    // The path's components, each an identifier, joined with dots: a component with a dot in
    // it is none (`from_components` would refuse it), and one dotted check of the whole name
    // costs a tenth of checking and pushing each component.
    let module = if named.contains('.') {
        None
    } else {
        ModuleName::new(&named.replace('/', "."))
    };
    (module, is_package)
}

/// The module name of the extension module at `rel`: `pkg.fastops` for
/// `pkg/fastops.cpython-311-x86_64-linux-gnu.so` under the project root.
pub(crate) fn extension_module_of(rel: &str, roots: &[ImportRoot]) -> Option<ModuleName> {
    let inside = roots
        .iter()
        .filter_map(|root| strip_root(rel, &root.rel))
        .min_by_key(|inside| inside.len())?;
    let mut parts: Vec<&str> = inside.split('/').collect();
    let file = parts.pop()?;
    parts.push(crate::resolve::finder::extension_stem(file)?);
    ModuleName::from_components(parts)
}

/// `rel` with the root's folder removed, when the root holds it.
fn strip_root<'a>(rel: &'a str, root: &str) -> Option<&'a str> {
    if root.is_empty() {
        return Some(rel);
    }
    rel.strip_prefix(root)?.strip_prefix('/')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roots(rels: &[&str]) -> Vec<ImportRoot> {
        rels.iter()
            .map(|rel| ImportRoot {
                rel: rel.to_string(),
                path: PathBuf::from("/p").join(rel),
            })
            .collect()
    }

    fn name(rel: &str, roots: &[ImportRoot]) -> (Option<String>, bool) {
        let (module, is_package) = module_of(rel, SourceKind::Python, roots);
        (module.map(String::from), is_package)
    }

    #[test]
    fn files_are_named_under_the_most_specific_root() {
        let roots = roots(&["src", ""]);
        assert_eq!(name("src/pkg/a.py", &roots), (Some("pkg.a".into()), false));
        assert_eq!(name("pkg/__init__.py", &roots), (Some("pkg".into()), true));
        assert_eq!(
            name("tests/test_a.py", &roots),
            (Some("tests.test_a".into()), false)
        );
    }

    #[test]
    fn a_root_matches_whole_folder_names_only() {
        let roots = roots(&["src", ""]);
        assert_eq!(
            name("srcutils/a.py", &roots),
            (Some("srcutils.a".into()), false)
        );
    }

    #[test]
    fn paths_that_are_not_identifiers_have_no_module() {
        let roots = roots(&[""]);
        assert_eq!(name("tools/run-me.py", &roots), (None, false));
        assert_eq!(name("my.tools/a.py", &roots), (None, false));
        assert_eq!(name("__init__.py", &roots), (None, true));
    }

    #[test]
    fn extension_modules_are_named_like_the_module_they_define() {
        let roots = roots(&["src", ""]);
        let named = |rel| extension_module_of(rel, &roots).map(String::from);
        assert_eq!(
            named("src/pkg/fastops.cpython-311-x86_64-linux-gnu.so"),
            Some("pkg.fastops".into())
        );
        assert_eq!(named("fastops.abi3.so"), Some("fastops".into()));
        assert_eq!(named("lib/fastops.pyd"), Some("lib.fastops".into()));
        assert_eq!(named("my-lib/fastops.so"), None);
    }

    #[test]
    fn notebooks_have_no_module() {
        let roots = roots(&[""]);
        assert_eq!(
            module_of("analysis.ipynb", SourceKind::Notebook, &roots),
            (None, false)
        );
    }

    #[test]
    fn src_is_a_root_only_without_an_init_file() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap();
        fs_err::create_dir_all(root.join("src")).unwrap();
        let mut diagnostics = Vec::new();
        let found = import_roots(&root, &[], &mut diagnostics);
        let rels: Vec<&str> = found.iter().map(|r| r.rel.as_str()).collect();
        assert_eq!(rels, ["src", ""]);
        fs_err::write(root.join("src/__init__.py"), "").unwrap();
        let found = import_roots(&root, &[], &mut diagnostics);
        let rels: Vec<&str> = found.iter().map(|r| r.rel.as_str()).collect();
        assert_eq!(rels, [""]);
        assert!(diagnostics.is_empty());
    }

    #[test]
    fn configured_roots_come_first_and_missing_or_outside_ones_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = fs_err::canonicalize(dir.path()).unwrap().join("proj");
        fs_err::create_dir_all(root.join("lib/vendor")).unwrap();
        fs_err::create_dir_all(root.join("src")).unwrap();
        let configured = [
            PathBuf::from("lib/vendor"),
            PathBuf::from("./lib/vendor"),
            PathBuf::from("missing"),
            PathBuf::from(".."),
        ];
        let mut diagnostics = Vec::new();
        let found = import_roots(&root, &configured, &mut diagnostics);
        let rels: Vec<&str> = found.iter().map(|r| r.rel.as_str()).collect();
        assert_eq!(rels, ["lib/vendor", "src", ""]);
        let codes: Vec<Code> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, [IMPORT_ROOT_MISSING, IMPORT_ROOT_OUTSIDE_PROJECT]);
        assert!(diagnostics[0].message.contains("missing"));
    }
}
