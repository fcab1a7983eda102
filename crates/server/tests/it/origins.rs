//! Every documented origin form reaches the right origin URL.

use crate::util::*;

async fn origin_with_image() -> Origin {
    let origin = Origin::start().await;
    let img = png(&quadrants(40, 20));
    for p in [
        "/q.png",
        "/base/q.png",
        "/a%20b/%C3%BC.png",
        "/dir/q.php",
        "/root/photos/q.png",
    ] {
        origin.route(p, Reply::Body("image/png", img.clone()));
    }
    origin
}

/// Each form is answered 200 with the image, and the origin saw the expected target.
#[tokio::test]
async fn all_forms_reach_the_origin() {
    let origin = origin_with_image().await;
    let a = origin.addr;
    // Every row must reach the origin, so no cache.
    let cfg = config(&origin, "").replace("[tokens.t]", "[cache]\nenabled = false\n[tokens.t]");
    let server = Server::start(&cfg).await;
    for (target, want_seen) in [
        ("/v7/http://sample.li/q.png?w=20".to_string(), "/q.png"),
        ("/http://sample.li/q.png?w=20".to_string(), "/q.png"),
        ("/v7/http:/sample.li/q.png?w=20".to_string(), "/q.png"),
        (format!("/http://{a}/q.png?w=20"), "/q.png"),
        ("/sample.li/q.png?w=20".to_string(), "/q.png"),
        ("/v7/sample.li/q.png".to_string(), "/q.png"),
        ("/_o_/q.png?w=20".to_string(), "/base/q.png"),
        ("/v7/_o_/q.png".to_string(), "/base/q.png"),
        (
            "/sample.li/a%20b/%C3%BC.png?w=20".to_string(),
            "/a%20b/%C3%BC.png",
        ),
        (
            "/sample.li/a%20b/ü.png?w=20".to_string(),
            "/a%20b/%C3%BC.png",
        ),
        (
            "/sample.li/dir/q.php?id=7?w=20".to_string(),
            "/dir/q.php?id=7",
        ),
        (
            "/http%3A%2F%2Fsample.li%2Fdir%2Fq.php%3Fid%3D8?ci_url_encoded=1&w=20".to_string(),
            "/dir/q.php?id=8",
        ),
        (
            "/sample.li%2Fdir%2Fq.php%3Fv%3D2?w=20&ci_url_encoded=1".to_string(),
            "/dir/q.php?v=2",
        ),
    ] {
        let before = origin.seen().len();
        let r = server.get(&target).await;
        assert_eq!(
            r.status,
            200,
            "{target}: {:?} {}",
            r.headers,
            String::from_utf8_lossy(&r.body)
        );
        assert_eq!(r.header("content-type"), Some("image/png"), "{target}");
        let seen = origin.seen();
        assert_eq!(seen.len(), before + 1, "{target}: one origin request");
        assert_eq!(seen.last().map(String::as_str), Some(want_seen), "{target}");
    }
}

#[tokio::test]
async fn origin_prefix_and_custom_domain() {
    let origin = origin_with_image().await;
    let extra = "[tokens.pre]\nurl_version = \"none\"\norigin_prefix = \"http://sample.li/root\"\n\
                 custom_domains = [\"images.shop.test\"]\n";
    let server = Server::start(&config(&origin, extra)).await;
    for host in ["pre.img.test", "images.shop.test", "PRE.img.test:8080"] {
        let r = server
            .request("GET", "/photos/q.png?w=10", &[("Host", host)])
            .await;
        assert_eq!(r.size(), (10, 5), "{host}");
        assert_eq!(
            origin.seen().last().map(String::as_str),
            Some("/root/photos/q.png")
        );
    }
    let r = server
        .request("GET", "/photos/q.png", &[("Host", "nope.img.test")])
        .await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-imgd-error"), Some("unknown-token"));
}

#[tokio::test]
async fn version_prefix_required_by_v7_tokens() {
    let origin = origin_with_image().await;
    let extra = "[tokens.old]\nurl_version = \"v7\"\ndefault_scheme = \"http\"\n";
    let server = Server::start(&config(&origin, extra)).await;
    let host = [("Host", "old.img.test")];
    let r = server.request("GET", "/sample.li/q.png", &host).await;
    assert_eq!(r.status, 404);
    assert_eq!(r.header("x-imgd-error"), Some("missing-version-prefix"));
    let r = server.request("GET", "/v7/sample.li/q.png", &host).await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn file_alias_serves_inside_its_directory_only() {
    let origin = Origin::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    std::fs::write(dir.path().join("sub/a b.png"), png(&quadrants(40, 20))).unwrap();
    std::fs::write(dir.path().join("../imgd-secret.png"), png(&quadrants(4, 4))).ok();
    let extra = format!(
        "[tokens.f]\nurl_version = \"none\"\naliases = {{ \"_files_\" = \"{}\" }}\n",
        dir.path().display()
    );
    let server = Server::start_in(&config(&origin, &extra), Some(dir)).await;
    let host = [("Host", "f.img.test")];
    let r = server
        .request("GET", "/_files_/sub/a%20b.png?w=20", &host)
        .await;
    assert_eq!(r.size(), (20, 10));
    for bad in [
        "/_files_/../imgd-secret.png",
        "/_files_/sub/../../imgd-secret.png",
        "/_files_/%2e%2e/imgd-secret.png",
        "/_files_/sub%2f..%2f..%2fimgd-secret.png",
    ] {
        let r = server.request("GET", bad, &host).await;
        assert_eq!(r.status, 400, "{bad}");
        assert_eq!(r.header("x-imgd-error"), Some("path-traversal"), "{bad}");
    }
    let r = server.request("GET", "/_files_/sub/none.png", &host).await;
    assert_eq!(
        r.status, 404,
        "a missing file follows the missing-origin policy"
    );
    assert_eq!(
        origin.connections(),
        0,
        "file aliases never touch the network"
    );
}
