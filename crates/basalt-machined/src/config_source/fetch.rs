//! Fetching a config over plain http (HTTP/1.1 GET through hyper), retried with backoff until
//! the network is up. Redirects are not followed; only status 200 is accepted.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty};
use hyper::header::{CONNECTION, CONTENT_LENGTH, HOST, USER_AGENT};
use hyper::{Request, StatusCode, Uri};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;
use tokio_util::sync::CancellationToken;

use super::location::LocationError;
use super::MAX_CONFIG_BYTES;

/// How long a `basalt.config=http://…` fetch is retried before maintenance mode.
pub const FETCH_TOTAL: Duration = Duration::from_secs(120);
/// The longest a single attempt (connect, request, whole body) may take.
pub const FETCH_ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
/// The pause after the first failed attempt; it doubles after each failure.
pub const FETCH_FIRST_BACKOFF: Duration = Duration::from_millis(500);
/// The longest pause between attempts.
pub const FETCH_MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Limits of a fetch (the constants above; tests shorten them).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FetchPolicy {
    /// Give up once this much time has passed since the first attempt.
    pub total: Duration,
    /// Limit of one attempt.
    pub attempt_timeout: Duration,
    /// First pause between attempts (doubles, up to `max_backoff`).
    pub first_backoff: Duration,
    /// Longest pause between attempts.
    pub max_backoff: Duration,
    /// Largest accepted body.
    pub max_bytes: usize,
}

impl Default for FetchPolicy {
    fn default() -> Self {
        FetchPolicy {
            total: FETCH_TOTAL,
            attempt_timeout: FETCH_ATTEMPT_TIMEOUT,
            first_backoff: FETCH_FIRST_BACKOFF,
            max_backoff: FETCH_MAX_BACKOFF,
            max_bytes: MAX_CONFIG_BYTES,
        }
    }
}

/// One failed fetch attempt (or the reason the retries stopped).
#[derive(Debug, thiserror::Error)]
pub enum FetchError {
    /// The URL does not parse.
    #[error(transparent)]
    Url(#[from] LocationError),
    /// No TCP connection (refused, unreachable, no route yet …).
    #[error("cannot connect to {addr} for {url}: {source}")]
    Connect {
        /// The URL.
        url: String,
        /// `host:port` dialled.
        addr: String,
        /// The underlying error.
        source: std::io::Error,
    },
    /// The HTTP exchange broke (connection closed early, truncated body, bad response).
    #[error("the HTTP exchange with {url} failed: {reason}")]
    Http {
        /// The URL.
        url: String,
        /// hyper's error with its causes.
        reason: String,
    },
    /// A status other than 200.
    #[error("{url} answered HTTP {status}{hint}; the config must be served with status 200")]
    Status {
        /// The URL.
        url: String,
        /// The status.
        status: StatusCode,
        /// Extra advice (redirects).
        hint: String,
    },
    /// A body over the limit.
    #[error("{url} sent more than {limit} bytes; a machine config is at most {limit} bytes")]
    TooBig {
        /// The URL.
        url: String,
        /// The limit.
        limit: usize,
    },
    /// The attempt did not finish in time.
    #[error("{url} did not deliver the config within {timeout:?}")]
    Timeout {
        /// The URL.
        url: String,
        /// The attempt's limit.
        timeout: Duration,
    },
    /// The boot was cancelled (reboot, shutdown) while fetching.
    #[error("fetching {url} was cancelled")]
    Cancelled {
        /// The URL.
        url: String,
    },
}

/// A parsed `http://HOST[:PORT]/PATH`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpTarget {
    /// Host as dialled (IPv6 without brackets).
    pub host: String,
    /// Port (80 by default).
    pub port: u16,
    /// The request URI: path and query.
    pub path: String,
    /// The `Host` header value.
    pub authority: String,
}

impl HttpTarget {
    /// Parses an http URL; `https` and other schemes are refused.
    pub fn parse(url: &str) -> Result<Self, LocationError> {
        let bad = |reason: &str| LocationError::BadUrl {
            url: url.to_string(),
            reason: reason.to_string(),
        };
        let uri: Uri = url
            .parse()
            .map_err(|e: hyper::http::uri::InvalidUri| bad(&e.to_string()))?;
        match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => {}
            Some(s) if s.eq_ignore_ascii_case("https") => {
                return Err(LocationError::Https(url.to_string()))
            }
            _ => return Err(LocationError::Scheme(url.to_string())),
        }
        let authority = uri.authority().ok_or_else(|| bad("no host"))?;
        if authority.as_str().contains('@') {
            return Err(bad("user information in the URL is not supported"));
        }
        let host = authority.host();
        let host = host
            .strip_prefix('[')
            .and_then(|h| h.strip_suffix(']'))
            .unwrap_or(host);
        if host.is_empty() {
            return Err(bad("no host"));
        }
        // what follows the host: nothing or `:PORT` (no user information, checked above)
        let after_host = authority
            .as_str()
            .get(authority.host().len()..)
            .unwrap_or_default();
        let port = match after_host.strip_prefix(':') {
            Some(port) => port
                .parse()
                .map_err(|_| bad(&format!("bad port {port:?}")))?,
            None if after_host.is_empty() => 80,
            None => return Err(bad(&format!("unexpected {after_host:?} after the host"))),
        };
        Ok(HttpTarget {
            host: host.to_string(),
            port,
            path: uri
                .path_and_query()
                .map_or_else(|| "/".to_string(), |p| p.as_str().to_string()),
            authority: authority.as_str().to_string(),
        })
    }
}

/// Fetches `url` once: status 200, at most `max_bytes`, within `timeout`.
pub async fn fetch_once(
    url: &str,
    max_bytes: usize,
    timeout: Duration,
) -> Result<Vec<u8>, FetchError> {
    let target = HttpTarget::parse(url)?;
    match tokio::time::timeout(timeout, exchange(url, &target, max_bytes)).await {
        Ok(result) => result,
        Err(_) => Err(FetchError::Timeout {
            url: url.to_string(),
            timeout,
        }),
    }
}

async fn exchange(url: &str, target: &HttpTarget, max_bytes: usize) -> Result<Vec<u8>, FetchError> {
    let addr = format!("{}:{}", target.authority_host(), target.port);
    let stream = TcpStream::connect((target.host.as_str(), target.port))
        .await
        .map_err(|source| FetchError::Connect {
            url: url.to_string(),
            addr,
            source,
        })?;
    let http = |e: hyper::Error| FetchError::Http {
        url: url.to_string(),
        reason: with_causes(&e),
    };
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(http)?;
    let request = Request::get(target.path.as_str())
        .header(HOST, target.authority.as_str())
        .header(USER_AGENT, "basalt-machined")
        .header(CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| FetchError::Http {
            url: url.to_string(),
            reason: format!("cannot build the request: {e}"),
        })?;
    let response = async move {
        let response = sender.send_request(request).await.map_err(http)?;
        read_body(url, response, max_bytes).await
    };
    // the connection is driven alongside the request; it ends once the response is read
    let connection = async { connection.await.map_err(http) };
    let (body, ()) = tokio::try_join!(response, connection)?;
    Ok(body)
}

async fn read_body(
    url: &str,
    response: hyper::Response<hyper::body::Incoming>,
    max_bytes: usize,
) -> Result<Vec<u8>, FetchError> {
    let status = response.status();
    if status != StatusCode::OK {
        let hint = if status.is_redirection() {
            let to = response
                .headers()
                .get(hyper::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .unwrap_or("?");
            format!(" (a redirect to {to}; redirects are not followed, point basalt.config= at the final URL)")
        } else {
            String::new()
        };
        return Err(FetchError::Status {
            url: url.to_string(),
            status,
            hint,
        });
    }
    let too_big = || FetchError::TooBig {
        url: url.to_string(),
        limit: max_bytes,
    };
    let announced = response
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if announced.is_some_and(|n| n > u64::try_from(max_bytes).unwrap_or(u64::MAX)) {
        return Err(too_big());
    }
    let mut body = response.into_body();
    let mut bytes = Vec::new();
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| FetchError::Http {
            url: url.to_string(),
            reason: with_causes(&e),
        })?;
        if let Ok(data) = frame.into_data() {
            if bytes.len().saturating_add(data.len()) > max_bytes {
                return Err(too_big());
            }
            bytes.extend_from_slice(&data);
        }
    }
    Ok(bytes)
}

impl HttpTarget {
    fn authority_host(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]", self.host)
        } else {
            self.host.clone()
        }
    }
}

/// An error and its sources, `a: b: c` (hyper's own message alone says little).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        text.push_str(": ");
        text.push_str(&c.to_string());
        cause = c.source();
    }
    text
}

/// Fetches `url`, retrying every failure with backoff (doubling from
/// `policy.first_backoff` to `policy.max_backoff`) until `policy.total` has passed; each failed
/// attempt is logged once with its reason. Returns the body or the last failure.
pub async fn fetch_with_retry(
    url: &str,
    policy: &FetchPolicy,
    cancel: &CancellationToken,
    log: &mut (dyn FnMut(String) + Send),
) -> Result<Vec<u8>, FetchError> {
    let start = Instant::now();
    let mut backoff = policy.first_backoff;
    let mut attempt = 1u32;
    let cancelled = || FetchError::Cancelled {
        url: url.to_string(),
    };
    loop {
        let remaining = policy.total.saturating_sub(start.elapsed());
        let timeout = policy
            .attempt_timeout
            .min(remaining)
            .max(Duration::from_millis(100));
        let result = tokio::select! {
            result = fetch_once(url, policy.max_bytes, timeout) => result,
            _ = cancel.cancelled() => return Err(cancelled()),
        };
        let error = match result {
            Ok(bytes) => return Ok(bytes),
            Err(e @ FetchError::Url(_)) => return Err(e),
            Err(e) => e,
        };
        let elapsed = start.elapsed();
        if elapsed.saturating_add(backoff) >= policy.total {
            log(format!(
                "cannot fetch the machine config (attempt {attempt}): {error}; giving up after {:.1} s",
                elapsed.as_secs_f64()
            ));
            return Err(error);
        }
        log(format!(
            "cannot fetch the machine config (attempt {attempt}): {error}; retrying in {:.1} s",
            backoff.as_secs_f64()
        ));
        tokio::select! {
            _ = tokio::time::sleep(backoff) => {}
            _ = cancel.cancelled() => return Err(cancelled()),
        }
        backoff = backoff.saturating_mul(2).min(policy.max_backoff);
        attempt = attempt.saturating_add(1);
    }
}
