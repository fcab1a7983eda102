//! `GET /<origin>?<params>`: the image endpoint. Reads like the request's life:
//! token → parse → fetch original → transform on a worker → respond.

use std::panic::AssertUnwindSafe;

use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use imgd_pipeline::{Negotiation, Output};
use imgd_url::{parse_request, Origin, TransformSpec};

use super::error::ApiError;
use super::missing;
use super::respond::{self, CachePolicy};
use crate::origin::{read_file, FetchError};
use crate::state::AppState;
use crate::token::Token;

pub async fn transform(
    State(state): State<AppState>,
    method: Method,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    match handle(&state, &method, &headers, &uri).await {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

async fn handle(
    state: &AppState,
    method: &Method,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Response, ApiError> {
    if method != Method::GET && method != Method::HEAD {
        return Err(ApiError::MethodNotAllowed);
    }
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let token = state.tokens.for_host(host).ok_or(ApiError::UnknownToken)?;
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let request = parse_request(&token.rules, target)?;
    let spec = request.spec;

    let negotiable = token.auto_webp && spec.format.is_none();
    let negotiation = Negotiation {
        webp: negotiable && accepts(headers, "image/webp"),
    };
    let policy = CachePolicy {
        cache_control: cache_control(&token, &spec),
        vary_accept: negotiable,
    };

    let original = match fetch(state, &token, &request.origin).await {
        Ok(bytes) => bytes,
        Err(e @ (FetchError::NotFound(_) | FetchError::Unreachable(_))) => {
            tracing::debug!(error = %e, "origin missing");
            return Ok(missing::respond(state, &token, &spec, negotiation, headers, &e).await);
        }
        Err(e) => return Err(e.into()),
    };
    let out = run_pipeline(state, original, spec, negotiation).await?;
    Ok(respond::image(
        headers,
        StatusCode::OK,
        Bytes::from(out.bytes),
        out.format,
        &policy,
    ))
}

async fn fetch(state: &AppState, token: &Token, origin: &Origin) -> Result<Bytes, FetchError> {
    match origin {
        Origin::Remote(url) => {
            if !token.allows_host(&url.host) {
                return Err(FetchError::HostNotAllowed(url.host.clone()));
            }
            state.fetcher.fetch(url, &|h| token.allows_host(h)).await
        }
        Origin::File { root, segments, .. } => {
            read_file(root, segments, state.max_source_bytes).await
        }
    }
}

/// Runs the pipeline on a blocking thread once a worker slot is free. A decoder panic is
/// caught and becomes a 422 for this request only.
pub async fn run_pipeline(
    state: &AppState,
    original: Bytes,
    spec: TransformSpec,
    negotiation: Negotiation,
) -> Result<Output, ApiError> {
    let _permit = state
        .workers
        .clone()
        .acquire_owned()
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))?;
    let limits = state.limits;
    let joined = tokio::task::spawn_blocking(move || {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            imgd_pipeline::process(&original, &spec, negotiation, &limits)
        }))
    })
    .await
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    match joined {
        Ok(result) => Ok(result?),
        Err(_) => Err(ApiError::DecoderPanic),
    }
}

fn cache_control(token: &Token, spec: &TransformSpec) -> String {
    match spec.cache_seconds {
        Some(n) => format!("public, max-age={n}, s-maxage={n}"),
        None => format!(
            "public, max-age={}, s-maxage={}",
            token.max_age, token.s_maxage
        ),
    }
}

/// Whether `Accept` lists `mime` with a non-zero quality.
fn accepts(headers: &HeaderMap, mime: &str) -> bool {
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|item| {
            let mut parts = item.split(';').map(str::trim);
            let ty = parts.next().unwrap_or_default();
            let zero_q = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q == 0.0)
            });
            ty.eq_ignore_ascii_case(mime) && !zero_q
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn accept_parsing() {
        let mut h = HeaderMap::new();
        assert!(!accepts(&h, "image/webp"));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("image/avif,image/webp,*/*;q=0.8"),
        );
        assert!(accepts(&h, "image/webp"));
        h.insert(
            header::ACCEPT,
            HeaderValue::from_static("image/webp;q=0, image/png"),
        );
        assert!(!accepts(&h, "image/webp"));
        h.insert(header::ACCEPT, HeaderValue::from_static("*/*"));
        assert!(
            !accepts(&h, "image/webp"),
            "a wildcard does not prove WebP support"
        );
    }
}
