//! The response when the origin image is missing or unreachable, per the token's
//! `missing_origin` policy. The placeholder is fitted to `w`/`h` (after `dpr`) and nothing
//! else of the URL applies to it. Short cache lifetime, so no CDN keeps it.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use imgd_pipeline::{placeholder, placeholder_side, Negotiation};
use imgd_url::{OutputFormat, TransformSpec};

use axum::response::IntoResponse;

use super::error::{fetch_code, ApiError, ERROR_HEADER};
use super::respond::{self, CachePolicy};
use crate::origin::FetchError;
use crate::state::AppState;
use crate::token::{MissingOrigin, Token};

/// Cache lifetime of missing-origin answers.
pub const MISSING_MAX_AGE: u32 = 60;

/// A transparent 1×1 GIF.
const TRANSPARENT_GIF: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

pub async fn respond(
    state: &AppState,
    token: &Token,
    spec: &TransformSpec,
    negotiation: Negotiation,
    headers: &HeaderMap,
    cause: &FetchError,
) -> Response {
    let policy = CachePolicy {
        cache_control: format!("public, max-age={MISSING_MAX_AGE}, s-maxage={MISSING_MAX_AGE}"),
        vary_accept: false,
    };
    let code = fetch_code(cause);
    let mut resp = match token.missing_origin {
        MissingOrigin::Empty404 => {
            let mut r = Response::new(Body::empty());
            *r.status_mut() = StatusCode::NOT_FOUND;
            if let Ok(v) = HeaderValue::from_str(&policy.cache_control) {
                r.headers_mut().insert(header::CACHE_CONTROL, v);
            }
            r
        }
        MissingOrigin::TransparentGif200 => respond::image(
            headers,
            StatusCode::OK,
            Bytes::from_static(TRANSPARENT_GIF),
            OutputFormat::Gif,
            &crate::variant::etag(TRANSPARENT_GIF),
            &policy,
        ),
        MissingOrigin::Placeholder404 | MissingOrigin::Placeholder200 => {
            let status = if token.missing_origin == MissingOrigin::Placeholder404 {
                StatusCode::NOT_FOUND
            } else {
                StatusCode::OK
            };
            let format = spec.format.unwrap_or(if negotiation.webp {
                OutputFormat::Webp
            } else {
                OutputFormat::Png
            });
            let dpr = spec.dpr.map_or(1.0, |d| d.as_f64());
            let scale = |v: Option<u32>| v.map(|v| (f64::from(v) * dpr).round() as u32);
            let side = placeholder_side(
                scale(spec.width),
                scale(spec.height),
                state.limits.max_output_side,
            );
            match tokio::task::spawn_blocking(move || placeholder(side, format)).await {
                Ok(Ok(bytes)) => {
                    let tag = crate::variant::etag(&bytes);
                    respond::image(headers, status, Bytes::from(bytes), format, &tag, &policy)
                }
                Ok(Err(e)) => return ApiError::Pipeline(e).into_response(),
                Err(e) => return ApiError::Internal(e.to_string()).into_response(),
            }
        }
    };
    resp.headers_mut()
        .insert(ERROR_HEADER, HeaderValue::from_static(code));
    resp
}
