//! File paths the code names with string literals, so the project archive can carry the files
//! the code reads (`open("README.md")`, `Path(__file__).parent / "data" / "x.json"`).
//!
//! Two shapes are collected, and the selection ([`crate::project_files`]) keeps those that
//! exist in the project:
//! - a bare string literal (`"tests/fake-repo-pre/"`, `'client_certs'`): Python resolves a
//!   relative path against the working folder, which is the project root for a test run and
//!   the file's own folder for a script run there, so it is looked for under both
//!   ([`Anchor::Literal`]);
//! - a path built from `__file__` with all-literal parts, through `pathlib`
//!   (`Path(__file__)`, `.parent`, `.parents[n]`, `.resolve()`, `.absolute()`, `/`,
//!   `.joinpath(…)`, `.with_name(…)`) or `os.path` (`dirname`, `abspath`, `realpath`,
//!   `join`), also through a name bound to such a path anywhere in the file
//!   (`HERE = Path(__file__).parent` … `HERE / "data"`): anchored at the file's folder
//!   ([`Anchor::FileFolder`]). `"a" / "b"` joins of literals are one literal path.
//!
//! An expression that evaluates whole is one reference; its parts are not also taken alone,
//! so `HERE / "data" / "x.json"` never pulls in all of `data/`. Docstrings are skipped, and
//! so are literals that cannot be a relative path (empty, absolute, a URL, a line break, a
//! backslash, longer than [`MAX_LITERAL`]).

use rustc_hash::FxHashMap as HashMap;

use ruff_python_ast::statement_visitor::{self, StatementVisitor};
use ruff_python_ast::{Expr, Number, Operator, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::Anchor;

/// Longer string literals are not taken for paths.
pub const MAX_LITERAL: usize = 1024;

/// A path found in the source, before its line is known.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RawFileRef {
    pub anchor: Anchor,
    /// Relative, `/`-separated, without `.` parts; may start with `..` parts.
    pub path: String,
    /// Whether it may name a folder: a path built with `/`, `join` or `Path(…)`, or a literal
    /// with a `/` in it. A lone word (`"ci"`, `"coverage"`) is far more often a value than a
    /// folder (seaborn's `errorbar="ci"`), so it names a file or nothing.
    pub folder: bool,
    pub offset: TextSize,
}

/// What an expression evaluates to, as far as paths go.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    /// The file itself (`__file__`, `Path(__file__).resolve()`).
    File,
    /// The file's folder, `up` levels higher, then `parts`.
    Dir { up: u32, parts: Vec<String> },
    /// A relative path of literal parts.
    Lit(Vec<String>),
}

impl Value {
    fn parent(self) -> Option<Value> {
        match self {
            Value::File => Some(Value::Dir {
                up: 0,
                parts: Vec::new(),
            }),
            Value::Dir { up, mut parts } => {
                if parts.pop().is_none() {
                    return Some(Value::Dir { up: up + 1, parts });
                }
                Some(Value::Dir { up, parts })
            }
            Value::Lit(mut parts) => {
                parts.pop()?;
                Some(Value::Lit(parts))
            }
        }
    }

    fn join(self, more: Vec<String>) -> Option<Value> {
        match self {
            Value::File => None,
            Value::Dir { up, mut parts } => {
                parts.extend(more);
                Some(Value::Dir { up, parts })
            }
            Value::Lit(mut parts) => {
                parts.extend(more);
                Some(Value::Lit(parts))
            }
        }
    }
}

/// The file references of one module, found on the import collector's walk
/// ([`super::imports::Collector`]): one walk over every expression of a file, not two. The
/// walk calls [`FileRefs::enter`] before an expression's children and [`FileRefs::leave`] after
/// them, and leaves out bare string statements ([`is_docstring`]).
pub struct FileRefs {
    names: HashMap<String, Value>,
    found: Vec<RawFileRef>,
    /// How many enclosing expressions were taken whole (or are the file's own folder): below
    /// them nothing is taken again.
    taken: u32,
    /// The offsets of the literals on the right of a `/` already taken with it, to pass over.
    right_sides: Vec<TextSize>,
}

impl FileRefs {
    /// Ready for the walk of `body`, knowing the names bound to paths anywhere in it.
    pub fn new(body: &[Stmt]) -> Self {
        let mut names = Names::default();
        StatementVisitor::visit_body(&mut names, body);
        Self {
            names: names.bound,
            found: Vec::new(),
            taken: 0,
            right_sides: Vec::new(),
        }
    }

    /// Takes `expr` if it is a reference; `true` when its children are to be passed over
    /// (then [`FileRefs::leave`] gets `true` after them).
    pub fn enter(&mut self, expr: &Expr) -> bool {
        // A name bound to a path was taken where it was bound, not at each use.
        if self.taken > 0 || matches!(expr, Expr::Name(_)) {
            return false;
        }
        let compound = !matches!(expr, Expr::StringLiteral(_));
        if !compound && let Some(at) = self.right_sides.iter().rposition(|&o| o == expr.start()) {
            self.right_sides.swap_remove(at);
            return false;
        }
        if let Some(value) = evaluate(expr, &self.names) {
            let found = match value {
                Value::Dir { up, parts } if !parts.is_empty() => {
                    Some((Anchor::FileFolder { up }, parts, true))
                }
                Value::Lit(parts) if !parts.is_empty() => {
                    let folder = compound || parts.len() > 1;
                    Some((Anchor::Literal, parts, folder))
                }
                _ => None,
            };
            if let Some((anchor, parts, folder)) = found {
                self.found.push(RawFileRef {
                    anchor,
                    path: parts.join("/"),
                    folder,
                    offset: expr.start(),
                });
                self.taken += 1;
                return true;
            }
            if compound {
                // `Path(__file__).parent` alone: the file's own folder, not a file it reads.
                self.taken += 1;
                return true;
            }
        }
        // `ROOT / "certs"` with `ROOT` imported from elsewhere: the right side is still a path,
        // taken here and not again when the walk reaches it; the left side is walked as usual.
        if let Expr::BinOp(binop) = expr
            && binop.op == Operator::Div
            && let Expr::StringLiteral(literal) = &*binop.right
            && let Some(parts) = literal_parts(literal.value.to_str())
        {
            self.found.push(RawFileRef {
                anchor: Anchor::Literal,
                path: parts.join("/"),
                folder: true,
                offset: binop.right.start(),
            });
            self.right_sides.push(binop.right.start());
        }
        false
    }

    /// After the children of an expression [`FileRefs::enter`] saw, with what it returned.
    pub fn leave(&mut self, entered: bool) {
        if entered {
            self.taken -= 1;
        }
    }

    pub fn into_found(self) -> Vec<RawFileRef> {
        self.found
    }
}

/// A bare string statement (a docstring): it names nothing the code reads, and holds no import.
pub fn is_docstring(stmt: &Stmt) -> bool {
    matches!(stmt, Stmt::Expr(expr) if expr.value.is_string_literal_expr())
}

/// Names bound (anywhere in the file) to a path value: the first binding wins. Bindings are
/// statements, so only statements are walked (an expression holds none).
#[derive(Default)]
struct Names {
    bound: HashMap<String, Value>,
}

impl<'a> StatementVisitor<'a> for Names {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        if let Stmt::Assign(assign) = stmt
            && let [Expr::Name(target)] = &assign.targets[..]
            && let Some(value) = evaluate(&assign.value, &self.bound)
            && !matches!(value, Value::Lit(_))
        {
            self.bound.entry(target.id.to_string()).or_insert(value);
        }
        statement_visitor::walk_stmt(self, stmt);
    }
}

/// The path value of `expr`, when it is one built from literals and `__file__`.
fn evaluate(expr: &Expr, names: &HashMap<String, Value>) -> Option<Value> {
    match expr {
        Expr::StringLiteral(literal) => literal_parts(literal.value.to_str()).map(Value::Lit),
        Expr::Name(name) if name.id.as_str() == "__file__" => Some(Value::File),
        Expr::Name(name) => names.get(name.id.as_str()).cloned(),
        Expr::BinOp(binop) if binop.op == Operator::Div => {
            let left = evaluate(&binop.left, names)?;
            let Value::Lit(right) = evaluate(&binop.right, names)? else {
                return None;
            };
            left.join(right)
        }
        Expr::Attribute(attribute) => {
            let base = evaluate(&attribute.value, names)?;
            match attribute.attr.as_str() {
                "parent" => base.parent(),
                _ => None,
            }
        }
        // `Path(__file__).parents[1]`
        Expr::Subscript(subscript) => {
            let Expr::Attribute(attribute) = &*subscript.value else {
                return None;
            };
            if attribute.attr.as_str() != "parents" {
                return None;
            }
            let Expr::NumberLiteral(number) = &*subscript.slice else {
                return None;
            };
            let Number::Int(index) = &number.value else {
                return None;
            };
            let levels = u32::from(index.as_u8()?) + 1;
            let mut value = evaluate(&attribute.value, names)?;
            for _ in 0..levels {
                value = value.parent()?;
            }
            Some(value)
        }
        Expr::Call(call) => evaluate_call(call, names),
        _ => None,
    }
}

fn evaluate_call(
    call: &ruff_python_ast::ExprCall,
    names: &HashMap<String, Value>,
) -> Option<Value> {
    let args = &call.arguments.args;
    let literal_args = |args: &[Expr]| -> Option<Vec<String>> {
        let mut parts = Vec::new();
        for arg in args {
            let Value::Lit(more) = evaluate(arg, names)? else {
                return None;
            };
            parts.extend(more);
        }
        Some(parts)
    };
    let dotted = Dotted::of(&call.func);
    match dotted.as_ref().map(Dotted::parts) {
        // Constructors and conversions that keep the path.
        Some(
            ["Path" | "PurePath" | "PosixPath" | "abspath" | "realpath" | "str"]
            | ["pathlib", "Path" | "PurePath"]
            | ["os", "fspath"]
            | ["os", "path", "abspath" | "realpath" | "normpath"],
        ) if args.len() == 1 && call.arguments.keywords.is_empty() => evaluate(&args[0], names),
        Some(["dirname"] | ["os", "path", "dirname"]) if args.len() == 1 => {
            evaluate(&args[0], names)?.parent()
        }
        Some(["join"] | ["os", "path", "join"]) if !args.is_empty() => {
            let base = evaluate(&args[0], names)?;
            base.join(literal_args(&args[1..])?)
        }
        _ => {
            // Methods of a path value.
            let Expr::Attribute(attribute) = &*call.func else {
                return None;
            };
            let base = evaluate(&attribute.value, names)?;
            match attribute.attr.as_str() {
                "resolve" | "absolute" | "expanduser" if args.is_empty() => Some(base),
                "joinpath" => base.join(literal_args(args)?),
                "with_name" if args.len() == 1 => base.parent()?.join(literal_args(args)?),
                _ => None,
            }
        }
    }
}

/// A chain of at most three names (`Path`, `os.fspath`, `os.path.join`), the longest a path
/// function is called by, read without building the dotted string: every call of every file
/// is looked at here.
struct Dotted<'e> {
    parts: [&'e str; 3],
    len: usize,
}

impl<'e> Dotted<'e> {
    fn of(expr: &'e Expr) -> Option<Self> {
        match expr {
            Expr::Name(name) => Some(Dotted {
                parts: [name.id.as_str(), "", ""],
                len: 1,
            }),
            Expr::Attribute(attribute) => {
                let mut base = Dotted::of(&attribute.value)?;
                *base.parts.get_mut(base.len)? = attribute.attr.as_str();
                base.len += 1;
                Some(base)
            }
            _ => None,
        }
    }

    fn parts(&self) -> &[&'e str] {
        &self.parts[..self.len]
    }
}

/// The parts of a literal that can be a relative path: `./a//b/` → `[a, b]`; `..` parts are
/// kept (the selection normalises and refuses paths that leave the project).
fn literal_parts(text: &str) -> Option<Vec<String>> {
    if text.is_empty()
        || text.len() > MAX_LITERAL
        || text.starts_with('/')
        || text.contains("://")
        || text.chars().any(|c| c.is_control() || c == '\\')
        || text.trim() != text
    {
        return None;
    }
    let parts: Vec<String> = text
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .map(str::to_string)
        .collect();
    (!parts.is_empty()).then_some(parts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::{Mode, ParseOptions, parse_unchecked};

    /// The references the import collector's walk finds, as a scan takes them.
    fn raw(source: &str) -> Vec<RawFileRef> {
        let parsed = parse_unchecked(source, ParseOptions::from(Mode::Module));
        let body = parsed.syntax().as_module().map_or(&[][..], |m| &m.body[..]);
        let origin = crate::parse::imports::Origin {
            module: None,
            is_package: false,
        };
        crate::parse::imports::Collector::run(source, body, origin, "x.py")
            .file_refs
            .into_found()
    }

    fn refs(source: &str) -> Vec<(Anchor, String)> {
        raw(source)
            .into_iter()
            .map(|r| (r.anchor, r.path))
            .collect()
    }

    fn folder(up: u32, path: &str) -> (Anchor, String) {
        (Anchor::FileFolder { up }, path.to_string())
    }

    fn literal(path: &str) -> (Anchor, String) {
        (Anchor::Literal, path.to_string())
    }

    #[test]
    fn an_open_of_a_literal_is_a_literal_reference() {
        assert_eq!(
            refs("open('README.md').read()\n"),
            vec![literal("README.md")]
        );
    }

    #[test]
    fn a_pathlib_chain_from_file_is_anchored_at_the_files_folder() {
        let found = refs(
            "from pathlib import Path\nx = Path(__file__).parent / 'data' / 'x.json'\n\
             y = Path(__file__).resolve().parent.parent / 'fixtures'\n\
             z = Path(__file__).parents[1].joinpath('a', 'b.txt')\n\
             w = Path(__file__).with_name('sibling.cfg')\n",
        );
        assert_eq!(
            found,
            vec![
                folder(0, "data/x.json"),
                folder(1, "fixtures"),
                folder(1, "a/b.txt"),
                folder(0, "sibling.cfg"),
            ]
        );
    }

    #[test]
    fn os_path_joins_and_names_bound_to_paths_are_followed() {
        let found = refs(
            "import os\nHERE = os.path.dirname(os.path.abspath(__file__))\n\
             def f():\n    return open(os.path.join(HERE, 'certs', 'client.pem'))\n",
        );
        assert_eq!(found, vec![folder(0, "certs/client.pem")]);
    }

    #[test]
    fn a_whole_path_expression_is_one_reference_not_its_parts() {
        assert_eq!(
            refs("p = Path(__file__).parent / 'data' / 'x.json'\n"),
            vec![folder(0, "data/x.json")]
        );
    }

    #[test]
    fn docstrings_urls_absolute_paths_and_non_literal_parts_are_not_references() {
        let found = refs(
            "'''README.md'''\ndef f(name):\n    '''x.txt'''\n    \
             open('/etc/passwd'); open('https://x/y'); open(f'{name}.txt')\n    \
             return Path(__file__).parent / name\n",
        );
        assert_eq!(found, Vec::<(Anchor, String)>::new());
    }

    #[test]
    fn a_lone_word_names_a_file_only_unless_it_is_joined_as_a_path() {
        let found: Vec<(String, bool)> = raw(
            "plot(errorbar='ci')\nx = TESTS_ROOT / 'client_certs'\ny = Path('data')\n\
             z = 'tests/fake-repo'\n",
        )
        .into_iter()
        .map(|r| (r.path, r.folder))
        .collect();
        assert_eq!(
            found,
            [
                ("ci".to_string(), false),
                ("client_certs".to_string(), true),
                ("data".to_string(), true),
                ("tests/fake-repo".to_string(), true),
            ]
        );
    }

    #[test]
    fn each_literal_of_a_chain_from_an_unknown_name_is_taken_once() {
        let found: Vec<(String, bool)> = raw("x = ROOT / 'data' / 'x.json'\n")
            .into_iter()
            .map(|r| (r.path, r.folder))
            .collect();
        assert_eq!(
            found,
            [("x.json".to_string(), true), ("data".to_string(), true)]
        );
    }

    #[test]
    fn a_bare_folder_literal_is_kept_with_its_dot_parts_removed() {
        assert_eq!(
            refs("run('./tests/fake-repo-pre/')\n"),
            vec![literal("tests/fake-repo-pre")]
        );
    }
}
