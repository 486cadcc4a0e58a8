//! The lock, both ways.
//!
//! First byte even: the rest is an existing `pylock.envscan.toml` as `envscan check` and
//! `lock` find it (`commands::lock::existing_lock_problem`, which reports a hand-edited lock
//! that no longer parses). Properties: no panic; a problem names the lock and a line inside it.
//!
//! First byte odd: the rest drives a structured lock (any strings, sizes, hashes) that
//! `emit::pylock::Pylock::render` writes; the text must parse as TOML and give back every
//! value (round trip), so no value from an index or the environment can break out of its
//! TOML string or make the lock unreadable to pip and uv.
#![no_main]

use std::collections::BTreeMap;

use arbitrary::{Arbitrary, Unstructured};
use envscan::commands::lock::existing_lock_problem;
use envscan::emit::pylock::{LockedFile, LockedPackage, Pylock};
use envscan::names::PackageName;
use envscan_fuzz::{put, scratch};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct File {
    name: String,
    url: String,
    size: Option<u64>,
    sha256: String,
}

#[derive(Arbitrary, Debug)]
struct Package {
    name: String,
    version: String,
    index: String,
    requires_python: Option<String>,
    sdist: Option<File>,
    wheels: Vec<File>,
}

#[derive(Arbitrary, Debug)]
struct Lock {
    requires_python: String,
    environments: Vec<String>,
    packages: Vec<Package>,
    tool: BTreeMap<String, Vec<String>>,
}

fn locked_file(f: File) -> LockedFile {
    LockedFile {
        name: f.name,
        url: f.url,
        size: f.size,
        sha256: f.sha256,
        // outputs.rs never sets it (the index's value would be pasted unquoted).
        upload_time: None,
    }
}

fn check_file(value: &toml::Value, file: &LockedFile) {
    assert_eq!(value["name"].as_str(), Some(file.name.as_str()));
    assert_eq!(value["url"].as_str(), Some(file.url.as_str()));
    assert_eq!(
        value.get("size").and_then(toml::Value::as_integer),
        // A size TOML cannot hold is left out (src/emit/pylock.rs).
        file.size.and_then(|s| i64::try_from(s).ok())
    );
    assert_eq!(
        value["hashes"]["sha256"].as_str(),
        Some(file.sha256.as_str())
    );
}

fn round_trip(lock: Lock) {
    let pylock = Pylock {
        requires_python: lock.requires_python,
        environments: lock.environments,
        packages: lock
            .packages
            .into_iter()
            .map(|p| LockedPackage {
                name: PackageName::new(&p.name),
                version: p.version,
                index: p.index,
                requires_python: p.requires_python,
                sdist: p.sdist.map(locked_file),
                wheels: p.wheels.into_iter().map(locked_file).collect(),
                archive: None,
            })
            .collect(),
        tool: lock.tool,
    };
    let Ok(text) = pylock.render() else {
        return;
    };
    let doc: toml::Table = toml::from_str(&text)
        .unwrap_or_else(|err| panic!("the rendered lock is not TOML: {err}\n{text}"));
    assert_eq!(
        doc["requires-python"].as_str(),
        Some(pylock.requires_python.as_str())
    );
    let environments: Vec<&str> = doc["environments"]
        .as_array()
        .expect("environments")
        .iter()
        .map(|e| e.as_str().expect("an environment string"))
        .collect();
    assert_eq!(environments, pylock.environments);
    let packages = doc
        .get("packages")
        .and_then(toml::Value::as_array)
        .map_or(&[][..], Vec::as_slice);
    assert_eq!(
        packages.len(),
        pylock.packages.len(),
        "packages lost or added"
    );
    for (value, package) in packages.iter().zip(&pylock.packages) {
        assert_eq!(value["name"].as_str(), Some(package.name.as_str()));
        assert_eq!(value["version"].as_str(), Some(package.version.as_str()));
        // An empty index (a local archive's entry) is left out.
        assert_eq!(
            value.get("index").and_then(toml::Value::as_str),
            Some(package.index.as_str()).filter(|i| !i.is_empty())
        );
        assert_eq!(
            value.get("requires-python").and_then(toml::Value::as_str),
            package.requires_python.as_deref()
        );
        match (&package.sdist, value.get("sdist")) {
            (Some(file), Some(v)) => check_file(v, file),
            (None, None) => {}
            other => panic!("sdist mismatch: {other:?}"),
        }
        let wheels = value
            .get("wheels")
            .and_then(toml::Value::as_array)
            .map_or(&[][..], Vec::as_slice);
        assert_eq!(wheels.len(), package.wheels.len(), "wheels lost or added");
        for (v, file) in wheels.iter().zip(&package.wheels) {
            check_file(v, file);
        }
    }
    if !pylock.tool.is_empty() {
        let tool: BTreeMap<String, Vec<String>> = doc["tool"]["envscan"]
            .clone()
            .try_into()
            .expect("[tool.envscan] reads back");
        assert_eq!(tool, pylock.tool);
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, bytes)) = data.split_first() else {
        return;
    };
    if mode % 2 == 1 {
        if let Ok(lock) = Lock::arbitrary_take_rest(Unstructured::new(bytes)) {
            round_trip(lock);
        }
        return;
    }
    let path = put("lock/pylock.envscan.toml", bytes);
    if let Some(problem) = existing_lock_problem(&path, &scratch().join("lock")) {
        assert_eq!(problem.file.as_deref(), Some("pylock.envscan.toml"));
        let lines = bytes.iter().filter(|&&b| b == b'\n').count() as u32 + 1;
        assert!(
            problem.line.is_none_or(|l| (1..=lines).contains(&l)),
            "line {:?} of a {lines}-line lock",
            problem.line
        );
    }
});
