//! The `imgd` binary: parse the command line, set up logging, run.

/// mimalloc returns freed memory to the system promptly and handles the many same-sized
/// per-request buffers of image work well; glibc malloc keeps peaks around per thread arena.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let cmd = imgd::cli::parse(std::env::args().skip(1))?;
    imgd::cli::run(cmd).await
}
