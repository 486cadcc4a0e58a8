//! Names a file binds to the modules that matter here, and dynamic imports through them.
//!
//! [`Bindings`] is collected by a first pass over every statement of the file, at any depth and
//! regardless of order, so `import importlib as il` below the function that calls
//! `il.import_module(…)` still counts. The usual names (`importlib`, `typing`, `sys`,
//! `TYPE_CHECKING`, `__import__`) count even without an import in sight: `import importlib.util`
//! binds `importlib`, and projects define their own `TYPE_CHECKING = False`.
//!
//! Dynamic imports recognised (<https://docs.python.org/3/library/importlib.html#importlib.import_module>):
//! `importlib.import_module(name, package=None)` — a relative `name` (`.x`) resolves against the
//! literal `package` — and `__import__(name, globals, locals, fromlist, level)` — a positive
//! literal `level` resolves against the file's own package, like `from . import`. Both may be
//! reached through aliases (`import importlib as il`, `from importlib import import_module as
//! im`, `from builtins import __import__`). A name that is not a string literal is the warning
//! `dynamic-import-not-literal`; `fromlist` is not read.

use ruff_python_ast::statement_visitor::{StatementVisitor, walk_stmt};
use ruff_python_ast::{Expr, ExprCall, Stmt};

use crate::diagnostic::Code;

pub const DYNAMIC_IMPORT_NOT_LITERAL: Code = Code("dynamic-import-not-literal");
pub const DYNAMIC_IMPORT_INVALID: Code = Code("dynamic-import-invalid");

/// `sys` attributes whose tests make an import conditional.
pub const SYS_ATTRIBUTES: &[&str] = &[
    "version_info",
    "platform",
    "implementation",
    "hexversion",
    "version",
];

/// A set of names: the usual ones, which count without an import, and the ones the file's
/// imports bind, borrowed from its tree. Tiny (a file binds a name or two to each module that
/// matters here), so a list beats a hash table, and an empty one allocates nothing.
#[derive(Debug)]
pub struct NameSet<'a> {
    usual: &'static [&'static str],
    bound: Vec<&'a str>,
}

impl<'a> NameSet<'a> {
    const fn new(usual: &'static [&'static str]) -> Self {
        Self {
            usual,
            bound: Vec::new(),
        }
    }

    pub fn contains(&self, name: &str) -> bool {
        self.usual.contains(&name) || self.bound.contains(&name)
    }

    pub fn insert(&mut self, name: &'a str) {
        if !self.contains(name) {
            self.bound.push(name);
        }
    }
}

/// What the names of one file are bound to.
#[derive(Debug)]
pub struct Bindings<'a> {
    pub importlib: NameSet<'a>,
    pub import_module: NameSet<'a>,
    pub builtins: NameSet<'a>,
    pub dunder_import: NameSet<'a>,
    pub typing: NameSet<'a>,
    pub type_checking: NameSet<'a>,
    pub sys: NameSet<'a>,
    pub os: NameSet<'a>,
    pub platform: NameSet<'a>,
    /// Names bound to `sys.version_info`, `sys.platform`, `os.name` or a `platform` function.
    pub platform_values: NameSet<'a>,
}

impl Default for Bindings<'_> {
    fn default() -> Self {
        Self {
            importlib: NameSet::new(&["importlib"]),
            import_module: NameSet::new(&[]),
            builtins: NameSet::new(&["builtins"]),
            dunder_import: NameSet::new(&["__import__"]),
            typing: NameSet::new(&["typing", "typing_extensions"]),
            type_checking: NameSet::new(&["TYPE_CHECKING"]),
            sys: NameSet::new(&["sys"]),
            os: NameSet::new(&["os"]),
            platform: NameSet::new(&["platform"]),
            platform_values: NameSet::new(&[]),
        }
    }
}

impl<'a> Bindings<'a> {
    #[cfg(test)]
    pub fn collect(body: &'a [Stmt]) -> Self {
        let mut bindings = Self::default();
        each_import_binding(body, |bound| bindings.bind(bound));
        bindings
    }

    fn bind_module(&mut self, bound: &'a str, module: &str) {
        let set = match module {
            "importlib" => &mut self.importlib,
            "builtins" => &mut self.builtins,
            "typing" | "typing_extensions" => &mut self.typing,
            "sys" => &mut self.sys,
            "os" => &mut self.os,
            "platform" => &mut self.platform,
            _ => return,
        };
        set.insert(bound);
    }

    fn bind_member(&mut self, bound: &'a str, module: &str, member: &str) {
        let set = match (module, member) {
            ("importlib", "import_module") => &mut self.import_module,
            ("builtins", "__import__") => &mut self.dunder_import,
            ("typing" | "typing_extensions", "TYPE_CHECKING") => &mut self.type_checking,
            ("sys", m) if SYS_ATTRIBUTES.contains(&m) => &mut self.platform_values,
            ("os", "name") | ("platform", _) => &mut self.platform_values,
            _ => return,
        };
        set.insert(bound);
    }

    /// Records one name an import statement binds.
    pub fn bind(&mut self, bound: Bound<'a>) {
        match bound {
            Bound::Module { bound, module } => self.bind_module(bound, module),
            Bound::Member {
                bound,
                module,
                member,
            } => self.bind_member(bound, module, member),
        }
    }
}

/// A name an import statement binds: `import a.b as x` binds `x` to module `a.b` (`import a.b`
/// binds `a` to `a`), `from a import b as y` binds `y` to member `b` of `a`. Relative imports
/// bind nothing here.
#[derive(Debug, Clone, Copy)]
pub enum Bound<'a> {
    Module {
        bound: &'a str,
        module: &'a str,
    },
    Member {
        bound: &'a str,
        module: &'a str,
        member: &'a str,
    },
}

/// Calls `f` with every name the import statements of `body` bind, at any depth.
pub fn each_import_binding<'a>(body: &'a [Stmt], f: impl FnMut(Bound<'a>)) {
    ImportBindings(f).visit_body(body);
}

struct ImportBindings<F>(F);

impl<'a, F: FnMut(Bound<'a>)> StatementVisitor<'a> for ImportBindings<F> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        match stmt {
            Stmt::Import(import) => {
                for alias in &import.names {
                    let name = alias.name.as_str();
                    match &alias.asname {
                        Some(asname) => (self.0)(Bound::Module {
                            bound: asname.as_str(),
                            module: name,
                        }),
                        // `import a.b` binds `a`.
                        None => {
                            let top = name.split('.').next().unwrap_or(name);
                            (self.0)(Bound::Module {
                                bound: top,
                                module: top,
                            });
                        }
                    }
                }
            }
            Stmt::ImportFrom(import) if import.level == 0 => {
                if let Some(module) = &import.module {
                    for alias in &import.names {
                        let bound = alias.asname.as_ref().unwrap_or(&alias.name);
                        (self.0)(Bound::Member {
                            bound: bound.as_str(),
                            module: module.as_str(),
                            member: alias.name.as_str(),
                        });
                    }
                }
            }
            Stmt::ImportFrom(_)
            | Stmt::FunctionDef(_)
            | Stmt::ClassDef(_)
            | Stmt::Return(_)
            | Stmt::Delete(_)
            | Stmt::TypeAlias(_)
            | Stmt::Assign(_)
            | Stmt::AugAssign(_)
            | Stmt::AnnAssign(_)
            | Stmt::For(_)
            | Stmt::While(_)
            | Stmt::If(_)
            | Stmt::With(_)
            | Stmt::Match(_)
            | Stmt::Raise(_)
            | Stmt::Try(_)
            | Stmt::Assert(_)
            | Stmt::Global(_)
            | Stmt::Nonlocal(_)
            | Stmt::Expr(_)
            | Stmt::Pass(_)
            | Stmt::Break(_)
            | Stmt::Continue(_)
            | Stmt::IpyEscapeCommand(_) => walk_stmt(self, stmt),
        }
    }
}

/// Which import function a call reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DynamicKind {
    ImportModule,
    DunderImport,
}

impl DynamicKind {
    pub fn describe(self) -> &'static str {
        match self {
            DynamicKind::ImportModule => "importlib.import_module",
            DynamicKind::DunderImport => "__import__",
        }
    }

    /// Positional index and keyword of the argument that names the module's package or level.
    pub fn anchor_argument(self) -> (usize, &'static str) {
        match self {
            DynamicKind::ImportModule => (1, "package"),
            DynamicKind::DunderImport => (4, "level"),
        }
    }
}

/// Whether `call` calls an import function, directly or through an alias.
pub fn classify_call(call: &ExprCall, bindings: &Bindings<'_>) -> Option<DynamicKind> {
    match call.func.as_ref() {
        Expr::Name(name) => {
            let id = name.id.as_str();
            if bindings.dunder_import.contains(id) {
                Some(DynamicKind::DunderImport)
            } else if bindings.import_module.contains(id) {
                Some(DynamicKind::ImportModule)
            } else {
                None
            }
        }
        Expr::Attribute(attribute) => {
            let Expr::Name(value) = attribute.value.as_ref() else {
                return None;
            };
            let owner = value.id.as_str();
            match attribute.attr.as_str() {
                "import_module" if bindings.importlib.contains(owner) => {
                    Some(DynamicKind::ImportModule)
                }
                "__import__" if bindings.builtins.contains(owner) => {
                    Some(DynamicKind::DunderImport)
                }
                _ => None,
            }
        }
        _ => None,
    }
}

/// The argument at `position` or passed as `keyword`.
pub fn argument<'a>(call: &'a ExprCall, position: usize, keyword: &str) -> Option<&'a Expr> {
    let positional = call
        .arguments
        .args
        .iter()
        .take_while(|arg| !arg.is_starred_expr())
        .nth(position);
    positional.or_else(|| {
        call.arguments
            .keywords
            .iter()
            .find(|k| k.arg.as_ref().is_some_and(|a| a.as_str() == keyword))
            .map(|k| &k.value)
    })
}

/// A string literal's value (implicit concatenation included); `None` for anything else.
pub fn literal_str(expr: &Expr) -> Option<&str> {
    match expr {
        Expr::StringLiteral(literal) => Some(literal.value.to_str()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_module;

    fn with_bindings_of(source: &str, check: impl FnOnce(&Bindings<'_>)) {
        let parsed = parse_module(source).unwrap();
        check(&Bindings::collect(&parsed.syntax().body));
    }

    #[test]
    fn aliases_anywhere_in_the_file_are_collected() {
        let source = "def f():\n    import importlib as il\nfrom importlib import import_module as im\n\
             import typing as t\nfrom typing import TYPE_CHECKING as TC\nfrom sys import version_info as vi\n";
        with_bindings_of(source, |b| {
            assert!(b.importlib.contains("il"));
            assert!(b.import_module.contains("im"));
            assert!(b.typing.contains("t"));
            assert!(b.type_checking.contains("TC"));
            assert!(b.platform_values.contains("vi"));
            assert!(!b.import_module.contains("il"));
        });
    }

    #[test]
    fn import_of_a_submodule_binds_the_top_level_name() {
        with_bindings_of("import importlib.util as u\nimport os.path\n", |b| {
            assert!(!b.importlib.contains("u"));
            assert!(b.os.contains("os"));
        });
    }
}
