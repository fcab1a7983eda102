//! The Invalidation API: every scope and URL form, filters, token isolation, errors,
//! durability, and the command-line equivalent.

use crate::util::*;

const KEY_T: &str = "key-for-token-t-0123456789";
const KEY_P: &str = "key-for-token-p-0123456789";

async fn server() -> (Origin, Server) {
    let origin = Origin::start().await;
    let img = jpeg(&quadrants(200, 100));
    for p in [
        "/q.jpg",
        "/other.jpg",
        "/avatars/a.jpg",
        "/avatars/b.jpg",
        "/base/x.jpg",
        "/root/photos/p.jpg",
    ] {
        origin.route(p, Reply::Body("image/jpeg", img.clone()));
    }
    let extra = format!(
        "api_keys = [\"{KEY_T}\"]\n\
         [tokens.p]\nurl_version = \"none\"\norigin_prefix = \"http://sample.li/root\"\napi_keys = [\"{KEY_P}\"]\n"
    );
    let s = Server::start(&config(&origin, &extra)).await;
    (origin, s)
}

async fn cache_state(s: &Server, target: &str) -> String {
    s.get(target)
        .await
        .header("x-imgd-cache")
        .unwrap_or("none")
        .to_string()
}

async fn warm(s: &Server, targets: &[&str]) {
    for t in targets {
        s.get(t).await;
        assert_eq!(cache_state(s, t).await, "HIT", "{t} is cached");
    }
}

fn removed(r: &Resp) -> u64 {
    assert_eq!(r.status, 201, "{}", String::from_utf8_lossy(&r.body));
    let body = r.json();
    assert_eq!(body["status"], "success");
    assert_eq!(body["invalidation"]["status"], "DONE");
    body["invalidation"]["removed"].as_u64().unwrap()
}

#[tokio::test]
async fn scope_urls_purges_exact_variants_in_canonical_form() {
    let (o, s) = server().await;
    warm(&s, &["/sample.li/q.jpg?w=40&h=20", "/sample.li/q.jpg?w=50"]).await;
    let r = s
        .invalidate(
            KEY_T,
            r#"{"scope":"urls","urls":["v7/sample.li/q.jpg?height=20&width=40"]}"#,
        )
        .await;
    assert_eq!(removed(&r), 1);
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?h=20&w=40").await, "MISS");
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=50").await, "HIT");
    assert_eq!(o.hits("/q.jpg"), 1, "the original stays cached");
}

#[tokio::test]
async fn scope_original_purges_original_and_all_variants() {
    let (o, s) = server().await;
    warm(
        &s,
        &[
            "/sample.li/q.jpg?w=40",
            "/sample.li/q.jpg?w=41",
            "/sample.li/other.jpg?w=40",
        ],
    )
    .await;
    let r = s
        .invalidate(KEY_T, r#"{"scope":"original","urls":["/sample.li/q.jpg"]}"#)
        .await;
    assert_eq!(removed(&r), 3, "two variants and the original");
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=40").await, "MISS");
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=41").await, "MISS");
    assert_eq!(o.hits("/q.jpg"), 2, "the original was fetched again");
    assert_eq!(cache_state(&s, "/sample.li/other.jpg?w=40").await, "HIT");
}

#[tokio::test]
async fn wildcard_and_transformation_filters() {
    let (o, s) = server().await;
    warm(
        &s,
        &[
            "/sample.li/avatars/a.jpg?w=40",
            "/sample.li/avatars/b.jpg?w=40",
            "/sample.li/other.jpg?w=40",
        ],
    )
    .await;
    let r = s
        .invalidate(
            KEY_T,
            r#"{"scope":"original","urls":["/sample.li/avatars/*"]}"#,
        )
        .await;
    assert_eq!(removed(&r), 4);
    assert_eq!(
        cache_state(&s, "/sample.li/avatars/a.jpg?w=40").await,
        "MISS"
    );
    assert_eq!(
        cache_state(&s, "/sample.li/avatars/b.jpg?w=40").await,
        "MISS"
    );
    assert_eq!(cache_state(&s, "/sample.li/other.jpg?w=40").await, "HIT");

    warm(
        &s,
        &[
            "/sample.li/q.jpg?w=200",
            "/sample.li/q.jpg?w=300&force_format=jpg",
            "/sample.li/q.jpg?w=400",
        ],
    )
    .await;
    let before = o.hits("/q.jpg");
    let r = s
        .invalidate(
            KEY_T,
            r#"{"scope":"original","urls":["sample.li/q.jpg"],"transformations":["?w=200","?force_format=jpg"]}"#,
        )
        .await;
    assert_eq!(removed(&r), 2);
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=200").await, "MISS");
    assert_eq!(
        cache_state(&s, "/sample.li/q.jpg?force_format=jpeg&w=300").await,
        "MISS"
    );
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=400").await, "HIT");
    assert_eq!(o.hits("/q.jpg"), before, "the original itself was kept");
}

#[tokio::test]
async fn scope_all_is_per_token() {
    let (_o, s) = server().await;
    let p_host = [("Host", "p.img.test")];
    warm(&s, &["/sample.li/q.jpg?w=40", "/sample.li/other.jpg?w=40"]).await;
    s.request("GET", "/photos/p.jpg?w=40", &p_host).await;
    let r = s.invalidate(KEY_T, r#"{"scope":"all"}"#).await;
    assert_eq!(removed(&r), 4, "two variants and two originals");
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=40").await, "MISS");
    assert_eq!(cache_state(&s, "/sample.li/other.jpg?w=40").await, "MISS");
    let p = s.request("GET", "/photos/p.jpg?w=40", &p_host).await;
    assert_eq!(p.header("x-imgd-cache"), Some("HIT"), "token p untouched");
}

#[tokio::test]
async fn every_url_form_is_normalised() {
    let (_o, s) = server().await;
    for (warm_target, host, key, url) in [
        ("/_o_/x.jpg?w=10", "localhost", KEY_T, "_o_/x.jpg?w=10"),
        ("/_o_/x.jpg?w=11", "localhost", KEY_T, "/v7/_o_/x.jpg?w=11"),
        (
            "/_o_/x.jpg?w=12",
            "localhost",
            KEY_T,
            "http://sample.li/base/x.jpg?w=12",
        ),
        (
            "/_o_/x.jpg?w=13",
            "localhost",
            KEY_T,
            "/http://sample.li/base/x.jpg?w=13",
        ),
        (
            "/sample.li/q.jpg?w=14",
            "localhost",
            KEY_T,
            "sample.li/q.jpg?w=14",
        ),
        (
            "/sample.li/q.jpg?w=15",
            "localhost",
            KEY_T,
            "/v7/sample.li/q.jpg?width=15",
        ),
        (
            "/photos/p.jpg?w=16",
            "p.img.test",
            KEY_P,
            "photos/p.jpg?w=16",
        ),
        (
            "/photos/p.jpg?w=17",
            "p.img.test",
            KEY_P,
            "/photos/p.jpg?w=17",
        ),
    ] {
        let h = [("Host", host)];
        s.request("GET", warm_target, &h).await;
        let hit = s.request("GET", warm_target, &h).await;
        assert_eq!(hit.header("x-imgd-cache"), Some("HIT"), "{warm_target}");
        let body = format!(r#"{{"scope":"urls","urls":["{url}"]}}"#);
        assert_eq!(removed(&s.invalidate(key, &body).await), 1, "{url}");
        let after = s.request("GET", warm_target, &h).await;
        assert_eq!(after.header("x-imgd-cache"), Some("MISS"), "{url}");
    }
}

#[tokio::test]
async fn keys_isolate_tokens_and_bad_requests_are_refused() {
    let (_o, s) = server().await;
    warm(&s, &["/sample.li/q.jpg?w=40"]).await;
    // Token p's key purges only token p's entries.
    let r = s
        .invalidate(
            KEY_P,
            r#"{"scope":"original","urls":["http://sample.li/q.jpg"]}"#,
        )
        .await;
    assert_eq!(removed(&r), 0);
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=40").await, "HIT");

    for (key, body, status, code) in [
        (
            "wrong-key-0123456789abcdef",
            r#"{"scope":"all"}"#,
            401,
            "unauthorized",
        ),
        ("", r#"{"scope":"all"}"#, 401, "unauthorized"),
        (KEY_T, "{not json", 400, "invalid-body"),
        (KEY_T, r#"{"scope":"everything"}"#, 400, "invalid-body"),
        (KEY_T, r#"{"scope":"urls"}"#, 400, "invalid-body"),
        (
            KEY_T,
            r#"{"scope":"original","urls":["/sample.li/q.jpg?w=600"]}"#,
            400,
            "invalid-body",
        ),
    ] {
        let r = s.invalidate(key, body).await;
        assert_eq!(r.status, status, "{body}");
        assert_eq!(r.header("x-imgd-error"), Some(code), "{body}");
        if status == 400 {
            assert!(r.json()["message"].as_str().is_some_and(|m| m.len() > 10));
        }
    }
    let huge = format!(
        r#"{{"scope":"urls","urls":["{}"]}}"#,
        "a".repeat(2 * 1024 * 1024)
    );
    let r = s.invalidate(KEY_T, &huge).await;
    assert_eq!(r.status, 413);
    assert_eq!(
        cache_state(&s, "/sample.li/q.jpg?w=40").await,
        "HIT",
        "nothing was purged"
    );
    let get = s.request("GET", "/invalidate", &[]).await;
    assert_ne!(get.status, 201);
}

#[tokio::test]
async fn purges_are_durable() {
    let (o, s) = server().await;
    warm(&s, &["/sample.li/q.jpg?w=40", "/sample.li/other.jpg?w=40"]).await;
    let r = s
        .invalidate(KEY_T, r#"{"scope":"original","urls":["/sample.li/q.jpg"]}"#)
        .await;
    assert_eq!(removed(&r), 2);
    let s = s.restart().await;
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=40").await, "MISS");
    assert_eq!(cache_state(&s, "/sample.li/other.jpg?w=40").await, "HIT");
    assert_eq!(o.hits("/q.jpg"), 2);
}

#[tokio::test]
async fn command_line_invalidation_works_beside_the_server() {
    let (_o, s) = server().await;
    warm(&s, &["/sample.li/q.jpg?w=40", "/sample.li/other.jpg?w=40"]).await;
    // The hit is now served from memory: the other process's purge must still reach it.
    let before = s.metric("imgd_cache_memory_hits_total").await;
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=40").await, "HIT");
    assert_eq!(s.metric("imgd_cache_memory_hits_total").await, before + 1);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("imgd.toml");
    std::fs::write(&file, &s.config).unwrap();
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_imgd"))
        .args(["invalidate", "--config"])
        .arg(&file)
        .args(["--token", "t", "--scope", "original", "/v7/sample.li/q.jpg"])
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("\"removed\":2"));
    assert_eq!(cache_state(&s, "/sample.li/q.jpg?w=40").await, "MISS");
    assert_eq!(cache_state(&s, "/sample.li/other.jpg?w=40").await, "HIT");
}
