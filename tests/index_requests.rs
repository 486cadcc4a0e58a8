//! What envscan asks a package index, checked against a 127.0.0.1 index that records every
//! request (SECURITY.md, "envscan never sends an import name to an index").

#[path = "index_support/mod.rs"]
mod index_support;

use std::path::Path;
use std::process::Command;

use index_support::{Reply, Server, fixture};

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

#[test]
fn an_unresolved_import_is_never_looked_up_on_the_index() {
    // Invariant (dependency confusion): the index is asked only about installed distributions,
    // by their own name; `import yourcorp_private_utils`, which nothing installed provides,
    // never appears in any request, so a stranger's package of that name cannot be locked.
    let dir = tempfile::tempdir().unwrap();
    let project = dir.path().join("project");
    write(
        &project.join("main.py"),
        "import requests\nimport yourcorp_private_utils\n",
    );
    let prefix = dir.path().join("venv");
    write(
        &prefix.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.12.1\n",
    );
    let site = prefix.join("lib/python3.12/site-packages");
    write(
        &site.join("requests-2.31.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\n",
    );
    write(
        &site.join("requests-2.31.0.dist-info/RECORD"),
        "requests/__init__.py,,\nrequests-2.31.0.dist-info/METADATA,,\n",
    );
    write(&site.join("requests/__init__.py"), "");

    let server = Server::start();
    server.always(
        "/simple/requests/",
        Reply::json(fixture("requests.pep691.json")),
    );
    let output = Command::new(env!("CARGO_BIN_EXE_envscan"))
        .arg("lock")
        .arg(&project)
        .arg("--python")
        .arg(&prefix)
        .arg("--index-url")
        .arg(server.url("/simple/"))
        .arg("--cache-dir")
        .arg(dir.path().join("cache"))
        .env("HOME", dir.path())
        .env_remove("PIP_INDEX_URL")
        .env_remove("PIP_EXTRA_INDEX_URL")
        .env_remove("PIP_CONFIG_FILE")
        .env_remove("VIRTUAL_ENV")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_ne!(output.status.code(), Some(101), "panicked: {stderr}");
    let paths: Vec<String> = server.requests().into_iter().map(|r| r.path).collect();
    assert!(
        paths.iter().any(|p| p == "/simple/requests/"),
        "the installed distribution was not looked up: {paths:?}\n{stderr}"
    );
    for path in &paths {
        assert!(
            !path.to_ascii_lowercase().contains("yourcorp"),
            "an import name reached the index: {path}"
        );
    }
}
