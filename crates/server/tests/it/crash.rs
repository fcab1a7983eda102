//! `kill -9` while the cache is being written: after a restart every served image is whole
//! and matches its request, and the index matches the files on disk.

use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::util::*;

async fn wait_healthy(port: u16) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let _ = s
                .write_all(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
                .await;
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf).await;
            if buf.starts_with(b"HTTP/1.1 200") {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("imgd did not become healthy");
}

fn spawn(config: &std::path::Path) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_imgd"))
        .arg("serve")
        .arg("--config")
        .arg(config)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_during_writes_leaves_a_consistent_cache() {
    let origin = Origin::start().await;
    origin.route(
        "/big.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(1200, 600))),
    );
    let dir = tempfile::tempdir().unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let cfg = config(&origin, "").replace(
        "[server]",
        &format!("[server]\nlisten = \"127.0.0.1:{port}\""),
    ) + &format!(
        "\n[cache]\ndir = \"{}\"\n",
        dir.path().join("cache").display()
    );
    let cfg_path = dir.path().join("imgd.toml");
    std::fs::write(&cfg_path, cfg).unwrap();

    let mut child = spawn(&cfg_path);
    wait_healthy(port).await;
    let client = Arc::new(Client { port });
    // Load: distinct variants (each a transform and a cache write) from 4 workers.
    let stop_at = Instant::now() + Duration::from_millis(1500);
    let mut load = Vec::new();
    for worker in 0..4u32 {
        let c = client.clone();
        load.push(tokio::spawn(async move {
            let mut w = 20 + worker;
            while Instant::now() < stop_at {
                let _ = c.try_get(&format!("/sample.li/big.jpg?w={w}")).await;
                w += 4;
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(700)).await;
    child.kill().await.unwrap(); // SIGKILL
    for l in load {
        l.await.unwrap();
    }

    let mut child = spawn(&cfg_path);
    wait_healthy(port).await;
    let mut checked = 0;
    for w in 20..120u32 {
        let r = client
            .try_get(&format!("/sample.li/big.jpg?w={w}"))
            .await
            .expect("answer");
        assert_eq!(r.status, 200, "w={w}");
        let img = decode(&r.body);
        let h = (f64::from(w) / 2.0).round() as u32;
        assert_eq!((img.width(), img.height()), (w, h), "w={w}");
        assert_px(&img, 1, 1, RED);
        assert_px(&img, w - 2, h - 2, YELLOW);
        checked += 1;
    }
    assert_eq!(checked, 100);
    child.kill().await.unwrap();

    let cache = imgd_cache::Cache::open(&dir.path().join("cache"), u64::MAX).unwrap();
    cache.sweep().unwrap();
    let audit = cache.audit().unwrap();
    assert_eq!(audit.missing_files, 0, "{audit:?}");
    assert_eq!(
        audit.files,
        audit.variants + audit.stored_originals,
        "{audit:?}"
    );
    assert!(audit.variants >= 100, "{audit:?}");
}

/// A tiny client for a server in another process.
struct Client {
    port: u16,
}

impl Client {
    async fn try_get(&self, target: &str) -> Option<Resp> {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let mut s = tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .ok()?;
        let req = format!("GET {target} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        s.write_all(req.as_bytes()).await.ok()?;
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), s.read_to_end(&mut raw))
            .await
            .ok()?
            .ok()?;
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let status = head.split(' ').nth(1)?.parse().ok()?;
        Some(Resp {
            status,
            headers: Default::default(),
            body: raw[split + 4..].to_vec(),
        })
    }
}
