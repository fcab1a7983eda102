//! Tokens at run time: each token's URL rules, origin policy and response policy, and the
//! choice of token from the `Host` header.
//!
//! Owns: turning a `TokenConfig` into a [`Token`] (the one place its strings are parsed).
//! Must not: parse request URLs (imgd-url does) or fetch anything.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use imgd_url::{
    apply_query, AliasTarget, RemoteUrl, Rule, Scheme, TokenRules, TransformSpec, UrlVersion,
};

use crate::config::{Config, TokenConfig};

/// What to answer when the origin image is missing or unreachable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MissingOrigin {
    /// 404 with the placeholder image.
    Placeholder404,
    /// 200 with the placeholder image.
    Placeholder200,
    /// 200 with a transparent 1×1 GIF.
    TransparentGif200,
    /// 404 with an empty body.
    Empty404,
}

#[derive(Debug)]
pub struct Token {
    pub name: String,
    pub rules: TokenRules,
    /// Lowercase domains; an origin host matches a domain or any of its subdomains.
    pub whitelist: Vec<String>,
    pub auto_webp: bool,
    pub max_age: u32,
    pub s_maxage: u32,
    pub missing_origin: MissingOrigin,
    pub custom_domains: Vec<String>,
    /// Revalidate cached originals older than this (seconds; 0: never).
    pub cache_ttl: u64,
    pub api_keys: Vec<String>,
}

impl Token {
    /// Whether `host` may be fetched from under this token's whitelist.
    pub fn allows_host(&self, host: &str) -> bool {
        self.whitelist.is_empty()
            || self.whitelist.iter().any(|d| {
                host == d
                    || host
                        .strip_suffix(d.as_str())
                        .is_some_and(|rest| rest.ends_with('.'))
            })
    }
}

/// Builds a token, reporting every invalid key as `tokens.NAME.KEY: problem`.
pub fn build_token(name: &str, c: &TokenConfig, base_dir: &Path) -> Result<Token, Vec<String>> {
    let mut errors = Vec::new();
    let key = |k: &str| format!("tokens.{name}.{k}");
    let url_version = match c.url_version.as_str() {
        "v7" => UrlVersion::V7,
        "none" => UrlVersion::None,
        "optional" => UrlVersion::Optional,
        other => {
            errors.push(format!(
                "{}: {other:?} is not one of v7, none, optional",
                key("url_version")
            ));
            UrlVersion::V7
        }
    };
    let default_scheme = match c.default_scheme.as_str() {
        "https" => Scheme::Https,
        "http" => Scheme::Http,
        other => {
            errors.push(format!(
                "{}: {other:?} is not https or http",
                key("default_scheme")
            ));
            Scheme::Https
        }
    };
    let mut rules = TokenRules {
        url_version,
        default_scheme: Some(default_scheme),
        sign_salts: c.sign_salt.to_vec(),
        seal_salts: c.seal_salt.to_vec(),
        ..TokenRules::default()
    };
    for (alias, target) in &c.aliases {
        let k = key(&format!("aliases.{alias}"));
        if alias.len() < 3
            || !alias.starts_with('_')
            || !alias.ends_with('_')
            || alias.contains('/')
        {
            errors.push(format!(
                "{k}: alias names are wrapped in underscores, like _name_"
            ));
            continue;
        }
        match alias_target(target, base_dir) {
            Ok(t) => {
                rules.aliases.insert(alias.clone(), t);
            }
            Err(e) => errors.push(format!("{k}: {e}")),
        }
    }
    if !c.origin_prefix.is_empty() {
        match RemoteUrl::parse(&c.origin_prefix) {
            Ok(u) => rules.origin_prefix = Some(u),
            Err(e) => errors.push(format!("{}: {e}", key("origin_prefix"))),
        }
    }
    for (preset, params) in &c.presets {
        if let Err(e) = apply_query(&mut TransformSpec::default(), params) {
            errors.push(format!("{}: {e}", key(&format!("presets.{preset}"))));
        }
        rules.presets.insert(preset.clone(), params.clone());
    }
    for (i, r) in c.rules.iter().enumerate() {
        if let Err(e) = apply_query(&mut TransformSpec::default(), &r.params) {
            errors.push(format!("{}: {e}", key(&format!("rules[{i}]"))));
        }
        rules.rules.push(Rule {
            pattern: r.pattern.trim_start_matches('/').to_string(),
            params: r.params.clone(),
        });
    }
    let mut auto_webp = false;
    for f in &c.auto_format {
        match f.as_str() {
            "webp" => auto_webp = true,
            other => errors.push(format!(
                "{}: {other:?} cannot be negotiated (supported: webp)",
                key("auto_format")
            )),
        }
    }
    let missing_origin = match c.missing_origin.as_str() {
        "placeholder_404" => MissingOrigin::Placeholder404,
        "placeholder_200" => MissingOrigin::Placeholder200,
        "transparent_gif_200" => MissingOrigin::TransparentGif200,
        "empty_404" => MissingOrigin::Empty404,
        other => {
            errors.push(format!(
                "{}: {other:?} is not one of placeholder_404, placeholder_200, transparent_gif_200, empty_404",
                key("missing_origin")
            ));
            MissingOrigin::Placeholder404
        }
    };
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Token {
        name: name.to_string(),
        rules,
        whitelist: c
            .whitelist
            .iter()
            .map(|d| {
                d.trim()
                    .trim_start_matches("*.")
                    .trim_end_matches('.')
                    .to_ascii_lowercase()
            })
            .collect(),
        auto_webp,
        max_age: c.max_age,
        s_maxage: c.s_maxage,
        missing_origin,
        custom_domains: c
            .custom_domains
            .iter()
            .map(|d| d.to_ascii_lowercase())
            .collect(),
        cache_ttl: c.cache_ttl,
        api_keys: c.api_keys.clone(),
    })
}

fn alias_target(target: &str, base_dir: &Path) -> Result<AliasTarget, String> {
    let lower = target.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return RemoteUrl::parse(target)
            .map(AliasTarget::Remote)
            .map_err(|e| e.to_string());
    }
    let dir = target.strip_prefix("file:").unwrap_or(target);
    if !(target.starts_with("file:")
        || dir.starts_with('/')
        || dir.starts_with("./")
        || dir.starts_with("../"))
    {
        return Err(format!(
            "{target:?} is neither an http(s) URL nor a directory (/abs, ./rel or file:path)"
        ));
    }
    let path = base_dir.join(dir);
    if !path.is_dir() {
        return Err(format!("directory {} does not exist", path.display()));
    }
    Ok(AliasTarget::Directory(path.to_string_lossy().into_owned()))
}

/// All tokens, and how a `Host` header selects one.
#[derive(Debug, Default)]
pub struct Tokens {
    by_name: HashMap<String, Arc<Token>>,
    by_domain: HashMap<String, Arc<Token>>,
    base_domain: Option<String>,
    default: Option<Arc<Token>>,
}

impl Tokens {
    /// Builds every token of a validated config.
    pub fn from_config(config: &Config) -> Result<Tokens, Vec<String>> {
        let mut t = Tokens {
            base_domain: Some(config.server.base_domain.to_ascii_lowercase())
                .filter(|d| !d.is_empty()),
            ..Tokens::default()
        };
        for (name, c) in &config.tokens {
            let token = Arc::new(build_token(name, c, &config.base_dir)?);
            for d in &token.custom_domains {
                t.by_domain.insert(d.clone(), token.clone());
            }
            t.by_name.insert(name.clone(), token);
        }
        t.default = t.by_name.get(&config.server.default_token).cloned();
        Ok(t)
    }

    pub fn get(&self, name: &str) -> Option<Arc<Token>> {
        self.by_name.get(name).cloned()
    }

    /// The token holding `key` among its `api_keys`. Every key is compared in constant time,
    /// and all of them are compared, so timing reveals neither a key nor which token matched.
    pub fn for_api_key(&self, key: &str) -> Option<Arc<Token>> {
        let mut found = None;
        for token in self.by_name.values() {
            for k in &token.api_keys {
                if constant_time_eq(k.as_bytes(), key.as_bytes()) {
                    found = Some(token.clone());
                }
            }
        }
        found
    }

    /// The token a request's `Host` selects: a custom domain, `TOKEN.<base_domain>`, else the
    /// default token. `None` when a base-domain subdomain names no token, or there is no default.
    pub fn for_host(&self, host: Option<&str>) -> Option<Arc<Token>> {
        let host = host
            .map(|h| {
                h.rsplit_once(':')
                    .filter(|(_, p)| p.bytes().all(|b| b.is_ascii_digit()))
                    .map_or(h, |(h, _)| h)
            })
            .map(|h| h.trim_end_matches('.').to_ascii_lowercase());
        if let Some(host) = host {
            if let Some(t) = self.by_domain.get(&host) {
                return Some(t.clone());
            }
            if let Some(base) = &self.base_domain {
                if let Some(sub) = host
                    .strip_suffix(base.as_str())
                    .and_then(|s| s.strip_suffix('.'))
                {
                    return self.by_name.get(sub).cloned();
                }
            }
        }
        self.default.clone()
    }
}

/// Equality whose time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{load, TokenConfig};

    fn token(whitelist: &[&str]) -> Token {
        let c = TokenConfig {
            whitelist: whitelist.iter().map(|s| s.to_string()).collect(),
            ..TokenConfig::default()
        };
        build_token("t", &c, Path::new(".")).unwrap()
    }

    #[test]
    fn whitelist_matches_domains_and_subdomains_only() {
        let t = token(&["sample.li"]);
        assert!(t.allows_host("sample.li"));
        assert!(t.allows_host("img.sample.li"));
        assert!(!t.allows_host("evilsample.li"));
        assert!(!t.allows_host("sample.li.evil.test"));
        assert!(token(&[]).allows_host("anything.test"));
    }

    #[test]
    fn constant_time_comparison() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(!constant_time_eq(b"", b"a"));
    }

    #[test]
    fn host_selects_token() {
        let mut c = load(None, Vec::new()).unwrap();
        c.server.base_domain = "img.test".into();
        let other = TokenConfig {
            custom_domains: vec!["images.shop.test".into()],
            ..TokenConfig::default()
        };
        c.tokens.insert("shop".into(), other);
        let t = Tokens::from_config(&c).unwrap();
        let name = |h: Option<&str>| t.for_host(h).map(|t| t.name.clone());
        assert_eq!(name(Some("shop.img.test")), Some("shop".into()));
        assert_eq!(name(Some("SHOP.img.test:8080")), Some("shop".into()));
        assert_eq!(name(Some("images.shop.test")), Some("shop".into()));
        assert_eq!(name(Some("nope.img.test")), None);
        assert_eq!(name(Some("127.0.0.1:8080")), Some("demo".into()));
        assert_eq!(name(None), Some("demo".into()));
    }
}
