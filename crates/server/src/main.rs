//! The `imgd` binary: tune the allocator, parse the command line, set up logging, run.
//!
//! It keeps the system allocator on purpose: mimalloc was tried and raised peak RSS 3–4×
//! (119 vs 37 MB on the 18 MP JPEG workload, 213 vs 74 MB on PNG; BENCHMARKS.md).

fn main() -> anyhow::Result<()> {
    limit_malloc_arenas();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async {
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::INFO)
                .with_writer(std::io::stderr)
                .init();
            let cmd = imgd::cli::parse(std::env::args().skip(1))?;
            imgd::cli::run(cmd).await
        })
}

/// glibc gives each thread that allocates concurrently its own arena (up to 8 per core), and
/// each arena keeps what image buffers it freed. One arena per core is enough for one image
/// per core: peak RSS on the 18 MP JPEG workload went from 39–40 to 33 MB at the same speed
/// (fixing the mmap threshold instead, so that big buffers go straight back to the system,
/// reached 28 MB but cost 19% of the throughput in page faults). Must run before any thread
/// starts; `MALLOC_ARENA_MAX` in the environment still wins.
fn limit_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    if std::env::var_os("MALLOC_ARENA_MAX").is_none() {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let arenas = libc::c_int::try_from(cores).unwrap_or(libc::c_int::MAX);
        // SAFETY: mallopt only changes allocator parameters; no other thread exists yet.
        unsafe {
            libc::mallopt(libc::M_ARENA_MAX, arenas);
        }
    }
}
