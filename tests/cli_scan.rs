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

#[test]
fn colour_is_written_when_forced_and_no_color_wins_over_forcing() {
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = assert_cmd::Command::cargo_bin("envscan").unwrap();
        cmd.env_remove("NO_COLOR").env_remove("CLICOLOR_FORCE");
        for (key, value) in vars {
            cmd.env(key, value);
        }
        let output = cmd
            .arg("scan")
            .arg(repo().join("examples/demo"))
            .output()
            .unwrap();
        String::from_utf8(output.stdout).unwrap()
    };
    // Piped output (as here) is plain unless colour is forced.
    assert!(!run(&[]).contains('\x1b'));
    assert!(run(&[("CLICOLOR_FORCE", "1")]).contains("\x1b["));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\x1b'));
}

#[test]
fn a_reader_that_stops_early_is_not_an_error() {
    use std::io::Read;
    // `envscan scan --format json | head -c 1`: stdout closes after one byte, and the report
    // (several hundred KiB) is far larger than a pipe's buffer, so the write really fails.
    let dir = tempfile::tempdir().unwrap();
    let source: String = (0..5000).map(|i| format!("import module_{i}\n")).collect();
    std::fs::write(dir.path().join("many.py"), source).unwrap();
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_envscan"))
        .args(["scan", "--format", "json"])
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = [0u8; 1];
    child.stdout.take().unwrap().read_exact(&mut first).unwrap();
    // The pipe's read end is dropped here; the rest of the output has nowhere to go.
    let output = child.wait_with_output().unwrap();
    assert_eq!(first[0], b'{');
    assert_eq!(output.status.code(), Some(0));
    assert_eq!(String::from_utf8(output.stderr).unwrap(), "");
}
