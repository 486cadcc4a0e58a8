//! Which indexes to ask, where to cache, and how patiently: [`IndexSettings`].
//!
//! Index URLs, highest precedence first (the primary and the extras are decided separately,
//! and the first source that sets one wins outright, as pip's options do):
//! 1. `--index-url` / `--extra-index-url`
//! 2. `[tool.envscan] index-url` / `extra-index-url`
//! 3. `PIP_INDEX_URL` / `PIP_EXTRA_INDEX_URL` (whitespace-separated)
//! 4. pip.conf (see pipconf.rs for the files and their order)
//! 5. `https://pypi.org/simple/`
//!
//! URLs must be `http` or `https`; a trailing slash is added so that `{index}/{name}/` joins
//! correctly. They may carry `user:password@`, which the client turns into basic auth; the
//! `Debug` output of these settings hides it. Certificate authorities: see
//! [`IndexSettings::ca_bundle`]. Cache folder: `--cache-dir`, else
//! `$ENVSCAN_CACHE_DIR`, else `$XDG_CACHE_HOME/envscan`, else `~/.cache/envscan`.
//! Requests in flight: 16, or `$ENVSCAN_INDEX_CONCURRENCY` (a hidden knob for benchmarks; a
//! value that is not a positive integer is ignored).

use std::cell::RefCell;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use url::Url;

use super::IndexError;
use super::pipconf::{self, PipConf};
use super::redact;
use crate::diagnostic::{Code, Diagnostic};
use crate::fsread::{self, cap};

pub const DEFAULT_INDEX_URL: &str = "https://pypi.org/simple/";

/// Set to `1`, retries happen without waiting (for envscan's own tests).
pub const NO_RETRY_DELAY: &str = "ENVSCAN_TEST_NO_RETRY_DELAY";

/// Exponential backoff between retries: attempt `n` (from 0) waits a random time between
/// half and all of `min(max, base * 2^n)`; `Retry-After` is honoured up to `max`.
/// [`Backoff::ZERO`] makes every wait zero, for tests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Backoff {
    pub base: Duration,
    pub max: Duration,
}

impl Backoff {
    pub const ZERO: Backoff = Backoff {
        base: Duration::ZERO,
        max: Duration::ZERO,
    };
}

impl Default for Backoff {
    /// uv's policy: about 1 s growing to 30 s.
    fn default() -> Self {
        Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct IndexSettings {
    /// The primary index. May carry credentials; the client strips them before any use.
    pub index_url: Url,
    pub extra_index_urls: Vec<Url>,
    /// `[[tool.envscan.index]]` / `[[tool.uv.index]]` entries (see sources.rs).
    pub named_indexes: Vec<super::sources::NamedIndex>,
    /// Open no socket: answer from the cache or say `Unverified`.
    pub offline: bool,
    pub cache_dir: PathBuf,
    /// Extra certificate authorities (a PEM bundle) to trust besides the built-in Mozilla
    /// roots, for TLS-intercepting proxies and private CAs: `PIP_CERT`, pip.conf `cert`,
    /// `SSL_CERT_FILE`, `REQUESTS_CA_BUNDLE`, first set wins.
    pub ca_bundle: Option<PathBuf>,
    /// The netrc file to read credentials from (`$NETRC`, else `~/.netrc`), if it exists.
    pub netrc: Option<PathBuf>,
    /// Requests in flight at once.
    pub concurrency: usize,
    pub connect_timeout: Duration,
    /// Longest wait for the response headers and between two reads of the body.
    pub read_timeout: Duration,
    /// Longest time one request may take, headers and whole body included: an index that
    /// drips a byte every few seconds never trips `read_timeout`, and is cut off here.
    /// `$ENVSCAN_INDEX_REQUEST_DEADLINE` (seconds) overrides it.
    pub request_deadline: Duration,
    /// Longest time all index work of a run may take, retries and waits included.
    /// `$ENVSCAN_INDEX_BUDGET` (seconds) overrides it.
    pub total_budget: Duration,
    /// Largest project page accepted; a larger one is refused while it streams in, before it
    /// can take the memory. `$ENVSCAN_INDEX_MAX_PAGE_BYTES` overrides it.
    pub max_page_bytes: u64,
    /// Retries after the first attempt.
    pub retries: u32,
    pub backoff: Backoff,
    /// Draw a progress bar on stderr (the caller passes "stderr is a terminal").
    pub progress: bool,
    /// Problems met while reading the settings (a pip.conf or netrc that is a FIFO or a link
    /// to a device): the caller reports them; the file is left out.
    pub diagnostics: Vec<Diagnostic>,
}

/// Overrides, in seconds, of [`IndexSettings::request_deadline`] and
/// [`IndexSettings::total_budget`], and of [`IndexSettings::max_page_bytes`] in bytes.
pub const REQUEST_DEADLINE: &str = "ENVSCAN_INDEX_REQUEST_DEADLINE";
pub const TOTAL_BUDGET: &str = "ENVSCAN_INDEX_BUDGET";
pub const MAX_PAGE_BYTES: &str = "ENVSCAN_INDEX_MAX_PAGE_BYTES";

/// A pip.conf or netrc exists but is not read (not a regular file, too large, unreadable).
pub const INDEX_CONFIG_UNREADABLE: Code = Code("index-config-unreadable");

impl fmt::Debug for IndexSettings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let clean = |url: &Url| redact::strip_credentials(url).to_string();
        f.debug_struct("IndexSettings")
            .field("index_url", &clean(&self.index_url))
            .field(
                "extra_index_urls",
                &self.extra_index_urls.iter().map(clean).collect::<Vec<_>>(),
            )
            .field(
                "named_indexes",
                &self
                    .named_indexes
                    .iter()
                    .map(|n| (n.name.as_str(), clean(&n.url), n.explicit))
                    .collect::<Vec<_>>(),
            )
            .field("offline", &self.offline)
            .field("cache_dir", &self.cache_dir)
            .field("ca_bundle", &self.ca_bundle)
            .field("netrc", &self.netrc)
            .field("concurrency", &self.concurrency)
            .field("connect_timeout", &self.connect_timeout)
            .field("read_timeout", &self.read_timeout)
            .field("request_deadline", &self.request_deadline)
            .field("total_budget", &self.total_budget)
            .field("max_page_bytes", &self.max_page_bytes)
            .field("retries", &self.retries)
            .field("backoff", &self.backoff)
            .field("progress", &self.progress)
            .finish()
    }
}

/// Where settings read the outside world from; tests pass a fake.
pub(crate) trait Environment {
    fn var(&self, name: &str) -> Option<String>;
    fn home(&self) -> Option<PathBuf> {
        self.var("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
    }
    /// The text of a settings file: `Ok(None)` when it does not exist, an error naming the
    /// path when it exists but is not read (a FIFO, `/dev/zero`, too large).
    fn read(&self, path: &Path) -> Result<Option<String>, String> {
        match fsread::read_lossy_capped(path, cap::CONFIG) {
            Ok(text) => Ok(Some(text)),
            Err(err) if err.is_not_found() => Ok(None),
            Err(err) => Err(err.to_string()),
        }
    }
}

struct ProcessEnvironment;

impl Environment for ProcessEnvironment {
    fn var(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }
}

/// The cache folder when `--cache-dir` does not name one: `ENVSCAN_CACHE_DIR`, else
/// `$XDG_CACHE_HOME/envscan`, else `~/.cache/envscan`, else one in the temporary folder.
/// The index cache and the parse and environment caches (`crate::cache`) share it.
pub fn default_cache_dir() -> PathBuf {
    default_cache_dir_in(&ProcessEnvironment)
}

fn default_cache_dir_in(env: &dyn Environment) -> PathBuf {
    env.var("ENVSCAN_CACHE_DIR")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env.var("XDG_CACHE_HOME")
                .filter(|v| !v.is_empty())
                .map(|x| Path::new(&x).join("envscan"))
        })
        .or_else(|| env.home().map(|h| h.join(".cache").join("envscan")))
        .unwrap_or_else(|| std::env::temp_dir().join("envscan-cache"))
}

impl IndexSettings {
    /// Settings with defaults for everything but the indexes and the cache folder.
    pub fn new(index_url: Url, extra_index_urls: Vec<Url>, cache_dir: PathBuf) -> Self {
        IndexSettings {
            index_url,
            extra_index_urls,
            named_indexes: Vec::new(),
            offline: false,
            cache_dir,
            ca_bundle: None,
            netrc: None,
            concurrency: 16,
            connect_timeout: Duration::from_secs(10),
            read_timeout: Duration::from_secs(30),
            request_deadline: Duration::from_secs(120),
            total_budget: Duration::from_secs(600),
            max_page_bytes: 64 * 1024 * 1024,
            retries: 3,
            backoff: Backoff::default(),
            progress: false,
            diagnostics: Vec::new(),
        }
    }

    /// Merges flags, `[tool.envscan]`, the environment and pip.conf (see the module doc).
    pub fn resolve(
        cli_index_url: Option<String>,
        cli_extra: Vec<String>,
        config_index_url: Option<String>,
        config_extra: Vec<String>,
        offline: bool,
        cache_dir: Option<PathBuf>,
    ) -> Result<IndexSettings, IndexError> {
        Self::resolve_in(
            &ProcessEnvironment,
            cli_index_url,
            cli_extra,
            config_index_url,
            config_extra,
            offline,
            cache_dir,
        )
    }

    pub(crate) fn resolve_in(
        env: &dyn Environment,
        cli_index_url: Option<String>,
        cli_extra: Vec<String>,
        config_index_url: Option<String>,
        config_extra: Vec<String>,
        offline: bool,
        cache_dir: Option<PathBuf>,
    ) -> Result<IndexSettings, IndexError> {
        let home = env.home();
        let problems: RefCell<Vec<Diagnostic>> = RefCell::new(Vec::new());
        let unreadable = |path: &Path, why: String| {
            let diagnostic = Diagnostic::warning(INDEX_CONFIG_UNREADABLE, why)
                .with_file(path.display().to_string());
            let mut problems = problems.borrow_mut();
            if !problems.contains(&diagnostic) {
                problems.push(diagnostic);
            }
        };
        // pip.conf is read only when flags, config and environment leave something open.
        let pip_conf = || -> Option<(PathBuf, PipConf)> {
            let files = pipconf::candidate_files(
                env.var("PIP_CONFIG_FILE").as_deref(),
                env.var("XDG_CONFIG_HOME").as_deref(),
                home.as_deref(),
            );
            let mut merged: Option<(PathBuf, PipConf)> = None;
            for file in files {
                let text = match env.read(&file) {
                    Ok(Some(text)) => text,
                    Ok(None) => continue,
                    Err(why) => {
                        unreadable(&file, format!("{why}; its settings are not used"));
                        continue;
                    }
                };
                let conf = PipConf::parse(&text);
                let entry = merged.get_or_insert_with(|| (file.clone(), PipConf::default()));
                if entry.1.index_url.is_none() && conf.index_url.is_some() {
                    entry.1.index_url = conf.index_url;
                    entry.0 = file.clone();
                }
                if entry.1.extra_index_urls.is_none() && conf.extra_index_urls.is_some() {
                    entry.1.extra_index_urls = conf.extra_index_urls;
                }
                if entry.1.cert.is_none() && conf.cert.is_some() {
                    entry.1.cert = conf.cert;
                }
            }
            merged
        };
        let env_index = env.var("PIP_INDEX_URL").filter(|v| !v.trim().is_empty());
        let env_extra = env
            .var("PIP_EXTRA_INDEX_URL")
            .filter(|v| !v.trim().is_empty());

        let (index_text, index_origin) = if let Some(url) = cli_index_url {
            (url, "--index-url".to_string())
        } else if let Some(url) = config_index_url {
            (url, "[tool.envscan] index-url".to_string())
        } else if let Some(url) = env_index {
            (url, "PIP_INDEX_URL".to_string())
        } else if let Some((file, url)) =
            pip_conf().and_then(|(file, conf)| Some((file, conf.index_url?)))
        {
            (url, format!("index-url in {}", file.display()))
        } else {
            (DEFAULT_INDEX_URL.to_string(), "the default".to_string())
        };
        let index_url = parse_index_url(&index_text, &index_origin)?;

        let (extra_texts, extra_origin): (Vec<String>, &str) = if !cli_extra.is_empty() {
            (cli_extra, "--extra-index-url")
        } else if !config_extra.is_empty() {
            (config_extra, "[tool.envscan] extra-index-url")
        } else if let Some(value) = env_extra {
            (
                value.split_whitespace().map(str::to_string).collect(),
                "PIP_EXTRA_INDEX_URL",
            )
        } else if let Some(urls) = pip_conf().and_then(|(_, conf)| conf.extra_index_urls) {
            (urls, "extra-index-url in pip.conf")
        } else {
            (Vec::new(), "")
        };
        let mut extra_index_urls = Vec::new();
        for text in &extra_texts {
            let url = parse_index_url(text, extra_origin)?;
            // The same index twice (or the primary again) would only cost requests.
            let clean = redact::strip_credentials(&url);
            if redact::strip_credentials(&index_url) != clean
                && !extra_index_urls
                    .iter()
                    .any(|u| redact::strip_credentials(u) == clean)
            {
                extra_index_urls.push(url);
            }
        }

        let cache_dir = cache_dir.unwrap_or_else(|| default_cache_dir_in(env));

        let netrc = env
            .var("NETRC")
            .filter(|v| !v.is_empty())
            .map(PathBuf::from)
            .or_else(|| home.as_ref().map(|h| h.join(".netrc")))
            .filter(|path| match env.read(path) {
                Ok(_) => true,
                Err(why) => {
                    unreadable(path, format!("{why}; no credentials are taken from it"));
                    false
                }
            });

        let nonempty = |name: &str| env.var(name).filter(|v| !v.is_empty());
        let ca_bundle = nonempty("PIP_CERT")
            .or_else(|| pip_conf().and_then(|(_, conf)| conf.cert))
            .or_else(|| nonempty("SSL_CERT_FILE"))
            .or_else(|| nonempty("REQUESTS_CA_BUNDLE"))
            .map(PathBuf::from);

        let mut settings = IndexSettings::new(index_url, extra_index_urls, cache_dir);
        settings.offline = offline;
        settings.ca_bundle = ca_bundle;
        settings.netrc = netrc;
        // As uv's UV_TEST_NO_HTTP_RETRY_DELAY: tests of retries need not wait for them.
        if env.var(NO_RETRY_DELAY).is_some_and(|v| v == "1") {
            settings.backoff = Backoff::ZERO;
        }
        let seconds = |name: &str| {
            env.var(name)
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(Duration::from_secs_f64)
        };
        if let Some(deadline) = seconds(REQUEST_DEADLINE) {
            settings.request_deadline = deadline;
        }
        if let Some(budget) = seconds(TOTAL_BUDGET) {
            settings.total_budget = budget;
        }
        if let Some(bytes) = env
            .var(MAX_PAGE_BYTES)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|&n| n > 0)
        {
            settings.max_page_bytes = bytes;
        }
        settings.diagnostics = problems.into_inner();
        if let Some(n) = env
            .var("ENVSCAN_INDEX_CONCURRENCY")
            .and_then(|v| v.trim().parse::<usize>().ok())
            .filter(|&n| n > 0)
        {
            settings.concurrency = n;
        }
        Ok(settings)
    }
}

/// Parses an index URL from `origin`, adding the trailing slash. Errors never quote
/// credentials.
pub fn parse_index_url(text: &str, origin: &str) -> Result<Url, IndexError> {
    // Never the raw text: a password with an unencoded `#` or `/` defeats a parser's idea of
    // where the userinfo ends, so everything that may be userinfo is masked.
    let shown = redact::mask_url(text.trim());
    let has_userinfo = shown != text.trim();
    let invalid = |reason: String| IndexError::InvalidUrl {
        url: shown.clone(),
        origin: origin.to_string(),
        reason,
    };
    let mut url = Url::parse(text.trim()).map_err(|err| {
        invalid(if has_userinfo {
            format!(
                "{err}; the user name or password (masked here) may hold a character that \
                 must be percent-encoded (`#` as %23, `/` as %2F, `?` as %3F, `@` as %40)"
            )
        } else {
            err.to_string()
        })
    })?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid(format!(
            "scheme `{}` is not supported (use http or https)",
            url.scheme()
        )));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(invalid("no host".to_string()));
    }
    url.set_fragment(None);
    if !url.path().ends_with('/') {
        let path = format!("{}/", url.path());
        url.set_path(&path);
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[derive(Default)]
    struct FakeEnv {
        vars: BTreeMap<&'static str, String>,
        files: BTreeMap<PathBuf, String>,
    }

    impl Environment for FakeEnv {
        fn var(&self, name: &str) -> Option<String> {
            self.vars.get(name).cloned()
        }
        fn read(&self, path: &Path) -> Result<Option<String>, String> {
            Ok(self.files.get(path).cloned())
        }
    }

    fn resolve(
        env: &FakeEnv,
        cli: Option<&str>,
        config: Option<&str>,
    ) -> Result<IndexSettings, IndexError> {
        IndexSettings::resolve_in(
            env,
            cli.map(str::to_string),
            vec![],
            config.map(str::to_string),
            vec![],
            false,
            None,
        )
    }

    fn env_with_everything() -> FakeEnv {
        let mut env = FakeEnv::default();
        env.vars.insert("HOME", "/home/u".into());
        env.vars
            .insert("PIP_INDEX_URL", "https://env.example/simple".into());
        env.files.insert(
            PathBuf::from("/home/u/.config/pip/pip.conf"),
            "[global]\nindex-url = https://conf.example/simple\nextra-index-url = https://extra.example/simple\n".into(),
        );
        env
    }

    #[test]
    fn flag_beats_config_beats_environment_beats_pip_conf() {
        let mut env = env_with_everything();
        let flag = resolve(
            &env,
            Some("https://flag.example/simple"),
            Some("https://cfg.example/s"),
        );
        assert_eq!(
            flag.unwrap().index_url.as_str(),
            "https://flag.example/simple/"
        );
        let config = resolve(&env, None, Some("https://cfg.example/s"));
        assert_eq!(config.unwrap().index_url.as_str(), "https://cfg.example/s/");
        let from_env = resolve(&env, None, None).unwrap();
        assert_eq!(from_env.index_url.as_str(), "https://env.example/simple/");
        // Extras are decided separately: pip.conf still supplies them.
        assert_eq!(
            from_env.extra_index_urls[0].as_str(),
            "https://extra.example/simple/"
        );
        env.vars.remove("PIP_INDEX_URL");
        let from_conf = resolve(&env, None, None).unwrap();
        assert_eq!(from_conf.index_url.as_str(), "https://conf.example/simple/");
    }

    #[test]
    fn pip_cert_beats_pip_conf_cert_beats_ssl_cert_file() {
        let mut env = env_with_everything();
        env.vars.insert("SSL_CERT_FILE", "/ssl.pem".into());
        assert_eq!(
            resolve(&env, None, None).unwrap().ca_bundle.as_deref(),
            Some(Path::new("/ssl.pem"))
        );
        env.files.insert(
            PathBuf::from("/etc/pip.conf"),
            "[global]\ncert = /conf.pem\n".into(),
        );
        assert_eq!(
            resolve(&env, None, None).unwrap().ca_bundle.as_deref(),
            Some(Path::new("/conf.pem"))
        );
        env.vars.insert("PIP_CERT", "/pip.pem".into());
        assert_eq!(
            resolve(&env, None, None).unwrap().ca_bundle.as_deref(),
            Some(Path::new("/pip.pem"))
        );
    }

    #[test]
    fn nothing_configured_means_pypi_and_home_cache() {
        let mut env = FakeEnv::default();
        env.vars.insert("HOME", "/home/u".into());
        let settings = resolve(&env, None, None).unwrap();
        assert_eq!(settings.index_url.as_str(), DEFAULT_INDEX_URL);
        assert_eq!(settings.cache_dir, Path::new("/home/u/.cache/envscan"));
        assert_eq!(settings.netrc.as_deref(), Some(Path::new("/home/u/.netrc")));
        env.vars.insert("XDG_CACHE_HOME", "/xdg".into());
        assert_eq!(
            resolve(&env, None, None).unwrap().cache_dir,
            Path::new("/xdg/envscan")
        );
        env.vars.insert("ENVSCAN_CACHE_DIR", "/own".into());
        assert_eq!(
            resolve(&env, None, None).unwrap().cache_dir,
            Path::new("/own")
        );
    }

    #[test]
    fn pip_extra_index_url_is_whitespace_separated_and_deduplicated() {
        let mut env = FakeEnv::default();
        env.vars.insert(
            "PIP_EXTRA_INDEX_URL",
            "https://a.example/simple https://b.example/simple\nhttps://a.example/simple/ https://pypi.org/simple".into(),
        );
        let settings = resolve(&env, None, None).unwrap();
        let extras: Vec<&str> = settings.extra_index_urls.iter().map(Url::as_str).collect();
        assert_eq!(
            extras,
            ["https://a.example/simple/", "https://b.example/simple/"]
        );
    }

    #[test]
    fn invalid_url_error_names_its_origin_and_hides_the_password() {
        let env = FakeEnv::default();
        let err = resolve(&env, Some("ftp://bob:hunter22@host/simple"), None).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("--index-url"), "{text}");
        assert!(text.contains("ftp"), "{text}");
        assert!(!text.contains("hunter22"), "{text}");
    }

    #[test]
    fn envscan_index_concurrency_sets_requests_in_flight_unless_invalid() {
        let mut env = FakeEnv::default();
        assert_eq!(resolve(&env, None, None).unwrap().concurrency, 16);
        env.vars.insert("ENVSCAN_INDEX_CONCURRENCY", "1".into());
        assert_eq!(resolve(&env, None, None).unwrap().concurrency, 1);
        for bad in ["0", "-3", "many", ""] {
            env.vars.insert("ENVSCAN_INDEX_CONCURRENCY", bad.into());
            assert_eq!(resolve(&env, None, None).unwrap().concurrency, 16, "{bad}");
        }
    }

    #[test]
    fn debug_output_hides_credentials() {
        let env = FakeEnv::default();
        let settings = resolve(&env, Some("https://bob:hunter22@host/simple"), None).unwrap();
        assert!(!format!("{settings:?}").contains("hunter22"));
    }
}
