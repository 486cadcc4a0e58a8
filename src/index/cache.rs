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
//! Reading is selective: [`Cache::load`] deserialises only the files of the wanted version
//! and skips the rest of the page without building it (pages of projects such as grpcio hold
//! thousands of files), which keeps a warm run of 30 packages within a few milliseconds.

use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;

use pep440_rs::Version;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::DistFile;
use super::simple::ProjectPage;
use crate::names::PackageName;

/// Bumped when the entry format changes; old entries are then simply not found.
const LAYOUT: &str = "simple-v1";

/// What the cache knows about one version of a project on an index.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cached {
    /// The cached page has these files of the version.
    Hit(Vec<DistFile>),
    /// The cached page does not have the version.
    PageWithout,
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

    pub fn load(&self, index: &str, project: &PackageName, wanted: &Version) -> Cached {
        let Ok(bytes) = fs_err::read(self.path(index, project)) else {
            return Cached::Absent;
        };
        let mut deserializer = serde_json::Deserializer::from_slice(&bytes);
        let Ok(entry) = EntrySeed { wanted }.deserialize(&mut deserializer) else {
            return Cached::Absent;
        };
        if deserializer.end().is_err()
            || entry.index.as_deref() != Some(index)
            || entry.project.as_deref() != Some(project.as_str())
        {
            return Cached::Absent;
        }
        match entry.page {
            Some(Some(files)) => Cached::Hit(files),
            Some(None) => Cached::PageWithout,
            None => Cached::Missing,
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

/// An [`Entry`] read for one version: `page` is `None` for a 404, `Some(None)` for a page
/// without the version.
struct PartialEntry {
    index: Option<String>,
    project: Option<String>,
    page: Option<Option<Vec<DistFile>>>,
}

struct EntrySeed<'a> {
    wanted: &'a Version,
}

impl<'de> DeserializeSeed<'de> for EntrySeed<'_> {
    type Value = PartialEntry;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for EntrySeed<'_> {
    type Value = PartialEntry;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a cache entry")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut entry = PartialEntry {
            index: None,
            project: None,
            page: None,
        };
        let mut saw_page = false;
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "index" => entry.index = Some(map.next_value()?),
                "project" => entry.project = Some(map.next_value()?),
                "page" => {
                    saw_page = true;
                    entry.page = map.next_value_seed(PageSeed {
                        wanted: self.wanted,
                    })?;
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        if !saw_page {
            return Err(serde::de::Error::missing_field("page"));
        }
        Ok(entry)
    }
}

/// `null` (a 404) or `{"versions": {...}}`, keeping only the wanted version's files.
struct PageSeed<'a> {
    wanted: &'a Version,
}

impl<'de> DeserializeSeed<'de> for PageSeed<'_> {
    type Value = Option<Option<Vec<DistFile>>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_option(self)
    }
}

impl<'de> Visitor<'de> for PageSeed<'_> {
    type Value = Option<Option<Vec<DistFile>>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a project page or null")
    }

    fn visit_none<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: serde::de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer
            .deserialize_map(VersionsOf(self.wanted))
            .map(Some)
    }
}

/// The page object: its `versions` map, read through [`FilesOfVersion`].
struct VersionsOf<'a>(&'a Version);

impl<'de> Visitor<'de> for VersionsOf<'_> {
    type Value = Option<Vec<DistFile>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a project page")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            if key == "versions" {
                found = map.next_value_seed(FilesOfVersion(self.0))?;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// The `versions` map: the files of the first key equal to the wanted version (PEP 440),
/// every other value skipped unparsed.
struct FilesOfVersion<'a>(&'a Version);

impl<'de> DeserializeSeed<'de> for FilesOfVersion<'_> {
    type Value = Option<Vec<DistFile>>;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Self::Value, D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FilesOfVersion<'_> {
    type Value = Option<Vec<DistFile>>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("files by version")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let wanted_text = self.0.to_string();
        let mut found = None;
        while let Some(key) = map.next_key::<String>()? {
            let matches = found.is_none()
                && (key == wanted_text || Version::from_str(&key).is_ok_and(|v| v == *self.0));
            if matches {
                found = Some(map.next_value::<Vec<DistFile>>()?);
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
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
        let v = |text: &str| Version::from_str(text).unwrap();
        assert_eq!(cache.load(index, &six, &v("1.16")), Cached::Absent);
        let file = DistFile {
            filename: "six-1.16.0.tar.gz".into(),
            url: "https://files.example/six-1.16.0.tar.gz".into(),
            size: Some(1),
            sha256: None,
            requires_python: None,
            yanked: false,
            kind: super::super::DistKind::Sdist,
        };
        let mut page = ProjectPage::default();
        page.versions.insert("1.15.0".into(), vec![]);
        page.versions.insert("1.16.0".into(), vec![file.clone()]);
        cache.store(index, &six, Some(&page)).unwrap();
        // 1.16 equals 1.16.0 under PEP 440.
        assert_eq!(cache.load(index, &six, &v("1.16")), Cached::Hit(vec![file]));
        assert_eq!(cache.load(index, &six, &v("1.17")), Cached::PageWithout);
        cache.store(index, &six, None).unwrap();
        assert_eq!(cache.load(index, &six, &v("1.16")), Cached::Missing);
        fs_err::write(cache.path(index, &six), b"{\"index\":").unwrap();
        assert_eq!(cache.load(index, &six, &v("1.16")), Cached::Absent);
        // Another index has its own folder.
        let other = "https://other.example/simple/";
        assert_eq!(cache.load(other, &six, &v("1.16")), Cached::Absent);
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
