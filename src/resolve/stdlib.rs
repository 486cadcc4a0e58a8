//! Which module names the standard library of a target Python version provides.
//!
//! A dotted name is standard library when its top-level name is: `collections.abc`,
//! `os.path`, `importlib.util`, `http.cookies` and `xml.etree.ElementTree` all are. Top-level
//! names come from `ruff_python_stdlib::sys::is_known_standard_library`, whose per-version
//! lists are the union over platforms (`winreg` and `msvcrt` are stdlib on Linux too: a lock
//! made on Linux may run on Windows, and no distribution provides them), plus two names every
//! CPython installs that ruff leaves out:
//! - `__future__`, which isort files in a section of its own (`Lib/__future__.py`, listed in
//!   `sys.stdlib_module_names`);
//! - `test`, CPython's regression-test package (`from test import support`), which
//!   `sys.stdlib_module_names` leaves out on purpose but every python.org build installs
//!   (Debian moves it to `libpython3.X-testsuite`). A project's own `test` package still
//!   shadows it; what must not happen is sending an import of it to an index.
//!
//! The checked-in oracle (`tests/data/stdlib/cpython-X.Y.txt`, written by
//! `scripts/gen-stdlib` from the real interpreters 3.8 to 3.13) is what the tests compare this
//! answer against, name by name and submodule by submodule; it is not compiled in, since a
//! Linux interpreter cannot list the modules that only its Windows build has.
//!
//! Some standard-library modules are never shadowed by a project file ([`is_never_shadowed`]):
//! - builtin modules (`sys.builtin_module_names` of Linux builds), compiled into the
//!   interpreter and found before any path entry;
//! - the modules every interpreter start imports before the program's own folder is searched
//!   (`site` and what it needs: `os`, `stat`, `codecs`, `io`, `abc`, `encodings`, ...), which
//!   later imports take from `sys.modules`;
//! - from 3.11, the frozen modules (`_imp._frozen_module_names()`): the frozen importer comes
//!   before the path finder, so a project's `runpy.py` shadows `runpy` on 3.10, not on 3.11.
//!
//! Checked against real interpreters (3.8, 3.10, 3.11, 3.13) with a project holding a file of
//! each name: CPython loaded none of them but `runpy`, and that only before 3.11.

use crate::names::ModuleName;
use crate::settings::PythonVersion;

/// Whether `module` (or, for a dotted name, its top-level package) is part of the standard
/// library of `python`.
pub fn is_stdlib(python: PythonVersion, module: &ModuleName) -> bool {
    is_stdlib_top_level(python, module.top_level())
}

/// Standard-library top-level names that ruff's lists leave out (see the module docs).
const EXTRA_TOP_LEVEL: &[&str] = &["__future__", "test"];

/// Whether the top-level name `top` is a standard-library module of `python`.
pub fn is_stdlib_top_level(python: PythonVersion, top: &str) -> bool {
    python.major == 3
        && (EXTRA_TOP_LEVEL.contains(&top)
            || ruff_python_stdlib::sys::is_known_standard_library(python.minor, top))
}

/// Modules compiled into CPython on Linux (`sys.builtin_module_names`, 3.8–3.13, of the
/// python.org builds; distributions such as Debian build more in): a project file of the
/// same name never shadows them.
const BUILTIN_MODULES: &[&str] = &[
    "_abc",
    "_ast",
    "_codecs",
    "_collections",
    "_functools",
    "_imp",
    "_io",
    "_locale",
    "_operator",
    "_peg_parser",
    "_signal",
    "_sre",
    "_stat",
    "_string",
    "_suggestions",
    "_symtable",
    "_sysconfig",
    "_thread",
    "_tokenize",
    "_tracemalloc",
    "_typing",
    "_warnings",
    "_weakref",
    "atexit",
    "builtins",
    "errno",
    "faulthandler",
    "gc",
    "itertools",
    "marshal",
    "posix",
    "pwd",
    "sys",
    "time",
    "xxsubtype",
];

/// Imported by every interpreter start (with `site`, 3.8–3.13) before the program runs.
const IMPORTED_AT_STARTUP: &[&str] = &[
    "_collections_abc",
    "_sitebuiltins",
    "abc",
    "codecs",
    "encodings",
    "genericpath",
    "io",
    "os",
    "posixpath",
    "site",
    "stat",
    "zipimport",
];

/// Top-level frozen modules of 3.11+ (`_imp._frozen_module_names()`, less the test modules
/// and those already imported at startup).
const FROZEN_SINCE_311: &[&str] = &["ntpath", "runpy"];

/// Whether `top` is compiled into the interpreter, so that no file on the path shadows it.
pub fn is_builtin_module(top: &str) -> bool {
    BUILTIN_MODULES.binary_search(&top).is_ok()
}

/// Whether CPython `python` loads its own `top` whatever files the program's folder or the
/// project's import roots hold (see the module docs).
pub fn is_never_shadowed(python: PythonVersion, top: &str) -> bool {
    is_builtin_module(top)
        || (python.major == 3
            && (IMPORTED_AT_STARTUP.binary_search(&top).is_ok()
                || (python.minor >= 11 && FROZEN_SINCE_311.binary_search(&top).is_ok())))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PY311: PythonVersion = PythonVersion {
        major: 3,
        minor: 11,
    };

    /// The lists are searched by bisection (every import site asks).
    #[test]
    fn the_never_shadowed_lists_are_sorted() {
        for list in [BUILTIN_MODULES, IMPORTED_AT_STARTUP, FROZEN_SINCE_311] {
            assert!(list.is_sorted(), "{list:?}");
        }
    }

    fn stdlib(name: &str) -> bool {
        is_stdlib(PY311, &ModuleName::new(name).unwrap())
    }

    // Regression: `from __future__ import annotations` was `unresolved-import`, since ruff's
    // list (isort's sections) has no `__future__`.
    #[test]
    fn future_is_standard_library() {
        assert!(stdlib("__future__"));
    }

    // Found by the stdlib oracle: ruff's lists have no `test` (CPython's test package).
    #[test]
    fn cpythons_test_package_is_standard_library() {
        assert!(stdlib("test.support"));
    }

    #[test]
    fn submodules_of_standard_library_packages_are_standard_library() {
        for name in [
            "collections.abc",
            "os.path",
            "importlib.util",
            "http.cookies",
        ] {
            assert!(stdlib(name), "{name}");
        }
        assert!(!stdlib("sqlalchemy.orm"));
    }

    #[test]
    fn frozen_modules_are_shadowed_only_before_311() {
        let py310 = PythonVersion {
            major: 3,
            minor: 10,
        };
        assert!(!is_never_shadowed(py310, "runpy"));
        assert!(is_never_shadowed(PY311, "runpy"));
        assert!(is_never_shadowed(py310, "os"));
        assert!(is_never_shadowed(py310, "sys"));
        assert!(!is_never_shadowed(PY311, "logging"));
    }

    #[test]
    fn the_answer_follows_the_target_version() {
        let name = ModuleName::new("distutils.core").unwrap();
        assert!(is_stdlib(PY311, &name));
        assert!(!is_stdlib(
            PythonVersion {
                major: 3,
                minor: 12
            },
            &name
        ));
    }
}
