//! The route table. Fixed paths first; every other path is an image URL.

use axum::http::HeaderValue;
use axum::routing::get;
use axum::Router;
use tower_http::catch_panic::CatchPanicLayer;

use super::health::health;
use super::transform::transform;
use crate::state::AppState;

pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/health", get(health))
        .fallback(transform)
        .with_state(state)
        // A panic anywhere in a handler becomes a 500 for that request, never a dropped process.
        .layer(CatchPanicLayer::new())
        .layer(axum::middleware::map_response(nosniff))
}

async fn nosniff(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut().insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    resp
}
