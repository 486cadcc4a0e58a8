//! The standard-library oracle (issue 8, must hold 3): for every CPython version with data in
//! tests/data/stdlib (written by scripts/gen-stdlib from the real interpreters), envscan
//! classifies every module and submodule that interpreter provides as `stdlib`, through the
//! whole scan (`import NAME` for each, one file); and for the versions whose interpreter has
//! `sys.stdlib_module_names` (3.10+), no top-level name that another version has and this one
//! lacks (`distutils` on 3.12, `tomllib` on 3.10) is stdlib. The installed python3 is also
//! asked directly, live, with the same generator.

mod support;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use envscan::names::ModuleName;
use envscan::resolve::stdlib::is_stdlib;
use envscan::settings::PythonVersion;
use serde_json::Value;

struct Oracle {
    version: String,
    /// Whether the interpreter had `sys.stdlib_module_names` (every platform's names).
    all_platforms: bool,
    names: BTreeSet<String>,
}

fn parse_oracle(version: &str, text: &str) -> Oracle {
    Oracle {
        version: version.to_string(),
        all_platforms: text
            .lines()
            .any(|l| l.starts_with("# sources: sys.stdlib_module_names,")),
        names: text
            .lines()
            .filter(|l| !l.starts_with('#') && !l.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

fn checked_in() -> Vec<Oracle> {
    let dir = support::repo().join("tests/data/stdlib");
    let mut oracles: Vec<Oracle> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|path| {
            let name = path.file_name()?.to_str()?.to_string();
            let version = name
                .strip_prefix("cpython-")?
                .strip_suffix(".txt")?
                .to_string();
            Some(parse_oracle(
                &version,
                &std::fs::read_to_string(&path).unwrap(),
            ))
        })
        .collect();
    oracles.sort_by_key(|o| PythonVersion::parse(&o.version).map(|v| v.minor));
    oracles
}

/// The names envscan's scan does not classify `stdlib` when a file imports them all.
fn not_stdlib_in_scan(oracle: &Oracle) -> Vec<String> {
    let project = tempfile::tempdir().unwrap();
    let source: String = oracle
        .names
        .iter()
        .map(|name| format!("import {name}\n"))
        .collect();
    std::fs::write(project.path().join("uses_everything.py"), source).unwrap();
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .args([
            "scan",
            "--format",
            "json",
            "--python-version",
            &oracle.version,
        ])
        .arg(project.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let imports = report["imports"].as_array().unwrap();
    assert_eq!(
        imports.len(),
        oracle.names.len(),
        "every name is one import"
    );
    imports
        .iter()
        .filter(|i| i["class"] != "stdlib")
        .map(|i| format!("{} ({})", i["module"], i["class"]))
        .collect()
}

#[test]
fn every_module_and_submodule_of_each_cpython_is_stdlib_in_a_scan() {
    let oracles = checked_in();
    let versions: Vec<&str> = oracles.iter().map(|o| o.version.as_str()).collect();
    assert_eq!(versions, ["3.8", "3.9", "3.10", "3.11", "3.12", "3.13"]);
    for oracle in &oracles {
        assert!(oracle.names.contains("__future__"), "{}", oracle.version);
        assert!(oracle.names.contains("os.path"), "{}", oracle.version);
        assert!(oracle.names.len() > 1000, "{}", oracle.version);
        let wrong = not_stdlib_in_scan(oracle);
        assert!(
            wrong.is_empty(),
            "CPython {} has: {wrong:?}",
            oracle.version
        );
    }
}

/// Names a version's `sys.stdlib_module_names` omits although that version has them:
/// `_wmi` is the Windows-only module that 3.12 added (PC/_wmimodule.cpp); the list of 3.12.1
/// leaves it out, the list of 3.13 has it. envscan (ruff's list) says stdlib, rightly.
const KNOWN_OMISSIONS: &[(&str, &str)] = &[("3.12", "_wmi")];

#[test]
fn top_level_names_a_version_lacks_are_not_stdlib_for_it() {
    let oracles = checked_in();
    let tops = |o: &Oracle| -> BTreeSet<String> {
        o.names
            .iter()
            .filter(|n| !n.contains('.'))
            .cloned()
            .collect()
    };
    let union: BTreeSet<String> = oracles.iter().flat_map(tops).collect();
    for oracle in oracles.iter().filter(|o| o.all_platforms) {
        let python = PythonVersion::parse(&oracle.version).unwrap();
        let own = tops(oracle);
        let wrong: Vec<&String> = union
            .iter()
            .filter(|name| !own.contains(*name))
            .filter(|name| !KNOWN_OMISSIONS.contains(&(oracle.version.as_str(), name.as_str())))
            .filter(|name| is_stdlib(python, &ModuleName::new(name).unwrap()))
            .collect();
        assert!(
            wrong.is_empty(),
            "not in CPython {}: {wrong:?}",
            oracle.version
        );
    }
    // The names that differ between versions are really there to be checked.
    let py312 = PythonVersion {
        major: 3,
        minor: 12,
    };
    assert!(union.contains("distutils"));
    assert!(!is_stdlib(py312, &ModuleName::new("distutils").unwrap()));
}

/// The live interpreter: python3 on PATH, dumped by the same generator, isolated. Only names
/// under a top level the interpreter itself declares (`sys.stdlib_module_names`, builtins,
/// frozen modules) count here: a distribution's build adds files of its own to the stdlib
/// folder (Debian's `sitecustomize.py` and `_distutils_system_mod.py`), which are no part of
/// CPython. The python.org builds' own extra files (`test`, `_testcapi`) are checked through
/// the checked-in data above.
#[test]
fn the_installed_python3_agrees_live() {
    let Some(python) = support::which_python() else {
        return;
    };
    let script = support::repo().join("scripts/gen-stdlib");
    let output = support::run(
        Process::new(&python)
            .args(["-I", "-S"])
            .arg(&script)
            .arg("--dump"),
    );
    let text = String::from_utf8(output.stdout).unwrap();
    let declared = support::run(Process::new(&python).args([
        "-I",
        "-S",
        "-c",
        "import sys, _imp\n\
         names = set(sys.stdlib_module_names) | set(sys.builtin_module_names)\n\
         names |= set(getattr(_imp, '_frozen_module_names', lambda: ())())\n\
         print('\\n'.join(sorted(names)))",
    ]));
    let declared: BTreeSet<String> = String::from_utf8(declared.stdout)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    assert!(declared.contains("__future__"));
    let version = version_of(&python);
    let mut oracle = parse_oracle(&version, &text);
    oracle
        .names
        .retain(|n| declared.contains(n.split('.').next().unwrap_or(n)));
    assert!(oracle.names.len() > 500, "{} names", oracle.names.len());
    let wrong = not_stdlib_in_scan(&oracle);
    assert!(wrong.is_empty(), "python3 ({version}) has: {wrong:?}");
}

fn version_of(python: &Path) -> String {
    let output = support::run(Process::new(python).args([
        "-I",
        "-c",
        "import sys; print('%d.%d' % sys.version_info[:2])",
    ]));
    String::from_utf8(output.stdout).unwrap().trim().to_string()
}

/// Project files named like standard-library modules: CPython loads the project's file for
/// some (`logging`, `json`; `runpy` before 3.11) and its own for the rest (builtins, what
/// start-up imports, frozen modules); envscan must pick the same side for each.
#[test]
fn project_files_shadow_exactly_the_stdlib_modules_cpython_lets_them_shadow() {
    let Some(python) = support::which_python() else {
        return;
    };
    let names = [
        "_collections_abc",
        "_sitebuiltins",
        "abc",
        "codecs",
        "encodings",
        "genericpath",
        "io",
        "json",
        "logging",
        "ntpath",
        "os",
        "posixpath",
        "runpy",
        "site",
        "stat",
        "sys",
        "zipimport",
    ];
    let project = tempfile::tempdir().unwrap();
    for name in names {
        std::fs::write(
            project.path().join(format!("{name}.py")),
            format!("print('LOCAL {name}')\n"),
        )
        .unwrap();
    }
    std::fs::write(
        project.path().join("main.py"),
        format!("import {}\n", names.join(", ")),
    )
    .unwrap();
    let ran = support::run(
        Process::new(&python)
            .arg("main.py")
            .current_dir(project.path()),
    );
    let cpython_local: BTreeSet<String> = String::from_utf8(ran.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.strip_prefix("LOCAL "))
        .map(str::to_string)
        .collect();
    assert!(cpython_local.contains("logging"), "{cpython_local:?}");

    let output = Command::cargo_bin("envscan")
        .unwrap()
        .args([
            "scan",
            "--format",
            "json",
            "--python-version",
            &version_of(&python),
        ])
        .arg(project.path())
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let envscan_local: BTreeSet<String> = report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["file"] == "main.py" && i["class"] == "local")
        .map(|i| i["module"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(envscan_local, cpython_local);
}
