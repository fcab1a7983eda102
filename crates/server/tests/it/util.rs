//! Test harness: the imgd server in-process on port 0, a scripted origin on port 0, a raw
//! HTTP client (so request targets reach the server exactly as written), and generated images
//! with known colours.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use image::{DynamicImage, ImageEncoder, Rgba, RgbaImage};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const RED: [u8; 4] = [255, 0, 0, 255];
pub const GREEN: [u8; 4] = [0, 255, 0, 255];
pub const BLUE: [u8; 4] = [0, 0, 255, 255];
pub const YELLOW: [u8; 4] = [255, 255, 0, 255];

/// `w`×`h` with four solid quadrants: red top-left, green top-right, blue bottom-left,
/// yellow bottom-right. Every geometric operation moves them somewhere checkable.
pub fn quadrants(w: u32, h: u32) -> RgbaImage {
    RgbaImage::from_fn(w, h, |x, y| {
        Rgba(match (x < w / 2, y < h / 2) {
            (true, true) => RED,
            (false, true) => GREEN,
            (true, false) => BLUE,
            (false, false) => YELLOW,
        })
    })
}

pub fn encode(img: &RgbaImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = Vec::new();
    let dynamic = match format {
        image::ImageFormat::Jpeg => {
            DynamicImage::ImageRgb8(DynamicImage::ImageRgba8(img.clone()).into_rgb8())
        }
        _ => DynamicImage::ImageRgba8(img.clone()),
    };
    dynamic
        .write_to(&mut std::io::Cursor::new(&mut out), format)
        .unwrap();
    out
}

pub fn jpeg(img: &RgbaImage) -> Vec<u8> {
    encode(img, image::ImageFormat::Jpeg)
}

pub fn png(img: &RgbaImage) -> Vec<u8> {
    encode(img, image::ImageFormat::Png)
}

/// A PNG carrying an ICC profile.
pub fn png_with_icc(img: &RgbaImage, icc: Vec<u8>) -> Vec<u8> {
    let mut out = Vec::new();
    let mut enc = image::codecs::png::PngEncoder::new(&mut out);
    enc.set_icc_profile(icc).unwrap();
    enc.write_image(
        img.as_raw(),
        img.width(),
        img.height(),
        image::ExtendedColorType::Rgba8,
    )
    .unwrap();
    out
}

/// A JPEG of `img` with an EXIF block saying `orientation` (1..=8).
pub fn jpeg_with_orientation(img: &RgbaImage, orientation: u16) -> Vec<u8> {
    let plain = jpeg(img);
    // APP1 "Exif\0\0" + big-endian TIFF header + IFD0 with one entry: 0x0112 SHORT 1.
    let mut tiff = vec![b'M', b'M', 0, 42, 0, 0, 0, 8, 0, 1];
    tiff.extend_from_slice(&[0x01, 0x12, 0, 3, 0, 0, 0, 1]);
    tiff.extend_from_slice(&orientation.to_be_bytes());
    tiff.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let len = (app1.len() + 2) as u16;
    let mut out = plain[..2].to_vec(); // SOI
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&plain[2..]);
    out
}

pub fn decode(bytes: &[u8]) -> DynamicImage {
    image::load_from_memory(bytes).expect("response is a decodable image")
}

pub fn px(img: &DynamicImage, x: u32, y: u32) -> [u8; 4] {
    img.to_rgba8().get_pixel(x, y).0
}

/// Colours equal within JPEG tolerance.
pub fn near(a: [u8; 4], b: [u8; 4]) -> bool {
    a.iter().zip(b).all(|(x, y)| x.abs_diff(y) <= 40)
}

#[track_caller]
pub fn assert_px(img: &DynamicImage, x: u32, y: u32, want: [u8; 4]) {
    let got = px(img, x, y);
    assert!(near(got, want), "pixel ({x},{y}) is {got:?}, want {want:?}");
}

/// What the scripted origin answers for a path.
#[derive(Clone)]
pub enum Reply {
    Body(&'static str, Vec<u8>),
    /// A body with an `ETag`; a request whose `If-None-Match` matches gets 304.
    Tagged(Vec<u8>, String),
    /// A body with `Last-Modified`; a matching `If-Modified-Since` gets 304.
    Dated(Vec<u8>, String),
    /// A body sent after a delay (to make requests overlap).
    Delayed(u64, Vec<u8>),
    Status(u16),
    Redirect(String),
    /// Declares `declared` bytes, sends `body`, closes.
    Truncated {
        declared: usize,
        body: Vec<u8>,
    },
    /// Accepts and never answers.
    Stall,
    /// Sends headers promising `declared` bytes, then one byte every 200 ms.
    Drip {
        declared: usize,
    },
}

/// An HTTP/1.1 origin on 127.0.0.1:0 that answers from a table and records every request
/// target it receives.
#[derive(Clone)]
pub struct Origin {
    pub addr: SocketAddr,
    routes: Arc<Mutex<HashMap<String, Reply>>>,
    seen: Arc<Mutex<Vec<String>>>,
    connections: Arc<Mutex<usize>>,
}

impl Origin {
    pub async fn start() -> Origin {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let o = Origin {
            addr: listener.local_addr().unwrap(),
            routes: Arc::default(),
            seen: Arc::default(),
            connections: Arc::default(),
        };
        let server = o.clone();
        tokio::spawn(async move {
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    return;
                };
                *server.connections.lock().unwrap() += 1;
                let s = server.clone();
                tokio::spawn(async move { s.serve(sock).await });
            }
        });
        o
    }

    pub fn route(&self, path: &str, reply: Reply) {
        self.routes.lock().unwrap().insert(path.to_string(), reply);
    }

    /// Request targets received, in order.
    pub fn seen(&self) -> Vec<String> {
        self.seen.lock().unwrap().clone()
    }

    pub fn hits(&self, target: &str) -> usize {
        self.seen().iter().filter(|s| *s == target).count()
    }

    pub fn connections(&self) -> usize {
        *self.connections.lock().unwrap()
    }

    async fn serve(&self, mut sock: TcpStream) {
        let mut head = Vec::new();
        let mut buf = [0u8; 1024];
        while !head.windows(4).any(|w| w == b"\r\n\r\n") {
            match sock.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => head.extend_from_slice(&buf[..n]),
            }
        }
        let text = String::from_utf8_lossy(&head);
        let target = text.split(' ').nth(1).unwrap_or("/").to_string();
        let if_none_match = text
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("if-none-match"))
            .map(|(_, v)| v.trim().to_string());
        let if_modified_since = text
            .split("\r\n")
            .filter_map(|l| l.split_once(':'))
            .find(|(k, _)| k.eq_ignore_ascii_case("if-modified-since"))
            .map(|(_, v)| v.trim().to_string());
        self.seen.lock().unwrap().push(target.clone());
        let path = target.split('?').next().unwrap_or("/").to_string();
        let reply = {
            let routes = self.routes.lock().unwrap();
            routes.get(&target).or_else(|| routes.get(&path)).cloned()
        };
        let resp: Vec<u8> = match reply {
            None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
            Some(Reply::Body(ctype, body)) => {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\nSet-Cookie: origin=1\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            }
            Some(Reply::Tagged(_, etag)) if if_none_match.as_deref() == Some(etag.as_str()) => {
                format!("HTTP/1.1 304 Not Modified\r\nETag: {etag}\r\nConnection: close\r\n\r\n").into_bytes()
            }
            Some(Reply::Tagged(body, etag)) => {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nETag: {etag}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            }
            Some(Reply::Dated(_, date)) if if_modified_since.as_deref() == Some(date.as_str()) => {
                b"HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n".to_vec()
            }
            Some(Reply::Dated(body, date)) => {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nLast-Modified: {date}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            }
            Some(Reply::Delayed(ms, body)) => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            }
            Some(Reply::Status(code)) => {
                format!("HTTP/1.1 {code} X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n").into_bytes()
            }
            Some(Reply::Redirect(to)) => format!(
                "HTTP/1.1 302 Found\r\nLocation: {to}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            )
            .into_bytes(),
            Some(Reply::Truncated { declared, body }) => {
                let mut r = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
                )
                .into_bytes();
                r.extend_from_slice(&body);
                r
            }
            Some(Reply::Drip { declared }) => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: image/jpeg\r\nContent-Length: {declared}\r\nConnection: close\r\n\r\n"
                );
                if sock.write_all(head.as_bytes()).await.is_err() {
                    return;
                }
                for _ in 0..declared {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if sock.write_all(b"x").await.is_err() {
                        return;
                    }
                }
                return;
            }
            Some(Reply::Stall) => {
                tokio::time::sleep(Duration::from_secs(30)).await;
                return;
            }
        };
        let _ = sock.write_all(&resp).await;
        let _ = sock.shutdown().await;
    }
}

/// A running imgd.
pub struct Server {
    pub addr: SocketAddr,
    /// The cache directory, kept alive for restarts.
    pub cache_dir: Arc<tempfile::TempDir>,
    pub config: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<Arc<tempfile::TempDir>>,
}

/// A response, read raw.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HashMap<String, String>,
    pub body: Vec<u8>,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(String::as_str)
    }
    pub fn image(&self) -> DynamicImage {
        assert_eq!(self.status, 200, "status; headers {:?}", self.headers);
        decode(&self.body)
    }
    pub fn size(&self) -> (u32, u32) {
        let img = self.image();
        (img.width(), img.height())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
}

/// The standard test config: token `t` (prefix optional, http default scheme) with origin
/// hosts `sample.li` and `other.test` pinned to `origin`, loopback allowed.
pub fn config(origin: &Origin, extra: &str) -> String {
    format!(
        r#"
[server]
default_token = "t"
base_domain = "img.test"
[origin]
allow_loopback = true
timeout_ms = 1500
connect_timeout_ms = 1000
max_bytes = 3000000
resolve = {{ "sample.li" = "{a}", "other.test" = "{a}", "evil.test" = "{a}" }}
[tokens.t]
url_version = "optional"
default_scheme = "http"
aliases = {{ "_o_" = "http://sample.li/base" }}
presets = {{ thumb = "w=50&h=50&func=crop" }}
rules = [{{ pattern = "sample.li/ruled/*", params = "w=40&q=50" }}]
{extra}
"#,
        a = origin.addr
    )
}

impl Server {
    pub async fn start(config_text: &str) -> Server {
        Server::start_in(config_text, None).await
    }

    /// Starts with `dir` kept alive (file-alias tests). Unless the config has a `[cache]`
    /// section, the cache lives in a fresh temporary directory.
    pub async fn start_in(config_text: &str, dir: Option<tempfile::TempDir>) -> Server {
        let cache_dir = Arc::new(tempfile::tempdir().unwrap());
        let config = if config_text.contains("[cache]") {
            config_text.to_string()
        } else {
            format!(
                "{config_text}\n[cache]\ndir = \"{}\"\n",
                cache_dir.path().display()
            )
        };
        Server::launch(config, cache_dir, dir.map(Arc::new)).await
    }

    async fn launch(
        config_text: String,
        cache_dir: Arc<tempfile::TempDir>,
        dir: Option<Arc<tempfile::TempDir>>,
    ) -> Server {
        let config = imgd::config::from_str(&config_text, PathBuf::from("."), Vec::new())
            .unwrap_or_else(|e| panic!("test config: {e}"));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            imgd::server::run(listener, config, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
        Server {
            addr,
            cache_dir,
            config: config_text,
            stop: Some(stop),
            task: Some(task),
            _dir: dir,
        }
    }

    /// Stops the server (closing its cache) and starts it again on the same configuration
    /// and cache directory.
    pub async fn restart(mut self) -> Server {
        self.shutdown().await;
        Server::launch(
            self.config.clone(),
            self.cache_dir.clone(),
            self._dir.clone(),
        )
        .await
    }

    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await.unwrap();
        }
    }

    /// The server's counter `name` from `GET /metrics`.
    pub async fn metric(&self, name: &str) -> u64 {
        let r = self.get("/metrics").await;
        String::from_utf8_lossy(&r.body)
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name} ")))
            .unwrap_or_else(|| panic!("metric {name}"))
            .parse()
            .unwrap()
    }

    pub async fn get(&self, target: &str) -> Resp {
        self.request("GET", target, &[]).await
    }

    /// Sends `target` byte for byte (no client-side normalisation of `..` or `//`).
    pub async fn request(&self, method: &str, target: &str, headers: &[(&str, &str)]) -> Resp {
        self.send(method, target, headers, &[]).await
    }

    /// `POST /invalidate` with `key` and a JSON body.
    pub async fn invalidate(&self, key: &str, body: &str) -> Resp {
        self.send(
            "POST",
            "/invalidate",
            &[("X-Client-Key", key), ("Content-Type", "application/json")],
            body.as_bytes(),
        )
        .await
    }

    pub async fn send(
        &self,
        method: &str,
        target: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Resp {
        let mut sock = TcpStream::connect(self.addr).await.unwrap();
        let mut req = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\n");
        if !headers.iter().any(|(k, _)| k.eq_ignore_ascii_case("host")) {
            req.push_str("Host: localhost\r\n");
        }
        for (k, v) in headers {
            req.push_str(&format!("{k}: {v}\r\n"));
        }
        if !body.is_empty() {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        sock.write_all(req.as_bytes()).await.unwrap();
        // The server may answer (413) before reading all of a large body.
        let _ = sock.write_all(body).await;
        let mut raw = Vec::new();
        tokio::time::timeout(Duration::from_secs(20), sock.read_to_end(&mut raw))
            .await
            .expect("server answered in time")
            .unwrap();
        let split = raw
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .expect("response head");
        let head = String::from_utf8_lossy(&raw[..split]).to_string();
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        Resp {
            status,
            headers,
            body: raw[split + 4..].to_vec(),
        }
    }
}

/// One origin serving `path`, one server with the standard config.
pub async fn setup(path: &str, body: Vec<u8>, ctype: &'static str) -> (Origin, Server) {
    let origin = Origin::start().await;
    origin.route(path, Reply::Body(ctype, body));
    let server = Server::start(&config(&origin, "")).await;
    (origin, server)
}
