//! Relative paths as text, the cheap way when a path is plainly below its base.

use std::path::Path;

/// The text of `path` after `base/`, when on Unix `path` is `base`, a separator and UTF-8
/// text with no empty or `.` part: then that text is what splitting `path` below `base` into
/// components and joining them with `/` gives, without doing it. `None` otherwise (the caller
/// takes the components), including every path on other systems.
pub fn plain_relative<'a>(base: &Path, path: &'a Path) -> Option<&'a str> {
    if !cfg!(unix) {
        return None;
    }
    let rest = path
        .as_os_str()
        .as_encoded_bytes()
        .strip_prefix(base.as_os_str().as_encoded_bytes())?
        .strip_prefix(b"/")?;
    let rest = std::str::from_utf8(rest).ok()?;
    rest.split('/')
        .all(|part| !part.is_empty() && part != ".")
        .then_some(rest)
}
