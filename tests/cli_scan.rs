//! `envscan scan` as a user runs it: exit codes, human output, JSON checked against its schema.

mod support;

use support::{assert_valid, envscan, fixture, repo};

fn scan_json(path: &std::path::Path) -> serde_json::Value {
    let output = envscan()
        .args(["scan", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    serde_json::from_slice(&output.stdout).unwrap()
}

#[test]
fn scan_of_the_example_prints_external_local_and_stdlib_names() {
    let output = envscan()
        .arg("scan")
        .arg(repo().join("examples/demo"))
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    insta::assert_snapshot!(String::from_utf8(output.stdout).unwrap());
    assert_eq!(String::from_utf8(output.stderr).unwrap(), "");
}

#[test]
fn scan_json_matches_its_schema_and_stamps_contexts() {
    let report = scan_json(&repo().join("examples/demo"));
    assert_valid("scan.schema.json", &report);
    let imports = report["imports"].as_array().unwrap();
    let find = |module: &str| {
        imports
            .iter()
            .find(|i| i["module"] == module)
            .unwrap_or_else(|| panic!("{module} not found in {imports:#?}"))
    };
    assert_eq!(
        find("orjson")["context"],
        serde_json::json!(["function", "optional"])
    );
    assert_eq!(find("orjson")["class"], "external");
    assert_eq!(
        find("collections.abc")["context"],
        serde_json::json!(["type_checking"])
    );
    assert_eq!(find("demo.fetch")["file"], "main.py");
    assert_eq!(find("requests")["file"], "src/demo/fetch.py");
    assert_eq!(find("requests")["line"], 4);
    let modules: Vec<&str> = report["modules"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["name"].as_str().unwrap())
        .collect();
    assert_eq!(modules, ["demo", "demo.fetch", "main"]);
}

#[test]
fn scan_output_is_identical_across_runs() {
    let path = fixture("imports-everywhere");
    let first = envscan()
        .args(["scan", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    let second = envscan()
        .args(["scan", "--format", "json"])
        .arg(&path)
        .output()
        .unwrap();
    assert_eq!(first.stdout, second.stdout);
}

#[test]
fn bad_input_is_reported_and_the_run_goes_on() {
    let report = scan_json(&fixture("bad-input"));
    assert_valid("scan.schema.json", &report);
    let codes: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["code"].as_str().unwrap())
        .collect();
    for code in [
        "syntax-error",
        "decode-error",
        "binary-file",
        "invalid-notebook",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    // The syntax error's file still contributes the imports the parser recovered.
    assert!(
        report["imports"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["file"] == "syntax_error.py")
    );
}

#[test]
fn strict_turns_errors_into_exit_code_1() {
    envscan()
        .args(["scan", "--strict"])
        .arg(fixture("bad-input"))
        .assert()
        .code(1);
    envscan()
        .args(["scan", "--strict"])
        .arg(repo().join("examples/demo"))
        .assert()
        .code(0);
}

#[test]
fn a_missing_project_folder_is_a_usage_error() {
    let output = envscan()
        .args(["scan", "/nonexistent/envscan-test"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("/nonexistent/envscan-test"), "{stderr}");
}

#[test]
fn unknown_config_keys_are_diagnostics_not_failures() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pyproject.toml"),
        "[tool.envscan]\nexclude = []\nexcldue = [\"x\"]\n",
    )
    .unwrap();
    std::fs::write(dir.path().join("a.py"), "import os\n").unwrap();
    let output = envscan().arg("scan").arg(dir.path()).output().unwrap();
    assert_eq!(output.status.code(), Some(0));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("config-unknown-key"), "{stderr}");
    assert!(stderr.contains("excldue"), "{stderr}");
}
