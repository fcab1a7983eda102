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

type Lookup = Arc<
    dyn Fn(String) -> futures_util::future::BoxFuture<'static, std::io::Result<Vec<SocketAddr>>>
        + Send
        + Sync,
>;

/// Resolves names and keeps only addresses the policy allows. The addresses it returns are
/// the only ones the connector will dial, so what is checked is what is connected to, on
/// every request and every redirect hop (no window for DNS rebinding).
#[derive(Clone)]
pub struct GuardedResolver {
    pub policy: AddrPolicy,
    pub pins: Arc<HashMap<String, SocketAddr>>,
    lookup: Lookup,
}

impl GuardedResolver {
    pub fn new(policy: AddrPolicy, pins: HashMap<String, SocketAddr>) -> GuardedResolver {
        GuardedResolver {
            policy,
            pins: Arc::new(pins),
            lookup: Arc::new(|host: String| {
                Box::pin(
                    async move { Ok(tokio::net::lookup_host((host.as_str(), 0)).await?.collect()) },
                )
            }),
        }
    }

    async fn addresses(
        &self,
        host: &str,
    ) -> Result<Vec<SocketAddr>, Box<dyn std::error::Error + Send + Sync>> {
        let host = host.to_ascii_lowercase();
        let addrs: Vec<SocketAddr> = match self.pins.get(&host) {
            Some(a) => vec![*a],
            None => (self.lookup)(host).await?,
        };
        let allowed: Vec<SocketAddr> = addrs
            .into_iter()
            .filter(|a| self.policy.allows(a.ip()))
            .collect();
        if allowed.is_empty() {
            return Err(Box::new(BlockedAddress));
        }
        Ok(allowed)
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let this = self.clone();
        Box::pin(async move {
            let allowed = this.addresses(name.as_str()).await?;
            Ok(Box::new(allowed.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    /// A resolver whose answers change between calls, as a rebinding DNS server's do.
    fn rebinding(answers: Vec<Vec<&str>>) -> GuardedResolver {
        let queue = Arc::new(Mutex::new(
            answers
                .into_iter()
                .map(|a| {
                    a.iter()
                        .map(|ip| SocketAddr::new(ip.parse().unwrap(), 0))
                        .collect::<Vec<_>>()
                })
                .collect::<std::collections::VecDeque<_>>(),
        ));
        let mut r = GuardedResolver::new(AddrPolicy::default(), HashMap::new());
        r.lookup = Arc::new(move |_host| {
            let next = queue.lock().unwrap().pop_front().unwrap_or_default();
            Box::pin(async move { Ok(next) })
        });
        r
    }

    #[tokio::test]
    async fn every_resolution_is_checked_and_only_checked_addresses_are_returned() {
        let r = rebinding(vec![
            vec!["93.184.216.34"],
            vec!["127.0.0.1"],
            vec!["93.184.216.34", "10.0.0.7", "::ffff:127.0.0.1"],
            vec!["169.254.169.254"],
        ]);
        let ips = |v: Vec<SocketAddr>| {
            v.into_iter()
                .map(|a| a.ip().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            ips(r.addresses("rebind.test").await.unwrap()),
            vec!["93.184.216.34"]
        );
        assert!(r
            .addresses("rebind.test")
            .await
            .unwrap_err()
            .is::<BlockedAddress>());
        assert_eq!(
            ips(r.addresses("rebind.test").await.unwrap()),
            vec!["93.184.216.34"]
        );
        assert!(r.addresses("rebind.test").await.is_err());
    }

    #[tokio::test]
    async fn pins_are_checked_too() {
        let mut pins = HashMap::new();
        pins.insert("pinned.test".to_string(), "127.0.0.1:9".parse().unwrap());
        let r = GuardedResolver::new(AddrPolicy::default(), pins.clone());
        assert!(r.addresses("PINNED.test").await.is_err());
        let open = AddrPolicy {
            allow_loopback: true,
            allow_private: false,
        };
        let r = GuardedResolver::new(open, pins);
        assert_eq!(r.addresses("pinned.test").await.unwrap()[0].port(), 9);
    }
}
