//! A distribution's files inside site-packages ([`Files`]): absolute paths in byte order, as a
//! list of paths or, read back from the environment cache, as the cache keeps them: paths
//! relative to the site-packages folder, front-coded ([`FrontCoded`]). The second form is what
//! a warm run holds, and nothing decodes it unless asked: the file count is the number of
//! entries, the file index finds a distribution by the first component of its paths (which
//! [`Files::from_front_coded`] notes while it checks the coding) and compares a path against
//! that distribution's entries only, decoding them one by one into a scratch buffer. So an
//! unchanged environment of tens of thousands of files makes neither a path nor a string per
//! file. Whoever asks for the paths as a slice gets them made once, the same bytes.

use std::ops::Deref;
use std::path::{MAIN_SEPARATOR, Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default)]
pub struct Files(Repr);

#[derive(Clone, Debug)]
enum Repr {
    Paths(Vec<PathBuf>),
    /// `base`, the separator and `text[ends[i - 1]..ends[i]]` is path `i`, byte for byte.
    Relative {
        base: PathBuf,
        text: String,
        ends: Vec<u32>,
        paths: OnceLock<Vec<PathBuf>>,
    },
    /// `base`, the separator and entry `i` of `coded` is path `i`, byte for byte; every entry
    /// is a plain relative path (see [`Files::from_text`]). `tops` holds the distinct first
    /// components of the entries, sorted.
    Coded {
        base: PathBuf,
        coded: Arc<FrontCoded>,
        tops: Vec<Box<[u8]>>,
        paths: OnceLock<Vec<PathBuf>>,
    },
}

/// Paths front-coded, as the environment cache stores them: entry `i` is the first
/// `shared[i]` bytes of entry `i - 1`, then the next `rest_lens[i]` bytes of `rests`. RECORD
/// is mostly sorted, so `pkg/sub/a.py` after `pkg/sub/__init__.py` costs `a.py`: a third of
/// the bytes, and one string instead of thousands. The two lengths are written as one byte
/// string each (little-endian pairs): serde's sequence of `u16` costs a call per element to
/// read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrontCoded {
    pub rests: String,
    #[serde(with = "u16_bytes")]
    pub shared: Vec<u16>,
    #[serde(with = "u16_bytes")]
    pub rest_lens: Vec<u16>,
}

/// A `Vec<u16>` as bytes, two per element, little-endian.
mod u16_bytes {
    use serde::de::{Error, Visitor};
    use serde::{Deserializer, Serializer};

    pub fn serialize<S: Serializer>(values: &[u16], serializer: S) -> Result<S::Ok, S::Error> {
        let bytes: Vec<u8> = values.iter().flat_map(|v| v.to_le_bytes()).collect();
        serializer.serialize_bytes(&bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Vec<u16>, D::Error> {
        struct Pairs;
        impl Visitor<'_> for Pairs {
            type Value = Vec<u16>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes of little-endian u16 pairs")
            }

            fn visit_bytes<E: Error>(self, bytes: &[u8]) -> Result<Vec<u16>, E> {
                if !bytes.len().is_multiple_of(2) {
                    return Err(E::custom("odd length"));
                }
                Ok(bytes
                    .chunks_exact(2)
                    .map(|pair| u16::from_le_bytes([pair[0], pair[1]]))
                    .collect())
            }
        }
        deserializer.deserialize_bytes(Pairs)
    }
}

impl FrontCoded {
    /// The coding of `entries`; `None` when one is longer than `u16` can count (no path is)
    /// or there are more than `u32` can count.
    pub fn encode<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Option<Self> {
        let mut coded = FrontCoded::default();
        let mut previous = String::new();
        for entry in entries {
            let entry = entry.as_ref();
            let mut common = previous
                .bytes()
                .zip(entry.bytes())
                .take_while(|(a, b)| a == b)
                .count();
            while !entry.is_char_boundary(common) {
                common -= 1;
            }
            let rest = &entry[common..];
            coded.rests.push_str(rest);
            coded.shared.push(u16::try_from(common).ok()?);
            coded.rest_lens.push(u16::try_from(rest.len()).ok()?);
            previous.clear();
            previous.push_str(entry);
        }
        u32::try_from(coded.shared.len()).ok()?;
        Some(coded)
    }

    /// Whether there is a rest length per entry and the rests are exactly as long as they add
    /// up to.
    fn lengths_add_up(&self) -> bool {
        self.shared.len() == self.rest_lens.len()
            && self
                .rest_lens
                .iter()
                .map(|&n| usize::from(n))
                .sum::<usize>()
                == self.rests.len()
    }

    /// The entries as one string and the end of each; `None` when the coding does not add
    /// up.
    fn decode(&self) -> Option<(String, Vec<u32>)> {
        if !self.lengths_add_up() {
            return None;
        }
        let mut text = String::with_capacity(self.rests.len() * 3);
        let mut ends = Vec::with_capacity(self.shared.len());
        let mut start = 0;
        let mut at = 0;
        for (&shared, &len) in self.shared.iter().zip(&self.rest_lens) {
            // The first `shared` bytes of the one before, then the rest.
            let rest = self.rests.get(at..at + usize::from(len))?;
            at += usize::from(len);
            let previous = text.get(start..)?;
            let common = previous.get(..usize::from(shared))?.len();
            let copy_from = start;
            start = text.len();
            text.extend_from_within(copy_from..copy_from + common);
            text.push_str(rest);
            ends.push(u32::try_from(text.len()).ok()?);
        }
        Some((text, ends))
    }

    /// Checks the coding without decoding it, for ASCII text (where every byte is a character
    /// boundary): the lengths add up, each `shared` is within the entry before, every entry is
    /// a plain relative path (not empty, not starting with the separator), the total length
    /// is within `u32`. Returns the distinct first components, sorted; `None` when any check
    /// fails.
    fn plain_tops(&self) -> Option<Vec<Box<[u8]>>> {
        let bytes = self.rests.as_bytes();
        if !self.lengths_add_up() || !bytes.is_ascii() {
            return None;
        }
        let separator = MAIN_SEPARATOR as u8;
        let mut tops: Vec<Box<[u8]>> = Vec::new();
        // The entry before: its length and its first component.
        let mut previous_len = 0usize;
        let mut top: Vec<u8> = Vec::new();
        let mut total = 0u64;
        let mut at = 0usize;
        for (i, (&shared, &len)) in self.shared.iter().zip(&self.rest_lens).enumerate() {
            let (shared, len) = (usize::from(shared), usize::from(len));
            if shared > previous_len
                || (shared == 0 && bytes.get(at).is_none_or(|&b| b == separator))
            {
                return None;
            }
            // The first component changes only when the shared part ends inside it.
            if i == 0 || shared <= top.len() {
                let rest = bytes.get(at..at + len)?;
                top.truncate(shared);
                let cut = memchr::memchr(separator, rest).unwrap_or(rest.len());
                top.extend_from_slice(&rest[..cut]);
                if tops.last().is_none_or(|t| **t != *top) {
                    tops.push(top.as_slice().into());
                }
            }
            at += len;
            previous_len = shared + len;
            total += previous_len as u64;
        }
        u32::try_from(total).ok()?;
        tops.sort();
        tops.dedup();
        Some(tops)
    }
}

impl Default for Repr {
    fn default() -> Self {
        Repr::Paths(Vec::new())
    }
}

impl From<Vec<PathBuf>> for Files {
    fn from(paths: Vec<PathBuf>) -> Self {
        Files(Repr::Paths(paths))
    }
}

impl Files {
    /// The files `base.join(rel)` for each of `rels`, in that order (the tests' way to make
    /// the text form; the cache gives [`Files::from_front_coded`]).
    #[cfg(test)]
    pub fn relative<'a>(base: &Path, rels: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut text = String::new();
        let mut ends = Vec::new();
        for rel in rels {
            text.push_str(rel);
            ends.push(u32::try_from(text.len()).ok()?);
        }
        Self::from_text(base, text, ends)
    }

    /// The files `base.join(entry)` for each entry of `coded`, kept coded when every entry
    /// joins by plain concatenation (as [`Files::from_text`] keeps text), else decoded;
    /// `None` when the coding does not add up.
    pub fn from_front_coded(base: &Path, coded: Arc<FrontCoded>) -> Option<Self> {
        if plain_base(base)
            && let Some(tops) = coded.plain_tops()
        {
            return Some(Files(Repr::Coded {
                base: base.to_path_buf(),
                coded,
                tops,
                paths: OnceLock::new(),
            }));
        }
        let (text, ends) = coded.decode()?;
        Self::from_text(base, text, ends)
    }

    /// The files `base.join(&text[ends[i - 1]..ends[i]])`; `None` when `ends` does not cut
    /// `text` into pieces. Kept as text where joining is plain concatenation with the
    /// separator (a base that does not end in one, pieces that are not empty and do not start
    /// with one, on Unix); made into paths otherwise.
    fn from_text(base: &Path, text: String, ends: Vec<u32>) -> Option<Self> {
        let mut start = 0;
        let mut plain = plain_base(base);
        for &end in &ends {
            let end = end as usize;
            let rel = text.get(start..end)?;
            plain &= !rel.is_empty() && !rel.starts_with(MAIN_SEPARATOR);
            start = end;
        }
        if start != text.len() {
            return None;
        }
        if !plain {
            return Some(Files(Repr::Paths(Self::joined(base, &text, &ends))));
        }
        Some(Files(Repr::Relative {
            base: base.to_path_buf(),
            text,
            ends,
            paths: OnceLock::new(),
        }))
    }

    fn joined(base: &Path, text: &str, ends: &[u32]) -> Vec<PathBuf> {
        let mut start = 0;
        ends.iter()
            .map(|&end| {
                let rel = &text[start..end as usize];
                start = end as usize;
                let mut path = PathBuf::with_capacity(base.as_os_str().len() + 1 + rel.len());
                path.push(base);
                path.push(rel);
                path
            })
            .collect()
    }

    pub fn len(&self) -> usize {
        match &self.0 {
            Repr::Paths(paths) => paths.len(),
            Repr::Relative { ends, .. } => ends.len(),
            Repr::Coded { coded, .. } => coded.shared.len(),
        }
    }

    /// For files kept coded: the base and the distinct first components of the paths
    /// relative to it, sorted. Every file is then `base`, the separator and a relative path
    /// starting with one of them.
    pub fn coded_tops(&self) -> Option<(&Path, &[Box<[u8]>])> {
        match &self.0 {
            Repr::Coded { base, tops, .. } => Some((base, tops)),
            _ => None,
        }
    }

    /// For files kept coded: whether one of them is `base`, the separator and `rel`, byte for
    /// byte. `false` for the other forms.
    pub fn has_relative(&self, rel: &[u8]) -> bool {
        let Repr::Coded { coded, .. } = &self.0 else {
            return false;
        };
        let mut found = false;
        each_entry(coded, |_, entry| {
            found = entry == rel;
            !found
        });
        found
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Calls `f` with each path's bytes (as `OsStr::as_encoded_bytes` gives them), in order,
    /// without making a path.
    pub fn for_each_bytes(&self, mut f: impl FnMut(usize, &[u8])) {
        match &self.0 {
            Repr::Paths(paths) => {
                for (i, path) in paths.iter().enumerate() {
                    f(i, path.as_os_str().as_encoded_bytes());
                }
            }
            Repr::Relative {
                base, text, ends, ..
            } => {
                let mut buffer = Vec::with_capacity(base.as_os_str().len() + 256);
                buffer.extend_from_slice(base.as_os_str().as_encoded_bytes());
                buffer.extend_from_slice(SEPARATOR.as_bytes());
                let prefix = buffer.len();
                let mut start = 0;
                for (i, &end) in ends.iter().enumerate() {
                    buffer.truncate(prefix);
                    buffer.extend_from_slice(&text.as_bytes()[start..end as usize]);
                    start = end as usize;
                    f(i, &buffer);
                }
            }
            Repr::Coded { base, coded, .. } => {
                let mut buffer = Vec::with_capacity(base.as_os_str().len() + 256);
                buffer.extend_from_slice(base.as_os_str().as_encoded_bytes());
                buffer.extend_from_slice(SEPARATOR.as_bytes());
                let prefix = buffer.len();
                each_entry(coded, |i, entry| {
                    buffer.truncate(prefix);
                    buffer.extend_from_slice(entry);
                    f(i, &buffer);
                    true
                });
            }
        }
    }

    /// File `i`, made alone.
    pub fn path_at(&self, i: usize) -> Option<PathBuf> {
        match &self.0 {
            Repr::Paths(paths) => paths.get(i).cloned(),
            Repr::Relative {
                base, text, ends, ..
            } => {
                let start = if i == 0 {
                    0
                } else {
                    *ends.get(i - 1)? as usize
                };
                let rel = text.get(start..*ends.get(i)? as usize)?;
                Some(base.join(rel))
            }
            Repr::Coded { base, coded, .. } => {
                let mut found = None;
                each_entry(coded, |at, entry| {
                    if at == i {
                        found = std::str::from_utf8(entry).ok().map(|rel| base.join(rel));
                    }
                    at < i
                });
                found
            }
        }
    }

    /// Whether file `i` is `path`, byte for byte.
    pub fn is_at(&self, i: usize, path: &[u8]) -> bool {
        match &self.0 {
            Repr::Paths(paths) => paths
                .get(i)
                .is_some_and(|p| p.as_os_str().as_encoded_bytes() == path),
            Repr::Relative {
                base, text, ends, ..
            } => {
                let Some(&end) = ends.get(i) else {
                    return false;
                };
                let start = if i == 0 { 0 } else { ends[i - 1] as usize };
                let rel = &text.as_bytes()[start..end as usize];
                path.strip_prefix(base.as_os_str().as_encoded_bytes())
                    .and_then(|rest| rest.strip_prefix(SEPARATOR.as_bytes()))
                    .is_some_and(|rest| rest == rel)
            }
            Repr::Coded { base, coded, .. } => {
                let Some(rel) = path
                    .strip_prefix(base.as_os_str().as_encoded_bytes())
                    .and_then(|rest| rest.strip_prefix(SEPARATOR.as_bytes()))
                else {
                    return false;
                };
                let mut same = false;
                each_entry(coded, |at, entry| {
                    same = at == i && entry == rel;
                    at < i
                });
                same
            }
        }
    }
}

const SEPARATOR: &str = std::path::MAIN_SEPARATOR_STR;

/// Whether paths join to `base` by plain concatenation with the separator: on Unix, a base
/// that is not empty and does not end in one.
fn plain_base(base: &Path) -> bool {
    cfg!(unix)
        && !base.as_os_str().is_empty()
        && !base
            .as_os_str()
            .as_encoded_bytes()
            .ends_with(SEPARATOR.as_bytes())
}

/// Calls `f` with each entry of a coding [`FrontCoded::plain_tops`] accepted, decoded into one
/// scratch buffer, while it returns `true`.
fn each_entry(coded: &FrontCoded, mut f: impl FnMut(usize, &[u8]) -> bool) {
    let bytes = coded.rests.as_bytes();
    let mut entry: Vec<u8> = Vec::with_capacity(256);
    let mut at = 0;
    for (i, (&shared, &len)) in coded.shared.iter().zip(&coded.rest_lens).enumerate() {
        let end = at + usize::from(len);
        entry.truncate(usize::from(shared));
        entry.extend_from_slice(bytes.get(at..end).unwrap_or_default());
        at = end;
        if !f(i, &entry) {
            return;
        }
    }
}

impl Deref for Files {
    type Target = [PathBuf];

    fn deref(&self) -> &[PathBuf] {
        match &self.0 {
            Repr::Paths(paths) => paths,
            Repr::Relative {
                base,
                text,
                ends,
                paths,
            } => paths.get_or_init(|| Self::joined(base, text, ends)),
            Repr::Coded {
                base, coded, paths, ..
            } => paths.get_or_init(|| {
                let mut out = Vec::with_capacity(coded.shared.len());
                each_entry(coded, |_, entry| {
                    if let Ok(rel) = std::str::from_utf8(entry) {
                        out.push(base.join(rel));
                    }
                    true
                });
                out
            }),
        }
    }
}

impl<'a> IntoIterator for &'a Files {
    type Item = &'a PathBuf;
    type IntoIter = std::slice::Iter<'a, PathBuf>;

    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_files_give_the_bytes_joined_paths_do() {
        let base = Path::new("/env/lib/site-packages");
        let rels = ["a/__init__.py", "a/b.py", "ü/c.py"];
        let files = Files::relative(base, rels).unwrap();
        let joined: Vec<PathBuf> = rels.iter().map(|r| base.join(r)).collect();
        assert_eq!(files.len(), 3);
        let mut seen = Vec::new();
        files.for_each_bytes(|i, bytes| seen.push((i, bytes.to_vec())));
        for (i, path) in joined.iter().enumerate() {
            let bytes = path.as_os_str().as_encoded_bytes();
            assert_eq!(seen[i], (i, bytes.to_vec()));
            assert!(files.is_at(i, bytes));
            assert!(!files.is_at(i, b"/env/lib/site-packages/a"));
        }
        assert!(!files.is_at(3, joined[0].as_os_str().as_encoded_bytes()));
        assert_eq!(&*files, joined.as_slice());
        assert_eq!(files.path_at(2).as_ref(), joined.get(2));
        assert_eq!(files.path_at(3), None);
        // An absolute entry replaces the base, as `join` does.
        let mixed = Files::relative(base, ["a.py", "/elsewhere/b.py"]).unwrap();
        assert_eq!(
            &*mixed,
            [base.join("a.py"), PathBuf::from("/elsewhere/b.py")].as_slice()
        );
        assert!(mixed.is_at(1, b"/elsewhere/b.py"));
        assert!(Files::relative(base, []).unwrap().is_empty());
    }

    fn coded(rels: &[&str]) -> Arc<FrontCoded> {
        Arc::new(FrontCoded::encode(rels).unwrap())
    }

    #[test]
    fn front_coded_files_give_the_bytes_joined_paths_do_without_decoding() {
        let base = Path::new("/env/lib/site-packages");
        let rels = [
            "a-1.dist-info/RECORD",
            "a/__init__.py",
            "a/b.py",
            "a/sub/c.py",
            "ab.py",
            "b/x.py",
        ];
        let files = Files::from_front_coded(base, coded(&rels)).unwrap();
        let (coded_base, tops) = files.coded_tops().unwrap();
        assert_eq!(coded_base, base);
        let tops: Vec<&[u8]> = tops.iter().map(|t| &**t).collect();
        assert_eq!(tops, [&b"a"[..], b"a-1.dist-info", b"ab.py", b"b"]);
        let joined: Vec<PathBuf> = rels.iter().map(|r| base.join(r)).collect();
        assert_eq!(files.len(), rels.len());
        let mut seen = Vec::new();
        files.for_each_bytes(|i, bytes| seen.push((i, bytes.to_vec())));
        for (i, path) in joined.iter().enumerate() {
            let bytes = path.as_os_str().as_encoded_bytes();
            assert_eq!(seen[i], (i, bytes.to_vec()));
            assert!(files.is_at(i, bytes));
            assert!(files.has_relative(rels[i].as_bytes()));
            assert_eq!(files.path_at(i).as_ref(), Some(path));
        }
        assert!(!files.has_relative(b"a"));
        assert!(!files.has_relative(b"a/b.p"));
        assert_eq!(files.path_at(rels.len()), None);
        assert_eq!(&*files, joined.as_slice());
    }

    #[test]
    fn front_coding_that_is_not_plain_or_does_not_add_up_is_decoded_or_refused() {
        let base = Path::new("/sp");
        // An absolute entry, an empty one, non-ASCII text: decoded into paths as before.
        for rels in [
            &["a.py", "/elsewhere/b.py"][..],
            &["a.py", ""],
            &["ü/c.py", "ü/d.py"],
        ] {
            let files = Files::from_front_coded(base, coded(rels)).unwrap();
            assert!(files.coded_tops().is_none(), "{rels:?}");
            let joined: Vec<PathBuf> = rels.iter().map(|r| base.join(r)).collect();
            assert_eq!(&*files, joined.as_slice());
        }
        // A base the paths do not join to by concatenation.
        let files = Files::from_front_coded(Path::new("/sp/"), coded(&["a.py"])).unwrap();
        assert!(files.coded_tops().is_none());
        // Lengths that do not add up, or a shared part longer than the entry before.
        let good = FrontCoded::encode(["ab/c.py", "ab/d.py"]).unwrap();
        let mut short = good.clone();
        short.rests.pop();
        let mut long = good.clone();
        long.shared[1] = 20;
        let mut missing = good.clone();
        missing.rest_lens.pop();
        for bad in [short, long, missing] {
            assert!(
                Files::from_front_coded(base, Arc::new(bad.clone())).is_none(),
                "{bad:?}"
            );
        }
        assert!(Files::from_front_coded(base, Arc::new(good)).is_some());
    }
}
