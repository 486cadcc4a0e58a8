//! Modules named in strings that Python will import: the interpreter run with `-m` in a
//! subprocess, `runpy`, `pytest_plugins`, `pkgutil.resolve_name`, the `"module:attribute"`
//! strings of well-known loaders, and the entry-point groups a file loads.
//!
//! Each becomes an import site with context `dynamic` and the call (or variable) it came from.
//! What Python does with each, which is what the site records:
//! - `python -m X` (<https://docs.python.org/3/using/cmdline.html#cmdoption-m>): imports `X`,
//!   and `X.__main__` when `X` is a package, so the site is `X` with member `__main__`. Options
//!   before `-m` are skipped as CPython's own parser does (`-u`, `-I`, combined `-Im`, `-X opt`
//!   and `-W arg` with their value); `-c` or a script ends the search. The interpreter is
//!   `sys.executable` or a literal whose last path component is `python`, `python3` or
//!   `python3.N`. Argument lists are read from list and tuple literals that start with the
//!   interpreter, wherever they are (a command is often built in a variable first), and from the
//!   argument vector of `subprocess.run`/`call`/`check_call`/`check_output`/`Popen` and
//!   `asyncio.create_subprocess_exec`. Command strings are split as a POSIX shell would
//!   (`shlex`) when a shell runs them: `os.system`, `os.popen`, `subprocess.getoutput` and
//!   `getstatusoutput`, `asyncio.create_subprocess_shell`, and the `subprocess` calls with a
//!   literal `shell=True`; `;`, `&&`, `||` and `|` separate commands, and `NAME=value` words
//!   before a command are skipped. Without `shell=True` a string is one program path, which is
//!   not Python.
//! - `uvicorn X:app` and `gunicorn X:app` in such commands, `uvicorn.run("X:app")`, and
//!   `wsgi_app = "X:app"` in `gunicorn.conf.py`: these loaders import `X` and read the attribute.
//! - `runpy.run_module("X")`: like `-m`.
//! - `pkgutil.resolve_name("X:Y")` imports `X`; without a colon, `"a.b.c"` imports the longest
//!   importable prefix, which the site states as module `a.b` with member `c` (the graph decides
//!   whether `c` is a submodule), as `from a.b import c` would.
//! - `celery.Celery(..., include=["X", ...])`: Celery imports each listed module.
//! - `pytest_plugins = "X"` or a list or tuple of names, at module level of a conftest or test
//!   module (<https://docs.pytest.org/en/stable/how-to/plugins.html#requiring-loading-plugins-in-a-test-module-or-conftest-file>):
//!   pytest imports each, except that its own plugins' short names (`pytester`) mean
//!   `_pytest.NAME` (`_pytest.config.import_plugin`).
//! - `importlib.metadata.entry_points(group=G)` (also `.select(group=G)` on its result,
//!   `entry_points()[G]`, the `importlib_metadata` backport, `pkg_resources.iter_entry_points(G)`):
//!   the site is the module that provides the call, carrying `entry_point_group`, so the plugin
//!   logic can pull in every installed distribution that provides group G.
//!
//! Names are matched by qualified name: [`Qualifier`] maps each local name to what the file's
//! import statements bind it to (`import subprocess as sp`, `from runpy import run_module`),
//! collected from every import at any depth, like `dynamic::Bindings`. ruff's semantic model
//! would do this scope by scope, but it needs a full binding pass that this crate does not run;
//! a file-wide map is enough for names this specific.

use std::sync::LazyLock;

use rustc_hash::{FxHashMap as HashMap, FxHashSet};

use ruff_python_ast::{Expr, ExprCall, Stmt};
use ruff_text_size::{Ranged, TextSize};

use super::dynamic::{Bound, argument, literal_str};
use crate::names::ModuleName;

/// A module a string names, located by byte offset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Named {
    pub module: ModuleName,
    pub member: Option<String>,
    /// Where the string (or, for a group, the call) starts.
    pub offset: TextSize,
    /// The call or variable it came from: `subprocess.run`, `pytest_plugins`, ...
    pub call: String,
    pub entry_point_group: Option<String>,
}

/// A name written where a module name must be, but not as a literal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotLiteral {
    pub offset: TextSize,
    pub call: String,
}

#[derive(Debug, Default)]
pub struct Found {
    pub named: Vec<Named>,
    pub not_literal: Vec<NotLiteral>,
}

/// Calls whose first argument (or `args=`) is an argument vector or a command string.
const SUBPROCESS_CALLS: &[&str] = &[
    "subprocess.run",
    "subprocess.call",
    "subprocess.check_call",
    "subprocess.check_output",
    "subprocess.Popen",
];

/// Calls whose first argument is a command a shell runs.
const SHELL_CALLS: &[&str] = &[
    "os.system",
    "os.popen",
    "subprocess.getoutput",
    "subprocess.getstatusoutput",
    "asyncio.create_subprocess_shell",
];

const CREATE_SUBPROCESS_EXEC: &str = "asyncio.create_subprocess_exec";
const RUN_MODULE: &str = "runpy.run_module";
const RESOLVE_NAME: &str = "pkgutil.resolve_name";
const UVICORN_RUN: &str = "uvicorn.run";
const CELERY: &str = "celery.Celery";

/// Whether a call whose qualified name ends in `last` can be one [`from_call`] reads: one
/// lookup instead of building the qualified name of every call.
fn is_called_name(last: &str) -> bool {
    static LAST: LazyLock<FxHashSet<&'static str>> = LazyLock::new(|| {
        let qualified = SUBPROCESS_CALLS.iter().chain(SHELL_CALLS).chain(&[
            CREATE_SUBPROCESS_EXEC,
            RUN_MODULE,
            RESOLVE_NAME,
            UVICORN_RUN,
            CELERY,
        ]);
        qualified
            .map(|name| name.rsplit('.').next().unwrap_or(name))
            .chain(ENTRY_POINT_CALLS.iter().map(|(_, function)| *function))
            .collect()
    });
    LAST.contains(last)
}

fn is_entry_point_function(last: &str) -> bool {
    ENTRY_POINT_CALLS
        .iter()
        .any(|(_, function)| *function == last)
}

/// The modules whose `entry_points` / `iter_entry_points` load a group, and the function.
const ENTRY_POINT_CALLS: &[(&str, &str)] = &[
    ("importlib.metadata", "entry_points"),
    ("importlib_metadata", "entry_points"),
    ("pkg_resources", "iter_entry_points"),
];

/// pytest's own plugins (`_pytest.config.builtin_plugins` of pytest 8.4 and 9.2, read from both):
/// a `pytest_plugins` or `-p` entry with one of these names imports `_pytest.NAME`.
pub const PYTEST_BUILTIN_PLUGINS: &[&str] = &[
    "assertion",
    "cacheprovider",
    "capture",
    "debugging",
    "doctest",
    "faulthandler",
    "fixtures",
    "freeze_support",
    "helpconfig",
    "junitxml",
    "legacypath",
    "logging",
    "main",
    "mark",
    "monkeypatch",
    "pastebin",
    "pytester",
    "pytester_assertions",
    "python",
    "recwarn",
    "reports",
    "runner",
    "setuponly",
    "setupplan",
    "skipping",
    "stepwise",
    "subtests",
    "terminal",
    "terminalprogress",
    "threadexception",
    "tmpdir",
    "unittest",
    "unraisableexception",
    "warnings",
];

/// The module pytest imports for a plugin name in `pytest_plugins` or `-p NAME`.
pub fn pytest_plugin_module(name: &str) -> Option<ModuleName> {
    if PYTEST_BUILTIN_PLUGINS.contains(&name) {
        ModuleName::new(&format!("_pytest.{name}"))
    } else {
        ModuleName::new(name)
    }
}

/// What each local name of a file is bound to by its import statements, as dotted paths,
/// borrowed from the tree: `sp` → `subprocess`, `run` → `subprocess` + `run`.
#[derive(Debug, Default)]
pub struct Qualifier<'a> {
    names: HashMap<&'a str, Qualified<'a>>,
}

/// A module, or a member of one (`from module import member`).
#[derive(Debug, Clone, Copy)]
struct Qualified<'a> {
    module: &'a str,
    member: Option<&'a str>,
}

impl<'a> Qualifier<'a> {
    #[cfg(test)]
    pub fn collect(body: &'a [Stmt]) -> Self {
        let mut qualifier = Self::default();
        super::dynamic::each_import_binding(body, |bound| qualifier.bind(bound));
        qualifier
    }

    /// Records one name an import statement binds; a later binding of the name wins.
    pub fn bind(&mut self, bound: Bound<'a>) {
        let (bound, module, member) = match bound {
            Bound::Module { bound, module } => (bound, module, None),
            Bound::Member {
                bound,
                module,
                member,
            } => (bound, module, Some(member)),
        };
        if self.names.capacity() == 0 {
            // Room for a typical file's imports at once: grown from empty, the table was
            // rehashed three times in most files. A file that imports nothing allocates none.
            self.names.reserve(14);
        }
        self.names.insert(bound, Qualified { module, member });
    }

    /// `sp.run` → `subprocess.run` after `import subprocess as sp`. A name no import binds
    /// stands for itself, so `subprocess.run` counts even when the import is out of sight.
    pub fn qualify(&self, expr: &Expr) -> Option<String> {
        match expr {
            Expr::Name(name) => Some(match self.names.get(name.id.as_str()) {
                Some(Qualified {
                    module,
                    member: Some(member),
                }) => format!("{module}.{member}"),
                Some(Qualified { module, .. }) => (*module).to_string(),
                None => name.id.to_string(),
            }),
            Expr::Attribute(attribute) => {
                let owner = self.qualify(&attribute.value)?;
                Some(format!("{owner}.{}", attribute.attr.as_str()))
            }
            _ => None,
        }
    }

    /// The last component of what [`Self::qualify`] gives, without building it: most calls
    /// are ruled out by it alone. `None` exactly when `qualify` gives `None`.
    pub fn last<'e>(&'e self, expr: &'e Expr) -> Option<&'e str> {
        match expr {
            Expr::Name(name) => Some(match self.names.get(name.id.as_str()) {
                Some(Qualified {
                    member: Some(member),
                    ..
                }) => member,
                Some(Qualified { module, .. }) => module.rsplit('.').next().unwrap_or(module),
                None => name.id.as_str(),
            }),
            Expr::Attribute(attribute) => {
                self.last(&attribute.value)?;
                Some(attribute.attr.as_str())
            }
            _ => None,
        }
    }

    /// Whether [`Self::qualify`] would give `target`, without building it.
    pub fn is(&self, expr: &Expr, target: &str) -> bool {
        match expr {
            Expr::Name(name) => match self.names.get(name.id.as_str()) {
                Some(Qualified {
                    module,
                    member: Some(member),
                }) => {
                    target
                        .strip_suffix(member)
                        .and_then(|rest| rest.strip_suffix('.'))
                        == Some(module)
                }
                Some(Qualified { module, .. }) => target == *module,
                None => target == name.id.as_str(),
            },
            Expr::Attribute(attribute) => target
                .strip_suffix(attribute.attr.as_str())
                .and_then(|rest| rest.strip_suffix('.'))
                .is_some_and(|owner| self.is(&attribute.value, owner)),
            _ => false,
        }
    }
}

/// One word of a command line.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Word {
    Literal(String, TextSize),
    /// `sys.executable`.
    Interpreter,
    /// Anything else: a variable, a call, `*args`.
    Other(TextSize),
}

impl Word {
    fn of(expr: &Expr, qualifier: &Qualifier<'_>) -> Self {
        if let Some(text) = literal_str(expr) {
            Word::Literal(text.to_string(), expr.start())
        } else if qualifier.is(expr, "sys.executable") {
            Word::Interpreter
        } else {
            Word::Other(expr.start())
        }
    }
}

/// The sites a call names (everything but bare argument lists, see [`from_sequence`]).
/// `handled` receives the start of an argument list read here, so the walk does not read it
/// again as a bare list.
pub fn from_call(
    call: &ExprCall,
    qualifier: &Qualifier<'_>,
    handled: &mut Vec<TextSize>,
    found: &mut Found,
) {
    let Some(last) = qualifier.last(&call.func) else {
        return from_entry_points_result(call, qualifier, found);
    };
    if !is_called_name(last) {
        return;
    }
    let Some(name) = qualifier.qualify(&call.func) else {
        return;
    };
    let name = name.as_str();
    if SUBPROCESS_CALLS.contains(&name) {
        let shell = argument(call, usize::MAX, "shell")
            .is_some_and(|v| matches!(v, Expr::BooleanLiteral(b) if b.value));
        match argument(call, 0, "args") {
            Some(Expr::List(list)) => {
                handled.push(list.start());
                let words: Vec<Word> = list.elts.iter().map(|e| Word::of(e, qualifier)).collect();
                from_argv(&words, name, found);
            }
            Some(Expr::Tuple(tuple)) => {
                handled.push(tuple.start());
                let words: Vec<Word> = tuple.elts.iter().map(|e| Word::of(e, qualifier)).collect();
                from_argv(&words, name, found);
            }
            Some(command) if shell => from_shell(command, name, found),
            _ => {}
        }
    } else if SHELL_CALLS.contains(&name) {
        if let Some(command) = argument(call, 0, "cmd") {
            from_shell(command, name, found);
        }
    } else if name == CREATE_SUBPROCESS_EXEC {
        let words: Vec<Word> = call
            .arguments
            .args
            .iter()
            .map(|e| Word::of(e, qualifier))
            .collect();
        from_argv(&words, name, found);
    } else if name == RUN_MODULE {
        if let Some(arg) = argument(call, 0, "mod_name") {
            literal_module(arg, name, Some("__main__"), found);
        }
    } else if name == RESOLVE_NAME {
        if let Some(arg) = argument(call, 0, "name") {
            match literal_str(arg) {
                Some(text) => push_resolve_name(text, arg.start(), name, found),
                None => not_literal(arg, name, found),
            }
        }
    } else if name == UVICORN_RUN {
        if let Some(arg) = argument(call, 0, "app") {
            // Anything but a string is the application object itself.
            if let Some(text) = literal_str(arg) {
                push_app_string(text, arg.start(), name, found);
            }
        }
    } else if name == CELERY {
        if let Some(Expr::List(ruff_python_ast::ExprList { elts, .. }))
        | Some(Expr::Tuple(ruff_python_ast::ExprTuple { elts, .. })) =
            argument(call, usize::MAX, "include")
        {
            for element in elts {
                literal_module(element, name, None, found);
            }
        }
    } else if let Some(module) = entry_point_module(name) {
        let (position, keyword) = if module == "pkg_resources" {
            (0, "group")
        } else {
            (usize::MAX, "group")
        };
        if let Some(group) = argument(call, position, keyword).and_then(literal_str) {
            push_group(module, group, call.start(), name, found);
        }
    }
}

/// `entry_points().select(group=G)` and `entry_points().get(G, ...)`.
fn from_entry_points_result(call: &ExprCall, qualifier: &Qualifier<'_>, found: &mut Found) {
    let Expr::Attribute(attribute) = call.func.as_ref() else {
        return;
    };
    let Expr::Call(inner) = attribute.value.as_ref() else {
        return;
    };
    let Some((module, inner_name)) = entry_point_call(qualifier, &inner.func) else {
        return;
    };
    let group = match attribute.attr.as_str() {
        "select" => argument(call, usize::MAX, "group"),
        "get" => argument(call, 0, "name"),
        _ => None,
    };
    if let Some(group) = group.and_then(literal_str) {
        let call_name = format!("{inner_name}().{}", attribute.attr.as_str());
        push_group(module, group, call.start(), &call_name, found);
    }
}

/// `entry_points()["G"]` (the dict that Python 3.8 to 3.11 return).
pub fn from_subscript(
    subscript: &ruff_python_ast::ExprSubscript,
    qualifier: &Qualifier<'_>,
    found: &mut Found,
) {
    let Expr::Call(inner) = subscript.value.as_ref() else {
        return;
    };
    let Some((module, inner_name)) = entry_point_call(qualifier, &inner.func) else {
        return;
    };
    if let Some(group) = literal_str(&subscript.slice) {
        let call_name = format!("{inner_name}()[]");
        push_group(module, group, subscript.start(), &call_name, found);
    }
}

/// A list or tuple literal that starts with the interpreter, anywhere in the file: the
/// argument vector of a command, usually built before the call that runs it.
pub fn from_sequence(elements: &[Expr], qualifier: &Qualifier<'_>, found: &mut Found) {
    let Some(first) = elements.first() else {
        return;
    };
    let first = Word::of(first, qualifier);
    if !is_interpreter(&first) {
        return;
    }
    let words: Vec<Word> = elements.iter().map(|e| Word::of(e, qualifier)).collect();
    from_argv(&words, "sys.executable argv", found);
}

/// The module and qualified name of `func` when it is one of [`ENTRY_POINT_CALLS`]; the name
/// is built only when its last component matches.
fn entry_point_call(qualifier: &Qualifier<'_>, func: &Expr) -> Option<(&'static str, String)> {
    if !qualifier.last(func).is_some_and(is_entry_point_function) {
        return None;
    }
    let name = qualifier.qualify(func)?;
    Some((entry_point_module(&name)?, name))
}

fn entry_point_module(qualified: &str) -> Option<&'static str> {
    ENTRY_POINT_CALLS
        .iter()
        .find(|(module, function)| {
            qualified
                .strip_prefix(module)
                .and_then(|rest| rest.strip_prefix('.'))
                == Some(function)
        })
        .map(|(module, _)| *module)
}

fn push_group(module: &str, group: &str, offset: TextSize, call: &str, found: &mut Found) {
    if let Some(module) = ModuleName::new(module) {
        found.named.push(Named {
            module,
            member: None,
            offset,
            call: call.to_string(),
            entry_point_group: Some(group.to_string()),
        });
    }
}

fn not_literal(expr: &Expr, call: &str, found: &mut Found) {
    found.not_literal.push(NotLiteral {
        offset: expr.start(),
        call: call.to_string(),
    });
}

fn literal_module(expr: &Expr, call: &str, member: Option<&str>, found: &mut Found) {
    match literal_str(expr) {
        Some(text) => push(text, member, expr.start(), call, found),
        None => not_literal(expr, call, found),
    }
}

fn push(text: &str, member: Option<&str>, offset: TextSize, call: &str, found: &mut Found) {
    if let Some(module) = ModuleName::new(text) {
        found.named.push(Named {
            module,
            member: member.map(str::to_string),
            offset,
            call: call.to_string(),
            entry_point_group: None,
        });
    }
}

/// `"X:attr"` (gunicorn also takes `"X:create_app()"`, and `"X"` alone for `X:application`).
fn push_app_string(text: &str, offset: TextSize, call: &str, found: &mut Found) {
    if let Some((module, attribute)) = text.split_once(':') {
        let attribute = attribute.trim_end_matches(')');
        let attribute = attribute.split('(').next().unwrap_or(attribute);
        let attribute_ok = attribute.split('.').all(crate::names::is_identifier);
        if attribute_ok {
            push(module, None, offset, call, found);
        }
    }
}

fn push_resolve_name(text: &str, offset: TextSize, call: &str, found: &mut Found) {
    match text.split_once(':') {
        Some((module, _)) => push(module, None, offset, call, found),
        None => match text.rsplit_once('.') {
            Some((module, last)) => push(module, Some(last), offset, call, found),
            None => push(text, None, offset, call, found),
        },
    }
}

/// A command string run by a shell, split into commands and words.
fn from_shell(command: &Expr, call: &str, found: &mut Found) {
    let Some(text) = literal_str(command) else {
        return;
    };
    let Some(words) = shlex::split(text) else {
        return;
    };
    let offset = command.start();
    let mut current: Vec<Word> = Vec::new();
    for word in words {
        let (body, ends) = match ["&&", "||", ";", "|", "&"]
            .iter()
            .find_map(|sep| word.strip_suffix(sep))
        {
            Some(body) => (body.to_string(), true),
            None => (word, false),
        };
        if !body.is_empty() {
            current.push(Word::Literal(body, offset));
        }
        if ends {
            from_command(&current, call, found);
            current.clear();
        }
    }
    from_command(&current, call, found);
}

/// One shell command: `NAME=value` words first are environment assignments.
fn from_command(words: &[Word], call: &str, found: &mut Found) {
    let start = words
        .iter()
        .position(|w| !matches!(w, Word::Literal(text, _) if is_assignment(text)))
        .unwrap_or(words.len());
    from_argv(&words[start..], call, found);
}

fn is_assignment(word: &str) -> bool {
    word.split_once('=')
        .is_some_and(|(name, _)| crate::names::is_identifier(name))
}

fn is_interpreter(word: &Word) -> bool {
    match word {
        Word::Interpreter => true,
        Word::Literal(text, _) => {
            let program = text.rsplit('/').next().unwrap_or(text);
            let version = program.strip_prefix("python").unwrap_or("x");
            version.is_empty()
                || version == "3"
                || version.strip_prefix("3.").is_some_and(|minor| {
                    !minor.is_empty() && minor.bytes().all(|b| b.is_ascii_digit())
                })
        }
        Word::Other(_) => false,
    }
}

fn program_name(word: &Word) -> Option<&str> {
    match word {
        Word::Literal(text, _) => Some(text.rsplit('/').next().unwrap_or(text)),
        Word::Interpreter | Word::Other(_) => None,
    }
}

/// An argument vector: the interpreter with `-m X`, or a loader with an app string.
fn from_argv(words: &[Word], call: &str, found: &mut Found) {
    let Some(first) = words.first() else {
        return;
    };
    if is_interpreter(first) {
        if let Some((module, rest)) = module_option(&words[1..]) {
            match &module {
                Word::Literal(text, offset) => {
                    push(text, Some("__main__"), *offset, call, found);
                    if matches!(text.as_str(), "uvicorn" | "gunicorn") {
                        from_app_arguments(rest, call, found);
                    }
                }
                Word::Other(offset) => found.not_literal.push(NotLiteral {
                    offset: *offset,
                    call: call.to_string(),
                }),
                Word::Interpreter => {}
            }
        }
    } else if matches!(program_name(first), Some("uvicorn" | "gunicorn")) {
        from_app_arguments(&words[1..], call, found);
    }
}

/// The application string among a loader's arguments: the first word that reads `X:attr`
/// (a `host:port` has digits after the colon and is not one).
fn from_app_arguments(words: &[Word], call: &str, found: &mut Found) {
    for word in words {
        if let Word::Literal(text, offset) = word
            && !text.starts_with('-')
            && text.contains(':')
        {
            let before = found.named.len();
            push_app_string(text, *offset, call, found);
            if found.named.len() > before {
                return;
            }
        }
    }
}

/// CPython's option parsing up to `-m`: the module word and the words after it, or `None`
/// when the interpreter runs a script, `-c` code or standard input instead.
fn module_option(words: &[Word]) -> Option<(Word, &[Word])> {
    let mut i = 0;
    while let Some(word) = words.get(i) {
        let Word::Literal(text, offset) = word else {
            return None;
        };
        if text == "--" || text == "-" || !text.starts_with('-') {
            return None;
        }
        if let Some(long) = text.strip_prefix("--") {
            // The only long option that takes a separate value.
            if long == "check-hash-based-pycs" {
                i += 1;
            }
            i += 1;
            continue;
        }
        let flags = &text[1..];
        for (at, flag) in flags.char_indices() {
            let rest = &flags[at + flag.len_utf8()..];
            match flag {
                'm' if rest.is_empty() => {
                    let module = words.get(i + 1)?.clone();
                    return Some((module, words.get(i + 2..).unwrap_or(&[])));
                }
                // `-mpip`: the rest of the word is the module.
                'm' => {
                    let module = Word::Literal(rest.to_string(), *offset);
                    return Some((module, words.get(i + 1..).unwrap_or(&[])));
                }
                'c' => return None,
                'W' | 'X' => {
                    if rest.is_empty() {
                        i += 1;
                    }
                    break;
                }
                _ => {}
            }
        }
        i += 1;
    }
    None
}

/// Module-level settings that name modules: `pytest_plugins` in a conftest or test module
/// (pytest reads it there only), `wsgi_app` in `gunicorn.conf.py`.
pub fn from_module_body(body: &[Stmt], file_name: &str, found: &mut Found) {
    let pytest = file_name == "conftest.py"
        || (file_name.ends_with(".py")
            && (file_name.starts_with("test_") || file_name.ends_with("_test.py")));
    let gunicorn = file_name == "gunicorn.conf.py";
    if !pytest && !gunicorn {
        return;
    }
    for stmt in body {
        let (target, value) = match stmt {
            Stmt::Assign(assign) => match (assign.targets.as_slice(), assign.value.as_ref()) {
                ([target], value) => (target, value),
                _ => continue,
            },
            Stmt::AnnAssign(assign) => match &assign.value {
                Some(value) => (assign.target.as_ref(), value.as_ref()),
                None => continue,
            },
            _ => continue,
        };
        let Expr::Name(target) = target else {
            continue;
        };
        match target.id.as_str() {
            "pytest_plugins" if pytest => from_pytest_plugins(value, found),
            "wsgi_app" if gunicorn => {
                if let Some(text) = literal_str(value) {
                    push_app_string(text, value.start(), "gunicorn wsgi_app", found);
                }
            }
            _ => {}
        }
    }
}

fn from_pytest_plugins(value: &Expr, found: &mut Found) {
    const CALL: &str = "pytest_plugins";
    let elements: &[Expr] = match value {
        Expr::List(list) => &list.elts,
        Expr::Tuple(tuple) => &tuple.elts,
        single => std::slice::from_ref(single),
    };
    for element in elements {
        match literal_str(element) {
            // Several names in one string, comma-separated, are accepted too.
            Some(text) => {
                for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
                    if let Some(module) = pytest_plugin_module(name) {
                        found.named.push(Named {
                            module,
                            member: None,
                            offset: element.start(),
                            call: CALL.to_string(),
                            entry_point_group: None,
                        });
                    }
                }
            }
            None => not_literal(element, CALL, found),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_module;

    /// `module[:member] call` for every site of `source`, in the order found.
    fn found(source: &str, file_name: &str) -> Vec<String> {
        struct Walk<'q> {
            qualifier: &'q Qualifier<'q>,
            handled: Vec<TextSize>,
            found: Found,
        }
        impl<'a> ruff_python_ast::visitor::Visitor<'a> for Walk<'_> {
            fn visit_expr(&mut self, expr: &'a Expr) {
                match expr {
                    Expr::Call(call) => {
                        from_call(call, self.qualifier, &mut self.handled, &mut self.found)
                    }
                    Expr::List(list) if !self.handled.contains(&list.start()) => {
                        from_sequence(&list.elts, self.qualifier, &mut self.found)
                    }
                    _ => {}
                }
                ruff_python_ast::visitor::walk_expr(self, expr);
            }
        }
        let parsed = parse_module(source).unwrap();
        let body = &parsed.syntax().body;
        let qualifier = Qualifier::collect(body);
        let mut walk = Walk {
            qualifier: &qualifier,
            handled: Vec::new(),
            found: Found::default(),
        };
        from_module_body(body, file_name, &mut walk.found);
        ruff_python_ast::visitor::Visitor::visit_body(&mut walk, body);
        walk.found
            .named
            .iter()
            .map(|n| {
                let member = n
                    .member
                    .as_deref()
                    .map_or(String::new(), |m| format!(":{m}"));
                format!("{}{member} {}", n.module, n.call)
            })
            .collect()
    }

    /// `last` and `is` answer what `qualify` gives, without building it.
    #[test]
    fn last_and_is_agree_with_qualify() {
        let source = "import subprocess as sp\nimport os.path as osp\nfrom runpy import run_module as rm\n\
                      import sys\nx = [sp.run, osp.join, rm, sys.executable, a.b.c, plain, f().g, sp]\n";
        let parsed = parse_module(source).unwrap();
        let body = &parsed.syntax().body;
        let qualifier = Qualifier::collect(body);
        let Stmt::Assign(assign) = &body[4] else {
            panic!("an assignment");
        };
        let Expr::List(list) = assign.value.as_ref() else {
            panic!("a list");
        };
        let expected = [
            Some("subprocess.run"),
            Some("os.path.join"),
            Some("runpy.run_module"),
            Some("sys.executable"),
            Some("a.b.c"),
            Some("plain"),
            None,
            Some("subprocess"),
        ];
        for (expr, expected) in list.elts.iter().zip(expected) {
            let qualified = qualifier.qualify(expr);
            assert_eq!(qualified.as_deref(), expected);
            assert_eq!(
                qualifier.last(expr),
                expected.map(|q| q.rsplit('.').next().unwrap())
            );
            if let Some(q) = expected {
                assert!(qualifier.is(expr, q), "{q}");
                assert!(!qualifier.is(expr, &format!("x{q}")), "{q}");
                assert!(!qualifier.is(expr, &format!("{q}.x")), "{q}");
            }
        }
        assert!(!qualifier.is(&list.elts[0], "sp.run"));
    }

    fn modules(source: &str) -> Vec<String> {
        found(source, "m.py")
            .into_iter()
            .map(|s| s.split([':', ' ']).next().unwrap_or_default().to_string())
            .collect()
    }

    #[test]
    fn options_before_dash_m_are_skipped_as_cpython_parses_them() {
        let source = r#"
import sys, subprocess
subprocess.run([sys.executable, "-I", "-W", "ignore", "-X", "dev", "-m", "a"])
subprocess.run([sys.executable, "-Wignore", "-Xdev", "-Im", "b"])
subprocess.run([sys.executable, "-mc"])
subprocess.run([sys.executable, "--check-hash-based-pycs", "never", "-m", "d"])
subprocess.run(["/usr/bin/python3.12", "-m", "e"])
"#;
        assert_eq!(modules(source), ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn a_script_code_or_stdin_before_dash_m_means_no_module() {
        let source = r#"
import sys, subprocess
subprocess.run([sys.executable, "script.py", "-m", "a"])
subprocess.run([sys.executable, "-c", "code", "-m", "b"])
subprocess.run([sys.executable, "-cimport x", "-m", "c"])
subprocess.run([sys.executable, "-", "-m", "d"])
subprocess.run([sys.executable, "--", "-m", "e"])
subprocess.run(["pythonista", "-m", "f"])
subprocess.run(["python2", "-m", "g"])
"#;
        assert_eq!(modules(source), Vec::<String>::new());
    }

    #[test]
    fn shell_strings_are_split_into_commands_and_words() {
        let source = r#"
import os, subprocess
os.system("cd /tmp && FOO=1 python -m a --x; python3 -u -m 'b' | tee log")
subprocess.call("python -m c", shell=True)
subprocess.call("python -m d")
subprocess.call("python -m e", shell=False)
os.popen("echo $(python -m f)")
"#;
        assert_eq!(modules(source), ["a", "b", "c"]);
    }

    #[test]
    fn aliases_and_from_imports_reach_the_calls() {
        let source = r#"
from subprocess import check_output as co
from runpy import run_module
import pkgutil as pu
from sys import executable
co([executable, "-m", "a"])
run_module(mod_name="b")
pu.resolve_name("c.d:e")
"#;
        assert_eq!(
            found(source, "m.py"),
            [
                "a:__main__ subprocess.check_output",
                "b:__main__ runpy.run_module",
                "c.d pkgutil.resolve_name"
            ]
        );
    }

    #[test]
    fn a_list_read_as_a_calls_argument_is_not_read_again() {
        let source = "import sys, subprocess\nsubprocess.run([sys.executable, '-m', 'a'])\n";
        assert_eq!(found(source, "m.py"), ["a:__main__ subprocess.run"]);
    }

    #[test]
    fn app_strings_need_an_attribute_and_host_port_is_not_one() {
        let source = r#"
import subprocess, uvicorn
subprocess.run(["uvicorn", "--host", "0.0.0.0:80", "a.main:app"])
subprocess.run(["gunicorn", "b:create_app()"])
uvicorn.run("c")
uvicorn.run(app)
"#;
        assert_eq!(modules(source), ["a.main", "b"]);
    }

    #[test]
    fn pytest_plugins_count_only_in_conftest_and_test_modules() {
        let source = "pytest_plugins = ('a', 'pytester, b')\n";
        assert_eq!(
            found(source, "conftest.py"),
            [
                "a pytest_plugins",
                "_pytest.pytester pytest_plugins",
                "b pytest_plugins"
            ]
        );
        assert_eq!(found(source, "test_x.py").len(), 3);
        assert_eq!(found(source, "helpers.py"), Vec::<String>::new());
        // Only at module level: pytest reads the module's global.
        assert_eq!(
            found("def f():\n    pytest_plugins = ['a']\n", "conftest.py"),
            Vec::<String>::new()
        );
    }

    #[test]
    fn entry_point_groups_in_each_api_shape() {
        let source = r#"
from importlib.metadata import entry_points
import importlib_metadata, pkg_resources
entry_points(group="g1")
entry_points().select(group="g2")
entry_points().get("g3", [])
importlib_metadata.entry_points(group="g4", name="x")
pkg_resources.iter_entry_points("g5")
entry_points()
"#;
        let parsed = parse_module(source).unwrap();
        let body = &parsed.syntax().body;
        let qualifier = Qualifier::collect(body);
        let mut found = Found::default();
        let mut calls = Vec::new();
        for stmt in body {
            if let Stmt::Expr(expr) = stmt
                && let Expr::Call(call) = expr.value.as_ref()
            {
                from_call(call, &qualifier, &mut calls, &mut found);
            }
        }
        let groups: Vec<(String, String)> = found
            .named
            .iter()
            .map(|n| {
                (
                    n.module.to_string(),
                    n.entry_point_group.clone().unwrap_or_default(),
                )
            })
            .collect();
        let expect = [
            ("importlib.metadata", "g1"),
            ("importlib.metadata", "g2"),
            ("importlib.metadata", "g3"),
            ("importlib_metadata", "g4"),
            ("pkg_resources", "g5"),
        ]
        .map(|(m, g)| (m.to_string(), g.to_string()));
        assert_eq!(groups, expect);
    }
}
