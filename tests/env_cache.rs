//! The environment cache (issue 9, point 5) as a user meets it: `envscan env --format json`
//! prints the same bytes with and without the cache after a distribution changes in place
//! (a RECORD line added, a file added to its dist-info folder), is added or is removed, and a
//! damaged cache file is ignored and rebuilt. Nothing here measures time.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::{envscan, minimal_venv};

fn site(venv: &Path) -> PathBuf {
    venv.join("lib/python3.11/site-packages")
}

fn add_dist(venv: &Path, name: &str, version: &str, requires: &[&str]) -> PathBuf {
    let folder = site(venv).join(format!("{name}-{version}.dist-info"));
    fs::create_dir_all(&folder).unwrap();
    let mut metadata = format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n");
    for r in requires {
        metadata.push_str(&format!("Requires-Dist: {r}\n"));
    }
    fs::write(folder.join("METADATA"), metadata).unwrap();
    fs::write(folder.join("INSTALLER"), "pip\n").unwrap();
    let module = site(venv).join(name);
    fs::create_dir_all(&module).unwrap();
    fs::write(module.join("__init__.py"), "").unwrap();
    fs::write(
        folder.join("RECORD"),
        format!("{name}/__init__.py,,\n{name}-{version}.dist-info/METADATA,,\n"),
    )
    .unwrap();
    folder
}

/// `envscan env --format json` with the cache in `cache`, or with `--no-cache`.
fn env_json(venv: &Path, cache: Option<&Path>) -> String {
    let mut cmd = envscan();
    cmd.arg("env")
        .arg(venv.parent().unwrap())
        .arg("--python")
        .arg(venv)
        .args(["--format", "json"]);
    match cache {
        Some(dir) => cmd.arg("--cache-dir").arg(dir),
        None => cmd.arg("--no-cache"),
    };
    let output = cmd.output().unwrap();
    assert!(output.status.success(), "{output:?}");
    String::from_utf8(output.stdout).unwrap()
}

fn assert_same(venv: &Path, cache: &Path, what: &str) -> String {
    let uncached = env_json(venv, None);
    assert_eq!(env_json(venv, Some(cache)), uncached, "{what} (filling)");
    assert_eq!(env_json(venv, Some(cache)), uncached, "{what} (warm)");
    uncached
}

fn env_cache_files(cache: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(cache.join("env-v1"))
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

#[test]
fn a_changed_added_or_removed_distribution_is_seen_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let cache = dir.path().join("cache");
    minimal_venv(&venv);
    let alpha = add_dist(&venv, "alpha", "1.0", &["beta>=2", "gamma; extra == 'x'"]);
    add_dist(&venv, "beta", "2.1", &[]);
    let gamma = add_dist(&venv, "gamma", "0.3", &[]);
    let before = assert_same(&venv, &cache, "nothing changed");
    assert_eq!(env_cache_files(&cache).len(), 1);

    // RECORD grows in place: the folder's own time does not move, the file's does.
    let folder_time = fs::metadata(&alpha).unwrap().modified().unwrap();
    fs::write(site(&venv).join("alpha_extra.py"), "").unwrap();
    let mut record = fs::read_to_string(alpha.join("RECORD")).unwrap();
    record.push_str("alpha_extra.py,,\n");
    fs::write(alpha.join("RECORD"), record).unwrap();
    fs::File::open(&alpha)
        .unwrap()
        .set_modified(folder_time)
        .unwrap();
    let grown = assert_same(&venv, &cache, "a RECORD line added");
    assert!(grown.contains("\"alpha_extra\"") && !before.contains("\"alpha_extra\""));

    // A file added to the folder (direct_url.json of an archive install): the listing changes.
    fs::write(
        alpha.join("direct_url.json"),
        r#"{"url": "https://example.invalid/alpha-1.0.tar.gz", "archive_info": {}}"#,
    )
    .unwrap();
    let from_archive = assert_same(&venv, &cache, "direct_url.json added");
    assert!(from_archive.contains("\"archive\""), "{from_archive}");
    assert!(!grown.contains("\"archive\""), "{grown}");

    add_dist(&venv, "delta", "4.0", &["alpha"]);
    let added = assert_same(&venv, &cache, "a distribution added");
    assert!(added.contains("\"delta\""), "{added}");

    fs::remove_dir_all(&gamma).unwrap();
    fs::remove_dir_all(site(&venv).join("gamma")).unwrap();
    let removed = assert_same(&venv, &cache, "a distribution removed");
    assert!(!removed.contains("gamma-0.3.dist-info"), "{removed}");

    // METADATA rewritten with the same size (its time moves on, as any write's does).
    let metadata = alpha.join("METADATA");
    let text = fs::read_to_string(&metadata).unwrap().replace("1.0", "1.1");
    fs::write(&metadata, text).unwrap();
    let bumped = assert_same(&venv, &cache, "a version bumped");
    assert!(bumped.contains("\"1.1\""), "{bumped}");
}

#[test]
fn a_damaged_environment_cache_file_is_ignored_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let cache = dir.path().join("cache");
    minimal_venv(&venv);
    add_dist(&venv, "alpha", "1.0", &["beta"]);
    add_dist(&venv, "beta", "2.0", &[]);
    let expected = assert_same(&venv, &cache, "filled");
    let files = env_cache_files(&cache);
    let good = fs::read(&files[0]).unwrap();
    let flipped = {
        let mut bytes = good.clone();
        let middle = bytes.len() / 2;
        bytes[middle] ^= 0x01;
        bytes
    };
    for (what, bytes) in [
        ("truncated", good[..good.len() / 3].to_vec()),
        ("empty", Vec::new()),
        ("bit-flipped", flipped),
        ("garbage", b"envscan\x01 but not really".to_vec()),
    ] {
        fs::write(&files[0], &bytes).unwrap();
        assert_eq!(env_json(&venv, Some(&cache)), expected, "{what}");
        assert_eq!(fs::read(&files[0]).unwrap(), good, "{what}: not rebuilt");
    }
}

#[test]
fn env_with_no_cache_writes_no_environment_cache() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let cache = dir.path().join("cache");
    minimal_venv(&venv);
    add_dist(&venv, "alpha", "1.0", &[]);
    let output = envscan()
        .arg("env")
        .arg(dir.path())
        .arg("--python")
        .arg(&venv)
        .arg("--no-cache")
        .env("ENVSCAN_CACHE_DIR", &cache)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    assert!(env_cache_files(&cache).is_empty());
    env_json(&venv, Some(&cache));
    assert_eq!(env_cache_files(&cache).len(), 1);
}
