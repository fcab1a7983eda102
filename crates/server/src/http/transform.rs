//! `GET /<origin>?<params>`: the image endpoint. Reads like the request's life:
//! token → parse → negotiate → produce (cache or make) → respond.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use imgd_pipeline::Negotiation;
use imgd_url::TransformSpec;

use super::error::ApiError;
use super::missing;
use super::respond::{self, CachePolicy};
use crate::metrics::inc;
use crate::origin::FetchError;
use crate::state::AppState;
use crate::token::Token;
use crate::variant::{produce, ProduceError};

/// Header telling where the bytes came from: `HIT`, `MISS`, `MISS, COALESCED`.
pub const CACHE_HEADER: &str = "x-imgd-cache";

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
    inc(&state.metrics.requests);
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let token = state.tokens.for_host(host).ok_or(ApiError::UnknownToken)?;
    let target = uri.path_and_query().map_or("/", |p| p.as_str());
    let parsed = state.parsed.parse(&token, target)?;
    let spec = &parsed.request.spec;

    let negotiable = token.auto_webp && spec.format.is_none();
    let negotiation = Negotiation {
        webp: negotiable && accepts(headers, "image/webp"),
    };
    let policy = CachePolicy {
        cache_control: cache_control(&token, spec),
        vary_accept: negotiable,
    };

    let produced = match produce(state, &token, &parsed, negotiation).await {
        Ok(p) => p,
        Err(ProduceError::Fetch(e @ (FetchError::NotFound(_) | FetchError::Unreachable(_)))) => {
            tracing::debug!(error = %e, "origin missing");
            return Ok(missing::respond(state, &token, spec, negotiation, headers, &e).await);
        }
        Err(e) => return Err(e.into()),
    };
    let mut resp = respond::image(
        headers,
        StatusCode::OK,
        produced.bytes,
        produced.format,
        &produced.etag,
        &policy,
    );
    resp.headers_mut().insert(
        CACHE_HEADER,
        HeaderValue::from_static(produced.status.as_str()),
    );
    Ok(resp)
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
