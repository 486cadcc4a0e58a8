//! Modules named in strings that Python imports (issue 12 point 3), checked against real
//! CPython and real pytest on `fixtures/modules-in-strings`: every target module there writes
//! its `__spec__.name` to `$MODULES_IN_STRINGS_LOG` when it runs, so running the fixture's
//! calls shows which modules the interpreter really ran; `envscan scan` must name exactly
//! those, each as a `dynamic` site carrying the call it came from.

mod support;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// Each site with a `call`: (file, module, member, call, entry_point_group).
type Named = (String, String, Option<String>, String, Option<String>);

fn scan(root: &Path) -> Value {
    let output = support::envscan()
        .args(["scan", "--format", "json"])
        .arg(root)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

fn named(report: &Value) -> Vec<Named> {
    let text = |v: &Value| v.as_str().map(str::to_string);
    report["imports"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s.get("call").is_some())
        .map(|s| {
            let contexts: Vec<&str> = s["context"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(Value::as_str)
                .collect();
            assert!(contexts.contains(&"dynamic"), "{s}");
            (
                text(&s["file"]).unwrap(),
                text(&s["module"]).unwrap(),
                text(&s["member"]),
                text(&s["call"]).unwrap(),
                text(&s["entry_point_group"]),
            )
        })
        .collect()
}

/// Module names the fixture's targets logged, with `X.__main__` (what `-m X` runs for a
/// package) read as `X`.
fn logged(log: &Path) -> BTreeSet<String> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|l| l.strip_suffix(".__main__").unwrap_or(l).to_string())
        .collect()
}

/// A folder on PATH holding the test's `python3`, for the commands a shell runs.
fn path_with(python: &Path) -> std::ffi::OsString {
    let mut dirs = vec![python.parent().unwrap().to_path_buf()];
    dirs.extend(std::env::split_paths(&std::env::var_os("PATH").unwrap()));
    std::env::join_paths(dirs).unwrap()
}

#[test]
fn modules_run_with_dash_m_runpy_and_resolve_name_are_the_ones_cpython_runs() {
    let Some(python) = support::which_python() else {
        return;
    };
    let project = support::copy_fixture("modules-in-strings");
    let root = project.path();
    let log = root.join("ran.log");
    support::run(
        Command::new(&python)
            .arg("run_all.py")
            .current_dir(root)
            .env("MODULES_IN_STRINGS_LOG", &log)
            .env("PATH", path_with(&python)),
    );
    let ran = logged(&log);
    assert_eq!(ran.len(), 9, "{ran:?}");

    let report = scan(root);
    let sites: Vec<Named> = named(&report)
        .into_iter()
        .filter(|s| s.0 == "run_all.py" && s.4.is_none())
        .collect();
    let found: BTreeSet<String> = sites.iter().map(|s| s.1.clone()).collect();
    assert_eq!(found, ran, "{sites:#?}");

    // `-m X` and `runpy.run_module("X")` run `X.__main__` when X is a package: the site says
    // so, and the graph follows it to the project's own jobs/packaged/__main__.py.
    for (_, module, member, call, _) in &sites {
        let expect_main = module.starts_with("jobs.");
        assert_eq!(
            member.as_deref() == Some("__main__"),
            expect_main,
            "{module} {call}"
        );
    }
    let calls: BTreeSet<&str> = sites.iter().map(|s| s.3.as_str()).collect();
    assert_eq!(
        calls,
        BTreeSet::from([
            "os.system",
            "pkgutil.resolve_name",
            "runpy.run_module",
            "subprocess.check_call",
            "subprocess.run",
            "sys.executable argv",
        ])
    );
    let modules: Vec<&str> = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["name"].as_str())
        .collect();
    assert!(modules.contains(&"jobs.packaged.__main__"), "{modules:?}");

    // What the function that is never called holds: a script, `-c` code, a string without a
    // shell and a variable. Only the variable is worth a word.
    let warnings: Vec<(u64, &str)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| (d["line"].as_u64().unwrap(), d["code"].as_str().unwrap()))
        .collect();
    assert_eq!(warnings, [(28, "dynamic-import-not-literal")]);
}

#[test]
fn an_entry_point_group_the_code_loads_is_recorded_on_its_site() {
    let project = support::copy_fixture("modules-in-strings");
    let sites = named(&scan(project.path()));
    let groups: Vec<&Named> = sites.iter().filter(|s| s.4.is_some()).collect();
    assert_eq!(
        groups,
        [&(
            "run_all.py".to_string(),
            "importlib.metadata".to_string(),
            None,
            "importlib.metadata.entry_points".to_string(),
            Some("modules_in_strings.plugins".to_string()),
        )]
    );
}

#[test]
fn app_strings_and_celery_includes_name_modules_python_imports() {
    let Some(python) = support::which_python() else {
        return;
    };
    let project = support::copy_fixture("modules-in-strings");
    let root = project.path();
    let sites: Vec<(String, String, String)> = named(&scan(root))
        .into_iter()
        .filter(|s| s.0 != "run_all.py" && s.0 != "conftest.py")
        .map(|s| (s.0, s.1, s.3))
        .collect();
    let expected = [
        ("gunicorn.conf.py", "apps.wsgi", "gunicorn wsgi_app"),
        ("serve.py", "apps.tasks", "celery.Celery"),
        ("serve.py", "apps.wsgi", "subprocess.Popen"),
        ("serve.py", "apps.asgi", "uvicorn.run"),
    ]
    .map(|(f, m, c)| (f.to_string(), m.to_string(), c.to_string()));
    assert_eq!(sites, expected);
    // uvicorn, gunicorn and celery are not installed here; the `module:attribute` strings
    // follow the format `pkgutil.resolve_name` reads, so real CPython resolves each of them.
    let log = root.join("ran.log");
    support::run(
        Command::new(&python)
            .args([
                "-c",
                "import pkgutil, sys\nfor s in sys.argv[1:]: pkgutil.resolve_name(s)",
                "apps.wsgi:application",
                "apps.asgi:app",
                "apps.tasks",
            ])
            .current_dir(root)
            .env("MODULES_IN_STRINGS_LOG", &log),
    );
    let found: BTreeSet<String> = sites.into_iter().map(|s| s.1).collect();
    assert_eq!(logged(&log), found);
}

/// A venv with pytest 9.2.0 made by the test tools' uv, kept under target/tmp.
fn pytest_venv(test_env: &Path) -> PathBuf {
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("modules-in-strings-pytest");
    let python = venv.join("bin/python");
    if !python.is_file() {
        let uv = test_env.join("bin/uv");
        support::run(Command::new(&uv).args(["venv", "--quiet"]).arg(&venv));
        support::run(
            Command::new(&uv)
                .args(["pip", "install", "--quiet", "--python"])
                .arg(&python)
                .args([
                    "pytest==9.2.0",
                    "pluggy==1.7.0",
                    "iniconfig==2.3.1",
                    "packaging==26.4",
                ]),
        );
    }
    python
}

#[test]
fn pytest_plugins_in_a_conftest_are_the_modules_pytest_imports() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let python = pytest_venv(&test_env);
    let project = support::copy_fixture("modules-in-strings");
    let root = project.path();
    let log = root.join("ran.log");
    // Runs the suite and prints every module pytest had imported by its end.
    let output = support::run(
        Command::new(&python)
            .args([
                "-c",
                "import sys, pytest\ncode = pytest.main(['-q', '-p', 'no:cacheprovider', 'tests'])\n\
                 print('\\n'.join(sorted(sys.modules)))\nsys.exit(code)",
            ])
            .current_dir(root)
            .env("MODULES_IN_STRINGS_LOG", &log),
    );
    let imported: BTreeSet<String> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .map(str::to_string)
        .collect();
    assert_eq!(
        logged(&log),
        BTreeSet::from(["plugins.fixtures".to_string()])
    );

    let sites: Vec<(String, String)> = named(&scan(root))
        .into_iter()
        .filter(|s| s.0 == "conftest.py")
        .map(|s| (s.1, s.3))
        .collect();
    assert_eq!(
        sites,
        [
            ("plugins.fixtures".to_string(), "pytest_plugins".to_string()),
            // `pytester` is pytest's own plugin: pytest imports `_pytest.pytester`.
            ("_pytest.pytester".to_string(), "pytest_plugins".to_string()),
        ]
    );
    for (module, _) in &sites {
        assert!(imported.contains(module), "pytest did not import {module}");
    }
}
