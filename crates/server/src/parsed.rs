//! Parsed image requests and their cache identities, memoised by (token, request target).
//!
//! Parsing a target is a pure function of the token's rules (fixed for the process's life)
//! and the target text, and on a cache hit it was the largest cost left, so successful parses
//! are kept in a small LRU together with what is derived from them: the canonical origin URL
//! and spec, and the variant key per output class.
//!
//! Owns: the memo and [`Ids`]. Must not: memoise failures (they stay cheap to report, and
//! hostile URLs must not be able to push out good entries without a successful parse), or
//! anything that depends on the request beyond its target (the Accept class is applied per
//! request).

use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex, OnceLock};

use imgd_cache::{OriginalRef, VariantRef};
use imgd_pipeline::Negotiation;
use imgd_url::{parse_request, ImageRequest, ParseError};
use lru::LruCache;

use crate::token::Token;

/// Parsed requests kept; about 1 KB each.
const MEMO_ENTRIES: usize = 4096;

/// A successfully parsed request target of one token.
#[derive(Debug)]
pub struct Parsed {
    pub request: ImageRequest,
    pub token: Arc<str>,
    /// `Origin::canonical()`: the original's identity in the cache.
    pub url: Arc<str>,
    /// `TransformSpec::canonical()`.
    pub spec: Arc<str>,
    target: String,
    /// Variant keys by output class, computed on first use.
    keys: [OnceLock<String>; 3],
}

impl Parsed {
    fn new(token: &Token, target: &str, request: ImageRequest) -> Parsed {
        Parsed {
            token: token.name.as_str().into(),
            url: request.origin.canonical().into(),
            spec: request.spec.canonical().into(),
            request,
            target: target.to_string(),
            keys: Default::default(),
        }
    }
}

/// Output classes: with the canonical spec they fix the output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// `force_format` in the spec.
    Forced,
    /// Negotiated: the client accepts WebP.
    AcceptWebp,
    /// The source's own format.
    Source,
}

impl Class {
    fn name(self) -> &'static str {
        match self {
            Class::Forced => "forced",
            Class::AcceptWebp => "accept-webp",
            Class::Source => "source",
        }
    }
    fn index(self) -> usize {
        self as usize
    }
}

/// Cache identities of one request: its parse and its output class. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Ids {
    parsed: Arc<Parsed>,
    class: Class,
}

impl Ids {
    pub fn new(parsed: &Arc<Parsed>, n: Negotiation) -> Ids {
        // The output format is decided by force_format (part of the spec), else by the Accept
        // class, else by the source: this class plus the spec fixes it.
        let class = if parsed.request.spec.format.is_some() {
            Class::Forced
        } else if n.webp {
            Class::AcceptWebp
        } else {
            Class::Source
        };
        Ids {
            parsed: parsed.clone(),
            class,
        }
    }
    pub fn token(&self) -> &str {
        &self.parsed.token
    }
    pub fn url(&self) -> &str {
        &self.parsed.url
    }
    pub fn original(&self) -> OriginalRef<'_> {
        OriginalRef {
            token: &self.parsed.token,
            url: &self.parsed.url,
        }
    }
    pub fn variant(&self) -> VariantRef<'_> {
        VariantRef {
            original: self.original(),
            spec: &self.parsed.spec,
            class: self.class.name(),
        }
    }
    /// `self.variant().key()`, computed once per parse and class.
    pub fn variant_key(&self) -> &str {
        self.parsed.keys[self.class.index()].get_or_init(|| self.variant().key())
    }
}

/// The memo of successful parses.
pub struct ParseMemo {
    map: Mutex<LruCache<u128, Arc<Parsed>>>,
}

impl Default for ParseMemo {
    fn default() -> Self {
        ParseMemo {
            map: Mutex::new(LruCache::new(
                NonZeroUsize::new(MEMO_ENTRIES).unwrap_or(NonZeroUsize::MIN),
            )),
        }
    }
}

impl ParseMemo {
    /// The parse of `target` under `token`'s rules, from the memo or parsed now.
    pub fn parse(&self, token: &Token, target: &str) -> Result<Arc<Parsed>, ParseError> {
        let id = memo_id(&token.name, target);
        if let Some(p) = self.lock().get(&id) {
            // The id is a hash: a hit counts only when the texts match.
            if *p.token == *token.name && p.target == target {
                return Ok(p.clone());
            }
        }
        let parsed = Arc::new(Parsed::new(
            token,
            target,
            parse_request(&token.rules, target)?,
        ));
        self.lock().put(id, parsed.clone());
        Ok(parsed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, LruCache<u128, Arc<Parsed>>> {
        // Entries are immutable once inserted; a poisoned lock holds nothing half-made.
        self.map.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn memo_id(token: &str, target: &str) -> u128 {
    let mut h = xxhash_rust::xxh3::Xxh3::new();
    h.update(token.as_bytes());
    h.update(&[0]);
    h.update(target.as_bytes());
    h.digest128()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::token::Tokens;

    fn token() -> Arc<Token> {
        let config = crate::config::load(None, []).unwrap();
        let tokens = Tokens::from_config(&config).unwrap();
        tokens.for_host(None).unwrap()
    }

    #[test]
    fn memoised_parse_equals_a_fresh_one() {
        let t = token();
        let memo = ParseMemo::default();
        let target = "/v7/_samples_/ladybird.jpg?h=100&w=200&func=crop";
        let a = memo.parse(&t, target).unwrap();
        let b = memo.parse(&t, target).unwrap();
        assert!(Arc::ptr_eq(&a, &b), "the second parse comes from the memo");
        let fresh = parse_request(&t.rules, target).unwrap();
        assert_eq!(a.request.spec, fresh.spec);
        assert_eq!(*a.spec, *fresh.spec.canonical());
        let other = memo
            .parse(&t, "/v7/_samples_/ladybird.jpg?w=200&h=100&func=crop")
            .unwrap();
        assert!(!Arc::ptr_eq(&a, &other));
        assert_eq!(a.spec, other.spec, "same canonical spec");
        assert!(memo.parse(&t, "/v7/_samples_/x.jpg?w=abc").is_err());
    }

    #[test]
    fn keys_per_class() {
        let t = token();
        let memo = ParseMemo::default();
        let p = memo.parse(&t, "/v7/_samples_/ladybird.jpg?w=10").unwrap();
        let plain = Ids::new(&p, Negotiation { webp: false });
        let webp = Ids::new(&p, Negotiation { webp: true });
        assert_eq!(plain.variant_key(), plain.variant().key());
        assert_eq!(webp.variant_key(), webp.variant().key());
        assert_ne!(plain.variant_key(), webp.variant_key());
        let forced = memo
            .parse(&t, "/v7/_samples_/ladybird.jpg?w=10&force_format=png")
            .unwrap();
        assert_eq!(
            Ids::new(&forced, Negotiation { webp: true }).variant_key(),
            Ids::new(&forced, Negotiation { webp: false }).variant_key(),
            "a forced format ignores Accept"
        );
    }
}
