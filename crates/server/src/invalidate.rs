//! Invalidation requests (Cloudimage's `POST /invalidate` body), turned into cache purges.
//! Shared by the HTTP endpoint and `imgd invalidate`.
//!
//! Owns: the body's meaning and URL normalisation (every form a client may send: with or
//! without leading `/`, `/v7/` or `v7/`, alias, origin-prefix-relative, full URL with or
//! without scheme). Must not: know HTTP statuses (the endpoint maps errors).

use imgd_cache::{Cache, CacheError, OriginalPattern};
use imgd_url::{apply_query, parse_request, ImageRequest, TransformSpec, UrlVersion};
use serde::Deserialize;
use thiserror::Error;

use crate::token::Token;

/// Most URLs one request may name.
pub const MAX_URLS: usize = 10_000;

/// The JSON body: `{"scope": "urls"|"original"|"all", "urls": [...], "transformations": [...]}`.
#[derive(Debug, Clone, Deserialize)]
pub struct InvalidationRequest {
    pub scope: String,
    #[serde(default)]
    pub urls: Vec<String>,
    #[serde(default)]
    pub transformations: Vec<String>,
}

/// What to purge, in cache terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Purge {
    /// (canonical original URL, canonical spec) pairs.
    Variants(Vec<(String, String)>),
    Originals {
        patterns: Vec<OriginalPattern>,
        /// Each filter is a list of `name=value` pairs a variant's spec must all contain.
        filters: Option<Vec<Vec<(String, String)>>>,
    },
    All,
}

#[derive(Debug, Error)]
pub enum InvalidateError {
    /// The body is not a valid invalidation request; the reason is for the client.
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Cache(#[from] CacheError),
}

/// Reads an invalidation request against `token`'s URL rules.
pub fn plan(token: &Token, req: &InvalidationRequest) -> Result<Purge, InvalidateError> {
    let invalid = |m: String| Err(InvalidateError::Invalid(m));
    if req.urls.len() > MAX_URLS {
        return invalid(format!("at most {MAX_URLS} urls per request"));
    }
    match req.scope.as_str() {
        "all" => Ok(Purge::All),
        "urls" => {
            if req.urls.is_empty() {
                return invalid("scope \"urls\" needs a non-empty \"urls\" list".into());
            }
            let mut items = Vec::new();
            for raw in &req.urls {
                let r = normalize(token, raw)?;
                items.push((r.origin.canonical(), r.spec.canonical()));
            }
            Ok(Purge::Variants(items))
        }
        "original" => {
            if req.urls.is_empty() {
                return invalid("scope \"original\" needs a non-empty \"urls\" list".into());
            }
            let mut patterns = Vec::new();
            for raw in &req.urls {
                let (text, wildcard) = match raw.trim().strip_suffix('*') {
                    Some(prefix) => (prefix, true),
                    None => (raw.trim(), false),
                };
                if text.contains('*') {
                    return invalid(format!("{raw:?}: '*' is only allowed at the end"));
                }
                let r = normalize(token, text)?;
                if r.spec != TransformSpec::default() {
                    return invalid(format!(
                        "{raw:?}: scope \"original\" takes URLs without parameters; \
                         use \"transformations\" to select variants"
                    ));
                }
                let url = r.origin.canonical();
                patterns.push(if wildcard {
                    OriginalPattern::Prefix(url)
                } else {
                    OriginalPattern::Exact(url)
                });
            }
            let filters = if req.transformations.is_empty() {
                None
            } else {
                let mut fs = Vec::new();
                for t in &req.transformations {
                    let mut spec = TransformSpec::default();
                    apply_query(&mut spec, t).map_err(|e| {
                        InvalidateError::Invalid(format!("transformation {t:?}: {e}"))
                    })?;
                    let canonical = spec.canonical();
                    if canonical.is_empty() {
                        return invalid(format!("transformation {t:?} names no parameter"));
                    }
                    fs.push(
                        canonical
                            .split('&')
                            .filter_map(|p| p.split_once('='))
                            .map(|(k, v)| (k.to_string(), v.to_string()))
                            .collect(),
                    );
                }
                Some(fs)
            };
            Ok(Purge::Originals { patterns, filters })
        }
        other => invalid(format!(
            "unknown scope {other:?}: expected \"urls\", \"original\" or \"all\""
        )),
    }
}

/// Parses one URL as the token would serve it, accepting `/v7/` whatever the token's setting.
fn normalize(token: &Token, raw: &str) -> Result<ImageRequest, InvalidateError> {
    let text = raw.trim().trim_start_matches('/');
    let text = text.strip_prefix("v7/").unwrap_or(text);
    let mut rules = token.rules.clone();
    rules.url_version = UrlVersion::None;
    // Invalidation URLs name entries; they need no signature (the API key authorises).
    rules.sign_salts.clear();
    rules.seal_salts.clear();
    parse_request(&rules, &format!("/{text}"))
        .map_err(|e| InvalidateError::Invalid(format!("{raw:?}: {e}")))
}

/// Carries out `purge` for `token`. Returns the number of entries removed and the files to
/// unlink (the purge is in effect already; unlinking can happen later).
pub fn execute(
    cache: &Cache,
    token: &str,
    purge: &Purge,
) -> Result<(u64, Vec<String>), CacheError> {
    match purge {
        Purge::Variants(items) => {
            let p = cache.purge_variants(token, items)?;
            Ok((p.removed, p.files))
        }
        Purge::Originals { patterns, filters } => {
            let p = cache.purge_originals(token, patterns, filters.as_deref())?;
            Ok((p.removed, p.files))
        }
        Purge::All => Ok((cache.purge_all(token)?, Vec::new())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::{from_str, Config};
    use crate::token::Tokens;

    fn token() -> std::sync::Arc<Token> {
        let c: Config = from_str(
            r#"
            [tokens.t]
            url_version = "none"
            aliases = { "_s_" = "https://sample.li/base" }
            [tokens.p]
            origin_prefix = "https://bucket.test/img"
            "#,
            ".".into(),
            Vec::new(),
        )
        .unwrap();
        Tokens::from_config(&c).unwrap().get("t").unwrap()
    }

    fn req(scope: &str, urls: &[&str], tr: &[&str]) -> InvalidationRequest {
        InvalidationRequest {
            scope: scope.into(),
            urls: urls.iter().map(|s| s.to_string()).collect(),
            transformations: tr.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn url_forms_normalise_to_one_variant() {
        let want = Purge::Variants(vec![(
            "https://sample.li/base/a.jpg".into(),
            "h=2&w=1".into(),
        )]);
        for u in [
            "/_s_/a.jpg?w=1&h=2",
            "_s_/a.jpg?height=2&width=1",
            "/v7/_s_/a.jpg?h=2&w=1",
            "v7/_s_/a.jpg?h=2&w=1",
        ] {
            assert_eq!(
                plan(&token(), &req("urls", &[u], &[])).unwrap(),
                want,
                "{u}"
            );
        }
        let full = Purge::Variants(vec![("https://sample.li/base/a.jpg".into(), "w=1".into())]);
        for u in [
            "/https://sample.li/base/a.jpg?w=1",
            "https://sample.li/base/a.jpg?w=1",
            "sample.li/base/a.jpg?w=1",
            "/v7/sample.li/base/a.jpg?w=1",
        ] {
            assert_eq!(
                plan(&token(), &req("urls", &[u], &[])).unwrap(),
                full,
                "{u}"
            );
        }
    }

    #[test]
    fn originals_wildcards_and_filters() {
        let p = plan(
            &token(),
            &req(
                "original",
                &["/sample.li/avatars/*", "_s_/x.jpg"],
                &["?w=200", "?force_format=jpg"],
            ),
        )
        .unwrap();
        assert_eq!(
            p,
            Purge::Originals {
                patterns: vec![
                    OriginalPattern::Prefix("https://sample.li/avatars/".into()),
                    OriginalPattern::Exact("https://sample.li/base/x.jpg".into()),
                ],
                filters: Some(vec![
                    vec![("w".into(), "200".into())],
                    vec![("force_format".into(), "jpeg".into())],
                ]),
            }
        );
    }

    #[test]
    fn bad_bodies_say_why() {
        for (r, needle) in [
            (req("everything", &[], &[]), "unknown scope"),
            (req("urls", &[], &[]), "non-empty"),
            (
                req("original", &["/sample.li/a.jpg?w=600"], &[]),
                "without parameters",
            ),
            (
                req("original", &["/sample.li/*/a.jpg"], &[]),
                "only allowed at the end",
            ),
            (
                req("original", &["/sample.li/a.jpg"], &["?w=abc"]),
                "transformation",
            ),
            (req("urls", &["/photos/a.jpg"], &[]), "photos"),
        ] {
            let e = plan(&token(), &r).unwrap_err().to_string();
            assert!(e.contains(needle), "{e}");
        }
    }
}
