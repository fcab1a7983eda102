//! Signed and sealed URLs, header safety, paths that try to leave their directories.

use crate::util::*;

async fn server(extra: &str) -> (Origin, Server) {
    let origin = Origin::start().await;
    origin.route(
        "/assets/image.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(600, 600))),
    );
    let cfg = config(&origin, "").replace(
        "[tokens.t]",
        &format!("[tokens.s]\nurl_version = \"optional\"\norigin_prefix = \"http://sample.li\"\n{extra}\n[tokens.t]"),
    );
    let s = Server::start(&cfg).await;
    (origin, s)
}

const HOST: [(&str, &str); 1] = [("Host", "s.img.test")];

#[tokio::test]
async fn signed_urls_are_required_and_checked() {
    // Published vector: salt "salt", /assets/image.jpg?w=200 → 84c81ef20852013046. A second
    // salt is accepted too (rotation).
    let (o, s) = server("sign_salt = [\"new-salt\", \"salt\"]").await;
    let ok = s
        .request(
            "GET",
            "/v7/assets/image.jpg?w=200&ci_sign=84c81ef20852013046",
            &HOST,
        )
        .await;
    assert_eq!(ok.size(), (200, 200));
    let sorted = s
        .request(
            "GET",
            "/assets/image.jpg?ci_sign=84c81ef20852013046&w=200",
            &HOST,
        )
        .await;
    assert_eq!(sorted.status, 200);
    for (target, code) in [
        ("/assets/image.jpg?w=200", "signature-missing"),
        (
            "/assets/image.jpg?w=201&ci_sign=84c81ef20852013046",
            "signature-invalid",
        ),
        (
            "/assets/image.jpg?w=200&ci_sign=84c81ef20852013047",
            "signature-invalid",
        ),
        (
            "/assets/image.jpg?w=200&q=10&ci_sign=84c81ef20852013046",
            "signature-invalid",
        ),
    ] {
        let r = s.request("GET", target, &HOST).await;
        assert_eq!(r.status, 403, "{target}");
        assert_eq!(r.header("x-imgd-error"), Some(code), "{target}");
    }
    assert_eq!(
        o.hits("/assets/image.jpg"),
        1,
        "refused URLs never reach the origin"
    );
}

#[tokio::test]
async fn sealed_parameters_win_over_appended_ones() {
    // Ruby gem vector: salt "salt", /assets/image.jpg, sealed blur=20&h=300&w=300.
    let (_o, s) = server("seal_salt = \"salt\"").await;
    let base = "/assets/image.jpg?ci_eqs=Ymx1cj0yMCZoPTMwMCZ3PTMwMA&ci_seal=b7b7a8fde707bed4b4";
    assert_eq!(s.request("GET", base, &HOST).await.size(), (300, 300));
    let appended = s
        .request("GET", &format!("{base}&w=100&h=50&force_format=png"), &HOST)
        .await;
    assert_eq!(
        appended.size(),
        (300, 300),
        "sealed w/h cannot be overridden"
    );
    assert_eq!(
        appended.header("content-type"),
        Some("image/png"),
        "unsealed ones still apply"
    );
    for bad in [
        "/assets/image.jpg?w=100",
        "/assets/image.jpg?ci_eqs=Ymx1cj0yMCZoPTMwMA&ci_seal=b7b7a8fde707bed4b4",
    ] {
        let r = s.request("GET", bad, &HOST).await;
        assert_eq!(r.status, 403, "{bad}");
        assert_eq!(r.header("x-imgd-error"), Some("seal-invalid"));
    }
}

#[tokio::test]
async fn derived_values_cannot_inject_headers() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    for target in [
        "/sample.li/q.jpg%0d%0aSet-Cookie:%20x=1?w=10",
        "/sample.li/q.jpg?w=10&x=%0d%0aSet-Cookie:%20x=1",
        "/sample.li/q.jpg?w=10%0d%0aX-Evil:%201",
    ] {
        let r = s.get(target).await;
        assert!(r.header("set-cookie").is_none(), "{target}");
        assert!(r.header("x-evil").is_none(), "{target}");
    }
}

#[tokio::test]
async fn nothing_reads_or_writes_outside_the_cache_directory() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    for target in [
        "/sample.li/../../../../etc/passwd?w=10",
        "/sample.li/%2e%2e/%2e%2e/etc/passwd?w=10",
        "/sample.li/q.jpg?w=10&vh=../../../../tmp/x",
        "/sample.li/..%2f..%2f..%2fetc%2fpasswd",
    ] {
        let r = s.get(target).await;
        assert!(
            r.status == 200 || r.status == 404 || r.status == 400,
            "{target}: {}",
            r.status
        );
    }
    let long = format!("/sample.li/{}.jpg?w=10", "a".repeat(4000));
    assert!(s.get(&long).await.status < 500);
    // Everything the cache wrote is its index, its change epoch or a hash-named file under
    // objects/.
    let root = s.cache_dir.path();
    let files = walk(root);
    assert!(files.len() >= 3, "{files:?}");
    for entry in files {
        let rel = entry
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let name = entry.file_name().unwrap().to_string_lossy().to_string();
        let hashed = rel.starts_with("objects/")
            && name.len() > 64
            && name[..64].bytes().all(|b| b.is_ascii_hexdigit());
        assert!(
            rel == "index.redb" || rel == "epoch" || hashed,
            "unexpected file {rel}"
        );
    }
}

fn walk(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}
