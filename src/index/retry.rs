//! When to try a request again, and how long to wait first.
//!
//! Policy (uv's, see `../shared/FORMATS.md`): retry on connection errors (refused, reset,
//! aborted), timeouts, a body that ends early, and HTTP 408, 429 and 5xx. Never on 404 or
//! other 4xx, and never on a TLS certificate error (it will fail the same way again, and
//! retrying hides the real problem). Waits grow exponentially with bounded jitter
//! ([`super::Backoff`]); a `Retry-After` header (seconds or an HTTP date, RFC 9110 §10.2.3)
//! replaces the computed wait, capped at `backoff.max` so a server cannot stall a run.

use std::time::{Duration, SystemTime};

use rand::Rng;

use super::Backoff;

/// Statuses worth another try.
pub fn is_retryable_status(status: u16) -> bool {
    matches!(status, 408 | 429 | 500..=599)
}

/// Whether a transport error is worth another try.
pub fn is_retryable_error(err: &reqwest::Error) -> bool {
    if is_certificate_error(err) {
        return false;
    }
    err.is_connect() || err.is_timeout() || err.is_request() || err.is_body() || err.is_decode()
}

/// TLS certificate problems (unknown issuer, expired, wrong host). rustls reports them as
/// "invalid peer certificate"; its error type is not ours to name, so the text decides.
pub fn is_certificate_error(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        if current
            .to_string()
            .to_ascii_lowercase()
            .contains("certificate")
        {
            return true;
        }
        source = current.source();
    }
    false
}

/// The causes of an error, outermost first, without the URL reqwest puts in its own message.
pub fn describe(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(current) = source {
        let text = match current.downcast_ref::<reqwest::Error>() {
            Some(reqwest_err) => reqwest_error_kind(reqwest_err).to_string(),
            None => current.to_string(),
        };
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = current.source();
    }
    if parts.is_empty() {
        "unknown error".to_string()
    } else {
        parts.join(": ")
    }
}

fn reqwest_error_kind(err: &reqwest::Error) -> &'static str {
    if err.is_timeout() {
        "timed out"
    } else if err.is_connect() {
        "connection failed"
    } else if err.is_body() || err.is_decode() {
        "reading the response body failed"
    } else if err.is_redirect() {
        "too many redirects"
    } else if err.is_request() {
        "sending the request failed"
    } else {
        "request failed"
    }
}

/// The wait a `Retry-After` header asks for, if it is readable.
pub fn retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

/// How long to wait before retry number `attempt` (0 for the first retry).
pub fn delay(backoff: &Backoff, attempt: u32, retry_after: Option<Duration>) -> Duration {
    if let Some(requested) = retry_after {
        return requested.min(backoff.max);
    }
    let full = backoff
        .base
        .saturating_mul(2u32.saturating_pow(attempt.min(16)))
        .min(backoff.max);
    if full.is_zero() {
        return full;
    }
    // Bounded jitter: somewhere in the upper half, so waits still grow but clients that
    // failed together do not come back together.
    let half = full / 2;
    rand::thread_rng().gen_range(half..=full)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retryable_statuses_are_408_429_and_5xx_only() {
        for status in [408, 429, 500, 502, 503, 599] {
            assert!(is_retryable_status(status), "{status}");
        }
        for status in [200, 301, 401, 403, 404, 410] {
            assert!(!is_retryable_status(status), "{status}");
        }
    }

    #[test]
    fn certificate_errors_are_recognised_through_the_source_chain() {
        // The shape rustls gives through hyper: an io::Error wrapping the TLS error.
        #[derive(Debug)]
        struct Outer(std::io::Error);
        impl std::fmt::Display for Outer {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("client error (Connect)")
            }
        }
        impl std::error::Error for Outer {
            fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
                Some(&self.0)
            }
        }
        let tls = Outer(std::io::Error::other(
            "invalid peer certificate: UnknownIssuer",
        ));
        assert!(is_certificate_error(&tls));
        assert_eq!(
            describe(&tls),
            "client error (Connect): invalid peer certificate: UnknownIssuer"
        );
        let reset = Outer(std::io::Error::from(std::io::ErrorKind::ConnectionReset));
        assert!(!is_certificate_error(&reset));
    }

    #[test]
    fn retry_after_reads_seconds_and_http_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(retry_after("7", now), Some(Duration::from_secs(7)));
        let later = httpdate::fmt_http_date(now + Duration::from_secs(30));
        assert_eq!(retry_after(&later, now), Some(Duration::from_secs(30)));
        let earlier = httpdate::fmt_http_date(now - Duration::from_secs(30));
        assert_eq!(retry_after(&earlier, now), Some(Duration::ZERO));
        assert_eq!(retry_after("soon", now), None);
    }

    #[test]
    fn delays_grow_with_jitter_and_stay_under_the_cap() {
        let backoff = Backoff {
            base: Duration::from_secs(1),
            max: Duration::from_secs(30),
        };
        for attempt in 0..10 {
            let full = Duration::from_secs(1 << attempt.min(5)).min(backoff.max);
            let wait = delay(&backoff, attempt, None);
            assert!(wait >= full / 2 && wait <= full, "{attempt}: {wait:?}");
        }
        assert_eq!(
            delay(&backoff, 0, Some(Duration::from_secs(3600))),
            backoff.max
        );
        assert_eq!(
            delay(&Backoff::ZERO, 5, Some(Duration::from_secs(9))),
            Duration::ZERO
        );
    }
}
