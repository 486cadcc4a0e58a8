//! Environments pip, conda and hand edits leave broken: metadata, RECORD, .pth, direct_url,
//! pyvenv.cfg, conda-meta, entry points, INSTALLER, egg-links. Each case breaks one thing in
//! an otherwise good venv (`six` installed by pip and imported by the project) and checks that
//! envscan ends by itself, reports the broken file by path, and still does its work.

use std::path::{Path, PathBuf};

use super::harness::*;

/// A sandbox whose venv holds `six 1.16.0` (pip), imported by `main.py`.
fn with_six() -> (Sandbox, PathBuf) {
    let sb = Sandbox::new();
    sb.write("main.py", "import six\n");
    let venv = sb.venv();
    dist(&sb, "six", "1.16.0", "", "six.py,,\n");
    std::fs::write(sb.site_packages().join("six.py"), "").unwrap();
    (sb, venv)
}

/// A `name-version.dist-info` with METADATA (plus `extra` header lines), RECORD, INSTALLER.
pub(super) fn dist(sb: &Sandbox, name: &str, version: &str, extra: &str, record: &str) -> PathBuf {
    let folder = sb
        .site_packages()
        .join(format!("{name}-{version}.dist-info"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("METADATA"),
        format!("Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{extra}\n"),
    )
    .unwrap();
    std::fs::write(folder.join("RECORD"), record).unwrap();
    std::fs::write(folder.join("INSTALLER"), "pip\n").unwrap();
    folder
}

fn env_json(sb: &Sandbox, venv: &Path) -> Outcome {
    sb.run(&[
        "env",
        "--python",
        venv.to_str().unwrap(),
        "--format",
        "json",
    ])
}

fn lock_offline(sb: &Sandbox, venv: &Path) -> Outcome {
    sb.run(&["lock", "--python", venv.to_str().unwrap(), "--offline"])
}

fn lock_json_offline(sb: &Sandbox, venv: &Path) -> Outcome {
    sb.run(&[
        "lock",
        "--python",
        venv.to_str().unwrap(),
        "--offline",
        "--format",
        "json",
    ])
}

/// `needle` is in stdout or stderr (JSON formats carry the diagnostics on stdout).
fn assert_says(out: &Outcome, needle: &str) {
    assert!(
        out.all_output().contains(needle),
        "the output lacks {needle:?}:\n{out}"
    );
}

fn replace(path: &Path, with: impl FnOnce(&Path)) {
    let _ = std::fs::remove_file(path);
    with(path);
}

fn fifo(path: &Path) {
    let _ = std::fs::remove_file(path);
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

fn link_to_dev_zero(path: &Path) {
    replace(path, |p| {
        std::os::unix::fs::symlink("/dev/zero", p).unwrap()
    });
}

/// Invariant of every case: no panic, no hang, the lock exists (the rest was locked).
fn assert_locked(sb: &Sandbox, out: &Outcome) {
    out.assert_exit(0);
    assert!(
        sb.project.join("pylock.envscan.toml").is_file(),
        "no lock written:\n{out}"
    );
    sb.assert_outside_unchanged();
}

// ---- Requires-Dist that panicked pep508_rs (defect 3) ----

fn malformed_requires_dist(line: &str) {
    let (sb, venv) = with_six();
    // The broken distribution is installed but never imported.
    let bad = dist(
        &sb,
        "other",
        "1.0",
        &format!("Requires-Dist: {line}"),
        "other.py,,\n",
    );
    for args in [
        vec!["env"],
        vec!["lock", "--offline"],
        vec!["check", "--offline"],
        vec!["explain", "six"],
        vec!["graph"],
    ] {
        let mut full = args.clone();
        full.extend(["--python", venv.to_str().unwrap()]);
        let out = sb.run(&full);
        out.assert_no_panic();
    }
    let out = sb.run(&["env", "--python", venv.to_str().unwrap()]);
    assert_says(&out, "requirement-invalid");
    assert_says(&out, &bad.display().to_string());
}

#[test]
fn requires_dist_name_ending_in_dot_before_a_version_is_a_diagnostic_not_a_panic() {
    // Regression (defect 3): `foo. (>=1)` panicked pep508_rs (exit 101) in every command.
    malformed_requires_dist("foo. (>=1)");
}

#[test]
fn requires_dist_name_with_dot_then_non_ascii_is_a_diagnostic_not_a_panic() {
    // Regression (defect 3): `foo.é`.
    malformed_requires_dist("foo.é");
}

#[test]
fn requires_dist_name_ending_in_underscore_before_a_marker_is_a_diagnostic_not_a_panic() {
    // Regression (defect 3): `foo_ ; python_version>"3"`.
    malformed_requires_dist("foo_ ; python_version>\"3\"");
}

#[test]
fn requires_dist_extra_ending_in_dot_is_a_diagnostic_not_a_panic() {
    // Regression (defect 3): `foo[bar.]`.
    malformed_requires_dist("foo[bar.]");
}

#[test]
fn requires_dist_marker_followed_by_non_ascii_is_a_diagnostic_not_a_panic() {
    // Regression (defect 3): `furo ; extra == 'docs'é`.
    malformed_requires_dist("furo ; extra == 'docs'é");
}

#[test]
fn requires_dist_of_an_imported_distribution_that_panics_the_parser_still_locks() {
    // Invariant: the imported distribution itself carries the bad line; lock writes the lock.
    let sb = Sandbox::new();
    sb.write("main.py", "import six\n");
    let venv = sb.venv();
    dist(
        &sb,
        "six",
        "1.16.0",
        "Requires-Dist: x[a,b.]\nRequires-Python: >=3.8,<4é",
        "six.py,,\n",
    );
    let out = lock_offline(&sb, &venv);
    assert_locked(&sb, &out);
    assert_says(&out, "requires-python-invalid");
}

// ---- Credentials in URLs of the environment (defect 4) ----

const TOKEN: &str = "ghp_s3cr3tT0ken";

fn vcs_dist_with_credentials(url: &str) -> (Sandbox, PathBuf) {
    let (sb, venv) = with_six();
    let folder = sb.site_packages().join("six-1.16.0.dist-info");
    std::fs::write(
        folder.join("direct_url.json"),
        format!(
            r#"{{"url": "{url}", "vcs_info": {{"vcs": "git", "commit_id": "0123456789abcdef0123456789abcdef01234567"}}}}"#
        ),
    )
    .unwrap();
    (sb, venv)
}

fn assert_token_nowhere(sb: &Sandbox, venv: &Path) {
    for out in [
        lock_offline(sb, venv),
        lock_json_offline(sb, venv),
        env_json(sb, venv),
        sb.run(&["explain", "six", "--python", venv.to_str().unwrap()]),
        sb.run(&["env", "--python", venv.to_str().unwrap()]),
    ] {
        out.assert_no_panic().assert_never_says(TOKEN);
    }
    assert_no_secret_under(&sb.project, TOKEN);
}

#[test]
fn vcs_url_with_user_and_token_in_direct_url_reaches_no_output() {
    // Regression (defect 4): the token reached the lock's reason, lock/env JSON and explain.
    let (sb, venv) =
        vcs_dist_with_credentials(&format!("https://user:{TOKEN}@git.example/repo.git"));
    assert_token_nowhere(&sb, &venv);
}

#[test]
fn vcs_url_with_a_token_as_user_name_reaches_no_output() {
    // Invariant: `https://TOKEN@host/` (GitHub's form) is redacted like a password.
    let (sb, venv) = vcs_dist_with_credentials(&format!("git+https://{TOKEN}@git.example/r.git"));
    assert_token_nowhere(&sb, &venv);
}

#[test]
fn archive_url_with_credentials_in_direct_url_reaches_no_output() {
    // Invariant: archive installs from a private host never show their credentials.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages().join("six-1.16.0.dist-info/direct_url.json"),
        format!(
            r#"{{"url": "https://bob:{TOKEN}@files.example/six-1.16.0.whl", "archive_info": {{"hash": "sha256=00"}}}}"#
        ),
    )
    .unwrap();
    assert_token_nowhere(&sb, &venv);
}

#[test]
fn url_with_an_unencoded_hash_in_the_password_in_direct_url_reaches_no_output() {
    // Invariant: a password with `#` (which the URL parser takes for a fragment) still goes.
    let (sb, venv) = vcs_dist_with_credentials(&format!("https://u:a#{TOKEN}@git.example/r.git"));
    assert_token_nowhere(&sb, &venv);
}

#[test]
fn conda_channel_with_a_token_path_reaches_no_output() {
    // Invariant: conda's `/t/<token>/` channel URLs and userinfo never show.
    let (sb, venv) = with_six();
    let meta = sb.root.join("venv/conda-meta");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("six-1.16.0-py_0.json"),
        format!(
            r#"{{"name": "six", "version": "1.16.0", "build": "py_0",
            "channel": "https://conda.example/t/{TOKEN}/private/noarch",
            "url": "https://u:{TOKEN}@conda.example/private/noarch/six.tar.bz2",
            "files": ["lib/python3.11/site-packages/six-1.16.0.dist-info/RECORD"]}}"#
        ),
    )
    .unwrap();
    assert_token_nowhere(&sb, &venv);
}

#[test]
fn conda_record_whose_bad_field_quotes_a_credential_url_reaches_no_output() {
    // Invariant: a JSON type error that quotes the bad value does not quote userinfo.
    let (sb, venv) = with_six();
    let meta = sb.root.join("venv/conda-meta");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("x-1-0.json"),
        format!(r#"{{"name": "x", "version": "1", "files": "https://u:{TOKEN}@h.example/"}}"#),
    )
    .unwrap();
    assert_token_nowhere(&sb, &venv);
}

#[test]
fn pth_line_holding_a_credential_url_reaches_no_output() {
    // Invariant: a `.pth` path line that is a URL with credentials is reported redacted.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages().join("evil.pth"),
        format!("https://u:{TOKEN}@h.example/x\n"),
    )
    .unwrap();
    let out = sb.run(&["env", "-v", "--python", venv.to_str().unwrap()]);
    out.assert_no_panic().assert_never_says(TOKEN);
    assert_token_nowhere(&sb, &venv);
}

#[test]
fn egg_link_holding_a_credential_url_reaches_no_output() {
    // Invariant: an egg-link whose first line is a URL with credentials is reported redacted.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages().join("x.egg-link"),
        format!("https://u:{TOKEN}@h.example/src\n.\n"),
    )
    .unwrap();
    assert_token_nowhere(&sb, &venv);
}

// ---- Bad versions (defect 7) ----

#[test]
fn one_distribution_with_a_non_pep440_version_is_a_diagnostic_and_the_rest_is_locked() {
    // Regression (defect 7): `lock` exited 2 and wrote nothing.
    let (sb, venv) = with_six();
    sb.write("main.py", "import six\nimport weird\n");
    let bad = dist(&sb, "weird", "1.0-local@build", "", "weird.py,,\n");
    std::fs::write(sb.site_packages().join("weird.py"), "").unwrap();
    let out = lock_offline(&sb, &venv);
    assert_locked(&sb, &out);
    assert_says(&out, &bad.display().to_string());
    assert_says(&out, "index-invalid-version");
}

#[test]
fn a_version_too_large_for_pep440_numbers_is_a_diagnostic_and_the_rest_is_locked() {
    // Invariant: `1.99999999999999999999999` overflows pep440_rs' u64; it is one diagnostic.
    let (sb, venv) = with_six();
    sb.write("main.py", "import six\nimport huge\n");
    dist(&sb, "huge", "1.99999999999999999999999", "", "huge.py,,\n");
    std::fs::write(sb.site_packages().join("huge.py"), "").unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn pyvenv_cfg_version_out_of_range_is_a_diagnostic_and_lock_goes_on() {
    // Regression (defect 7): `version = 3.99999999999999999999` made lock exit 2.
    let (sb, venv) = with_six();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.99999999999999999999\n",
    )
    .unwrap();
    let out = lock_offline(&sb, &venv);
    assert_locked(&sb, &out);
    assert_says(&out, "pyvenv.cfg");
}

#[test]
fn pyvenv_cfg_version_with_a_minor_over_255_is_ignored_with_a_diagnostic() {
    // Invariant: `3.300` does not fit; the lib/python3.11 folder decides, and it says so.
    let (sb, venv) = with_six();
    std::fs::write(
        venv.join("pyvenv.cfg"),
        "home = /usr/bin\nversion = 3.300\n",
    )
    .unwrap();
    let out = lock_offline(&sb, &venv);
    assert_locked(&sb, &out);
    assert_says(&out, "python-version-unknown");
}

#[test]
fn metadata_without_name_or_version_and_a_nameless_folder_does_not_stop_lock() {
    // Invariant: a `-.dist-info` folder with empty METADATA is a diagnostic.
    let (sb, venv) = with_six();
    let folder = sb.site_packages().join("-.dist-info");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("METADATA"), "\n").unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn a_distribution_name_that_is_not_a_valid_project_name_does_not_stop_lock() {
    // Invariant: `Name: ../../etc` is a diagnostic, never a path or a request.
    let (sb, venv) = with_six();
    sb.write("main.py", "import six\nimport dots\n");
    let folder = dist(&sb, "dots", "1.0", "", "dots.py,,\n");
    std::fs::write(
        folder.join("METADATA"),
        "Metadata-Version: 2.1\nName: ../../etc\nVersion: 1.0\n",
    )
    .unwrap();
    std::fs::write(sb.site_packages().join("dots.py"), "").unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

// ---- Files that are FIFOs, devices, huge or binary (defect 12, 15) ----

fn special_file_in_dist_info(file: &str, make: fn(&Path)) {
    let (sb, venv) = with_six();
    let path = sb.site_packages().join("six-1.16.0.dist-info").join(file);
    make(&path);
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert!(
        out.all_output().contains(&path.display().to_string()),
        "{file} not named:\n{out}"
    );
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn metadata_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Invariant: opening a FIFO METADATA never waits for a writer.
    special_file_in_dist_info("METADATA", fifo);
}

#[test]
fn metadata_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Invariant: METADATA -> /dev/zero is refused unread (no memory taken).
    special_file_in_dist_info("METADATA", link_to_dev_zero);
}

#[test]
fn record_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Invariant: RECORD as a FIFO is refused at once.
    special_file_in_dist_info("RECORD", fifo);
}

#[test]
fn record_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Invariant: RECORD -> /dev/zero is refused unread.
    special_file_in_dist_info("RECORD", link_to_dev_zero);
}

#[test]
fn entry_points_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Invariant: entry_points.txt as a FIFO is refused at once.
    special_file_in_dist_info("entry_points.txt", fifo);
}

#[test]
fn direct_url_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Invariant: direct_url.json -> /dev/zero is refused unread.
    special_file_in_dist_info("direct_url.json", link_to_dev_zero);
}

#[test]
fn installer_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Invariant: INSTALLER as a FIFO is refused at once.
    special_file_in_dist_info("INSTALLER", fifo);
}

#[test]
fn top_level_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Invariant: top_level.txt -> /dev/zero is refused unread.
    special_file_in_dist_info("top_level.txt", link_to_dev_zero);
}

#[test]
fn metadata_larger_than_the_cap_is_refused_without_reading_it() {
    // Invariant: a 5 GiB sparse METADATA (one endless header line) costs no memory: the
    // run stays under RLIMIT_AS and names the file.
    let (sb, venv) = with_six();
    let path = sb.site_packages().join("six-1.16.0.dist-info/METADATA");
    let file = std::fs::File::create(&path).unwrap();
    file.set_len(5 << 30).unwrap();
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert!(
        out.all_output().contains(&path.display().to_string()),
        "{out}"
    );
}

#[test]
fn record_larger_than_the_cap_is_refused_without_reading_it() {
    // Invariant: a 5 GiB sparse RECORD is refused by size, under RLIMIT_AS.
    let (sb, venv) = with_six();
    let path = sb.site_packages().join("six-1.16.0.dist-info/RECORD");
    std::fs::File::create(&path)
        .unwrap()
        .set_len(5 << 30)
        .unwrap();
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert_says(&out, "metadata-unreadable");
}

#[test]
fn binary_metadata_is_read_lossily_and_does_not_stop_lock() {
    // Invariant: METADATA of random bytes with NULs is a diagnostic at most.
    let (sb, venv) = with_six();
    let bytes: Vec<u8> = (0..4096u32)
        .map(|i| (i.wrapping_mul(2654435761) >> 24) as u8)
        .collect();
    std::fs::write(
        sb.site_packages().join("six-1.16.0.dist-info/METADATA"),
        bytes,
    )
    .unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn truncated_metadata_in_the_middle_of_a_header_does_not_stop_lock() {
    // Invariant: `Requires-Dist: a (>=` cut off is a diagnostic; the lock is written.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages().join("six-1.16.0.dist-info/METADATA"),
        "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\nRequires-Dist: a (>=",
    )
    .unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn pth_file_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Regression (defect 12): a FIFO .pth blocked the run forever.
    let (sb, venv) = with_six();
    let path = sb.site_packages().join("zz.pth");
    fifo(&path);
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert!(
        out.all_output().contains(&path.display().to_string()),
        "{out}"
    );
}

#[test]
fn pth_file_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Regression (defect 12): a .pth -> /dev/zero read gigabytes.
    let (sb, venv) = with_six();
    let path = sb.site_packages().join("zero.pth");
    link_to_dev_zero(&path);
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert_says(&out, "pth-unreadable");
}

#[test]
fn huge_pth_file_is_refused_by_size_under_the_memory_limit() {
    // Regression (defect 15): a 100 MB .pth took 40 s and 4-5 GB. Under a 1 GiB RLIMIT_AS
    // it must end by itself, naming the file.
    let (sb, venv) = with_six();
    let path = sb.site_packages().join("huge.pth");
    let line = "/nonexistent/path/that/python/skips\n";
    std::fs::write(&path, line.repeat(100 * 1024 * 1024 / line.len())).unwrap();
    let mut cmd = sb.command(&["env", "--python", venv.to_str().unwrap()]);
    cmd.arg("-v");
    let out = sb.run_limited(
        cmd,
        Limits {
            address_space: 1 << 30,
            cpu_seconds: 20,
            ..Limits::default()
        },
    );
    out.assert_exit(0);
    assert_says(&out, "huge.pth");
}

#[test]
fn pth_file_of_many_missing_paths_gives_a_bounded_number_of_diagnostics() {
    // Regression (defect 15): one diagnostic per line; now 20 and a count of the rest.
    let (sb, venv) = with_six();
    let lines: String = (0..5000).map(|i| format!("/missing/{i}\n")).collect();
    std::fs::write(sb.site_packages().join("many.pth"), lines).unwrap();
    let out = sb.run(&["env", "-v", "--python", venv.to_str().unwrap()]);
    out.assert_exit(0);
    let count = out.stderr.matches("pth-path-missing").count();
    assert!(count <= 25, "{count} diagnostics for one file");
    assert_says(&out, "4980 more");
}

#[test]
fn egg_link_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Invariant: an egg-link FIFO is refused at once.
    let (sb, venv) = with_six();
    let path = sb.site_packages().join("dev.egg-link");
    fifo(&path);
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert!(
        out.all_output().contains(&path.display().to_string()),
        "{out}"
    );
}

#[test]
fn editable_finder_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Invariant: setuptools' finder module -> /dev/zero is refused unread.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages().join("__editable__.x-1.0.pth"),
        "import __editable___x_1_0_finder; __editable___x_1_0_finder.install()\n",
    )
    .unwrap();
    link_to_dev_zero(&sb.site_packages().join("__editable___x_1_0_finder.py"));
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert_says(&out, "editable-finder-unreadable");
}

#[test]
fn pyvenv_cfg_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Regression (defect 12): pyvenv.cfg as a FIFO.
    let (sb, venv) = with_six();
    fifo(&venv.join("pyvenv.cfg"));
    let out = env_json(&sb, &venv);
    out.assert_no_panic();
    assert_says(&out, "pyvenv.cfg");
}

#[test]
fn conda_meta_record_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Invariant: conda-meta/*.json -> /dev/zero is refused unread.
    let (sb, venv) = with_six();
    let meta = venv.join("conda-meta");
    std::fs::create_dir_all(&meta).unwrap();
    link_to_dev_zero(&meta.join("python-3.11.7-h0.json"));
    link_to_dev_zero(&meta.join("six-1.16.0-py_0.json"));
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert_says(&out, "conda-meta-invalid");
}

#[test]
fn conda_meta_record_nested_ten_thousand_deep_is_a_diagnostic() {
    // Invariant: JSON nesting past serde_json's recursion limit is an error, not an overflow.
    let (sb, venv) = with_six();
    let meta = venv.join("conda-meta");
    std::fs::create_dir_all(&meta).unwrap();
    std::fs::write(
        meta.join("deep-1-0.json"),
        format!(
            r#"{{"name": "deep", "version": "1", "files": {}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        ),
    )
    .unwrap();
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert_says(&out, "conda-meta-invalid");
}

// ---- RECORD and metadata folders ----

#[test]
fn record_paths_escaping_the_prefix_are_refused_and_never_followed() {
    // Invariant: `../../../../etc/passwd` and absolute paths in RECORD are diagnostics; the
    // outside sentinel is untouched and not claimed.
    let (sb, venv) = with_six();
    let outside = sb.outside.join("sentinel.txt");
    std::fs::write(
        sb.site_packages().join("six-1.16.0.dist-info/RECORD"),
        format!(
            "six.py,,\n../../../../../outside/sentinel.txt,,\n{},,\n",
            outside.display()
        ),
    )
    .unwrap();
    let out = lock_offline(&sb, &venv);
    assert_locked(&sb, &out);
    assert!(
        !std::fs::read_to_string(sb.project.join("pylock.envscan.toml"))
            .unwrap()
            .contains("sentinel")
    );
}

#[test]
fn duplicate_dist_infos_of_one_name_pick_one_and_say_so() {
    // Invariant: two six-*.dist-info folders (a half-finished upgrade) lock one of them.
    let (sb, venv) = with_six();
    dist(&sb, "six", "1.15.0", "", "six.py,,\n");
    let out = lock_offline(&sb, &venv);
    assert_locked(&sb, &out);
}

#[test]
fn a_dist_info_that_is_a_file_not_a_folder_does_not_stop_lock() {
    // Invariant: `bogus-1.0.dist-info` as a regular file is skipped or reported.
    let (sb, venv) = with_six();
    std::fs::write(sb.site_packages().join("bogus-1.0.dist-info"), "x").unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn record_with_binary_garbage_and_unbalanced_quotes_does_not_stop_lock() {
    // Invariant: a RECORD of NULs, lone quotes and CRs is read as far as it goes.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages().join("six-1.16.0.dist-info/RECORD"),
        b"six.py,,\n\"unterminated,\x00\x01\r\n\xff\xfe,,\n,,,,,,\n\"\"\"\n".as_slice(),
    )
    .unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn entry_points_with_binary_garbage_do_not_stop_lock() {
    // Invariant: entry_points.txt of bytes that are no INI is ignored or reported.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages()
            .join("six-1.16.0.dist-info/entry_points.txt"),
        b"[\xff\x00\n= = =\n[console_scripts\nx = \n".as_slice(),
    )
    .unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn direct_url_of_hostile_json_shapes_is_a_diagnostic() {
    // Invariant: a truncated, deeply nested or wrongly typed direct_url.json is a diagnostic.
    let (sb, venv) = with_six();
    let path = sb
        .site_packages()
        .join("six-1.16.0.dist-info/direct_url.json");
    std::fs::write(
        &path,
        format!(r#"{{"url": {}1{}"#, "[".repeat(5000), "]".repeat(4000)),
    )
    .unwrap();
    let out = env_json(&sb, &venv);
    out.assert_exit(0);
    assert_says(&out, "direct-url-invalid");
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

#[test]
fn installer_of_a_megabyte_single_line_does_not_stop_lock() {
    // Invariant: an INSTALLER of 1 MiB without a newline is not a problem.
    let (sb, venv) = with_six();
    std::fs::write(
        sb.site_packages().join("six-1.16.0.dist-info/INSTALLER"),
        "p".repeat(1 << 20),
    )
    .unwrap();
    assert_locked(&sb, &lock_offline(&sb, &venv));
}

// ---- --python (defect 16) ----

#[test]
fn python_flag_naming_etc_passwd_is_refused_with_exit_2() {
    // Regression (defect 16): `--python /etc/passwd` silently used a Python at `/`.
    let sb = Sandbox::new();
    let out = sb.run(&["env", "--python", "/etc/passwd"]);
    out.assert_exit(2);
    assert_says(&out, "not a Python interpreter");
}

#[test]
fn python_flag_naming_a_non_executable_python_file_is_refused_with_exit_2() {
    // Invariant: `bin/python3` that is a plain text file is not an interpreter.
    let sb = Sandbox::new();
    let venv = sb.venv();
    std::fs::write(venv.join("bin/python3"), "#!/bin/false\n").unwrap();
    let out = sb.run(&[
        "env",
        "--python",
        venv.join("bin/python3").to_str().unwrap(),
    ]);
    out.assert_exit(2);
}

#[test]
fn python_flag_naming_dev_zero_is_refused_with_exit_2() {
    // Invariant: a device is never taken for an interpreter.
    let sb = Sandbox::new();
    sb.run(&["env", "--python", "/dev/zero"]).assert_exit(2);
}
