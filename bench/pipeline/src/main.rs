//! `imgd-pipeline-bench`: runs imgd's pipeline in-process on files, the way the server does
//! for workload A/B requests (same spec text, same limits, same negotiation), with N threads
//! for a fixed time, and prints one JSON line: images per second and mean output bytes.
//!
//! Usage: `imgd-pipeline-bench --seconds 10 --threads 2 --widths 400-518 \
//!         --query 'w={W}&h=512&func=bound&q=80' FILE...`
//!
//! With `--out DIR` it also writes the outputs of the first two specs per file to DIR, with a
//! `manifest.json` that `bench/quality.py` scores (PSNR against a full-size reference).
//!
//! Sources are read into memory first, so disk and origin fetches are excluded: what the
//! server adds on top (HTTP, origin fetch, scheduling) is the difference to its own rate.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use imgd_pipeline::{process, Limits, Negotiation};
use imgd_url::parse_canonical;

struct Args {
    seconds: f64,
    threads: usize,
    widths: (u32, u32),
    query: String,
    out: Option<String>,
    files: Vec<String>,
}

fn args() -> Result<Args, String> {
    let mut a = Args {
        seconds: 10.0,
        threads: 2,
        widths: (400, 518),
        query: "w={W}&h=512&func=bound&q=80".into(),
        out: None,
        files: Vec::new(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--seconds" => a.seconds = value("--seconds")?.parse().map_err(|e| format!("{e}"))?,
            "--threads" => a.threads = value("--threads")?.parse().map_err(|e| format!("{e}"))?,
            "--query" => a.query = value("--query")?,
            "--out" => a.out = Some(value("--out")?),
            "--widths" => {
                let v = value("--widths")?;
                let (lo, hi) = v.split_once('-').ok_or("--widths LO-HI")?;
                a.widths = (
                    lo.parse().map_err(|e| format!("{e}"))?,
                    hi.parse().map_err(|e| format!("{e}"))?,
                );
            }
            f => a.files.push(f.to_string()),
        }
    }
    if a.files.is_empty() || a.threads == 0 || a.widths.0 > a.widths.1 {
        return Err("usage: imgd-pipeline-bench [--seconds S] [--threads N] [--widths LO-HI] [--query Q] FILE...".into());
    }
    Ok(a)
}

fn main() -> Result<(), String> {
    let a = args()?;
    let sources: Vec<Vec<u8>> = a
        .files
        .iter()
        .map(|f| std::fs::read(f).map_err(|e| format!("{f}: {e}")))
        .collect::<Result<_, _>>()?;
    let widths: Vec<u32> = (a.widths.0..=a.widths.1).collect();
    // The same spec list the load generator rotates through: file i with width i.
    let specs = (0..sources.len() * 8)
        .map(|i| {
            let q = a
                .query
                .replace("{W}", &widths[i % widths.len()].to_string());
            parse_canonical(&q).map(|s| (i % sources.len(), s))
        })
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("query: {e}"))?;
    let sources = Arc::new(sources);
    let specs = Arc::new(specs);
    let limits = Limits {
        // As bench/run.py configures the server.
        max_source_pixels: 200_000_000,
        ..Limits::default()
    };
    // Warm-up: one pass over the sources (page faults, lazy tables).
    for (src, spec) in specs.iter().take(sources.len()) {
        process(&sources[*src], spec, Negotiation::default(), &limits)
            .map_err(|e| format!("warm-up: {e}"))?;
    }
    if let Some(dir) = &a.out {
        write_outputs(dir, &a.files, &sources, &specs, &limits)?;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let bytes = Arc::new(AtomicU64::new(0));
    let next = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let workers: Vec<_> = (0..a.threads)
        .map(|_| {
            let (sources, specs, stop, done, bytes, next) = (
                sources.clone(),
                specs.clone(),
                stop.clone(),
                done.clone(),
                bytes.clone(),
                next.clone(),
            );
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    let i = next.fetch_add(1, Ordering::Relaxed) as usize % specs.len();
                    let (src, spec) = &specs[i];
                    if let Ok(out) = process(&sources[*src], spec, Negotiation::default(), &limits)
                    {
                        done.fetch_add(1, Ordering::Relaxed);
                        bytes.fetch_add(out.bytes.len() as u64, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    std::thread::sleep(Duration::from_secs_f64(a.seconds));
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        let _ = w.join();
    }
    let elapsed = started.elapsed().as_secs_f64();
    let n = done.load(Ordering::Relaxed);
    println!(
        "{{\"images_per_s\": {:.2}, \"images\": {n}, \"mean_bytes\": {:.0}, \"threads\": {}}}",
        n as f64 / elapsed,
        bytes.load(Ordering::Relaxed) as f64 / n.max(1) as f64,
        a.threads
    );
    Ok(())
}

/// Writes the outputs of the first two specs per source and a manifest for `quality.py`.
fn write_outputs(
    dir: &str,
    files: &[String],
    sources: &[Vec<u8>],
    specs: &[(usize, imgd_url::TransformSpec)],
    limits: &Limits,
) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("{dir}: {e}"))?;
    let mut manifest = Vec::new();
    for (i, (src, spec)) in specs.iter().take(sources.len() * 2).enumerate() {
        let out = process(&sources[*src], spec, Negotiation::default(), limits)
            .map_err(|e| format!("{}: {e}", files[*src]))?;
        let path = format!("{dir}/{i}.{}", out.format.as_str());
        std::fs::write(&path, &out.bytes).map_err(|e| format!("{path}: {e}"))?;
        let source = std::fs::canonicalize(&files[*src]).map_err(|e| format!("{e}"))?;
        manifest.push(format!(
            "[\"out\", \"imgd\", {:?}, {:?}]",
            source.display().to_string(),
            path
        ));
    }
    let path = format!("{dir}/manifest.json");
    std::fs::write(&path, format!("[{}]", manifest.join(",\n"))).map_err(|e| format!("{path}: {e}"))
}
