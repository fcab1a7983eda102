//! Running the server: bind (done by the caller), build state, serve until shutdown.

use std::future::Future;

use tokio::net::TcpListener;

use crate::config::Config;
use crate::http::app;
use crate::state::AppState;

/// Serves `config` on an already-bound `listener` until `shutdown` completes. Tests bind
/// `127.0.0.1:0` and call this directly.
pub async fn run(
    listener: TcpListener,
    config: Config,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let state = AppState::new(&config)?;
    axum::serve(listener, app(state))
        .with_graceful_shutdown(shutdown)
        .await?;
    Ok(())
}
