//! What every hostile case shares: a sandbox with a project, a folder outside it that must not
//! change, its own HOME and cache; envscan run under rlimits (address space, CPU seconds,
//! optionally file size), so "bounded time and memory" is the kernel's verdict, not a clock's;
//! and the invariant checks (no panic, exit code, nothing written outside, no secret).
//!
//! The wall-clock watchdog in [`Sandbox::run`] only keeps a hung case from hanging the suite:
//! a case it kills fails as "hung", whatever it would have printed.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// Kernel limits on one envscan run.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// RLIMIT_AS. envscan reserves large thread stacks for parsing, so this is address space,
    /// not resident memory: 4 GiB by default.
    pub address_space: u64,
    /// RLIMIT_CPU in seconds: 60 by default.
    pub cpu_seconds: u64,
    /// RLIMIT_FSIZE in bytes, to play a full disk; none by default.
    pub file_size: Option<u64>,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            address_space: 4 << 30,
            cpu_seconds: 60,
            file_size: None,
        }
    }
}

/// How one run ended.
#[derive(Debug)]
pub struct Outcome {
    /// The exit code; `None` when a signal ended it.
    pub code: Option<i32>,
    pub signal: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// The watchdog killed it.
    pub hung: bool,
}

impl Outcome {
    /// Invariant: envscan ended by itself, with an exit code, and did not panic (a panic
    /// exits 101 and prints "panicked at"); an rlimit hit shows up as a signal here.
    pub fn assert_no_panic(&self) -> &Self {
        assert!(!self.hung, "envscan hung and was killed:\n{self}");
        assert!(
            self.signal.is_none(),
            "envscan died of signal {:?}:\n{self}",
            self.signal
        );
        assert_ne!(self.code, Some(101), "envscan panicked:\n{self}");
        assert!(
            !self.stderr.contains("panicked at"),
            "envscan panicked:\n{self}"
        );
        self
    }

    /// Invariant: [`Self::assert_no_panic`] and this exit code.
    pub fn assert_exit(&self, code: i32) -> &Self {
        self.assert_no_panic();
        assert_eq!(self.code, Some(code), "unexpected exit code:\n{self}");
        self
    }

    /// stdout and stderr together.
    pub fn all_output(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }

    /// Invariant: `needle` appears in neither stdout nor stderr.
    pub fn assert_never_says(&self, needle: &str) -> &Self {
        assert!(
            !self.all_output().contains(needle),
            "{needle:?} reached the output:\n{self}"
        );
        self
    }

    pub fn assert_stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr lacks {needle:?}:\n{self}"
        );
        self
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "code {:?}, signal {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.signal, self.stdout, self.stderr
        )
    }
}

/// A temporary root holding `project/`, `outside/` (with a sentinel file; nothing may change
/// there), `home/` and `cache/`.
pub struct Sandbox {
    _dir: tempfile::TempDir,
    pub root: PathBuf,
    pub project: PathBuf,
    pub outside: PathBuf,
    pub home: PathBuf,
    pub cache: PathBuf,
    outside_before: Tree,
}

impl Sandbox {
    /// An empty project with a `main.py` that imports only the standard library.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().canonicalize().unwrap();
        let project = root.join("project");
        let outside = root.join("outside");
        let home = root.join("home");
        let cache = root.join("cache");
        for folder in [&project, &outside, &home, &cache] {
            std::fs::create_dir_all(folder).unwrap();
        }
        std::fs::write(project.join("main.py"), "import json\n").unwrap();
        std::fs::write(outside.join("sentinel.txt"), "must not change\n").unwrap();
        let outside_before = Tree::of(&outside);
        Sandbox {
            _dir: dir,
            root,
            project,
            outside,
            home,
            cache,
            outside_before,
        }
    }

    /// Writes a file under the project (folders made as needed).
    pub fn write(&self, rel: &str, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.project.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// A symbolic link at `rel` under the project, pointing at `target` (as written).
    pub fn symlink(&self, target: impl AsRef<Path>, rel: &str) -> PathBuf {
        let path = self.project.join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::os::unix::fs::symlink(target, &path).unwrap();
        path
    }

    /// A minimal virtual environment (pyvenv.cfg for CPython 3.11, an empty site-packages) at
    /// `root/venv`, outside the project; returns its path.
    pub fn venv(&self) -> PathBuf {
        let venv = self.root.join("venv");
        crate::support::minimal_venv(&venv);
        venv
    }

    /// site-packages of [`Self::venv`].
    pub fn site_packages(&self) -> PathBuf {
        self.root.join("venv/lib/python3.11/site-packages")
    }

    /// `envscan ARGS` with the sandbox's HOME and cache, no inherited Python or pip settings,
    /// the project as working folder; not yet run.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("envscan"));
        cmd.args(args)
            .current_dir(&self.project)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", &self.home)
            .env("XDG_CACHE_HOME", &self.cache)
            .env("NO_COLOR", "1")
            .env("ENVSCAN_TEST_NO_RETRY_DELAY", "1");
        cmd
    }

    /// Runs `envscan ARGS` under the default [`Limits`].
    pub fn run(&self, args: &[&str]) -> Outcome {
        self.run_limited(self.command(args), Limits::default())
    }

    /// Runs a prepared command under `limits`, killing it after 120 s as hung.
    pub fn run_limited(&self, cmd: Command, limits: Limits) -> Outcome {
        run_limited(cmd, limits, Duration::from_secs(120))
    }

    /// Invariant: nothing under `outside/` was created, removed or changed.
    pub fn assert_outside_unchanged(&self) {
        let now = Tree::of(&self.outside);
        assert_eq!(
            self.outside_before, now,
            "something was written outside the project"
        );
    }
}

/// Runs `cmd` under `prlimit` with `limits`; kills it (and reports `hung`) after `patience`.
pub fn run_limited(cmd: Command, limits: Limits, patience: Duration) -> Outcome {
    let mut limited = Command::new("prlimit");
    limited
        .arg(format!("--as={}", limits.address_space))
        .arg(format!("--cpu={}", limits.cpu_seconds));
    if let Some(size) = limits.file_size {
        limited.arg(format!("--fsize={size}"));
    }
    limited
        .arg("--")
        .arg(cmd.get_program())
        .args(cmd.get_args());
    if let Some(dir) = cmd.get_current_dir() {
        limited.current_dir(dir);
    }
    limited.env_clear();
    for (key, value) in cmd.get_envs() {
        if let Some(value) = value {
            limited.env(key, value);
        }
    }
    limited
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = limited.spawn().expect("prlimit (util-linux) runs");
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + patience;
    let mut hung = false;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            hung = true;
            let _ = child.kill();
            break child.wait().unwrap();
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    use std::os::unix::process::ExitStatusExt;
    Outcome {
        code: status.code(),
        signal: status.signal(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
        hung,
    }
}

/// A folder's contents: each path (relative) with its kind, and for files size and sha256.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tree(pub BTreeMap<PathBuf, String>);

impl Tree {
    pub fn of(root: &Path) -> Tree {
        let mut entries = BTreeMap::new();
        collect(root, root, &mut entries);
        Tree(entries)
    }
}

fn collect(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, String>) {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in listing.flatten() {
        let path = entry.path();
        let rel = path.strip_prefix(root).unwrap().to_path_buf();
        let meta = std::fs::symlink_metadata(&path).unwrap();
        let kind = meta.file_type();
        if kind.is_symlink() {
            out.insert(
                rel,
                format!("link -> {}", std::fs::read_link(&path).unwrap().display()),
            );
        } else if kind.is_dir() {
            out.insert(rel, "dir".into());
            collect(root, &path, out);
        } else if kind.is_file() {
            let bytes = std::fs::read(&path).unwrap();
            out.insert(
                rel,
                format!(
                    "file {} {}",
                    bytes.len(),
                    hex::encode(Sha256::digest(&bytes))
                ),
            );
        } else {
            out.insert(rel, format!("special {:?}", kind));
        }
    }
}

/// The text of every regular file under `root`, `.gz` files decompressed (tar members are
/// then plain text inside), keyed by relative path: for "no secret in any output" checks.
pub fn texts_under(root: &Path) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    for (rel, kind) in Tree::of(root).0 {
        if !kind.starts_with("file ") {
            continue;
        }
        let bytes = std::fs::read(root.join(&rel)).unwrap();
        let bytes = if rel.extension().is_some_and(|e| e == "gz") {
            let mut plain = Vec::new();
            flate2::read::GzDecoder::new(&bytes[..])
                .read_to_end(&mut plain)
                .unwrap();
            plain
        } else {
            bytes
        };
        out.insert(rel, String::from_utf8_lossy(&bytes).into_owned());
    }
    out
}

/// Invariant: `secret` is in no file under `root` (archives decompressed).
pub fn assert_no_secret_under(root: &Path, secret: &str) {
    for (rel, text) in texts_under(root) {
        assert!(
            !text.contains(secret),
            "the secret reached {}",
            rel.display()
        );
    }
}

#[test]
fn the_watchdog_reports_a_hung_child_and_an_rlimit_ends_a_runaway_one() {
    // The harness itself: a case that hangs must fail as hung, not hang the suite; a case that
    // burns CPU past its rlimit must end by a signal, which assert_no_panic rejects.
    let hung = run_limited(
        {
            let mut c = Command::new("sleep");
            c.arg("30");
            c
        },
        Limits::default(),
        Duration::from_millis(300),
    );
    assert!(hung.hung);
    let spin = run_limited(
        {
            let mut c = Command::new("sh");
            c.args(["-c", "while :; do :; done"]);
            c
        },
        Limits {
            cpu_seconds: 1,
            ..Limits::default()
        },
        Duration::from_secs(30),
    );
    assert!(!spin.hung);
    assert!(spin.signal.is_some(), "{spin}");
}

pub use crate::support::archive_entries;
