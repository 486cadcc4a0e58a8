//! The on-disk cache of validated project pages, one file per (index, project).
//!
//! Layout: `{cache_dir}/simple-v1/{first 16 hex of sha256(index URL)}/{project}.json`. The
//! index URL is the credential-free one, and it is hashed, so neither a password nor a host
//! name ends up in a file name. A file holds the parsed page (files of the project with their
//! versions) or the fact that the index answered 404, never a raw body: only bodies that
//! passed validation reach [`Cache::store`]. Files are written to a temporary file in the same
//! folder and renamed, so a reader sees the old page or the new one, never half of one. A
//! file that does not read or parse is treated as absent (and rewritten on the next fetch).
//!
//! [`Cache::load_version`] reads a page keeping only the files of one version: a warm run
//! needs one version of each project, and building every file of every version (markupsafe
//! alone has 500 kB of them) was most of a warm `envscan lock`. The other versions are
//! skipped by the JSON parser without being built.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use sha2::{Digest, Sha256};

use super::DistFile;
use super::simple::ProjectPage;
use crate::names::PackageName;

/// Bumped when the entry format changes; old entries are then simply not found.
const LAYOUT: &str = "simple-v1";

/// What the cache knows about a project on an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cached {
    Page(ProjectPage),
    /// The index answered 404.
    Missing,
    Absent,
}

#[derive(Serialize, Deserialize)]
struct Entry {
    /// The credential-free index URL, so a human can tell what a folder is for.
    index: String,
    project: String,
    /// `None` when the index answered 404.
    page: Option<ProjectPage>,
}

#[derive(Clone, Debug)]
pub struct Cache {
    root: PathBuf,
}

impl Cache {
    pub fn new(cache_dir: &Path) -> Self {
        Cache {
            root: cache_dir.join(LAYOUT),
        }
    }

    /// The file for `project` on `index` (credential-free URL).
    pub fn path(&self, index: &str, project: &PackageName) -> PathBuf {
        let folder = &hex::encode(Sha256::digest(index.as_bytes()))[..16];
        let name = project.as_str();
        let safe = !name.is_empty()
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let file = if safe {
            format!("{name}.json")
        } else {
            format!(
                "_{}.json",
                &hex::encode(Sha256::digest(name.as_bytes()))[..16]
            )
        };
        self.root.join(folder).join(file)
    }

    /// The whole page (tests compare it with what was stored).
    #[cfg(test)]
    pub fn load(&self, index: &str, project: &PackageName) -> Cached {
        self.load_filtered(index, project, &|_| true)
    }

    /// What the cache knows about `project`, the page holding only the versions PEP 440-equal
    /// to `wanted` (usually one; none when the index has the project but not this version).
    pub fn load_version(&self, index: &str, project: &PackageName, wanted: &Version) -> Cached {
        let text = wanted.to_string();
        // Keys are normalised versions, so the text matches except for release padding
        // (`1.0` is `1.0.0`), which the parse catches; parsing a key is cheap next to
        // building its files.
        let keep = |key: &str| key == text || Version::from_str(key).is_ok_and(|v| v == *wanted);
        self.load_filtered(index, project, &keep)
    }

    fn load_filtered(
        &self,
        index: &str,
        project: &PackageName,
        keep: &dyn Fn(&str) -> bool,
    ) -> Cached {
        let Ok(bytes) = fs_err::read(self.path(index, project)) else {
            return Cached::Absent;
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let entry = EntrySeed { keep }
            .deserialize(&mut deserializer)
            .and_then(|entry| deserializer.end().map(|()| entry));
        match entry {
            Ok(entry) if entry.index == index && entry.project == project.as_str() => {
                match entry.page {
                    Some(page) => Cached::Page(page),
                    None => Cached::Missing,
                }
            }
            _ => Cached::Absent,
        }
    }

    /// Stores a validated page (`Some`) or a 404 (`None`), atomically.
    pub fn store(
        &self,
        index: &str,
        project: &PackageName,
        page: Option<&ProjectPage>,
    ) -> std::io::Result<()> {
        let path = self.path(index, project);
        let folder = path.parent().unwrap_or(&self.root);
        fs_err::create_dir_all(folder)?;
        let entry = Entry {
            index: index.to_string(),
            project: project.as_str().to_string(),
            page: page.cloned(),
        };
        let bytes = serde_json::to_vec(&entry).map_err(std::io::Error::other)?;
        let mut temp = tempfile::NamedTempFile::new_in(folder)?;
        temp.write_all(&bytes)?;
        temp.persist(&path).map_err(|err| err.error)?;
        Ok(())
    }
}

/// Reads an [`Entry`], building the files of the versions `keep` accepts and skipping the
/// others. Unknown fields are ignored, as the derived `Deserialize` does.
struct EntrySeed<'k> {
    keep: &'k dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = Entry;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Entry, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = Entry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cache entry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Entry, A::Error> {
        let (mut index, mut project, mut page) = (None, None, None);
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "index" => index = Some(map.next_value::<String>()?),
                "project" => project = Some(map.next_value::<String>()?),
                "page" => page = Some(map.next_value_seed(PageSeed { keep: self.keep })?),
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(Entry {
            index: index.ok_or_else(|| de::Error::missing_field("index"))?,
            project: project.ok_or_else(|| de::Error::missing_field("project"))?,
            page: page.ok_or_else(|| de::Error::missing_field("page"))?,
        })
    }
}

/// `null` (a 404) or a [`ProjectPage`] with the kept versions only.
struct PageSeed<'k> {
    keep: &'k dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = Option<ProjectPage>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = Option<ProjectPage>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a project page or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut page = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "versions" {
                page = Some(map.next_value_seed(VersionsSeed { keep: self.keep })?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        page.map(Some)
            .ok_or_else(|| de::Error::missing_field("versions"))
    }
}

/// The `versions` map of a page, keeping the files of the versions `keep` accepts.
struct VersionsSeed<'k> {
    keep: &'k dyn Fn(&str) -> bool,
}

impl<'de> DeserializeSeed<'de> for VersionsSeed<'_> {
    type Value = ProjectPage;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<ProjectPage, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for VersionsSeed<'_> {
    type Value = ProjectPage;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of versions to files")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ProjectPage, A::Error> {
        let mut page = ProjectPage::default();
        while let Some(version) = map.next_key::<String>()? {
            if (self.keep)(&version) {
                let files = map.next_value::<Vec<DistFile>>()?;
                page.versions.insert(version, files);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(page)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_pages_and_404s_read_back_and_corrupt_files_are_absent() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = "https://pypi.org/simple/";
        let six = PackageName::new("six");
        assert_eq!(cache.load(index, &six), Cached::Absent);
        cache
            .store(index, &six, Some(&ProjectPage::default()))
            .unwrap();
        assert_eq!(
            cache.load(index, &six),
            Cached::Page(ProjectPage::default())
        );
        cache.store(index, &six, None).unwrap();
        assert_eq!(cache.load(index, &six), Cached::Missing);
        fs_err::write(cache.path(index, &six), b"{\"index\":").unwrap();
        assert_eq!(cache.load(index, &six), Cached::Absent);
        // Another index has its own folder.
        assert_eq!(
            cache.load("https://other.example/simple/", &six),
            Cached::Absent
        );
    }

    fn sdist(name: &str) -> DistFile {
        DistFile {
            filename: name.to_string(),
            url: format!("https://files.example/{name}"),
            size: Some(3),
            sha256: None,
            requires_python: None,
            yanked: false,
            kind: super::super::DistKind::Sdist,
        }
    }

    #[test]
    fn load_version_keeps_only_the_wanted_version_and_finds_it_by_pep_440_equality() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = "https://pypi.org/simple/";
        let six = PackageName::new("six");
        let mut page = ProjectPage::default();
        for version in ["1.0", "1.16.0", "2.0"] {
            page.versions.insert(
                version.to_string(),
                vec![sdist(&format!("six-{version}.tar.gz"))],
            );
        }
        cache.store(index, &six, Some(&page)).unwrap();
        let version = |v: &str| Version::from_str(v).unwrap();

        let Cached::Page(one) = cache.load_version(index, &six, &version("1.16.0")) else {
            panic!("a stored page must load");
        };
        assert_eq!(one.versions.keys().collect::<Vec<_>>(), ["1.16.0"]);
        assert_eq!(
            one.files_of(&version("1.16.0")),
            page.files_of(&version("1.16.0"))
        );
        // `1.0.0` is the stored `1.0`.
        let Cached::Page(padded) = cache.load_version(index, &six, &version("1.0.0")) else {
            panic!("a stored page must load");
        };
        assert_eq!(
            padded.files_of(&version("1.0.0")),
            page.files_of(&version("1.0"))
        );
        // The project is known but lacks the version: a page without it, not Absent.
        assert_eq!(
            cache.load_version(index, &six, &version("9.9")),
            Cached::Page(ProjectPage::default())
        );
        assert_eq!(cache.load(index, &six), Cached::Page(page));

        cache.store(index, &six, None).unwrap();
        assert_eq!(
            cache.load_version(index, &six, &version("1.0")),
            Cached::Missing
        );
        fs_err::write(
            cache.path(index, &six),
            b"{\"index\":\"x\",\"project\":\"six\",\"page\":{\"versions\":{\"1.0\":[",
        )
        .unwrap();
        assert_eq!(
            cache.load_version(index, &six, &version("2.0")),
            Cached::Absent
        );
        fs_err::write(cache.path(index, &six), b"{\"index\":\"x\"} trailing").unwrap();
        assert_eq!(
            cache.load_version(index, &six, &version("2.0")),
            Cached::Absent
        );
    }

    #[test]
    fn file_names_hold_no_url_and_odd_project_names_are_hashed() {
        let cache = Cache::new(Path::new("/c"));
        let path = cache.path("https://host.example/simple/", &PackageName::new("six"));
        let text = path.to_string_lossy();
        assert!(
            text.ends_with("/six.json") && !text.contains("host"),
            "{text}"
        );
        let odd = cache.path("https://h/", &PackageName::new("../../etc/passwd"));
        assert!(odd.file_name().unwrap().to_string_lossy().starts_with('_'));
        assert_eq!(
            odd.parent().unwrap().parent().unwrap(),
            Path::new("/c/simple-v1")
        );
    }
}
