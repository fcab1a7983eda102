//! Origin fetching: address policy, whitelist, redirects, timeouts, size limits, truncation.

use std::time::Instant;

use crate::util::*;

#[tokio::test]
async fn loopback_is_refused_by_default() {
    let origin = Origin::start().await;
    origin.route(
        "/q.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(40, 20))),
    );
    let cfg = config(&origin, "").replace("allow_loopback = true", "allow_loopback = false");
    let s = Server::start(&cfg).await;
    for target in [
        format!("/http://{}/q.jpg", origin.addr),
        format!("/http://[::ffff:127.0.0.1]:{}/q.jpg", origin.addr.port()),
        // A name whose only address is loopback.
        "/sample.li/q.jpg".to_string(),
        format!("/http://localhost:{}/q.jpg", origin.addr.port()),
    ] {
        let r = s.get(&target).await;
        assert_eq!(r.status, 403, "{target}");
        assert_eq!(
            r.header("x-imgd-error"),
            Some("origin-address-forbidden"),
            "{target}"
        );
    }
    assert_eq!(origin.connections(), 0, "no connection reached the origin");
}

#[tokio::test]
async fn whitelist_compares_hosts_on_every_hop() {
    let origin = Origin::start().await;
    origin.route(
        "/q.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(40, 20))),
    );
    origin.route("/hop.jpg", Reply::Redirect("http://evil.test/q.jpg".into()));
    let s = Server::start(&config(&origin, "whitelist = [\"sample.li\"]")).await;
    assert_eq!(s.get("/sample.li/q.jpg").await.status, 200);
    let r = s.get("/other.test/q.jpg").await;
    assert_eq!(r.status, 403);
    assert_eq!(r.header("x-imgd-error"), Some("origin-not-whitelisted"));
    let before = origin.seen().len();
    let r = s.get("/sample.li/hop.jpg").await;
    assert_eq!(r.status, 403, "a redirect off the whitelist is refused");
    assert_eq!(
        origin.seen().len(),
        before + 1,
        "only the first hop was fetched"
    );
}

#[tokio::test]
async fn redirects_are_followed_up_to_the_limit() {
    let origin = Origin::start().await;
    origin.route(
        "/q.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(40, 20))),
    );
    origin.route("/r1.jpg", Reply::Redirect("/q.jpg".into()));
    origin.route("/loop.jpg", Reply::Redirect("/loop.jpg".into()));
    let s = Server::start(&config(&origin, "")).await;
    assert_eq!(s.get("/sample.li/r1.jpg?w=20").await.size(), (20, 10));
    let r = s.get("/sample.li/loop.jpg").await;
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-imgd-error"), Some("too-many-redirects"));
    assert_eq!(origin.hits("/loop.jpg"), 6, "first request + 5 redirects");
}

#[tokio::test]
async fn slow_truncated_and_large_origins() {
    let origin = Origin::start().await;
    let body = jpeg(&quadrants(40, 20));
    origin.route("/stall.jpg", Reply::Stall);
    origin.route("/drip.jpg", Reply::Drip { declared: 1000 });
    origin.route(
        "/cut.jpg",
        Reply::Truncated {
            declared: 100_000,
            body: body[..10].to_vec(),
        },
    );
    origin.route(
        "/huge.jpg",
        Reply::Truncated {
            declared: 10_000_000,
            body: Vec::new(),
        },
    );
    origin.route("/q.jpg", Reply::Body("image/jpeg", body));
    // Over 1 MiB: read into its own memory mapping rather than a growing buffer.
    let mut seed = 7u32;
    let noisy = image::RgbaImage::from_fn(700, 500, |x, _| {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let v = (seed >> 16) as u8;
        image::Rgba([v, v ^ 0x55, (x % 256) as u8, 255])
    });
    let big = png(&noisy);
    assert!(
        big.len() > 1 << 20 && big.len() < 3_000_000,
        "{}",
        big.len()
    );
    origin.route(
        "/bigcut.png",
        Reply::Truncated {
            declared: big.len(),
            body: big[..big.len() - 1000].to_vec(),
        },
    );
    origin.route("/big.png", Reply::Body("image/png", big));
    let s = Server::start(&config(&origin, "")).await;

    let t = Instant::now();
    let r = s.get("/sample.li/stall.jpg").await;
    assert_eq!(r.status, 504);
    assert_eq!(r.header("x-imgd-error"), Some("origin-timeout"));
    assert!(t.elapsed().as_secs_f64() < 4.0, "bounded by timeout_ms");

    let t = Instant::now();
    let r = s.get("/sample.li/drip.jpg").await;
    assert_eq!(
        r.status, 504,
        "a dripping origin is cut off by the fetch deadline"
    );
    assert_eq!(r.header("x-imgd-error"), Some("origin-timeout"));
    assert!(
        t.elapsed().as_secs_f64() < 4.0,
        "a 1000-byte drip would take 200 s"
    );

    let r = s.get("/sample.li/cut.jpg").await;
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-imgd-error"), Some("origin-truncated"));

    let r = s.get("/sample.li/huge.jpg").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.header("x-imgd-error"), Some("source-too-large"));

    let r = s.get("/sample.li/bigcut.png?w=70").await;
    assert_eq!(r.status, 502);
    assert_eq!(r.header("x-imgd-error"), Some("origin-truncated"));
    assert_eq!(s.get("/sample.li/big.png?w=70").await.size(), (70, 50));

    // The server is still fine afterwards, and nothing partial was cached.
    assert_eq!(s.get("/sample.li/q.jpg?w=20").await.size(), (20, 10));
    let cache = imgd_cache::Cache::open(s.cache_dir.path(), u64::MAX).unwrap();
    let audit = cache.audit().unwrap();
    assert_eq!(
        (audit.stored_originals, audit.variants),
        (2, 2),
        "{audit:?}"
    );
}

#[tokio::test]
async fn oversized_sources_are_refused_from_the_header() {
    let origin = Origin::start().await;
    origin.route(
        "/big.png",
        Reply::Body("image/png", png(&quadrants(400, 300))),
    );
    let s = Server::start(&config(&origin, "").replace(
        "[tokens.t]",
        "[limits]\nmax_source_pixels = 100000\n[tokens.t]",
    ))
    .await;
    let r = s.get("/sample.li/big.png?w=10").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.header("x-imgd-error"), Some("source-too-large"));
}

#[tokio::test]
async fn redirects_to_private_addresses_are_refused() {
    let origin = Origin::start().await;
    origin.route(
        "/hop.jpg",
        Reply::Redirect("http://10.255.255.1/x.jpg".into()),
    );
    origin.route(
        "/hop6.jpg",
        Reply::Redirect("http://[::ffff:192.168.0.1]/x.jpg".into()),
    );
    origin.route(
        "/meta.jpg",
        Reply::Redirect("http://169.254.169.254/latest/meta-data".into()),
    );
    // Loopback is allowed here (the test origin is on it), private addresses are not.
    let s = Server::start(&config(&origin, "")).await;
    for path in ["/hop.jpg", "/hop6.jpg", "/meta.jpg"] {
        let r = s.get(&format!("/sample.li{path}")).await;
        assert_eq!(r.status, 403, "{path}");
        assert_eq!(
            r.header("x-imgd-error"),
            Some("origin-address-forbidden"),
            "{path}"
        );
    }
}

/// Pillow's `decompression_bomb.gif` shape: a 32×32 screen whose frame claims 65535×10751.
#[tokio::test]
async fn gif_frame_bombs_are_refused() {
    let mut gif = b"GIF89a".to_vec();
    gif.extend_from_slice(&[32, 0, 32, 0, 0, 0, 0]);
    gif.extend_from_slice(&[0x2c, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0x29, 0x80]);
    gif.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    gif.extend_from_slice(&[2, 2, 0x4c, 0x01, 0, 0x3b]);
    let (_o, s) = setup("/bomb.gif", gif, "image/gif").await;
    let r = s.get("/sample.li/bomb.gif?w=10").await;
    assert_eq!(r.status, 422, "{:?}", r.header("x-imgd-error"));
    let code = r.header("x-imgd-error").unwrap();
    assert!(
        [
            "source-too-large",
            "animation-too-large",
            "decode-memory-limit",
            "undecodable-image"
        ]
        .contains(&code),
        "{code}"
    );
}

#[tokio::test]
async fn animation_limits_apply_before_decoding() {
    let mut gif = Vec::new();
    {
        let mut enc = image::codecs::gif::GifEncoder::new(&mut gif);
        for i in 0..3u8 {
            let img = image::RgbaImage::from_pixel(40, 20, image::Rgba([i * 80, 0, 0, 255]));
            enc.encode_frame(image::Frame::new(img)).unwrap();
        }
    }
    let origin = Origin::start().await;
    origin.route("/anim.gif", Reply::Body("image/gif", gif));
    let limits = |extra: &str| {
        config(&origin, "").replace("[tokens.t]", &format!("[limits]\n{extra}\n[tokens.t]"))
    };
    let s = Server::start(&limits("max_frames = 2")).await;
    let r = s.get("/sample.li/anim.gif?w=20").await;
    assert_eq!(r.status, 422);
    assert_eq!(r.header("x-imgd-error"), Some("too-many-frames"));
    let s = Server::start(&limits("max_animation_pixels = 2000")).await;
    let r = s.get("/sample.li/anim.gif?w=20").await;
    assert_eq!(r.header("x-imgd-error"), Some("animation-too-large"));
    // Within the limits, the first frame is served.
    let s = Server::start(&limits("max_frames = 3")).await;
    let img = s.get("/sample.li/anim.gif?w=20").await.image();
    assert_eq!((img.width(), img.height()), (20, 10));
    assert_px(&img, 5, 5, [0, 0, 0, 255]);
}
