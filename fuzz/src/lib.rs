//! Shared pieces of envscan's fuzz targets (`fuzz_targets/*.rs`, run by `scripts/fuzz`):
//! a scratch folder for parsers that read files, and the Dockerfile line check.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

/// A scratch folder for targets whose parser reads files, one per fuzzing process. On
/// `/dev/shm` when there is one, so writing the input costs no disk I/O.
pub fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        let builder = {
            let mut b = tempfile::Builder::new();
            b.prefix("envscan-fuzz-");
            b
        };
        if shm.is_dir()
            && let Ok(dir) = builder.tempdir_in(shm)
        {
            return dir;
        }
        builder
            .tempdir()
            .unwrap_or_else(|err| panic!("fuzz harness: no scratch folder: {err}"))
    })
    .path()
}

/// Writes `bytes` to `rel` under the scratch folder (creating folders), returning the path.
/// A failure here is the harness's, not envscan's, and aborts loudly.
pub fn put(rel: &str, bytes: &[u8]) -> PathBuf {
    let path = scratch().join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)
            .unwrap_or_else(|err| panic!("fuzz harness: mkdir {}: {err}", parent.display()));
    }
    std::fs::write(&path, bytes)
        .unwrap_or_else(|err| panic!("fuzz harness: write {}: {err}", path.display()));
    path
}

/// Lossy UTF-8, as envscan's readers of environment metadata decode.
pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// The Dockerfile instructions envscan emits. A rendered line that starts with anything else
/// was pushed out of the instruction it belonged to.
pub const DOCKERFILE_INSTRUCTIONS: &[&str] = &[
    "FROM ",
    "COPY ",
    "RUN ",
    "ENV ",
    "ADD ",
    "WORKDIR ",
    "ENTRYPOINT ",
];

/// Checks that a rendered Dockerfile has exactly `expected` lines (one per instruction or
/// comment the plan asks for), none continued onto the next with a trailing backslash, each
/// a comment or one of [`DOCKERFILE_INSTRUCTIONS`]. Returns what is wrong.
pub fn dockerfile_breakout(rendered: &str, expected: usize) -> Option<String> {
    let lines: Vec<&str> = rendered.lines().collect();
    if lines.len() != expected {
        return Some(format!(
            "{} lines rendered for a plan of {expected} instructions and comments",
            lines.len()
        ));
    }
    for (i, line) in lines.iter().enumerate() {
        if line.ends_with('\\') {
            return Some(format!("line {} continues onto the next: {line:?}", i + 1));
        }
        if !line.starts_with('#') && !DOCKERFILE_INSTRUCTIONS.iter().any(|k| line.starts_with(k)) {
            return Some(format!("line {} is not an instruction: {line:?}", i + 1));
        }
    }
    None
}
