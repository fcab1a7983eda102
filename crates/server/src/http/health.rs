//! `GET /health`: liveness. Touches no origin and no worker.

pub async fn health() -> &'static str {
    "ok\n"
}
