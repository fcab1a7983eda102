//! A whole request target (path + query, as received) → [`ImageRequest`], under one token's
//! [`TokenRules`].
//!
//! Owns: the `/v7/` prefix, the choice between origin forms (full URL, scheme-less host,
//! `_alias_`, origin prefix, `ci_url_encoded`), and precedence: rules < URL < presets.
//! Must not: choose the token (the server does, from `Host`), verify signatures, or do I/O.

use std::collections::BTreeMap;

use percent_encoding::percent_decode_str;

use crate::error::ParseError;
use crate::origin::{file_segments, looks_like_host, split_scheme, Origin, RemoteUrl, Scheme};
use crate::param::{apply, canonical_name, control, Control};
use crate::query::{split, RawParam};
use crate::signature::{decode_base64, verify_seal, verify_sign};
use crate::spec::TransformSpec;

/// Whether a token's URLs carry the `/v7/` prefix.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UrlVersion {
    /// Accounts created before Nov 2021: `/v7/` is required.
    #[default]
    V7,
    /// Newer accounts: no prefix.
    None,
    /// Both forms work.
    Optional,
}

/// What an alias (`_name_`) points at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AliasTarget {
    /// A remote base URL: `_sample_` → `https://sample.li`.
    Remote(RemoteUrl),
    /// A local directory (as configured; the server confines reads to it).
    Directory(String),
}

/// A path pattern → parameters applied before the URL's own (which override them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    /// Glob over the origin part of the path as written (`sample.li/photos/*`, `*.png`):
    /// `*` matches any run of characters (including `/`), `?` one character.
    pub pattern: String,
    /// A query string, e.g. `w=800&force_format=webp`.
    pub params: String,
}

/// The URL-grammar part of a token's configuration.
#[derive(Debug, Clone, Default)]
pub struct TokenRules {
    pub url_version: UrlVersion,
    /// Scheme for scheme-less origins (`/sample.li/boat.jpg`).
    pub default_scheme: Option<Scheme>,
    /// Alias name including its underscores (`_samples_`) → target.
    pub aliases: BTreeMap<String, AliasTarget>,
    /// Base for relative paths. When set, every path that is not a full URL or an alias is
    /// relative to it (no scheme-less host form), as Cloudimage documents.
    pub origin_prefix: Option<RemoteUrl>,
    /// `p=NAME` → a query string that URL parameters cannot override.
    pub presets: BTreeMap<String, String>,
    pub rules: Vec<Rule>,
    /// Salts for `ci_sign`; when any is set, every URL must be signed with one of them.
    pub sign_salts: Vec<String>,
    /// Salts for `ci_seal`; when any is set, every URL must carry a valid seal (of `ci_eqs`,
    /// possibly empty).
    pub seal_salts: Vec<String>,
}

/// A parsed request: where the original is and what to do with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRequest {
    pub origin: Origin,
    pub spec: TransformSpec,
    /// The origin part of the path as written (after the prefix, without the leading `/`),
    /// matched by rules and used by signatures.
    pub origin_path: String,
}

/// Parses a request target such as `/v7/sample.li/boat.jpg?w=300&func=crop`.
pub fn parse_request(rules: &TokenRules, target: &str) -> Result<ImageRequest, ParseError> {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let path = strip_version(rules.url_version, path)?;
    // `/host/a.php?id=1?w=300`: with two `?`, the first query belongs to the origin.
    let (origin_query, params_query) = match query.rsplit_once('?') {
        Some((o, p)) => (Some(o), p),
        None => (None, query),
    };
    if !rules.sign_salts.is_empty() {
        let signed_path = match origin_query {
            Some(q) => format!("{path}?{q}"),
            None => path.to_string(),
        };
        let segments: Vec<&str> = params_query.split('&').collect();
        verify_sign(&rules.sign_salts, &signed_path, &segments)?;
    }
    let raw_eqs = raw_value(params_query, "ci_eqs")
        .map(|v| percent_decode_str(v).decode_utf8_lossy().into_owned());
    if !rules.seal_salts.is_empty() {
        let seal = raw_value(params_query, "ci_seal");
        verify_seal(
            &rules.seal_salts,
            path,
            raw_eqs.as_deref().unwrap_or(""),
            seal,
        )?;
    }
    let sealed = match raw_eqs {
        Some(eqs) => Some(
            decode_base64(&eqs)
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or(ParseError::SealEncoding)?,
        ),
        None => None,
    };
    let params = split(params_query);
    let url_encoded = params
        .iter()
        .any(|p| p.name == "ci_url_encoded" && p.value.trim() == "1");

    let mut origin_part = path.trim_start_matches('/').to_string();
    let mut origin_query = origin_query.map(str::to_string);
    let lower = origin_part.to_ascii_lowercase();
    if url_encoded || lower.starts_with("http%3a") || lower.starts_with("https%3a") {
        let decoded = percent_decode_str(&origin_part)
            .decode_utf8()
            .map_err(|_| ParseError::InvalidOrigin("ci_url_encoded origin is not UTF-8"))?
            .into_owned();
        origin_part = match decoded.split_once('?') {
            Some((p, q)) => {
                origin_query = Some(q.to_string());
                p.to_string()
            }
            None => decoded,
        };
    }
    if origin_part.is_empty() {
        return Err(ParseError::MissingOrigin);
    }
    let mut with_query = origin_part.clone();
    if let Some(q) = &origin_query {
        with_query.push('?');
        with_query.push_str(q);
    }
    let origin = resolve_origin(rules, &origin_part, &with_query)?;
    let mut spec = build_spec(rules, &origin_part, &params)?;
    // Sealed parameters come last: nothing appended to the URL can override them.
    if let Some(sealed) = sealed {
        apply_query(&mut spec, &sealed)?;
    }
    Ok(ImageRequest {
        origin,
        spec,
        origin_path: origin_part,
    })
}

/// The raw (undecoded) value of the last `name=` segment of a query.
fn raw_value<'q>(query: &'q str, name: &str) -> Option<&'q str> {
    query
        .split('&')
        .filter_map(|seg| seg.split_once('='))
        .filter(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
        .next_back()
}

fn strip_version(version: UrlVersion, path: &str) -> Result<&str, ParseError> {
    let stripped = path
        .strip_prefix("/v7/")
        .or_else(|| (path == "/v7").then_some(""));
    match (version, stripped) {
        (UrlVersion::V7 | UrlVersion::Optional, Some(rest)) => Ok(rest),
        (UrlVersion::V7, None) => Err(ParseError::MissingVersionPrefix),
        (UrlVersion::None, _) | (UrlVersion::Optional, None) => Ok(path),
    }
}

/// `part` is the origin path without query; `with_query` the same plus the origin's query.
fn resolve_origin(rules: &TokenRules, part: &str, with_query: &str) -> Result<Origin, ParseError> {
    if split_scheme(part).is_some() {
        return Ok(Origin::Remote(RemoteUrl::parse(with_query)?));
    }
    let (first, rest) = part.split_once('/').unwrap_or((part, ""));
    if first.len() > 2 && first.starts_with('_') && first.ends_with('_') {
        let target = rules
            .aliases
            .get(first)
            .ok_or_else(|| ParseError::UnknownAlias(first.to_string()))?;
        let rest_with_query = &with_query[first.len()..];
        return match target {
            AliasTarget::Remote(base) => Ok(Origin::Remote(base.join(rest_with_query))),
            AliasTarget::Directory(root) => Ok(Origin::File {
                alias: first.to_string(),
                root: root.clone(),
                segments: file_segments(rest)?,
            }),
        };
    }
    if let Some(prefix) = &rules.origin_prefix {
        return Ok(Origin::Remote(prefix.join(with_query)));
    }
    if looks_like_host(first) {
        let scheme = rules.default_scheme.unwrap_or(Scheme::Https);
        return Ok(Origin::Remote(RemoteUrl::parse(&format!(
            "{}://{with_query}",
            scheme.as_str()
        ))?));
    }
    Err(ParseError::NoOriginForPath)
}

fn build_spec(
    rules: &TokenRules,
    origin_part: &str,
    params: &[RawParam],
) -> Result<TransformSpec, ParseError> {
    let mut spec = TransformSpec::default();
    for rule in rules.rules.iter().filter(|r| glob(&r.pattern, origin_part)) {
        apply_query(&mut spec, &rule.params)?;
    }
    let mut presets = Vec::new();
    for p in params {
        let name = canonical_name(&p.name);
        match control(name) {
            Control::Transform => apply(&mut spec, name, &p.value)?,
            Control::Preset => presets.extend(
                p.value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_string),
            ),
            Control::Consumed => {}
        }
    }
    // Presets come last: the URL cannot override them.
    for name in presets {
        let query = rules
            .presets
            .get(&name)
            .ok_or_else(|| ParseError::UnknownPreset(name.clone()))?;
        apply_query(&mut spec, query)?;
    }
    Ok(spec)
}

/// Applies every transformation parameter of `query` to `spec`.
pub fn apply_query(spec: &mut TransformSpec, query: &str) -> Result<(), ParseError> {
    for p in split(query.trim_start_matches('?')) {
        let name = canonical_name(&p.name);
        if control(name) == Control::Transform {
            apply(spec, name, &p.value)?;
        }
    }
    Ok(())
}

/// Parses a canonical (or any plain) query string into a spec, with no token context.
pub fn parse_canonical(query: &str) -> Result<TransformSpec, ParseError> {
    let mut spec = TransformSpec::default();
    apply_query(&mut spec, query)?;
    Ok(spec)
}

/// Glob match where `*` spans any characters and `?` one.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti) = (0, 0);
    let (mut star, mut mark) = (None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}
