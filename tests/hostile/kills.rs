//! SIGKILL at random moments of `envscan lock`, then the invariants: no partial file ever, the
//! temporary files of killed runs bounded (each run removes the previous ones), a mixed set
//! detected and repaired by the next run, and after it one consistent set and no temporary
//! file. Stdlib-only project and `--offline`: no network; a run takes tens of milliseconds, so
//! 40 kills take a few seconds.

use std::path::Path;
use std::time::{Duration, Instant};

use rand::Rng;

use super::harness::*;
use super::outputs::{CONDA, LOCK, PLAN, assert_one_set, lock, lock_command, marks, temp_files};

/// Invariant helper: each output that exists parses whole.
fn assert_no_partial_file(dir: &Path) {
    if let Ok(text) = std::fs::read_to_string(dir.join(LOCK)) {
        let table: toml::Table = toml::from_str(&text).expect("partial lock");
        assert!(table.contains_key("packages"), "partial lock:\n{text}");
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(CONDA)) {
        let yaml: serde_yaml::Value = serde_yaml::from_str(&text).expect("partial conda file");
        assert!(
            yaml.get("dependencies").is_some(),
            "partial conda file:\n{text}"
        );
    }
    if let Ok(text) = std::fs::read_to_string(dir.join(PLAN)) {
        let _: serde_json::Value = serde_json::from_str(&text).expect("partial plan");
    }
}

fn all_present(dir: &Path) -> bool {
    [LOCK, CONDA, PLAN].iter().all(|n| dir.join(n).exists())
}

fn is_mixed(dir: &Path) -> bool {
    if !all_present(dir) {
        return [LOCK, CONDA, PLAN].iter().any(|n| dir.join(n).exists());
    }
    let (set, key, conda_key, plan_set, plan_key) = marks(dir);
    set != plan_set || key != conda_key || key != plan_key
}

#[test]
fn forty_sigkills_at_random_moments_never_leave_a_partial_file_or_a_lasting_mix() {
    // Regression (defect 13): killed runs left sets from two runs undetected and temp files
    // accumulating. Invariants after every kill: no partial output, at most one run's temp
    // files (3); after a final clean run: exit 0, `outputs-mixed` reported if the kills left
    // a mix, one consistent set, no temp file.
    let sb = Sandbox::new();
    let images = ["ubuntu:22.04", "debian:12"];
    let started = Instant::now();
    lock(&sb, &["--base-image", images[0]]).assert_exit(0);
    let one_run = started.elapsed().max(Duration::from_millis(5));
    let mut rng = rand::thread_rng();
    let mut mixed = 0;
    for round in 0..40 {
        let image = images[round % 2];
        let mut child = lock_command(&sb, &["--base-image", image])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        // Half the kills anywhere in a run, half near its end, where the renames are.
        let micros = one_run.as_micros() as u64;
        let delay = if round % 2 == 0 {
            rng.gen_range(0..=micros)
        } else {
            rng.gen_range(micros * 6 / 10..=micros * 11 / 10)
        };
        std::thread::sleep(Duration::from_micros(delay));
        let _ = child.kill();
        let _ = child.wait();
        assert_no_partial_file(&sb.project);
        let temps = temp_files(&sb.project);
        assert!(temps.len() <= 3, "temp files pile up: {temps:?}");
        if is_mixed(&sb.project) {
            mixed += 1;
        }
    }
    eprintln!("{mixed} of 40 kills left a mixed set");
    let was_mixed = is_mixed(&sb.project);
    let out = lock(&sb, &["--base-image", images[1]]);
    out.assert_exit(0);
    if was_mixed {
        out.assert_stderr_contains("outputs-mixed");
    }
    assert_one_set(&sb.project);
    assert!(temp_files(&sb.project).is_empty());
}

#[test]
fn a_killed_check_changes_nothing() {
    // `lock --check` writes nothing, so a kill at any moment leaves the outputs as they were.
    // Invariant: the project tree is unchanged after 10 killed checks.
    let sb = Sandbox::new();
    lock(&sb, &[]).assert_exit(0);
    let before = Tree::of(&sb.project);
    let mut rng = rand::thread_rng();
    for _ in 0..10 {
        let mut child = lock_command(&sb, &["--check", "--base-image", "debian:12"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_micros(rng.gen_range(0..40_000)));
        let _ = child.kill();
        let _ = child.wait();
    }
    assert_eq!(Tree::of(&sb.project), before);
}
