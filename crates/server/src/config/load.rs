//! Reading configuration: TOML text → table, environment overrides merged in, then checked
//! key by key so that every problem is reported in one go.

use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use thiserror::Error;
use toml::{Table, Value};

use super::{validate, Config, TokenConfig, DEFAULT_TOML};

/// Environment variables with this prefix override config keys: `IMGD_SERVER__LISTEN`,
/// `IMGD_TOKENS__DEMO__URL_VERSION`.
pub const ENV_PREFIX: &str = "IMGD_";

#[derive(Debug, Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config is not valid TOML: {0}")]
    Syntax(String),
    #[error("invalid configuration:\n  - {}", .0.join("\n  - "))]
    Invalid(Vec<String>),
}

/// Loads `file` (or the embedded default) and applies `env` overrides.
pub fn load(
    file: Option<&Path>,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let (text, base_dir) = match file {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
                path: path.to_path_buf(),
                source,
            })?;
            let dir = path
                .parent()
                .map(Path::to_path_buf)
                .unwrap_or_else(|| PathBuf::from("."));
            (text, dir)
        }
        None => (DEFAULT_TOML.to_string(), super::default_base_dir()),
    };
    from_str(&text, base_dir, env)
}

/// Parses config text; relative paths in it are resolved against `base_dir`.
pub fn from_str(
    text: &str,
    base_dir: PathBuf,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<Config, ConfigError> {
    let mut table: Table = text
        .parse()
        .map_err(|e: toml::de::Error| ConfigError::Syntax(e.to_string()))?;
    let mut errors = Vec::new();
    for (name, value) in env {
        // Only `IMGD_SECTION__KEY` names are config keys; other IMGD_ variables (tooling,
        // test settings) are not the loader's business.
        if let Some(rest) = name.strip_prefix(ENV_PREFIX).filter(|r| r.contains("__")) {
            if let Err(e) = overlay(&mut table, rest, &value) {
                errors.push(format!("{name}: {e}"));
            }
        }
    }
    check_keys(&table, &mut errors);
    if !errors.is_empty() {
        return Err(ConfigError::Invalid(errors));
    }
    let mut config: Config = Value::Table(table)
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Invalid(vec![e.to_string()]))?;
    config.base_dir = base_dir;
    validate::validate(&config, &mut errors);
    if errors.is_empty() {
        Ok(config)
    } else {
        Err(ConfigError::Invalid(errors))
    }
}

/// Sets `SECTION__KEY[__SUB]` (case-insensitive) to `raw`, read as a TOML value when it is
/// one (`8080`, `true`, `["webp"]`) and as a string otherwise.
fn overlay(table: &mut Table, path: &str, raw: &str) -> Result<(), String> {
    let keys: Vec<String> = path.split("__").map(str::to_ascii_lowercase).collect();
    if keys.iter().any(String::is_empty) {
        return Err("empty key segment".into());
    }
    let value = format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| Value::String(raw.to_string()));
    let (last, parents) = keys.split_last().ok_or("empty key")?;
    let mut cur = table;
    for k in parents {
        let entry = cur
            .entry(k.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        cur = entry
            .as_table_mut()
            .ok_or_else(|| format!("{k} is not a table"))?;
    }
    cur.insert(last.clone(), value);
    Ok(())
}

/// Deserialises each key on its own, so one bad key does not hide the others.
fn check_keys(table: &Table, errors: &mut Vec<String>) {
    for (section, value) in table {
        match section.as_str() {
            "server" => check_section::<super::ServerConfig>(section, value, errors),
            "origin" => check_section::<super::OriginConfig>(section, value, errors),
            "limits" => check_section::<super::LimitsConfig>(section, value, errors),
            "cache" => check_section::<super::CacheConfig>(section, value, errors),
            "tokens" => match value.as_table() {
                Some(tokens) => {
                    for (name, token) in tokens {
                        check_section::<TokenConfig>(&format!("tokens.{name}"), token, errors);
                    }
                }
                None => errors.push("tokens: expected a table of tokens".into()),
            },
            other => errors.push(format!("{other}: unknown section")),
        }
    }
}

fn check_section<T: DeserializeOwned>(path: &str, value: &Value, errors: &mut Vec<String>) {
    let Some(table) = value.as_table() else {
        errors.push(format!("{path}: expected a table"));
        return;
    };
    for (key, v) in table {
        let mut one = Table::new();
        one.insert(key.clone(), v.clone());
        if let Err(e) = Value::Table(one).try_into::<T>() {
            let msg = e.to_string();
            errors.push(format!("{path}.{key}: {}", msg.trim()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_str(text: &str, env: &[(&str, &str)]) -> Result<Config, ConfigError> {
        from_str(
            text,
            PathBuf::from("."),
            env.iter().map(|(k, v)| (k.to_string(), v.to_string())),
        )
    }

    #[test]
    fn embedded_default_is_valid() {
        let c = load(None, Vec::new()).unwrap();
        assert_eq!(c.server.listen, "127.0.0.1:8080");
        assert_eq!(c.server.default_token, "demo");
        assert!(c.tokens["demo"].aliases.contains_key("_samples_"));
    }

    #[test]
    fn example_config_is_valid() {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../imgd.example.toml");
        let c = load(Some(Path::new(path)), Vec::new()).unwrap();
        assert_eq!(c.tokens["demo"].url_version, "v7");
    }

    #[test]
    fn env_overrides_keys() {
        let c = load_str(
            "[tokens.a]\n",
            &[
                ("IMGD_SERVER__LISTEN", "0.0.0.0:9000"),
                ("IMGD_ORIGIN__ALLOW_LOOPBACK", "true"),
                ("IMGD_TOKENS__A__AUTO_FORMAT", "[\"webp\"]"),
                ("IMGD_TOKENS__A__URL_VERSION", "none"),
                ("OTHER", "x"),
                ("IMGD_CORPUS_DIR", "/not/a/key"),
            ],
        )
        .unwrap();
        assert_eq!(c.server.listen, "0.0.0.0:9000");
        assert!(c.origin.allow_loopback);
        assert_eq!(c.tokens["a"].auto_format, vec!["webp".to_string()]);
        assert_eq!(c.tokens["a"].url_version, "none");
    }

    #[test]
    fn every_problem_is_reported_with_its_key() {
        let err = load_str(
            r#"
            [server]
            listen = "nowhere"
            workers = "many"
            colour = 1
            [origin]
            timeout_ms = -5
            [tokens.a]
            url_version = "v9"
            aliases = { "_x_" = "sample.li" }
            presets = { bad = "w=abc" }
            [bogus]
            "#,
            &[("IMGD_LIMITS__MAX_OUTPUT_SIDE", "\"big\"")],
        )
        .unwrap_err();
        let ConfigError::Invalid(list) = err else {
            panic!("{err}")
        };
        let text = list.join("\n");
        for key in [
            "server.workers",
            "server.colour",
            "origin.timeout_ms",
            "limits.max_output_side",
            "bogus",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
    }

    #[test]
    fn semantic_problems_are_reported_together() {
        let err = load_str(
            r#"
            [server]
            listen = "nowhere"
            default_token = "missing"
            [origin]
            resolve = { "a.test" = "not-an-address" }
            [tokens.a]
            url_version = "v9"
            default_scheme = "gopher"
            aliases = { "_x_" = "sample.li", "noscore" = "https://a.test" }
            presets = { bad = "w=abc" }
            rules = [{ pattern = "*", params = "q=0" }]
            auto_format = ["bmp"]
            missing_origin = "shrug"
            origin_prefix = "not a url"
            "#,
            &[],
        )
        .unwrap_err();
        let text = err.to_string();
        for key in [
            "server.listen",
            "server.default_token",
            "origin.resolve.a.test",
            "tokens.a.url_version",
            "tokens.a.default_scheme",
            "tokens.a.aliases._x_",
            "tokens.a.aliases.noscore",
            "tokens.a.presets.bad",
            "tokens.a.rules[0]",
            "tokens.a.auto_format",
            "tokens.a.missing_origin",
            "tokens.a.origin_prefix",
        ] {
            assert!(text.contains(key), "{key} missing from:\n{text}");
        }
    }
}
