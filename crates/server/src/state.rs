//! Shared state of a running server: one `Clone` struct of `Arc`s, built once from a
//! validated config.

use std::sync::Arc;

use anyhow::anyhow;
use imgd_pipeline::Limits;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::origin::Fetcher;
use crate::token::Tokens;

#[derive(Clone)]
pub struct AppState {
    pub tokens: Arc<Tokens>,
    pub fetcher: Arc<Fetcher>,
    pub limits: Limits,
    /// Bounds transformations running at once; decoding is CPU- and memory-heavy, so more
    /// than one per core only adds memory.
    pub workers: Arc<Semaphore>,
    /// Largest file-alias source, as for HTTP origins.
    pub max_source_bytes: u64,
}

impl AppState {
    pub fn new(config: &Config) -> anyhow::Result<AppState> {
        let tokens = Tokens::from_config(config).map_err(|e| anyhow!(e.join("\n")))?;
        let fetcher = Fetcher::new(&config.origin).map_err(|e| anyhow!(e))?;
        let workers = match config.server.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        Ok(AppState {
            tokens: Arc::new(tokens),
            fetcher: Arc::new(fetcher),
            limits: Limits {
                max_source_pixels: config.limits.max_source_pixels,
                max_decode_bytes: config.limits.max_decode_bytes,
                max_output_side: config.limits.max_output_side,
            },
            workers: Arc::new(Semaphore::new(workers)),
            max_source_bytes: config.origin.max_bytes,
        })
    }
}
