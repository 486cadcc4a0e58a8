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
    let mut files: Vec<PathBuf> = fs::read_dir(cache.join("env-v3"))
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

/// The orphans `envscan env --format json` reports, as `module` or `module (compiled)`.
fn orphans(json: &str) -> Vec<String> {
    let value: serde_json::Value = serde_json::from_str(json).unwrap();
    value["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            let module = o["module"].as_str().unwrap();
            if o["compiled"].as_bool().unwrap() {
                format!("{module} (compiled)")
            } else {
                module.to_string()
            }
        })
        .collect()
}

fn touch(path: &Path) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, "").unwrap();
}

#[test]
fn orphans_are_seen_through_the_cache_when_a_module_package_init_or_pth_folder_changes() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let cache = dir.path().join("cache");
    minimal_venv(&venv);
    let sp = site(&venv);
    add_dist(&venv, "alpha", "1.0", &[]);
    let step = |what: &str| orphans(&assert_same(&venv, &cache, what));
    assert!(step("owned only").is_empty());

    touch(&sp.join("loose.py"));
    assert_eq!(step("a module added"), ["loose"]);
    touch(&sp.join("loosepkg/__init__.py"));
    assert_eq!(step("a package added"), ["loose", "loosepkg"]);
    fs::remove_file(sp.join("loose.py")).unwrap();
    assert_eq!(step("a module removed"), ["loosepkg"]);

    // Inside a folder: site-packages' own time stays, the folder's moves.
    touch(&sp.join("nsx/part.py"));
    assert_eq!(step("a namespace portion"), ["loosepkg", "nsx.part"]);
    let site_time = fs::metadata(&sp).unwrap().modified().unwrap();
    touch(&sp.join("nsx/__init__.py"));
    assert_eq!(fs::metadata(&sp).unwrap().modified().unwrap(), site_time);
    assert_eq!(step("an __init__.py appears"), ["loosepkg", "nsx"]);
    touch(&sp.join("nsx/_speed.cpython-311-x86_64-linux-gnu.so"));
    assert_eq!(step("an extension added"), ["loosepkg", "nsx (compiled)"]);
    fs::remove_file(sp.join("nsx/__init__.py")).unwrap();
    assert_eq!(
        step("the __init__.py goes"),
        ["loosepkg", "nsx._speed (compiled)", "nsx.part"]
    );

    // A distribution's package loses its __init__.py: what else is in it is nobody's.
    touch(&sp.join("alpha/other.py"));
    assert_eq!(
        step("a file beside an owned __init__"),
        ["loosepkg", "nsx._speed (compiled)", "nsx.part"]
    );
    fs::remove_file(sp.join("alpha/__init__.py")).unwrap();
    assert_eq!(
        step("an owned __init__.py removed"),
        [
            "alpha.other",
            "loosepkg",
            "nsx._speed (compiled)",
            "nsx.part"
        ]
    );

    // A folder a .pth file puts on the path.
    fs::remove_dir_all(sp.join("nsx")).unwrap();
    fs::remove_dir_all(sp.join("alpha")).unwrap();
    let extra = dir.path().join("extra");
    touch(&extra.join("extmod.py"));
    fs::write(sp.join("extra.pth"), format!("{}\n", extra.display())).unwrap();
    assert_eq!(step("a .pth added"), ["extmod", "loosepkg"]);
    touch(&extra.join("another.py"));
    assert_eq!(
        step("a module in the .pth folder"),
        ["another", "extmod", "loosepkg"]
    );
    fs::write(sp.join("extra.pth"), "\n").unwrap();
    assert_eq!(step("the .pth emptied"), ["loosepkg"]);
}

#[cfg(unix)]
#[test]
fn a_symlinks_target_changing_is_seen_through_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let venv = dir.path().join("venv");
    let cache = dir.path().join("cache");
    minimal_venv(&venv);
    let sp = site(&venv);
    let outside = dir.path().join("outside");
    touch(&outside.join("realpkg/__init__.py"));
    touch(&outside.join("single.py"));
    std::os::unix::fs::symlink(outside.join("realpkg"), sp.join("linkedpkg")).unwrap();
    std::os::unix::fs::symlink(outside.join("single.py"), sp.join("linked.py")).unwrap();
    let step = |what: &str| orphans(&assert_same(&venv, &cache, what));
    assert_eq!(step("symlinks"), ["linked", "linkedpkg"]);
    // The package's target loses its __init__.py: site-packages does not change at all.
    touch(&outside.join("realpkg/inner.py"));
    fs::remove_file(outside.join("realpkg/__init__.py")).unwrap();
    assert_eq!(
        step("the target's __init__.py removed"),
        ["linked", "linkedpkg.inner"]
    );
    // The module's target becomes a folder: no module any more.
    fs::remove_file(outside.join("single.py")).unwrap();
    fs::create_dir(outside.join("single.py")).unwrap();
    assert_eq!(step("the target replaced by a folder"), ["linkedpkg.inner"]);
    fs::remove_dir(outside.join("single.py")).unwrap();
    // Dangling (what it shows is the uncached run's business; the two must agree).
    step("the target gone");
    touch(&outside.join("single.py"));
    assert_eq!(step("the target back"), ["linked", "linkedpkg.inner"]);
}

/// Random edits of the kinds an environment sees (installs, removals, files rewritten in
/// place, modules and `__init__.py` files coming and going, `.pth` files): after each, the
/// cached run prints what the uncached one does, both while the cache fills and warm.
#[test]
fn cached_and_uncached_environments_agree_after_random_edits() {
    use rand::{Rng, SeedableRng, seq::SliceRandom};
    for seed in 0..3u64 {
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        let dir = tempfile::tempdir().unwrap();
        let venv = dir.path().join("venv");
        let cache = dir.path().join("cache");
        minimal_venv(&venv);
        let sp = site(&venv);
        let extra = dir.path().join("extra");
        fs::create_dir_all(&extra).unwrap();
        for i in 0..4 {
            add_dist(&venv, &format!("d{i}"), "1.0", &[]);
        }
        assert_same(&venv, &cache, &format!("seed {seed}: start"));
        let mut next = 4;
        for step in 0..25 {
            let dists: Vec<PathBuf> = fs::read_dir(&sp)
                .unwrap()
                .map(|e| e.unwrap().path())
                .filter(|p| p.extension().is_some_and(|e| e == "dist-info"))
                .collect::<std::collections::BTreeSet<_>>()
                .into_iter()
                .collect();
            let folders = ["d0", "d1", "nsa", "nsb", "loosepkg"];
            let folder = sp.join(folders.choose(&mut rng).unwrap());
            let what = match rng.gen_range(0..10) {
                0 => {
                    let requires = format!("d{}", rng.gen_range(0..next));
                    add_dist(&venv, &format!("d{next}"), "1.0", &[&requires]);
                    next += 1;
                    "a distribution added"
                }
                1 if !dists.is_empty() => {
                    let info = dists.choose(&mut rng).unwrap();
                    let name = info.file_name().unwrap().to_str().unwrap();
                    let package = name.split('-').next().unwrap();
                    fs::remove_dir_all(info).unwrap();
                    let _ = fs::remove_dir_all(sp.join(package));
                    "a distribution removed"
                }
                2 if !dists.is_empty() => {
                    // RECORD grows in place, the folder's time put back.
                    let info = dists.choose(&mut rng).unwrap();
                    let time = fs::metadata(info).unwrap().modified().unwrap();
                    let package = info.file_name().unwrap().to_str().unwrap();
                    let package = package.split('-').next().unwrap();
                    let module = format!("{package}/m{step}.py");
                    touch(&sp.join(&module));
                    let mut record = fs::read_to_string(info.join("RECORD")).unwrap();
                    record.push_str(&format!("{module},,\n"));
                    fs::write(info.join("RECORD"), record).unwrap();
                    fs::File::open(info).unwrap().set_modified(time).unwrap();
                    "RECORD rewritten in place"
                }
                3 if !dists.is_empty() => {
                    let info = dists.choose(&mut rng).unwrap();
                    let path = info.join("METADATA");
                    let mut text = fs::read_to_string(&path).unwrap();
                    text.push_str(&format!("Requires-Dist: d{}\n", rng.gen_range(0..next)));
                    fs::write(&path, text).unwrap();
                    "METADATA rewritten in place"
                }
                4 => {
                    touch(&sp.join(format!("loose{}.py", rng.gen_range(0..3))));
                    "a top-level module added"
                }
                5 => {
                    let _ = fs::remove_file(sp.join(format!("loose{}.py", rng.gen_range(0..3))));
                    "a top-level module removed"
                }
                6 => {
                    touch(&folder.join("__init__.py"));
                    "an __init__.py added"
                }
                7 => {
                    let _ = fs::remove_file(folder.join("__init__.py"));
                    "an __init__.py removed"
                }
                8 => {
                    let name = ["part.py", "_c.abi3.so", "deep/more.py"]
                        .choose(&mut rng)
                        .unwrap();
                    touch(&folder.join(name));
                    "a module added in a folder"
                }
                _ => {
                    if rng.gen_bool(0.5) {
                        touch(&extra.join(format!("x{}.py", rng.gen_range(0..3))));
                    }
                    let text = if rng.gen_bool(0.7) {
                        format!("{}\n", extra.display())
                    } else {
                        String::new()
                    };
                    fs::write(sp.join("extra.pth"), text).unwrap();
                    "a .pth folder changed"
                }
            };
            assert_same(&venv, &cache, &format!("seed {seed}, step {step}: {what}"));
        }
    }
}
