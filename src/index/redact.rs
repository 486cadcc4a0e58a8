//! Keeping credentials out of everything envscan shows or stores.
//!
//! An index URL may carry `user:password@`; netrc may supply them too. They are split off
//! the URL as soon as it is read ([`split_credentials`]), travel only as [`Credentials`]
//! (whose `Debug` hides the password) to the basic-auth header, and every error text is
//! passed through [`scrub`] as a last guard, because library errors (reqwest's among them)
//! like to quote the URL they failed on.

use std::fmt;

use url::Url;

/// Basic-auth credentials for one index.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub password: Option<String>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &"****")
            .field("password", &self.password.as_ref().map(|_| "****"))
            .finish()
    }
}

impl Credentials {
    /// The strings that must never be shown: the password, and the username too, since
    /// token-only URLs (`https://TOKEN@host/`) put the secret there.
    pub fn secrets(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.username.as_str())
            .chain(self.password.as_deref())
            .filter(|s| s.len() >= 3)
    }
}

/// `url` without its user and password, and those as [`Credentials`] (percent-decoded).
pub fn split_credentials(url: &Url) -> (Url, Option<Credentials>) {
    if url.username().is_empty() && url.password().is_none() {
        return (url.clone(), None);
    }
    let decode = |s: &str| percent_decode(s).unwrap_or_else(|| s.to_string());
    let credentials = Credentials {
        username: decode(url.username()),
        password: url.password().map(decode),
    };
    (strip_credentials(url), Some(credentials))
}

/// `url` with user and password removed.
pub fn strip_credentials(url: &Url) -> Url {
    let mut clean = url.clone();
    // Both fail only for URLs that cannot have a host (`data:`), which carry no userinfo.
    let _ = clean.set_username("");
    let _ = clean.set_password(None);
    clean
}

/// Removes every `scheme://userinfo@` and every known secret from a text meant for people.
pub fn scrub<'a>(text: &str, secrets: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = strip_userinfo_in_text(text);
    for secret in secrets {
        if secret.is_empty() {
            continue;
        }
        out = out.replace(secret, "****");
        let encoded = percent_encode(secret);
        if encoded != secret {
            out = out.replace(&encoded, "****");
        }
    }
    out
}

/// A URL read from the environment (`direct_url.json`, conda-meta, egg-links) without the
/// credentials it may carry, so they never reach a lock, a report or an error: the password
/// always goes, and the user name too (a token-only URL, `https://TOKEN@host/`, puts the
/// secret there) except ssh's conventional `git@` with no password, which is no secret and
/// which `git+ssh://` URLs need. Text that does not parse as a URL loses every `userinfo@`.
pub fn redact_url(text: &str) -> String {
    let parsed = Url::parse(text);
    match &parsed {
        Ok(url) if url.username().is_empty() && url.password().is_none() => {
            // A `#`, `/` or `?` in an unencoded password ends the authority early, and the
            // parser sees no userinfo: decide on the raw text.
            if loose_userinfo_end(text).is_none() {
                return text.to_string();
            }
        }
        Ok(url) => {
            let mut clean = url.clone();
            let _ = clean.set_password(None);
            if url.password().is_some() || url.username() != "git" {
                let _ = clean.set_username("");
            }
            return clean.to_string();
        }
        Err(_) => {}
    }
    replace_loose_userinfo(text, "")
}

/// `text` (a URL as configured, possibly unparsable) with everything that may be userinfo
/// replaced by `****`, for messages about a URL that cannot be used.
pub fn mask_url(text: &str) -> String {
    replace_loose_userinfo(text, "****@")
}

/// Where the userinfo of `scheme://…` may end, read loosely: the last `@` of the first
/// whitespace-free token after `://`, since an unencoded password may hold `#`, `/` or `?`.
/// Ex) `https://u:pa#ss@host/` → the `@` before `host`.
fn loose_userinfo_end(text: &str) -> Option<(usize, usize)> {
    let start = text.find("://")? + 3;
    let token_end = text[start..]
        .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>'))
        .map_or(text.len(), |i| start + i);
    let at = text[start..token_end].rfind('@')?;
    Some((start, start + at))
}

fn replace_loose_userinfo(text: &str, with: &str) -> String {
    match loose_userinfo_end(text) {
        Some((start, at)) => format!("{}{with}{}", &text[..start], &text[at + 1..]),
        None => text.to_string(),
    }
}

/// `https://u:p@host/x` → `https://host/x` anywhere in a text.
pub fn strip_userinfo_in_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(pos) = rest.find("://") {
        let (head, tail) = rest.split_at(pos + 3);
        out.push_str(head);
        let authority_end = tail
            .find(|c: char| c == '/' || c == '?' || c == '#' || c.is_whitespace() || c == ')')
            .unwrap_or(tail.len());
        let authority = &tail[..authority_end];
        match authority.rfind('@') {
            Some(at) => rest = &tail[at + 1..],
            None => rest = tail,
        }
    }
    out.push_str(rest);
    out
}

fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_are_split_off_and_percent_decoded() {
        let url = Url::parse("https://alice:p%40ss@example.com/simple/").unwrap();
        let (clean, credentials) = split_credentials(&url);
        assert_eq!(clean.as_str(), "https://example.com/simple/");
        let credentials = credentials.unwrap();
        assert_eq!(credentials.username, "alice");
        assert_eq!(credentials.password.as_deref(), Some("p@ss"));
        assert!(!format!("{credentials:?}").contains("p@ss"));
    }

    #[test]
    fn urls_from_the_environment_lose_their_credentials() {
        assert_eq!(
            redact_url("git+https://user:tok3n@host.example/repo.git"),
            "git+https://host.example/repo.git"
        );
        assert_eq!(
            redact_url("https://ghp_secret@host.example/x.whl"),
            "https://host.example/x.whl"
        );
        assert_eq!(
            redact_url("git+ssh://git@host.example/o/r.git"),
            "git+ssh://git@host.example/o/r.git"
        );
        assert_eq!(redact_url("file:///src/x"), "file:///src/x");
        // An unencoded `#`, `/` or `?` in the password: the userinfo still goes.
        for raw in [
            "https://u:pa#ss@host.example/",
            "https://u:pa/ss@host.example/",
            "https://u:pa?ss@host.example/",
        ] {
            assert_eq!(redact_url(raw), "https://host.example/", "{raw}");
            assert_eq!(mask_url(raw), "https://****@host.example/", "{raw}");
        }
    }

    #[test]
    fn url_without_userinfo_has_no_credentials() {
        let url = Url::parse("https://pypi.org/simple/").unwrap();
        assert_eq!(split_credentials(&url).1, None);
    }

    #[test]
    fn scrub_removes_userinfo_and_secrets_from_error_text() {
        let text =
            "error sending request for url (https://bob:hunter22@host:8080/simple/x/): hunter22";
        let clean = scrub(text, ["hunter22"]);
        assert_eq!(
            clean,
            "error sending request for url (https://host:8080/simple/x/): ****"
        );
        assert_eq!(scrub("p%40ss and p@ss", ["p@ss"]), "**** and ****");
    }
}
