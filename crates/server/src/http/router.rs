//! The route table. Fixed paths first; every other path is an image URL.

use axum::extract::State;
use axum::http::HeaderValue;
use axum::routing::{get, post};
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use super::health::health;
use super::invalidate::invalidate;
use super::transform::transform;
use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    let deadline = state.request_timeout;
    let access_log = state.access_log;
    let router = Router::new()
        .route("/health", get(health))
        .route("/metrics", get(metrics))
        .route("/invalidate", post(invalidate))
        .fallback(transform)
        .with_state(state)
        // A panic anywhere in a handler becomes a 500 for that request, never a dropped process.
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::from_fn(move |req, next| {
            within(deadline, req, next)
        }))
        .layer(axum::middleware::map_response(nosniff));
    if access_log {
        router.layer(axum::middleware::from_fn(log_request))
    } else {
        router
    }
}

/// One log line per request: method, target, status, time taken.
async fn log_request(
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let (method, target) = (req.method().clone(), req.uri().to_string());
    let started = std::time::Instant::now();
    let resp = next.run(req).await;
    tracing::info!(
        %method,
        %target,
        status = resp.status().as_u16(),
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    resp
}

/// Answers 504 when the request takes longer than the deadline; the work is dropped.
async fn within(
    deadline: std::time::Duration,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    match tokio::time::timeout(deadline, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
            axum::response::IntoResponse::into_response(super::error::ApiError::RequestTimeout)
        }
    }
}

async fn metrics(State(state): State<AppState>) -> String {
    state.metrics.render()
}

async fn nosniff(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}
