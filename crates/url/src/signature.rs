//! URL signatures (`ci_sign`) and sealing (`ci_eqs` + `ci_seal`), as Cloudimage defines them
//! and its client libraries produce them.
//!
//! `ci_sign = sha1_hex(salt + URI)`, URI = path after the host and `/v7` + `?` + the other
//! parameters. Both canonical forms are accepted: parameters in received order or sorted (the
//! Ruby gem sorts), URI with or without its leading `/`. `ci_seal = sha1_hex(URI + ci_eqs +
//! salt)` with URI the origin path (no query), `ci_eqs` the base64 of the sealed parameters.
//! A signature or seal may be any prefix of 6..40 hex digits; comparison is constant-time.
//! Several salts may be configured (rotation).
//!
//! Must not: do I/O or know anything beyond the raw request text.

use sha1::{Digest, Sha1};

use crate::error::ParseError;

fn sha1_hex(parts: &[&str]) -> String {
    let mut h = Sha1::new();
    for p in parts {
        h.update(p.as_bytes());
    }
    h.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time comparison of a received prefix with a computed digest.
fn prefix_matches(received: &str, digest: &str) -> bool {
    let r = received.as_bytes();
    if !(6..=40).contains(&r.len()) {
        return false;
    }
    let d = &digest.as_bytes()[..r.len()];
    r.iter()
        .zip(d)
        .fold(0u8, |acc, (a, b)| acc | (a.to_ascii_lowercase() ^ b))
        == 0
}

/// Verifies `ci_sign` for `path` (after `/v7`, starting with `/`) and the raw query segments
/// (as received, `ci_sign` included).
pub fn verify_sign(salts: &[String], path: &str, segments: &[&str]) -> Result<(), ParseError> {
    let mut received = None;
    let mut rest: Vec<&str> = Vec::new();
    for seg in segments.iter().filter(|s| !s.is_empty()) {
        match seg.split_once('=') {
            Some(("ci_sign", v)) => received = Some(v),
            _ => rest.push(seg),
        }
    }
    let received = received.ok_or(ParseError::SignatureMissing)?;
    let mut sorted = rest.clone();
    sorted.sort_by(|a, b| {
        let key = |s: &str| s.split_once('=').map_or(s, |(k, _)| k).to_string();
        key(a).cmp(&key(b)).then(a.cmp(b))
    });
    let bare = path.trim_start_matches('/');
    for salt in salts {
        for params in [&rest, &sorted] {
            let query = params.join("&");
            for p in [format!("/{bare}"), bare.to_string()] {
                let uri = if query.is_empty() {
                    p
                } else {
                    format!("{p}?{query}")
                };
                if prefix_matches(received, &sha1_hex(&[salt, &uri])) {
                    return Ok(());
                }
            }
        }
    }
    Err(ParseError::SignatureInvalid)
}

/// Verifies `ci_seal` for the origin path and the raw `ci_eqs` value.
pub fn verify_seal(
    salts: &[String],
    origin_path: &str,
    eqs: &str,
    seal: Option<&str>,
) -> Result<(), ParseError> {
    let seal = seal.ok_or(ParseError::SealInvalid)?;
    let bare = origin_path.trim_start_matches('/');
    for salt in salts {
        for uri in [format!("/{bare}"), bare.to_string()] {
            if prefix_matches(seal, &sha1_hex(&[&uri, eqs, salt])) {
                return Ok(());
            }
        }
    }
    Err(ParseError::SealInvalid)
}

/// Decodes base64, standard or URL-safe alphabet, padded or not.
pub fn decode_base64(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(s.len() * 3 / 4);
    let (mut acc, mut bits) = (0u32, 0u32);
    for c in s.trim_end_matches('=').bytes() {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
            acc &= (1 << bits) - 1;
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn salts(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    /// The published vectors (API reference §7.2), salt `salt`, Ruby-gem form (sorted, 18).
    #[test]
    fn sign_vectors() {
        let ok = |salt: &str, path: &str, query: &str, sign: &str| {
            let mut segs: Vec<&str> = query.split('&').filter(|s| !s.is_empty()).collect();
            let s = format!("ci_sign={sign}");
            segs.push(&s);
            verify_sign(&salts(&[salt]), path, &segs)
        };
        assert_eq!(
            ok("salt", "/assets/image.jpg", "", "8e71efd440164f3cc8"),
            Ok(())
        );
        assert_eq!(
            ok("salt", "/assets/image.jpg", "w=200", "84c81ef20852013046"),
            Ok(())
        );
        assert_eq!(
            ok(
                "salt",
                "/assets/image.jpg",
                "ci_info=1&h=100&w=200",
                "40bd5a1d99455fe5cf"
            ),
            Ok(())
        );
        // Received in another order: the sorted form still verifies.
        assert_eq!(
            ok(
                "salt",
                "/assets/image.jpg",
                "w=200&ci_info=1&h=100",
                "40bd5a1d99455fe5cf"
            ),
            Ok(())
        );
        assert_eq!(
            ok(
                "mysecretsalt",
                "/assets/image.png",
                "h=400&w=200",
                "79cfbc458b"
            ),
            Ok(())
        );
        // Rotation: any configured salt.
        let mut segs = vec!["w=200", "ci_sign=84c81ef20852013046"];
        assert_eq!(
            verify_sign(&salts(&["old", "salt"]), "/assets/image.jpg", &segs),
            Ok(())
        );
        // Tampering.
        assert_eq!(
            ok("salt", "/assets/image.jpg", "w=201", "84c81ef20852013046"),
            Err(ParseError::SignatureInvalid)
        );
        assert_eq!(
            ok("salt", "/assets/other.jpg", "", "8e71efd440164f3cc8"),
            Err(ParseError::SignatureInvalid)
        );
        assert_eq!(
            ok("salt", "/assets/image.jpg", "", "8e71e"),
            Err(ParseError::SignatureInvalid),
            "too short"
        );
        segs.pop();
        assert_eq!(
            verify_sign(&salts(&["salt"]), "/assets/image.jpg", &segs),
            Err(ParseError::SignatureMissing)
        );
    }

    #[test]
    fn seal_vectors() {
        // Docs example, salt `test`, origin without leading slash, full-length seal.
        let eqs = "d2F0PTEmd2F0X3VybD1odHRwOi8vc2FtcGxlLmxpL2xvdWlzLXZ1aXR0b24tbG9nby13aGl0ZS5wbmcmd2F0X3NjYWxlPTQ1JndhdF9ncmF2aXR5PXNvdXRod2VzdCZ3YXRfcGFkPTE1";
        assert_eq!(
            verify_seal(
                &salts(&["test"]),
                "sample.li/birds.jpg",
                eqs,
                Some("a355cce069fbfb18a4c39113067bf626ead2ebab")
            ),
            Ok(())
        );
        assert_eq!(
            String::from_utf8(decode_base64(eqs).unwrap()).unwrap(),
            "wat=1&wat_url=http://sample.li/louis-vuitton-logo-white.png&wat_scale=45&wat_gravity=southwest&wat_pad=15"
        );
        // Ruby gem: leading slash, URL-safe base64 without padding, 18 digits.
        let s = salts(&["salt"]);
        assert_eq!(
            verify_seal(&s, "/assets/image.jpg", "", Some("57e9278520bd99de50")),
            Ok(())
        );
        assert_eq!(
            verify_seal(
                &s,
                "assets/image.jpg",
                "Ymx1cj0yMCZoPTMwMCZ3PTMwMA",
                Some("b7b7a8fde707bed4b4")
            ),
            Ok(())
        );
        assert_eq!(
            verify_seal(
                &s,
                "/assets/image.jpg",
                "Ymx1cj0yMCZoPTMwMA",
                Some("a49adc8f592ef99188")
            ),
            Ok(())
        );
        assert_eq!(
            verify_seal(
                &salts(&["test"]),
                "/sample.li/birds.jpg",
                "Zj1icmlnaHQlM0ExMCUyQ2NvbnRyYXN0JTNBMjAmdz0zMDA",
                Some("67dd8cc44f6ba44ee5")
            ),
            Ok(())
        );
        assert_eq!(
            String::from_utf8(
                decode_base64("Zj1icmlnaHQlM0ExMCUyQ2NvbnRyYXN0JTNBMjAmdz0zMDA").unwrap()
            )
            .unwrap(),
            "f=bright%3A10%2Ccontrast%3A20&w=300"
        );
        assert_eq!(
            verify_seal(
                &s,
                "/assets/image.jpg",
                "Ymx1cj0yMCZoPTMwMA",
                Some("b7b7a8fde707bed4b4")
            ),
            Err(ParseError::SealInvalid)
        );
        assert_eq!(
            verify_seal(&s, "/assets/image.jpg", "", None),
            Err(ParseError::SealInvalid)
        );
    }

    #[test]
    fn base64_alphabets() {
        for enc in ["aGk/Pz4+", "aGk_Pz4-", "aGk_Pz4-", "aGk/Pz4+"] {
            assert_eq!(decode_base64(enc).unwrap(), b"hi??>>");
        }
        assert_eq!(decode_base64("aGk=").unwrap(), b"hi");
        assert_eq!(decode_base64("aGk").unwrap(), b"hi");
        assert!(decode_base64("a*b").is_none());
    }
}
