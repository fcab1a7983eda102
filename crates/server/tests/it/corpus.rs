//! Corpus replay: every file of the hostile-image corpora (fetched by `tests/corpus/fetch.sh`,
//! never committed) is requested through imgd with a resize. Every answer must be 200 with a
//! decodable image or a typed 4xx; no panic, no hang, bounded memory. Runs when
//! `IMGD_CORPUS_DIR` names the fetched corpus (`.ci/run` sets it); prints the counts.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

use crate::util::*;

const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

fn files(root: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let p = e.path();
            let hidden = e.file_name().to_string_lossy().starts_with('.');
            if hidden {
                continue;
            }
            if p.is_dir() {
                stack.push(p);
            } else if p.is_file() {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn corpus_replay() {
    let Some(root) = std::env::var_os("IMGD_CORPUS_DIR").map(PathBuf::from) else {
        eprintln!("corpus replay skipped: run tests/corpus/fetch.sh and set IMGD_CORPUS_DIR");
        return;
    };
    let root = root.canonicalize().unwrap();
    let list = files(&root);
    assert!(
        list.len() >= 500,
        "corpus at {} has only {} files",
        root.display(),
        list.len()
    );
    let origin = Origin::start().await;
    let cfg = config(&origin, "").replace(
        "[tokens.t]",
        &format!(
            "[limits]\nmax_source_pixels = 50000000\nmax_decode_bytes = 268435456\n\
             [tokens.c]\nurl_version = \"none\"\naliases = {{ \"_c_\" = \"{}\" }}\n[tokens.t]",
            root.display()
        ),
    ) + "\n[cache]\nenabled = false\n";
    let s = Server::start(&cfg).await;
    let host = [("Host", "c.img.test")];

    let mut ok = 0;
    let mut typed: BTreeMap<String, usize> = BTreeMap::new();
    let mut failures = Vec::new();
    for file in &list {
        let rel = file.strip_prefix(&root).unwrap();
        let encoded: Vec<String> = rel
            .iter()
            .map(|seg| utf8_percent_encode(&seg.to_string_lossy(), SEGMENT).to_string())
            .collect();
        let target = format!("/_c_/{}?w=100", encoded.join("/"));
        let r =
            match tokio::time::timeout(Duration::from_secs(30), s.request("GET", &target, &host))
                .await
            {
                Ok(r) => r,
                Err(_) => {
                    failures.push(format!("HANG {}", rel.display()));
                    continue;
                }
            };
        match (r.status, r.header("x-imgd-error")) {
            (200, _) => match image::load_from_memory(&r.body) {
                Ok(img) if img.width() >= 1 && img.width() <= 100 => ok += 1,
                Ok(img) => failures.push(format!("{}: width {}", rel.display(), img.width())),
                Err(e) => {
                    failures.push(format!("{}: 200 with undecodable body: {e}", rel.display()))
                }
            },
            (_, Some("decoder-panic")) => failures.push(format!("PANIC {}", rel.display())),
            (400..=499, Some(code)) => *typed.entry(code.to_string()).or_default() += 1,
            (status, code) => failures.push(format!("{}: {status} {code:?}", rel.display())),
        }
    }
    let rss_mib = peak_rss_kib() / 1024;
    println!(
        "corpus replay: {} files, {ok} OK, {} typed 4xx {typed:?}, {} failures, peak RSS {rss_mib} MiB",
        list.len(),
        typed.values().sum::<usize>(),
        failures.len()
    );
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        ok > list.len() / 4,
        "most of the corpus is decodable images"
    );
    assert!(rss_mib < 2048, "peak RSS {rss_mib} MiB");
}
