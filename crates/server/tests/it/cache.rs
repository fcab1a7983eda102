//! The persistent cache in the request path: HIT/MISS, one origin fetch per original,
//! coalescing, canonical keys, restart durability and TTL revalidation.

use crate::util::*;

async fn setup_cached() -> (Origin, Server) {
    setup("/q.jpg", jpeg(&quadrants(200, 100)), "image/jpeg").await
}

#[tokio::test]
async fn hits_skip_origin_and_pipeline() {
    let (o, s) = setup_cached().await;
    let first = s.get("/sample.li/q.jpg?w=50").await;
    assert_eq!(first.header("x-imgd-cache"), Some("MISS"));
    let second = s.get("/sample.li/q.jpg?w=50").await;
    assert_eq!(second.header("x-imgd-cache"), Some("HIT"));
    assert_eq!(second.body, first.body);
    assert_eq!(second.header("etag"), first.header("etag"));
    assert_eq!(second.header("content-type"), Some("image/jpeg"));
    assert_eq!(second.size(), (50, 25));
    assert_eq!(o.hits("/q.jpg"), 1);
    assert_eq!(s.metric("imgd_transforms_total").await, 1);
    assert_eq!(s.metric("imgd_cache_hits_total").await, 1);
}

#[tokio::test]
async fn ten_variants_one_origin_fetch() {
    let (o, s) = setup_cached().await;
    for w in 10..20 {
        let r = s.get(&format!("/sample.li/q.jpg?w={w}")).await;
        assert_eq!(r.header("x-imgd-cache"), Some("MISS"));
        assert_eq!(r.size().0, w);
    }
    assert_eq!(o.hits("/q.jpg"), 1);
    assert_eq!(s.metric("imgd_transforms_total").await, 10);
}

#[tokio::test]
async fn keys_are_canonical_and_accept_classes_separate() {
    let origin = Origin::start().await;
    origin.route(
        "/q.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(200, 100))),
    );
    let s = Server::start(&config(&origin, "auto_format = [\"webp\"]")).await;
    let a = s.get("/sample.li/q.jpg?w=40&h=20").await;
    assert_eq!(a.header("x-imgd-cache"), Some("MISS"));
    for same in [
        "/sample.li/q.jpg?h=20&w=40",
        "/v7/sample.li/q.jpg?height=20&width=40",
        "/http://sample.li/q.jpg?&w=40&&h=20&",
        "/sample.li/q.jpg?w=40&h=20&ci_sign=whatever",
    ] {
        let r = s.get(same).await;
        assert_eq!(r.header("x-imgd-cache"), Some("HIT"), "{same}");
        assert_eq!(r.body, a.body, "{same}");
    }
    let webp = s
        .request(
            "GET",
            "/sample.li/q.jpg?w=40&h=20",
            &[("Accept", "image/webp")],
        )
        .await;
    assert_eq!(
        webp.header("x-imgd-cache"),
        Some("MISS"),
        "another Accept class"
    );
    assert_eq!(webp.header("content-type"), Some("image/webp"));
    let webp2 = s
        .request(
            "GET",
            "/sample.li/q.jpg?h=20&w=40",
            &[("Accept", "image/avif,image/webp")],
        )
        .await;
    assert_eq!(webp2.header("x-imgd-cache"), Some("HIT"));
    assert_eq!(webp2.header("content-type"), Some("image/webp"));
    // A cache buster is a different variant.
    let busted = s.get("/sample.li/q.jpg?w=40&h=20&vh=2").await;
    assert_eq!(busted.header("x-imgd-cache"), Some("MISS"));
    assert_eq!(origin.hits("/q.jpg"), 1);
}

#[tokio::test]
async fn concurrent_misses_are_coalesced() {
    let origin = Origin::start().await;
    origin.route("/slow.jpg", Reply::Delayed(400, jpeg(&quadrants(200, 100))));
    let s = std::sync::Arc::new(Server::start(&config(&origin, "")).await);
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.get("/sample.li/slow.jpg?w=30").await
        }));
    }
    let mut statuses = Vec::new();
    for t in tasks {
        let r = t.await.unwrap();
        assert_eq!(r.size(), (30, 15));
        statuses.push(r.header("x-imgd-cache").unwrap().to_string());
    }
    assert_eq!(origin.hits("/slow.jpg"), 1, "one origin fetch");
    assert_eq!(s.metric("imgd_transforms_total").await, 1, "one encode");
    assert_eq!(statuses.iter().filter(|s| *s == "MISS").count(), 1);

    // Concurrent misses of different variants of one original share the fetch.
    origin.route(
        "/slow2.jpg",
        Reply::Delayed(400, jpeg(&quadrants(200, 100))),
    );
    let mut tasks = Vec::new();
    for w in 0..10 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            s.get(&format!("/sample.li/slow2.jpg?w={}", 20 + w)).await
        }));
    }
    for t in tasks {
        assert_eq!(t.await.unwrap().status, 200);
    }
    assert_eq!(origin.hits("/slow2.jpg"), 1);
}

#[tokio::test]
async fn cache_survives_restart() {
    let (o, s) = setup_cached().await;
    let first = s.get("/sample.li/q.jpg?w=60").await;
    assert_eq!(first.header("x-imgd-cache"), Some("MISS"));
    let s = s.restart().await;
    let again = s.get("/sample.li/q.jpg?w=60").await;
    assert_eq!(again.header("x-imgd-cache"), Some("HIT"));
    assert_eq!(again.body, first.body);
    // A new variant after restart reuses the stored original.
    assert_eq!(
        s.get("/sample.li/q.jpg?w=61").await.header("x-imgd-cache"),
        Some("MISS")
    );
    assert_eq!(o.hits("/q.jpg"), 1);
}

#[tokio::test]
async fn errors_and_missing_origins_are_not_cached() {
    let (o, s) = setup_cached().await;
    assert_eq!(s.get("/sample.li/none.jpg?w=10").await.status, 404);
    assert_eq!(s.get("/sample.li/none.jpg?w=10").await.status, 404);
    assert_eq!(o.hits("/none.jpg"), 2);
    o.route(
        "/cut.jpg",
        Reply::Truncated {
            declared: 5000,
            body: vec![0xff; 10],
        },
    );
    assert_eq!(s.get("/sample.li/cut.jpg").await.status, 502);
    o.route(
        "/cut.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(20, 10))),
    );
    let r = s.get("/sample.li/cut.jpg").await;
    assert_eq!(r.size(), (20, 10), "the truncated body was not kept");
}

#[tokio::test]
async fn ttl_revalidates_with_the_origin() {
    let origin = Origin::start().await;
    let v1 = jpeg(&quadrants(200, 100));
    origin.route("/t.jpg", Reply::Tagged(v1.clone(), "\"v1\"".into()));
    let s = Server::start(&config(&origin, "cache_ttl = 1")).await;
    assert_eq!(
        s.get("/sample.li/t.jpg?w=20").await.header("x-imgd-cache"),
        Some("MISS")
    );
    assert_eq!(
        s.get("/sample.li/t.jpg?w=20").await.header("x-imgd-cache"),
        Some("HIT")
    );
    assert_eq!(origin.hits("/t.jpg"), 1);
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    // Stale: a conditional request, answered 304, keeps the variant.
    let r = s.get("/sample.li/t.jpg?w=20").await;
    assert_eq!(r.header("x-imgd-cache"), Some("HIT"));
    assert_eq!(origin.hits("/t.jpg"), 2);
    assert_eq!(s.metric("imgd_origin_not_modified_total").await, 1);
    // The origin changes: after the TTL the new image is served.
    let v2 = jpeg(&image::RgbaImage::from_pixel(100, 100, image::Rgba(BLUE)));
    origin.route("/t.jpg", Reply::Tagged(v2, "\"v2\"".into()));
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    let r = s.get("/sample.li/t.jpg?w=20").await;
    assert_eq!(r.header("x-imgd-cache"), Some("MISS"));
    assert_eq!(r.size(), (20, 20));
    assert_px(&r.image(), 10, 10, BLUE);
}

#[tokio::test]
async fn ttl_revalidates_with_last_modified() {
    let origin = Origin::start().await;
    let date = "Wed, 02 Dec 2026 10:00:00 GMT".to_string();
    origin.route("/d.jpg", Reply::Dated(jpeg(&quadrants(200, 100)), date));
    let s = Server::start(&config(&origin, "cache_ttl = 1")).await;
    assert_eq!(
        s.get("/sample.li/d.jpg?w=20").await.header("x-imgd-cache"),
        Some("MISS")
    );
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    assert_eq!(
        s.get("/sample.li/d.jpg?w=20").await.header("x-imgd-cache"),
        Some("HIT")
    );
    assert_eq!(origin.hits("/d.jpg"), 2);
    assert_eq!(s.metric("imgd_origin_not_modified_total").await, 1);
}
