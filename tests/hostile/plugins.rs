//! Plugins and pytest's configuration as hostile input: configuration files that are not
//! files or not text, entry points that name no module or a module that is no regular file.
//!
//! Invariants: nothing here stops the run or hangs it; a configuration pytest could not read
//! is a warning naming the file; the lock is still written.

use std::path::Path;

use super::config::mkfifo;
use super::env::dist;
use super::harness::*;
use super::outputs::lock;

/// A project importing pytest, with pytest and one pytest11 plugin (`entry` its entry point
/// line, `plugin.py` its module's source) installed.
fn sandbox(entry: &str, plugin: &[u8]) -> Sandbox {
    let sb = Sandbox::new();
    sb.write("main.py", "import pytest\n");
    sb.venv();
    let site = sb.site_packages();
    std::fs::create_dir_all(site.join("pytest")).unwrap();
    std::fs::write(site.join("pytest/__init__.py"), "").unwrap();
    dist(&sb, "pytest", "1.0", "", "pytest/__init__.py,,\n");
    std::fs::create_dir_all(site.join("evil_plugin")).unwrap();
    std::fs::write(site.join("evil_plugin/plugin.py"), plugin).unwrap();
    let info = dist(&sb, "evil_plugin", "1.0", "", "evil_plugin/plugin.py,,\n");
    std::fs::write(
        info.join("entry_points.txt"),
        format!("[pytest11]\n{entry}\n"),
    )
    .unwrap();
    sb
}

fn locked(sb: &Sandbox) -> String {
    std::fs::read_to_string(sb.project.join("pylock.envscan.toml")).unwrap()
}

#[test]
fn a_pytest_ini_fifo_is_skipped_without_hanging() {
    // Invariant: a FIFO is not a regular file; pytest skips it too. Exit 0, plugin locked.
    let sb = sandbox("evil = evil_plugin.plugin", b"");
    mkfifo(&sb.project.join("pytest.ini"));
    lock(&sb, &[]).assert_no_panic().assert_exit(0);
    assert!(locked(&sb).contains("evil-plugin"));
}

#[test]
fn a_pytest_ini_that_is_not_text_is_a_warning_naming_it() {
    // Invariant: pytest would stop on it; envscan warns, and still locks what the entry-point
    // group brings.
    let sb = sandbox("evil = evil_plugin.plugin", b"");
    sb.write("pytest.ini", b"[pytest]\naddopts = \xff\xfe --cov\n");
    lock(&sb, &[])
        .assert_no_panic()
        .assert_exit(0)
        .assert_stderr_contains("pytest-config-invalid");
    assert!(locked(&sb).contains("evil-plugin"));
}

#[test]
fn addopts_with_an_unclosed_quote_is_a_warning_with_the_file() {
    let sb = sandbox("evil = evil_plugin.plugin", b"");
    sb.write("setup.cfg", "[tool:pytest]\naddopts = --cov 'src\n");
    lock(&sb, &[])
        .assert_no_panic()
        .assert_exit(0)
        .assert_stderr_contains("setup.cfg");
}

#[test]
fn a_plugin_module_that_is_a_fifo_or_a_link_to_dev_zero_is_not_read() {
    // Invariant: the option registry reads only regular files: no hang, no endless read.
    let link_to_dev_zero = |p: &Path| std::os::unix::fs::symlink("/dev/zero", p).unwrap();
    for make in [mkfifo as fn(&Path), link_to_dev_zero] {
        let sb = sandbox("evil = evil_plugin.plugin", b"");
        let module = sb.site_packages().join("evil_plugin/plugin.py");
        std::fs::remove_file(&module).unwrap();
        make(&module);
        sb.write("pytest.ini", "[pytest]\naddopts = --evil\n");
        lock(&sb, &[]).assert_no_panic().assert_exit(0);
    }
}

#[test]
fn entry_point_values_that_name_no_module_are_harmless() {
    // Invariant: `../../etc/passwd`, NUL bytes and a 1 MB name are no module: nothing is read
    // outside site-packages, nothing panics.
    let long = "a".repeat(1 << 20);
    for entry in [
        "evil = ../../etc/passwd".to_string(),
        "evil = evil\0plugin:x".to_string(),
        format!("evil = {long}"),
        "[[[[".to_string(),
    ] {
        let sb = sandbox(&entry, b"");
        sb.write("pytest.ini", "[pytest]\naddopts = --evil -p ../../x\n");
        lock(&sb, &[]).assert_no_panic().assert_exit(0);
    }
}

#[test]
fn a_plugin_module_nested_beyond_the_parser_guard_does_not_abort() {
    // Invariant: the registry parses third-party code under the same depth guard and large
    // stack as the project's own files.
    let deep = format!("x = {}1{}\n", "[".repeat(20_000), "]".repeat(20_000));
    let sb = sandbox("evil = evil_plugin.plugin", deep.as_bytes());
    sb.write("pytest.ini", "[pytest]\naddopts = --evil\n");
    lock(&sb, &[]).assert_no_panic().assert_exit(0);
}
