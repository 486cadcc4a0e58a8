//! The tests that put an import in a context: `if TYPE_CHECKING:`, `if sys.platform == …:`,
//! `if __name__ == "__main__":` and `try: … except ImportError:`.
//!
//! - TYPE_CHECKING: the name (or an alias from `typing`/`typing_extensions`), the attribute
//!   `typing.TYPE_CHECKING` through any alias of the module, `TYPE_CHECKING and …`, and
//!   `not TYPE_CHECKING` (whose *else* branch is the typing-only one).
//! - Conditional: any mention of `sys.version_info`, `sys.platform` (and the other
//!   [`SYS_ATTRIBUTES`]), `os.name` or an attribute of `platform` (`platform.system()`),
//!   through module aliases or names imported from those modules.
//! - Main guard: `__name__ == "__main__"`, either way round.
//! - Optional: a handler for `ImportError`, `ModuleNotFoundError`, `Exception`,
//!   `BaseException` (also as `builtins.X`), a bare `except:`, or a tuple holding one of them.

use ruff_python_ast::visitor::{Visitor, walk_expr};
use ruff_python_ast::{CmpOp, ExceptHandler, Expr, UnaryOp};

use super::dynamic::{Bindings, SYS_ATTRIBUTES};

const IMPORT_ERRORS: &[&str] = &[
    "ImportError",
    "ModuleNotFoundError",
    "Exception",
    "BaseException",
];

/// How an `if` test relates to `TYPE_CHECKING`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TypeCheckingTest {
    /// The body runs only under a type checker.
    Body,
    /// `not TYPE_CHECKING`: what follows (elif/else) runs only under a type checker.
    Negated,
    No,
}

pub fn type_checking_test(test: &Expr, bindings: &Bindings<'_>) -> TypeCheckingTest {
    match test {
        Expr::Name(name) if bindings.type_checking.contains(name.id.as_str()) => {
            TypeCheckingTest::Body
        }
        Expr::Attribute(attribute) if attribute.attr.as_str() == "TYPE_CHECKING" => {
            match attribute.value.as_ref() {
                Expr::Name(module) if bindings.typing.contains(module.id.as_str()) => {
                    TypeCheckingTest::Body
                }
                _ => TypeCheckingTest::No,
            }
        }
        Expr::UnaryOp(unary) if unary.op == UnaryOp::Not => {
            match type_checking_test(&unary.operand, bindings) {
                TypeCheckingTest::Body => TypeCheckingTest::Negated,
                TypeCheckingTest::Negated => TypeCheckingTest::Body,
                TypeCheckingTest::No => TypeCheckingTest::No,
            }
        }
        Expr::BoolOp(bool_op) if bool_op.op == ruff_python_ast::BoolOp::And => {
            if bool_op
                .values
                .iter()
                .any(|v| type_checking_test(v, bindings) == TypeCheckingTest::Body)
            {
                TypeCheckingTest::Body
            } else {
                TypeCheckingTest::No
            }
        }
        _ => TypeCheckingTest::No,
    }
}

/// Whether `expr` mentions the version or platform of the interpreter.
pub fn mentions_platform(expr: &Expr, bindings: &Bindings<'_>) -> bool {
    let mut finder = PlatformFinder {
        bindings,
        found: false,
    };
    finder.visit_expr(expr);
    finder.found
}

struct PlatformFinder<'b> {
    bindings: &'b Bindings<'b>,
    found: bool,
}

impl<'a> Visitor<'a> for PlatformFinder<'_> {
    fn visit_expr(&mut self, expr: &'a Expr) {
        if self.found {
            return;
        }
        match expr {
            Expr::Name(name) if self.bindings.platform_values.contains(name.id.as_str()) => {
                self.found = true;
            }
            Expr::Attribute(attribute) => {
                if let Expr::Name(owner) = attribute.value.as_ref() {
                    let owner = owner.id.as_str();
                    let attr = attribute.attr.as_str();
                    self.found = (self.bindings.sys.contains(owner)
                        && SYS_ATTRIBUTES.contains(&attr))
                        || (self.bindings.os.contains(owner) && attr == "name")
                        || self.bindings.platform.contains(owner);
                }
                if !self.found {
                    walk_expr(self, expr);
                }
            }
            _ => walk_expr(self, expr),
        }
    }
}

pub fn is_main_guard(test: &Expr) -> bool {
    let Expr::Compare(compare) = test else {
        return false;
    };
    if compare.ops.as_ref() != [CmpOp::Eq] || compare.comparators.len() != 1 {
        return false;
    }
    let (left, right) = (compare.left.as_ref(), &compare.comparators[0]);
    let is_name = |e: &Expr| matches!(e, Expr::Name(n) if n.id.as_str() == "__name__");
    let is_main = |e: &Expr| matches!(e, Expr::StringLiteral(s) if s.value.to_str() == "__main__");
    (is_name(left) && is_main(right)) || (is_main(left) && is_name(right))
}

/// Whether a `try` with these handlers makes the imports of its body optional.
pub fn catches_import_error(handlers: &[ExceptHandler]) -> bool {
    handlers.iter().any(|handler| {
        let ExceptHandler::ExceptHandler(handler) = handler;
        handler.type_.as_deref().is_none_or(names_import_error)
    })
}

fn names_import_error(expr: &Expr) -> bool {
    match expr {
        Expr::Name(name) => IMPORT_ERRORS.contains(&name.id.as_str()),
        Expr::Attribute(attribute) => IMPORT_ERRORS.contains(&attribute.attr.as_str()),
        Expr::Tuple(tuple) => tuple.elts.iter().any(names_import_error),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ruff_python_parser::parse_expression;

    fn expr(source: &str) -> Expr {
        parse_expression(source).unwrap().into_expr()
    }

    #[test]
    fn type_checking_tests_are_recognised_through_typing_aliases() {
        let mut bindings = Bindings::default();
        bindings.typing.insert("t");
        for test in [
            "TYPE_CHECKING",
            "typing.TYPE_CHECKING",
            "t.TYPE_CHECKING",
            "TYPE_CHECKING and X",
        ] {
            assert_eq!(
                type_checking_test(&expr(test), &bindings),
                TypeCheckingTest::Body,
                "{test}"
            );
        }
        assert_eq!(
            type_checking_test(&expr("not TYPE_CHECKING"), &bindings),
            TypeCheckingTest::Negated
        );
        assert_eq!(
            type_checking_test(&expr("x.TYPE_CHECKING"), &bindings),
            TypeCheckingTest::No
        );
    }

    #[test]
    fn platform_tests_are_found_anywhere_in_the_test() {
        let bindings = Bindings::default();
        for test in [
            "sys.version_info >= (3, 11)",
            "sys.platform.startswith('win')",
            "platform.system() == 'Linux'",
            "os.name == 'nt' and x",
        ] {
            assert!(mentions_platform(&expr(test), &bindings), "{test}");
        }
        assert!(!mentions_platform(&expr("os.path.exists('x')"), &bindings));
    }

    #[test]
    fn main_guard_is_recognised_both_ways_round() {
        assert!(is_main_guard(&expr("__name__ == '__main__'")));
        assert!(is_main_guard(&expr("'__main__' == __name__")));
        assert!(!is_main_guard(&expr("__name__ != '__main__'")));
    }
}
