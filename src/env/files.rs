//! A distribution's files inside site-packages ([`Files`]): absolute paths in byte order, as a
//! list of paths or, read back from the environment cache, as one string of paths relative to
//! the site-packages folder. The second form is what a warm run holds: the file index hashes
//! and compares each path's bytes without making a `PathBuf` of any, so an environment of
//! tens of thousands of files costs one string per distribution instead of an allocation per
//! file. Whoever asks for the paths as a slice gets them made once, the same bytes.

use std::ops::Deref;
use std::path::{MAIN_SEPARATOR, Path, PathBuf};
use std::sync::OnceLock;

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
    /// The files `base.join(rel)` for each of `rels`, in that order.
    pub fn relative<'a>(base: &Path, rels: impl IntoIterator<Item = &'a str>) -> Option<Self> {
        let mut text = String::new();
        let mut ends = Vec::new();
        for rel in rels {
            text.push_str(rel);
            ends.push(u32::try_from(text.len()).ok()?);
        }
        Self::from_text(base, text, ends)
    }

    /// The files `base.join(&text[ends[i - 1]..ends[i]])`; `None` when `ends` does not cut
    /// `text` into pieces. Kept as text where joining is plain concatenation with the
    /// separator (a base that does not end in one, pieces that are not empty and do not start
    /// with one, on Unix); made into paths otherwise.
    pub fn from_text(base: &Path, text: String, ends: Vec<u32>) -> Option<Self> {
        let mut start = 0;
        let mut plain = cfg!(unix)
            && !base.as_os_str().is_empty()
            && !base
                .as_os_str()
                .as_encoded_bytes()
                .ends_with(SEPARATOR.as_bytes());
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
        }
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
        }
    }
}

const SEPARATOR: &str = std::path::MAIN_SEPARATOR_STR;

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
}
