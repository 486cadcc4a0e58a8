//! Validated names that cross stage boundaries.
//!
//! - [`ModuleName`]: a dotted Python module name, every component an identifier
//!   (as ty's `ModuleName::new`, which refuses `""`, `.a` and `a..b`).
//! - [`PackageName`]: a distribution name normalised per PEP 503
//!   (<https://peps.python.org/pep-0503/#normalized-names>): lowercase, runs of `-_.` → `-`.

use std::fmt;

use compact_str::CompactString;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A dotted module name such as `google.protobuf`.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(try_from = "String", into = "String")]
// Inline up to 24 bytes, as nearly every module name is: no allocation per import site.
pub struct ModuleName(#[schemars(with = "String")] CompactString);

impl ModuleName {
    /// `None` unless every dot-separated component is a Python identifier.
    pub fn new(name: &str) -> Option<Self> {
        if is_dotted_identifier(name) {
            Some(Self(name.into()))
        } else {
            None
        }
    }

    /// Builds a name from components, each of which must be an identifier.
    pub fn from_components<'a>(parts: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut name = CompactString::default();
        for part in parts {
            if !is_identifier(part) {
                return None;
            }
            if !name.is_empty() {
                name.push('.');
            }
            name.push_str(part);
        }
        (!name.is_empty()).then_some(Self(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn components(&self) -> impl Iterator<Item = &str> {
        // Cut at each `.` found by a byte loop, as `top_level` does: `split('.')` sets up a
        // `memchr` searcher per call, which cost more than the search itself (an eighth of
        // resolving every import site of a large project).
        let mut rest = Some(self.0.as_str());
        std::iter::from_fn(move || {
            let text = rest?;
            match text.bytes().position(|b| b == b'.') {
                Some(dot) => {
                    rest = Some(&text[dot + 1..]);
                    Some(&text[..dot])
                }
                None => {
                    rest = None;
                    Some(text)
                }
            }
        })
    }

    /// The first component: `google` for `google.protobuf`.
    pub fn top_level(&self) -> &str {
        top_level(&self.0)
    }

    /// The enclosing package: `a.b` for `a.b.c`, `None` for a top-level name.
    pub fn parent(&self) -> Option<Self> {
        self.0.rsplit_once('.').map(|(p, _)| Self(p.into()))
    }

    /// `self.child`, when `child` is a valid (possibly dotted) name.
    pub fn join(&self, child: &str) -> Option<Self> {
        if !is_dotted_identifier(child) {
            return None;
        }
        let mut name = CompactString::with_capacity(self.0.len() + 1 + child.len());
        name.push_str(&self.0);
        name.push('.');
        name.push_str(child);
        Some(Self(name))
    }

    /// The package `levels` components up: `a.b` for `a.b.c` and 1, `self` for 0; `None`
    /// when the name has no more than `levels` components.
    pub fn ancestor(&self, levels: usize) -> Option<Self> {
        let mut name = self.0.as_str();
        for _ in 0..levels {
            name = &name[..name.bytes().rposition(|b| b == b'.')?];
        }
        Some(Self(name.into()))
    }

    /// `self` and each of its parents, longest first: `a.b.c`, `a.b`, `a`.
    pub fn ancestors(&self) -> impl Iterator<Item = Self> + '_ {
        let mut current = Some(self.clone());
        std::iter::from_fn(move || {
            let this = current.take()?;
            current = this.parent();
            Some(this)
        })
    }

    /// Whether `self` is `other` or inside it: `a.b` starts with `a`, `ab` does not.
    pub fn starts_with(&self, other: &ModuleName) -> bool {
        self.0 == other.0
            || (self.0.starts_with(other.0.as_str())
                && self.0.as_bytes().get(other.0.len()) == Some(&b'.'))
    }
}

impl fmt::Display for ModuleName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for ModuleName {
    type Error = String;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(&value).ok_or_else(|| format!("not a module name: {value:?}"))
    }
}

impl From<ModuleName> for String {
    fn from(value: ModuleName) -> Self {
        value.0.into_string()
    }
}

/// The first component of a dotted name (`a` for `a.b.c`), for a name held as a plain string
/// (a graph node's). A byte search: names are short, and `split` sets up a `memchr` searcher
/// per call.
pub fn top_level(name: &str) -> &str {
    match name.bytes().position(|b| b == b'.') {
        Some(dot) => &name[..dot],
        None => name,
    }
}

/// Whether every dot-separated component of `name` is an identifier. Nearly every name is
/// ASCII, checked byte by byte without decoding a `char`.
fn is_dotted_identifier(name: &str) -> bool {
    if !name.is_ascii() {
        return name.split('.').all(is_identifier);
    }
    let mut at_start = true;
    for &byte in name.as_bytes() {
        at_start = match byte {
            b'.' if !at_start => true,
            b'_' | b'a'..=b'z' | b'A'..=b'Z' => false,
            b'0'..=b'9' if !at_start => false,
            _ => return false,
        };
    }
    !at_start
}

/// A Python identifier (PEP 3131, approximated by Unicode XID as CPython does after NFKC).
pub fn is_identifier(s: &str) -> bool {
    if let Some((&first, rest)) = s.as_bytes().split_first()
        && s.is_ascii()
    {
        // Nearly every name: bytes, not characters and their Unicode classes.
        return (first == b'_' || first.is_ascii_alphabetic())
            && rest.iter().all(|&b| b == b'_' || b.is_ascii_alphanumeric());
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) if c == '_' || unicode_ident_start(c) => {}
        _ => return false,
    }
    chars.all(|c| c == '_' || unicode_ident_continue(c))
}

fn unicode_ident_start(c: char) -> bool {
    c.is_alphabetic()
}

fn unicode_ident_continue(c: char) -> bool {
    c.is_alphanumeric()
}

/// A distribution name normalised per PEP 503.
#[derive(
    Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(from = "String", into = "String")]
pub struct PackageName(String);

impl PackageName {
    pub fn new(raw: &str) -> Self {
        let mut out = String::with_capacity(raw.len());
        let mut pending_sep = false;
        for c in raw.trim().chars() {
            if matches!(c, '-' | '_' | '.') {
                pending_sep = true;
            } else {
                if pending_sep && !out.is_empty() {
                    out.push('-');
                }
                pending_sep = false;
                out.extend(c.to_lowercase());
            }
        }
        Self(out)
    }

    /// Whether `raw` is a project name as PEP 508 spells one: ASCII letters and digits, with
    /// `.`, `_` or `-` only between them (`../../etc` or `x$(id)` in a METADATA `Name` is not).
    pub fn is_valid(raw: &str) -> bool {
        let bytes = raw.as_bytes();
        let alnum = |b: &u8| b.is_ascii_alphanumeric();
        bytes.first().is_some_and(alnum)
            && bytes.last().is_some_and(alnum)
            && bytes
                .iter()
                .all(|b| alnum(b) || matches!(b, b'.' | b'_' | b'-'))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PackageName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<String> for PackageName {
    fn from(value: String) -> Self {
        Self::new(&value)
    }
}

impl From<PackageName> for String {
    fn from(value: PackageName) -> Self {
        value.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_are_valid_only_as_pep_508_spells_them() {
        for good in ["six", "Foo_Bar", "a", "zope.interface", "x-1"] {
            assert!(PackageName::is_valid(good), "{good}");
        }
        for bad in ["", "../../etc", "x$(id)", "-a", "a.", "foo bar", "é"] {
            assert!(!PackageName::is_valid(bad), "{bad}");
        }
    }

    #[test]
    fn module_name_refuses_empty_and_leading_or_double_dots() {
        assert!(ModuleName::new("").is_none());
        assert!(ModuleName::new(".a").is_none());
        assert!(ModuleName::new("a..b").is_none());
        assert!(ModuleName::new("a-b").is_none());
        assert!(ModuleName::new("1a").is_none());
        assert_eq!(ModuleName::new("a.b_c").unwrap().as_str(), "a.b_c");
    }

    // The ASCII path must say what the general one says, for every string of these bytes up
    // to four long (dots, digits, letters, `_`, and bytes no identifier holds).
    #[test]
    fn the_ascii_check_agrees_with_the_general_one() {
        let alphabet = [".", "a", "Z", "_", "0", "9", "-", " ", "é"];
        let mut names = vec![String::new()];
        for _ in 0..4 {
            let longer: Vec<String> = names
                .iter()
                .flat_map(|n| alphabet.iter().map(move |c| format!("{n}{c}")))
                .collect();
            names.extend(longer);
        }
        names.sort();
        names.dedup();
        for name in &names {
            let general = name.split('.').all(is_identifier);
            assert_eq!(is_dotted_identifier(name), general, "{name:?}");
        }
        assert!(
            names
                .iter()
                .any(|n| is_dotted_identifier(n) && n.contains('.'))
        );
    }

    #[test]
    fn components_are_the_parts_between_dots() {
        for name in ["a", "a.b", "pkg.sub.mod", "_x.y1", "é.ü"] {
            let module = ModuleName::new(name).unwrap();
            let parts: Vec<&str> = module.components().collect();
            assert_eq!(parts, name.split('.').collect::<Vec<_>>(), "{name}");
        }
    }

    #[test]
    fn ancestor_and_join_walk_components() {
        let name = ModuleName::new("a.b.c").unwrap();
        let up = |n| name.ancestor(n).map(String::from);
        assert_eq!(
            [up(0), up(1), up(2), up(3)],
            [
                Some("a.b.c".into()),
                Some("a.b".into()),
                Some("a".into()),
                None
            ]
        );
        assert_eq!(name.join("d.e").map(String::from), Some("a.b.c.d.e".into()));
        for bad in ["", "d.", "*", "1d", "d..e"] {
            assert_eq!(name.join(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn module_name_ancestors_run_longest_first() {
        let name = ModuleName::new("a.b.c").unwrap();
        let all: Vec<String> = name.ancestors().map(String::from).collect();
        assert_eq!(all, ["a.b.c", "a.b", "a"]);
        assert_eq!(name.top_level(), "a");
    }

    #[test]
    fn module_name_starts_with_respects_component_boundaries() {
        let ab = ModuleName::new("a.b").unwrap();
        assert!(ab.starts_with(&ModuleName::new("a").unwrap()));
        assert!(
            !ModuleName::new("ab")
                .unwrap()
                .starts_with(&ModuleName::new("a").unwrap())
        );
        assert!(ab.starts_with(&ab));
    }

    #[test]
    fn package_names_are_normalised_per_pep_503() {
        assert_eq!(PackageName::new("Foo.Bar__baz").as_str(), "foo-bar-baz");
        assert_eq!(PackageName::new("PyYAML").as_str(), "pyyaml");
        assert_eq!(
            PackageName::new("zope.interface").as_str(),
            "zope-interface"
        );
    }
}
