//! Response headers, conditional requests, error bodies and the missing-origin policies.

use crate::util::*;

#[tokio::test]
async fn image_headers() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    let r = s.get("/sample.li/q.jpg?w=20").await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/jpeg"));
    assert_eq!(
        r.header("content-length"),
        Some(r.body.len().to_string().as_str())
    );
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=2592000, s-maxage=31536000")
    );
    assert_eq!(r.header("x-content-type-options"), Some("nosniff"));
    assert!(
        r.header("set-cookie").is_none(),
        "origin headers are never copied"
    );
    let etag = r.header("etag").unwrap();
    assert!(etag.starts_with('"') && etag.ends_with('"') && !etag.starts_with("W/"));
    let c = s.get("/sample.li/q.jpg?w=20&ci_cache=600").await;
    assert_eq!(
        c.header("cache-control"),
        Some("public, max-age=600, s-maxage=600")
    );
}

#[tokio::test]
async fn per_token_cache_lifetimes() {
    let origin = Origin::start().await;
    origin.route(
        "/q.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(40, 20))),
    );
    let s = Server::start(&config(&origin, "max_age = 100\ns_maxage = 200")).await;
    let r = s.get("/sample.li/q.jpg").await;
    assert_eq!(
        r.header("cache-control"),
        Some("public, max-age=100, s-maxage=200")
    );
}

#[tokio::test]
async fn etag_and_if_none_match() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    let first = s.get("/sample.li/q.jpg?w=20").await;
    let etag = first.header("etag").unwrap().to_string();
    let again = s.get("/sample.li/q.jpg?width=20").await;
    assert_eq!(
        again.header("etag"),
        Some(etag.as_str()),
        "same variant, same tag"
    );
    let other = s.get("/sample.li/q.jpg?w=21").await;
    assert_ne!(other.header("etag"), Some(etag.as_str()));
    let nm = s
        .request("GET", "/sample.li/q.jpg?w=20", &[("If-None-Match", &etag)])
        .await;
    assert_eq!(nm.status, 304);
    assert!(nm.body.is_empty());
    assert_eq!(nm.header("etag"), Some(etag.as_str()));
    let miss = s
        .request(
            "GET",
            "/sample.li/q.jpg?w=20",
            &[("If-None-Match", "\"nope\"")],
        )
        .await;
    assert_eq!(miss.status, 200);
}

#[tokio::test]
async fn invalid_parameters_are_400_with_a_machine_readable_body() {
    let (o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    for (q, param) in [
        ("w=abc", "w"),
        ("func=zoom", "func"),
        ("q=500", "q"),
        ("gravity=up", "gravity"),
        ("bg_color=nothex", "bg_color"),
        ("dpr=9", "dpr"),
        ("flip=x", "flip"),
        ("ar=0", "ar"),
    ] {
        let r = s.get(&format!("/sample.li/q.jpg?{q}")).await;
        assert_eq!(r.status, 400, "{q}");
        assert_eq!(r.header("x-imgd-error"), Some("invalid-parameter"), "{q}");
        assert_eq!(r.header("content-type"), Some("application/json"));
        let body = r.json();
        assert_eq!(body["code"], "invalid-parameter");
        assert_eq!(body["parameter"], param, "{q}");
        assert!(body["accepted"].as_str().is_some_and(|s| !s.is_empty()));
    }
    assert_eq!(o.seen().len(), 0, "bad URLs never reach the origin");
    // Unknown parameters and empty segments are fine.
    let r = s.get("/sample.li/q.jpg?&&vh=123&w=20&").await;
    assert_eq!(r.size(), (20, 10));
}

#[tokio::test]
async fn errors_by_cause() {
    let (o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    o.route(
        "/text.jpg",
        Reply::Body("text/html", b"<script>alert(1)</script>".to_vec()),
    );
    o.route("/boom.jpg", Reply::Status(500));
    for (target, status, code) in [
        ("/sample.li/text.jpg", 422, "unsupported-format"),
        ("/sample.li/boom.jpg", 502, "origin-error"),
        ("/sample.li/q.jpg?w=20000", 400, "output-too-large"),
        ("/sample.li/q.jpg?tl_px=100,100", 400, "empty-crop"),
        ("/_nope_/q.jpg", 400, "unknown-alias"),
        ("/photos/q.jpg", 400, "no-origin-for-path"),
        ("/", 400, "missing-origin"),
        ("/https://ok.test@evil.test/q.jpg", 400, "invalid-origin"),
    ] {
        let r = s.get(target).await;
        assert_eq!(r.status, status, "{target}");
        assert_eq!(r.header("x-imgd-error"), Some(code), "{target}");
        assert!(
            !String::from_utf8_lossy(&r.body).contains("<script>"),
            "never echoed"
        );
    }
}

#[tokio::test]
async fn missing_origin_placeholder_is_fitted_and_short_lived() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    for (q, want) in [
        ("", (400, 400)),
        ("?w=300", (300, 300)),
        ("?w=300&h=100", (100, 100)),
        ("?h=50&dpr=2", (100, 100)),
    ] {
        let r = s.get(&format!("/sample.li/none.jpg{q}")).await;
        assert_eq!(r.status, 404, "{q}");
        assert_eq!(r.header("x-imgd-error"), Some("origin-not-found"));
        assert_eq!(
            r.header("cache-control"),
            Some("public, max-age=60, s-maxage=60")
        );
        let img = decode(&r.body);
        assert_eq!((img.width(), img.height()), want, "{q}");
    }
    // Unreachable origins are "missing" too (nothing listens on this pinned port).
    let dead = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = dead.local_addr().unwrap().port();
    drop(dead);
    let r = s.get(&format!("/http://127.0.0.1:{port}/x.jpg")).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-imgd-error"), Some("origin-unreachable"));
}

#[tokio::test]
async fn missing_origin_policies() {
    let origin = Origin::start().await;
    for (policy, status, body_check) in [
        ("placeholder_200", 200, "image"),
        ("transparent_gif_200", 200, "gif"),
        ("empty_404", 404, "empty"),
    ] {
        let s = Server::start(&config(&origin, &format!("missing_origin = \"{policy}\""))).await;
        let r = s.get("/sample.li/none.jpg?w=30").await;
        assert_eq!(r.status, status, "{policy}");
        match body_check {
            "image" => assert_eq!(decode(&r.body).width(), 30),
            "gif" => {
                let img = decode(&r.body);
                assert_eq!((img.width(), img.height()), (1, 1));
                assert_eq!(px(&img, 0, 0)[3], 0);
            }
            _ => assert!(r.body.is_empty()),
        }
    }
}

#[tokio::test]
async fn health_head_and_methods() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    let h = s.get("/health").await;
    assert_eq!(h.status, 200);
    let head = s.request("HEAD", "/sample.li/q.jpg?w=20", &[]).await;
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert_eq!(head.header("content-type"), Some("image/jpeg"));
    let post = s
        .request("POST", "/sample.li/q.jpg", &[("Content-Length", "0")])
        .await;
    assert_eq!(post.status, 405);
}
