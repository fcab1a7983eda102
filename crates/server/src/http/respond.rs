//! Building image responses: content type from the output format, cache headers, a strong
//! ETag from the bytes, `If-None-Match` → 304, `Vary: Accept` when the format was negotiated.

use axum::body::Body;
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use imgd_url::OutputFormat;

/// How a response may be cached and varied.
pub struct CachePolicy {
    pub cache_control: String,
    /// `Vary: Accept`: the token negotiates formats and the URL forced none.
    pub vary_accept: bool,
}

/// Whether `If-None-Match` lists `tag` (weak comparison, as RFC 9110 asks for this header).
fn not_modified(req: &HeaderMap, tag: &str) -> bool {
    req.get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == "*" || t == tag)
}

pub fn image(
    req: &HeaderMap,
    status: StatusCode,
    bytes: Bytes,
    format: OutputFormat,
    tag: &str,
    policy: &CachePolicy,
) -> Response {
    let not_mod = status == StatusCode::OK && not_modified(req, tag);
    let mut resp = if not_mod {
        Response::new(Body::empty())
    } else {
        Response::new(Body::from(bytes))
    };
    *resp.status_mut() = if not_mod {
        StatusCode::NOT_MODIFIED
    } else {
        status
    };
    let h = resp.headers_mut();
    if !not_mod {
        h.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(format.mime()),
        );
    }
    if let Ok(v) = HeaderValue::from_str(tag) {
        h.insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&policy.cache_control) {
        h.insert(header::CACHE_CONTROL, v);
    }
    if policy.vary_accept {
        h.insert(header::VARY, HeaderValue::from_static("Accept"));
    }
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn if_none_match_forms() {
        let tag = crate::variant::etag(b"abc");
        let mut h = HeaderMap::new();
        assert!(!not_modified(&h, &tag));
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_str(&format!("\"x\", W/{tag}")).unwrap(),
        );
        assert!(not_modified(&h, &tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(not_modified(&h, &tag));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert!(!not_modified(&h, &tag));
    }
}
