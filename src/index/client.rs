//! [`IndexClient`]: looks up many `(project, version)` pairs at once, from the cache when it
//! can and from the indexes otherwise.
//!
//! - Lookups run on a bounded pool of scoped worker threads (`settings.concurrency`), each
//!   doing blocking requests through one shared connection pool, so N packages cost about
//!   N / concurrency round trips.
//! - Timeouts: `connect_timeout` for the TCP and TLS handshake; `read_timeout` for the
//!   response headers and then for each read of the body (reqwest's blocking client applies
//!   its timeout per `read` call, which is exactly a read timeout). Since a server that drips
//!   a byte every few seconds never trips a read timeout, each request also has a deadline
//!   (`request_deadline`, body included, checked between reads and shortening the read
//!   timeout as it nears), and all index work of the run a budget (`total_budget`, retries
//!   and their waits included); either spent is an error naming the URL.
//! - The body streams in through a cap (`max_page_bytes`): a declared Content-Length over it
//!   is refused before reading, and a body that grows past it is cut off there.
//! - Per package, indexes are tried in order (see the module doc of `index` for why the first
//!   index with the version wins). The cache answers without a request when it has the
//!   version on some index and every earlier index is known (cached) not to have it; a
//!   version missing from a cached page is refetched, since it may be a new release.
//! - Offline: no HTTP client is even built; a cache miss is [`Found::Unverified`] at once.
//! - A redirect to another host drops the Authorization header (reqwest does this), so
//!   credentials go to the index host only.

use std::io::Read;
use std::str::FromStr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock, mpsc};
use std::time::{Duration, Instant, SystemTime};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pep440_rs::Version;
use reqwest::header::{ACCEPT, CONTENT_TYPE, RETRY_AFTER};
use url::Url;

use super::cache::{Cache, Cached};
use super::dns::CachingResolver;
use super::netrc::Netrc;
use super::redact::{self, Credentials};
use super::retry;
use super::simple::{self, ProjectPage};
use super::{Found, IndexError, IndexSettings, Lookup, VersionFiles};
use crate::fsread;
use crate::names::PackageName;

const USER_AGENT: &str = concat!("envscan/", env!("CARGO_PKG_VERSION"));

/// One index, as requests see it.
struct Index {
    /// Credential-free, with a trailing slash.
    url: Url,
    credentials: Option<Credentials>,
}

pub struct IndexClient {
    settings: IndexSettings,
    /// The primary index, the extra ones, then the named ones not already among them.
    indexes: Vec<Index>,
    /// Named index → its place in `indexes`.
    names: Vec<(String, usize)>,
    /// The indexes a package not pinned to one is looked up on, in order: the primary, the
    /// extras, then the named indexes that are not `explicit`.
    default_route: Vec<usize>,
    /// `None` when offline: no socket can be opened.
    http: Option<LazyHttp>,
    cache: Cache,
    /// Every credential string, scrubbed from error texts as a last guard.
    secrets: Vec<String>,
    /// When the run's index work must be over (`settings.total_budget` from creation).
    budget_end: Instant,
}

/// The HTTP client, built when the first request is due: a run that the cache answers alone
/// (an unchanged project's check) never pays for its TLS roots and its runtime thread.
struct LazyHttp {
    /// The `ca_bundle`'s certificates, read (and any problem with them reported) up front.
    certificates: Vec<reqwest::Certificate>,
    client: OnceLock<Result<reqwest::blocking::Client, IndexError>>,
}

impl LazyHttp {
    fn get(&self, settings: &IndexSettings) -> Result<&reqwest::blocking::Client, IndexError> {
        self.client
            .get_or_init(|| {
                let mut builder = reqwest::blocking::Client::builder();
                for certificate in &self.certificates {
                    builder = builder.add_root_certificate(certificate.clone());
                }
                builder
                    .user_agent(USER_AGENT)
                    .connect_timeout(settings.connect_timeout)
                    .timeout(settings.read_timeout)
                    .pool_max_idle_per_host(settings.concurrency.max(1))
                    .dns_resolver(Arc::new(CachingResolver::default()))
                    .build()
                    .map_err(|err| IndexError::Client(retry::describe(&err)))
            })
            .as_ref()
            .map_err(Clone::clone)
    }
}

/// The indexes one package is looked up on, in order (see [`IndexClient::route`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Route(Vec<usize>);

/// How one attempt ended, when it did not produce an answer.
enum Failure {
    Retry {
        error: IndexError,
        retry_after: Option<Duration>,
    },
    Fatal(IndexError),
}

impl IndexClient {
    pub fn new(settings: IndexSettings) -> Result<Self, IndexError> {
        let netrc = settings
            .netrc
            .as_ref()
            // Settings already reported a netrc that is a FIFO, a device or too large.
            .and_then(|path| fsread::read_lossy_capped(path, fsread::cap::CONFIG).ok())
            .map(|text| Netrc::parse(&text))
            .unwrap_or_default();
        let mut indexes: Vec<Index> = Vec::new();
        let mut names = Vec::new();
        let mut default_route = Vec::new();
        let unnamed = std::iter::once(&settings.index_url)
            .chain(&settings.extra_index_urls)
            .map(|url| (url, None, false));
        let named = settings
            .named_indexes
            .iter()
            .map(|n| (&n.url, Some(n.name.clone()), n.explicit));
        for (raw, name, explicit) in unnamed.chain(named) {
            let (url, from_url) = redact::split_credentials(raw);
            // A named index at the URL of one already listed is that one.
            if let Some(slot) = indexes.iter().position(|i| i.url == url) {
                if let Some(name) = name {
                    names.push((name, slot));
                }
                if !explicit && !default_route.contains(&slot) {
                    default_route.push(slot);
                }
                continue;
            }
            let slot = indexes.len();
            if let Some(name) = name {
                names.push((name, slot));
            }
            if !explicit {
                default_route.push(slot);
            }
            let from_netrc = url.host_str().and_then(|host| netrc.lookup(host));
            let credentials = match (from_url, from_netrc) {
                // `https://user@host/` with the password in netrc, as pip allows.
                (Some(mine), Some(netrc))
                    if mine.password.is_none()
                        && (mine.username.is_empty() || mine.username == netrc.username) =>
                {
                    Some(netrc)
                }
                (Some(mine), _) => Some(mine),
                (None, netrc) => netrc,
            };
            indexes.push(Index { url, credentials });
        }
        let secrets = indexes
            .iter()
            .filter_map(|index| index.credentials.as_ref())
            .flat_map(|c| c.secrets().map(str::to_string).collect::<Vec<_>>())
            .collect();
        let http = if settings.offline {
            None
        } else {
            let certificates = match &settings.ca_bundle {
                Some(bundle) => read_ca_bundle(bundle)?,
                None => Vec::new(),
            };
            Some(LazyHttp {
                certificates,
                client: OnceLock::new(),
            })
        };
        let cache = Cache::new(&settings.cache_dir);
        Ok(IndexClient {
            budget_end: Instant::now() + settings.total_budget,
            settings,
            indexes,
            names,
            default_route,
            http,
            cache,
            secrets,
        })
    }

    pub fn settings(&self) -> &IndexSettings {
        &self.settings
    }

    /// The credential-free URLs of the indexes, primary first.
    pub fn index_urls(&self) -> Vec<String> {
        self.indexes.iter().map(|i| i.url.to_string()).collect()
    }

    /// The route of a package pinned to the named index, or of one pinned to none; `None`
    /// for a name no index has.
    pub fn route(&self, index: Option<&str>) -> Option<Route> {
        match index {
            None => Some(Route(self.default_route.clone())),
            Some(name) => self
                .names
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, slot)| Route(vec![*slot])),
        }
    }

    /// Looks up every `(project, exact version)` on the default route; the answers come in
    /// the same order.
    pub fn lookup(&self, wanted: &[(PackageName, String)]) -> Vec<Lookup> {
        let routed: Vec<(PackageName, String, Route)> = wanted
            .iter()
            .map(|(name, version)| {
                (
                    name.clone(),
                    version.clone(),
                    Route(self.default_route.clone()),
                )
            })
            .collect();
        self.lookup_routed(&routed)
    }

    /// Looks up every `(project, exact version)` on its own route.
    pub fn lookup_routed(&self, wanted: &[(PackageName, String, Route)]) -> Vec<Lookup> {
        let total = wanted.len();
        let bar = self.progress_bar(total);
        let workers = self.settings.concurrency.clamp(1, total.max(1));
        let next = AtomicUsize::new(0);
        let (sender, receiver) = mpsc::channel();
        std::thread::scope(|scope| {
            for _ in 0..workers {
                let sender = sender.clone();
                let (next, bar) = (&next, &bar);
                scope.spawn(move || {
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        let Some((name, version, route)) = wanted.get(i) else {
                            break;
                        };
                        bar.set_message(name.to_string());
                        let answer = self.lookup_one(name, version, route);
                        bar.inc(1);
                        if sender.send((i, answer)).is_err() {
                            break;
                        }
                    }
                });
            }
        });
        drop(sender);
        bar.finish_and_clear();
        let mut answers: Vec<Option<Lookup>> = (0..total).map(|_| None).collect();
        for (i, answer) in receiver {
            answers[i] = Some(answer);
        }
        answers
            .into_iter()
            .zip(wanted)
            .map(|(answer, (name, _, _))| {
                // Only a worker that died could leave a hole; say so rather than panic.
                answer.unwrap_or_else(|| {
                    Err(IndexError::Client(format!(
                        "the lookup of {name} did not finish"
                    )))
                })
            })
            .collect()
    }

    fn progress_bar(&self, total: usize) -> ProgressBar {
        if !self.settings.progress || total == 0 {
            return ProgressBar::hidden();
        }
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template(
            "{spinner} checking the package index [{bar:30}] {pos}/{len} {wide_msg}",
        ) {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    fn lookup_one(&self, name: &PackageName, version: &str, route: &Route) -> Lookup {
        let wanted =
            Version::from_str(version.trim()).map_err(|err| IndexError::InvalidVersion {
                project: name.to_string(),
                version: version.to_string(),
                reason: err.to_string(),
            })?;
        if !is_valid_project_name(name.as_str()) {
            return Err(IndexError::InvalidVersion {
                project: name.to_string(),
                version: version.to_string(),
                reason: "the project name is not a valid distribution name".to_string(),
            });
        }

        // The cache alone answers when it has the version on some index and knows every
        // earlier index lacks it. Offline, any cached hit answers.
        let indexes: Vec<&Index> = route
            .0
            .iter()
            .filter_map(|&slot| self.indexes.get(slot))
            .collect();
        let Some(first) = indexes.first() else {
            return Err(IndexError::Client(format!("no index to look {name} up on")));
        };
        let cached: Vec<Cached> = indexes
            .iter()
            .map(|index| self.cache.load(index.url.as_str(), name, &wanted))
            .collect();
        let mut earlier_known = true;
        for (index, state) in indexes.iter().zip(&cached) {
            match state {
                Cached::Hit(files) => {
                    if earlier_known || self.settings.offline {
                        return Ok(Found::Files(VersionFiles {
                            index: index.url.to_string(),
                            files: files.clone(),
                        }));
                    }
                    break;
                }
                Cached::PageWithout | Cached::Missing => {}
                Cached::Absent => earlier_known = false,
            }
        }
        let Some(lazy) = &self.http else {
            let index = indexes
                .iter()
                .zip(&cached)
                .find(|(_, state)| !matches!(state, Cached::Missing))
                .map_or(*first, |(index, _)| *index);
            return Ok(Found::Unverified {
                url: project_url(&index.url, name).to_string(),
            });
        };

        let mut project_seen = false;
        for (index, state) in indexes.iter().zip(cached) {
            if let Cached::Hit(files) = state {
                return Ok(Found::Files(VersionFiles {
                    index: index.url.to_string(),
                    files,
                }));
            }
            let fetched = self.fetch(lazy.get(&self.settings)?, index, name)?;
            // A failed store costs a request next time, nothing more.
            let _ = self.cache.store(index.url.as_str(), name, fetched.as_ref());
            if let Some(page) = fetched {
                project_seen = true;
                if let Some(files) = page.files_of(&wanted) {
                    return Ok(Found::Files(VersionFiles {
                        index: index.url.to_string(),
                        files,
                    }));
                }
            }
        }
        Ok(if project_seen {
            Found::VersionMissing
        } else {
            Found::ProjectMissing
        })
    }

    /// The validated project page, `None` on 404, with retries.
    fn fetch(
        &self,
        http: &reqwest::blocking::Client,
        index: &Index,
        name: &PackageName,
    ) -> Result<Option<ProjectPage>, IndexError> {
        let url = project_url(&index.url, name);
        let mut attempt = 0;
        loop {
            if Instant::now() >= self.budget_end {
                return Err(self.budget_spent(index, &url, attempt));
            }
            match self.fetch_once(http, index, &url, name, attempt + 1) {
                Ok(page) => return Ok(page),
                Err(Failure::Fatal(error)) => return Err(error),
                Err(Failure::Retry { error, retry_after }) => {
                    if attempt >= self.settings.retries {
                        return Err(error);
                    }
                    let wait = retry::delay(&self.settings.backoff, attempt, retry_after);
                    let left = self.budget_end.saturating_duration_since(Instant::now());
                    if wait >= left {
                        return Err(self.budget_spent(index, &url, attempt + 1));
                    }
                    std::thread::sleep(wait);
                    attempt += 1;
                }
            }
        }
    }

    fn budget_spent(&self, index: &Index, url: &Url, attempts: u32) -> IndexError {
        IndexError::Unreachable {
            index: index.url.to_string(),
            url: url.to_string(),
            attempts,
            cause: format!(
                "the run's index budget of {} s is spent (ENVSCAN_INDEX_BUDGET)",
                self.settings.total_budget.as_secs_f64()
            ),
        }
    }

    fn fetch_once(
        &self,
        http: &reqwest::blocking::Client,
        index: &Index,
        url: &Url,
        name: &PackageName,
        attempts: u32,
    ) -> Result<Option<ProjectPage>, Failure> {
        let index_text = index.url.to_string();
        let unreachable = |cause: String| IndexError::Unreachable {
            index: index_text.clone(),
            url: url.to_string(),
            attempts,
            cause: self.scrub(&cause),
        };
        let started = Instant::now();
        let deadline = (started + self.settings.request_deadline).min(self.budget_end);
        let deadline_error = || {
            unreachable(format!(
                "no complete answer within {} s (the request deadline, ENVSCAN_INDEX_REQUEST_DEADLINE, or the run's index budget)",
                deadline.saturating_duration_since(started).as_secs_f64()
            ))
        };
        let read_timeout = self
            .settings
            .read_timeout
            .min(deadline.saturating_duration_since(started))
            .max(Duration::from_millis(1));
        let mut request = http
            .get(url.clone())
            .header(ACCEPT, simple::ACCEPT)
            .timeout(read_timeout);
        if let Some(credentials) = &index.credentials {
            request = request.basic_auth(&credentials.username, credentials.password.as_ref());
        }
        let mut response = match request.send() {
            Ok(response) => response,
            Err(err) => {
                let mut cause = retry::describe(&err);
                if retry::is_certificate_error(&err) {
                    cause.push_str(
                        " (behind a TLS-intercepting proxy or a private CA? point PIP_CERT \
                         or SSL_CERT_FILE at its certificate bundle)",
                    );
                }
                let error = unreachable(cause);
                return Err(if retry::is_retryable_error(&err) {
                    Failure::Retry {
                        error,
                        retry_after: None,
                    }
                } else {
                    Failure::Fatal(error)
                });
            }
        };
        let final_url = redact::strip_credentials(response.url());
        let status = response.status().as_u16();
        if status == 404 || status == 410 {
            return Ok(None);
        }
        if !response.status().is_success() {
            let error = IndexError::Status {
                index: index_text.clone(),
                url: url.to_string(),
                status,
                attempts,
            };
            if !retry::is_retryable_status(status) {
                return Err(Failure::Fatal(error));
            }
            let retry_after = response
                .headers()
                .get(RETRY_AFTER)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| retry::retry_after(value, SystemTime::now()));
            return Err(Failure::Retry { error, retry_after });
        }
        let invalid = |reason: String| IndexError::InvalidResponse {
            index: index_text.clone(),
            url: final_url.to_string(),
            reason: self.scrub(&reason),
        };
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let format = simple::format_of(content_type.as_deref())
            .map_err(|reason| Failure::Fatal(invalid(reason)))?;
        let max = self.settings.max_page_bytes;
        let too_large = || {
            Failure::Fatal(invalid(format!(
                "the page is larger than {max} bytes (ENVSCAN_INDEX_MAX_PAGE_BYTES); it is not read"
            )))
        };
        if response.content_length().is_some_and(|len| len > max) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        let mut chunk = vec![0u8; 64 * 1024];
        loop {
            if Instant::now() >= deadline {
                return Err(Failure::Retry {
                    error: deadline_error(),
                    retry_after: None,
                });
            }
            match response.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => {
                    if (body.len() + n) as u64 > max {
                        return Err(too_large());
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                Err(err) if err.kind() == std::io::ErrorKind::Interrupted => {}
                Err(err) => {
                    let error = if Instant::now() >= deadline {
                        deadline_error()
                    } else {
                        unreachable(format!(
                            "reading the response body failed: {}",
                            retry::describe(&err)
                        ))
                    };
                    return Err(Failure::Retry {
                        error,
                        retry_after: None,
                    });
                }
            }
        }
        match simple::parse(format, &body, &final_url, name) {
            Ok(page) => Ok(Some(page)),
            // A body cut short may come whole on the next try.
            Err(reason) if reason.contains("truncated") => Err(Failure::Retry {
                error: invalid(reason),
                retry_after: None,
            }),
            Err(reason) => Err(Failure::Fatal(invalid(reason))),
        }
    }

    fn scrub(&self, text: &str) -> String {
        redact::scrub(text, self.secrets.iter().map(String::as_str))
    }
}

/// The certificates of a PEM bundle; an unreadable or empty bundle is an error, since the
/// user asked for it and TLS would fail later with a vaguer message.
fn read_ca_bundle(path: &std::path::Path) -> Result<Vec<reqwest::Certificate>, IndexError> {
    let bad = |reason: String| {
        IndexError::Client(format!("certificate bundle {}: {reason}", path.display()))
    };
    let pem = fs_err::read(path).map_err(|err| bad(err.to_string()))?;
    let certificates =
        reqwest::Certificate::from_pem_bundle(&pem).map_err(|err| bad(retry::describe(&err)))?;
    if certificates.is_empty() {
        return Err(bad("no PEM certificate in it".to_string()));
    }
    Ok(certificates)
}

fn project_url(index: &Url, name: &PackageName) -> Url {
    // The name is validated ([a-z0-9-]), so the join cannot leave the index path.
    index
        .join(&format!("{name}/"))
        .unwrap_or_else(|_| index.clone())
}

fn is_valid_project_name(name: &str) -> bool {
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_client_answers_unverified_without_any_network() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = IndexSettings::new(
            // A port nothing listens on: an attempt to connect would be an error, not this.
            Url::parse("http://127.0.0.1:9/simple/").unwrap(),
            vec![],
            dir.path().to_path_buf(),
        );
        settings.offline = true;
        let client = IndexClient::new(settings).unwrap();
        let answers = client.lookup(&[(PackageName::new("six"), "1.16.0".to_string())]);
        assert_eq!(
            answers,
            vec![Ok(Found::Unverified {
                url: "http://127.0.0.1:9/simple/six/".to_string()
            })]
        );
    }

    #[test]
    fn an_unparseable_version_is_an_error_naming_the_project() {
        let dir = tempfile::tempdir().unwrap();
        let mut settings = IndexSettings::new(
            Url::parse("http://127.0.0.1:9/simple/").unwrap(),
            vec![],
            dir.path().to_path_buf(),
        );
        settings.offline = true;
        let client = IndexClient::new(settings).unwrap();
        let answers = client.lookup(&[(PackageName::new("six"), "not a version".to_string())]);
        let text = answers[0].as_ref().unwrap_err().to_string();
        assert!(
            text.contains("six") && text.contains("not a version"),
            "{text}"
        );
    }
}
