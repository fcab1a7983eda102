//! Producing a variant: from the cache when it is there and fresh, else made once (identical
//! concurrent requests share one origin fetch and one transformation) and stored.
//!
//! Owns: the cache policy (what is looked up, stored, revalidated, purged on origin change)
//! and coalescing. Must not: build HTTP responses or know status codes.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use bytes::Bytes;
use imgd_cache::{now, Cache, CacheError, CachedVariant, Lookup, OriginalPattern};
use imgd_pipeline::{Negotiation, Output, PipelineError};
use imgd_url::{Origin, OutputFormat, RemoteUrl, TransformSpec};
use thiserror::Error;

use crate::metrics::inc;
use crate::origin::{read_file, FetchError, Fetched, Validators};
use crate::parsed::{Ids, Parsed};
use crate::state::AppState;
use crate::token::Token;

/// Where a response's bytes came from (`X-Imgd-Cache`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheStatus {
    Hit,
    /// Made for this request.
    Miss,
    /// Made by a concurrent identical request and shared.
    Coalesced,
}

impl CacheStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            CacheStatus::Hit => "HIT",
            CacheStatus::Miss => "MISS",
            CacheStatus::Coalesced => "MISS, COALESCED",
        }
    }
}

#[derive(Debug, Clone)]
pub struct Produced {
    pub bytes: Bytes,
    pub format: OutputFormat,
    pub etag: String,
    pub status: CacheStatus,
}

#[derive(Debug, Clone, Error)]
pub enum ProduceError {
    #[error(transparent)]
    Fetch(#[from] FetchError),
    #[error(transparent)]
    Pipeline(#[from] PipelineError),
    /// A decoder panicked on this input; the process survived.
    #[error("the image could not be decoded")]
    DecoderPanic,
    /// Too many misses in progress: shed with 503 and `Retry-After`.
    #[error("the server is overloaded")]
    Overloaded,
    /// A worker task failed (a bug).
    #[error("worker failed: {0}")]
    Worker(String),
}

/// An original's bytes and when they were fetched (`None` for file origins).
#[derive(Debug, Clone)]
pub struct Original {
    pub bytes: Bytes,
    pub fetched: Option<u64>,
}

/// A strong validator for response bytes.
pub fn etag(bytes: &[u8]) -> String {
    format!("\"{:032x}\"", xxhash_rust::xxh3::xxh3_128(bytes))
}

/// Runs a blocking cache call off the async runtime. Cache failures are logged and counted,
/// and the request goes on without the cache.
async fn cache_call<T: Send + 'static>(
    state: &AppState,
    call: impl FnOnce(&Cache) -> Result<T, CacheError> + Send + 'static,
) -> Option<T> {
    let cache = state.cache.clone()?;
    match tokio::task::spawn_blocking(move || call(&cache)).await {
        Ok(Ok(v)) => Some(v),
        Ok(Err(e)) => {
            inc(&state.metrics.cache_errors);
            tracing::warn!(error = %e, "cache operation failed");
            None
        }
        Err(e) => {
            inc(&state.metrics.cache_errors);
            tracing::error!(error = %e, "cache task failed");
            None
        }
    }
}

/// The cached variant, if any. The index read runs inline (it reads no file: a hot body
/// comes back at once); only a body on disk is read on a blocking thread. An LRU touch that
/// falls due is run in the background, never on the request.
async fn cached(state: &AppState, ids: &Ids) -> Option<CachedVariant> {
    let cache = state.cache.as_ref()?;
    let looked_up = match cache.lookup_keyed(ids.token(), ids.variant_key()) {
        Ok(l) => l,
        Err(e) => {
            inc(&state.metrics.cache_errors);
            tracing::warn!(error = %e, "cache lookup failed");
            return None;
        }
    };
    let hit = match looked_up {
        Lookup::Miss => return None,
        Lookup::Hit(hit) => {
            inc(&state.metrics.memory_hits);
            hit
        }
        Lookup::OnDisk(d) => cache_call(state, move |c| c.load(d)).await.flatten()?,
    };
    if let Some(t) = hit.touch.clone() {
        let (cache, metrics) = (cache.clone(), state.metrics.clone());
        tokio::task::spawn_blocking(move || {
            if let Err(e) = cache.touch(&t) {
                inc(&metrics.cache_errors);
                tracing::warn!(error = %e, "cache touch failed");
            }
        });
    }
    Some(hit)
}

fn is_stale(token: &Token, fetched: Option<u64>) -> bool {
    token.cache_ttl > 0 && fetched.is_some_and(|t| now().saturating_sub(t) >= token.cache_ttl)
}

/// The variant `spec` of `origin`, from the cache or made now.
pub async fn produce(
    state: &AppState,
    token: &Token,
    parsed: &Arc<Parsed>,
    negotiation: Negotiation,
) -> Result<Produced, ProduceError> {
    let (origin, spec) = (&parsed.request.origin, &parsed.request.spec);
    if let Origin::Remote(url) = origin {
        if !token.allows_host(&url.host) {
            return Err(FetchError::HostNotAllowed(url.host.clone()).into());
        }
    }
    let ids = Ids::new(parsed, negotiation);
    if let Some(hit) = cached(state, &ids).await {
        let fresh = match origin {
            Origin::Remote(url) if is_stale(token, hit.original_fetched) => {
                !refresh_original(state, token, url, &ids).await?
            }
            _ => true,
        };
        if let (true, Some(format)) = (fresh, OutputFormat::from_name(&hit.format)) {
            inc(&state.metrics.cache_hits);
            return Ok(Produced {
                bytes: hit.bytes,
                format,
                etag: hit.etag,
                status: CacheStatus::Hit,
            });
        }
    }
    let (result, ran) = state
        .variants
        .run(ids.variant_key(), || {
            make(state, token, origin, spec, negotiation, &ids)
        })
        .await;
    inc(if ran {
        &state.metrics.cache_misses
    } else {
        &state.metrics.coalesced
    });
    let mut produced = result?;
    produced.status = if ran {
        CacheStatus::Miss
    } else {
        CacheStatus::Coalesced
    };
    Ok(produced)
}

async fn make(
    state: &AppState,
    token: &Token,
    origin: &Origin,
    spec: &TransformSpec,
    negotiation: Negotiation,
    ids: &Ids,
) -> Result<Produced, ProduceError> {
    // Held until the variant is made: bounds misses in progress (fetching or transforming).
    let _admitted = state
        .admission
        .clone()
        .try_acquire_owned()
        .map_err(|_| ProduceError::Overloaded)?;
    let original = original(state, token, origin, ids).await?;
    let out = run_pipeline(state, original.bytes, spec.clone(), negotiation).await?;
    let etag = etag(&out.bytes);
    let bytes = Bytes::from(out.bytes);
    let (store_ids, store_bytes, store_etag) = (ids.clone(), bytes.clone(), etag.clone());
    let format = out.format;
    cache_call(state, move |c| {
        c.put_variant(
            store_ids.variant(),
            format.as_str(),
            &store_etag,
            &store_bytes,
            original.fetched,
        )
    })
    .await;
    Ok(Produced {
        bytes,
        format,
        etag,
        status: CacheStatus::Miss,
    })
}

/// The original's bytes: read from its alias directory, or from the cache when fresh, else
/// fetched (once for all concurrent requests) and stored.
async fn original(
    state: &AppState,
    token: &Token,
    origin: &Origin,
    ids: &Ids,
) -> Result<Original, ProduceError> {
    let url = match origin {
        Origin::File { root, segments, .. } => {
            let bytes = read_file(root, segments, state.max_source_bytes).await?;
            return Ok(Original {
                bytes,
                fetched: None,
            });
        }
        Origin::Remote(url) => url,
    };
    for attempt in 0..2 {
        let lookup = ids.clone();
        let Some(cached) = cache_call(state, move |c| c.original(lookup.original()))
            .await
            .flatten()
        else {
            break;
        };
        if attempt == 0 && is_stale(token, Some(cached.fetched)) {
            refresh_original(state, token, url, ids).await?;
            continue;
        }
        return Ok(Original {
            bytes: Bytes::from(cached.bytes),
            fetched: Some(cached.fetched),
        });
    }
    let key = ids.original().key();
    let (result, _) = state
        .originals
        .run(&key, || fetch_original(state, token, url, ids))
        .await;
    result
}

async fn fetch_original(
    state: &AppState,
    token: &Token,
    url: &RemoteUrl,
    ids: &Ids,
) -> Result<Original, ProduceError> {
    inc(&state.metrics.origin_fetches);
    let fetched = state
        .fetcher
        .fetch(url, &|h| token.allows_host(h), None)
        .await?;
    let Fetched::Body { bytes, validators } = fetched else {
        return Err(
            FetchError::Unreachable("unexpected 304 to an unconditional request".into()).into(),
        );
    };
    store_original(state, ids, bytes.clone(), validators).await;
    Ok(Original {
        bytes,
        fetched: Some(now()),
    })
}

async fn store_original(state: &AppState, ids: &Ids, bytes: Bytes, v: Validators) {
    let ids = ids.clone();
    cache_call(state, move |c| {
        c.put_original(
            ids.original(),
            &bytes,
            imgd_cache::Validators {
                etag: v.etag,
                last_modified: v.last_modified,
            },
        )
    })
    .await;
}

/// Revalidates a stale original with the origin (conditional request when validators are
/// known). Returns whether it changed; a change purges the original's variants. A missing
/// origin purges everything of it and is returned as the error; other failures keep serving
/// what is cached (stale-if-error).
async fn refresh_original(
    state: &AppState,
    token: &Token,
    url: &RemoteUrl,
    ids: &Ids,
) -> Result<bool, ProduceError> {
    let key = ids.original().key();
    let (result, _) = state
        .refreshes
        .run(&key, || async {
            let lookup = ids.clone();
            let cached = cache_call(state, move |c| c.original(lookup.original()))
                .await
                .flatten();
            let validators = cached
                .as_ref()
                .map(|c| Validators {
                    etag: c.etag.clone(),
                    last_modified: c.last_modified.clone(),
                })
                .filter(|v| v.etag.is_some() || v.last_modified.is_some());
            inc(&state.metrics.origin_fetches);
            match state
                .fetcher
                .fetch(url, &|h| token.allows_host(h), validators.as_ref())
                .await
            {
                Ok(Fetched::NotModified) => {
                    inc(&state.metrics.origin_not_modified);
                    let ids = ids.clone();
                    cache_call(state, move |c| c.revalidated(ids.original())).await;
                    Ok(false)
                }
                Ok(Fetched::Body { bytes, validators }) => {
                    let changed = cached.is_none_or(|c| c.bytes != bytes.as_ref());
                    if changed {
                        purge_original(state, ids).await;
                    }
                    store_original(state, ids, bytes, validators).await;
                    Ok(changed)
                }
                Err(e @ FetchError::NotFound(_)) => {
                    purge_original(state, ids).await;
                    Err(ProduceError::Fetch(e))
                }
                Err(e) => {
                    tracing::warn!(error = %e, url = %url, "revalidation failed; serving cached copy");
                    Ok(false)
                }
            }
        })
        .await;
    result
}

async fn purge_original(state: &AppState, ids: &Ids) {
    let ids = ids.clone();
    cache_call(state, move |c| {
        let purged = c.purge_originals(
            ids.token(),
            &[OriginalPattern::Exact(ids.url().to_string())],
            None,
        )?;
        c.unlink(&purged.files);
        Ok(())
    })
    .await;
}

/// Runs the pipeline on a blocking thread once a worker slot is free. A decoder panic is
/// caught and fails this request only.
pub async fn run_pipeline(
    state: &AppState,
    original: Bytes,
    spec: TransformSpec,
    negotiation: Negotiation,
) -> Result<Output, ProduceError> {
    let _permit = state
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ProduceError::Worker(e.to_string()))?;
    inc(&state.metrics.transforms);
    let limits = state.limits;
    let joined = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            imgd_pipeline::process(&original, &spec, negotiation, &limits)
        }))
    })
    .await
    .map_err(|e| ProduceError::Worker(e.to_string()))?;
    match joined {
        Ok(result) => Ok(result?),
        Err(_) => Err(ProduceError::DecoderPanic),
    }
}

/// Shared handle type for the cache, so `state.rs` names it once.
pub type SharedCache = Option<Arc<Cache>>;
