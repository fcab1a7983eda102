//! Command line: `imgd serve [--config FILE] [--listen ADDR]`.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::config;

const USAGE: &str = "usage: imgd serve [--config FILE] [--listen ADDR]";

pub enum Command {
    Serve {
        config: Option<PathBuf>,
        listen: Option<String>,
    },
}

pub fn parse(args: impl IntoIterator<Item = String>) -> anyhow::Result<Command> {
    let mut args = args.into_iter();
    match args.next().as_deref() {
        Some("serve") => {
            let (mut config, mut listen) = (None, None);
            while let Some(a) = args.next() {
                match a.as_str() {
                    "--config" => {
                        config = Some(PathBuf::from(args.next().context("--config needs a file")?))
                    }
                    "--listen" => listen = Some(args.next().context("--listen needs an address")?),
                    other => bail!("unknown argument {other:?}\n{USAGE}"),
                }
            }
            Ok(Command::Serve { config, listen })
        }
        _ => bail!(USAGE),
    }
}

pub async fn run(cmd: Command) -> anyhow::Result<()> {
    match cmd {
        Command::Serve {
            config: file,
            listen,
        } => {
            let mut config = config::load(file.as_deref(), std::env::vars())?;
            if let Some(l) = listen {
                config.server.listen = l;
            }
            let listener = tokio::net::TcpListener::bind(&config.server.listen)
                .await
                .with_context(|| format!("cannot listen on {}", config.server.listen))?;
            tracing::info!(addr = %listener.local_addr()?, "imgd listening");
            crate::server::run(listener, config, async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
        }
    }
}
