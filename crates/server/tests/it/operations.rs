//! Every geometry operation of the URL API, checked on decoded pixels. The source is a PNG of
//! four coloured quadrants (red TL, green TR, blue BL, yellow BR), so each operation's effect
//! on position is visible.

use crate::util::*;

/// Serves the 200×100 quadrant image at `/q.png` and a 100×200 one at `/tall.png`.
async fn server() -> (Origin, Server) {
    let (origin, server) = setup("/q.png", png(&quadrants(200, 100)), "image/png").await;
    origin.route(
        "/tall.png",
        Reply::Body("image/png", png(&quadrants(100, 200))),
    );
    (origin, server)
}

async fn img(server: &Server, query: &str) -> image::DynamicImage {
    server
        .get(&format!("/sample.li/q.png?{query}"))
        .await
        .image()
}

#[tokio::test]
async fn sizes() {
    let (_o, s) = server().await;
    for (q, want) in [
        ("w=100", (100, 50)),
        ("width=100", (100, 50)),
        ("h=25", (50, 25)),
        ("w=50&h=50", (50, 50)),
        ("w=400", (400, 200)),
        ("w=400&org_if_sml=1", (200, 100)),
        ("w=50&dpr=2", (100, 50)),
        ("w=50&h=50&func=bound", (50, 25)),
        ("w=50&h=50&func=boundmin", (100, 50)),
        ("w=60&h=60&func=cover", (60, 60)),
        ("w=100&h=100&func=fit", (100, 100)),
        ("w=150&h=80&func=cropfit", (150, 80)),
        ("ar=1", (100, 100)),
        ("ar=4&w=200", (200, 50)),
        ("ar=16:9&h=90", (160, 90)),
        ("ar=1&w=80&h=40", (80, 40)),
        ("ar=1,1.5", (150, 100)),
        ("ar=1,3", (200, 100)),
        ("tl_px=100,0&br_px=200,50", (100, 50)),
        ("tl_px=100,50", (100, 50)),
        ("r=90", (100, 200)),
        ("", (200, 100)),
    ] {
        let r = s.get(&format!("/sample.li/q.png?{q}")).await;
        assert_eq!(r.size(), want, "{q}");
    }
}

#[tokio::test]
async fn crop_gravity_keeps_the_named_side() {
    let (_o, s) = server().await;
    // Default crop is centred: half red/blue on the left, green/yellow on the right.
    let c = img(&s, "w=50&h=50").await;
    assert_px(&c, 5, 5, RED);
    assert_px(&c, 45, 5, GREEN);
    assert_px(&c, 5, 45, BLUE);
    let west = img(&s, "w=50&h=50&gravity=west").await;
    assert_px(&west, 45, 5, RED);
    assert_px(&west, 45, 45, BLUE);
    let east = img(&s, "w=50&h=50&func=crop&gravity=east").await;
    assert_px(&east, 5, 5, GREEN);
    assert_px(&east, 5, 45, YELLOW);
    let north = s
        .get("/sample.li/tall.png?w=50&h=50&gravity=north")
        .await
        .image();
    assert_px(&north, 5, 45, RED);
    assert_px(&north, 45, 45, GREEN);
    let south = s
        .get("/sample.li/tall.png?w=50&h=50&gravity=south")
        .await
        .image();
    assert_px(&south, 5, 5, BLUE);
    let ne = s
        .get("/sample.li/tall.png?w=50&h=20&gravity=northeast")
        .await
        .image();
    assert_px(&ne, 45, 10, GREEN);
}

#[tokio::test]
async fn focal_points_and_positionable_crop() {
    let (_o, s) = server().await;
    // Window 100×100 centred on x=180 is clamped to the right half.
    let f = img(&s, "w=50&h=50&gravity=180,50").await;
    assert_px(&f, 5, 5, GREEN);
    assert_px(&f, 45, 45, YELLOW);
    let f = img(&s, "w=50&h=50&gravity=10p,50p").await;
    assert_px(&f, 45, 5, RED);
    // tl_px/br_px pick the green quadrant alone.
    let g = img(&s, "tl_px=100,0&br_px=200,50&w=20").await;
    assert_eq!((g.width(), g.height()), (20, 10));
    for (x, y) in [(0, 0), (19, 9), (10, 5)] {
        assert_px(&g, x, y, GREEN);
    }
    // One corner alone crops to the opposite corner: bottom-right quadrant.
    let y = img(&s, "tl_px=100,50").await;
    assert_px(&y, 0, 0, YELLOW);
}

#[tokio::test]
async fn fit_pads_with_bg_color_and_respects_enlarge() {
    let (_o, s) = server().await;
    let f = img(&s, "w=100&h=100&func=fit&bg_color=ff00ff").await;
    assert_eq!((f.width(), f.height()), (100, 100));
    assert_px(&f, 50, 5, [255, 0, 255, 255]);
    assert_px(&f, 50, 95, [255, 0, 255, 255]);
    assert_px(&f, 5, 30, RED);
    assert_px(&f, 95, 70, YELLOW);
    // Not enlarged: the 200×100 image sits centred on 400×400.
    let f = img(&s, "w=400&h=400&func=fit&bg_colour=00f").await;
    assert_px(&f, 50, 200, BLUE);
    assert_px(&f, 105, 155, RED);
    assert_px(&f, 295, 245, YELLOW);
    // fit_enlarge: 400×200 at y=100.
    let f = img(&s, "w=400&h=400&func=fit&fit_enlarge=1&bg_color=black").await;
    assert_px(&f, 200, 50, [0, 0, 0, 255]);
    assert_px(&f, 10, 110, RED);
    assert_px(&f, 390, 290, YELLOW);
    // gravity places the image on the canvas.
    let f = img(&s, "w=200&h=200&func=fit&gravity=north&bg_color=white").await;
    assert_px(&f, 10, 10, RED);
    assert_px(&f, 100, 150, [255, 255, 255, 255]);
}

#[tokio::test]
async fn cover_distorts_and_cropfit_chooses() {
    let (_o, s) = server().await;
    let c = img(&s, "w=60&h=60&func=cover").await;
    assert_px(&c, 5, 5, RED);
    assert_px(&c, 55, 55, YELLOW);
    // 200×100 covers 150×80: crop (no padding anywhere).
    let c = img(&s, "w=150&h=80&func=cropfit&bg_color=ff00ff").await;
    assert_px(&c, 2, 2, RED);
    // 200×100 does not cover 300×300: fit, padded.
    let c = img(&s, "w=300&h=300&func=cropfit&bg_color=ff00ff").await;
    assert_px(&c, 150, 10, [255, 0, 255, 255]);
}

#[tokio::test]
async fn flip_and_rotation_directions() {
    let (_o, s) = server().await;
    let h = img(&s, "flip=h").await;
    assert_px(&h, 5, 5, GREEN);
    assert_px(&h, 195, 5, RED);
    let v = img(&s, "flip=v").await;
    assert_px(&v, 5, 5, BLUE);
    let hv = img(&s, "flip=hv").await;
    assert_px(&hv, 5, 5, YELLOW);
    // Counter-clockwise: the top-right (green) corner comes to the top-left.
    let r = img(&s, "r=90").await;
    assert_eq!((r.width(), r.height()), (100, 200));
    assert_px(&r, 5, 5, GREEN);
    assert_px(&r, 5, 195, RED);
    assert_px(&r, 95, 195, BLUE);
    let r = img(&s, "r=270").await;
    assert_px(&r, 5, 5, BLUE);
    let r = img(&s, "r=180").await;
    assert_px(&r, 5, 5, YELLOW);
    // Any angle: the canvas grows and bg_color fills the corners.
    let r = img(&s, "r=30&bg_color=ff00ff").await;
    assert!(
        r.width() > 200 && r.height() > 100,
        "{}x{}",
        r.width(),
        r.height()
    );
    assert_px(&r, 0, 0, [255, 0, 255, 255]);
    assert_px(&r, r.width() - 1, r.height() - 1, [255, 0, 255, 255]);
}

#[tokio::test]
async fn presets_and_rules() {
    let (o, s) = server().await;
    // The preset wins over the URL's w=400.
    let p = s.get("/sample.li/q.png?w=400&p=thumb").await;
    assert_eq!(p.size(), (50, 50));
    let r = s.get("/sample.li/q.png?p=nope").await;
    assert_eq!(r.status, 400);
    assert_eq!(r.header("x-imgd-error"), Some("unknown-preset"));
    // The rule gives w=40; the URL overrides it.
    o.route(
        "/ruled/q.png",
        Reply::Body("image/png", png(&quadrants(200, 100))),
    );
    assert_eq!(s.get("/sample.li/ruled/q.png").await.size(), (40, 20));
    assert_eq!(s.get("/sample.li/ruled/q.png?w=60").await.size(), (60, 30));
}

#[tokio::test]
async fn quality_changes_size() {
    let (o, s) = server().await;
    let photo = image::RgbaImage::from_fn(256, 256, |x, y| {
        image::Rgba([(x ^ y) as u8, (x * 3 % 256) as u8, (y * 7 % 256) as u8, 255])
    });
    o.route("/photo.jpg", Reply::Body("image/jpeg", jpeg(&photo)));
    let low = s.get("/sample.li/photo.jpg?q=10").await;
    let high = s.get("/sample.li/photo.jpg?q=95").await;
    assert_eq!(low.size(), (256, 256));
    assert!(
        low.body.len() * 2 < high.body.len(),
        "{} vs {}",
        low.body.len(),
        high.body.len()
    );
}
