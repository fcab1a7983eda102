//! `POST /invalidate`: Cloudimage's Invalidation API. The token is the one whose `api_keys`
//! holds `X-Client-Key`; the purge is durable and in effect before the 201 is sent. Files are
//! unlinked afterwards in the background.

use std::sync::atomic::{AtomicU64, Ordering};

use axum::body::{to_bytes, Body};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::error::ApiError;
use crate::invalidate::{execute, plan, InvalidateError, InvalidationRequest, Purge};
use crate::metrics::inc;
use crate::state::AppState;

/// Largest accepted body.
pub const MAX_BODY: usize = 1024 * 1024;

pub async fn invalidate(State(state): State<AppState>, headers: HeaderMap, body: Body) -> Response {
    match handle(&state, &headers, body).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(state: &AppState, headers: &HeaderMap, body: Body) -> Result<Response, ApiError> {
    let key = headers
        .get("x-client-key")
        .and_then(|v| v.to_str().ok())
        .filter(|k| !k.is_empty())
        .ok_or(ApiError::Unauthorized)?;
    let token = state
        .tokens
        .for_api_key(key)
        .ok_or(ApiError::Unauthorized)?;
    let bytes = to_bytes(body, MAX_BODY)
        .await
        .map_err(|_| ApiError::BodyTooLarge)?;
    let req: InvalidationRequest = serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::InvalidBody(format!("malformed JSON body: {e}")))?;
    let purge = plan(&token, &req).map_err(|e| match e {
        InvalidateError::Invalid(m) => ApiError::InvalidBody(m),
        InvalidateError::Cache(e) => ApiError::Cache(e),
    })?;

    let removed = match state.cache.clone() {
        None => 0,
        Some(cache) => {
            let name = token.name.clone();
            let (p, c) = (purge.clone(), cache.clone());
            let (removed, files) = tokio::task::spawn_blocking(move || execute(&c, &name, &p))
                .await
                .map_err(|e| ApiError::Internal(e.to_string()))?
                .map_err(ApiError::Cache)?;
            let name = token.name.clone();
            let all = purge == Purge::All;
            // The purge is committed; what remains is disk space, reclaimed off the request path.
            tokio::task::spawn_blocking(move || {
                cache.unlink(&files);
                if all {
                    match cache.collect_stale(&name) {
                        Ok(files) => cache.unlink(&files),
                        Err(e) => tracing::warn!(error = %e, "collecting purged entries failed"),
                    }
                }
            });
            removed
        }
    };
    inc(&state.metrics.invalidations);
    tracing::info!(token = %token.name, scope = %req.scope, removed, "invalidated");
    let body = json!({
        "status": "success",
        "msg": format!("Invalidation of scope {} done", req.scope),
        "invalidation": {
            "status": "DONE",
            "uuid": uuid(),
            "added_at": rfc3339(imgd_cache::now()),
            "removed": removed,
        }
    });
    Ok((
        StatusCode::CREATED,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response())
}

/// A random-looking version-4 UUID (unique per process run; not a secret).
fn uuid() -> String {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let seed = format!(
        "{:?}{}{}",
        std::time::SystemTime::now(),
        std::process::id(),
        SEQ.fetch_add(1, Ordering::Relaxed)
    );
    let mut b = xxhash_rust::xxh3::xxh3_128(seed.as_bytes()).to_be_bytes();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// Unix seconds as `YYYY-MM-DDTHH:MM:SSZ` (civil-from-days, proleptic Gregorian).
fn rfc3339(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_796_417_772), "2026-12-04T20:56:12Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn uuids_are_distinct_and_shaped() {
        let (a, b) = (uuid(), uuid());
        assert_ne!(a, b);
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "4");
    }
}
