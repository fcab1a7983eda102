//! Invalidation latency at 10⁴, 10⁵ and 10⁶ cached variants (100 variants per original).
//! Run: `cargo bench -p imgd-cache --bench invalidation` (add `-- 10000` to run one size).
//!
//! Measures the purge transaction: the point at which the purge is in effect and the API
//! replies. File unlinking happens after it (in the server, in the background), so the index
//! is loaded without files. Targets: < 50 ms per purge at 10⁶ variants; wildcard < 50 ms per
//! 10,000 variants removed.

use std::time::Instant;

use imgd_cache::{Cache, OriginalPattern};

const PER_ORIGINAL: usize = 100;
const DIRS: usize = 10;

fn url(i: usize) -> String {
    format!("https://sample.test/dir{}/img{i}.jpg", i % DIRS)
}

fn main() {
    let sizes: Vec<usize> = match std::env::args().nth(1).filter(|a| a != "--bench") {
        Some(n) => n
            .split(',')
            .map(|n| n.parse().expect("numbers of variants, comma-separated"))
            .collect(),
        None => vec![10_000, 100_000, 1_000_000],
    };
    println!("| variants | urls purge (1 variant) | original purge (100 variants) | wildcard 10% of originals | per 10k removed | all |");
    println!("|---|---|---|---|---|---|");
    for n in sizes {
        let dir = tempfile::tempdir().unwrap();
        let cache = Cache::open(dir.path(), u64::MAX).unwrap();
        let originals = n / PER_ORIGINAL;
        let specs: Vec<String> = (1..=PER_ORIGINAL).map(|w| format!("w={w}")).collect();
        let started = Instant::now();
        for chunk in (0..originals).collect::<Vec<_>>().chunks(1000) {
            let batch: Vec<(String, Vec<String>)> =
                chunk.iter().map(|i| (url(*i), specs.clone())).collect();
            cache.bulk_load("t", &batch).unwrap();
        }
        let fill = started.elapsed();

        let t = Instant::now();
        let p = cache
            .purge_variants("t", &[(url(1), "w=50".into())])
            .unwrap();
        let urls_ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(p.removed, 1);

        let t = Instant::now();
        let p = cache
            .purge_originals("t", &[OriginalPattern::Exact(url(2))], None)
            .unwrap();
        let original_ms = t.elapsed().as_secs_f64() * 1e3;
        assert_eq!(p.removed, PER_ORIGINAL as u64 + 1);

        let t = Instant::now();
        let p = cache
            .purge_originals(
                "t",
                &[OriginalPattern::Prefix("https://sample.test/dir3/".into())],
                None,
            )
            .unwrap();
        let wildcard_ms = t.elapsed().as_secs_f64() * 1e3;
        let wildcard_removed = p.removed;
        assert!(wildcard_removed as usize >= (originals / DIRS - 1) * PER_ORIGINAL);

        let t = Instant::now();
        let removed_all = cache.purge_all("t").unwrap();
        let all_ms = t.elapsed().as_secs_f64() * 1e3;
        assert!(removed_all > 0);

        println!(
            "| {n} | {urls_ms:.2} ms | {original_ms:.2} ms | {wildcard_ms:.1} ms ({wildcard_removed} entries) | {:.1} ms | {all_ms:.2} ms |",
            wildcard_ms / (wildcard_removed as f64 / 10_000.0)
        );
        eprintln!("  (filled {n} variants in {:.1} s)", fill.as_secs_f64());
    }
}
