//! The cache on a temporary directory: storage, lookups, every purge scope, eviction,
//! generations and the crash sweep.

use imgd_cache::*;

fn cache(max: u64) -> (tempfile::TempDir, Cache) {
    let dir = tempfile::tempdir().unwrap();
    let c = Cache::open(dir.path(), max).unwrap();
    (dir, c)
}

fn o<'a>(token: &'a str, url: &'a str) -> OriginalRef<'a> {
    OriginalRef { token, url }
}

fn v<'a>(token: &'a str, url: &'a str, spec: &'a str, class: &'a str) -> VariantRef<'a> {
    VariantRef {
        original: o(token, url),
        spec,
        class,
    }
}

fn put(c: &Cache, token: &str, url: &str, spec: &str, class: &str) {
    c.put_variant(
        v(token, url, spec, class),
        "jpeg",
        "\"e\"",
        spec.as_bytes(),
        None,
    )
    .unwrap();
}

fn has(c: &Cache, token: &str, url: &str, spec: &str, class: &str) -> bool {
    c.variant(v(token, url, spec, class)).unwrap().is_some()
}

#[test]
fn originals_and_variants_round_trip() {
    let (_d, c) = cache(1 << 30);
    assert!(c
        .original(o("t", "https://a.test/x.jpg"))
        .unwrap()
        .is_none());
    c.put_original(
        o("t", "https://a.test/x.jpg"),
        b"ORIGINAL",
        Validators {
            etag: Some("\"v1\"".into()),
            last_modified: None,
        },
    )
    .unwrap();
    let got = c.original(o("t", "https://a.test/x.jpg")).unwrap().unwrap();
    assert_eq!(got.bytes, b"ORIGINAL");
    assert_eq!(got.etag.as_deref(), Some("\"v1\""));
    assert!(
        c.original(o("other", "https://a.test/x.jpg"))
            .unwrap()
            .is_none(),
        "tokens are separate"
    );

    c.put_variant(
        v("t", "https://a.test/x.jpg", "w=1", "jpeg"),
        "jpeg",
        "\"tag\"",
        b"VAR",
        Some(5),
    )
    .unwrap();
    let hit = c
        .variant(v("t", "https://a.test/x.jpg", "w=1", "jpeg"))
        .unwrap()
        .unwrap();
    assert_eq!(&hit.bytes[..], b"VAR");
    assert_eq!(hit.format, "jpeg");
    assert_eq!(hit.etag, "\"tag\"");
    assert!(
        !has(&c, "t", "https://a.test/x.jpg", "w=1", "webp"),
        "classes are separate"
    );
    assert_eq!(c.size().unwrap(), 8 + 3);
    let a = c.audit().unwrap();
    assert_eq!(
        (
            a.variants,
            a.originals,
            a.stored_originals,
            a.missing_files,
            a.files
        ),
        (1, 1, 1, 0, 2)
    );
}

#[test]
fn replacing_an_entry_keeps_one_file() {
    let (_d, c) = cache(1 << 30);
    put(&c, "t", "u", "w=1", "jpeg");
    put(&c, "t", "u", "w=1", "jpeg");
    c.put_original(o("t", "u"), b"a", Validators::default())
        .unwrap();
    c.put_original(o("t", "u"), b"bb", Validators::default())
        .unwrap();
    let a = c.audit().unwrap();
    assert_eq!((a.variants, a.files, a.missing_files), (1, 2, 0));
    assert_eq!(c.size().unwrap(), 3 + 2);
}

#[test]
fn purge_exact_variants_in_every_class() {
    let (_d, c) = cache(1 << 30);
    for class in ["jpeg", "auto-webp"] {
        put(&c, "t", "u", "w=1", class);
        put(&c, "t", "u", "w=2", class);
    }
    let p = c
        .purge_variants("t", &[("u".into(), "w=1".into())])
        .unwrap();
    assert_eq!(p.removed, 2);
    c.unlink(&p.files);
    assert!(!has(&c, "t", "u", "w=1", "jpeg") && !has(&c, "t", "u", "w=1", "auto-webp"));
    assert!(has(&c, "t", "u", "w=2", "jpeg"));
    assert_eq!(c.audit().unwrap().files, 2);
}

#[test]
fn purge_originals_exact_prefix_and_filtered() {
    let (_d, c) = cache(1 << 30);
    for url in [
        "https://s.test/avatars/a.jpg",
        "https://s.test/avatars/b.jpg",
        "https://s.test/other.jpg",
    ] {
        c.put_original(o("t", url), b"x", Validators::default())
            .unwrap();
        put(&c, "t", url, "w=200", "jpeg");
        put(&c, "t", url, "force_format=jpeg&w=300", "jpeg");
        put(&c, "t", url, "w=400", "jpeg");
    }
    put(&c, "u", "https://s.test/avatars/a.jpg", "w=200", "jpeg");

    // Filter: only variants with w=200, or with force_format=jpeg.
    let filters = vec![
        vec![("w".to_string(), "200".to_string())],
        vec![("force_format".to_string(), "jpeg".to_string())],
    ];
    let p = c
        .purge_originals(
            "t",
            &[OriginalPattern::Exact("https://s.test/other.jpg".into())],
            Some(&filters),
        )
        .unwrap();
    assert_eq!(p.removed, 2);
    assert!(has(&c, "t", "https://s.test/other.jpg", "w=400", "jpeg"));
    assert!(c
        .original(o("t", "https://s.test/other.jpg"))
        .unwrap()
        .is_some());

    let p = c
        .purge_originals(
            "t",
            &[OriginalPattern::Prefix("https://s.test/avatars/".into())],
            None,
        )
        .unwrap();
    assert_eq!(p.removed, 2 * 4, "two originals with three variants each");
    c.unlink(&p.files);
    assert!(!has(
        &c,
        "t",
        "https://s.test/avatars/b.jpg",
        "w=400",
        "jpeg"
    ));
    assert!(c
        .original(o("t", "https://s.test/avatars/a.jpg"))
        .unwrap()
        .is_none());
    assert!(
        has(&c, "u", "https://s.test/avatars/a.jpg", "w=200", "jpeg"),
        "other token untouched"
    );
    assert!(has(&c, "t", "https://s.test/other.jpg", "w=400", "jpeg"));
    assert_eq!(c.audit().unwrap().missing_files, 0);
}

#[test]
fn purge_all_is_per_token_and_collected_later() {
    let (_d, c) = cache(1 << 30);
    for i in 0..5 {
        put(&c, "t", &format!("u{i}"), "w=1", "jpeg");
    }
    put(&c, "keep", "u0", "w=1", "jpeg");
    assert_eq!(
        c.purge_all("t").unwrap(),
        10,
        "5 variants + 5 original records"
    );
    assert!(!has(&c, "t", "u0", "w=1", "jpeg"));
    assert!(has(&c, "keep", "u0", "w=1", "jpeg"));
    // New entries after the purge are live.
    put(&c, "t", "u0", "w=1", "jpeg");
    assert!(has(&c, "t", "u0", "w=1", "jpeg"));
    let files = c.collect_stale("t").unwrap();
    c.unlink(&files);
    let a = c.audit().unwrap();
    assert_eq!((a.variants, a.missing_files), (2, 0));
    assert_eq!(a.files, 2);
    assert!(has(&c, "t", "u0", "w=1", "jpeg"));
    assert_eq!(c.purge_all("t").unwrap(), 2);
}

#[test]
fn eviction_drops_least_recently_used() {
    let (_d, c) = cache(1000);
    for i in 0..30 {
        c.put_variant(
            v("t", "u", &format!("w={i}"), "jpeg"),
            "jpeg",
            "e",
            &[0u8; 100],
            None,
        )
        .unwrap();
    }
    let size = c.size().unwrap();
    assert!(size <= 1000, "{size}");
    assert!(has(&c, "t", "u", "w=29", "jpeg"), "newest kept");
    assert!(!has(&c, "t", "u", "w=0", "jpeg"), "oldest evicted");
    let a = c.audit().unwrap();
    assert_eq!(a.missing_files, 0);
    assert_eq!(a.files, a.variants);
}

#[test]
fn sweep_removes_unindexed_files() {
    let (d, c) = cache(1 << 30);
    put(&c, "t", "u", "w=1", "jpeg");
    std::fs::write(d.path().join("tmp/partial"), b"half").unwrap();
    std::fs::create_dir_all(d.path().join("objects/ab")).unwrap();
    std::fs::write(d.path().join("objects/ab/orphan"), b"x").unwrap();
    assert_eq!(c.sweep().unwrap(), 2);
    assert!(has(&c, "t", "u", "w=1", "jpeg"));
    assert_eq!(c.audit().unwrap().files, 1);
}

#[test]
fn two_handles_share_one_cache() {
    let (d, c) = cache(1 << 30);
    put(&c, "t", "u", "w=1", "jpeg");
    let other = Cache::open(d.path(), 1 << 30).unwrap();
    assert!(has(&other, "t", "u", "w=1", "jpeg"));
    other
        .purge_originals("t", &[OriginalPattern::Exact("u".into())], None)
        .unwrap();
    assert!(
        !has(&c, "t", "u", "w=1", "jpeg"),
        "a purge from another handle is seen at once"
    );
}

#[test]
fn hot_bodies_never_outlive_their_index_entry() {
    let (d, c) = cache(1 << 30);
    let c = c.with_hot_tier(HotBudget {
        bytes: 1 << 20,
        max_item: 1 << 10,
    });
    put(&c, "t", "u", "w=1", "jpeg");
    assert!(
        matches!(
            c.lookup(v("t", "u", "w=1", "jpeg")).unwrap(),
            Lookup::OnDisk(_)
        ),
        "cold at first"
    );
    assert!(has(&c, "t", "u", "w=1", "jpeg"));
    assert_eq!(c.hot_bytes(), 3);
    let Lookup::Hit(hit) = c.lookup(v("t", "u", "w=1", "jpeg")).unwrap() else {
        panic!("the body read once is served from memory");
    };
    assert_eq!(&hit.bytes[..], b"w=1");

    // Another process purges: the hot body must not be served.
    let other = Cache::open(d.path(), 1 << 30).unwrap();
    other
        .purge_originals("t", &[OriginalPattern::Exact("u".into())], None)
        .unwrap();
    assert!(matches!(
        c.lookup(v("t", "u", "w=1", "jpeg")).unwrap(),
        Lookup::Miss
    ));
    // ... and makes the variant again with other bytes: the new file is read, not the old body.
    other
        .put_variant(v("t", "u", "w=1", "jpeg"), "jpeg", "\"n\"", b"NEW", None)
        .unwrap();
    let hit = c.variant(v("t", "u", "w=1", "jpeg")).unwrap().unwrap();
    assert_eq!(&hit.bytes[..], b"NEW");
    // `all` (a generation bump) is seen too.
    other.purge_all("t").unwrap();
    assert!(!has(&c, "t", "u", "w=1", "jpeg"));
}

#[test]
fn eviction_skips_rows_left_by_purges() {
    let (_d, c) = cache(1000);
    for i in 0..8 {
        c.put_variant(
            v("t", "u", &format!("w={i}"), "jpeg"),
            "jpeg",
            "e",
            &[0u8; 100],
            None,
        )
        .unwrap();
    }
    let p = c
        .purge_variants(
            "t",
            &[("u".into(), "w=0".into()), ("u".into(), "w=1".into())],
        )
        .unwrap();
    assert_eq!(p.removed, 2);
    c.unlink(&p.files);
    assert_eq!(c.size().unwrap(), 600);
    for i in 8..12 {
        c.put_variant(
            v("t", "u", &format!("w={i}"), "jpeg"),
            "jpeg",
            "e",
            &[0u8; 100],
            None,
        )
        .unwrap();
    }
    // 10 live entries of 100 bytes fit in 1000: the purged rows must not have pushed out
    // live ones.
    assert_eq!(c.size().unwrap(), 1000);
    for i in 2..12 {
        assert!(has(&c, "t", "u", &format!("w={i}"), "jpeg"), "w={i}");
    }
    let a = c.audit().unwrap();
    assert_eq!((a.variants, a.files, a.missing_files), (10, 10, 0));
}
