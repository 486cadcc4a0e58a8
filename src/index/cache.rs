//! The on-disk cache of validated project pages, one file per (index, project).
//!
//! Layout: `{cache_dir}/simple-v1/{first 16 hex of sha256(index URL)}/{project}.json`. The
//! index URL is the credential-free one, and it is hashed, so neither a password nor a host
//! name ends up in a file name. A file holds the parsed page (files of the project with their
//! versions) or the fact that the index answered 404, never a raw body: only bodies that
//! passed validation reach [`Cache::store`]. Files are written to a temporary file in the same
//! folder and renamed, so a reader sees the old page or the new one, never half of one. A
//! file that does not read or parse is treated as absent (and rewritten on the next fetch).

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

    pub fn load(&self, index: &str, project: &PackageName) -> Cached {
        let Ok(bytes) = fs_err::read(self.path(index, project)) else {
            return Cached::Absent;
        };
        match serde_json::from_slice::<Entry>(&bytes) {
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
