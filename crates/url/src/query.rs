//! Raw query text → ordered `(name, value)` pairs, and the percent-encoding used by the
//! canonical form.
//!
//! Owns: tolerance of what real clients send (`?&w=1`, trailing `&`, `&&`, `+` for space,
//! `%20`). Must not: interpret any parameter; that is `param.rs`'s job.

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Characters left bare in canonical query components; everything else is `%XX`.
const COMPONENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~')
    .remove(b',')
    .remove(b':');

/// One `name=value` pair as received (decoded). `name` is lowercased: Cloudimage names are.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawParam {
    pub name: String,
    pub value: String,
}

/// Splits a query string (without the leading `?`) into decoded pairs, skipping empty
/// segments. A segment without `=` gets an empty value (`?grey` is `grey=`).
pub fn split(query: &str) -> Vec<RawParam> {
    query
        .split('&')
        .filter(|seg| !seg.is_empty())
        .map(|seg| {
            let (name, value) = seg.split_once('=').unwrap_or((seg, ""));
            RawParam {
                name: decode(name).trim().to_ascii_lowercase(),
                value: decode(value),
            }
        })
        .filter(|p| !p.name.is_empty())
        .collect()
}

/// Percent-decodes a query component, treating `+` as a space (form encoding, which the
/// JavaScript clients' `URLSearchParams` produce). Invalid UTF-8 is replaced, not rejected:
/// the value then fails its own parameter's validation with a clear message.
pub fn decode(s: &str) -> String {
    let spaced = s.replace('+', " ");
    percent_decode_str(&spaced).decode_utf8_lossy().into_owned()
}

/// Percent-encodes a canonical query component.
pub fn encode_component(s: &str) -> String {
    utf8_percent_encode(s, COMPONENT).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(q: &str) -> Vec<(String, String)> {
        split(q).into_iter().map(|p| (p.name, p.value)).collect()
    }

    #[test]
    fn tolerates_empty_segments() {
        let want = vec![("w".to_string(), "1".to_string())];
        for q in ["w=1", "&w=1", "w=1&", "&&w=1&&", "w=1&&&"] {
            assert_eq!(names(q), want, "query {q:?}");
        }
        assert!(split("").is_empty());
        assert!(split("&&&").is_empty());
    }

    #[test]
    fn decodes_names_and_values() {
        assert_eq!(
            names("wat_text=Hello%20World&W=2&x=a+b&flag"),
            vec![
                ("wat_text".into(), "Hello World".into()),
                ("w".into(), "2".into()),
                ("x".into(), "a b".into()),
                ("flag".into(), String::new()),
            ]
        );
    }

    #[test]
    fn encode_round_trips() {
        for s in ["a b", "ü", "a&b=c", "1,2:3", "%"] {
            assert_eq!(decode(&encode_component(s)), s);
        }
    }
}
