//! Plugins that hosts load by entry-point group, and the plugins pytest's configuration asks
//! for, against fixtures/pytest-plugins (issue 12 points 1, 2 and 7). Reproduces cookiecutter
//! 2.6.0 (tests/real_projects.rs): its tests use pytest-mock's `mocker` fixture and its
//! configuration passes `--cov`, but no import names pytest-mock or pytest-cov, so the lock
//! left both out and `envscan explain pytest-mock` said only that nothing imported it.

mod support;

use std::path::Path;

use serde_json::Value;

fn envscan_json(dir: &Path, args: &[&str]) -> Value {
    let out = support::envscan()
        .args(args)
        .args(["--format", "json", "--offline", "--python"])
        .arg(dir.join("venv"))
        .arg("--cache-dir")
        .arg(dir.join("cache"))
        .arg(dir.join("project"))
        .output()
        .unwrap();
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stderr)))
}

fn lock(dir: &Path) -> Value {
    envscan_json(dir, &["lock", "--check"])
}

fn explain(dir: &Path, name: &str) -> Value {
    envscan_json(dir, &["explain", name])
}

fn package<'a>(report: &'a Value, name: &str) -> Option<&'a Value> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
}

fn names(report: &Value) -> Vec<&str> {
    report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect()
}

fn strings(value: &Value) -> Vec<&str> {
    value
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default()
}

fn with_tool_config(dir: &Path, tool: &str) {
    let path = dir.join("project/pyproject.toml");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(path, format!("{text}\n[tool.envscan]\n{tool}")).unwrap();
}

#[test]
fn pytest_plugins_are_locked_with_their_reasons_and_a_disabled_one_is_not() {
    let dir = support::copy_fixture("pytest-plugins");
    let report = lock(dir.path());
    support::assert_valid("lock.schema.json", &report);
    // pytest-randomly is disabled by `-p no:randomly`; Flask-Migrate's host is not needed; the
    // plugin of a host only the configuration could name (iniconfig) is not loaded by default.
    assert_eq!(
        names(&report),
        [
            "coverage",
            "iniconfig",
            "pluggy",
            "pytest",
            "pytest-cov",
            "pytest-mock"
        ]
    );
    let mock = package(&report, "pytest-mock").unwrap();
    assert_eq!(
        strings(&mock["plugin_of"]),
        ["plugin of pytest via entry point group pytest11"]
    );
    let cov = package(&report, "pytest-cov").unwrap();
    assert_eq!(
        strings(&cov["plugin_of"]),
        [
            "plugin of pytest via entry point group pytest11",
            "plugin of pytest: pyproject.toml passes --cov, an option it registers",
            "plugin of pytest: pyproject.toml passes --cov-report, an option it registers",
        ]
    );
    // The plugin's own requirements come too (the closure is taken again).
    let coverage = package(&report, "coverage").unwrap();
    assert_eq!(coverage["required_by"][0]["name"], "pytest-cov");
    // `-r` (of `-ra`) is pytest's own: no warning about unknown options.
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|d| d["code"].as_str())
        .collect();
    assert!(!codes.contains(&"pytest-option-unknown"), "{codes:?}");
}

#[test]
fn explain_says_why_a_plugin_is_in_and_what_would_pull_in_one_that_is_out() {
    let dir = support::copy_fixture("pytest-plugins");
    let mock = explain(dir.path(), "pytest-mock");
    support::assert_valid("explain.schema.json", &mock);
    assert_eq!(
        strings(&mock["plugin_of"]),
        ["plugin of pytest via entry point group pytest11"]
    );
    let coverage = explain(dir.path(), "coverage");
    let chains: Vec<Vec<&str>> = coverage["requirement_chains"]
        .as_array()
        .unwrap()
        .iter()
        .map(strings)
        .collect();
    assert_eq!(
        chains,
        [[
            "pytest-cov: plugin of pytest via entry point group pytest11",
            "pytest-cov 5.0.0 requires coverage[toml]>=5.2.1",
        ]]
    );
    let randomly = explain(dir.path(), "pytest-randomly");
    assert!(
        randomly["verdict"]
            .as_str()
            .unwrap()
            .starts_with("not locked")
    );
    assert_eq!(
        strings(&randomly["would_pull_in"]),
        [
            "entry point group pytest11, which pytest loads and pytest is needed, but pytest's \
             configuration disables it (-p no:randomly)"
        ]
    );
    let migrate = explain(dir.path(), "flask-migrate");
    assert_eq!(
        strings(&migrate["would_pull_in"]),
        ["entry point group flask.commands, which flask loads, once flask is needed (it is not)"]
    );
    let extra = explain(dir.path(), "iniconfig-extra");
    let lines = strings(&extra["would_pull_in"]);
    assert!(
        lines[0].starts_with("entry point group iniconfig.plugins, which no known host loads"),
        "{lines:?}"
    );
}

#[test]
fn ignore_leaves_a_plugin_out_and_entry_point_groups_add_a_host() {
    let dir = support::copy_fixture("pytest-plugins");
    with_tool_config(
        dir.path(),
        "ignore = [\"pytest_mock\"]\nentry-point-groups = { iniconfig = [\"iniconfig.plugins\"] }\n",
    );
    let report = lock(dir.path());
    let locked = names(&report);
    assert!(!locked.contains(&"pytest-mock"), "{locked:?}");
    let extra = package(&report, "iniconfig-extra")
        .unwrap_or_else(|| panic!("iniconfig-extra not locked: {locked:?}"));
    assert_eq!(
        strings(&extra["plugin_of"]),
        ["plugin of iniconfig via entry point group iniconfig.plugins"]
    );
    let mock = explain(dir.path(), "pytest-mock");
    assert_eq!(
        strings(&mock["would_pull_in"])[0],
        "entry point group pytest11, which pytest loads and pytest is needed, but \
         [tool.envscan] ignore lists `pytest_mock`"
    );
}

#[test]
fn an_option_no_plugin_registers_and_a_missing_required_plugin_are_warnings() {
    let dir = support::copy_fixture("pytest-plugins");
    std::fs::write(
        dir.path().join("project/pytest.ini"),
        "[pytest]\naddopts = -n 4 --cov\nrequired_plugins = pytest-xdist>=3 pytest-mock\n",
    )
    .unwrap();
    let report = lock(dir.path());
    let messages: Vec<(&str, &str, &str)> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"].as_str().is_some_and(|c| c.starts_with("pytest-")))
        .map(|d| {
            (
                d["code"].as_str().unwrap(),
                d["file"].as_str().unwrap(),
                d["message"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        messages,
        [
            (
                "pytest-option-unknown",
                "pytest.ini",
                "`-n` in pytest's addopts is registered by neither pytest nor an installed \
                 plugin; pytest stops with \"unrecognized arguments\""
            ),
            (
                "pytest-plugin-missing",
                "pytest.ini",
                "pytest's required_plugins names `pytest-xdist>=3`, which is not installed; \
                 pytest stops with \"Missing required plugins\""
            ),
        ]
    );
    // pytest.ini wins over pyproject.toml: `-p no:randomly` no longer applies.
    let locked = names(&report);
    assert!(locked.contains(&"pytest-randomly"), "{locked:?}");
    let mock = package(&report, "pytest-mock").unwrap();
    assert!(
        strings(&mock["plugin_of"])
            .contains(&"plugin of pytest: pytest.ini requires pytest-mock (required_plugins)")
    );
}
