//! Issue 8's false errors on real import statements, each checked against what CPython itself
//! does with the same files: standard-library and third-party submodules imported after their
//! parent, `__future__`, one statement naming several members, modules beside a script, and
//! the project's own compiled extension modules (a real one built with gcc, too).

mod support;

use std::path::Path;
use std::process::Command as Process;

use assert_cmd::Command;
use serde_json::Value;

/// `envscan lock --offline --format json` on a copy of a project fixture, against a fixture env.
fn lock(project: &Path, env: &Path) -> Value {
    let cache = tempfile::tempdir().unwrap();
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .args(["lock", "--format", "json", "--offline"])
        .args(["--index-url", "http://127.0.0.1:9/simple"])
        .arg("--cache-dir")
        .arg(cache.path())
        .arg("--python")
        .arg(env)
        .arg(project)
        .output()
        .unwrap();
    assert!(matches!(output.status.code(), Some(0 | 1)), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn diagnostics<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == code)
        .collect()
}

fn modules(report: &Value, key: &str) -> Vec<String> {
    report[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["module"].as_str().unwrap().to_string())
        .collect()
}

/// Whether CPython (isolated, with `path` first on sys.path) finds each module.
fn cpython_finds(python: &Path, path: &Path, names: &[&str]) -> Vec<bool> {
    let script = format!(
        "import importlib.util, sys\nsys.path.insert(0, {path:?})\nfor n in {names:?}:\n    \
         try:\n        print(importlib.util.find_spec(n) is not None)\n    \
         except ModuleNotFoundError:\n        print(False)\n",
        path = path.to_str().unwrap(),
    );
    let output = support::run(Process::new(python).args(["-I", "-S", "-c", &script]));
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|l| l == "True")
        .collect()
}

const REAL_IMPORTS: &[&str] = &[
    "__future__",
    "collections.abc",
    "http.cookies",
    "importlib.util",
    "os.path",
    "xml.etree.ElementTree",
    "sqlalchemy.orm",
    "matplotlib.pyplot",
];

// Regression: `import http` then `from http.cookies import SimpleCookie` gave
// `local-module-not-found http.cookies (found http)` and `unresolved-import http.cookies`
// (the parent's graph node was taken for a project module), the same for collections.abc,
// os.path and importlib.util; `__future__` was unresolved; sqlalchemy.orm and
// matplotlib.pyplot were `local-module-not-found`.
#[test]
fn submodules_imported_after_their_parent_resolve_as_cpython_resolves_them() {
    let Some(python) = support::which_python() else {
        return;
    };
    let env = support::fixture("site-submodules");
    let site = env.join("lib/python3.11/site-packages");
    let found = cpython_finds(&python, &site, REAL_IMPORTS);
    assert!(
        found.iter().all(|f| *f),
        "CPython finds them all: {found:?}"
    );
    assert_eq!(cpython_finds(&python, &site, &["notinstalled"]), [false]);

    let project = support::copy_fixture("real-imports");
    let report = lock(project.path(), &env);
    assert_eq!(
        diagnostics(&report, "local-module-not-found"),
        Vec::<&Value>::new()
    );
    assert_eq!(modules(&report, "unresolved"), ["notinstalled"]);
    let packages: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(packages, ["matplotlib", "sqlalchemy"]);
}

// Regression: `from notinstalled import first, second, third` gave three diagnostics.
#[test]
fn one_statement_naming_several_members_gives_one_diagnostic() {
    let project = support::copy_fixture("real-imports");
    let report = lock(project.path(), &support::fixture("site-submodules"));
    let unresolved = diagnostics(&report, "unresolved-import");
    assert_eq!(unresolved.len(), 1, "{unresolved:?}");
    assert_eq!(unresolved[0]["line"], 20);
}

// Regression: `import helpers` in tools/train.py, beside tools/helpers.py, was
// `unresolved-import` with a hint to install `helpers`.
#[test]
fn modules_beside_a_script_resolve_and_project_names_are_never_sent_to_an_index() {
    let Some(python) = support::which_python() else {
        return;
    };
    let project = support::copy_fixture("script-siblings");
    let root = project.path();
    // CPython: the script's folder is sys.path[0]; a notebook kernel runs in its folder.
    support::run(
        Process::new(&python)
            .arg("tools/train.py")
            .current_dir(root),
    );
    support::run(
        Process::new(&python)
            .args(["-c", "import nbutils; from nbutils import show"])
            .current_dir(root.join("notebooks")),
    );
    // Run by path, a package's file sees its folder's modules by bare name (as typer's
    // tutorial scripts are run); so the import is the project's, not something to install.
    // (It then stops at `import quantlib`, which is off every path.)
    let by_path = Process::new(&python)
        .arg("pkg/cli.py")
        .current_dir(root)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&by_path.stderr);
    assert!(stderr.contains("No module named 'quantlib'"), "{stderr}");

    let report = lock(root, &support::fixture("site-submodules"));
    assert_eq!(modules(&report, "unresolved"), ["quantlib"]);
    for unresolved in report["unresolved"].as_array().unwrap() {
        assert!(unresolved.get("suggestion").is_none(), "{unresolved}");
    }
    assert_eq!(
        report["unresolved"][0]["project_path"],
        "vendor/deep/quantlib.py"
    );
    for d in diagnostics(&report, "unresolved-import") {
        let hint = d["hint"].as_str().unwrap_or_default();
        assert!(hint.contains("project file"), "{d}");
        assert!(!hint.contains("provided by"), "{d}");
    }
    assert_eq!(
        diagnostics(&report, "local-module-not-found"),
        Vec::<&Value>::new()
    );
    let lock = std::fs::read_to_string(root.join("pylock.envscan.toml")).unwrap();
    assert!(!lock.contains("suggestion = \"sibling\""), "{lock}");
}

// Regression: `import fastops` beside fastops.cpython-311-x86_64-linux-gnu.so was
// `unresolved-import ... not installed`.
#[test]
fn extension_modules_built_in_the_project_are_binary_local() {
    let project = support::copy_fixture("local-extension");
    let report = lock(project.path(), &support::fixture("site-submodules"));
    assert_eq!(modules(&report, "unresolved"), Vec::<String>::new());
    let orphans: Vec<(String, String)> = report["orphans"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                o["module"].as_str().unwrap().to_string(),
                o["class"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let binary = |m: &str| (m.to_string(), "binary_local".to_string());
    assert_eq!(
        orphans,
        [
            binary("fastops"),
            binary("pkg._speed"),
            binary("plainext"),
            binary("winmod")
        ]
    );
    let warnings = diagnostics(&report, "binary-local-module");
    assert_eq!(warnings.len(), 4, "{warnings:?}");
    assert!(
        warnings
            .iter()
            .all(|w| w["hint"].as_str().unwrap().contains("base image"))
    );
    let plan: Value = serde_json::from_str(
        &std::fs::read_to_string(project.path().join("envscan.plan.json")).unwrap(),
    )
    .unwrap();
    let subjects: Vec<&str> = plan["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|w| w["code"] == "binary-local-module")
        .map(|w| w["subject"].as_str().unwrap())
        .collect();
    assert_eq!(subjects, ["fastops", "pkg._speed", "plainext", "winmod"]);
}

const EXTENSION_SOURCE: &str = r#"#define PY_SSIZE_T_CLEAN
#include <Python.h>

static PyObject *add(PyObject *self, PyObject *args) {
    long a, b;
    if (!PyArg_ParseTuple(args, "ll", &a, &b)) return NULL;
    return PyLong_FromLong(a + b);
}

static PyMethodDef methods[] = {{"add", add, METH_VARARGS, "a + b"}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "fastops", NULL, -1, methods};
PyMODINIT_FUNC PyInit_fastops(void) { return PyModule_Create(&module); }
"#;

/// A real extension module built in place with gcc against the interpreter's headers: CPython
/// imports it, and envscan classifies it as the project's own binary_local module.
#[test]
fn a_real_extension_module_built_in_place_is_binary_local() {
    let Some(python) = support::which_python() else {
        return;
    };
    let Some(gcc) = support::which("gcc") else {
        support::skip("no gcc on PATH");
        return;
    };
    let project = tempfile::tempdir().unwrap();
    let root = project.path();
    let config = support::run(Process::new(&python).args([
        "-c",
        "import sysconfig; print(sysconfig.get_paths()['include']); \
         print(sysconfig.get_config_var('EXT_SUFFIX'))",
    ]));
    let config = String::from_utf8(config.stdout).unwrap();
    let mut lines = config.lines();
    let (include, suffix) = (lines.next().unwrap(), lines.next().unwrap());
    std::fs::write(root.join("fastops.c"), EXTENSION_SOURCE).unwrap();
    let module = format!("fastops{suffix}");
    support::run(
        Process::new(gcc)
            .args(["-shared", "-fPIC", "-o", &module, "fastops.c"])
            .arg(format!("-I{include}"))
            .current_dir(root),
    );
    std::fs::write(
        root.join("app.py"),
        "import fastops\n\nprint(fastops.add(1, 2))\n",
    )
    .unwrap();
    let ran = support::run(Process::new(&python).arg("app.py").current_dir(root));
    assert_eq!(String::from_utf8_lossy(&ran.stdout).trim(), "3");

    let report = lock(root, &support::fixture("site-submodules"));
    assert_eq!(modules(&report, "unresolved"), Vec::<String>::new());
    assert_eq!(report["orphans"][0]["module"], "fastops");
    assert_eq!(report["orphans"][0]["class"], "binary_local");
    let warnings = diagnostics(&report, "binary-local-module");
    assert_eq!(warnings.len(), 1);
    assert!(warnings[0]["message"].as_str().unwrap().contains(&module));
}

// The project-file wording of `unresolved-import` must still be settled by configuration.
#[test]
fn a_configured_class_settles_an_import_of_a_project_file_off_the_path() {
    let project = support::copy_fixture("script-siblings");
    std::fs::write(
        project.path().join("pyproject.toml"),
        "[tool.envscan]\nclasses = { quantlib = \"binary_local\" }\n",
    )
    .unwrap();
    let report = lock(project.path(), &support::fixture("site-submodules"));
    assert_eq!(modules(&report, "unresolved"), Vec::<&str>::new());
    assert_eq!(
        diagnostics(&report, "unresolved-import"),
        Vec::<&Value>::new()
    );
}

#[test]
fn the_scan_lists_the_projects_compiled_modules_among_its_own() {
    let output = Command::cargo_bin("envscan")
        .unwrap()
        .args(["scan", "--format", "json"])
        .arg(support::fixture("local-extension"))
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let compiled: Vec<(&str, &str)> = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["compiled"] == true)
        .map(|m| (m["name"].as_str().unwrap(), m["file"].as_str().unwrap()))
        .collect();
    assert_eq!(
        compiled,
        [
            ("fastops", "fastops.cpython-311-x86_64-linux-gnu.so"),
            ("pkg._speed", "pkg/_speed.abi3.so"),
            ("plainext", "plainext.so"),
            ("winmod", "winmod.pyd"),
        ]
    );
    let classes: Vec<&str> = report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["class"].as_str().unwrap())
        .collect();
    assert!(classes.iter().all(|c| *c == "local"), "{classes:?}");
}
