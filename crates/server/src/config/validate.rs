//! Checks that need more than types: addresses parse, names exist, URLs and parameter
//! strings are valid. Each check reuses the builder that turns the key into its runtime form,
//! so what validates is exactly what runs.

use std::net::SocketAddr;

use super::Config;
use crate::origin::resolve::parse_pins;
use crate::token::build_token;

pub fn validate(config: &Config, errors: &mut Vec<String>) {
    if config.server.listen.parse::<SocketAddr>().is_err() {
        errors.push(format!(
            "server.listen: {:?} is not an address such as 127.0.0.1:8080",
            config.server.listen
        ));
    }
    let default = &config.server.default_token;
    if !default.is_empty() && !config.tokens.contains_key(default) {
        errors.push(format!("server.default_token: no token named {default:?}"));
    }
    if let Err(list) = parse_pins(&config.origin.resolve) {
        errors.extend(list);
    }
    for (name, token) in &config.tokens {
        if let Err(list) = build_token(name, token, &config.base_dir) {
            errors.extend(list);
        }
    }
    if config.cache.enabled && config.cache.dir.trim().is_empty() {
        errors.push("cache.dir: must name a directory when the cache is enabled".into());
    }
    let mut keys = std::collections::HashMap::new();
    for (name, token) in &config.tokens {
        for key in &token.api_keys {
            if key.len() < 16 {
                errors.push(format!(
                    "tokens.{name}.api_keys: keys must be at least 16 characters"
                ));
            }
            if let Some(other) = keys.insert(key.as_str(), name.as_str()) {
                errors.push(format!(
                    "tokens.{name}.api_keys: a key is also used by token {other:?}"
                ));
            }
        }
    }
    if config.limits.max_output_side == 0 {
        errors.push("limits.max_output_side: must be at least 1".into());
    }
}
