//! Walks of real trees: the fixtures under `fixtures/`, copied into a temporary folder (so no
//! `.git` is above them and symlinks can be added), and trees built by the tests.

use std::path::{Path, PathBuf};

use super::*;
use crate::settings::DEFAULT_MAX_FILE_SIZE;
use crate::settings::DEFAULT_PYTHON_VERSION;
use crate::test_support::copy_tree;

/// A copy of `fixtures/<name>` in a fresh temporary folder, and its canonical path.
fn fixture(name: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap().join(name);
    copy_tree(
        &Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fixtures")
            .join(name),
        &root,
    );
    (dir, root)
}

fn settings(root: &Path) -> ScanSettings {
    ScanSettings {
        root: root.to_path_buf(),
        exclude: Vec::new(),
        roots: Vec::new(),
        python_version: DEFAULT_PYTHON_VERSION,
        max_file_size: DEFAULT_MAX_FILE_SIZE,
        cache_dir: None,
    }
}

fn rels(walk: &Walk) -> Vec<&str> {
    walk.files.iter().map(|file| file.rel.as_str()).collect()
}

fn codes(walk: &Walk) -> Vec<(&str, Option<&str>)> {
    walk.diagnostics
        .iter()
        .map(|d| (d.code.as_str(), d.file.as_deref()))
        .collect()
}

#[cfg(unix)]
fn symlink(target: impl AsRef<Path>, link: impl AsRef<Path>) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[test]
fn skipped_folders_ignored_files_and_excludes_leave_only_project_sources() {
    let (_dir, root) = fixture("walk-skips");
    let mut settings = settings(&root);
    settings.exclude = vec!["scratch".into()];
    let walk = walk(&settings);
    assert_eq!(
        rels(&walk),
        [
            "kept.py",
            "pkg/__init__.py",
            "pkg/helpers.py",
            "pkg/mod.py",
            "tools/build/__init__.py",
            "tools/build/steps.py",
        ]
    );
    assert_eq!(codes(&walk), []);
}

#[test]
fn gitignore_is_honoured_without_a_git_folder() {
    let (_dir, root) = fixture("walk-skips");
    assert!(
        !inside_git_repository(&root),
        "the copy must not be in a repository"
    );
    let walk = walk(&settings(&root));
    let listed = rels(&walk);
    assert!(listed.contains(&"kept.py"));
    assert!(!listed.contains(&"ignored_by_git.py"));
    assert!(!listed.contains(&"generated/out.py"));
    assert!(!listed.contains(&"ignored_by_dot_ignore.py"));
    // Without the exclude, the folder it named is walked.
    assert!(listed.contains(&"scratch/tmp.py"));
}

#[test]
fn parent_gitignore_counts_only_inside_the_same_git_repository() {
    let dir = tempfile::tempdir().unwrap();
    let top = fs_err::canonicalize(dir.path()).unwrap();
    let root = top.join("proj");
    fs_err::create_dir_all(&root).unwrap();
    fs_err::write(top.join(".gitignore"), "proj/hidden_by_parent.py\n").unwrap();
    fs_err::write(root.join("hidden_by_parent.py"), "").unwrap();
    fs_err::write(root.join("main.py"), "").unwrap();

    let outside_repository = walk(&settings(&root));
    assert_eq!(
        rels(&outside_repository),
        ["hidden_by_parent.py", "main.py"]
    );

    fs_err::create_dir_all(top.join(".git")).unwrap();
    let inside_repository = walk(&settings(&root));
    assert_eq!(rels(&inside_repository), ["main.py"]);
}

#[test]
fn git_info_exclude_is_honoured() {
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap();
    fs_err::create_dir_all(root.join(".git/info")).unwrap();
    fs_err::write(root.join(".git/info/exclude"), "local.py\n").unwrap();
    fs_err::write(root.join("local.py"), "").unwrap();
    fs_err::write(root.join("main.py"), "").unwrap();
    assert_eq!(rels(&walk(&settings(&root))), ["main.py"]);
}

#[test]
fn src_layout_files_are_named_under_src_and_scripts_and_notebooks_are_not() {
    let (_dir, root) = fixture("src-layout");
    let walk = walk(&settings(&root));
    let roots: Vec<&str> = walk.roots.iter().map(|r| r.rel.as_str()).collect();
    assert_eq!(roots, ["src", ""]);
    assert_eq!(walk.roots[0].path, root.join("src"));
    let named: Vec<(&str, Option<&str>, bool, SourceKind)> = walk
        .files
        .iter()
        .map(|f| {
            (
                f.rel.as_str(),
                f.module.as_ref().map(|m| m.as_str()),
                f.is_package,
                f.kind,
            )
        })
        .collect();
    use SourceKind::{Notebook, Python};
    assert_eq!(
        named,
        [
            ("notebooks/explore.ipynb", None, false, Notebook),
            ("scripts/run-me.py", None, false, Python),
            ("src/nspkg/plugin.py", Some("nspkg.plugin"), false, Python),
            ("src/pkg/__init__.py", Some("pkg"), true, Python),
            ("src/pkg/core.py", Some("pkg.core"), false, Python),
            ("src/pkg/sub/__init__.py", Some("pkg.sub"), true, Python),
            ("src/pkg/sub/deep.py", Some("pkg.sub.deep"), false, Python),
            ("tests/test_core.py", Some("tests.test_core"), false, Python),
        ]
    );
    assert_eq!(walk.files[0].path, root.join("notebooks/explore.ipynb"));
    assert_eq!(codes(&walk), []);
}

#[test]
fn configured_root_names_its_files_and_a_missing_one_is_reported() {
    let (_dir, root) = fixture("src-layout");
    let mut settings = settings(&root);
    settings.roots = vec![PathBuf::from("scripts"), PathBuf::from("lib")];
    let walk = walk(&settings);
    let roots: Vec<&str> = walk.roots.iter().map(|r| r.rel.as_str()).collect();
    assert_eq!(roots, ["scripts", "src", ""]);
    assert_eq!(codes(&walk), [(IMPORT_ROOT_MISSING.as_str(), None)]);
    assert!(walk.diagnostics[0].message.contains("`lib`"));
}

#[test]
fn a_bad_exclude_glob_is_a_diagnostic_and_the_others_still_apply() {
    let (_dir, root) = fixture("walk-skips");
    let mut settings = settings(&root);
    settings.exclude = vec!["scratch/[".into(), "!kept.py".into(), "tools".into()];
    let walk = walk(&settings);
    let listed = rels(&walk);
    assert!(listed.contains(&"kept.py"));
    assert!(listed.contains(&"scratch/tmp.py"));
    assert!(!listed.iter().any(|rel| rel.starts_with("tools/")));
    let bad: Vec<&str> = walk
        .diagnostics
        .iter()
        .filter(|d| d.code == INVALID_EXCLUDE)
        .map(|d| d.message.as_str())
        .collect();
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert!(bad.iter().any(|m| m.contains("`scratch/[`")));
    assert!(bad.iter().any(|m| m.contains("`!kept.py`")));
}

#[test]
fn exclude_globs_are_gitignore_style_and_relative_to_the_project() {
    let (_dir, root) = fixture("src-layout");
    let mut settings = settings(&root);
    settings.exclude = vec!["/tests".into(), "deep.py".into(), "*.ipynb".into()];
    let walk = walk(&settings);
    assert_eq!(
        rels(&walk),
        [
            "scripts/run-me.py",
            "src/nspkg/plugin.py",
            "src/pkg/__init__.py",
            "src/pkg/core.py",
            "src/pkg/sub/__init__.py",
        ]
    );
}

#[cfg(unix)]
#[test]
fn symlinks_inside_are_followed_once_and_outside_or_looping_ones_are_reported() {
    let (dir, root) = fixture("src-layout");
    let elsewhere = fs_err::canonicalize(dir.path()).unwrap().join("elsewhere");
    fs_err::create_dir_all(&elsewhere).unwrap();
    fs_err::write(elsewhere.join("foreign.py"), "").unwrap();
    // Inside: a second path to src/pkg/sub, and a file link to core.py.
    symlink("sub", root.join("src/pkg/alias"));
    symlink("../src/pkg/core.py", root.join("scripts/core_link.py"));
    // Outside: a folder and a source file.
    symlink(&elsewhere, root.join("data"));
    symlink(
        elsewhere.join("foreign.py"),
        root.join("scripts/foreign.py"),
    );
    // Loops: a folder link back to its parent, a file link to itself.
    symlink("..", root.join("scripts/up"));
    symlink("self.py", root.join("scripts/self.py"));
    // Broken.
    symlink("gone.py", root.join("scripts/broken.py"));

    let walk = walk(&settings(&root));
    assert_eq!(
        rels(&walk),
        [
            "notebooks/explore.ipynb",
            "scripts/run-me.py",
            "src/nspkg/plugin.py",
            "src/pkg/__init__.py",
            "src/pkg/core.py",
            "src/pkg/sub/__init__.py",
            "src/pkg/sub/deep.py",
            "tests/test_core.py",
        ]
    );
    assert_eq!(
        codes(&walk),
        [
            (SYMLINK_OUTSIDE_PROJECT.as_str(), Some("data")),
            (UNREADABLE_PATH.as_str(), Some("scripts/broken.py")),
            (SYMLINK_OUTSIDE_PROJECT.as_str(), Some("scripts/foreign.py")),
            (SYMLINK_LOOP.as_str(), Some("scripts/self.py")),
            (SYMLINK_LOOP.as_str(), Some("scripts/up")),
        ]
    );
    let severities: Vec<_> = walk.diagnostics.iter().map(|d| d.severity).collect();
    use crate::diagnostic::Severity::{Info, Warning};
    assert_eq!(severities, [Info, Warning, Warning, Warning, Warning]);
    for diagnostic in &walk.diagnostics {
        assert!(
            !diagnostic.message.contains(elsewhere.to_str().unwrap()),
            "no absolute paths in messages: {diagnostic}"
        );
    }
}

#[cfg(unix)]
#[test]
fn a_file_reached_only_through_links_is_listed_under_the_first_link_path() {
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap();
    // The real folder is gitignored (rules the target check does not re-apply), so only the
    // two link paths reach the file.
    fs_err::write(root.join(".gitignore"), "/real/\n").unwrap();
    fs_err::create_dir_all(root.join("real")).unwrap();
    fs_err::write(root.join("real/a.py"), "").unwrap();
    symlink("real", root.join("b_link"));
    symlink("real", root.join("a_link"));
    let walk = walk(&settings(&root));
    assert_eq!(rels(&walk), ["a_link/a.py"]);
    assert_eq!(
        walk.files[0].module.as_ref().map(|m| m.as_str()),
        Some("a_link.a")
    );
}

#[cfg(unix)]
#[test]
fn a_link_to_an_excluded_folder_does_not_bring_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap();
    fs_err::create_dir_all(root.join("fixtures/big")).unwrap();
    fs_err::write(root.join("fixtures/big/gen.py"), "").unwrap();
    fs_err::write(root.join("main.py"), "").unwrap();
    symlink("fixtures/big", root.join("big"));
    let mut settings = settings(&root);
    settings.exclude = vec!["/fixtures".into()];
    assert_eq!(rels(&walk(&settings)), ["main.py"]);
    settings.exclude = Vec::new();
    assert_eq!(rels(&walk(&settings)), ["fixtures/big/gen.py", "main.py"]);
}

#[cfg(unix)]
#[test]
fn a_link_into_a_virtual_environment_does_not_bring_it_back() {
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap();
    let site = root.join("env/lib/python3.12/site-packages/numpy");
    fs_err::create_dir_all(&site).unwrap();
    fs_err::write(root.join("env/pyvenv.cfg"), "home = /usr/bin\n").unwrap();
    fs_err::write(site.join("__init__.py"), "").unwrap();
    fs_err::write(root.join("main.py"), "").unwrap();
    symlink("env/lib/python3.12/site-packages", root.join("vendor"));
    symlink("env/lib/python3.12/site-packages/numpy", root.join("numpy"));
    let walk = walk(&settings(&root));
    assert_eq!(rels(&walk), ["main.py"]);
    assert_eq!(codes(&walk), []);
}

#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_reported_and_the_walk_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap();
    fs_err::create_dir_all(root.join("locked")).unwrap();
    fs_err::write(root.join("locked/a.py"), "").unwrap();
    fs_err::write(root.join("main.py"), "").unwrap();
    fs_err::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o000)).unwrap();
    let privileged = std::fs::read_dir(root.join("locked")).is_ok();
    let walk = walk(&settings(&root));
    fs_err::set_permissions(root.join("locked"), std::fs::Permissions::from_mode(0o755)).unwrap();
    if privileged {
        // Running as root: permissions do not stop reading, so there is nothing to report.
        // `problems::tests` covers the mapping of the error itself.
        assert_eq!(rels(&walk), ["locked/a.py", "main.py"]);
        return;
    }
    assert_eq!(rels(&walk), ["main.py"]);
    assert_eq!(codes(&walk), [(UNREADABLE_PATH.as_str(), Some("locked"))]);
}

#[cfg(target_os = "linux")]
#[test]
fn names_that_are_not_utf8_are_reported_once_and_skipped() {
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    let root = fs_err::canonicalize(dir.path()).unwrap();
    let folder = root.join(OsStr::from_bytes(b"caf\xe9"));
    fs_err::create_dir_all(&folder).unwrap();
    fs_err::write(folder.join("a.py"), "").unwrap();
    fs_err::write(root.join(OsStr::from_bytes(b"r\xe9sum\xe9.py")), "").unwrap();
    fs_err::write(root.join(OsStr::from_bytes(b"notes\xe9.txt")), "").unwrap();
    fs_err::write(root.join("main.py"), "").unwrap();
    let walk = walk(&settings(&root));
    assert_eq!(rels(&walk), ["main.py"]);
    assert_eq!(
        codes(&walk),
        [
            (NON_UTF8_PATH.as_str(), Some("caf\u{fffd}")),
            (NON_UTF8_PATH.as_str(), Some("r\u{fffd}sum\u{fffd}.py")),
        ]
    );
}

/// The text fast path gives what splitting into components and joining gives, for every shape
/// of path (and declines where it would not).
#[test]
fn relative_paths_taken_as_text_match_the_component_answer() {
    let by_components = |root: &Path, path: &Path| -> Option<String> {
        let relative = path.strip_prefix(root).ok()?;
        let parts: Option<Vec<&str>> = relative.iter().map(|part| part.to_str()).collect();
        Some(parts?.join("/"))
    };
    let roots = ["/p/proj", "/p/proj/", ".", "/", "proj", "./proj"];
    let rests = [
        "a.py",
        "pkg/a.py",
        "pkg//a.py",
        "pkg/./a.py",
        "./a.py",
        "pkg/",
        "a/../b.py",
        "",
        "ü/é.py",
        "pkg/.hidden/a.py",
    ];
    for root in roots {
        for rest in rests {
            for path in [format!("{root}/{rest}"), format!("{root}{rest}")] {
                let (root, path) = (Path::new(root), Path::new(&path));
                assert_eq!(
                    utf8_rel(root, path),
                    by_components(root, path),
                    "{root:?} {path:?}"
                );
            }
        }
    }
    let plain = crate::relpath::plain_relative;
    assert_eq!(
        plain(Path::new("/p"), Path::new("/p/a/b.py")),
        Some("a/b.py")
    );
    assert_eq!(plain(Path::new("/p"), Path::new("/pa/b.py")), None);
}
