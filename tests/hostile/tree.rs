//! Hostile project trees: link loops, links out of the project or to devices, FIFOs and
//! sockets, ignore files that cannot be loaded, odd names, huge folders and files, and the
//! output folder inside the project. `scan` and `pack` must end by themselves, within their
//! rlimits, write nothing outside the project, and pack nothing they should not.
//!
//! Permission cases (an unreadable folder) are not here: the suite runs as root, which reads
//! through any mode bits, so such a case could not fail; a dangling link and a link loop are
//! the unreadable entries that hold for every user.

use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::Command;

use super::harness::*;
use super::secrets::{out_dir, pack, packed, with_package};

fn mkfifo(path: &Path) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    assert!(Command::new("mkfifo").arg(path).status().unwrap().success());
}

/// The packed files under `pkg/` (the project's `main.py` is packed beside them).
fn packed_pkg(sb: &Sandbox) -> Vec<String> {
    packed(sb)
        .into_iter()
        .filter(|f| f.starts_with("pkg/"))
        .collect()
}

fn scan(sb: &Sandbox) -> Outcome {
    sb.run(&["scan"])
}

/// A `.gitignore` the `ignore` crate cannot compile: 6,000 complex `**` patterns whose
/// automaton exceeds the regex size limit ("error building NFA").
fn uncompilable_gitignore() -> String {
    let mut text = String::from("ignored_secret.txt\n");
    for i in 0..6000 {
        text.push_str(&format!("**/[!a]?[!b]?[!c]?[!d]?[!e]?*{i}/**\n"));
    }
    text
}

// -------------------------------------------------------------------------------- links

#[test]
fn a_folder_link_to_its_own_parent_ends_and_is_reported() {
    // Invariant: `pkg/again -> .` does not loop: exit 0, no panic, reported, the rest packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink(".", "pkg/again");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert!(outcome.stderr.contains("pkg/again"), "{outcome}");
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_file_link_to_itself_ends_and_is_not_packed() {
    // Invariant: `pkg/self.txt -> self.txt` (ELOOP): exit 0, not packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink("self.txt", "pkg/self.txt");
    pack(&sb, &[]).assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn two_folder_links_pointing_at_each_other_end() {
    // Invariant: `pkg/a -> b`, `pkg/b -> a`: exit 0 for scan and pack, nothing extra packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink("b", "pkg/a");
    sb.symlink("a", "pkg/b");
    scan(&sb).assert_exit(0);
    pack(&sb, &[]).assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_link_cycle_through_two_real_folders_ends() {
    // Invariant: `pkg/x/up -> ../y`, `pkg/y/down -> ../x`: the walk ends, files packed once
    // per path, exit 0.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/x/one.txt", "1\n");
    sb.write("pkg/y/two.txt", "2\n");
    sb.symlink("../y", "pkg/x/up");
    sb.symlink("../x", "pkg/y/down");
    pack(&sb, &[]).assert_exit(0);
    let files = packed(&sb);
    assert!(files.contains(&"pkg/x/one.txt".to_string()), "{files:?}");
    assert!(files.contains(&"pkg/y/two.txt".to_string()), "{files:?}");
}

#[test]
fn a_folder_link_out_of_the_project_is_not_followed() {
    // Invariant: `pkg/ext -> ../../outside`: nothing from outside packed, outside unchanged.
    let sb = Sandbox::new();
    with_package(&sb);
    std::fs::write(sb.outside.join("stolen.py"), "tok-outside-tree-1\n").unwrap();
    let before = Tree::of(&sb.outside);
    sb.symlink("../../outside", "pkg/ext");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert_no_secret_under(&out_dir(&sb), "tok-outside-tree-1");
    assert_eq!(before, Tree::of(&sb.outside));
    assert!(outcome.stderr.contains("pkg/ext"), "{outcome}");
}

#[test]
fn a_link_to_the_root_folder_is_not_followed() {
    // Invariant: `pkg/fs -> /` never walks the machine: exit 0 within the rlimits.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink("/", "pkg/fs");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_dangling_link_is_reported_and_the_rest_is_packed() {
    // Invariant: `pkg/gone.txt -> missing`: exit 0, reported, not packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink("missing", "pkg/gone.txt");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert!(outcome.stderr.contains("pkg/gone.txt"), "{outcome}");
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

// ---------------------------------------------------------------------- special files

#[test]
fn a_link_to_dev_zero_in_a_package_is_not_read() {
    // Invariant: `pkg/zero.bin -> /dev/zero` is never read (bounded memory under the
    // default RLIMIT_AS): exit 0, not packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink("/dev/zero", "pkg/zero.bin");
    pack(&sb, &[]).assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_link_to_dev_random_in_a_package_is_not_read() {
    // Invariant: `pkg/entropy -> /dev/random`: exit 0 within the CPU limit, not packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink("/dev/random", "pkg/entropy");
    pack(&sb, &[]).assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_fifo_in_a_package_does_not_hang_pack() {
    // Invariant: a FIFO with no writer is never opened for a blocking read: no hang, exit 0,
    // reported as not a regular file.
    let sb = Sandbox::new();
    with_package(&sb);
    mkfifo(&sb.project.join("pkg/pipe.txt"));
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert!(outcome.stderr.contains("pkg/pipe.txt"), "{outcome}");
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_fifo_named_like_a_module_does_not_hang_scan_or_pack() {
    // Invariant: `pkg/mod.py` as a FIFO: neither scan nor pack blocks; exit 0.
    let sb = Sandbox::new();
    with_package(&sb);
    mkfifo(&sb.project.join("pkg/mod.py"));
    scan(&sb).assert_exit(0);
    pack(&sb, &[]).assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_unix_socket_in_a_package_is_not_packed() {
    // Invariant: a socket is skipped with a diagnostic; exit 0.
    let sb = Sandbox::new();
    with_package(&sb);
    let _socket =
        std::os::unix::net::UnixListener::bind(sb.project.join("pkg/agent.sock")).unwrap();
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert!(outcome.stderr.contains("pkg/agent.sock"), "{outcome}");
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

// ---------------------------------------------------------------------- ignore files

#[test]
fn pack_refuses_when_the_gitignore_does_not_compile() {
    // Regression (defect 10): the crate dropped the whole file and packed what it ignores.
    // Invariant: exit 1, nothing packed, no manifest, the ignored file's text nowhere.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(".gitignore", uncompilable_gitignore());
    sb.write("pkg/ignored_secret.txt", "tok-ignored-2\n");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(1);
    assert!(
        outcome
            .stderr
            .contains(".gitignore: error[invalid-ignore-file]"),
        "{outcome}"
    );
    assert!(packed(&sb).is_empty());
    assert!(!out_dir(&sb).join("manifest.json").exists());
    assert_no_secret_under(&out_dir(&sb), "tok-ignored-2");
}

#[test]
fn scan_warns_when_the_gitignore_does_not_compile() {
    // Regression (defect 10): scan dropped it silently. Invariant: exit 0, a warning naming
    // the file.
    let sb = Sandbox::new();
    sb.write(".gitignore", uncompilable_gitignore());
    let outcome = scan(&sb);
    outcome.assert_exit(0);
    assert!(
        outcome
            .stderr
            .contains(".gitignore: warning[invalid-ignore-file]"),
        "{outcome}"
    );
}

#[test]
fn a_gitignore_linked_to_dev_zero_does_not_abort_scan() {
    // Regression (defect 12): the walker read /dev/zero as one endless line and aborted
    // (SIGABRT). Invariant: no signal, exit 0, a warning.
    let sb = Sandbox::new();
    sb.symlink("/dev/zero", ".gitignore");
    let outcome = scan(&sb);
    outcome.assert_exit(0);
    assert!(
        outcome.stderr.contains("[invalid-ignore-file]"),
        "{outcome}"
    );
}

#[test]
fn a_gitignore_linked_to_dev_zero_makes_pack_refuse_without_aborting() {
    // Regression (defect 12 + 10): invariant: no signal, exit 1, nothing packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.symlink("/dev/zero", ".gitignore");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(1);
    assert!(packed(&sb).is_empty());
}

#[test]
fn a_gitignore_that_is_a_fifo_does_not_hang_scan() {
    // Regression (defect 12): a FIFO `.gitignore` blocked forever. Invariant: not hung,
    // exit 0, a warning.
    let sb = Sandbox::new();
    mkfifo(&sb.project.join(".gitignore"));
    let outcome = scan(&sb);
    outcome.assert_exit(0);
    assert!(
        outcome.stderr.contains("[invalid-ignore-file]"),
        "{outcome}"
    );
}

#[test]
fn a_fifo_gitignore_in_a_package_folder_makes_pack_refuse() {
    // Invariant: an ignore file deeper in the tree counts too: not hung, exit 1, nothing
    // packed.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/data/table.csv", "a\n");
    mkfifo(&sb.project.join("pkg/data/.gitignore"));
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(1);
    assert!(outcome.stderr.contains("pkg/data/.gitignore"), "{outcome}");
    assert!(packed(&sb).is_empty());
}

#[test]
fn an_ignore_file_with_an_invalid_pattern_makes_pack_refuse() {
    // Invariant: a `.ignore` line that is not a glob means the file did not load as written:
    // exit 1 for pack with the line named, exit 0 for scan.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(".ignore", "*.log\n{unclosed\n");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(1);
    assert!(
        outcome
            .stderr
            .contains(".ignore:2: error[invalid-ignore-file]"),
        "{outcome}"
    );
    scan(&sb).assert_exit(0);
}

#[test]
fn a_gitignore_larger_than_the_cap_is_not_read_whole() {
    // Invariant: a sparse 1 GB `.gitignore` is refused by size (bounded memory under a 768 MiB
    // address-space limit): scan exit 0 with a warning, pack exit 1.
    let sb = Sandbox::new();
    with_package(&sb);
    let file = std::fs::File::create(sb.project.join(".gitignore")).unwrap();
    file.set_len(1 << 30).unwrap();
    let limits = Limits {
        address_space: 768 << 20,
        ..Limits::default()
    };
    let outcome = sb.run_limited(sb.command(&["scan"]), limits);
    outcome.assert_exit(0);
    assert!(
        outcome.stderr.contains("[invalid-ignore-file]"),
        "{outcome}"
    );
    pack(&sb, &[]).assert_exit(1);
}

#[test]
fn gitignored_files_stay_out_of_the_archive() {
    // Invariant: the ignore files envscan loads itself still apply: the ignored file and
    // folder are not packed, a re-included file is; exit 0.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(".gitignore", "*.log\nscratch/\n");
    sb.write("pkg/.gitignore", "!keep.log\n");
    sb.write("pkg/debug.log", "tok-gitignored-3\n");
    sb.write("pkg/keep.log", "kept\n");
    sb.write("pkg/scratch/notes.txt", "tok-gitignored-3\n");
    pack(&sb, &[]).assert_exit(0);
    let files = packed(&sb);
    assert!(files.contains(&"pkg/keep.log".to_string()), "{files:?}");
    assert_no_secret_under(&out_dir(&sb), "tok-gitignored-3");
}

#[test]
fn git_info_exclude_keeps_files_out_of_the_archive() {
    // Invariant: `.git/info/exclude` applies to pack as to scan.
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write(".git/info/exclude", "pkg/local_only.txt\n");
    sb.write("pkg/local_only.txt", "tok-exclude-4\n");
    pack(&sb, &[]).assert_exit(0);
    assert_no_secret_under(&out_dir(&sb), "tok-exclude-4");
}

// ------------------------------------------------------------------------------- names

#[test]
fn a_file_name_with_a_newline_is_refused_and_the_rest_packed() {
    // Invariant: `pkg/a\nb.txt` cannot be listed faithfully: exit 0, not packed, reported
    // with the newline escaped (no forged diagnostic line).
    let sb = Sandbox::new();
    with_package(&sb);
    sb.write("pkg/evil\nsrc/main.py: error[fake] forged.txt", "x\n");
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
    assert!(
        !outcome.stderr.lines().any(|l| l.starts_with("src/main.py")),
        "{outcome}"
    );
    assert!(
        outcome.stderr.contains("[archive-invalid-path]"),
        "{outcome}"
    );
}

#[test]
fn a_file_name_that_is_not_utf8_is_refused() {
    // Invariant: a Latin-1 name cannot be stored as UTF-8: exit 0, not packed, reported.
    let sb = Sandbox::new();
    with_package(&sb);
    let name = std::ffi::OsStr::from_bytes(b"caf\xe9.txt");
    std::fs::write(sb.project.join("pkg").join(name), "x\n").unwrap();
    let outcome = pack(&sb, &[]);
    outcome.assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
    assert!(
        outcome.stderr.contains("[archive-invalid-path]"),
        "{outcome}"
    );
}

#[test]
fn a_folder_name_that_is_not_utf8_is_not_walked_into_the_archive() {
    // Invariant: a non-UTF-8 folder's files are refused too; exit 0.
    let sb = Sandbox::new();
    with_package(&sb);
    let folder = sb
        .project
        .join("pkg")
        .join(std::ffi::OsStr::from_bytes(b"d\xff"));
    std::fs::create_dir_all(&folder).unwrap();
    std::fs::write(folder.join("x.txt"), "x\n").unwrap();
    pack(&sb, &[]).assert_exit(0);
    assert_eq!(packed_pkg(&sb), ["pkg/__init__.py"]);
}

#[test]
fn a_255_byte_file_name_and_a_long_path_are_packed_exactly() {
    // Invariant: names at the file-system limit and paths past ustar's 255 bytes are stored
    // under their exact path (PAX), exit 0.
    let sb = Sandbox::new();
    with_package(&sb);
    let long = format!("pkg/{}/{}", "d".repeat(200), "f".repeat(255));
    sb.write(&long, "x\n");
    pack(&sb, &[]).assert_exit(0);
    assert!(packed(&sb).contains(&long));
}

// --------------------------------------------------------------------------------- sizes

#[test]
fn ten_thousand_files_in_one_folder_are_packed() {
    // Invariant: a wide folder is walked and packed whole within the CPU and memory limits.
    let sb = Sandbox::new();
    with_package(&sb);
    for i in 0..10_000 {
        std::fs::write(sb.project.join(format!("pkg/f{i:05}.txt")), "x").unwrap();
    }
    pack(&sb, &[]).assert_exit(0);
    assert_eq!(packed_pkg(&sb).len(), 10_001);
}

#[test]
fn a_folder_nested_three_hundred_deep_is_walked_without_a_panic() {
    // Invariant: deep nesting (a path of about 1,200 bytes) ends: exit 0, the deepest file
    // packed under its full path.
    let sb = Sandbox::new();
    with_package(&sb);
    let deep: String = (0..300).map(|_| "dd/").collect();
    let rel = format!("pkg/{deep}leaf.txt");
    sb.write(&rel, "x\n");
    pack(&sb, &[]).assert_exit(0);
    assert!(packed(&sb).contains(&rel));
}

#[test]
fn a_sparse_one_gigabyte_file_is_streamed_under_a_smaller_address_space() {
    // Regression (defect 15): pack read each file whole, so a 1 GB file took 1 GB. Invariant:
    // under RLIMIT_AS 768 MiB, exit 0 and the archive holds the file at its full size.
    let sb = Sandbox::new();
    with_package(&sb);
    let big = std::fs::File::create(sb.project.join("pkg/model.bin")).unwrap();
    big.set_len(1 << 30).unwrap();
    let venv = sb.venv();
    let out = out_dir(&sb);
    let cmd = sb.command(&[
        "pack",
        "--python",
        venv.to_str().unwrap(),
        "--offline",
        "--out",
        out.to_str().unwrap(),
    ]);
    let limits = Limits {
        address_space: 768 << 20,
        ..Limits::default()
    };
    sb.run_limited(cmd, limits).assert_exit(0);
    let archive = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .unwrap();
    let file = std::fs::File::open(archive).unwrap();
    let mut tar = tar::Archive::new(flate2::read::GzDecoder::new(file));
    let sizes: Vec<(String, u64)> = tar
        .entries()
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (e.path().unwrap().to_string_lossy().into_owned(), e.size())
        })
        .collect();
    assert!(
        sizes.contains(&("pkg/model.bin".to_string(), 1 << 30)),
        "{sizes:?}"
    );
}

// ------------------------------------------------------------------------ output folder

#[test]
fn an_output_folder_inside_a_package_is_never_packed() {
    // Regression (defect 16): `--out pkg/dist` re-packed the previous run's archives.
    // Invariant: the second run packs the same files and gives the same archive; no
    // `.tar.gz` or manifest inside any archive.
    let sb = Sandbox::new();
    with_package(&sb);
    let out = sb.project.join("pkg/dist");
    let args = ["--out", out.to_str().unwrap()];
    pack(&sb, &args).assert_exit(0);
    let first = archive_entries(&out);
    pack(&sb, &args).assert_exit(0);
    let second = archive_entries(&out);
    assert_eq!(first, second);
    assert!(
        !second.keys().any(|k| k.starts_with("pkg/dist")),
        "{:?}",
        second.keys()
    );
    let archives = std::fs::read_dir(&out)
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().ends_with(".tar.gz"))
        .count();
    assert_eq!(archives, 1);
}

#[test]
fn an_output_folder_reached_through_a_link_is_never_packed() {
    // Invariant: `pkg/latest -> ../out` (the output folder) is not packed on the next run.
    let sb = Sandbox::new();
    with_package(&sb);
    let out = sb.project.join("out");
    let args = ["--out", out.to_str().unwrap()];
    pack(&sb, &args).assert_exit(0);
    sb.symlink("../out", "pkg/latest");
    pack(&sb, &args).assert_exit(0);
    assert!(
        !archive_entries(&out)
            .keys()
            .any(|k| k.starts_with("pkg/latest"))
    );
}
