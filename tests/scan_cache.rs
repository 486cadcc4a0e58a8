//! The parse cache (issue 9, points 4 and 7) as a user meets it: a cached `envscan scan` prints
//! the same bytes as an uncached one after any edit, a stale entry is never used, and a
//! corrupted cache file is ignored and rebuilt. Nothing here measures time.

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use support::{copy_tree, envscan, fixture, minimal_venv};

/// Exit code, stdout and stderr of `envscan scan --format json` (and of the human output) on
/// `project`, with the cache in `cache`, or with `--no-cache`.
fn scan(project: &Path, cache: Option<&Path>) -> Vec<(Option<i32>, Vec<u8>, Vec<u8>)> {
    [&["--format", "json"][..], &[][..]]
        .iter()
        .map(|format| {
            let mut cmd = envscan();
            cmd.arg("scan").arg(project).args(*format);
            match cache {
                Some(dir) => cmd.arg("--cache-dir").arg(dir),
                None => cmd.arg("--no-cache"),
            };
            let output = cmd.output().unwrap();
            (output.status.code(), output.stdout, output.stderr)
        })
        .collect()
}

fn assert_same_as_uncached(project: &Path, cache: &Path, what: &str) {
    let uncached = scan(project, None);
    let first = scan(project, Some(cache));
    let second = scan(project, Some(cache));
    for (cached, label) in [(&first, "filling"), (&second, "warm")] {
        for (c, u) in cached.iter().zip(&uncached) {
            assert_eq!(c.0, u.0, "exit code after {what} ({label} cache)");
            assert_eq!(
                String::from_utf8_lossy(&c.1),
                String::from_utf8_lossy(&u.1),
                "stdout after {what} ({label} cache)"
            );
            assert_eq!(
                String::from_utf8_lossy(&c.2),
                String::from_utf8_lossy(&u.2),
                "stderr after {what} ({label} cache)"
            );
        }
    }
}

fn python_files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "py") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

const LINES: &[&str] = &[
    "import os",
    "import numpy as np",
    "from . import sibling",
    "from .. import parent_mod",
    "from pkg import sub",
    "try:\n    import ujson\nexcept ImportError:\n    ujson = None",
    "def f():\n    import requests",
    "if TYPE_CHECKING:\n    import pandas",
    "import importlib\nimportlib.import_module('yaml')",
    "import (",
    "x = [[[[1]]]]",
];

/// Replaces one byte of an identifier with another letter: same size, other content.
fn same_size_edit(path: &Path, rng: &mut StdRng) -> bool {
    let mut bytes = fs::read(path).unwrap();
    let letters: Vec<usize> = (0..bytes.len())
        .filter(|&i| bytes[i].is_ascii_lowercase())
        .collect();
    if letters.is_empty() {
        return false;
    }
    let i = letters[rng.gen_range(0..letters.len())];
    bytes[i] = if bytes[i] == b'z' { b'y' } else { bytes[i] + 1 };
    let mtime = fs::metadata(path).unwrap().modified().unwrap();
    fs::write(path, &bytes).unwrap();
    fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    true
}

/// Applies one random edit to the tree and says what it was.
fn random_edit(root: &Path, rng: &mut StdRng, round: usize) -> String {
    let files = python_files(root);
    let pick = |rng: &mut StdRng| files[rng.gen_range(0..files.len())].clone();
    let line = LINES[rng.gen_range(0..LINES.len())];
    match rng.gen_range(0..8) {
        0 => {
            let path = pick(rng);
            let mut text = fs::read(&path).unwrap();
            text.extend_from_slice(format!("\n{line}\n").as_bytes());
            fs::write(&path, text).unwrap();
            format!("appending {line:?} to {}", path.display())
        }
        1 => {
            let path = pick(rng);
            let text = String::from_utf8_lossy(&fs::read(&path).unwrap()).into_owned();
            let mut lines: Vec<&str> = text.lines().collect();
            if !lines.is_empty() {
                lines.remove(rng.gen_range(0..lines.len()));
            }
            fs::write(&path, lines.join("\n")).unwrap();
            format!("deleting a line of {}", path.display())
        }
        2 => {
            let folder = pick(rng).parent().unwrap().to_path_buf();
            let path = folder.join(format!("new_{round}.py"));
            fs::write(&path, format!("{line}\nimport json\n")).unwrap();
            format!("adding {}", path.display())
        }
        3 if files.len() > 2 => {
            let path = pick(rng);
            fs::remove_file(&path).unwrap();
            format!("removing {}", path.display())
        }
        4 => {
            let path = pick(rng);
            let text = fs::read(&path).unwrap();
            fs::write(&path, text).unwrap();
            format!("rewriting {} unchanged", path.display())
        }
        5 => {
            let path = pick(rng);
            if same_size_edit(&path, rng) {
                format!("a same-size edit of {} keeping its mtime", path.display())
            } else {
                "nothing".to_string()
            }
        }
        6 => {
            let path = pick(rng);
            let to = path.with_file_name(format!("renamed_{round}.py"));
            fs::rename(&path, &to).unwrap();
            format!("renaming {} to {}", path.display(), to.display())
        }
        _ => {
            // A folder becomes a package or stops being one: module names and relative
            // imports of every file in it change, though no byte of them does.
            let folder = pick(rng).parent().unwrap().to_path_buf();
            let init = folder.join("__init__.py");
            if init.exists() {
                fs::remove_file(&init).unwrap();
                format!("removing {}", init.display())
            } else {
                fs::write(&init, "").unwrap();
                format!("adding {}", init.display())
            }
        }
    }
}

#[test]
fn cached_and_uncached_scans_print_the_same_bytes_after_random_edits() {
    for (name, seed) in [
        ("imports-everywhere", 1),
        ("script-siblings", 2),
        ("bad-input", 3),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let project = dir.path().join("project");
        let cache = dir.path().join("cache");
        copy_tree(&fixture(name), &project);
        assert_same_as_uncached(&project, &cache, "nothing");
        let mut rng = StdRng::seed_from_u64(seed);
        for round in 0..12 {
            let what = random_edit(&project, &mut rng, round);
            assert_same_as_uncached(&project, &cache, &format!("{name}, round {round}: {what}"));
        }
    }
}

fn cache_files(cache: &Path) -> Vec<PathBuf> {
    let folder = cache.join("parse-v4");
    let mut files: Vec<PathBuf> = fs::read_dir(&folder)
        .map(|entries| entries.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    files
}

// Regression guard for the one case mtime and size cannot see: a file rewritten with the same
// length and its old modification time (a `git checkout` of another branch can do this).
#[test]
fn a_stale_entry_is_never_used_even_when_size_and_mtime_are_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let cache = dir.path().join("cache");
    fs::create_dir_all(&project).unwrap();
    let app = project.join("app.py");
    fs::write(&app, "import numpy\n").unwrap();
    let before = String::from_utf8(scan(&project, Some(&cache))[0].1.clone()).unwrap();
    assert!(before.contains("\"numpy\""), "{before}");
    let mtime = fs::metadata(&app).unwrap().modified().unwrap();
    fs::write(&app, "import scipy\n").unwrap();
    assert_eq!(
        fs::metadata(&app).unwrap().len(),
        "import numpy\n".len() as u64
    );
    fs::File::options()
        .write(true)
        .open(&app)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    assert_eq!(fs::metadata(&app).unwrap().modified().unwrap(), mtime);
    let after = String::from_utf8(scan(&project, Some(&cache))[0].1.clone()).unwrap();
    assert!(
        after.contains("\"scipy\"") && !after.contains("\"numpy\""),
        "{after}"
    );
}

/// The cache file with its checksum recomputed after `edit` changed its body, so that only
/// the header or entry checks can reject it.
fn resealed(good: &[u8], edit: impl FnOnce(&mut Vec<u8>)) -> Vec<u8> {
    let (magic, rest) = good.split_at(8);
    let mut body = rest[16..].to_vec();
    edit(&mut body);
    let mut out = magic.to_vec();
    out.extend_from_slice(&xxhash_rust::xxh3::xxh3_128(&body).to_le_bytes());
    out.extend_from_slice(&body);
    out
}

fn find(haystack: &[u8], needle: &[u8]) -> usize {
    haystack
        .windows(needle.len())
        .position(|w| w == needle)
        .unwrap_or_else(|| {
            panic!(
                "{:?} not in the cache file",
                String::from_utf8_lossy(needle)
            )
        })
}

#[test]
fn a_corrupted_truncated_or_foreign_cache_file_is_ignored_and_rebuilt() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let cache = dir.path().join("cache");
    copy_tree(&fixture("imports-everywhere"), &project);
    let expected = scan(&project, None);
    assert_eq!(scan(&project, Some(&cache)), expected);
    let files = cache_files(&cache);
    assert_eq!(files.len(), 1, "one cache file per project: {files:?}");
    let good = fs::read(&files[0]).unwrap();
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let damaged: Vec<(&str, Vec<u8>)> = vec![
        ("truncated", good[..good.len() / 2].to_vec()),
        ("one byte short", good[..good.len() - 1].to_vec()),
        ("empty", Vec::new()),
        ("not a cache file", b"\x00\xff garbage \x1b[31m".to_vec()),
        ("bit-flipped", {
            let mut bytes = good.clone();
            let middle = bytes.len() / 2;
            bytes[middle] ^= 0x10;
            bytes
        }),
        // Same checksum rules, another envscan version in the header.
        (
            "another build's",
            resealed(&good, |body| {
                let at = find(body, version);
                body[at] = if body[at] == b'9' { b'8' } else { b'9' };
            }),
        ),
        // A well-formed header followed by entries that do not decode.
        (
            "wrongly shaped",
            resealed(&good, |body| {
                let at = find(body, b"pkg/contexts.py");
                body.truncate(at);
                body.extend_from_slice(&[0xff; 9]);
            }),
        ),
        // An entry whose module name is no module name: that file is parsed again. (The
        // first occurrence is in the record's string of module names and members.)
        (
            "invalid module",
            resealed(&good, |body| {
                let at = find(body, b"dynamic_plugin");
                body[at] = b'.';
            }),
        ),
    ];
    for (what, bytes) in damaged {
        fs::write(&files[0], &bytes).unwrap();
        assert_eq!(
            scan(&project, Some(&cache)),
            expected,
            "with a {what} cache file"
        );
        assert_eq!(
            fs::read(&files[0]).unwrap(),
            good,
            "the {what} cache file was not rebuilt as the good one"
        );
    }
}

#[test]
fn a_warm_run_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    let cache = dir.path().join("cache");
    copy_tree(&fixture("imports-everywhere"), &project);
    scan(&project, Some(&cache));
    let files = cache_files(&cache);
    let before = fs::metadata(&files[0]).unwrap().modified().unwrap();
    std::thread::sleep(std::time::Duration::from_millis(20));
    scan(&project, Some(&cache));
    assert_eq!(cache_files(&cache), files);
    assert_eq!(fs::metadata(&files[0]).unwrap().modified().unwrap(), before);
    fs::write(project.join("pkg/new_module.py"), "import json\n").unwrap();
    scan(&project, Some(&cache));
    assert_ne!(
        fs::metadata(&files[0]).unwrap().modified().unwrap(),
        before,
        "a new file is a new entry"
    );
}

/// The caches (parse-v*, env-v*) a command left in `cache`.
fn local_caches(cache: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(cache)
        .map(|entries| {
            entries
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.starts_with("parse-") || n.starts_with("env-"))
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

#[test]
fn no_cache_bypasses_the_parse_and_environment_caches_on_every_command_that_scans() {
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    copy_tree(&fixture("imports-everywhere"), &project);
    let venv = dir.path().join("venv");
    minimal_venv(&venv);
    let out = dir.path().join("out");
    let commands: &[&[&str]] = &[
        &["scan"],
        &["graph"],
        &["explain", "os"],
        &["lock", "--offline"],
        &["check", "--offline"],
        &["pack", "--offline", "--out", out.to_str().unwrap()],
    ];
    for command in commands {
        for no_cache in [true, false] {
            let cache = dir.path().join(format!("cache-{}-{no_cache}", command[0]));
            let mut cmd = envscan();
            cmd.args(*command)
                .arg(&project)
                .env("ENVSCAN_CACHE_DIR", &cache);
            if command[0] != "scan" {
                cmd.arg("--python").arg(&venv);
            }
            if no_cache {
                cmd.arg("--no-cache");
            }
            let output = cmd.output().unwrap();
            assert!(output.status.code().is_some(), "{command:?}: {output:?}");
            let left = local_caches(&cache);
            if no_cache {
                assert_eq!(
                    left,
                    Vec::<String>::new(),
                    "{command:?} --no-cache: {output:?}"
                );
            } else {
                assert!(
                    left.iter().any(|n| n.starts_with("parse-")),
                    "{command:?} kept no parse cache: {left:?} {output:?}"
                );
            }
        }
    }
}
