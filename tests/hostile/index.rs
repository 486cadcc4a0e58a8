//! Package indexes that misbehave, from a 127.0.0.1 server the tests start: each case runs
//! `envscan lock` against it for a venv holding `six 1.16.0` and checks that the run ends by
//! itself, within rlimits, with the index URL named in the error and no credential anywhere.

use std::path::PathBuf;
use std::time::Duration;

use super::harness::*;
use super::index_support::{Reply, Server};

const USER: &str = "alice";
const PASSWORD: &str = "hunter2-s3cret";

const SIX_PAGE: &str = r#"{"meta": {"api-version": "1.0"}, "name": "six", "files": [
  {"filename": "six-1.16.0-py2.py3-none-any.whl",
   "url": "https://files.example/six-1.16.0-py2.py3-none-any.whl",
   "hashes": {"sha256": "8abb2f1d86890a2dfb989f9a77cfcfd3e47c2a354b01111771326f8aa26e0254"}}]}"#;

/// A sandbox whose venv holds `six 1.16.0` (pip), imported by `main.py`.
fn project() -> (Sandbox, PathBuf) {
    let sb = Sandbox::new();
    sb.write("main.py", "import six\n");
    let venv = sb.venv();
    let folder = sb.site_packages().join("six-1.16.0.dist-info");
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(
        folder.join("METADATA"),
        "Metadata-Version: 2.1\nName: six\nVersion: 1.16.0\n",
    )
    .unwrap();
    std::fs::write(folder.join("RECORD"), "six.py,,\n").unwrap();
    std::fs::write(folder.join("INSTALLER"), "pip\n").unwrap();
    std::fs::write(sb.site_packages().join("six.py"), "").unwrap();
    (sb, venv)
}

/// `envscan lock` against `index` (credentials added), with `env` set, under the default
/// rlimits; short deadlines so a stalling server costs seconds.
fn lock(sb: &Sandbox, venv: &std::path::Path, index: &str, env: &[(&str, &str)]) -> Outcome {
    let mut cmd = sb.command(&[
        "lock",
        "--python",
        venv.to_str().unwrap(),
        "--index-url",
        index,
    ]);
    cmd.env("ENVSCAN_INDEX_REQUEST_DEADLINE", "2")
        .env("ENVSCAN_INDEX_BUDGET", "8");
    for (key, value) in env {
        cmd.env(key, value);
    }
    sb.run_limited(cmd, Limits::default())
}

fn with_credentials(server: &Server) -> String {
    format!(
        "http://{USER}:{PASSWORD}@127.0.0.1:{}/simple/",
        server.port()
    )
}

/// Invariant for failing indexes: exit 2, the index named, no credential in any output,
/// and no lock (nothing partial) written.
fn assert_fails_cleanly(sb: &Sandbox, out: &Outcome, server: &Server) {
    out.assert_exit(2)
        .assert_never_says(PASSWORD)
        .assert_never_says(&format!("{USER}:"));
    out.assert_stderr_contains(&format!("127.0.0.1:{}", server.port()));
    assert!(!sb.project.join("pylock.envscan.toml").exists(), "{out}");
    assert_no_secret_under(&sb.project, PASSWORD);
    sb.assert_outside_unchanged();
}

#[test]
fn an_index_that_drips_one_byte_at_a_time_is_cut_off_by_the_request_deadline() {
    // Regression (defect 14): a byte every 5 s never tripped the read timeout and stalled
    // lock 200 s per attempt. Now each attempt ends at the deadline; the run at its budget.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(SIX_PAGE).dripping(Duration::from_millis(400)),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
    out.assert_stderr_contains("deadline");
}

#[test]
fn the_run_budget_bounds_all_retries_of_a_dripping_index() {
    // Invariant: with a deadline longer than the budget, the budget ends the run and says so.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(SIX_PAGE).dripping(Duration::from_millis(300)),
    );
    let out = lock(
        &sb,
        &venv,
        &with_credentials(&server),
        &[
            ("ENVSCAN_INDEX_REQUEST_DEADLINE", "30"),
            ("ENVSCAN_INDEX_BUDGET", "2"),
        ],
    );
    assert_fails_cleanly(&sb, &out, &server);
    assert!(server.hits("/simple/six/") <= 2, "retried past the budget");
}

#[test]
fn an_index_that_hangs_after_the_headers_is_cut_off_by_the_deadline() {
    // Invariant: headers then silence; no read ever returns, the deadline still ends it.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(SIX_PAGE).stalling_after_headers(Duration::from_secs(60)),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn an_index_that_never_answers_is_cut_off_by_the_deadline() {
    // Invariant: no status line at all within the deadline is an error naming the index.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(SIX_PAGE).delayed(Duration::from_secs(60)),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn an_index_that_resets_every_connection_fails_after_bounded_retries() {
    // Invariant: connection closed without a reply: retried, then an error naming the index.
    let (sb, venv) = project();
    let server = Server::start();
    server.always("/simple/six/", Reply::reset());
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
    assert!(server.hits("/simple/six/") <= 4);
}

#[test]
fn truncated_json_from_the_index_is_an_error_and_nothing_is_locked() {
    // Invariant: a body cut short of its Content-Length is retried and then fails cleanly.
    let (sb, venv) = project();
    let server = Server::start();
    server.always("/simple/six/", Reply::json(SIX_PAGE).cut_at(40));
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn a_wrong_content_type_from_the_index_is_refused() {
    // Invariant: `application/octet-stream` is neither PEP 691 nor PEP 503.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::body("application/octet-stream", SIX_PAGE),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn an_html_login_page_instead_of_the_index_is_refused() {
    // Invariant: a proxy's login form is not taken for "no files".
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::html(
            "<html><body><form action=/login><input type=password name=p></form></body></html>",
        ),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn a_redirect_loop_ends_with_an_error() {
    // Invariant: /simple/six/ -> /loop/ -> /simple/six/ ... ends at reqwest's redirect limit.
    let (sb, venv) = project();
    let server = Server::start();
    let back = server.url("/simple/six/");
    let forth = server.url("/loop/");
    server.always(
        "/simple/six/",
        Reply::status(302).header("Location", &forth),
    );
    server.always("/loop/", Reply::status(302).header("Location", &back));
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    out.assert_exit(2).assert_never_says(PASSWORD);
    assert!(
        server.total_hits() < 100,
        "{} requests",
        server.total_hits()
    );
}

#[test]
fn a_redirect_to_another_host_never_forwards_the_credentials() {
    // Invariant: the index's basic-auth header goes to the index host only.
    let (sb, venv) = project();
    let index = Server::start();
    let other = Server::start();
    other.always("/simple/six/", Reply::json(SIX_PAGE));
    // `localhost` is another host than `127.0.0.1` for the redirect rules.
    index.always(
        "/simple/six/",
        Reply::status(302).header(
            "Location",
            &format!("http://localhost:{}/simple/six/", other.port()),
        ),
    );
    let out = lock(&sb, &venv, &with_credentials(&index), &[]);
    out.assert_no_panic().assert_never_says(PASSWORD);
    assert!(index.requests()[0].header("authorization").is_some());
    for request in other.requests() {
        assert_eq!(
            request.header("authorization"),
            None,
            "credentials forwarded"
        );
    }
    assert_no_secret_under(&sb.project, PASSWORD);
}

#[test]
fn a_huge_declared_page_is_refused_before_it_is_read() {
    // Regression (defect 15): a 200 MB page cost 2.5 GB. A Content-Length over the cap is
    // refused at once; under a 1 GiB RLIMIT_AS the run ends by itself naming the URL.
    let (sb, venv) = project();
    let server = Server::start();
    server.always("/simple/six/", Reply::json("").filler(200 << 20, true));
    let mut cmd = sb.command(&[
        "lock",
        "--python",
        venv.to_str().unwrap(),
        "--index-url",
        &server.url("/simple/"),
    ]);
    cmd.env("ENVSCAN_INDEX_MAX_PAGE_BYTES", "1048576");
    let out = sb.run_limited(
        cmd,
        Limits {
            address_space: 1 << 30,
            ..Limits::default()
        },
    );
    out.assert_exit(2);
    out.assert_stderr_contains("larger than");
    out.assert_stderr_contains(&server.url("/simple/six/"));
}

#[test]
fn a_huge_page_without_content_length_is_cut_off_while_it_streams() {
    // Invariant: no length announced, 200 MB sent: reading stops at the cap, memory stays
    // under a 1 GiB RLIMIT_AS, the error names the URL.
    let (sb, venv) = project();
    let server = Server::start();
    server.always("/simple/six/", Reply::json("").filler(200 << 20, false));
    let mut cmd = sb.command(&[
        "lock",
        "--python",
        venv.to_str().unwrap(),
        "--index-url",
        &server.url("/simple/"),
    ]);
    cmd.env("ENVSCAN_INDEX_MAX_PAGE_BYTES", "1048576");
    let out = sb.run_limited(
        cmd,
        Limits {
            address_space: 1 << 30,
            ..Limits::default()
        },
    );
    out.assert_exit(2);
    out.assert_stderr_contains("larger than");
}

#[test]
fn a_429_storm_ends_after_bounded_retries_naming_the_index() {
    // Invariant: 429 with a huge Retry-After forever: waits are capped, retries bounded.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::status(429).header("Retry-After", "86400"),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
    assert!(server.hits("/simple/six/") <= 4);
}

#[test]
fn a_500_storm_ends_after_bounded_retries_naming_the_index() {
    // Invariant: HTTP 500 forever: four attempts, then exit 2 with the status.
    let (sb, venv) = project();
    let server = Server::start();
    server.always("/simple/six/", Reply::status(500));
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
    out.assert_stderr_contains("500");
}

#[test]
fn hashes_that_are_not_hex_sha256_never_reach_the_lock() {
    // Invariant: a file whose sha256 is not 64 hex digits is not written as a lock hash.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(
            r#"{"meta": {"api-version": "1.0"}, "name": "six", "files": [
          {"filename": "six-1.16.0-py2.py3-none-any.whl",
           "url": "https://files.example/six.whl",
           "hashes": {"sha256": "\"]\nevil = true\n#"}}]}"#,
        ),
    );
    let out = lock(&sb, &venv, &server.url("/simple/"), &[]);
    out.assert_no_panic();
    if let Ok(lock) = std::fs::read_to_string(sb.project.join("pylock.envscan.toml")) {
        assert!(!lock.contains("evil = true"), "{lock}");
        lock.parse::<toml::Table>().expect("the lock is valid TOML");
    }
}

#[test]
fn relative_file_urls_escaping_the_index_are_resolved_not_trusted_blindly() {
    // Invariant: `../../../../etc/passwd` and `file:///etc/passwd` file URLs never make
    // envscan read a local file, and the run ends by itself.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(
            r#"{"meta": {"api-version": "1.0"}, "name": "six", "files": [
          {"filename": "six-1.16.0-py2.py3-none-any.whl", "url": "../../../../etc/passwd", "hashes": {}},
          {"filename": "six-1.16.0.tar.gz", "url": "file:///etc/passwd", "hashes": {}}]}"#,
        ),
    );
    let out = lock(&sb, &venv, &server.url("/simple/"), &[]);
    out.assert_no_panic().assert_never_says("root:x:0:0");
    assert_no_secret_under(&sb.project, "root:x:0:0");
}

#[test]
fn a_non_utf8_json_body_is_refused_naming_the_url() {
    // Invariant: invalid UTF-8 in a JSON page is an invalid response, not a panic.
    let (sb, venv) = project();
    let server = Server::start();
    let mut body =
        br#"{"meta": {"api-version": "1.0"}, "name": "six\xff\xfe", "files": []}"#.to_vec();
    body.extend_from_slice(&[0xc3, 0x28]);
    server.always("/simple/six/", Reply::json(body));
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn a_non_utf8_html_body_does_not_panic() {
    // Invariant: Latin-1 bytes in a PEP 503 page are handled (read lossily or refused).
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::html(
            b"<!DOCTYPE html><html><body><a href=\"/f/six-1.16.0.tar.gz\">six-1.16.0.tar.gz\xe9\xff</a></body></html>"
                .to_vec(),
        ),
    );
    lock(&sb, &venv, &server.url("/simple/"), &[]).assert_no_panic();
}

#[test]
fn json_nested_ten_thousand_deep_is_refused_without_overflowing_the_stack() {
    // Invariant: serde_json's recursion limit turns a deep page into an error.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(format!(
            r#"{{"meta": {{"api-version": "1.0"}}, "files": {}{}}}"#,
            "[".repeat(10_000),
            "]".repeat(10_000)
        )),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn an_unsupported_api_major_version_is_refused() {
    // Invariant: PEP 691 says to refuse a major version it does not know.
    let (sb, venv) = project();
    let server = Server::start();
    server.always(
        "/simple/six/",
        Reply::json(r#"{"meta": {"api-version": "99.0"}, "name": "six", "files": []}"#),
    );
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    assert_fails_cleanly(&sb, &out, &server);
}

#[test]
fn credentials_in_the_index_url_never_reach_any_output_when_the_index_is_good() {
    // Invariant: a working private index: the lock and reports carry the URL without them.
    let (sb, venv) = project();
    let server = Server::start();
    server.always("/simple/six/", Reply::json(SIX_PAGE));
    let out = lock(&sb, &venv, &with_credentials(&server), &[]);
    out.assert_exit(0).assert_never_says(PASSWORD);
    assert!(sb.project.join("pylock.envscan.toml").is_file());
    assert_no_secret_under(&sb.project, PASSWORD);
    assert_no_secret_under(&sb.cache, PASSWORD);
}

#[test]
fn an_index_url_whose_password_holds_an_unencoded_hash_is_never_echoed() {
    // Regression (defect 11): the parse error quoted the URL with its password.
    let (sb, venv) = project();
    let out = sb.run(&[
        "lock",
        "--python",
        venv.to_str().unwrap(),
        "--index-url",
        "https://alice:pa#ss99word@idx.example/simple/",
    ]);
    out.assert_exit(2).assert_never_says("ss99word");
    out.assert_stderr_contains("--index-url");
    out.assert_stderr_contains("****");
}

#[test]
fn an_index_url_whose_password_holds_an_unencoded_slash_is_never_echoed() {
    // Regression (defect 11): `/` in the password, given by PIP_INDEX_URL.
    let (sb, venv) = project();
    let mut cmd = sb.command(&["lock", "--python", venv.to_str().unwrap()]);
    cmd.env(
        "PIP_INDEX_URL",
        "https://alice:pa/ss99word@idx.example/simple/",
    );
    let out = sb.run_limited(cmd, Limits::default());
    out.assert_exit(2).assert_never_says("ss99word");
    out.assert_stderr_contains("PIP_INDEX_URL");
}

#[test]
fn pip_config_file_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Regression (defect 12): PIP_CONFIG_FILE as a FIFO hung forever.
    let (sb, venv) = project();
    let conf = sb.root.join("pip.conf");
    let status = std::process::Command::new("mkfifo")
        .arg(&conf)
        .status()
        .unwrap();
    assert!(status.success());
    let mut cmd = sb.command(&["lock", "--python", venv.to_str().unwrap(), "--offline"]);
    cmd.env("PIP_CONFIG_FILE", &conf);
    let out = sb.run_limited(cmd, Limits::default());
    out.assert_exit(0);
    out.assert_stderr_contains("index-config-unreadable");
    out.assert_stderr_contains(&conf.display().to_string());
}

#[test]
fn pip_config_file_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Regression (defect 12): PIP_CONFIG_FILE -> /dev/zero read about 4 GB.
    let (sb, venv) = project();
    let conf = sb.root.join("pip.conf");
    std::os::unix::fs::symlink("/dev/zero", &conf).unwrap();
    let mut cmd = sb.command(&["lock", "--python", venv.to_str().unwrap(), "--offline"]);
    cmd.env("PIP_CONFIG_FILE", &conf);
    let out = sb.run_limited(
        cmd,
        Limits {
            address_space: 1 << 30,
            ..Limits::default()
        },
    );
    out.assert_exit(0);
    out.assert_stderr_contains("index-config-unreadable");
}

#[test]
fn netrc_linked_to_dev_zero_is_a_diagnostic_not_an_endless_read() {
    // Regression (defect 12): NETRC -> /dev/zero read about 4 GB.
    let (sb, venv) = project();
    let netrc = sb.home.join(".netrc");
    std::os::unix::fs::symlink("/dev/zero", &netrc).unwrap();
    let out = sb.run_limited(
        sb.command(&["lock", "--python", venv.to_str().unwrap(), "--offline"]),
        Limits {
            address_space: 1 << 30,
            ..Limits::default()
        },
    );
    out.assert_exit(0);
    out.assert_stderr_contains(&netrc.display().to_string());
}

#[test]
fn netrc_that_is_a_fifo_is_a_diagnostic_not_a_hang() {
    // Regression (defect 12): a FIFO as NETRC hung forever.
    let (sb, venv) = project();
    let netrc = sb.root.join("netrc");
    let status = std::process::Command::new("mkfifo")
        .arg(&netrc)
        .status()
        .unwrap();
    assert!(status.success());
    let mut cmd = sb.command(&["lock", "--python", venv.to_str().unwrap(), "--offline"]);
    cmd.env("NETRC", &netrc);
    let out = sb.run_limited(cmd, Limits::default());
    out.assert_exit(0);
    out.assert_stderr_contains("index-config-unreadable");
}

#[test]
fn netrc_password_for_the_index_never_reaches_any_output_when_the_index_fails() {
    // Invariant: credentials from netrc are not in the error of a 500 storm.
    let (sb, venv) = project();
    let server = Server::start();
    server.always("/simple/six/", Reply::status(500));
    std::fs::write(
        sb.home.join(".netrc"),
        format!("machine 127.0.0.1 login {USER} password {PASSWORD}\n"),
    )
    .unwrap();
    let out = lock(&sb, &venv, &server.url("/simple/"), &[]);
    assert_fails_cleanly(&sb, &out, &server);
    assert!(server.requests()[0].header("authorization").is_some());
}
