//! Where outputs go: outside the project, devices, FIFOs, links, read-only folders, a full disk.
//!
//! Invariants: a repository's own `[tool.envscan] lock` never makes envscan write outside the
//! project; no output replaces anything but a regular file; a failed write leaves no partial
//! file, no temporary file and the previous outputs byte for byte; the three outputs on disk
//! either come from one run or are detected as mixed.

use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::path::Path;
use std::time::{Duration, SystemTime};

use super::harness::*;

pub(crate) const LOCK: &str = "pylock.envscan.toml";
pub(crate) const CONDA: &str = "envscan.conda.yaml";
pub(crate) const PLAN: &str = "envscan.plan.json";
pub(crate) const OUTPUTS: [&str; 3] = [LOCK, CONDA, PLAN];

/// `envscan lock --python <sandbox venv> --offline EXTRA` in the sandbox's project.
pub(crate) fn lock_command(sb: &Sandbox, extra: &[&str]) -> std::process::Command {
    let venv = sb.venv();
    let mut args = vec!["lock", "--python", venv.to_str().unwrap(), "--offline"];
    args.extend_from_slice(extra);
    sb.command(&args)
}

pub(crate) fn lock(sb: &Sandbox, extra: &[&str]) -> Outcome {
    sb.run_limited(lock_command(sb, extra), Limits::default())
}

/// The names of envscan's temporary files in `dir`.
pub(crate) fn temp_files(dir: &Path) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(".envscan-") && n.ends_with(".tmp"))
        .collect()
}

/// Which of the three outputs exist in `dir`.
pub(crate) fn present(dir: &Path) -> Vec<&'static str> {
    OUTPUTS
        .into_iter()
        .filter(|name| std::fs::symlink_metadata(dir.join(name)).is_ok())
        .collect()
}

/// The set marks of the three outputs in `dir`: (lock set, lock key, conda key, plan set,
/// plan key); each file must parse whole (no partial file).
pub(crate) fn marks(dir: &Path) -> (String, String, String, String, String) {
    let lock: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join(LOCK)).unwrap())
        .expect("the lock parses whole");
    let tool = &lock["tool"]["envscan"];
    let conda = std::fs::read_to_string(dir.join(CONDA)).unwrap();
    let _: serde_yaml::Value = serde_yaml::from_str(&conda).expect("the conda file parses whole");
    let conda_key = conda
        .lines()
        .find_map(|l| l.strip_prefix("# envscan cache key: "))
        .expect("the conda file names its set")
        .to_string();
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join(PLAN)).unwrap())
            .expect("the plan parses whole");
    (
        tool["output-set"].as_str().unwrap().to_string(),
        tool["cache-key"].as_str().unwrap().to_string(),
        conda_key,
        plan["output_set"].as_str().unwrap().to_string(),
        plan["cache_key"].as_str().unwrap().to_string(),
    )
}

/// Invariant helper: the three outputs in `dir` are from one run.
pub(crate) fn assert_one_set(dir: &Path) {
    let (set, key, conda_key, plan_set, plan_key) = marks(dir);
    assert_eq!(set, plan_set, "lock and plan from different runs");
    assert_eq!(key, conda_key, "lock and conda file from different runs");
    assert_eq!(key, plan_key, "lock and plan cache keys differ");
}

fn pyproject(sb: &Sandbox, tool: &str) {
    sb.write("pyproject.toml", format!("[tool.envscan]\n{tool}"));
}

fn mkfifo(path: &Path) {
    let status = std::process::Command::new("mkfifo")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success());
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn config_lock_at_an_absolute_path_is_refused_and_nothing_is_written() {
    // Regression (issue 14 defect 2): `lock = "/abs"` wrote the lock there and the conda file
    // and plan beside it. Invariant: exit 2 naming the key, nothing outside, nothing inside.
    let sb = Sandbox::new();
    let target = sb.outside.join("pylock.toml");
    pyproject(&sb, &format!("lock = {:?}\n", target.to_str().unwrap()));
    lock(&sb, &[])
        .assert_exit(2)
        .assert_stderr_contains("[tool.envscan] lock");
    sb.assert_outside_unchanged();
    assert!(present(&sb.project).is_empty());
}

#[test]
fn config_lock_through_dotdot_is_refused_and_nothing_is_written() {
    // Regression (defect 2): `lock = "../outside/x"` escaped the project. Invariant: exit 2,
    // outside unchanged.
    let sb = Sandbox::new();
    pyproject(&sb, "lock = \"../outside/pylock.envscan.toml\"\n");
    lock(&sb, &[]).assert_exit(2).assert_stderr_contains("..");
    sb.assert_outside_unchanged();
    assert!(present(&sb.project).is_empty());
}

#[test]
fn config_lock_dotdot_that_comes_back_inside_is_still_refused() {
    // `sub/../../project/x` ends inside lexically only after leaving: the key may not use `..`
    // at all. Invariant: exit 2, nothing written anywhere.
    let sb = Sandbox::new();
    pyproject(&sb, "lock = \"sub/../../project/pylock.toml\"\n");
    lock(&sb, &[]).assert_exit(2);
    sb.assert_outside_unchanged();
    assert!(present(&sb.project).is_empty());
}

#[test]
fn config_lock_through_a_folder_link_leading_outside_is_refused() {
    // A repository can carry `deploy -> ../outside`. Invariant: exit 2, outside unchanged.
    let sb = Sandbox::new();
    sb.symlink("../outside", "deploy");
    pyproject(&sb, "lock = \"deploy/pylock.toml\"\n");
    lock(&sb, &[])
        .assert_exit(2)
        .assert_stderr_contains("outside the project");
    sb.assert_outside_unchanged();
}

#[test]
fn config_lock_through_a_dangling_folder_link_is_refused() {
    // `deploy -> ../outside/new`: creating the folder would follow the link out. Invariant:
    // exit 2, nothing created outside.
    let sb = Sandbox::new();
    sb.symlink("../outside/new", "deploy");
    pyproject(&sb, "lock = \"deploy/pylock.toml\"\n");
    lock(&sb, &[]).assert_exit(2);
    sb.assert_outside_unchanged();
}

#[test]
fn config_lock_in_a_subfolder_of_the_project_is_written_there() {
    // The check is not overbroad: a plain relative path inside the project works, the three
    // outputs land together in it. Invariant: exit 0, one consistent set in deploy/.
    let sb = Sandbox::new();
    pyproject(&sb, "lock = \"deploy/lock/pylock.envscan.toml\"\n");
    lock(&sb, &[]).assert_exit(0);
    let dir = sb.project.join("deploy/lock");
    assert_eq!(present(&dir), OUTPUTS);
    assert_one_set(&dir);
    sb.assert_outside_unchanged();
}

#[test]
fn flag_lock_on_a_device_node_leaves_the_device_and_writes_nothing() {
    // Regression (defect 2): as root `--lock /dev/null` replaced the device with a file.
    // Invariant: exit 2, the node is still a character device, nothing written beside it.
    let sb = Sandbox::new();
    let device = if is_root() {
        let node = sb.root.join("devices/null");
        std::fs::create_dir_all(node.parent().unwrap()).unwrap();
        let status = std::process::Command::new("mknod")
            .args([node.to_str().unwrap(), "c", "1", "3"])
            .status()
            .unwrap();
        assert!(status.success());
        node
    } else {
        Path::new("/dev/null").to_path_buf()
    };
    lock(&sb, &["--lock", device.to_str().unwrap()])
        .assert_exit(2)
        .assert_stderr_contains("character device");
    let meta = std::fs::symlink_metadata(&device).unwrap();
    assert!(meta.file_type().is_char_device());
    assert!(present(device.parent().unwrap()).is_empty());
}

#[test]
fn output_lock_that_is_a_fifo_is_refused_without_waiting() {
    // A FIFO at the lock path: reading it back would wait for a writer forever, replacing it
    // would drop it. Invariant: exit 2 at once (no hang), FIFO kept, nothing written.
    let sb = Sandbox::new();
    mkfifo(&sb.project.join(LOCK));
    lock(&sb, &[]).assert_exit(2).assert_stderr_contains("FIFO");
    assert!(
        std::fs::symlink_metadata(sb.project.join(LOCK))
            .unwrap()
            .file_type()
            .is_fifo()
    );
    assert_eq!(present(&sb.project), [LOCK]);
}

#[test]
fn check_with_a_fifo_as_the_plan_ends_at_once() {
    // `lock --check` reads the outputs back: a FIFO plan must not block it. Invariant: exit 2,
    // no hang, FIFO kept.
    let sb = Sandbox::new();
    mkfifo(&sb.project.join(PLAN));
    lock(&sb, &["--check"]).assert_exit(2);
    assert!(
        std::fs::symlink_metadata(sb.project.join(PLAN))
            .unwrap()
            .file_type()
            .is_fifo()
    );
}

#[test]
fn output_plan_that_is_a_folder_is_refused_and_the_others_are_not_written() {
    // Invariant: exit 2 naming the folder; neither the lock nor the conda file appears (all
    // or nothing).
    let sb = Sandbox::new();
    std::fs::create_dir(sb.project.join(PLAN)).unwrap();
    lock(&sb, &[])
        .assert_exit(2)
        .assert_stderr_contains("folder");
    assert_eq!(present(&sb.project), [PLAN]);
}

#[test]
fn output_lock_that_links_to_a_file_outside_is_refused() {
    // `pylock.envscan.toml -> ../outside/sentinel.txt` in a cloned repository. Invariant: exit
    // 2, the target unchanged, the link still a link.
    let sb = Sandbox::new();
    sb.symlink("../outside/sentinel.txt", LOCK);
    lock(&sb, &[])
        .assert_exit(2)
        .assert_stderr_contains("symbolic link");
    sb.assert_outside_unchanged();
    assert!(
        std::fs::symlink_metadata(sb.project.join(LOCK))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    assert_eq!(present(&sb.project), [LOCK]);
}

#[test]
fn output_lock_that_is_a_dangling_link_is_refused_and_creates_nothing() {
    // `pylock.envscan.toml -> ../outside/new.toml`: writing through would create a file
    // outside. Invariant: exit 2, nothing created outside.
    let sb = Sandbox::new();
    sb.symlink("../outside/new.toml", LOCK);
    lock(&sb, &[]).assert_exit(2);
    sb.assert_outside_unchanged();
}

#[test]
fn previous_conda_file_that_links_to_dev_zero_is_refused_promptly() {
    // Regression (defect 12): the previous outputs are read back to compare; a link to
    // /dev/zero made that a 4 GB read until memory ran out. Invariant: exit 2 saying it is a
    // link that is not followed (not an out-of-memory error), nothing written.
    let sb = Sandbox::new();
    sb.symlink("/dev/zero", CONDA);
    lock(&sb, &[])
        .assert_exit(2)
        .assert_stderr_contains("symbolic link");
    assert_eq!(present(&sb.project), [CONDA]);
}

#[test]
fn output_plan_that_is_a_unix_socket_is_refused() {
    // Invariant: exit 2 naming a socket; the socket stays.
    let sb = Sandbox::new();
    let _listener = std::os::unix::net::UnixListener::bind(sb.project.join(PLAN)).unwrap();
    lock(&sb, &[])
        .assert_exit(2)
        .assert_stderr_contains("socket");
    assert_eq!(present(&sb.project), [PLAN]);
}

#[test]
fn output_folder_that_is_a_regular_file_is_an_error() {
    // `--lock notes.txt/pylock.toml` where notes.txt is a file. Invariant: exit 2, the file
    // unchanged, nothing written.
    let sb = Sandbox::new();
    sb.write("notes.txt", "keep\n");
    lock(&sb, &["--lock", "notes.txt/pylock.toml"]).assert_exit(2);
    assert_eq!(
        std::fs::read_to_string(sb.project.join("notes.txt")).unwrap(),
        "keep\n"
    );
    assert!(present(&sb.project).is_empty());
}

#[test]
fn flag_lock_outside_the_project_is_the_users_choice_and_writes_a_set_there() {
    // `--lock` is the user's own flag (documented): it may name a folder outside the project.
    // Invariant: exit 0, one consistent set there, nothing else outside changes.
    let sb = Sandbox::new();
    let elsewhere = sb.root.join("elsewhere");
    let target = elsewhere.join("pylock.envscan.toml");
    lock(&sb, &["--lock", target.to_str().unwrap()]).assert_exit(0);
    assert_eq!(present(&elsewhere), OUTPUTS);
    assert_one_set(&elsewhere);
    sb.assert_outside_unchanged();
}

#[test]
fn flag_lock_name_with_a_newline_is_refused_before_it_reaches_the_plan() {
    // The lock's name goes into the plan and the Dockerfile (`COPY name ...`): a newline would
    // start a new instruction. Invariant: exit 2, nothing written.
    let sb = Sandbox::new();
    lock(&sb, &["--lock", "x\nRUN id\n.toml"])
        .assert_exit(2)
        .assert_stderr_contains("file name");
    assert!(present(&sb.project).is_empty());
}

#[test]
fn output_lock_hard_linked_to_a_file_outside_does_not_change_that_file() {
    // A hard link shares the inode: writing in place would change the outside file. Outputs
    // are renamed over, so only the project's name changes. Invariant: exit 0, outside
    // unchanged.
    let sb = Sandbox::new();
    std::fs::hard_link(sb.outside.join("sentinel.txt"), sb.project.join(LOCK)).unwrap();
    lock(&sb, &[]).assert_exit(0);
    sb.assert_outside_unchanged();
    assert_one_set(&sb.project);
}

#[test]
fn read_only_existing_lock_is_replaced_whole_and_keeps_its_mode() {
    // Documented behaviour: a read-only lock is replaced by rename (as editors do) and keeps
    // its 0444 mode. Invariant: exit 0, one set, mode 0444, no temporary file.
    let sb = Sandbox::new();
    sb.write(LOCK, "old\n");
    std::fs::set_permissions(
        sb.project.join(LOCK),
        std::fs::Permissions::from_mode(0o444),
    )
    .unwrap();
    lock(&sb, &[]).assert_exit(0);
    assert_one_set(&sb.project);
    let mode = std::fs::metadata(sb.project.join(LOCK))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o444);
    assert!(temp_files(&sb.project).is_empty());
}

/// A read-only project folder: a read-only tmpfs mount as root (permissions do not stop root),
/// mode 0555 otherwise. Unmounted on drop.
struct ReadOnlyProject {
    mounted: Option<std::path::PathBuf>,
}

impl ReadOnlyProject {
    fn make(sb: &Sandbox) -> Option<Self> {
        if !is_root() {
            std::fs::set_permissions(&sb.project, std::fs::Permissions::from_mode(0o555)).unwrap();
            return Some(ReadOnlyProject { mounted: None });
        }
        let mount = |args: &[&str]| {
            std::process::Command::new("mount")
                .args(args)
                .status()
                .is_ok_and(|s| s.success())
        };
        let project = sb.project.to_str().unwrap();
        if !mount(&["-t", "tmpfs", "-o", "size=1m", "tmpfs", project]) {
            crate::support::skip("cannot mount a tmpfs to play a read-only project");
            return None;
        }
        let guard = ReadOnlyProject {
            mounted: Some(sb.project.clone()),
        };
        std::fs::write(sb.project.join("main.py"), "import json\n").unwrap();
        assert!(mount(&["-o", "remount,ro", project]));
        Some(guard)
    }
}

impl Drop for ReadOnlyProject {
    fn drop(&mut self) {
        if let Some(path) = &self.mounted {
            let _ = std::process::Command::new("umount").arg(path).status();
        }
    }
}

#[test]
fn read_only_project_folder_is_an_error_naming_it_and_leaves_nothing() {
    // Invariant: exit 2 with "cannot write to folder", no output and no temporary file.
    let sb = Sandbox::new();
    let Some(_ro) = ReadOnlyProject::make(&sb) else {
        return;
    };
    lock(&sb, &[])
        .assert_exit(2)
        .assert_stderr_contains("cannot write to folder");
    assert!(present(&sb.project).is_empty());
    assert!(temp_files(&sb.project).is_empty());
}

fn limited(file_size: u64) -> Limits {
    Limits {
        file_size: Some(file_size),
        ..Limits::default()
    }
}

#[test]
fn disk_full_by_file_size_limit_keeps_the_old_outputs_byte_for_byte() {
    // Regression: RLIMIT_FSIZE killed envscan with SIGXFSZ mid-write. Invariant: with the
    // limit below the new outputs' size, exit 2 naming the folder, the previous three outputs
    // unchanged byte for byte, no temporary file.
    let sb = Sandbox::new();
    lock(&sb, &[]).assert_exit(0);
    let before = Tree::of(&sb.project);
    pyproject(
        &sb,
        &format!("variables = {{ NOTE = {:?} }}\n", "x".repeat(4000)),
    );
    let before_with_config = {
        let mut t = before.clone();
        t.0.extend(
            Tree::of(&sb.project)
                .0
                .into_iter()
                .filter(|(p, _)| p.ends_with("pyproject.toml")),
        );
        t
    };
    let out = sb.run_limited(lock_command(&sb, &[]), limited(3000));
    out.assert_exit(2).assert_stderr_contains("cannot write");
    assert_eq!(Tree::of(&sb.project), before_with_config);
    assert!(temp_files(&sb.project).is_empty());
}

#[test]
fn disk_full_on_a_first_run_writes_no_output_at_all() {
    // Invariant: the limit is hit on the first file; none of the three appears, no temporary
    // file remains.
    let sb = Sandbox::new();
    let out = sb.run_limited(lock_command(&sb, &[]), limited(200));
    out.assert_exit(2);
    assert!(present(&sb.project).is_empty());
    assert!(temp_files(&sb.project).is_empty());
}

#[test]
fn old_lock_of_one_gigabyte_is_not_read_and_is_replaced() {
    // Regression (defect 15): a 1 GB old lock cost 2 GB of memory (read to compare, read
    // again to check it parses). Invariant: under a 1.5 GiB address-space limit, exit 0, a
    // warning that it was not read, and a normal lock in its place.
    let sb = Sandbox::new();
    let file = std::fs::File::create(sb.project.join(LOCK)).unwrap();
    file.set_len(1 << 30).unwrap();
    drop(file);
    let out = sb.run_limited(
        lock_command(&sb, &[]),
        Limits {
            address_space: 3 << 29,
            ..Limits::default()
        },
    );
    out.assert_exit(0).assert_stderr_contains("not read");
    assert_one_set(&sb.project);
    assert!(std::fs::metadata(sb.project.join(LOCK)).unwrap().len() < 1 << 20);
}

#[test]
fn empty_lock_has_a_packages_array_that_packaging_pip_and_uv_accept() {
    // Regression (defect 6): a stdlib-only project got a lock with no `packages` key, which
    // packaging, pip and uv reject. Invariant: `packages = []`, and packaging's
    // Pylock.from_dict, `uv pip install --dry-run -r` and `pip install --dry-run -r` accept
    // the lock.
    let sb = Sandbox::new();
    lock(&sb, &[]).assert_exit(0);
    let lock_path = sb.project.join(LOCK);
    let table: toml::Table = toml::from_str(&std::fs::read_to_string(&lock_path).unwrap()).unwrap();
    assert_eq!(table["packages"].as_array().map(Vec::len), Some(0));
    let Some(env) = crate::support::test_env() else {
        return;
    };
    let packaging = std::process::Command::new(env.join("bin/python"))
        .args([
            "-c",
            "import sys, tomllib; from packaging.pylock import Pylock; \
             Pylock.from_dict(tomllib.load(open(sys.argv[1], 'rb'))); print('ok')",
            lock_path.to_str().unwrap(),
        ])
        .output()
        .unwrap();
    assert!(packaging.status.success(), "{packaging:?}");
    let uv = std::process::Command::new(env.join("bin/uv"))
        .args(["pip", "install", "--dry-run", "--offline", "--python"])
        .arg(env.join("bin/python"))
        .arg("-r")
        .arg(&lock_path)
        .env("UV_CACHE_DIR", sb.cache.join("uv"))
        .output()
        .unwrap();
    assert!(uv.status.success(), "{uv:?}");
    let pip = std::process::Command::new(env.join("bin/python"))
        .args(["-m", "pip", "install", "--dry-run", "--no-index", "-r"])
        .arg(&lock_path)
        .output()
        .unwrap();
    assert!(pip.status.success(), "{pip:?}");
}

#[test]
fn empty_lock_gives_a_plan_and_dockerfile_without_an_install_step() {
    // Regression (defect 6): the plan installed a lock with nothing in it. Invariant: no
    // `install_lock` step, no `uv pip install` in the Dockerfile.
    let sb = Sandbox::new();
    lock(&sb, &[]).assert_exit(0);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(sb.project.join(PLAN)).unwrap()).unwrap();
    let kinds: Vec<&str> = plan["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["kind"].as_str().unwrap())
        .collect();
    assert!(!kinds.contains(&"install_lock"), "{kinds:?}");
    let out = sb.run(&["plan", "--dockerfile"]);
    out.assert_exit(0);
    assert!(!out.stdout.contains("uv pip install"), "{}", out.stdout);
}

#[test]
fn concurrent_runs_with_different_settings_leave_one_consistent_set() {
    // Four `envscan lock` at once with different base images (which change all three files).
    // Invariant: each exits 0, the files on disk are one run's set, no temporary file.
    let sb = Sandbox::new();
    let images = ["ubuntu:22.04", "ubuntu:24.04", "debian:12", "alpine:3"];
    std::thread::scope(|scope| {
        for image in images {
            let sb = &sb;
            scope.spawn(move || {
                lock(sb, &["--base-image", image]).assert_exit(0);
            });
        }
    });
    assert_one_set(&sb.project);
    assert!(temp_files(&sb.project).is_empty());
}

#[test]
fn stale_temp_files_of_a_killed_run_are_removed_and_nothing_else() {
    // Regression (defect 13): `.envscan-*.tmp` files of killed runs accumulated forever.
    // Invariant: ours (regular, `.envscan-XXXXXX.tmp`, older than the run) are removed; a link
    // of that name, other names and the link's target are left alone.
    let sb = Sandbox::new();
    let old = SystemTime::now() - Duration::from_secs(60);
    for name in [".envscan-AbC123.tmp", ".envscan-zzzzzz.tmp"] {
        let file = std::fs::File::create(sb.project.join(name)).unwrap();
        file.set_modified(old).unwrap();
    }
    sb.write(".envscan-notes.tmp", "user file\n");
    sb.write("build.tmp", "user file\n");
    sb.symlink("../outside/sentinel.txt", ".envscan-Lnk123.tmp");
    lock(&sb, &[]).assert_exit(0);
    let mut left = temp_files(&sb.project);
    left.sort();
    assert_eq!(left, [".envscan-Lnk123.tmp", ".envscan-notes.tmp"]);
    assert!(sb.project.join("build.tmp").exists());
    sb.assert_outside_unchanged();
}

#[test]
fn mixed_set_is_reported_by_check_and_rewritten_by_lock() {
    // Regression (defect 13): a run killed between renames leaves a lock and a plan from
    // different runs, undetected. Invariant: `lock --check` exits 1 and says `outputs-mixed`;
    // `lock` says it too and leaves one consistent set.
    let sb = Sandbox::new();
    lock(&sb, &["--base-image", "ubuntu:22.04"]).assert_exit(0);
    let old_plan = std::fs::read(sb.project.join(PLAN)).unwrap();
    lock(&sb, &["--base-image", "ubuntu:24.04"]).assert_exit(0);
    std::fs::write(sb.project.join(PLAN), old_plan).unwrap();
    lock(&sb, &["--check", "--base-image", "ubuntu:24.04"])
        .assert_exit(1)
        .assert_stderr_contains("outputs-mixed");
    lock(&sb, &["--base-image", "ubuntu:24.04"])
        .assert_exit(0)
        .assert_stderr_contains("outputs-mixed");
    assert_one_set(&sb.project);
}

#[test]
fn a_missing_member_of_the_set_is_reported_as_mixed() {
    // A run killed after the first rename of a first run leaves one file. Invariant: the next
    // run reports `outputs-mixed` and writes the whole set.
    let sb = Sandbox::new();
    lock(&sb, &[]).assert_exit(0);
    std::fs::remove_file(sb.project.join(CONDA)).unwrap();
    lock(&sb, &[])
        .assert_exit(0)
        .assert_stderr_contains("outputs-mixed");
    assert_one_set(&sb.project);
}

#[test]
fn flag_lock_through_a_folder_link_the_repository_carries_is_refused() {
    // `envscan lock --lock deploy/pylock.toml` in a clone where `deploy -> ../outside`: the
    // flag is the user's, the link is the repository's. Invariant: exit 2 naming `--lock`,
    // outside unchanged.
    let sb = Sandbox::new();
    sb.symlink("../outside", "deploy");
    lock(&sb, &["--lock", "deploy/pylock.toml"])
        .assert_exit(2)
        .assert_stderr_contains("--lock");
    sb.assert_outside_unchanged();
}

#[test]
fn flag_lock_through_a_folder_link_that_stays_inside_is_allowed() {
    // `deploy -> build/deploy` inside the project is fine. Invariant: exit 0, the set lands in
    // build/deploy.
    let sb = Sandbox::new();
    std::fs::create_dir_all(sb.project.join("build/deploy")).unwrap();
    sb.symlink("build/deploy", "deploy");
    lock(&sb, &["--lock", "deploy/pylock.envscan.toml"]).assert_exit(0);
    assert_one_set(&sb.project.join("build/deploy"));
}

#[test]
fn plan_warns_when_the_conda_file_beside_it_is_from_another_run() {
    // A kill between renames left the conda file of one run beside the plan of another: the
    // Dockerfile would build something else than the plan says. Invariant: `plan --dockerfile`
    // still renders (exit 0) and warns `outputs-mixed` naming the conda file.
    let sb = Sandbox::new();
    lock(&sb, &["--base-image", "ubuntu:22.04"]).assert_exit(0);
    let old_conda = std::fs::read(sb.project.join(CONDA)).unwrap();
    lock(&sb, &["--base-image", "ubuntu:24.04"]).assert_exit(0);
    let clean = sb.run(&["plan", "--dockerfile"]);
    clean.assert_exit(0).assert_never_says("outputs-mixed");
    std::fs::write(sb.project.join(CONDA), old_conda).unwrap();
    sb.run(&["plan", "--dockerfile"])
        .assert_exit(0)
        .assert_stderr_contains("outputs-mixed")
        .assert_stderr_contains(CONDA);
}
