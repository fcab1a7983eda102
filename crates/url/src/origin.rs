//! Where the original image lives: [`Origin`] and [`RemoteUrl`], parsed and normalised.
//!
//! Owns: URL syntax of origins (scheme, host, port, path, the origin's own query), path
//! normalisation (percent-encoding made canonical, dot segments removed) and confinement of
//! file-alias paths. Must not: resolve names, check addresses or whitelists (the server's origin
//! guard does), or touch the file system.

use std::fmt;

use percent_encoding::percent_decode_str;

use crate::error::ParseError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scheme {
    Http,
    Https,
}

impl Scheme {
    pub fn as_str(self) -> &'static str {
        match self {
            Scheme::Http => "http",
            Scheme::Https => "https",
        }
    }
    pub fn default_port(self) -> u16 {
        match self {
            Scheme::Http => 80,
            Scheme::Https => 443,
        }
    }
}

/// An absolute http(s) URL in normal form: lowercase host, no default port, canonical
/// percent-encoding, no dot segments, no userinfo, no fragment.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RemoteUrl {
    pub scheme: Scheme,
    /// Lowercase host name, IPv4 literal, or bracketed IPv6 literal (`[::1]`).
    pub host: String,
    /// `None` when it is the scheme's default.
    pub port: Option<u16>,
    /// Starts with `/`.
    pub path: String,
    /// The origin's own query string, without `?`.
    pub query: Option<String>,
}

impl RemoteUrl {
    /// Parses `scheme://host[:port]/path[?query]`, also accepting the collapsed `scheme:/host`
    /// that HTTP stacks produce from `//`.
    pub fn parse(s: &str) -> Result<RemoteUrl, ParseError> {
        let (scheme, rest) = split_scheme(s).ok_or(ParseError::InvalidOrigin(
            "expected an http:// or https:// URL",
        ))?;
        let (before_query, query) = match rest.split_once('?') {
            Some((a, q)) => (a, Some(q)),
            None => (rest, None),
        };
        let before_query = before_query.split('#').next().unwrap_or_default();
        let (authority, path) = match before_query.find('/') {
            Some(i) => before_query.split_at(i),
            None => (before_query, "/"),
        };
        let (host, port) = parse_authority(authority)?;
        let port = port.filter(|p| *p != scheme.default_port());
        let query = query
            .map(|q| normalize_encoding(q.split('#').next().unwrap_or_default(), true))
            .filter(|q| !q.is_empty());
        Ok(RemoteUrl {
            scheme,
            host,
            port,
            path: remove_dot_segments(&normalize_encoding(path, false)),
            query,
        })
    }

    /// The same URL with `rest` (a relative path, possibly with `?query`) appended to its path.
    pub fn join(&self, rest: &str) -> RemoteUrl {
        let (path, query) = match rest.split_once('?') {
            Some((p, q)) => (
                p,
                Some(normalize_encoding(q, true)).filter(|q| !q.is_empty()),
            ),
            None => (rest, None),
        };
        let base = self.path.trim_end_matches('/');
        let joined = format!("{base}/{}", path.trim_start_matches('/'));
        RemoteUrl {
            path: remove_dot_segments(&normalize_encoding(&joined, false)),
            query,
            ..self.clone()
        }
    }

    /// `host[:port]` as sent in the `Host` header.
    pub fn authority(&self) -> String {
        match self.port {
            Some(p) => format!("{}:{p}", self.host),
            None => self.host.clone(),
        }
    }

    pub fn port_or_default(&self) -> u16 {
        self.port.unwrap_or(self.scheme.default_port())
    }
}

impl fmt::Display for RemoteUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}://{}{}",
            self.scheme.as_str(),
            self.authority(),
            self.path
        )?;
        if let Some(q) = &self.query {
            write!(f, "?{q}")?;
        }
        Ok(())
    }
}

/// The original image a request names.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Origin {
    /// Fetched over HTTP(S).
    Remote(RemoteUrl),
    /// Read from a directory configured as a file alias. `segments` are decoded path segments,
    /// none of them empty, `.`, `..`, or containing a separator or NUL.
    File {
        alias: String,
        root: String,
        segments: Vec<String>,
    },
}

impl Origin {
    /// The origin's identity in cache keys and invalidation: the normalised URL, or
    /// `file:` + alias + path for file aliases.
    pub fn canonical(&self) -> String {
        match self {
            Origin::Remote(u) => u.to_string(),
            Origin::File {
                alias, segments, ..
            } => {
                let mut s = format!("file:{alias}");
                for seg in segments {
                    s.push('/');
                    s.push_str(&normalize_encoding(seg, false).replace('/', "%2F"));
                }
                s
            }
        }
    }
}

/// Splits `http(s):` + one or two slashes off `s`, case-insensitively.
pub(crate) fn split_scheme(s: &str) -> Option<(Scheme, &str)> {
    // `get` rather than indexing: the text may have a multi-byte character at the cut.
    let lower_prefix = |p: &str| s.get(..p.len()).is_some_and(|x| x.eq_ignore_ascii_case(p));
    let (scheme, rest) = if lower_prefix("https:") {
        (Scheme::Https, &s[6..])
    } else if lower_prefix("http:") {
        (Scheme::Http, &s[5..])
    } else {
        return None;
    };
    let rest = rest.strip_prefix("//").or_else(|| rest.strip_prefix('/'))?;
    Some((scheme, rest))
}

fn parse_authority(authority: &str) -> Result<(String, Option<u16>), ParseError> {
    if authority.contains('@') {
        // `http://ok.test@evil.test/` must never be read as ok.test; credentials in origin
        // URLs are not supported at all.
        return Err(ParseError::InvalidOrigin(
            "user info in origin URLs is not allowed",
        ));
    }
    let (host, port) = if let Some(rest) = authority.strip_prefix('[') {
        let (v6, after) = rest
            .split_once(']')
            .ok_or(ParseError::InvalidOrigin("unterminated IPv6 literal"))?;
        if v6.is_empty()
            || !v6
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || b == b':' || b == b'.')
        {
            return Err(ParseError::InvalidOrigin("invalid IPv6 literal"));
        }
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or(ParseError::InvalidOrigin("invalid port"))?,
            ),
        };
        (format!("[{}]", v6.to_ascii_lowercase()), port)
    } else {
        let (h, p) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        };
        let h = h.trim_end_matches('.').to_ascii_lowercase();
        if !is_host_name(&h) {
            return Err(ParseError::InvalidOrigin(
                "invalid host name (non-ASCII names must be given in punycode)",
            ));
        }
        (h, p)
    };
    let port = match port {
        None | Some("") => None,
        Some(p) => Some(
            p.parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or(ParseError::InvalidOrigin("invalid port"))?,
        ),
    };
    Ok((host, port))
}

fn is_host_name(h: &str) -> bool {
    !h.is_empty()
        && h.len() <= 253
        && h.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
}

/// Whether a first path segment names a host (`sample.li`, `img.example.com:8080`,
/// `localhost`, `[::1]`) rather than a directory.
pub(crate) fn looks_like_host(segment: &str) -> bool {
    if segment.starts_with('[') {
        return parse_authority(segment).is_ok();
    }
    let host = segment.split(':').next().unwrap_or_default();
    (host.contains('.') || host.eq_ignore_ascii_case("localhost"))
        && !host.starts_with('_')
        && parse_authority(segment).is_ok()
}

/// Makes percent-encoding canonical: `%xx` → `%XX`, unreserved characters decoded, and any
/// byte that may not appear bare (space, non-ASCII, `"<>\^`{|}`) encoded. `in_query` also
/// lets `?` stay bare.
pub(crate) fn normalize_encoding(s: &str, in_query: bool) -> String {
    let bytes = s.as_bytes();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if b == b'%' {
            let hex = bytes.get(i + 1..i + 3).and_then(|h| {
                std::str::from_utf8(h)
                    .ok()
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
            });
            if let Some(v) = hex {
                if is_unreserved(v) {
                    out.push(v as char);
                } else {
                    out.push_str(&format!("%{v:02X}"));
                }
                i += 3;
                continue;
            }
            out.push_str("%25");
        } else if is_unreserved(b) || b"!$&'()*+,;=:@/".contains(&b) || (in_query && b == b'?') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
        i += 1;
    }
    out
}

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~".contains(&b)
}

/// RFC 3986 §5.2.4 on a path that starts with `/`.
pub(crate) fn remove_dot_segments(path: &str) -> String {
    let mut out: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    let last = segments.len().saturating_sub(1);
    let mut trailing_slash = false;
    for (i, seg) in segments.iter().enumerate() {
        match *seg {
            "." => trailing_slash = i == last,
            ".." => {
                out.pop();
                trailing_slash = i == last;
            }
            s => {
                out.push(s);
                trailing_slash = false;
            }
        }
    }
    let mut s = format!("/{}", out.join("/"));
    if trailing_slash && !s.ends_with('/') {
        s.push('/');
    }
    s
}

/// Decodes and confines a file-alias path (`a/b%20c.jpg`) to segments that cannot leave the
/// alias directory.
pub(crate) fn file_segments(rest: &str) -> Result<Vec<String>, ParseError> {
    let mut segments = Vec::new();
    for raw in rest.split('/') {
        let seg = percent_decode_str(raw)
            .decode_utf8()
            .map_err(|_| ParseError::InvalidOrigin("file paths must be UTF-8"))?;
        match seg.as_ref() {
            "" | "." => continue,
            ".." => return Err(ParseError::PathTraversal),
            s if s.contains(['/', '\\', '\0']) || s.starts_with('.') => {
                // Encoded separators, NUL, and hidden files (`.git`, `..%2f`) are refused.
                return Err(ParseError::PathTraversal);
            }
            s => segments.push(s.to_string()),
        }
    }
    if segments.is_empty() {
        return Err(ParseError::MissingOrigin);
    }
    Ok(segments)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn url(s: &str) -> String {
        RemoteUrl::parse(s).unwrap().to_string()
    }

    #[test]
    fn normal_forms() {
        for (input, want) in [
            ("https://sample.li/boat.jpg", "https://sample.li/boat.jpg"),
            ("https:/sample.li/boat.jpg", "https://sample.li/boat.jpg"),
            (
                "HTTPS://Sample.LI:443/boat.jpg",
                "https://sample.li/boat.jpg",
            ),
            (
                "http://sample.li:8080/a/./b/../c.jpg",
                "http://sample.li:8080/a/c.jpg",
            ),
            ("http://h.test/a b/ü.jpg", "http://h.test/a%20b/%C3%BC.jpg"),
            (
                "http://h.test/%7euser/%2f%41.jpg",
                "http://h.test/~user/%2FA.jpg",
            ),
            (
                "http://h.test/a.php?id=1&x=%20",
                "http://h.test/a.php?id=1&x=%20",
            ),
            ("http://h.test", "http://h.test/"),
            ("http://[::1]:9000/x", "http://[::1]:9000/x"),
            ("http://h.test/../../etc/passwd", "http://h.test/etc/passwd"),
            ("http://h.test/x.jpg#frag", "http://h.test/x.jpg"),
        ] {
            assert_eq!(url(input), want, "{input}");
        }
    }

    #[test]
    fn rejects_bad_authorities() {
        for bad in [
            "http://ok.test@evil.test/x.jpg",
            "http://user:pw@h.test/",
            "http:///x.jpg",
            "http://h.test:99999/x",
            "http://h.test:0/x",
            "http://bad host/x",
            "http://exämple.test/x",
            "http://[zz]/x",
            "ftp://h.test/x",
        ] {
            assert!(RemoteUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn host_detection() {
        for yes in [
            "sample.li",
            "img.example.com:8080",
            "localhost",
            "[::1]",
            "127.0.0.1",
        ] {
            assert!(looks_like_host(yes), "{yes}");
        }
        for no in ["photos", "_alias_", "a..b", "img.jpg?", ""] {
            assert!(!looks_like_host(no), "{no}");
        }
    }

    #[test]
    fn join_keeps_base_path() {
        let base = RemoteUrl::parse("https://cdn.test/base/").unwrap();
        assert_eq!(
            base.join("a/b.jpg?v=1").to_string(),
            "https://cdn.test/base/a/b.jpg?v=1"
        );
        assert_eq!(base.join("../x.jpg").to_string(), "https://cdn.test/x.jpg");
    }

    #[test]
    fn file_paths_are_confined() {
        assert_eq!(
            file_segments("a/b%20c.jpg").unwrap(),
            vec!["a".to_string(), "b c.jpg".to_string()]
        );
        for bad in [
            "../etc/passwd",
            "a/../../x",
            "%2e%2e/x",
            "a%2f..%2fb",
            "a%5cb",
            "x%00.jpg",
            ".git/config",
        ] {
            assert!(file_segments(bad).is_err(), "{bad}");
        }
    }
}
