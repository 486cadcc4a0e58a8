//! `entry_points.txt` of a distribution, read as `importlib.metadata` reads it
//! (`Sectioned.read` and `EntryPoint.pattern` in CPython's `importlib/metadata/__init__.py`):
//!
//! - every line is stripped; empty lines and lines starting with `#` are skipped (a `;` line
//!   is not a comment there, and is not one here);
//! - a line that starts with `[` and ends with `]` opens a group, named by the line with every
//!   leading and trailing bracket stripped (`value.strip('[]')`);
//! - any other line is `name = value`, split at the first `=`, both sides stripped; a line
//!   before the first group, or without `=`, is no entry point (importlib raises on the
//!   latter; here it is dropped, so one bad line does not hide the others).
//!
//! A value is `module`, `module:attr` or `module:attr [extras]`; [`EntryPoint::module`] is the
//! module part, which is what a host imports when it loads the entry point.

use super::EntryPoint;

/// Every entry point of an `entry_points.txt`, sorted.
pub fn parse(text: &str) -> Vec<EntryPoint> {
    let mut group: Option<&str> = None;
    let mut out = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if line.starts_with('[') && line.ends_with(']') {
            group = Some(line.trim_matches(['[', ']']));
            continue;
        }
        if let (Some(group), Some((name, value))) = (group, line.split_once('=')) {
            out.push(EntryPoint {
                group: group.to_string(),
                name: name.trim().to_string(),
                value: value.trim().to_string(),
            });
        }
    }
    out.sort();
    out.dedup();
    out
}

impl EntryPoint {
    /// The module a host imports to load it (`pytest_cov.plugin` of
    /// `pytest_cov.plugin:CovPlugin [toml]`), or `None` when the value is not a dotted name.
    pub fn module(&self) -> Option<&str> {
        let module = self.value.split([':', '[']).next()?.trim();
        let valid = !module.is_empty()
            && module.split('.').all(|part| {
                !part.is_empty() && part.chars().all(|c| c.is_alphanumeric() || c == '_')
            });
        valid.then_some(module)
    }
}

/// An entry point for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) fn entry(group: &str, name: &str, value: &str) -> EntryPoint {
    EntryPoint {
        group: group.into(),
        name: name.into(),
        value: value.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The expected entries are what CPython 3.11's `EntryPoints._from_text` gives for this text
    /// (checked by hand; `;` starts no comment, a bracketed group keeps its inner spaces).
    #[test]
    fn groups_pairs_and_comments_follow_importlib() {
        let eps = parse(
            "top = ignored\n[console_scripts]\ntool = pkg.cli:main\n\n# note\n  [ pytest11 ]\n\
             cov=pytest_cov.plugin\n;semi = x.y\nno equals sign\n[[odd]]\na = b = c\n",
        );
        assert_eq!(
            eps,
            [
                entry(" pytest11 ", ";semi", "x.y"),
                entry(" pytest11 ", "cov", "pytest_cov.plugin"),
                entry("console_scripts", "tool", "pkg.cli:main"),
                entry("odd", "a", "b = c"),
            ]
        );
    }

    #[test]
    fn the_module_is_the_part_before_the_attribute_and_extras() {
        assert_eq!(
            entry("g", "n", "pytest_cov.plugin:CovPlugin [toml]").module(),
            Some("pytest_cov.plugin")
        );
        assert_eq!(
            entry("g", "n", "xdist.plugin").module(),
            Some("xdist.plugin")
        );
        assert_eq!(entry("g", "n", "a b:c").module(), None);
        assert_eq!(entry("g", "n", "").module(), None);
        assert_eq!(entry("g", "n", "pkg..mod").module(), None);
    }
}
