//! The walk over a parsed module that finds every import and stamps its context, and on the
//! same walk the paths the code names ([`super::file_refs`]).
//!
//! Static imports are found at any depth (functions, methods, class bodies, every compound
//! statement); dynamic ones (`importlib.import_module`, `__import__`) in any expression position,
//! since the walk visits every expression: arguments, decorators, defaults, lambdas,
//! comprehensions. The statement match names every `Stmt` variant, so a new node in the grammar
//! forces a decision here.
//!
//! Context rules:
//! - `function`: function and method bodies, and lambda bodies (they run only when called).
//!   Decorators, defaults and annotations run where the `def` is, so they do not count.
//! - `class`: class bodies (a method's imports are both `class` and `function`).
//! - `optional`: the body of a `try` whose handlers catch an import error (see `guards`). Its
//!   handlers, `else` and `finally` are not made optional by that `try`.
//! - `type_checking`: the branch a TYPE_CHECKING test selects; never its `else`.
//! - `conditional`: every branch of an `if`/`elif` chain from the first test that mentions the
//!   interpreter's version or platform on; `conditions` holds those tests' source text in
//!   order. A `match` on such a subject makes all its cases conditional.
//! - `main_guard`: the body of `if __name__ == "__main__":`.
//!
//! Relative imports resolve against the file's package (PEP 328): a module `p.m` and the package
//! `p` (its `__init__.py`) both resolve `.` to `p`.

use ruff_python_ast::visitor::{Visitor, walk_expr, walk_stmt};
use ruff_python_ast::{Expr, ExprCall, Stmt, StmtIf, StmtImport, StmtImportFrom};
use ruff_text_size::{Ranged, TextSize};

use super::dynamic::{self, Bindings, DynamicKind};
use super::file_refs::{self, FileRefs};
use super::guards::{self, TypeCheckingTest};
use super::named::{self, Qualifier};
use super::{Context, ContextSet};
use crate::diagnostic::{Code, Severity};
use crate::names::ModuleName;

pub const RELATIVE_IMPORT_BEYOND_TOP_LEVEL: Code = Code("relative-import-beyond-top-level");
pub const RELATIVE_IMPORT_NO_PACKAGE: Code = Code("relative-import-no-package");

/// An import site located by byte offset; `mod.rs` turns offsets into lines and cells.
#[derive(Debug)]
pub struct RawSite {
    pub module: ModuleName,
    pub member: Option<String>,
    pub offset: TextSize,
    /// Where the statement (or call) that names it starts: every member of one
    /// `from a import b, c` shares it.
    pub statement: TextSize,
    pub context: ContextSet,
    pub conditions: Vec<String>,
    pub relative: Option<String>,
    /// For a module named in a string: the call or variable it came from.
    pub call: Option<String>,
    pub entry_point_group: Option<String>,
}

#[derive(Debug)]
pub struct RawProblem {
    pub code: Code,
    pub severity: Severity,
    pub offset: TextSize,
    pub message: String,
}

/// Where relative imports resolve from.
#[derive(Debug, Clone, Copy)]
pub struct Origin<'a> {
    pub module: Option<&'a ModuleName>,
    pub is_package: bool,
}

pub struct Collector<'a> {
    source: &'a str,
    origin: Origin<'a>,
    bindings: Bindings<'a>,
    qualifier: Qualifier<'a>,
    /// Argument lists already read as a call's argument, not to be read again as bare lists.
    handled_lists: Vec<TextSize>,
    /// How many enclosing constructs give each context, indexed like [`Context::ALL`].
    active: [u32; 7],
    conditions: Vec<String>,
    pub sites: Vec<RawSite>,
    pub problems: Vec<RawProblem>,
    /// The paths the code names, found on the same walk.
    pub file_refs: FileRefs,
}

impl<'a> Collector<'a> {
    /// Collects every import of `body`, which was parsed from `source`, the file named
    /// `file_name` (its last path component), and the paths it names.
    pub fn run(source: &'a str, body: &'a [Stmt], origin: Origin<'a>, file_name: &str) -> Self {
        // One pass over the statements for both: what the names matter to, and what they are.
        let mut bindings = Bindings::default();
        let mut qualifier = Qualifier::default();
        dynamic::each_import_binding(body, |bound| {
            bindings.bind(bound);
            qualifier.bind(bound);
        });
        let mut collector = Self {
            source,
            origin,
            bindings,
            qualifier,
            handled_lists: Vec::new(),
            active: [0; 7],
            conditions: Vec::new(),
            // Room for a typical file's imports (the 20,000-file benchmark averages 9.5): a
            // file that grew its list from empty reallocated and copied it three times.
            sites: Vec::with_capacity(16),
            problems: Vec::new(),
            file_refs: FileRefs::new(body),
        };
        let mut found = named::Found::default();
        named::from_module_body(body, file_name, &mut found);
        collector.record_named(found);
        collector.visit_body(body);
        collector
    }

    /// Sites for modules named in strings, and warnings for names that are not literals.
    fn record_named(&mut self, found: named::Found) {
        for site in found.named {
            self.site(
                site.module,
                site.member,
                site.offset,
                site.offset,
                None,
                true,
            );
            if let Some(last) = self.sites.last_mut() {
                last.call = Some(site.call);
                last.entry_point_group = site.entry_point_group;
            }
        }
        for problem in found.not_literal {
            self.problem(
                dynamic::DYNAMIC_IMPORT_NOT_LITERAL,
                problem.offset,
                format!(
                    "`{}` runs or imports a module whose name is not a string literal; it is not \
                     seen statically",
                    problem.call
                ),
            );
        }
    }

    fn within(&mut self, add: &[Context], conditions: &[String], f: impl FnOnce(&mut Self)) {
        for context in add {
            self.active[*context as usize] += 1;
        }
        let depth = self.conditions.len();
        self.conditions.extend(conditions.iter().cloned());
        f(self);
        self.conditions.truncate(depth);
        for context in add {
            self.active[*context as usize] -= 1;
        }
    }

    fn site(
        &mut self,
        module: ModuleName,
        member: Option<String>,
        offset: TextSize,
        statement: TextSize,
        relative: Option<String>,
        dynamic: bool,
    ) {
        let mut context: ContextSet = Context::ALL
            .into_iter()
            .filter(|c| self.active[*c as usize] > 0)
            .collect();
        if dynamic {
            context.insert(Context::Dynamic);
        }
        self.sites.push(RawSite {
            module,
            member,
            offset,
            statement,
            context,
            conditions: self.conditions.clone(),
            relative,
            call: None,
            entry_point_group: None,
        });
    }

    fn problem(&mut self, code: Code, offset: TextSize, message: String) {
        self.problems.push(RawProblem {
            code,
            severity: Severity::Warning,
            offset,
            message,
        });
    }

    fn text(&self, node: &impl Ranged) -> String {
        self.source
            .get(node.range().to_std_range())
            .unwrap_or("")
            .to_string()
    }

    fn record_import(&mut self, import: &StmtImport) {
        for alias in &import.names {
            // An empty or broken name comes from error recovery, already a syntax error.
            if let Some(module) = ModuleName::new(alias.name.as_str()) {
                self.site(module, None, alias.start(), import.start(), None, false);
            }
        }
    }

    fn record_import_from(&mut self, import: &StmtImportFrom) {
        let tail = import.module.as_ref().map(|m| m.as_str());
        let (base, relative) = if import.level == 0 {
            match tail.and_then(ModuleName::new) {
                Some(module) => (module, None),
                None => return,
            }
        } else {
            let written = format!(
                "{}{}",
                ".".repeat(import.level as usize),
                tail.unwrap_or("")
            );
            match self.resolve_relative(import.level, tail, import.start(), &written) {
                Some(module) => (module, Some(written)),
                None => return,
            }
        };
        for alias in &import.names {
            let name = alias.name.as_str();
            let member = match name {
                "*" => None,
                _ if crate::names::is_identifier(name) => Some(name.to_string()),
                _ => continue,
            };
            self.site(
                base.clone(),
                member,
                alias.start(),
                import.start(),
                relative.clone(),
                false,
            );
        }
    }

    /// Resolves `level` dots and an optional tail against the file's package, or reports why not.
    fn resolve_relative(
        &mut self,
        level: u32,
        tail: Option<&str>,
        offset: TextSize,
        written: &str,
    ) -> Option<ModuleName> {
        match resolve_relative(self.origin, level, tail) {
            Ok(module) => Some(module),
            Err(code) => {
                let message = if code == RELATIVE_IMPORT_NO_PACKAGE {
                    format!(
                        "relative import `{written}` in a file that is not part of an importable package"
                    )
                } else {
                    let package = self.origin.module.map_or("", ModuleName::as_str);
                    format!(
                        "relative import `{written}` goes beyond the top-level package of `{package}`"
                    )
                };
                self.problem(code, offset, message);
                None
            }
        }
    }

    fn visit_if(&mut self, stmt: &'a StmtIf) {
        let clauses = std::iter::once((Some(stmt.test.as_ref()), &stmt.body[..])).chain(
            stmt.elif_else_clauses
                .iter()
                .map(|clause| (clause.test.as_ref(), &clause.body[..])),
        );
        let mut chain_conditions: Vec<String> = Vec::new();
        let mut after_negated_type_checking = false;
        for (test, body) in clauses {
            let outer = context_of(after_negated_type_checking, &chain_conditions, false, false);
            let Some(test) = test else {
                self.within(&outer, &chain_conditions, |v| v.visit_body(body));
                continue;
            };
            self.within(&outer, &chain_conditions, |v| v.visit_expr(test));
            let type_checking = guards::type_checking_test(test, &self.bindings);
            if guards::mentions_platform(test, &self.bindings) {
                chain_conditions.push(self.text(test));
            }
            let add = context_of(
                after_negated_type_checking,
                &chain_conditions,
                type_checking == TypeCheckingTest::Body,
                guards::is_main_guard(test),
            );
            self.within(&add, &chain_conditions, |v| v.visit_body(body));
            after_negated_type_checking |= type_checking == TypeCheckingTest::Negated;
        }
    }

    fn check_dynamic(&mut self, call: &ExprCall) {
        let Some(kind) = dynamic::classify_call(call, &self.bindings) else {
            return;
        };
        let Some(name_arg) = dynamic::argument(call, 0, "name") else {
            return;
        };
        let Some(name) = dynamic::literal_str(name_arg) else {
            let text = abbreviate(&self.text(name_arg));
            self.problem(
                dynamic::DYNAMIC_IMPORT_NOT_LITERAL,
                name_arg.start(),
                format!(
                    "`{}({text})` imports a module whose name is not a string literal; it is not \
                     seen statically",
                    kind.describe()
                ),
            );
            return;
        };
        let (position, keyword) = kind.anchor_argument();
        let anchor = dynamic::argument(call, position, keyword);
        let offset = name_arg.start();
        let resolved = match kind {
            DynamicKind::ImportModule => self.import_module_target(name, anchor, offset),
            DynamicKind::DunderImport => self.dunder_import_target(name, anchor, offset),
        };
        if let Some((module, relative)) = resolved {
            self.site(module, None, offset, call.start(), relative, true);
        }
    }

    fn import_module_target(
        &mut self,
        name: &str,
        package: Option<&Expr>,
        offset: TextSize,
    ) -> Option<(ModuleName, Option<String>)> {
        let dots = name.len() - name.trim_start_matches('.').len();
        if dots == 0 {
            return self.valid_dynamic_name(name, offset).map(|m| (m, None));
        }
        let Some(package) = package else {
            self.problem(
                dynamic::DYNAMIC_IMPORT_INVALID,
                offset,
                format!("`import_module({name:?})` is relative but names no package"),
            );
            return None;
        };
        let Some(package_name) = dynamic::literal_str(package) else {
            self.problem(
                dynamic::DYNAMIC_IMPORT_NOT_LITERAL,
                package.start(),
                format!("`import_module({name:?}, package=…)` has a package that is not a string literal"),
            );
            return None;
        };
        let package_module = self.valid_dynamic_name(package_name, package.start())?;
        let origin = Origin {
            module: Some(&package_module),
            is_package: true,
        };
        let tail = Some(&name[dots..]).filter(|t| !t.is_empty());
        match resolve_relative(origin, u32::try_from(dots).unwrap_or(u32::MAX), tail) {
            Ok(module) => Some((module, Some(name.to_string()))),
            Err(_) => {
                self.problem(
                    RELATIVE_IMPORT_BEYOND_TOP_LEVEL,
                    offset,
                    format!("`import_module({name:?}, {package_name:?})` goes beyond the top-level package"),
                );
                None
            }
        }
    }

    fn dunder_import_target(
        &mut self,
        name: &str,
        level: Option<&Expr>,
        offset: TextSize,
    ) -> Option<(ModuleName, Option<String>)> {
        let level = match level {
            None => 0,
            Some(Expr::NumberLiteral(number)) => match number
                .value
                .as_int()
                .and_then(|i| i.as_u64())
                .and_then(|n| u32::try_from(n).ok())
            {
                Some(level) => level,
                None => {
                    self.problem(
                        dynamic::DYNAMIC_IMPORT_INVALID,
                        number.start(),
                        "`__import__` level is not a small non-negative integer".to_string(),
                    );
                    return None;
                }
            },
            Some(other) => {
                self.problem(
                    dynamic::DYNAMIC_IMPORT_NOT_LITERAL,
                    other.start(),
                    format!("`__import__({name:?}, …)` has a level that is not a literal"),
                );
                return None;
            }
        };
        if level == 0 {
            return self.valid_dynamic_name(name, offset).map(|m| (m, None));
        }
        let written = format!("{}{name}", ".".repeat(level as usize));
        let tail = Some(name).filter(|n| !n.is_empty());
        let module = self.resolve_relative(level, tail, offset, &written)?;
        Some((module, Some(written)))
    }

    fn valid_dynamic_name(&mut self, name: &str, offset: TextSize) -> Option<ModuleName> {
        let module = ModuleName::new(name);
        if module.is_none() {
            self.problem(
                dynamic::DYNAMIC_IMPORT_INVALID,
                offset,
                format!("dynamic import of {name:?}, which is not a module name"),
            );
        }
        module
    }
}

fn context_of(
    type_checking_else: bool,
    conditions: &[String],
    type_checking: bool,
    main_guard: bool,
) -> Vec<Context> {
    let mut add = Vec::new();
    if type_checking_else || type_checking {
        add.push(Context::TypeChecking);
    }
    if !conditions.is_empty() {
        add.push(Context::Conditional);
    }
    if main_guard {
        add.push(Context::MainGuard);
    }
    add
}

fn abbreviate(text: &str) -> String {
    const MAX: usize = 60;
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= MAX {
        flat
    } else {
        format!("{}…", flat.chars().take(MAX).collect::<String>())
    }
}

/// PEP 328 resolution: the package of `origin`, minus `level - 1` components, plus `tail`.
pub fn resolve_relative(
    origin: Origin<'_>,
    level: u32,
    tail: Option<&str>,
) -> Result<ModuleName, Code> {
    let module = origin.module.ok_or(RELATIVE_IMPORT_NO_PACKAGE)?;
    // A module's package is its parent, a package's is itself; each dot past the first goes
    // one further up.
    let up = level.saturating_sub(1) as usize + usize::from(!origin.is_package);
    let package = module
        .ancestor(up)
        .ok_or(RELATIVE_IMPORT_BEYOND_TOP_LEVEL)?;
    match tail {
        Some(tail) => package.join(tail).ok_or(RELATIVE_IMPORT_BEYOND_TOP_LEVEL),
        None => Ok(package),
    }
}

impl<'a> Visitor<'a> for Collector<'a> {
    fn visit_stmt(&mut self, stmt: &'a Stmt) {
        // A docstring holds no import, and names no file the code reads.
        if file_refs::is_docstring(stmt) {
            return;
        }
        match stmt {
            Stmt::FunctionDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(type_params) = &def.type_params {
                    self.visit_type_params(type_params);
                }
                self.visit_parameters(&def.parameters);
                if let Some(returns) = &def.returns {
                    self.visit_annotation(returns);
                }
                self.within(&[Context::Function], &[], |v| v.visit_body(&def.body));
            }
            Stmt::ClassDef(def) => {
                for decorator in &def.decorator_list {
                    self.visit_decorator(decorator);
                }
                if let Some(type_params) = &def.type_params {
                    self.visit_type_params(type_params);
                }
                if let Some(arguments) = &def.arguments {
                    self.visit_arguments(arguments);
                }
                self.within(&[Context::Class], &[], |v| v.visit_body(&def.body));
            }
            Stmt::If(stmt_if) => self.visit_if(stmt_if),
            Stmt::Match(stmt_match) => {
                self.visit_expr(&stmt_match.subject);
                let conditions: Vec<String> =
                    if guards::mentions_platform(&stmt_match.subject, &self.bindings) {
                        vec![self.text(stmt_match.subject.as_ref())]
                    } else {
                        Vec::new()
                    };
                let add = context_of(false, &conditions, false, false);
                self.within(&add, &conditions, |v| {
                    for case in &stmt_match.cases {
                        v.visit_match_case(case);
                    }
                });
            }
            Stmt::Try(stmt_try) => {
                let optional: &[Context] = if guards::catches_import_error(&stmt_try.handlers) {
                    &[Context::Optional]
                } else {
                    &[]
                };
                self.within(optional, &[], |v| v.visit_body(&stmt_try.body));
                for handler in &stmt_try.handlers {
                    self.visit_except_handler(handler);
                }
                self.visit_body(&stmt_try.orelse);
                self.visit_body(&stmt_try.finalbody);
            }
            Stmt::Import(import) => self.record_import(import),
            Stmt::ImportFrom(import) => self.record_import_from(import),
            // No context of their own: their expressions and nested blocks are walked as is.
            Stmt::Return(_)
            | Stmt::Delete(_)
            | Stmt::TypeAlias(_)
            | Stmt::Assign(_)
            | Stmt::AugAssign(_)
            | Stmt::AnnAssign(_)
            | Stmt::For(_)
            | Stmt::While(_)
            | Stmt::With(_)
            | Stmt::Raise(_)
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

    fn visit_expr(&mut self, expr: &'a Expr) {
        let taken = self.file_refs.enter(expr);
        self.visit_expr_imports(expr);
        self.file_refs.leave(taken);
    }
}

impl<'a> Collector<'a> {
    /// The imports of `expr` and below: [`Visitor::visit_expr`] without the file references.
    fn visit_expr_imports(&mut self, expr: &'a Expr) {
        match expr {
            Expr::Call(call) => {
                self.check_dynamic(call);
                let mut found = named::Found::default();
                named::from_call(call, &self.qualifier, &mut self.handled_lists, &mut found);
                self.record_named(found);
                walk_expr(self, expr);
            }
            Expr::List(ruff_python_ast::ExprList { elts, .. })
            | Expr::Tuple(ruff_python_ast::ExprTuple { elts, .. }) => {
                if !self.handled_lists.contains(&expr.start()) {
                    let mut found = named::Found::default();
                    named::from_sequence(elts, &self.qualifier, &mut found);
                    self.record_named(found);
                }
                walk_expr(self, expr);
            }
            Expr::Subscript(subscript) => {
                let mut found = named::Found::default();
                named::from_subscript(subscript, &self.qualifier, &mut found);
                self.record_named(found);
                walk_expr(self, expr);
            }
            Expr::Lambda(lambda) => {
                if let Some(parameters) = &lambda.parameters {
                    self.visit_parameters(parameters);
                }
                self.within(&[Context::Function], &[], |v| v.visit_expr(&lambda.body));
            }
            _ => walk_expr(self, expr),
        }
    }
}
