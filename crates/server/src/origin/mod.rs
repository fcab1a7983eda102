//! Getting original bytes: HTTP(S) origins (guarded, bounded, with manual redirects) and file
//! aliases (confined to their directory).
//!
//! Owns: every outbound request imgd makes, and every read of an alias directory.
//! Must not: decode images or build responses. A body that is cut short, too large or late is
//! an error here, so nothing downstream ever sees (or caches) a partial original.

pub mod guard;
pub mod resolve;

use std::path::{Path, PathBuf};
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use imgd_url::RemoteUrl;
use thiserror::Error;

use crate::config::OriginConfig;
use guard::AddrPolicy;
use resolve::{parse_pins, BlockedAddress, GuardedResolver};

#[derive(Debug, Clone, Error)]
pub enum FetchError {
    /// The host is not on the token's whitelist (checked on every redirect hop).
    #[error("origin host {0} is not on this token's whitelist")]
    HostNotAllowed(String),
    /// The origin is on an address the policy refuses (loopback, private, ...).
    #[error("origin address is not allowed")]
    AddressNotAllowed,
    /// The origin answered 4xx, or the file does not exist.
    #[error("origin image not found (status {0})")]
    NotFound(u16),
    /// DNS failure, refused connection, TLS failure.
    #[error("origin unreachable: {0}")]
    Unreachable(String),
    /// The origin answered 5xx.
    #[error("origin failed with status {0}")]
    OriginStatus(u16),
    #[error("origin did not answer in time")]
    Timeout,
    #[error("origin body exceeds the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    /// The body ended before its Content-Length, or the connection broke mid-body.
    #[error("origin body was cut short")]
    Truncated,
    #[error("too many redirects")]
    TooManyRedirects,
    #[error("invalid redirect from origin")]
    BadRedirect,
    /// Reading a file alias failed for a reason other than absence.
    #[error("reading the file origin failed: {0}")]
    Io(String),
}

/// An origin's cache validators (`ETag`, `Last-Modified`), sent back on revalidation.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// A fetch's result.
#[derive(Debug)]
pub enum Fetched {
    /// The conditional request was answered 304.
    NotModified,
    Body {
        bytes: Bytes,
        validators: Validators,
    },
}

pub struct Fetcher {
    client: reqwest::Client,
    policy: AddrPolicy,
    max_bytes: u64,
    max_redirects: usize,
    timeout: Duration,
}

impl Fetcher {
    pub fn new(c: &OriginConfig) -> Result<Fetcher, String> {
        // Only ring is compiled in; installing it as the process default is idempotent.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let policy = AddrPolicy {
            allow_loopback: c.allow_loopback,
            allow_private: c.allow_private,
        };
        let pins = parse_pins(&c.resolve).map_err(|e| e.join("; "))?;
        let client = reqwest::Client::builder()
            .dns_resolver(GuardedResolver::new(policy, pins))
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(Duration::from_millis(c.connect_timeout_ms))
            .user_agent(c.user_agent.clone())
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Fetcher {
            client,
            policy,
            max_bytes: c.max_bytes,
            max_redirects: c.max_redirects,
            timeout: Duration::from_millis(c.timeout_ms),
        })
    }

    /// Fetches `url` whole. `host_allowed` is the token's whitelist, applied to every hop.
    /// With `conditional`, the request carries `If-None-Match` / `If-Modified-Since`.
    pub async fn fetch(
        &self,
        url: &RemoteUrl,
        host_allowed: &(dyn Fn(&str) -> bool + Sync),
        conditional: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        tokio::time::timeout(
            self.timeout,
            self.fetch_inner(url, host_allowed, conditional),
        )
        .await
        .map_err(|_| FetchError::Timeout)?
    }

    async fn fetch_inner(
        &self,
        url: &RemoteUrl,
        host_allowed: &(dyn Fn(&str) -> bool + Sync),
        conditional: Option<&Validators>,
    ) -> Result<Fetched, FetchError> {
        let mut url = reqwest::Url::parse(&url.to_string()).map_err(|_| FetchError::BadRedirect)?;
        for _ in 0..=self.max_redirects {
            self.check_hop(&url, host_allowed)?;
            let mut req = self.client.get(url.clone());
            if let Some(v) = conditional {
                if let Some(etag) = &v.etag {
                    req = req.header(reqwest::header::IF_NONE_MATCH, etag);
                }
                if let Some(lm) = &v.last_modified {
                    req = req.header(reqwest::header::IF_MODIFIED_SINCE, lm);
                }
            }
            let resp = req.send().await.map_err(classify)?;
            let status = resp.status();
            if status == reqwest::StatusCode::NOT_MODIFIED && conditional.is_some() {
                return Ok(Fetched::NotModified);
            }
            if status.is_redirection() {
                let location = resp
                    .headers()
                    .get(reqwest::header::LOCATION)
                    .and_then(|v| v.to_str().ok())
                    .ok_or(FetchError::BadRedirect)?;
                url = url.join(location).map_err(|_| FetchError::BadRedirect)?;
                continue;
            }
            if status.is_client_error() {
                return Err(FetchError::NotFound(status.as_u16()));
            }
            if !status.is_success() {
                return Err(FetchError::OriginStatus(status.as_u16()));
            }
            let header = |name| {
                resp.headers()
                    .get(name)
                    .and_then(|v: &reqwest::header::HeaderValue| v.to_str().ok())
                    .map(str::to_string)
            };
            let validators = Validators {
                etag: header(reqwest::header::ETAG),
                last_modified: header(reqwest::header::LAST_MODIFIED),
            };
            let bytes = self.read_body(resp).await?;
            return Ok(Fetched::Body { bytes, validators });
        }
        Err(FetchError::TooManyRedirects)
    }

    /// Scheme, whitelist and IP-literal checks for one hop. Names are checked by the resolver
    /// on the addresses it returns; literals never reach it, so they are checked here.
    fn check_hop(
        &self,
        url: &reqwest::Url,
        host_allowed: &(dyn Fn(&str) -> bool + Sync),
    ) -> Result<(), FetchError> {
        if !matches!(url.scheme(), "http" | "https") {
            return Err(FetchError::BadRedirect);
        }
        let host = url.host().ok_or(FetchError::BadRedirect)?;
        let name = match host {
            url::Host::Domain(d) => d.to_ascii_lowercase(),
            url::Host::Ipv4(ip) => ip.to_string(),
            url::Host::Ipv6(ip) => format!("[{ip}]"),
        };
        if !host_allowed(&name) {
            return Err(FetchError::HostNotAllowed(name));
        }
        let literal = match host {
            url::Host::Ipv4(ip) => Some(std::net::IpAddr::V4(ip)),
            url::Host::Ipv6(ip) => Some(std::net::IpAddr::V6(ip)),
            url::Host::Domain(_) => None,
        };
        match literal {
            Some(ip) if !self.policy.allows(ip) => Err(FetchError::AddressNotAllowed),
            _ => Ok(()),
        }
    }

    async fn read_body(&self, mut resp: reqwest::Response) -> Result<Bytes, FetchError> {
        let limit = self.max_bytes;
        let declared = resp.content_length();
        if declared.is_some_and(|n| n > limit) {
            return Err(FetchError::TooLarge { limit });
        }
        // A large declared body goes into its own memory mapping, unmapped when the last
        // reference drops: through malloc, a few MB per request stayed in the allocator's
        // arenas (workload B, 5.6 MB originals: peak RSS 39-40 MB → see BENCHMARKS.md).
        if let Some(n) = declared.filter(|&n| n >= LARGE_BODY) {
            // No mapping to be had (address space limits): read it the usual way.
            if let Ok(map) = memmap2::MmapMut::map_anon(n as usize) {
                return read_mapped(resp, map).await;
            }
        }
        let mut buf = BytesMut::with_capacity(declared.unwrap_or(64 * 1024).min(limit) as usize);
        while let Some(chunk) = next_chunk(&mut resp).await? {
            if (buf.len() + chunk.len()) as u64 > limit {
                return Err(FetchError::TooLarge { limit });
            }
            buf.extend_from_slice(&chunk);
        }
        if declared.is_some_and(|n| n != buf.len() as u64) {
            return Err(FetchError::Truncated);
        }
        Ok(buf.freeze())
    }
}

/// The next chunk of a body; a broken connection mid-body is `Truncated`.
async fn next_chunk(resp: &mut reqwest::Response) -> Result<Option<Bytes>, FetchError> {
    match resp.chunk().await {
        Ok(chunk) => Ok(chunk),
        Err(e) if e.is_timeout() => Err(FetchError::Timeout),
        Err(_) => Err(FetchError::Truncated),
    }
}

/// Bodies declared at least this large are read into an anonymous memory mapping.
const LARGE_BODY: u64 = 1 << 20;

/// Reads a body of exactly the declared length (`map`'s) into `map`.
async fn read_mapped(
    mut resp: reqwest::Response,
    mut map: memmap2::MmapMut,
) -> Result<Bytes, FetchError> {
    let mut at = 0usize;
    while let Some(chunk) = next_chunk(&mut resp).await? {
        let end = at + chunk.len();
        // More than declared: the response lies about its length.
        let dst = map.get_mut(at..end).ok_or(FetchError::Truncated)?;
        dst.copy_from_slice(&chunk);
        at = end;
    }
    if at != map.len() {
        return Err(FetchError::Truncated);
    }
    Ok(Bytes::from_owner(map))
}

fn classify(e: reqwest::Error) -> FetchError {
    if e.is_timeout() {
        return FetchError::Timeout;
    }
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(&e);
    while let Some(s) = source {
        if s.is::<BlockedAddress>() {
            return FetchError::AddressNotAllowed;
        }
        source = s.source();
    }
    FetchError::Unreachable(e.to_string())
}

/// Reads `segments` under `root`, refusing anything whose real path (symlinks resolved) is
/// outside `root`.
pub async fn read_file(
    root: &str,
    segments: &[String],
    max_bytes: u64,
) -> Result<Bytes, FetchError> {
    let root = tokio::fs::canonicalize(root)
        .await
        .map_err(|e| FetchError::Io(e.to_string()))?;
    let path: PathBuf = segments.iter().fold(root.clone(), |p, s| p.join(s));
    let real = match tokio::fs::canonicalize(&path).await {
        Ok(p) => p,
        Err(_) => return Err(FetchError::NotFound(404)),
    };
    if !real.starts_with(&root) || !is_file(&real).await {
        return Err(FetchError::NotFound(404));
    }
    let meta = tokio::fs::metadata(&real)
        .await
        .map_err(|e| FetchError::Io(e.to_string()))?;
    if meta.len() > max_bytes {
        return Err(FetchError::TooLarge { limit: max_bytes });
    }
    tokio::fs::read(&real)
        .await
        .map(Bytes::from)
        .map_err(|e| FetchError::Io(e.to_string()))
}

async fn is_file(p: &Path) -> bool {
    tokio::fs::metadata(p).await.is_ok_and(|m| m.is_file())
}
