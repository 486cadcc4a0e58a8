//! Targets other than this machine: the tag order checked against `packaging.tags` (what pip
//! uses) for every kind of target, the file envscan records checked against the one uv
//! installs for that platform, and the coverage gate of `envscan check`.

mod support;
mod target_support;

use envscan::target::TargetPlatform;
use envscan::target::priority::TagPriority;
use target_support::{codes, envscan_json, lock_packages, package, project};

/// packaging's own tag list for a target, with the facts it would read from the running
/// machine (glibc or musl version, platform) replaced by the target's.
const PACKAGING_TAGS: &str = r#"
import sys
import packaging.tags as t, packaging._manylinux as m, packaging._musllinux as mu
kind, arch, a, b, py = sys.argv[1:]
version = tuple(int(x) for x in py.split("."))
interpreter = f"cp{version[0]}{version[1]}"
if kind in ("glibc", "musl"):
    m._have_compatible_abi = lambda exe, archs: kind == "glibc"
    m._get_glibc_version = lambda: (int(a), int(b)) if kind == "glibc" else (-1, -1)
    mu._get_musl_version = lambda exe: mu._MuslVersion(int(a), int(b)) if kind == "musl" else None
    t.sysconfig.get_platform = lambda: f"linux-{arch}"
    platforms = list(t._linux_platforms(False))
elif kind == "macos":
    platforms = list(t.mac_platforms((int(a), int(b)), arch))
else:
    platforms = [arch]
tags = list(t.cpython_tags(version, [interpreter], platforms))
tags += list(t.compatible_tags(version, interpreter, platforms))
print("\n".join(str(tag) for tag in tags))
"#;

#[test]
fn the_tag_order_is_packagings_for_every_kind_of_target() {
    let Some(test_env) = support::test_env() else {
        return;
    };
    let cases = [
        ("linux-x86_64", ["glibc", "x86_64", "2", "28"]),
        ("linux-x86_64-glibc2.17", ["glibc", "x86_64", "2", "17"]),
        ("linux-aarch64", ["glibc", "aarch64", "2", "28"]),
        ("manylinux_2_34_aarch64", ["glibc", "aarch64", "2", "34"]),
        ("linux-x86_64-musl1.2", ["musl", "x86_64", "1", "2"]),
        ("linux-aarch64-musl1.1", ["musl", "aarch64", "1", "1"]),
        ("macos-arm64-14", ["macos", "arm64", "14", "0"]),
        ("macos-x86_64-13", ["macos", "x86_64", "13", "0"]),
        ("macos-x86_64-10.15", ["macos", "x86_64", "10", "15"]),
        ("windows-amd64", ["windows", "win_amd64", "0", "0"]),
        ("win32", ["windows", "win32", "0", "0"]),
    ];
    let mut compared = 0;
    for (target, args) in cases {
        for python in ["3.11", "3.12", "3.8"] {
            let (major, minor) = python.split_once('.').unwrap();
            let platform = TargetPlatform::parse(target)
                .unwrap()
                .with_python(major.parse().unwrap(), minor.parse().unwrap());
            let ours: Vec<String> = TagPriority::new(&platform).tags().collect();
            let mut all: Vec<&std::ffi::OsStr> = args.iter().map(|a| a.as_ref()).collect();
            all.push(python.as_ref());
            let theirs: Vec<String> = support::run_python(&test_env, PACKAGING_TAGS, &all)
                .lines()
                .map(str::to_string)
                .collect();
            assert_eq!(ours, theirs, "{target} Python {python}");
            compared += ours.len();
        }
    }
    assert!(compared > 10_000, "only {compared} tags compared");
}

#[test]
fn the_file_envscan_records_is_the_one_uv_installs_on_each_platform() {
    let Some((index, dir, venv)) = target_support::index_and_venv(&[("pypi", "multipkg==1.0")])
    else {
        return;
    };
    let project = project(
        dir.path(),
        &["multipkg"],
        &format!("[tool.envscan]\nindex-url = \"{}\"\n", index.index("pypi")),
    );
    // (envscan's target, uv's --python-platform, MACOSX_DEPLOYMENT_TARGET, the wheel's tags)
    let matrix = [
        (
            "linux-x86_64",
            "x86_64-manylinux_2_28",
            "14.0",
            "cp311-cp311-manylinux_2_28_x86_64",
        ),
        (
            "linux-x86_64-glibc2.17",
            "x86_64-manylinux_2_17",
            "14.0",
            "cp311-cp311-manylinux_2_17_x86_64.manylinux2014_x86_64",
        ),
        (
            "linux-aarch64",
            "aarch64-manylinux_2_28",
            "14.0",
            "cp311-cp311-manylinux_2_28_aarch64",
        ),
        (
            "linux-x86_64-musl1.2",
            "x86_64-unknown-linux-musl",
            "14.0",
            "cp311-cp311-musllinux_1_1_x86_64",
        ),
        (
            "linux-aarch64-musl1.2",
            "aarch64-unknown-linux-musl",
            "14.0",
            "py3-none-any",
        ),
        (
            "macos-arm64-14",
            "aarch64-apple-darwin",
            "14.0",
            "cp311-cp311-macosx_11_0_arm64",
        ),
        (
            "macos-x86_64-14",
            "x86_64-apple-darwin",
            "14.0",
            "cp311-cp311-macosx_10_9_x86_64",
        ),
        (
            "windows-amd64",
            "x86_64-pc-windows-msvc",
            "14.0",
            "cp311-cp311-win_amd64",
        ),
    ];
    for (target, uv_platform, macos, tags) in matrix {
        let (code, report, stderr) = envscan_json("lock", &project, &venv, &["--target", target]);
        assert_eq!(code, 0, "{target}: {stderr}");
        let wheel = format!("multipkg-1.0-{tags}.whl");
        assert_eq!(
            package(&report, "multipkg").unwrap()["target"],
            serde_json::json!({"kind": "wheel", "file": wheel}),
            "{target}"
        );
        let picks = index.uv_picks(&project.join("pylock.envscan.toml"), uv_platform, macos);
        let uv_tags: Vec<String> = tags
            .split('-')
            .collect::<Vec<_>>()
            .as_slice()
            .split_last()
            .map(|(platforms, head)| {
                platforms
                    .split('.')
                    .map(|p| format!("{}-{p}", head.join("-")))
                    .collect()
            })
            .unwrap();
        assert_eq!(
            picks["multipkg-1.0"], uv_tags,
            "{target}: uv picked another wheel"
        );
    }
}

#[test]
fn check_fails_on_packages_with_no_file_for_the_target_and_says_what_exists() {
    let Some((index, dir, venv)) = target_support::index_and_venv(&[
        ("build", "macpkg==1.0"),
        ("build", "muslpkg==1.0"),
        ("build", "sdistpkg==1.0"),
    ]) else {
        return;
    };
    let project = project(
        dir.path(),
        &["macpkg", "muslpkg", "sdistpkg"],
        &format!(
            "[tool.envscan]\nindex-url = \"{}\"\ntarget-platform = \"linux-x86_64\"\n",
            index.index("pypi")
        ),
    );
    let (code, report, _) = envscan_json("lock", &project, &venv, &[]);
    assert_eq!(
        code, 0,
        "lock writes the outputs and reports the gaps: {report:#}"
    );
    let messages: Vec<&str> = report["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["code"] == "no-usable-file")
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(messages.iter().any(|m| m.starts_with("macpkg 1.0")
        && m.ends_with("only macosx_11_0_arm64 and win_amd64 wheels; sdist needs a C compiler")));
    assert!(messages.iter().any(|m| m.starts_with("muslpkg 1.0")
        && m.ends_with("only musllinux_1_2_x86_64 wheels; no sdist")));
    assert_eq!(
        package(&report, "sdistpkg").unwrap()["target"],
        serde_json::json!({"kind": "sdist", "file": "sdistpkg-1.0.tar.gz", "build": "pure_python"})
    );

    // The outputs are current, and still the gate fails, naming each gap on stdout.
    let output = target_support::envscan_at(&["check"], &project, &venv);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("Up to date"), "{stdout}");
    assert!(
        stdout.contains("nothing installs: only macosx_11_0_arm64 and win_amd64 wheels"),
        "{stdout}"
    );
    // On a musl target only macpkg is a gap, still failing the check.
    let (_, report, _) = envscan_json(
        "check",
        &project,
        &venv,
        &["--target", "linux-x86_64-musl1.2"],
    );
    let gaps: Vec<&str> = report["packages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["target"]["kind"] == "nothing")
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(gaps, ["macpkg"]);
}

#[test]
fn a_platform_only_requirement_drops_out_where_its_marker_excludes_it() {
    let Some((index, dir, venv)) =
        target_support::index_and_venv(&[("build", "macpkg==1.0"), ("pypi", "requirer==1.0")])
    else {
        return;
    };
    let project = project(
        dir.path(),
        &["requirer"],
        &format!("[tool.envscan]\nindex-url = \"{}\"\n", index.index("pypi")),
    );
    let (code, report, _) = envscan_json("check", &project, &venv, &["--target", "linux-x86_64"]);
    assert!(package(&report, "macpkg").is_none(), "{report:#}");
    assert!(!codes(&report).contains(&"no-usable-file".to_string()));
    assert_eq!(code, 1, "the outputs are new, so the check is stale");
    let (_, _, _) = envscan_json("lock", &project, &venv, &["--target", "linux-x86_64"]);
    let locked = lock_packages(&project.join("pylock.envscan.toml"));
    assert_eq!(locked.keys().collect::<Vec<_>>(), ["purepkg", "requirer"]);
    let explained = target_support::envscan_at(&["explain", "macpkg"], &project, &venv);
    let text = String::from_utf8_lossy(&explained.stdout);
    assert!(
        text.contains(
            "requirer requires `macpkg; sys_platform == \"darwin\"`, whose marker excludes it"
        ),
        "{text}"
    );
    // On macOS it is needed, and its wheel is the target's.
    let (_, report, _) = envscan_json("lock", &project, &venv, &["--target", "macos-arm64-14"]);
    assert_eq!(
        package(&report, "macpkg").unwrap()["target"]["file"],
        "macpkg-1.0-cp311-cp311-macosx_11_0_arm64.whl"
    );
}
