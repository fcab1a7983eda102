//! The `imgd` binary: parse the command line, set up logging, run.

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let cmd = imgd::cli::parse(std::env::args().skip(1))?;
    imgd::cli::run(cmd).await
}
