//! Project pages of the simple repository API: PEP 691 JSON, with PEP 503 HTML as fallback.
//!
//! Spec: <https://packaging.python.org/en/latest/specifications/simple-repository-api/>.
//! - The Content-Type decides the parser: `application/vnd.pypi.simple.v1+json` (or
//!   `application/json`) is JSON; `application/vnd.pypi.simple.v1+html` or `text/html` is
//!   HTML; anything else is refused.
//! - JSON must have `meta.api-version` with major version 1 (PEP 691 says to refuse other
//!   majors), `files` as a list of objects with string `filename` and `url`; `hashes` is an
//!   object of strings, `size` (api-version 1.1) a number, `yanked` a bool or a reason string,
//!   `requires-python` a string or null. `name`, when present, must be the project asked for.
//! - HTML: each `<a href>` is a file, its text the filename, `#sha256=` in the href the hash,
//!   `data-requires-python` and `data-yanked` (present = yanked, even empty) attributes, HTML
//!   entities decoded (`&gt;=3.8`), `<base href>` honoured. A page with a `<form>` or a
//!   password field, or with neither a file link nor the `pypi:repository-version` meta tag,
//!   is not a project page: typically a proxy's login page served with status 200.
//! - URLs are resolved against the final response URL (mirrors serve relative ones), then
//!   stripped of credentials and fragment. Only `http`/`https` file URLs are kept.
//! - Files whose name is not a wheel or sdist of this project (eggs, installers) are dropped
//!   here; the rest are grouped by their parsed version.

use std::collections::BTreeMap;
use std::str::FromStr;

use pep440_rs::Version;

use serde::{Deserialize, Serialize};
use url::Url;

use super::filename::parse_dist_filename;
use super::redact::strip_credentials;
use super::{DistFile, DistKind};
use crate::names::PackageName;

pub const ACCEPT: &str = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01";

/// A validated project page: the files of the project grouped by version (PEP 440
/// normalised text, so lookups of an exact version need no scan of every file).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProjectPage {
    pub versions: BTreeMap<String, Vec<DistFile>>,
}

impl ProjectPage {
    /// The files of `wanted`, or `None` when the page has none. `1.0` finds `1.0.0` too
    /// (PEP 440 equality), through a scan of the version keys when the text differs.
    pub fn files_of(&self, wanted: &Version) -> Option<Vec<DistFile>> {
        if let Some(files) = self.versions.get(&wanted.to_string()) {
            return Some(files.clone());
        }
        self.versions
            .iter()
            .find(|(key, _)| Version::from_str(key).is_ok_and(|v| v == *wanted))
            .map(|(_, files)| files.clone())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

/// The parser for a Content-Type header, or why the body cannot be a project page.
pub fn format_of(content_type: Option<&str>) -> Result<Format, String> {
    let Some(content_type) = content_type else {
        return Err("the response has no Content-Type".to_string());
    };
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    match essence.as_str() {
        "application/vnd.pypi.simple.v1+json"
        | "application/vnd.pypi.simple.latest+json"
        | "application/json" => Ok(Format::Json),
        "application/vnd.pypi.simple.v1+html"
        | "application/vnd.pypi.simple.latest+html"
        | "text/html"
        | "application/xhtml+xml" => Ok(Format::Html),
        other => Err(format!("unexpected Content-Type `{other}`")),
    }
}

/// Parses and validates a body of the given format.
pub fn parse(
    format: Format,
    body: &[u8],
    base: &Url,
    project: &PackageName,
) -> Result<ProjectPage, String> {
    let files = match format {
        Format::Json => parse_json(body, base, project)?,
        Format::Html => {
            let text = std::str::from_utf8(body)
                .map_err(|_| "the HTML page is not valid UTF-8".to_string())?;
            parse_html(text, base)?
        }
    };
    let mut page = ProjectPage::default();
    for raw in files {
        if let Some((version, file)) = raw.into_dist_file(project) {
            page.versions.entry(version).or_default().push(file);
        }
    }
    Ok(page)
}

/// A file entry before its name is checked.
struct RawFile {
    filename: String,
    url: Url,
    size: Option<u64>,
    sha256: Option<String>,
    requires_python: Option<String>,
    yanked: bool,
}

impl RawFile {
    fn into_dist_file(self, project: &PackageName) -> Option<(String, DistFile)> {
        let parsed = parse_dist_filename(&self.filename, project)?;
        let kind: DistKind = parsed.kind;
        Some((
            parsed.version.to_string(),
            DistFile {
                filename: self.filename,
                url: self.url.to_string(),
                size: self.size,
                sha256: self.sha256,
                requires_python: self.requires_python,
                yanked: self.yanked,
                kind,
            },
        ))
    }
}

#[derive(Deserialize)]
struct JsonPage {
    meta: JsonMeta,
    #[serde(default)]
    name: Option<String>,
    files: Vec<JsonFile>,
}

#[derive(Deserialize)]
struct JsonMeta {
    #[serde(rename = "api-version")]
    api_version: String,
}

#[derive(Deserialize)]
struct JsonFile {
    filename: String,
    url: String,
    #[serde(default)]
    hashes: BTreeMap<String, String>,
    #[serde(rename = "requires-python", default)]
    requires_python: Option<String>,
    #[serde(default)]
    yanked: Yanked,
    #[serde(default)]
    size: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Yanked {
    #[default]
    No,
    Flag(bool),
    /// The reason is not kept: a yanked file is reported as yanked, whatever the cause.
    Reason(#[allow(dead_code)] String),
}

fn parse_json(body: &[u8], base: &Url, project: &PackageName) -> Result<Vec<RawFile>, String> {
    let page: JsonPage = serde_json::from_slice(body).map_err(|err| {
        if err.is_eof() {
            format!("the JSON ends early (truncated body?): {err}")
        } else {
            format!("the JSON does not have the PEP 691 shape: {err}")
        }
    })?;
    let major = page.meta.api_version.split('.').next().unwrap_or_default();
    if major != "1" {
        return Err(format!(
            "unsupported api-version {} (envscan reads 1.x)",
            page.meta.api_version
        ));
    }
    if let Some(name) = &page.name
        && PackageName::new(name) != *project
    {
        return Err(format!("the page is for project `{name}`, not `{project}`"));
    }
    let mut files = Vec::with_capacity(page.files.len());
    for file in page.files {
        let Some((url, fragment_hash)) = resolve_file_url(base, &file.url) else {
            continue;
        };
        let sha256 = file
            .hashes
            .get("sha256")
            .and_then(|h| valid_sha256(h))
            .or(fragment_hash);
        files.push(RawFile {
            filename: file.filename,
            url,
            size: file.size,
            sha256,
            requires_python: file.requires_python.filter(|r| !r.trim().is_empty()),
            yanked: match file.yanked {
                Yanked::No | Yanked::Flag(false) => false,
                Yanked::Flag(true) | Yanked::Reason(_) => true,
            },
        });
    }
    Ok(files)
}

/// Resolves `href` against `base`; `None` for URLs that are not http(s). Returns the hash
/// from a `#sha256=` fragment too.
fn resolve_file_url(base: &Url, href: &str) -> Option<(Url, Option<String>)> {
    let mut url = base.join(href.trim()).ok()?;
    if !matches!(url.scheme(), "http" | "https") {
        return None;
    }
    let hash = url
        .fragment()
        .and_then(|f| f.strip_prefix("sha256="))
        .and_then(valid_sha256);
    url.set_fragment(None);
    Some((strip_credentials(&url), hash))
}

fn valid_sha256(hex: &str) -> Option<String> {
    (hex.len() == 64 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
        .then(|| hex.to_ascii_lowercase())
}

/// One start tag: its lowercase name, attributes (names lowercase, values decoded) and the
/// byte offset just after it.
struct Tag {
    name: String,
    attributes: Vec<(String, Option<String>)>,
    end: usize,
}

impl Tag {
    fn attribute(&self, name: &str) -> Option<Option<&str>> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_deref())
    }
}

fn parse_html(text: &str, base: &Url) -> Result<Vec<RawFile>, String> {
    let mut base = base.clone();
    let mut files = Vec::new();
    let mut has_repository_meta = false;
    let mut other_links = 0usize;
    let mut pos = 0;
    while let Some(offset) = text[pos..].find('<') {
        let start = pos + offset;
        if text[start..].starts_with("<!--") {
            pos = text[start..]
                .find("-->")
                .map_or(text.len(), |end| start + end + 3);
            continue;
        }
        let Some(tag) = read_tag(text, start) else {
            pos = start + 1;
            continue;
        };
        pos = tag.end;
        match tag.name.as_str() {
            "form" | "input" | "textarea" | "select" => {
                return Err(
                    "got an HTML page with a form (a login page?) instead of a project page"
                        .to_string(),
                );
            }
            "base" => {
                if let Some(Some(href)) = tag.attribute("href")
                    && let Ok(url) = base.join(href)
                {
                    base = url;
                }
            }
            "meta" if tag.attribute("name") == Some(Some("pypi:repository-version")) => {
                has_repository_meta = true;
                let version = tag.attribute("content").flatten().unwrap_or("1.0");
                if version.split('.').next() != Some("1") {
                    return Err(format!("unsupported repository-version {version}"));
                }
            }
            "a" => {
                let close = find_ascii_case_insensitive(&text[pos..], "</a")
                    .map_or(text.len(), |i| pos + i);
                let filename = decode_entities(strip_tags(&text[pos..close]).trim());
                pos = close;
                let Some(Some(href)) = tag.attribute("href") else {
                    other_links += 1;
                    continue;
                };
                let Some((url, sha256)) = resolve_file_url(&base, href) else {
                    other_links += 1;
                    continue;
                };
                files.push(RawFile {
                    filename,
                    url,
                    size: None,
                    sha256,
                    requires_python: tag
                        .attribute("data-requires-python")
                        .flatten()
                        .map(str::to_string)
                        .filter(|r| !r.trim().is_empty()),
                    yanked: tag.attribute("data-yanked").is_some(),
                });
            }
            _ => {}
        }
    }
    let looks_like_files = files.iter().any(|f| is_distribution_name(&f.filename));
    if !has_repository_meta && !looks_like_files {
        return Err(format!(
            "got an HTML page without distribution links ({} link(s), no \
             pypi:repository-version) instead of a project page",
            files.len() + other_links
        ));
    }
    Ok(files)
}

fn is_distribution_name(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    [
        ".whl", ".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".egg", ".exe", ".msi",
    ]
    .iter()
    .any(|ext| lower.ends_with(ext))
}

/// Reads the start tag at `start` (which holds `<`). `None` for end tags, doctypes and
/// anything malformed.
fn read_tag(text: &str, start: usize) -> Option<Tag> {
    let bytes = text.as_bytes();
    let mut i = start + 1;
    let name_start = i;
    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
        i += 1;
    }
    if i == name_start {
        return None;
    }
    let name = text[name_start..i].to_ascii_lowercase();
    let mut attributes = Vec::new();
    loop {
        while i < bytes.len() && (bytes[i].is_ascii_whitespace() || bytes[i] == b'/') {
            i += 1;
        }
        if i >= bytes.len() {
            return None;
        }
        if bytes[i] == b'>' {
            return Some(Tag {
                name,
                attributes,
                end: i + 1,
            });
        }
        let attr_start = i;
        while i < bytes.len()
            && !matches!(bytes[i], b'=' | b'>' | b'/')
            && !bytes[i].is_ascii_whitespace()
        {
            i += 1;
        }
        let attr = text[attr_start..i].to_ascii_lowercase();
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'=' {
            i += 1;
            while i < bytes.len() && bytes[i].is_ascii_whitespace() {
                i += 1;
            }
            let value = match bytes.get(i) {
                Some(&quote @ (b'"' | b'\'')) => {
                    let value_start = i + 1;
                    let end = text[value_start..].find(quote as char)? + value_start;
                    i = end + 1;
                    &text[value_start..end]
                }
                _ => {
                    let value_start = i;
                    while i < bytes.len() && bytes[i] != b'>' && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    &text[value_start..i]
                }
            };
            attributes.push((attr, Some(decode_entities(value))));
        } else if !attr.is_empty() {
            attributes.push((attr, None));
        } else {
            i += 1;
        }
    }
}

fn strip_tags(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_tag = false;
    for c in text.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            _ if !in_tag => out.push(c),
            _ => {}
        }
    }
    out
}

fn find_ascii_case_insensitive(haystack: &str, needle: &str) -> Option<usize> {
    haystack
        .as_bytes()
        .windows(needle.len())
        .position(|w| w.eq_ignore_ascii_case(needle.as_bytes()))
}

/// Decodes the entities a simple page uses: the five XML ones, `&nbsp;` and numeric ones.
/// Anything else is left as written.
pub fn decode_entities(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        out.push_str(&rest[..amp]);
        rest = &rest[amp..];
        // An entity is short: look for its `;` in the next 12 bytes, cut at a character
        // boundary (a page may put any text after a `&`; found by fuzz/fuzz_targets/simple_index.rs).
        let mut window = rest.len().min(12);
        while !rest.is_char_boundary(window) {
            window -= 1;
        }
        let Some(semi) = rest[..window].find(';') else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..semi];
        let decoded = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            "nbsp" => Some('\u{a0}'),
            _ => entity.strip_prefix('#').and_then(|num| {
                let code = match num.strip_prefix(['x', 'X']) {
                    Some(hex) => u32::from_str_radix(hex, 16).ok()?,
                    None => num.parse().ok()?,
                };
                char::from_u32(code)
            }),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[semi + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> Url {
        Url::parse("https://mirror.example/simple/pkg/").unwrap()
    }

    fn pkg() -> PackageName {
        PackageName::new("pkg")
    }

    #[test]
    fn content_types_choose_the_parser() {
        assert_eq!(
            format_of(Some("application/vnd.pypi.simple.v1+json")),
            Ok(Format::Json)
        );
        assert_eq!(
            format_of(Some("text/html; charset=utf-8")),
            Ok(Format::Html)
        );
        assert!(format_of(Some("application/octet-stream")).is_err());
        assert!(format_of(None).is_err());
    }

    #[test]
    fn json_files_resolve_relative_urls_and_read_yanked_reasons() {
        let body = br#"{"meta":{"api-version":"1.0"},"name":"pkg","files":[
            {"filename":"pkg-1.0.tar.gz","url":"../../packages/pkg-1.0.tar.gz#sha256=ignored",
             "hashes":{"sha256":"AB00000000000000000000000000000000000000000000000000000000000000"},
             "yanked":"broken"},
            {"filename":"pkg-1.0-py3-none-any.whl","url":"https://files.example/p.whl",
             "hashes":{},"size":12,"requires-python":">=3.8"},
            {"filename":"pkg-1.0-py2.7.egg","url":"e.egg","hashes":{}}]}"#;
        let page = parse(Format::Json, body, &base(), &pkg()).unwrap();
        let files = &page.versions["1.0"];
        assert_eq!(files.len(), 2);
        let sdist = &files[0];
        assert_eq!(sdist.url, "https://mirror.example/packages/pkg-1.0.tar.gz");
        assert_eq!(
            sdist.sha256.as_deref(),
            Some("ab00000000000000000000000000000000000000000000000000000000000000")
        );
        assert!(sdist.yanked);
        assert_eq!(sdist.size, None);
        let wheel = &files[1];
        assert_eq!(wheel.size, Some(12));
        assert_eq!(wheel.requires_python.as_deref(), Some(">=3.8"));
        assert!(!wheel.yanked);
    }

    #[test]
    fn json_of_the_wrong_shape_or_project_is_refused() {
        let wrong = br#"{"meta":{"api-version":"1.0"},"files":[{"filename":3}]}"#;
        assert!(parse(Format::Json, wrong, &base(), &pkg()).is_err());
        let other = br#"{"meta":{"api-version":"1.0"},"name":"other","files":[]}"#;
        assert!(
            parse(Format::Json, other, &base(), &pkg())
                .unwrap_err()
                .contains("other")
        );
        let v2 = br#"{"meta":{"api-version":"2.0"},"files":[]}"#;
        assert!(
            parse(Format::Json, v2, &base(), &pkg())
                .unwrap_err()
                .contains("2.0")
        );
        let truncated = br#"{"meta":{"api-version":"1.0"},"files":[{"filena"#;
        assert!(
            parse(Format::Json, truncated, &base(), &pkg())
                .unwrap_err()
                .contains("truncated")
        );
    }

    #[test]
    fn html_anchors_give_hashes_requires_python_and_yanked() {
        let html = r#"<!DOCTYPE html><html><body><h1>Links for pkg</h1>
<a href="../../packages/pkg-1.0.tar.gz#sha256=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef" data-requires-python="&gt;=3.8">pkg-1.0.tar.gz</a><br/>
<A HREF='/f/pkg-1.0-py3-none-any.whl' data-yanked>pkg-1.0-py3-none-any.whl</A>
</body></html>"#;
        let page = parse(Format::Html, html.as_bytes(), &base(), &pkg()).unwrap();
        let files = &page.versions["1.0"];
        assert_eq!(files.len(), 2);
        let sdist = &files[0];
        assert_eq!(sdist.url, "https://mirror.example/packages/pkg-1.0.tar.gz");
        assert_eq!(sdist.sha256.as_deref().map(str::len), Some(64));
        assert_eq!(sdist.requires_python.as_deref(), Some(">=3.8"));
        assert!(!sdist.yanked);
        assert!(files[1].yanked);
        assert_eq!(
            files[1].url,
            "https://mirror.example/f/pkg-1.0-py3-none-any.whl"
        );
    }

    #[test]
    fn a_login_page_is_not_a_project_page() {
        let login = "<html><body><form action=/login><input type=password name=p></form>\
                     <a href=/help>Help</a></body></html>";
        assert!(
            parse(Format::Html, login.as_bytes(), &base(), &pkg())
                .unwrap_err()
                .contains("login")
        );
        let links = "<html><body><a href=/help>Help</a><a href=/about>About</a></body></html>";
        assert!(parse(Format::Html, links.as_bytes(), &base(), &pkg()).is_err());
    }

    #[test]
    fn an_empty_page_with_repository_meta_is_a_project_without_files() {
        let html = r#"<html><head><meta name="pypi:repository-version" content="1.1"></head><body></body></html>"#;
        assert_eq!(
            parse(Format::Html, html.as_bytes(), &base(), &pkg()).unwrap(),
            ProjectPage::default()
        );
    }

    #[test]
    fn files_of_finds_a_version_written_differently_but_equal_under_pep_440() {
        let body = br#"{"meta":{"api-version":"1.1"},"files":[
            {"filename":"pkg-1.0.tar.gz","url":"a.tar.gz","hashes":{}},
            {"filename":"pkg-1.0.1.tar.gz","url":"b.tar.gz","hashes":{}}]}"#;
        let page = parse(Format::Json, body, &base(), &pkg()).unwrap();
        let wanted = Version::from_str("1.0.0").unwrap();
        let files = page.files_of(&wanted).unwrap();
        assert_eq!(files[0].filename, "pkg-1.0.tar.gz");
        assert_eq!(page.files_of(&Version::from_str("1.1").unwrap()), None);
    }

    #[test]
    fn an_ampersand_before_non_ascii_text_is_kept_without_a_panic() {
        // Regression (fuzz target `simple_index`): the 12-byte window after `&` was cut inside
        // a multi-byte character and panicked on an index page's link text.
        assert_eq!(
            decode_entities("a&bcdefghijk\u{358};"),
            "a&bcdefghijk\u{358};"
        );
        assert_eq!(decode_entities("&é&amp;"), "&é&");
    }

    #[test]
    fn entities_decode_and_unknown_ones_stay() {
        assert_eq!(
            decode_entities("&gt;=3.8, &lt;4 &amp; &#33;&#x41; &bogus; a&b"),
            ">=3.8, <4 & !A &bogus; a&b"
        );
    }
}
