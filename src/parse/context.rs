//! Where an import sits ([`Context`]) and the set of them a site carries ([`ContextSet`]).

use schemars::JsonSchema;
use schemars::r#gen::SchemaGenerator;
use schemars::schema::Schema;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeSet;

/// Where an import sits. A site carries every context that encloses it.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Context {
    /// Inside a function or method body (or a lambda: it runs only when called).
    Function,
    /// Inside a class body.
    Class,
    /// Inside a `try` whose handlers catch ImportError, ModuleNotFoundError, Exception or all.
    Optional,
    /// Under `if TYPE_CHECKING:`.
    TypeChecking,
    /// Under a test of `sys.version_info`, `sys.platform`, `platform.system()` or `os.name`.
    Conditional,
    /// `importlib.import_module("x")` or `__import__("x")`, or a module a string names that
    /// Python imports (`python -m x` in a subprocess, `pytest_plugins`, ...: see `named`).
    Dynamic,
    /// Under `if __name__ == "__main__":`.
    MainGuard,
}

impl Context {
    /// Every context, in order.
    pub const ALL: [Context; 7] = [
        Context::Function,
        Context::Class,
        Context::Optional,
        Context::TypeChecking,
        Context::Conditional,
        Context::Dynamic,
        Context::MainGuard,
    ];

    const fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// A set of [`Context`]s, a bit each: one byte per import site instead of a tree. It
/// iterates, compares, serializes and is described like the sorted `BTreeSet<Context>` it
/// replaces, so outputs and schemas do not change.
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct ContextSet(u8);

impl ContextSet {
    pub const fn new() -> Self {
        ContextSet(0)
    }

    /// Adds `context`; false when it was there already.
    pub fn insert(&mut self, context: Context) -> bool {
        let had = self.0 & context.bit() != 0;
        self.0 |= context.bit();
        !had
    }

    pub fn contains(&self, context: &Context) -> bool {
        self.0 & context.bit() != 0
    }

    pub fn is_empty(&self) -> bool {
        self.0 == 0
    }

    pub fn len(&self) -> usize {
        self.0.count_ones() as usize
    }

    /// The set as bits, `1 << (context as u8)` each (the parse cache stores it so).
    pub fn bits(self) -> u8 {
        self.0
    }

    /// The set of `bits`; `None` when a bit is set that no context has.
    pub fn from_bits(bits: u8) -> Option<Self> {
        let all = Context::ALL.iter().fold(0, |all, c| all | c.bit());
        (bits & !all == 0).then_some(ContextSet(bits))
    }

    /// The contexts in order.
    pub fn iter(&self) -> impl Iterator<Item = Context> + use<> {
        let bits = self.0;
        Context::ALL
            .into_iter()
            .filter(move |c| bits & c.bit() != 0)
    }
}

impl FromIterator<Context> for ContextSet {
    fn from_iter<I: IntoIterator<Item = Context>>(iter: I) -> Self {
        let mut set = ContextSet::new();
        set.extend(iter);
        set
    }
}

impl Extend<Context> for ContextSet {
    fn extend<I: IntoIterator<Item = Context>>(&mut self, iter: I) {
        for context in iter {
            self.insert(context);
        }
    }
}

/// Sets compare as their sorted element lists, as `BTreeSet`s do.
impl Ord for ContextSet {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.iter().cmp(other.iter())
    }
}

impl PartialOrd for ContextSet {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl std::fmt::Debug for ContextSet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl Serialize for ContextSet {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.iter())
    }
}

impl<'de> Deserialize<'de> for ContextSet {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(Vec::<Context>::deserialize(deserializer)?
            .into_iter()
            .collect())
    }
}

impl JsonSchema for ContextSet {
    fn schema_name() -> String {
        <BTreeSet<Context>>::schema_name()
    }

    fn is_referenceable() -> bool {
        false
    }

    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        <BTreeSet<Context>>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bits give back the set they came from; a bit no context has is refused.
    #[test]
    fn a_context_set_round_trips_through_its_bits() {
        for bits in 0u8..=255 {
            let set: ContextSet = Context::ALL
                .into_iter()
                .filter(|c| bits & c.bit() != 0)
                .collect();
            if bits < 1 << Context::ALL.len() {
                assert_eq!(ContextSet::from_bits(bits), Some(set));
                assert_eq!(set.bits(), bits);
            } else {
                assert_eq!(ContextSet::from_bits(bits), None, "{bits:#x}");
            }
        }
    }

    /// Every subset orders, iterates and serializes as the same `BTreeSet` does.
    #[test]
    fn a_context_set_behaves_as_the_sorted_set() {
        let subsets: Vec<BTreeSet<Context>> = (0u8..128)
            .map(|bits| {
                Context::ALL
                    .into_iter()
                    .filter(|c| bits & c.bit() != 0)
                    .collect()
            })
            .collect();
        for a in &subsets {
            let set: ContextSet = a.iter().copied().collect();
            assert_eq!(
                set.iter().collect::<Vec<_>>(),
                a.iter().copied().collect::<Vec<_>>()
            );
            assert_eq!(set.len(), a.len());
            assert_eq!(
                serde_json::to_string(&set).unwrap(),
                serde_json::to_string(a).unwrap()
            );
            let back: ContextSet =
                serde_json::from_str(&serde_json::to_string(a).unwrap()).unwrap();
            assert_eq!(back, set);
            for b in &subsets {
                let other: ContextSet = b.iter().copied().collect();
                assert_eq!(set.cmp(&other), a.cmp(b), "{a:?} vs {b:?}");
            }
        }
    }
}
