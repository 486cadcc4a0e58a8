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
//! thousands of files). Even skipped, a page is megabytes of JSON (numpy's is 2 MB), so what
//! a read found for one version is kept beside the page as a slice, which the next run reads
//! instead: `{index folder}/slices-v1/{16 hex}.bin`, one per (project, wanted version), in the
//! incremental caches' container ([`crate::cache::Store`]: checksum, envscan build, atomic
//! write). A slice's key is the index, the project, the wanted version and the stamp of the
//! page file it was read from (size, modification time, and on Unix its inode and change
//! time, taken from the open file that was read), so a page stored again (a new file renamed
//! over the old one) makes every slice of it stale. A slice that is absent, stale, corrupt,
//! truncated or foreign is ignored: the page is read and the slice written again.

use std::fmt;
use std::io::Read;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::UNIX_EPOCH;

use pep440_rs::Version;
use serde::de::{DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::simple::ProjectPage;
use super::tags::WheelTags;
use super::{DistFile, DistKind};
use crate::cache::Store;
use crate::names::PackageName;

/// Bumped when the entry format changes; old entries are then simply not found.
const LAYOUT: &str = "simple-v1";

/// The slices' kind (their folder under the index's, and their header's kind); bumped when
/// the slice records change.
const SLICES: &str = "slices-v1";

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

    /// What the cached page of `project` on `index` says about `wanted`: from its slice when
    /// the page is unchanged since the slice was cut, else from the page (and the slice is
    /// cut again).
    pub fn load(&self, index: &str, project: &PackageName, wanted: &Version) -> Cached {
        let path = self.path(index, project);
        let Ok(mut file) = fs_err::File::open(&path) else {
            return Cached::Absent;
        };
        let slice =
            page_stamp(&file).map(|stamp| slice_store(&path, index, project, wanted, &stamp));
        if let Some(found) = slice.as_ref().and_then(|s| s.load::<SliceRecord>()) {
            return found.into_cached();
        }
        let mut bytes = Vec::new();
        if file.read_to_end(&mut bytes).is_err() {
            return Cached::Absent;
        }
        let found = Self::read_page(&bytes, index, project, wanted);
        if let Some(slice) = slice
            && let Some(record) = SliceRecord::new(&found)
        {
            slice.store(&record);
        }
        found
    }

    /// The selective read of a whole page (see the module documentation).
    fn read_page(bytes: &[u8], index: &str, project: &PackageName, wanted: &Version) -> Cached {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
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

/// The stamp of the open page file, as the text a slice's key holds; `None` when the file has
/// no usable time (its slices are then never used).
fn page_stamp(file: &fs_err::File) -> Option<String> {
    let metadata = file.metadata().ok()?;
    let mtime = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
    let mut stamp = format!("size={} mtime={}", metadata.len(), mtime.as_nanos());
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        stamp.push_str(&format!(
            " ino={} dev={} ctime={}.{}",
            metadata.ino(),
            metadata.dev(),
            metadata.ctime(),
            metadata.ctime_nsec()
        ));
    }
    Some(stamp)
}

/// The slice of the page at `page` for `wanted`, valid while the page has `stamp`.
fn slice_store(
    page: &Path,
    index: &str,
    project: &PackageName,
    wanted: &Version,
    stamp: &str,
) -> Store {
    let folder = page.parent().unwrap_or(Path::new("."));
    let name = page
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let subject = format!("{name}\n{wanted}");
    let key = format!(
        "index={index}\nproject={}\nversion={wanted}\n{stamp}",
        project.as_str()
    );
    Store::new(folder, SLICES, Path::new(&subject), key)
}

/// What a slice holds: [`Cached`] but [`Cached::Absent`], which is never kept. Plain mirrors
/// of the index's types, with no serde attributes, since the container's format (postcard)
/// does not describe itself; the conversions name every field, so a field added to
/// [`DistFile`] stops this compiling until it is carried here (and [`SLICES`] is raised).
#[derive(Debug, PartialEq, Serialize, Deserialize)]
enum SliceRecord {
    Hit(Vec<FileRecord>),
    PageWithout,
    Missing,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct FileRecord {
    filename: String,
    url: String,
    size: Option<u64>,
    sha256: Option<String>,
    requires_python: Option<String>,
    yanked: bool,
    /// `None` for an sdist.
    wheel: Option<TagsRecord>,
}

#[derive(Debug, PartialEq, Serialize, Deserialize)]
struct TagsRecord {
    python: Vec<String>,
    abi: Vec<String>,
    platform: Vec<String>,
    build: Option<String>,
}

impl SliceRecord {
    fn new(found: &Cached) -> Option<Self> {
        Some(match found {
            Cached::Hit(files) => SliceRecord::Hit(files.iter().map(FileRecord::new).collect()),
            Cached::PageWithout => SliceRecord::PageWithout,
            Cached::Missing => SliceRecord::Missing,
            Cached::Absent => return None,
        })
    }

    fn into_cached(self) -> Cached {
        match self {
            SliceRecord::Hit(files) => {
                Cached::Hit(files.into_iter().map(FileRecord::into_file).collect())
            }
            SliceRecord::PageWithout => Cached::PageWithout,
            SliceRecord::Missing => Cached::Missing,
        }
    }
}

impl FileRecord {
    fn new(file: &DistFile) -> Self {
        let DistFile {
            filename,
            url,
            size,
            sha256,
            requires_python,
            yanked,
            kind,
        } = file;
        FileRecord {
            filename: filename.clone(),
            url: url.clone(),
            size: *size,
            sha256: sha256.clone(),
            requires_python: requires_python.clone(),
            yanked: *yanked,
            wheel: match kind {
                DistKind::Wheel { tags } => {
                    let WheelTags {
                        python,
                        abi,
                        platform,
                        build,
                    } = tags;
                    Some(TagsRecord {
                        python: python.clone(),
                        abi: abi.clone(),
                        platform: platform.clone(),
                        build: build.clone(),
                    })
                }
                DistKind::Sdist => None,
            },
        }
    }

    fn into_file(self) -> DistFile {
        DistFile {
            filename: self.filename,
            url: self.url,
            size: self.size,
            sha256: self.sha256,
            requires_python: self.requires_python,
            yanked: self.yanked,
            kind: match self.wheel {
                Some(TagsRecord {
                    python,
                    abi,
                    platform,
                    build,
                }) => DistKind::Wheel {
                    tags: WheelTags {
                        python,
                        abi,
                        platform,
                        build,
                    },
                },
                None => DistKind::Sdist,
            },
        }
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

    fn sdist(name: &str) -> DistFile {
        DistFile {
            filename: format!("{name}.tar.gz"),
            url: format!("https://files.example/{name}.tar.gz"),
            size: Some(10),
            sha256: Some("ab".repeat(32)),
            requires_python: Some(">=3.8".into()),
            yanked: false,
            kind: super::super::DistKind::Sdist,
        }
    }

    fn wheel(name: &str) -> DistFile {
        DistFile {
            filename: format!("{name}-py3-none-any.whl"),
            url: format!("https://files.example/{name}-py3-none-any.whl"),
            size: None,
            sha256: None,
            requires_python: None,
            yanked: true,
            kind: DistKind::Wheel {
                tags: WheelTags {
                    python: vec!["py3".into()],
                    abi: vec!["none".into()],
                    platform: vec!["any".into()],
                    build: Some("1".into()),
                },
            },
        }
    }

    /// The slice that `load` reads for the page as it is now.
    fn current_slice(cache: &Cache, index: &str, project: &PackageName, wanted: &Version) -> Store {
        let path = cache.path(index, project);
        let stamp = page_stamp(&fs_err::File::open(&path).unwrap()).unwrap();
        slice_store(&path, index, project, wanted, &stamp)
    }

    #[test]
    fn a_slice_answers_only_for_the_page_it_was_cut_from() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = "https://pypi.org/simple/";
        let six = PackageName::new("six");
        let v = Version::from_str("1.16.0").unwrap();
        let mut page = ProjectPage::default();
        page.versions.insert(
            "1.16.0".into(),
            vec![sdist("six-1.16.0"), wheel("six-1.16.0")],
        );
        cache.store(index, &six, Some(&page)).unwrap();
        let from_page = cache.load(index, &six, &v);
        assert_eq!(
            from_page,
            Cached::Hit(vec![sdist("six-1.16.0"), wheel("six-1.16.0")])
        );
        // The read cut a slice, and the next read answers the same from it.
        let slice = current_slice(&cache, index, &six, &v);
        assert!(slice.path().is_file(), "{}", slice.path().display());
        assert_eq!(cache.load(index, &six, &v), from_page);

        // The slice is what answers while the page is unchanged: one that says otherwise
        // (as no real slice would) is believed...
        slice.store(&SliceRecord::Hit(vec![FileRecord::new(&sdist("other"))]));
        assert_eq!(
            cache.load(index, &six, &v),
            Cached::Hit(vec![sdist("other")])
        );
        // ...and a page stored again, even with the same bytes, makes it stale.
        cache.store(index, &six, Some(&page)).unwrap();
        assert_eq!(cache.load(index, &six, &v), from_page);
        // A version the page lacks and a 404 are kept as such.
        let v2 = Version::from_str("2").unwrap();
        assert_eq!(cache.load(index, &six, &v2), Cached::PageWithout);
        assert_eq!(cache.load(index, &six, &v2), Cached::PageWithout);
        cache.store(index, &six, None).unwrap();
        assert_eq!(cache.load(index, &six, &v), Cached::Missing);
        assert_eq!(cache.load(index, &six, &v), Cached::Missing);
        // A page overwritten in place (the same file, a new size) is read again.
        let elsewhere = tempfile::tempdir().unwrap();
        let mut page2 = ProjectPage::default();
        page2
            .versions
            .insert("1.16.0".into(), vec![wheel("six-1.16.0")]);
        Cache::new(elsewhere.path())
            .store(index, &six, Some(&page2))
            .unwrap();
        let bytes = fs_err::read(Cache::new(elsewhere.path()).path(index, &six)).unwrap();
        cache.store(index, &six, Some(&page)).unwrap();
        assert_eq!(cache.load(index, &six, &v), from_page);
        fs_err::write(cache.path(index, &six), &bytes).unwrap();
        assert_eq!(
            cache.load(index, &six, &v),
            Cached::Hit(vec![wheel("six-1.16.0")])
        );
        fs_err::write(cache.path(index, &six), &bytes[..bytes.len() / 2]).unwrap();
        assert_eq!(cache.load(index, &six, &v), Cached::Absent);
    }

    #[test]
    fn a_corrupt_truncated_or_foreign_slice_is_ignored_and_cut_again() {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::new(dir.path());
        let index = "https://pypi.org/simple/";
        let six = PackageName::new("six");
        let v = Version::from_str("1.16.0").unwrap();
        let mut page = ProjectPage::default();
        page.versions
            .insert("1.16.0".into(), vec![sdist("six-1.16.0")]);
        cache.store(index, &six, Some(&page)).unwrap();
        let want = Cached::Hit(vec![sdist("six-1.16.0")]);
        assert_eq!(cache.load(index, &six, &v), want);
        let slice = current_slice(&cache, index, &six, &v);
        let good = fs_err::read(slice.path()).unwrap();
        let mut flipped = good.clone();
        let last = flipped.len() - 1;
        flipped[last] ^= 1;
        let damaged = [
            flipped,
            good[..good.len() / 2].to_vec(),
            Vec::new(),
            b"envscan\x02 garbage".to_vec(),
            b"{\"index\": null}".to_vec(),
        ];
        for bytes in damaged {
            fs_err::write(slice.path(), &bytes).unwrap();
            assert_eq!(cache.load(index, &six, &v), want);
            assert_eq!(fs_err::read(slice.path()).unwrap(), good, "cut again");
        }
        // A slice of the same name from another index (a file copied from elsewhere, or a
        // name collision) does not answer either.
        let path = cache.path(index, &six);
        let stamp = page_stamp(&fs_err::File::open(&path).unwrap()).unwrap();
        let foreign = slice_store(&path, "https://other.example/simple/", &six, &v, &stamp);
        assert_eq!(foreign.path(), slice.path());
        foreign.store(&SliceRecord::Hit(vec![FileRecord::new(&sdist("other"))]));
        assert_eq!(cache.load(index, &six, &v), want);
        assert_eq!(fs_err::read(slice.path()).unwrap(), good, "cut again");
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
