//! Command line: `imgd serve` runs the server; `imgd invalidate` purges the cache.

use std::path::PathBuf;

use anyhow::{bail, Context};

use crate::config;
use crate::invalidate::{execute, plan, InvalidationRequest, Purge};
use crate::token::Tokens;

const USAGE: &str = "usage:
  imgd serve [--config FILE] [--listen ADDR]
  imgd invalidate [--config FILE] --token NAME --scope urls|original|all [--transformation QUERY]... [URL]...";

pub enum Command {
    Serve {
        config: Option<PathBuf>,
        listen: Option<String>,
    },
    /// Purges the cache directly (the server may be running: the index is shared safely).
    Invalidate {
        config: Option<PathBuf>,
        token: String,
        request: InvalidationRequest,
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
        Some("invalidate") => {
            let (mut config, mut token, mut scope) = (None, None, None);
            let (mut urls, mut transformations) = (Vec::new(), Vec::new());
            while let Some(a) = args.next() {
                let mut value =
                    |what: &str| args.next().with_context(|| format!("{a} needs {what}"));
                match a.as_str() {
                    "--config" => config = Some(PathBuf::from(value("a file")?)),
                    "--token" => token = Some(value("a token name")?),
                    "--scope" => scope = Some(value("urls, original or all")?),
                    "--transformation" => transformations.push(value("a query such as ?w=200")?),
                    flag if flag.starts_with("--") => bail!("unknown argument {flag:?}\n{USAGE}"),
                    url => urls.push(url.to_string()),
                }
            }
            Ok(Command::Invalidate {
                config,
                token: token.with_context(|| format!("--token is required\n{USAGE}"))?,
                request: InvalidationRequest {
                    scope: scope.with_context(|| format!("--scope is required\n{USAGE}"))?,
                    urls,
                    transformations,
                },
            })
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
        Command::Invalidate {
            config: file,
            token,
            request,
        } => {
            let config = config::load(file.as_deref(), std::env::vars())?;
            if !config.cache.enabled {
                bail!("the cache is disabled in this configuration: nothing to invalidate");
            }
            let tokens = Tokens::from_config(&config).map_err(|e| anyhow::anyhow!(e.join("\n")))?;
            let tok = tokens
                .get(&token)
                .with_context(|| format!("no token named {token:?}"))?;
            let purge = plan(&tok, &request)?;
            let cache = imgd_cache::Cache::open(&config.cache_dir(), config.cache.max_size)?;
            let (removed, files) = execute(&cache, &tok.name, &purge)?;
            cache.unlink(&files);
            if purge == Purge::All {
                cache.unlink(&cache.collect_stale(&tok.name)?);
            }
            println!("{{\"status\":\"success\",\"removed\":{removed}}}");
            Ok(())
        }
    }
}
