//! `~/.netrc` (or `$NETRC`): credentials per host, the way pip (through requests) and curl
//! read them.
//!
//! Format (<https://www.gnu.org/software/inetutils/manual/html_node/The-_002enetrc-file.html>):
//! whitespace-separated tokens; `machine NAME` starts an entry, `default` is the fallback for
//! any host, then `login`, `password`, `account` pairs. `macdef NAME` is followed by a macro
//! body that ends at a blank line and is skipped. The first matching `machine` wins; `default`
//! is used only when no `machine` matches. A file that is unreadable is treated as absent:
//! netrc is a convenience, never a reason to fail.

use super::redact::Credentials;

#[derive(Debug, Default)]
pub struct Netrc {
    machines: Vec<(String, Credentials)>,
    default: Option<Credentials>,
}

impl Netrc {
    pub fn parse(text: &str) -> Self {
        let mut netrc = Netrc::default();
        // (host or None for default, login, password)
        let mut current: Option<(Option<String>, Option<String>, Option<String>)> = None;
        let finish = |entry: Option<(Option<String>, Option<String>, Option<String>)>,
                      netrc: &mut Netrc| {
            if let Some((host, login, password)) = entry {
                let Some(username) = login.or_else(|| password.as_ref().map(|_| String::new()))
                else {
                    return;
                };
                let credentials = Credentials { username, password };
                match host {
                    Some(host) => netrc
                        .machines
                        .push((host.to_ascii_lowercase(), credentials)),
                    None => {
                        if netrc.default.is_none() {
                            netrc.default = Some(credentials);
                        }
                    }
                }
            }
        };
        let mut lines = text.lines();
        let mut tokens: Vec<String> = Vec::new();
        // Tokenise line by line so that `macdef` bodies (up to a blank line) can be skipped.
        while let Some(line) = lines.next() {
            for word in line.split_whitespace() {
                if word.starts_with('#') {
                    break;
                }
                if word == "macdef" {
                    for body in lines.by_ref() {
                        if body.trim().is_empty() {
                            break;
                        }
                    }
                    break;
                }
                tokens.push(word.to_string());
            }
        }
        let mut iter = tokens.into_iter();
        while let Some(token) = iter.next() {
            match token.as_str() {
                "machine" => {
                    finish(current.take(), &mut netrc);
                    current = iter.next().map(|host| (Some(host), None, None));
                }
                "default" => {
                    finish(current.take(), &mut netrc);
                    current = Some((None, None, None));
                }
                "login" => {
                    let value = iter.next();
                    if let Some(entry) = current.as_mut() {
                        entry.1 = value;
                    }
                }
                "password" => {
                    let value = iter.next();
                    if let Some(entry) = current.as_mut() {
                        entry.2 = value;
                    }
                }
                "account" => {
                    iter.next();
                }
                _ => {}
            }
        }
        finish(current.take(), &mut netrc);
        netrc
    }

    /// Credentials for `host`: its first `machine` entry, else `default`.
    pub fn lookup(&self, host: &str) -> Option<Credentials> {
        let host = host.to_ascii_lowercase();
        self.machines
            .iter()
            .find(|(machine, _)| *machine == host)
            .map(|(_, credentials)| credentials.clone())
            .or_else(|| self.default.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn machine_entry_matches_its_host_and_default_the_rest() {
        let netrc = Netrc::parse(
            "machine pypi.corp.example login alice password s3cret\n\
             # a comment\n\
             default login anon password anonpw\n",
        );
        let corp = netrc.lookup("PYPI.corp.example").unwrap();
        assert_eq!(corp.username, "alice");
        assert_eq!(corp.password.as_deref(), Some("s3cret"));
        assert_eq!(netrc.lookup("other.example").unwrap().username, "anon");
    }

    #[test]
    fn macdef_body_is_skipped_until_a_blank_line() {
        let netrc = Netrc::parse(
            "macdef init\nmachine evil login x password y\n\nmachine host login u password p\n",
        );
        assert!(netrc.lookup("evil").is_none());
        assert_eq!(netrc.lookup("host").unwrap().username, "u");
    }

    #[test]
    fn multi_line_entries_are_read() {
        let netrc = Netrc::parse("machine host\n  login u\n  password p\n");
        assert_eq!(netrc.lookup("host").unwrap().password.as_deref(), Some("p"));
        assert!(netrc.lookup("elsewhere").is_none());
    }
}
