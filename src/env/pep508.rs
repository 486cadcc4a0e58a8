//! Third-party parsers of environment text (PEP 508 requirements, PEP 440 specifiers), run so
//! that a panic inside them becomes an error instead of ending envscan.
//!
//! pep508_rs 0.9.2, the newest release, panics on some malformed requirements that installed
//! distributions carry in their METADATA: a name or extra ending in `.`, `-` or `_` followed
//! by more text (`foo. (>=1)`, `foo_ ; python_version>"3"`, `foo[bar.]`), or a non-ASCII
//! character right after a quoted marker value (`furo ; extra == 'docs'é`). Its error
//! rendering slices a string inside a multi-byte character. Such a line must be a diagnostic
//! on its file, whatever distribution it belongs to.
//!
//! [`without_panic`] runs a parser under `catch_unwind` with the panic message silenced for
//! the calling thread only (the process's own panic hook still reports every other panic),
//! and the parse error is rendered inside the guard too, since that is where it panics.

use std::cell::Cell;
use std::panic::{self, AssertUnwindSafe};
use std::str::FromStr;
use std::sync::Once;

thread_local! {
    static QUIET: Cell<bool> = const { Cell::new(false) };
}

static HOOK: Once = Once::new();

/// Installs, once, a panic hook that stays silent while this thread runs [`without_panic`]
/// and otherwise calls the hook that was there before.
fn install_hook() {
    HOOK.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !QUIET.with(Cell::get) {
                previous(info);
            }
        }));
    });
}

/// `f()`, or `None` when it panics (silently).
pub fn without_panic<T>(f: impl FnOnce() -> T) -> Option<T> {
    install_hook();
    let was = QUIET.with(|q| q.replace(true));
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    QUIET.with(|q| q.set(was));
    result.ok()
}

/// Parses `text` with `T::from_str`, the error rendered to its first line; a panic in the
/// parser or in its error's `Display` is an error saying so.
pub fn parse_guarded<T>(text: &str) -> Result<T, String>
where
    T: FromStr,
    T::Err: std::fmt::Display,
{
    without_panic(|| {
        T::from_str(text).map_err(|err| {
            err.to_string()
                .lines()
                .next()
                .unwrap_or_default()
                .to_string()
        })
    })
    .unwrap_or_else(|| Err("malformed (the parser could not handle it)".to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requirements_that_panic_pep508_rs_are_errors() {
        // Regression (issue 14, defect 3): each of these panicked inside pep508_rs 0.9.2.
        for text in [
            "foo. (>=1)",
            "foo.é",
            "foo_ ; python_version>\"3\"",
            "foo[bar.]",
            "furo ; extra == 'docs'é",
        ] {
            let parsed = parse_guarded::<pep508_rs::Requirement>(text);
            assert!(parsed.is_err(), "{text}");
        }
        assert!(parse_guarded::<pep508_rs::Requirement>("numpy>=1.2; python_version>'3'").is_ok());
    }

    #[test]
    fn an_ordinary_parse_error_keeps_its_first_line() {
        let err = parse_guarded::<pep508_rs::Requirement>("a-").unwrap_err();
        assert!(err.contains("alphanumeric"), "{err}");
    }
}
