//! Shared state of a running server: built once from a validated config, shared by every
//! request through one `Arc`.

use std::sync::Arc;

use anyhow::anyhow;
use imgd_pipeline::Limits;
use tokio::sync::Semaphore;

use crate::config::Config;
use crate::flight::Flights;
use crate::metrics::Metrics;
use crate::origin::Fetcher;
use crate::parsed::ParseMemo;
use crate::token::Tokens;
use crate::variant::{Original, ProduceError, Produced, SharedCache};

/// Cloned per request by the router, so it is one `Arc`: one reference count to move
/// instead of one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

impl std::ops::Deref for AppState {
    type Target = Shared;
    fn deref(&self) -> &Shared {
        &self.0
    }
}

pub struct Shared {
    pub tokens: Arc<Tokens>,
    pub fetcher: Arc<Fetcher>,
    pub limits: Limits,
    /// Bounds transformations running at once; decoding is CPU- and memory-heavy, so more
    /// than one per core only adds memory.
    pub workers: Arc<Semaphore>,
    /// Admission of cache misses: `workers + queue` permits, taken without waiting; a miss
    /// that finds none is shed with 503.
    pub admission: Arc<Semaphore>,
    /// Largest file-alias source, as for HTTP origins.
    pub max_source_bytes: u64,
    /// Whole-request deadline.
    pub request_timeout: std::time::Duration,
    /// Log a line per request.
    pub access_log: bool,
    /// `None` when `[cache] enabled = false`.
    pub cache: SharedCache,
    pub metrics: Arc<Metrics>,
    /// Successful parses of request targets.
    pub parsed: ParseMemo,
    /// In-flight work, by variant key, original key (fetch) and original key (revalidation).
    pub variants: Arc<Flights<Result<Produced, ProduceError>>>,
    pub originals: Arc<Flights<Result<Original, ProduceError>>>,
    pub refreshes: Arc<Flights<Result<bool, ProduceError>>>,
}

impl AppState {
    pub fn new(config: &Config) -> anyhow::Result<AppState> {
        let tokens = Tokens::from_config(config).map_err(|e| anyhow!(e.join("\n")))?;
        let fetcher = Fetcher::new(&config.origin).map_err(|e| anyhow!(e))?;
        let workers = match config.server.workers {
            0 => std::thread::available_parallelism().map_or(2, |n| n.get()),
            n => n,
        };
        let cache = if config.cache.enabled {
            let dir = config.cache_dir();
            let cache = imgd_cache::Cache::open(&dir, config.cache.max_size)
                .map_err(|e| anyhow!("cannot open the cache in {}: {e}", dir.display()))?
                .with_hot_tier(imgd_cache::HotBudget {
                    bytes: usize::try_from(config.cache.memory_size).unwrap_or(usize::MAX),
                    max_item: usize::try_from(config.cache.memory_max_item).unwrap_or(usize::MAX),
                });
            // Files a crash left without an index entry; done before serving, so no write
            // can be in progress.
            let swept = cache.sweep().map_err(|e| anyhow!("cache sweep: {e}"))?;
            if swept > 0 {
                tracing::info!(files = swept, "removed unindexed cache files");
            }
            Some(Arc::new(cache))
        } else {
            None
        };
        Ok(AppState(Arc::new(Shared {
            tokens: Arc::new(tokens),
            fetcher: Arc::new(fetcher),
            limits: Limits {
                max_source_pixels: config.limits.max_source_pixels,
                max_decode_bytes: config.limits.max_decode_bytes,
                max_output_side: config.limits.max_output_side,
                max_frames: config.limits.max_frames,
                max_animation_pixels: config.limits.max_animation_pixels,
            },
            workers: Arc::new(Semaphore::new(workers)),
            admission: Arc::new(Semaphore::new(workers + config.server.queue)),
            max_source_bytes: config.origin.max_bytes,
            request_timeout: std::time::Duration::from_millis(config.server.request_timeout_ms),
            access_log: config.server.access_log,
            cache,
            metrics: Arc::default(),
            parsed: ParseMemo::default(),
            variants: Arc::default(),
            originals: Arc::default(),
            refreshes: Arc::default(),
        })))
    }
}
