//! The `imgd` binary: parse the command line, set up logging, run.
//!
//! It keeps the system allocator on purpose: mimalloc was tried and raised peak RSS 3–4×
//! (119 vs 37 MB on the 18 MP JPEG workload, 213 vs 74 MB on PNG; BENCHMARKS.md).

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let cmd = imgd::cli::parse(std::env::args().skip(1))?;
    imgd::cli::run(cmd).await
}
