//! Reading a source file and turning its bytes into the UTF-8 text ruff's parser takes.
//!
//! - Size is checked on the metadata before reading, and again while reading (the file may grow
//!   in between): over `max_file_size` is `file-too-large`; 4 GiB or more is refused whatever the
//!   setting, because ruff's text offsets are `u32` and it panics beyond them.
//! - Only regular files are read: a FIFO named `x.py` would block the run forever.
//! - A UTF-8 byte order mark is stripped (and then wins over any coding cookie, as in CPython).
//! - PEP 263 (<https://peps.python.org/pep-0263/>): a comment matching
//!   `^[ \t\f]*#.*?coding[:=][ \t]*([-\w.]+)` on line 1, or on line 2 when line 1 is blank or a
//!   comment, names the encoding. Names are looked up as WHATWG labels through `encoding_rs`,
//!   after CPython's own normalisation (`latin-1` → `iso-8859-1`, `_` → `-`). WHATWG decodes
//!   `iso-8859-1` as windows-1252, which differs from Latin-1 only in 0x80–0x9F (C1 controls):
//!   that changes string contents, never an import. Names encoding_rs does not know (`cp437`,
//!   `rot13`) and encodings that are not ASCII-compatible (UTF-16) are `unknown-encoding`.
//! - Invalid UTF-8 without a cookie is `decode-error` at the line and column of the first bad
//!   byte. The file is then parsed from its lossy decoding (each bad sequence becomes U+FFFD):
//!   line numbers are unchanged, and the imports are usually plain ASCII, so recovering them is
//!   worth more than refusing the file. The same holds after an unknown encoding.
//! - Binary files: a NUL in the first 8 KiB together with invalid UTF-8, NULs in over 10% of
//!   those bytes, or a UTF-16 byte order mark is `binary-file`, and the file is skipped. A stray NUL in an otherwise
//!   textual file is `nul-byte` (CPython refuses such a file); the NULs are replaced by spaces
//!   so that the rest of the file still yields its imports.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

use crate::diagnostic::{Code, Diagnostic};
use crate::fsread::FolderOpener;

pub const FILE_TOO_LARGE: Code = Code("file-too-large");
pub const UNREADABLE_FILE: Code = Code("unreadable-file");
pub const DECODE_ERROR: Code = Code("decode-error");
pub const UNKNOWN_ENCODING: Code = Code("unknown-encoding");
pub const BINARY_FILE: Code = Code("binary-file");
pub const NUL_BYTE: Code = Code("nul-byte");

/// ruff's parser addresses text with `u32` offsets.
const PARSER_LIMIT: u64 = u32::MAX as u64;

/// How much of the start of a file the binary sniffing looks at (git uses the same amount).
const SNIFF_LEN: usize = 8000;

/// Reads `path`, opened through `opener` (see [`FolderOpener`]), refusing what is not a
/// regular file or is larger than `max_size` bytes. `rel` names the file in diagnostics.
pub fn read_source(
    opener: &mut FolderOpener,
    path: &Path,
    rel: &str,
    max_size: u64,
) -> Result<Vec<u8>, Diagnostic> {
    let unreadable = |err: std::io::Error| {
        Diagnostic::error(UNREADABLE_FILE, format!("cannot read {rel}: {err}")).with_file(rel)
    };
    // Opened without blocking (a FIFO swapped in since the walk), then checked on the handle:
    // one path lookup per file, not two.
    let (file, len) = opener.open_regular(path).map_err(|err| match err {
        crate::fsread::ReadError::NotRegular { .. } => {
            Diagnostic::error(UNREADABLE_FILE, format!("{rel} is not a regular file"))
                .with_file(rel)
        }
        crate::fsread::ReadError::Io { source, .. } => unreadable(source),
        other => unreadable(std::io::Error::other(other.to_string())),
    })?;
    let limit = max_size.min(PARSER_LIMIT - 1);
    if len > limit {
        return Err(too_large(rel, len, limit));
    }
    let bytes = read_whole(file, len, limit).map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(too_large(rel, bytes.len() as u64, limit));
    }
    Ok(bytes)
}

/// The bytes of `file`, whose metadata gave `len`, up to `limit + 1` of them. The first read
/// asks for one byte more than `len`: when it returns exactly `len`, a regular file is at its
/// end, and the read that would only confirm it (one syscall per source file) is not made.
fn read_whole(file: std::fs::File, len: u64, limit: u64) -> std::io::Result<Vec<u8>> {
    let mut file = file.take(limit + 1);
    let Ok(want) = usize::try_from(len.min(limit) + 1) else {
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes)?;
        return Ok(bytes);
    };
    let mut bytes = vec![0; want];
    let mut filled = 0;
    while filled < want {
        match file.read(&mut bytes[filled..]) {
            Ok(0) => break,
            Ok(n) => {
                filled += n;
                if filled as u64 == len {
                    break;
                }
            }
            Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    bytes.truncate(filled);
    if filled == want {
        // Longer than the metadata said: it grew since; the rest as it comes.
        file.read_to_end(&mut bytes)?;
    }
    Ok(bytes)
}

fn too_large(rel: &str, len: u64, limit: u64) -> Diagnostic {
    let diagnostic = Diagnostic::warning(
        FILE_TOO_LARGE,
        format!("{rel} is over {limit} bytes; its imports are not scanned"),
    )
    .with_file(rel);
    if len >= PARSER_LIMIT {
        diagnostic.with_hint("files of 4 GiB or more cannot be parsed at all")
    } else {
        diagnostic.with_hint("raise --max-file-size or max-file-size in [tool.envscan]")
    }
}

/// Decoded text and the problems met on the way. `None` text: skip the file.
#[derive(Debug)]
pub struct Decoded<'a> {
    /// The bytes themselves when they are UTF-8 already (nearly always): no copy of the file.
    pub text: Option<Cow<'a, str>>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Turns the bytes of a `.py` file into UTF-8 text following PEP 263.
pub fn decode_python<'a>(bytes: &'a [u8], rel: &str) -> Decoded<'a> {
    let mut diagnostics = Vec::new();
    if let Some(diagnostic) = sniff_binary(bytes, rel) {
        return Decoded {
            text: None,
            diagnostics: vec![diagnostic],
        };
    }
    let (bytes, has_bom) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(rest) => (rest, true),
        None => (bytes, false),
    };
    let cookie = if has_bom { None } else { coding_cookie(bytes) };
    let text = match cookie {
        Some((label, line)) => decode_with_label(bytes, &label, line, rel, &mut diagnostics),
        None => decode_utf8(bytes, rel, &mut diagnostics),
    };
    Decoded {
        text: Some(replace_nul(text, rel, &mut diagnostics)),
        diagnostics,
    }
}

fn sniff_binary(bytes: &[u8], rel: &str) -> Option<Diagnostic> {
    if bytes.starts_with(b"\xFF\xFE") || bytes.starts_with(b"\xFE\xFF") {
        return Some(
            Diagnostic::warning(BINARY_FILE, format!("{rel} is UTF-16 text; skipped"))
                .with_file(rel)
                .with_hint(
                    "Python source must be in an ASCII-compatible encoding: save it as UTF-8",
                ),
        );
    }
    let head = &bytes[..bytes.len().min(SNIFF_LEN)];
    // Nearly every file has none: one vectorised search instead of a count of every byte.
    memchr::memchr(0, head)?;
    let nuls = memchr::memchr_iter(0, head).count();
    // A NUL is valid UTF-8, so a stray one in a text file is not enough to call it binary.
    if nuls * 10 > head.len() || std::str::from_utf8(bytes).is_err() {
        return Some(
            Diagnostic::warning(
                BINARY_FILE,
                format!("{rel} looks like a binary file, not Python source; skipped"),
            )
            .with_file(rel),
        );
    }
    None
}

/// The encoding label of a PEP 263 cookie and its 1-based line.
fn coding_cookie(bytes: &[u8]) -> Option<(String, u32)> {
    let mut lines = bytes.split(|&b| b == b'\n');
    let first = lines.next()?;
    if let Some(label) = cookie_in_line(first) {
        return Some((label, 1));
    }
    // Line 2 counts only when line 1 is blank or a comment (CPython's tokenizer rule).
    let first_trimmed = trim_start(first);
    if !(first_trimmed.is_empty() || first_trimmed.starts_with(b"#") || first_trimmed == b"\r") {
        return None;
    }
    cookie_in_line(lines.next()?).map(|label| (label, 2))
}

fn trim_start(line: &[u8]) -> &[u8] {
    let start = line
        .iter()
        .position(|b| !matches!(b, b' ' | b'\t' | b'\x0c'))
        .unwrap_or(line.len());
    &line[start..]
}

fn cookie_in_line(line: &[u8]) -> Option<String> {
    let line = trim_start(line);
    if !line.starts_with(b"#") {
        return None;
    }
    let mut from = 0;
    while let Some(pos) = find(&line[from..], b"coding") {
        let after = from + pos + b"coding".len();
        if matches!(line.get(after), Some(b':' | b'=')) {
            let rest = trim_start(&line[after + 1..]);
            let len = rest
                .iter()
                .position(|&b| !(b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.')))
                .unwrap_or(rest.len());
            if len > 0 {
                return Some(String::from_utf8_lossy(&rest[..len]).into_owned());
            }
        }
        from = after;
    }
    None
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// Looks a cookie's name up, CPython's spellings first, then as a WHATWG label.
fn encoding_for(label: &str) -> Option<&'static encoding_rs::Encoding> {
    let normal = label.to_ascii_lowercase().replace('_', "-");
    // CPython's `get_normal_name`: utf-8 and latin-1 with any `-suffix`.
    let python_name = if normal == "utf-8" || normal.starts_with("utf-8-") || normal == "utf8" {
        "utf-8"
    } else if ["latin-1", "iso-8859-1", "iso-latin-1"]
        .iter()
        .any(|n| normal == *n || normal.starts_with(&format!("{n}-")))
    {
        "iso-8859-1"
    } else {
        normal.as_str()
    };
    let encoding = encoding_rs::Encoding::for_label(label.as_bytes())
        .or_else(|| encoding_rs::Encoding::for_label(python_name.as_bytes()))?;
    // UTF-16 and the WHATWG "replacement" encoding cannot hold Python source.
    (encoding.is_ascii_compatible() && encoding != encoding_rs::REPLACEMENT).then_some(encoding)
}

fn decode_with_label<'a>(
    bytes: &'a [u8],
    label: &str,
    cookie_line: u32,
    rel: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Cow<'a, str> {
    let Some(encoding) = encoding_for(label) else {
        diagnostics.push(
            Diagnostic::error(
                UNKNOWN_ENCODING,
                format!("unknown or unsupported source encoding `{label}`"),
            )
            .with_file(rel)
            .with_line(cookie_line)
            .with_hint("the file was read as UTF-8 to recover its imports"),
        );
        return decode_utf8(bytes, rel, diagnostics);
    };
    if encoding == encoding_rs::UTF_8 {
        return decode_utf8(bytes, rel, diagnostics);
    }
    let (text, had_errors) = encoding.decode_without_bom_handling(bytes);
    if had_errors {
        diagnostics.push(
            Diagnostic::error(
                DECODE_ERROR,
                format!(
                    "bytes that are not valid {} (declared on line {cookie_line})",
                    encoding.name()
                ),
            )
            .with_file(rel),
        );
    }
    text
}

fn decode_utf8<'a>(bytes: &'a [u8], rel: &str, diagnostics: &mut Vec<Diagnostic>) -> Cow<'a, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(err) => {
            let good = &bytes[..err.valid_up_to()];
            let line = good.iter().filter(|&&b| b == b'\n').count() + 1;
            let line_start = good.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
            // `good` is valid UTF-8 up to here, so this counts characters.
            let column = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
            diagnostics.push(
                Diagnostic::error(
                    DECODE_ERROR,
                    format!(
                        "invalid UTF-8 (byte 0x{:02X}) and no coding cookie",
                        bytes[err.valid_up_to()]
                    ),
                )
                .with_file(rel)
                .at(saturate(line), saturate(column))
                .with_hint(
                    "declare the encoding on line 1 (`# -*- coding: latin-1 -*-`) or save \
                     the file as UTF-8; imports were recovered from a lossy decoding",
                ),
            );
            Cow::Owned(String::from_utf8_lossy(bytes).into_owned())
        }
    }
}

fn replace_nul<'a>(
    text: Cow<'a, str>,
    rel: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Cow<'a, str> {
    let Some(offset) = memchr::memchr(0, text.as_bytes()) else {
        return text;
    };
    let line = text[..offset].matches('\n').count() + 1;
    diagnostics.push(
        Diagnostic::error(
            NUL_BYTE,
            "source contains a NUL byte, which Python refuses".to_string(),
        )
        .with_file(rel)
        .with_line(saturate(line))
        .with_hint("imports were recovered with NUL bytes read as spaces"),
    );
    Cow::Owned(text.replace('\0', " "))
}

pub(super) fn saturate(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

/// Strips a UTF-8 BOM from notebook JSON (serde_json refuses it).
pub fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(bytes: &[u8]) -> Decoded<'_> {
        decode_python(bytes, "x.py")
    }

    #[test]
    fn latin1_cookie_on_line_one_decodes_non_ascii_bytes() {
        let decoded = decode(b"# -*- coding: latin-1 -*-\ns = '\xe9t\xe9'\nimport os\n");
        assert!(decoded.diagnostics.is_empty(), "{:?}", decoded.diagnostics);
        assert!(decoded.text.unwrap().contains("'été'"));
    }

    #[test]
    fn vim_style_cookie_on_line_two_after_a_shebang_is_honoured() {
        let decoded =
            decode(b"#!/usr/bin/env python\n# vim: set fileencoding=cp1252 :\nx='\x80'\n");
        assert!(decoded.diagnostics.is_empty());
        assert!(decoded.text.unwrap().contains('€'));
    }

    #[test]
    fn cookie_on_line_two_after_code_is_ignored() {
        assert_eq!(coding_cookie(b"import os\n# coding: latin-1\n"), None);
    }

    #[test]
    fn unknown_encoding_is_reported_on_its_line_and_the_text_still_decoded() {
        let decoded = decode(b"\n# coding: klingon\nimport os\n");
        assert_eq!(decoded.diagnostics[0].code, UNKNOWN_ENCODING);
        assert_eq!(decoded.diagnostics[0].line, Some(2));
        assert!(decoded.text.unwrap().contains("import os"));
    }

    #[test]
    fn utf16_cookie_is_refused_as_unsupported() {
        let decoded = decode(b"# coding: utf-16\nimport os\n");
        assert_eq!(decoded.diagnostics[0].code, UNKNOWN_ENCODING);
    }

    #[test]
    fn invalid_utf8_without_cookie_names_the_line_and_column_of_the_bad_byte() {
        let decoded = decode(b"import os\nx = '\xc3\xa9\xff'\n");
        let d = &decoded.diagnostics[0];
        assert_eq!(d.code, DECODE_ERROR);
        assert_eq!((d.line, d.column), (Some(2), Some(7)));
        assert!(decoded.text.unwrap().starts_with("import os\n"));
    }

    #[test]
    fn bom_is_stripped_and_wins_over_a_cookie() {
        let decoded = decode(b"\xEF\xBB\xBF# coding: latin-1\nx = '\xc3\xa9'\n");
        assert!(decoded.diagnostics.is_empty());
        assert_eq!(decoded.text.unwrap(), "# coding: latin-1\nx = 'é'\n");
    }

    #[test]
    fn stray_nul_is_reported_and_read_as_a_space() {
        let decoded = decode(b"import os\nx = 1\0\nimport sys\n");
        assert_eq!(decoded.diagnostics[0].code, NUL_BYTE);
        assert_eq!(decoded.diagnostics[0].line, Some(2));
        assert_eq!(decoded.text.unwrap(), "import os\nx = 1 \nimport sys\n");
    }

    #[test]
    fn bytes_with_nuls_and_invalid_utf8_are_a_binary_file() {
        let decoded = decode(b"\x7fELF\x02\x01\x01\0\0\0\xff\xfe");
        assert!(decoded.text.is_none());
        assert_eq!(decoded.diagnostics[0].code, BINARY_FILE);
    }

    #[test]
    fn utf16_text_is_a_binary_file() {
        let decoded = decode(b"\xFF\xFEi\0m\0p\0");
        assert!(decoded.text.is_none());
    }

    #[test]
    fn file_over_the_size_limit_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.py");
        fs_err::write(&path, "import os\n".repeat(100)).unwrap();
        let err = read_source(&mut FolderOpener::default(), &path, "big.py", 10).unwrap_err();
        assert_eq!(err.code, FILE_TOO_LARGE);
        assert!(read_source(&mut FolderOpener::default(), &path, "big.py", 10_000).is_ok());
    }

    #[test]
    fn a_file_is_read_whole_at_every_length_around_its_metadata_size() {
        let dir = tempfile::tempdir().unwrap();
        let mut opener = FolderOpener::default();
        for len in [0, 1, 2, 4095, 4096, 4097, 100_000] {
            let path = dir.path().join(format!("f{len}.py"));
            let text: Vec<u8> = (0..len).map(|i| b'a' + (i % 26) as u8).collect();
            fs_err::write(&path, &text).unwrap();
            let read = read_source(&mut opener, &path, "f.py", 1 << 20).unwrap();
            assert_eq!(read, text, "length {len}");
            // At the size limit exactly it is read; one byte over, refused.
            if len > 0 {
                let at_limit = read_source(&mut opener, &path, "f.py", len as u64).unwrap();
                assert_eq!(at_limit.len(), len);
                let over = read_source(&mut opener, &path, "f.py", len as u64 - 1).unwrap_err();
                assert_eq!(over.code, FILE_TOO_LARGE);
            }
        }
    }

    #[test]
    fn a_file_longer_than_its_metadata_says_is_read_to_its_end() {
        // /proc files are regular files whose metadata gives size 0: the size the first read
        // is sized by is wrong, as for a file that grew after it was looked at.
        let path = Path::new("/proc/self/status");
        let read = read_source(&mut FolderOpener::default(), path, "status", 1 << 20).unwrap();
        let text = String::from_utf8(read).unwrap();
        assert!(text.starts_with("Name:"), "{text}");
        assert!(text.contains("\nPid:") && text.ends_with('\n'), "{text}");
    }

    #[test]
    fn missing_file_is_unreadable_and_named() {
        let err = read_source(
            &mut FolderOpener::default(),
            Path::new("/nonexistent/x.py"),
            "x.py",
            100,
        )
        .unwrap_err();
        assert_eq!(err.code, UNREADABLE_FILE);
        assert!(err.message.contains("x.py"));
    }
}
