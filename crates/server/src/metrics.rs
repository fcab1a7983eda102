//! Counters of what the server did, served as Prometheus text on `GET /metrics`.

use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct Metrics {
    pub requests: AtomicU64,
    pub cache_hits: AtomicU64,
    pub memory_hits: AtomicU64,
    pub cache_misses: AtomicU64,
    pub coalesced: AtomicU64,
    pub origin_fetches: AtomicU64,
    pub origin_not_modified: AtomicU64,
    pub transforms: AtomicU64,
    pub cache_errors: AtomicU64,
    pub invalidations: AtomicU64,
}

pub fn inc(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl Metrics {
    pub fn render(&self) -> String {
        let rows: [(&str, &AtomicU64, &str); 10] = [
            ("imgd_requests_total", &self.requests, "Image requests"),
            (
                "imgd_cache_hits_total",
                &self.cache_hits,
                "Variants served from the cache",
            ),
            (
                "imgd_cache_memory_hits_total",
                &self.memory_hits,
                "Cache hits whose body was in memory",
            ),
            (
                "imgd_cache_misses_total",
                &self.cache_misses,
                "Variants made for a request",
            ),
            (
                "imgd_coalesced_total",
                &self.coalesced,
                "Requests that shared another's work",
            ),
            (
                "imgd_origin_fetches_total",
                &self.origin_fetches,
                "Origin requests",
            ),
            (
                "imgd_origin_not_modified_total",
                &self.origin_not_modified,
                "Revalidations answered 304",
            ),
            ("imgd_transforms_total", &self.transforms, "Pipeline runs"),
            (
                "imgd_cache_errors_total",
                &self.cache_errors,
                "Cache operations that failed",
            ),
            (
                "imgd_invalidations_total",
                &self.invalidations,
                "Invalidation requests carried out",
            ),
        ];
        let mut out = String::new();
        for (name, value, help) in rows {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}
