//! Overload and slow peers: misses beyond workers + queue are shed at once with 503 while
//! cache hits keep answering; slow clients and slow requests are cut off.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::util::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn excess_misses_are_shed_while_hits_answer() {
    let origin = Origin::start().await;
    origin.route("/stall.jpg", Reply::Stall);
    origin.route(
        "/q.jpg",
        Reply::Body("image/jpeg", jpeg(&quadrants(40, 20))),
    );
    // C = 2 workers, Q = 1 queued: C + Q + k with k = 3 concurrent stalled misses.
    // A long origin timeout keeps the admitted misses busy well past the shed ones.
    let cfg = config(&origin, "")
        .replace("[server]", "[server]\nworkers = 2\nqueue = 1")
        .replace("timeout_ms = 1500", "timeout_ms = 5000");
    let s = Arc::new(Server::start(&cfg).await);
    assert_eq!(s.get("/sample.li/q.jpg?w=10").await.status, 200);

    let mut tasks = Vec::new();
    for i in 0..6 {
        let s = s.clone();
        tasks.push(tokio::spawn(async move {
            let started = Instant::now();
            let r = s.get(&format!("/sample.li/stall.jpg?w={}", 10 + i)).await;
            (r, started.elapsed())
        }));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // While the admitted misses wait on the origin, a cached variant is served at once.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let hit = s.get("/sample.li/q.jpg?w=10").await;
    assert_eq!(hit.status, 200);
    assert_eq!(hit.header("x-imgd-cache"), Some("HIT"));

    let mut shed = 0;
    for t in tasks {
        let (r, took) = t.await.unwrap();
        if r.status == 503 {
            shed += 1;
            assert_eq!(r.header("retry-after"), Some("1"));
            assert_eq!(r.header("x-imgd-error"), Some("overloaded"));
            assert!(
                took < Duration::from_millis(1000),
                "shed immediately, took {took:?}"
            );
        } else {
            assert_eq!(r.status, 504, "admitted misses end with the origin timeout");
        }
    }
    assert_eq!(shed, 3);
    // Capacity comes back.
    assert_eq!(s.get("/sample.li/q.jpg?w=11").await.status, 200);
}

#[tokio::test]
async fn slow_clients_are_disconnected() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    let cfg = s
        .config
        .replace("[server]", "[server]\nheader_timeout_ms = 300");
    let s = Server::start(&cfg).await;
    let mut slow = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    slow.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n")
        .await
        .unwrap();
    // The server answers normal requests meanwhile.
    assert_eq!(s.get("/sample.li/q.jpg?w=10").await.status, 200);
    let mut buf = Vec::new();
    let closed = tokio::time::timeout(Duration::from_secs(5), slow.read_to_end(&mut buf)).await;
    assert!(closed.is_ok(), "the half-sent request was cut off");
    assert!(
        !buf.starts_with(b"HTTP/1.1 200"),
        "{}",
        String::from_utf8_lossy(&buf)
    );
}

#[tokio::test]
async fn requests_have_a_deadline() {
    let origin = Origin::start().await;
    origin.route("/stall.jpg", Reply::Stall);
    let cfg = config(&origin, "")
        .replace("[server]", "[server]\nrequest_timeout_ms = 400")
        .replace("timeout_ms = 1500", "timeout_ms = 5000");
    let s = Server::start(&cfg).await;
    let started = Instant::now();
    let r = s.get("/sample.li/stall.jpg").await;
    assert_eq!(r.status, 504);
    assert_eq!(r.header("x-imgd-error"), Some("request-timeout"));
    assert!(
        started.elapsed() < Duration::from_millis(1400),
        "before the origin timeout"
    );
}

#[tokio::test]
async fn connection_limit_holds_extra_clients_until_slots_free() {
    let (_o, s) = setup("/q.jpg", jpeg(&quadrants(40, 20)), "image/jpeg").await;
    let cfg = s.config.replace(
        "[server]",
        "[server]\nmax_connections = 2\nheader_timeout_ms = 300",
    );
    let s = Server::start(&cfg).await;
    let idle1 = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    let idle2 = tokio::net::TcpStream::connect(s.addr).await.unwrap();
    // Both slots are taken by idle clients; they are cut off after the header timeout and
    // the third client is served then.
    let r = s.get("/sample.li/q.jpg?w=10").await;
    assert_eq!(r.status, 200);
    drop((idle1, idle2));
}
