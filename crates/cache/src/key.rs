//! Identities of cached things. Keys are SHA-256 hashes of canonical text (token, canonical
//! origin URL, canonical spec, output class), never URL text, so a request cannot choose a
//! file name and parameter order or aliases cannot split an entry.

use sha2::{Digest, Sha256};

/// An original: a token's canonical origin URL (or `file:` alias path).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OriginalRef<'a> {
    pub token: &'a str,
    pub url: &'a str,
}

/// A variant: an original, a canonical spec and an output class (the forced format or the
/// negotiated Accept class).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VariantRef<'a> {
    pub original: OriginalRef<'a>,
    pub spec: &'a str,
    pub class: &'a str,
}

fn hash(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        // A separator that cannot occur in canonical text keeps ("a","bc") ≠ ("ab","c").
        h.update([0u8]);
    }
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(64);
    for b in h.finalize() {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

impl OriginalRef<'_> {
    pub fn key(&self) -> String {
        hash(&["original", self.token, self.url])
    }

    /// The `by_url` index key: token, NUL, URL (prefix scans stay inside one token).
    pub(crate) fn url_key(&self) -> String {
        url_key(self.token, self.url)
    }
}

pub(crate) fn url_key(token: &str, url: &str) -> String {
    format!("{token}\0{url}")
}

impl VariantRef<'_> {
    /// `ORIGINAL_KEY:VARIANT_HASH`: a variant's key starts with its original's, so all
    /// variants of an original are one contiguous key range (purged in one sweep of
    /// neighbouring pages).
    pub fn key(&self) -> String {
        let own = hash(&[
            "variant",
            self.original.token,
            self.original.url,
            self.spec,
            self.class,
        ]);
        format!("{}:{own}", self.original.key())
    }
}

/// The key range holding every variant of `original_key`.
pub(crate) fn variants_of(original_key: &str) -> (String, String) {
    (format!("{original_key}:"), format!("{original_key};"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_separate_their_parts() {
        let o = |t, u| OriginalRef { token: t, url: u };
        assert_ne!(o("a", "bc").key(), o("ab", "c").key());
        let v = |spec, class| {
            VariantRef {
                original: o("t", "u"),
                spec,
                class,
            }
            .key()
        };
        assert_ne!(v("w=1", "jpeg"), v("w=1", "webp"));
        assert_eq!(v("w=1", "jpeg"), v("w=1", "jpeg"));
        assert_eq!(o("t", "u").key().len(), 64);
        let vk = v("w=1", "jpeg");
        assert!(vk.starts_with(&format!("{}:", o("t", "u").key())));
    }
}
