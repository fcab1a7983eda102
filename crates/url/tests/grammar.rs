//! URL grammar tables: request target ⇒ origin and spec, including the quirky forms real
//! Cloudimage clients send (API reference §9), and the canonical-form round trip.

use imgd_url::*;
use proptest::prelude::*;

fn rules() -> TokenRules {
    let mut r = TokenRules {
        url_version: UrlVersion::Optional,
        default_scheme: Some(Scheme::Https),
        ..TokenRules::default()
    };
    r.aliases.insert(
        "_sample_".into(),
        AliasTarget::Remote(RemoteUrl::parse("http://sample.li/base").unwrap()),
    );
    r.aliases
        .insert("_local_".into(), AliasTarget::Directory("/srv/img".into()));
    r.presets
        .insert("thumb".into(), "w=200&h=200&func=crop".into());
    r.rules.push(Rule {
        pattern: "*.png".into(),
        params: "force_format=webp&q=60".into(),
    });
    r
}

fn origin(target: &str) -> String {
    parse_request(&rules(), target)
        .unwrap_or_else(|e| panic!("{target}: {e}"))
        .origin
        .canonical()
}

fn spec(target: &str) -> String {
    parse_request(&rules(), target)
        .unwrap_or_else(|e| panic!("{target}: {e}"))
        .spec
        .canonical()
}

#[test]
fn origin_forms() {
    for (target, want) in [
        (
            "/v7/https://sample.li/boat.jpg?w=300",
            "https://sample.li/boat.jpg",
        ),
        ("/https://sample.li/boat.jpg", "https://sample.li/boat.jpg"),
        ("/v7/http://sample.li/flat.jpg", "http://sample.li/flat.jpg"),
        (
            "/v7/https:/sample.li/boat.jpg",
            "https://sample.li/boat.jpg",
        ),
        ("/v7/sample.li/boat.jpg?w=1", "https://sample.li/boat.jpg"),
        (
            "/sample.li:8443/boat.jpg",
            "https://sample.li:8443/boat.jpg",
        ),
        ("/v7/_sample_/birds.jpg", "http://sample.li/base/birds.jpg"),
        ("/_local_/a/b%20c.jpg", "file:_local_/a/b%20c.jpg"),
        (
            "/v7/sample.li/a%20b/%C3%BC.jpg",
            "https://sample.li/a%20b/%C3%BC.jpg",
        ),
        ("/v7/sample.li/ü.jpg", "https://sample.li/%C3%BC.jpg"),
        // The origin's own query: behind a second `?`, or percent-encoded.
        (
            "/sample.li/a.php?id=5?w=300",
            "https://sample.li/a.php?id=5",
        ),
        (
            "/https%3A%2F%2Fsample.li%2Fa.php%3Fid%3D5?ci_url_encoded=1&w=300",
            "https://sample.li/a.php?id=5",
        ),
        (
            "/sample.li%2Fimg%20x.jpg%3Fv%3D2?w=10&ci_url_encoded=1",
            "https://sample.li/img%20x.jpg?v=2",
        ),
        (
            "/https%3A%2F%2Fsample.li%2Fb.jpg?w=3",
            "https://sample.li/b.jpg",
        ),
    ] {
        assert_eq!(origin(target), want, "{target}");
    }
}

#[test]
fn origin_prefix_takes_relative_paths() {
    let mut r = rules();
    r.origin_prefix = Some(RemoteUrl::parse("https://hello.s3.test/root").unwrap());
    let o = |t: &str| parse_request(&r, t).unwrap().origin.canonical();
    assert_eq!(
        o("/photos/paris.jpg?width=800"),
        "https://hello.s3.test/root/photos/paris.jpg"
    );
    assert_eq!(
        o("/v7/photos/paris.jpg"),
        "https://hello.s3.test/root/photos/paris.jpg"
    );
    assert_eq!(o("/https://other.test/x.jpg"), "https://other.test/x.jpg");
    assert_eq!(o("/_sample_/x.jpg"), "http://sample.li/base/x.jpg");
}

#[test]
fn version_prefix_per_token() {
    let mut r = rules();
    r.url_version = UrlVersion::V7;
    assert_eq!(
        parse_request(&r, "/sample.li/boat.jpg"),
        Err(ParseError::MissingVersionPrefix)
    );
    assert!(parse_request(&r, "/v7/sample.li/boat.jpg").is_ok());
    r.url_version = UrlVersion::None;
    assert!(parse_request(&r, "/sample.li/boat.jpg").is_ok());
    assert!(parse_request(&r, "/v7/sample.li/boat.jpg").is_err());
}

#[test]
fn client_quirks_share_one_spec() {
    // JS utils: `?grey=1&&org_if_sml=1`; Python client: `?w=300&` and `?&force_format=webp`.
    let base = spec("/v7/sample.li/boat.jpg?w=300&h=200&func=crop");
    for t in [
        "/v7/sample.li/boat.jpg?h=200&w=300&func=crop",
        "/v7/sample.li/boat.jpg?&width=300&&height=200&func=crop&",
        "/v7/sample.li/boat.jpg?func=crop&height=200&w=300&ci_sign=abc",
        "/v7/sample.li/boat.jpg?w=1&w=300&h=200&func=crop",
    ] {
        assert_eq!(spec(t), base, "{t}");
    }
    assert_eq!(
        spec("/v7/sample.li/boat.jpg?&force_format=webp&q=80"),
        "force_format=webp&q=80"
    );
    assert_eq!(
        spec("/v7/sample.li/boat.jpg?bg_colour=F00&gravity=centre"),
        "bg_color=ff0000&gravity=center"
    );
    assert_eq!(spec("/sample.li/boat.jpg"), "");
}

#[test]
fn unknown_parameters_stay_in_the_key() {
    assert_eq!(
        spec("/sample.li/boat.jpg?vh=f6080d&w=10&wat_text=Hello%20World"),
        "vh=f6080d&w=10&wat_text=Hello%20World"
    );
}

#[test]
fn presets_beat_the_url_and_rules_lose_to_it() {
    // preset w=200 + URL w=400 → 200.
    assert_eq!(
        spec("/sample.li/a.jpg?w=400&p=thumb"),
        "func=crop&h=200&w=200"
    );
    // rule for *.png gives q=60 unless the URL says otherwise.
    assert_eq!(spec("/sample.li/a.png"), "force_format=webp&q=60");
    assert_eq!(spec("/sample.li/a.png?q=90"), "force_format=webp&q=90");
    assert_eq!(
        parse_request(&rules(), "/sample.li/a.jpg?p=nope"),
        Err(ParseError::UnknownPreset("nope".into()))
    );
}

#[test]
fn bad_targets_are_typed_errors() {
    for (target, want) in [
        ("/v7/", ParseError::MissingOrigin),
        ("/", ParseError::MissingOrigin),
        (
            "/v7/_nope_/a.jpg",
            ParseError::UnknownAlias("_nope_".into()),
        ),
        ("/photos/a.jpg", ParseError::NoOriginForPath),
        ("/_local_/../etc/passwd", ParseError::PathTraversal),
        ("/_local_/%2e%2e/etc/passwd", ParseError::PathTraversal),
        ("/_local_/a%2f..%2f..%2fb", ParseError::PathTraversal),
    ] {
        assert_eq!(parse_request(&rules(), target), Err(want), "{target}");
    }
    assert!(matches!(
        parse_request(&rules(), "/https://ok.test@evil.test/x.jpg"),
        Err(ParseError::InvalidOrigin(_))
    ));
    assert!(matches!(
        parse_request(&rules(), "/sample.li/x.jpg?w=abc"),
        Err(ParseError::InvalidValue { param: "w", .. })
    ));
}

/// Found by the url_parse fuzz target: a multi-byte character where a scheme could end.
#[test]
fn regression_multibyte_at_scheme_boundary() {
    for t in [
        "/httpsé/x",
        "/httpé",
        "/éééééé",
        "/http:é",
        "/HTTPS:/é.test/x",
        "\u{FFFD}\u{FFFD}Q\u{FFFD}\u{FFFD}",
    ] {
        let _ = parse_request(&rules(), t);
    }
}

#[test]
fn globs() {
    assert!(glob("*.png", "sample.li/a/b.png"));
    assert!(glob("sample.li/photos/*", "sample.li/photos/x/y.jpg"));
    assert!(glob("a?c", "abc"));
    assert!(!glob("*.png", "a.jpg"));
    assert!(!glob("photos/*", "sample.li/photos/x.jpg"));
}

fn arb_color() -> impl Strategy<Value = Color> {
    (any::<u8>(), any::<u8>(), any::<u8>(), any::<u8>()).prop_map(|(r, g, b, a)| Color {
        r,
        g,
        b,
        a,
    })
}

fn arb_gravity() -> impl Strategy<Value = Gravity> {
    prop_oneof![
        prop::sample::select(vec![
            Gravity::Center,
            Gravity::North,
            Gravity::South,
            Gravity::East,
            Gravity::West,
            Gravity::NorthEast,
            Gravity::NorthWest,
            Gravity::SouthEast,
            Gravity::SouthWest,
            Gravity::Auto,
            Gravity::Smart,
            Gravity::Face,
            Gravity::Trim,
        ]),
        (0u32..10_000, 0u32..10_000).prop_map(|(x, y)| Gravity::FocalPx(Point { x, y })),
        (0u32..=10_000, 0u32..=10_000).prop_map(|(x, y)| Gravity::FocalPercent {
            x: Hundredths(x),
            y: Hundredths(y)
        }),
    ]
}

prop_compose! {
    fn arb_spec()(
        width in prop::option::of(1u32..20_000),
        height in prop::option::of(1u32..20_000),
        func in prop::option::of(prop::sample::select(vec![
            Func::Crop, Func::Fit, Func::CropFit, Func::Bound, Func::BoundMin, Func::Cover, Func::Face,
        ])),
        org_if_sml in any::<bool>(),
        fit_enlarge in any::<bool>(),
        background in prop::option::of(arb_color()),
        gravity in prop::option::of(arb_gravity()),
        top_left in prop::option::of((0u32..9999, 0u32..9999).prop_map(|(x, y)| Point { x, y })),
        bottom_right in prop::option::of((0u32..9999, 0u32..9999).prop_map(|(x, y)| Point { x, y })),
        aspect_ratio in prop::option::of(prop_oneof![
            (1u32..1_000_000).prop_map(AspectRatio::Fixed),
            (1u32..1_000_000, 1u32..1_000_000).prop_map(|(a, b)| AspectRatio::Range(a.min(b), a.max(b))),
        ]),
        dpr in prop::option::of((101u32..=500).prop_map(Hundredths)),
        flip in prop::option::of(prop::sample::select(vec![Flip::Horizontal, Flip::Vertical, Flip::Both])),
        rotate in prop::option::of((1u32..36_000).prop_map(Hundredths)),
        quality in prop::option::of(1u8..=100),
        format in prop::option::of(prop::sample::select(vec![
            OutputFormat::Jpeg, OutputFormat::Png, OutputFormat::Webp, OutputFormat::Gif,
        ])),
        cache_seconds in prop::option::of(any::<u32>()),
        other in prop::collection::btree_map("x[a-z_]{0,8}", "[ -~äü]{0,12}", 0..3),
    ) -> TransformSpec {
        TransformSpec {
            width, height, func, org_if_sml, fit_enlarge, background, gravity, top_left,
            bottom_right, aspect_ratio, dpr, flip, rotate, quality, format, cache_seconds, other,
        }
    }
}

proptest! {
    #[test]
    fn canonical_form_round_trips(spec in arb_spec()) {
        let text = spec.canonical();
        let back = parse_canonical(&text).unwrap();
        prop_assert_eq!(&back, &spec, "canonical {}", text);
        prop_assert_eq!(back.canonical(), text);
    }
}

#[test]
fn signed_urls() {
    let mut r = rules();
    r.sign_salts = vec!["salt".into()];
    r.origin_prefix = Some(RemoteUrl::parse("https://cdn.test").unwrap());
    // Ruby gem vector: /assets/image.jpg?w=200 → 84c81ef20852013046 (with or without /v7/).
    let ok = parse_request(&r, "/v7/assets/image.jpg?w=200&ci_sign=84c81ef20852013046").unwrap();
    assert_eq!(ok.spec.canonical(), "w=200");
    assert!(parse_request(&r, "/assets/image.jpg?ci_sign=84c81ef20852013046&w=200").is_ok());
    assert_eq!(
        parse_request(&r, "/assets/image.jpg?w=300&ci_sign=84c81ef20852013046"),
        Err(ParseError::SignatureInvalid)
    );
    assert_eq!(
        parse_request(&r, "/assets/image.jpg?w=200"),
        Err(ParseError::SignatureMissing)
    );
}

#[test]
fn sealed_parameters_cannot_be_overridden() {
    let mut r = rules();
    r.seal_salts = vec!["salt".into()];
    r.origin_prefix = Some(RemoteUrl::parse("https://cdn.test").unwrap());
    // blur=20&h=300&w=300 sealed (Ruby gem vector); w=100 appended does not win.
    let t =
        "/assets/image.jpg?ci_eqs=Ymx1cj0yMCZoPTMwMCZ3PTMwMA&ci_seal=b7b7a8fde707bed4b4&w=100&q=50";
    let req = parse_request(&r, t).unwrap();
    assert_eq!(req.spec.canonical(), "blur=20&h=300&q=50&w=300");
    // A changed seal or payload, or none at all, is refused.
    for bad in [
        "/assets/image.jpg?ci_eqs=Ymx1cj0yMCZoPTMwMA&ci_seal=b7b7a8fde707bed4b4",
        "/assets/image.jpg?ci_eqs=Ymx1cj0yMCZoPTMwMCZ3PTMwMA",
        "/assets/image.jpg?w=100",
        "/assets/other.jpg?ci_eqs=Ymx1cj0yMCZoPTMwMCZ3PTMwMA&ci_seal=b7b7a8fde707bed4b4",
    ] {
        assert_eq!(
            parse_request(&r, bad),
            Err(ParseError::SealInvalid),
            "{bad}"
        );
    }
    // Without a seal salt, ci_eqs still applies (e.g. when invalidating a sealed URL).
    let plain = rules();
    let req = parse_request(&plain, "/sample.li/a.jpg?ci_eqs=Ymx1cj0yMCZoPTMwMA&w=1").unwrap();
    assert_eq!(req.spec.canonical(), "blur=20&h=300&w=1");
}
