//! The index client against a real HTTP server on 127.0.0.1 serving recorded PEP 691 and
//! PEP 503 responses, with injected faults. Retry delays are zero (`Backoff::ZERO`) except
//! where a test checks that a wait happens.

mod index_support;

use std::path::Path;
use std::time::{Duration, Instant};

use envscan::index::{Backoff, DistKind, Found, IndexClient, IndexError, IndexSettings, Lookup};
use envscan::names::PackageName;
use index_support::{Reply, Server, basic_auth, fixture};
use url::Url;

fn settings(index: &str, cache: &Path) -> IndexSettings {
    let mut settings = IndexSettings::new(Url::parse(index).unwrap(), vec![], cache.to_path_buf());
    settings.backoff = Backoff::ZERO;
    settings.connect_timeout = Duration::from_secs(2);
    settings.read_timeout = Duration::from_secs(5);
    settings
}

fn lookup(settings: IndexSettings, wanted: &[(&str, &str)]) -> Vec<Lookup> {
    let wanted: Vec<(PackageName, String)> = wanted
        .iter()
        .map(|(name, version)| (PackageName::new(name), version.to_string()))
        .collect();
    IndexClient::new(settings).unwrap().lookup(&wanted)
}

fn one(settings: IndexSettings, name: &str, version: &str) -> Lookup {
    lookup(settings, &[(name, version)]).remove(0)
}

fn files(answer: Lookup) -> envscan::index::VersionFiles {
    match answer {
        Ok(Found::Files(files)) => files,
        other => panic!("expected files, got {other:?}"),
    }
}

fn error_text(answer: Lookup) -> String {
    match answer {
        Err(err) => err.to_string(),
        other => panic!("expected an error, got {other:?}"),
    }
}

/// Every file under `dir`, with its contents.
fn cache_files(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                out.push((path.display().to_string(), text));
            }
        }
    }
    out
}

#[test]
fn json_page_gives_the_files_of_the_exact_version_with_size_and_hash() {
    let server = Server::start();
    server.always(
        "/simple/requests/",
        Reply::json(fixture("requests.pep691.json")),
    );
    let cache = tempfile::tempdir().unwrap();
    let found = files(one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    ));
    assert_eq!(found.index, server.url("/simple/"));
    let names: Vec<&str> = found.files.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(
        names,
        ["requests-2.32.3-py3-none-any.whl", "requests-2.32.3.tar.gz"]
    );
    let wheel = &found.files[0];
    assert_eq!(wheel.size, Some(64928));
    assert_eq!(
        wheel.sha256.as_deref(),
        Some("70761cfe03c773ceb22aa2f671b4757976145175cdfca038c02654d061d6dcc6")
    );
    assert!(
        wheel
            .url
            .starts_with("https://files.pythonhosted.org/packages/")
    );
    assert!(matches!(&wheel.kind, DistKind::Wheel { tags } if tags.platform == ["any"]));
    assert_eq!(found.files[1].kind, DistKind::Sdist);
    let accept = server.requests()[0].header("accept").unwrap().to_string();
    assert!(
        accept.starts_with("application/vnd.pypi.simple.v1+json"),
        "{accept}"
    );
}

#[test]
fn html_page_is_the_fallback_with_entities_and_yanked_files() {
    let server = Server::start();
    server.always(
        "/simple/requests/",
        Reply::html(fixture("requests.pep503.html")),
    );
    let cache = tempfile::tempdir().unwrap();
    let s = settings(&server.url("/simple/"), cache.path());
    let answers = lookup(s, &[("requests", "2.32.0"), ("requests", "2.31.0")]);
    let yanked = files(answers[0].clone());
    assert!(yanked.files.iter().all(|f| f.yanked));
    assert!(yanked.files.iter().all(|f| f.size.is_none()));
    let current = files(answers[1].clone());
    assert_eq!(current.files.len(), 2);
    assert!(current.files.iter().all(|f| !f.yanked));
    assert_eq!(current.files[0].requires_python.as_deref(), Some(">=3.7"));
    assert_eq!(current.files[0].sha256.as_deref().map(str::len), Some(64));
    assert!(!current.files[0].url.contains('#'));
}

#[test]
fn server_error_then_success_is_retried() {
    let server = Server::start();
    server.sequence(
        "/simple/requests/",
        vec![
            Reply::status(500),
            Reply::status(503),
            Reply::json(fixture("requests.pep691.json")),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    files(one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    ));
    assert_eq!(server.hits("/simple/requests/"), 3);
}

#[test]
fn server_error_forever_fails_naming_the_index_and_the_status_after_every_retry() {
    let server = Server::start();
    server.always("/simple/requests/", Reply::status(500));
    let cache = tempfile::tempdir().unwrap();
    let text = error_text(one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    ));
    assert!(text.contains(&server.url("/simple/")), "{text}");
    assert!(
        text.contains("HTTP 500") && text.contains("4 attempt"),
        "{text}"
    );
    assert_eq!(server.hits("/simple/requests/"), 4);
    assert!(cache_files(cache.path()).is_empty());
}

#[test]
fn not_found_and_forbidden_are_not_retried() {
    let server = Server::start();
    server.always("/simple/private/", Reply::status(403));
    let cache = tempfile::tempdir().unwrap();
    let s = settings(&server.url("/simple/"), cache.path());
    let answers = lookup(s, &[("absent", "1.0"), ("private", "1.0")]);
    assert_eq!(answers[0], Ok(Found::ProjectMissing));
    assert!(error_text(answers[1].clone()).contains("HTTP 403"));
    assert_eq!(server.hits("/simple/absent/"), 1);
    assert_eq!(server.hits("/simple/private/"), 1);
}

#[test]
fn too_many_requests_waits_for_retry_after() {
    let server = Server::start();
    server.sequence(
        "/simple/requests/",
        vec![
            Reply::status(429).header("Retry-After", "1"),
            Reply::json(fixture("requests.pep691.json")),
        ],
    );
    let cache = tempfile::tempdir().unwrap();
    let mut s = settings(&server.url("/simple/"), cache.path());
    // No computed backoff, but Retry-After is honoured up to `max`.
    s.backoff = Backoff {
        base: Duration::ZERO,
        max: Duration::from_secs(5),
    };
    let start = Instant::now();
    files(one(s, "requests", "2.32.3"));
    assert!(
        start.elapsed() >= Duration::from_millis(900),
        "{:?}",
        start.elapsed()
    );
    assert_eq!(server.hits("/simple/requests/"), 2);
}

#[test]
fn a_response_slower_than_the_read_timeout_fails_with_a_timeout() {
    let server = Server::start();
    server.always(
        "/simple/requests/",
        Reply::json(fixture("requests.pep691.json")).delayed(Duration::from_secs(3)),
    );
    let cache = tempfile::tempdir().unwrap();
    let mut s = settings(&server.url("/simple/"), cache.path());
    s.read_timeout = Duration::from_millis(300);
    s.retries = 1;
    let start = Instant::now();
    let text = error_text(one(s, "requests", "2.32.3"));
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    assert!(text.contains(&server.url("/simple/requests/")), "{text}");
    assert!(text.contains("timed out"), "{text}");
    assert_eq!(server.hits("/simple/requests/"), 2);
}

#[test]
fn a_body_cut_short_is_retried_and_then_read_whole() {
    let server = Server::start();
    let body = fixture("requests.pep691.json");
    server.sequence(
        "/simple/requests/",
        vec![Reply::json(body.clone()).cut_at(100), Reply::json(body)],
    );
    let cache = tempfile::tempdir().unwrap();
    files(one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    ));
    assert_eq!(server.hits("/simple/requests/"), 2);
}

#[test]
fn truncated_json_fails_naming_the_url_and_is_never_cached() {
    let server = Server::start();
    let mut body = fixture("requests.pep691.json");
    body.truncate(200);
    server.always("/simple/requests/", Reply::json(body));
    let cache = tempfile::tempdir().unwrap();
    let text = error_text(one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    ));
    assert!(text.contains(&server.url("/simple/requests/")), "{text}");
    assert!(text.contains("truncated"), "{text}");
    assert!(cache_files(cache.path()).is_empty());
}

#[test]
fn an_html_login_page_where_json_was_asked_is_an_error_and_not_cached() {
    let server = Server::start();
    server.always("/simple/requests/", Reply::html(fixture("login.html")));
    let cache = tempfile::tempdir().unwrap();
    let answer = one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    );
    assert_eq!(
        answer.as_ref().unwrap_err().code().as_str(),
        "index-invalid-response"
    );
    let text = error_text(answer);
    assert!(
        text.contains(&server.url("/simple/requests/")) && text.contains("login"),
        "{text}"
    );
    assert_eq!(server.hits("/simple/requests/"), 1);
    assert!(cache_files(cache.path()).is_empty());
}

#[test]
fn a_wrong_content_type_is_refused() {
    let server = Server::start();
    server.always(
        "/simple/requests/",
        Reply::body("application/octet-stream", "{}"),
    );
    let cache = tempfile::tempdir().unwrap();
    let text = error_text(one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    ));
    assert!(text.contains("application/octet-stream"), "{text}");
}

#[test]
fn connection_refused_fails_quickly_naming_the_index() {
    // Bind, learn the port, close: nothing listens there any more.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let index = format!("http://127.0.0.1:{port}/simple/");
    let cache = tempfile::tempdir().unwrap();
    let start = Instant::now();
    let answer = one(settings(&index, cache.path()), "requests", "2.32.3");
    assert!(start.elapsed() < Duration::from_secs(5));
    assert!(
        matches!(answer, Err(IndexError::Unreachable { attempts: 4, .. })),
        "{answer:?}"
    );
    let text = error_text(answer);
    assert!(text.contains(&index) && text.contains("connect"), "{text}");
}

#[test]
fn relative_file_urls_resolve_against_the_final_url_after_a_redirect() {
    let server = Server::start();
    server.always(
        "/simple/numpy/",
        Reply::status(301).header("Location", "/mirror/simple/numpy/"),
    );
    server.always(
        "/mirror/simple/numpy/",
        Reply::json(fixture("numpy.mirror-relative.pep691.json")),
    );
    let cache = tempfile::tempdir().unwrap();
    let found = files(one(
        settings(&server.url("/simple/"), cache.path()),
        "numpy",
        "1.26.4",
    ));
    assert_eq!(found.index, server.url("/simple/"));
    assert_eq!(found.files.len(), 9);
    let sdist = found
        .files
        .iter()
        .find(|f| f.filename == "numpy-1.26.4.tar.gz")
        .unwrap();
    assert_eq!(
        sdist.url,
        server.url("/mirror/packages/numpy-1.26.4.tar.gz")
    );
    // api-version 1.0 carries no size.
    assert_eq!(sdist.size, None);
}

#[test]
fn credentials_are_sent_but_never_returned_printed_or_cached() {
    let server = Server::start();
    let expected = basic_auth("alice", "s3cr3t-pw");
    let authorised = move |request: &index_support::Request, reply: Reply| {
        if request.header("authorization") == Some(expected.as_str()) {
            reply
        } else {
            Reply::status(401)
        }
    };
    let check = authorised.clone();
    server.route("/simple/requests/", move |r, _| {
        check(r, Reply::json(fixture("requests.pep691.json")))
    });
    server.route("/simple/broken/", move |r, _| {
        authorised(r, Reply::status(500))
    });
    let cache = tempfile::tempdir().unwrap();
    let index = format!("http://alice:s3cr3t-pw@127.0.0.1:{}/simple/", server.port());
    let answers = lookup(
        settings(&index, cache.path()),
        &[("requests", "2.32.3"), ("broken", "1.0")],
    );
    let found = files(answers[0].clone());
    assert_eq!(found.index, server.url("/simple/"));
    assert!(
        found
            .files
            .iter()
            .all(|f| !f.url.contains("s3cr3t") && !f.url.contains("alice"))
    );
    let text = error_text(answers[1].clone());
    assert!(text.contains(&server.url("/simple/broken/")), "{text}");
    assert!(
        !text.contains("s3cr3t-pw") && !text.contains("alice"),
        "{text}"
    );
    let wrong = format!("http://alice:wrong-pw@127.0.0.1:{}/simple/", server.port());
    let other_cache = tempfile::tempdir().unwrap();
    let text = error_text(one(
        settings(&wrong, other_cache.path()),
        "requests",
        "2.31.0",
    ));
    assert!(
        text.contains("HTTP 401") && !text.contains("wrong-pw"),
        "{text}"
    );
    let stored = cache_files(cache.path());
    assert!(!stored.is_empty());
    for (path, content) in stored {
        assert!(
            !path.contains("s3cr3t") && !content.contains("s3cr3t"),
            "{path}"
        );
    }
}

#[test]
fn netrc_supplies_credentials_for_the_index_host() {
    let server = Server::start();
    let expected = basic_auth("bob", "netrc-pw");
    server.route("/simple/requests/", move |r, _| {
        if r.header("authorization") == Some(expected.as_str()) {
            Reply::json(fixture("requests.pep691.json"))
        } else {
            Reply::status(401)
        }
    });
    let cache = tempfile::tempdir().unwrap();
    let netrc = cache.path().join("netrc");
    std::fs::write(&netrc, "machine 127.0.0.1 login bob password netrc-pw\n").unwrap();
    let mut s = settings(&server.url("/simple/"), &cache.path().join("cache"));
    s.netrc = Some(netrc);
    files(one(s, "requests", "2.32.3"));
}

#[test]
fn a_second_run_is_served_from_the_cache_and_a_new_version_refetches() {
    let server = Server::start();
    server.always(
        "/simple/requests/",
        Reply::json(fixture("requests.pep691.json")),
    );
    let cache = tempfile::tempdir().unwrap();
    let s = settings(&server.url("/simple/"), cache.path());
    let first = files(one(s.clone(), "requests", "2.32.3"));
    assert_eq!(server.hits("/simple/requests/"), 1);
    let second = files(one(s.clone(), "requests", "2.32.3"));
    assert_eq!(first, second);
    assert_eq!(
        server.hits("/simple/requests/"),
        1,
        "a warm run makes no request"
    );
    // 2.99.0 is not on the cached page: maybe a new release, so ask again.
    assert_eq!(one(s, "requests", "2.99.0"), Ok(Found::VersionMissing));
    assert_eq!(server.hits("/simple/requests/"), 2);
}

#[test]
fn offline_serves_the_cache_and_marks_the_rest_unverified_without_a_request() {
    let server = Server::start();
    server.always(
        "/simple/requests/",
        Reply::json(fixture("requests.pep691.json")),
    );
    let cache = tempfile::tempdir().unwrap();
    files(one(
        settings(&server.url("/simple/"), cache.path()),
        "requests",
        "2.32.3",
    ));
    let mut offline = settings(&server.url("/simple/"), cache.path());
    offline.offline = true;
    let answers = lookup(offline, &[("requests", "2.31.0"), ("numpy", "1.26.4")]);
    files(answers[0].clone());
    assert_eq!(
        answers[1],
        Ok(Found::Unverified {
            url: server.url("/simple/numpy/")
        })
    );
    assert_eq!(server.total_hits(), 1);
}

#[test]
fn the_first_index_with_the_version_wins_and_later_ones_are_not_asked() {
    let primary = Server::start();
    let extra = Server::start();
    primary.always(
        "/simple/requests/",
        Reply::json(fixture("requests.pep691.json")),
    );
    extra.always(
        "/simple/requests/",
        Reply::json(fixture("requests.pep691.json")),
    );
    extra.always("/simple/numpy/", Reply::json(fixture("numpy.pep691.json")));
    let cache = tempfile::tempdir().unwrap();
    let mut s = settings(&primary.url("/simple/"), cache.path());
    s.extra_index_urls = vec![Url::parse(&extra.url("/simple/")).unwrap()];
    let answers = lookup(
        s.clone(),
        &[
            ("requests", "2.32.3"),
            ("numpy", "1.26.4"),
            ("requests", "2.0.0"),
            ("nothing", "1"),
        ],
    );
    assert_eq!(files(answers[0].clone()).index, primary.url("/simple/"));
    assert_eq!(
        extra.hits("/simple/requests/"),
        1,
        "asked only for 2.0.0, missing on the primary"
    );
    assert_eq!(files(answers[1].clone()).index, extra.url("/simple/"));
    assert_eq!(answers[2], Ok(Found::VersionMissing));
    assert_eq!(answers[3], Ok(Found::ProjectMissing));
    // Warm: numpy is answered from the cache (404 on the primary, found on the extra).
    let before = primary.total_hits() + extra.total_hits();
    files(one(s, "numpy", "1.26.4"));
    assert_eq!(primary.total_hits() + extra.total_hits(), before);
}

#[test]
fn thirty_packages_are_fetched_concurrently() {
    let server = Server::start();
    let mut wanted = Vec::new();
    for i in 0..30 {
        let name = format!("pkg{i}");
        let body = format!(
            r#"{{"meta":{{"api-version":"1.1"}},"name":"{name}","files":[{{"filename":"{name}-1.0-py3-none-any.whl","url":"/f/{name}-1.0-py3-none-any.whl","hashes":{{"sha256":"{}"}},"size":10}}]}}"#,
            "0".repeat(64)
        );
        server.always(
            &format!("/simple/{name}/"),
            Reply::json(body).delayed(Duration::from_millis(200)),
        );
        wanted.push((PackageName::new(&name), "1.0".to_string()));
    }
    let cache = tempfile::tempdir().unwrap();
    let client = IndexClient::new(settings(&server.url("/simple/"), cache.path())).unwrap();
    let answers = client.lookup(&wanted);
    for (i, answer) in answers.into_iter().enumerate() {
        let found = files(answer);
        assert_eq!(
            found.files[0].filename,
            format!("pkg{i}-1.0-py3-none-any.whl")
        );
    }
    assert!(
        server.max_in_flight() > 1,
        "max in flight {}",
        server.max_in_flight()
    );
}

#[test]
#[ignore = "benchmark; run with --ignored --nocapture"]
fn benchmark_thirty_packages_behind_a_200_ms_round_trip() {
    let server = Server::start();
    let mut wanted = Vec::new();
    for i in 0..30 {
        let name = format!("slow{i}");
        let body = format!(
            r#"{{"meta":{{"api-version":"1.1"}},"files":[{{"filename":"{name}-1.0.tar.gz","url":"/f/{name}-1.0.tar.gz","hashes":{{}}}}]}}"#
        );
        server.always(
            &format!("/simple/{name}/"),
            Reply::json(body).delayed(Duration::from_millis(200)),
        );
        wanted.push((PackageName::new(&name), "1.0".to_string()));
    }
    for concurrency in [1, 16, 32] {
        let cache = tempfile::tempdir().unwrap();
        let mut s = settings(&server.url("/simple/"), cache.path());
        s.concurrency = concurrency;
        let client = IndexClient::new(s).unwrap();
        let start = Instant::now();
        let answers = client.lookup(&wanted);
        let elapsed = start.elapsed();
        assert!(answers.iter().all(|a| matches!(a, Ok(Found::Files(_)))));
        println!("30 packages, 200 ms per response, concurrency {concurrency}: {elapsed:?}");
    }
}
