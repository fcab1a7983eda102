//! Name resolution for origin fetches, with the address policy applied to the addresses that
//! will actually be connected to (so DNS answers pointing inside are refused), and
//! `[origin] resolve` pins (as curl --resolve).

use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::Arc;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

use super::guard::AddrPolicy;

/// Returned (inside reqwest's error chain) when every address of a host is refused.
#[derive(Debug, thiserror::Error)]
#[error("origin host resolves only to addresses that are not allowed")]
pub struct BlockedAddress;

/// Parses `host → "IP:PORT"` pins, naming each bad entry.
pub fn parse_pins(
    pins: &BTreeMap<String, String>,
) -> Result<HashMap<String, SocketAddr>, Vec<String>> {
    let mut out = HashMap::new();
    let mut errors = Vec::new();
    for (host, addr) in pins {
        match addr.parse::<SocketAddr>() {
            Ok(a) => {
                out.insert(host.to_ascii_lowercase(), a);
            }
            Err(_) => errors.push(format!("origin.resolve.{host}: {addr:?} is not IP:PORT")),
        }
    }
    if errors.is_empty() {
        Ok(out)
    } else {
        Err(errors)
    }
}

#[derive(Clone)]
pub struct GuardedResolver {
    pub policy: AddrPolicy,
    pub pins: Arc<HashMap<String, SocketAddr>>,
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let host = name.as_str().to_ascii_lowercase();
            let addrs: Vec<SocketAddr> = match this.pins.get(&host) {
                Some(a) => vec![*a],
                None => tokio::net::lookup_host((host.as_str(), 0)).await?.collect(),
            };
            let allowed: Vec<SocketAddr> = addrs
                .into_iter()
                .filter(|a| this.policy.allows(a.ip()))
                .collect();
            if allowed.is_empty() {
                return Err(Box::new(BlockedAddress) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}
