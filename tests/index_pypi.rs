//! The index client against the real PyPI. Skipped, with the reason printed, when pypi.org
//! cannot be reached (offline CI, sandboxes).
//!
//! `cargo test --test index_pypi -- --ignored --nocapture` also runs the benchmark: 30 real
//! packages cold with 16 requests in flight, cold one at a time, and warm from the cache.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use envscan::index::{Found, IndexClient, IndexSettings, Lookup};
use envscan::names::PackageName;
use envscan::target::{TargetPlatform, wheel_is_usable};
use url::Url;

fn pypi_reachable() -> Result<(), String> {
    let addrs = ("pypi.org", 443)
        .to_socket_addrs()
        .map_err(|err| format!("cannot resolve pypi.org: {err}"))?;
    for addr in addrs {
        if TcpStream::connect_timeout(&addr, Duration::from_secs(3)).is_ok() {
            return Ok(());
        }
    }
    Err("cannot connect to pypi.org:443".to_string())
}

/// PyPI with the certificate authorities the environment names (PIP_CERT, SSL_CERT_FILE,
/// ...), as `envscan lock` resolves them: sandboxes and companies put a TLS proxy in between.
fn settings(cache: &std::path::Path) -> IndexSettings {
    let resolved = IndexSettings::resolve(
        Some("https://pypi.org/simple/".to_string()),
        vec![],
        None,
        vec![],
        false,
        Some(cache.to_path_buf()),
    )
    .unwrap();
    let mut settings = IndexSettings::new(
        Url::parse("https://pypi.org/simple/").unwrap(),
        vec![],
        cache.to_path_buf(),
    );
    settings.ca_bundle = resolved.ca_bundle;
    settings
}

fn wanted(pairs: &[(&str, &str)]) -> Vec<(PackageName, String)> {
    pairs
        .iter()
        .map(|(n, v)| (PackageName::new(n), v.to_string()))
        .collect()
}

fn assert_all_found(answers: &[Lookup], pairs: &[(&str, &str)]) {
    for (answer, (name, version)) in answers.iter().zip(pairs) {
        assert!(
            matches!(answer, Ok(Found::Files(_))),
            "{name} {version}: {answer:?}"
        );
    }
}

#[test]
fn real_pypi_has_requests_and_numpy_with_hashes_sizes_and_a_linux_wheel() {
    if let Err(reason) = pypi_reachable() {
        println!("skipped: {reason}");
        return;
    }
    let cache = tempfile::tempdir().unwrap();
    let pairs = [
        ("requests", "2.32.3"),
        ("numpy", "1.26.4"),
        ("envscan-no-such-project-x1", "1.0"),
    ];
    let answers = IndexClient::new(settings(cache.path()))
        .unwrap()
        .lookup(&wanted(&pairs));
    let target = TargetPlatform::default().with_python(3, 11);
    for answer in &answers[..2] {
        let Ok(Found::Files(found)) = answer else {
            panic!("{answer:?}");
        };
        assert_eq!(found.index, "https://pypi.org/simple/");
        assert!(
            found
                .files
                .iter()
                .all(|f| f.size.is_some() && f.sha256.is_some())
        );
        assert!(
            found
                .files
                .iter()
                .any(|f| wheel_is_usable(&f.filename, &target))
        );
    }
    let Ok(Found::Files(numpy)) = &answers[1] else {
        unreachable!()
    };
    assert!(
        numpy
            .files
            .iter()
            .any(|f| f.filename == "numpy-1.26.4.tar.gz")
    );
    assert_eq!(answers[2], Ok(Found::ProjectMissing));
}

const THIRTY: &[(&str, &str)] = &[
    ("requests", "2.32.3"),
    ("numpy", "1.26.4"),
    ("urllib3", "2.2.2"),
    ("idna", "3.7"),
    ("certifi", "2024.7.4"),
    ("charset-normalizer", "3.3.2"),
    ("six", "1.16.0"),
    ("python-dateutil", "2.9.0.post0"),
    ("pytz", "2024.1"),
    ("pandas", "2.2.2"),
    ("packaging", "24.1"),
    ("PyYAML", "6.0.1"),
    ("click", "8.1.7"),
    ("Jinja2", "3.1.4"),
    ("MarkupSafe", "2.1.5"),
    ("attrs", "23.2.0"),
    ("setuptools", "70.0.0"),
    ("wheel", "0.43.0"),
    ("typing_extensions", "4.12.2"),
    ("pydantic", "2.7.4"),
    ("pydantic-core", "2.18.4"),
    ("scipy", "1.13.1"),
    ("tqdm", "4.66.4"),
    ("protobuf", "5.27.1"),
    ("grpcio", "1.64.1"),
    ("pillow", "10.3.0"),
    ("filelock", "3.15.1"),
    ("fsspec", "2024.6.0"),
    ("sympy", "1.12.1"),
    ("networkx", "3.3"),
];

#[test]
#[ignore = "benchmark against the real PyPI; run with --ignored --nocapture"]
fn benchmark_thirty_real_packages_cold_concurrent_cold_sequential_and_warm() {
    if let Err(reason) = pypi_reachable() {
        println!("skipped: {reason}");
        return;
    }
    let pairs = wanted(THIRTY);
    let timed = |s: IndexSettings| {
        let client = IndexClient::new(s).unwrap();
        let start = Instant::now();
        let answers = client.lookup(&pairs);
        let elapsed = start.elapsed();
        assert_all_found(&answers, THIRTY);
        elapsed
    };
    let concurrent_cache = tempfile::tempdir().unwrap();
    let concurrent = timed(settings(concurrent_cache.path()));
    let sequential_cache = tempfile::tempdir().unwrap();
    let mut one_at_a_time = settings(sequential_cache.path());
    one_at_a_time.concurrency = 1;
    let sequential = timed(one_at_a_time);
    let warm = timed(settings(concurrent_cache.path()));
    println!(
        "30 packages: cold concurrent (16) {concurrent:?}, cold sequential {sequential:?} \
         (x{:.1}), warm {warm:?}",
        sequential.as_secs_f64() / concurrent.as_secs_f64()
    );
}
