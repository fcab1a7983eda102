//! The configuration tree, its defaults, and loading: embedded default or TOML file, then
//! `IMGD_SECTION__KEY` environment overrides, then validation that reports every problem at
//! once, naming each key.
//!
//! Owns: config syntax and validation. Must not: build runtime objects (tokens, clients); those
//! are made from a validated `Config` elsewhere.

mod load;
pub use load::from_str;
mod validate;

use std::collections::BTreeMap;
use std::path::PathBuf;

use serde::Deserialize;

pub use load::{load, ConfigError};

/// The embedded default, used when `imgd serve` gets no `--config`.
pub const DEFAULT_TOML: &str = include_str!("../../default.toml");

/// Directory that relative paths of the embedded default are resolved against.
pub fn default_base_dir() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub server: ServerConfig,
    pub origin: OriginConfig,
    pub limits: LimitsConfig,
    pub cache: CacheConfig,
    /// Token name → its settings.
    pub tokens: BTreeMap<String, TokenConfig>,
    /// Directory relative paths (file aliases) are resolved against; set by the loader.
    #[serde(skip)]
    pub base_dir: PathBuf,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub listen: String,
    /// Tokens are chosen by `TOKEN.<base_domain>` in the Host header (empty: never by host).
    pub base_domain: String,
    /// Token used when the Host names none.
    pub default_token: String,
    /// Transformations run at once (0: one per CPU core).
    pub workers: usize,
    /// Cache misses admitted beyond `workers` (waiting for the origin or a worker); more get
    /// 503 with `Retry-After` at once. Cache hits are never queued.
    pub queue: usize,
    /// Open client connections at most; beyond it, new ones wait in the listen backlog.
    pub max_connections: usize,
    /// A client must send its request headers within this time.
    pub header_timeout_ms: u64,
    /// Whole-request deadline (body, origin, transformation, response start).
    pub request_timeout_ms: u64,
    /// One log line per request (method, target, status, time) on stderr.
    pub access_log: bool,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            base_domain: String::new(),
            default_token: String::new(),
            workers: 0,
            queue: 64,
            max_connections: 1024,
            header_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            access_log: true,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OriginConfig {
    /// TCP + TLS connect timeout.
    pub connect_timeout_ms: u64,
    /// Whole fetch, redirects and body included.
    pub timeout_ms: u64,
    /// Largest origin body accepted, checked on Content-Length and while streaming.
    pub max_bytes: u64,
    pub max_redirects: usize,
    /// Allow origins on loopback addresses (127.0.0.0/8, ::1). Off by default: SSRF.
    pub allow_loopback: bool,
    /// Allow origins on private, link-local, CGNAT and other non-public addresses.
    pub allow_private: bool,
    /// Host → "IP:PORT" pins, as curl's --resolve: the host is connected there.
    pub resolve: BTreeMap<String, String>,
    pub user_agent: String,
}

impl Default for OriginConfig {
    fn default() -> Self {
        OriginConfig {
            connect_timeout_ms: 5_000,
            timeout_ms: 20_000,
            max_bytes: 50 * 1024 * 1024,
            max_redirects: 5,
            allow_loopback: false,
            allow_private: false,
            resolve: BTreeMap::new(),
            user_agent: concat!("imgd/", env!("CARGO_PKG_VERSION")).into(),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest source image in pixels (from the header, before decoding).
    pub max_source_pixels: u64,
    /// Most memory a decoder may allocate, in bytes.
    pub max_decode_bytes: u64,
    /// Largest output side in pixels.
    pub max_output_side: u32,
    /// Most frames an animated source may have (counted before decoding).
    pub max_frames: u32,
    /// Most pixels the frames of an animated source may add up to.
    pub max_animation_pixels: u64,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        let d = imgd_pipeline::Limits::default();
        LimitsConfig {
            max_source_pixels: d.max_source_pixels,
            max_decode_bytes: d.max_decode_bytes,
            max_output_side: d.max_output_side,
            max_frames: d.max_frames,
            max_animation_pixels: d.max_animation_pixels,
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CacheConfig {
    /// Keep originals and variants on disk. Off: every request fetches and transforms.
    pub enabled: bool,
    /// Cache directory (relative paths are relative to the config file).
    pub dir: String,
    /// Bound on the bytes of cached files; least-recently-used entries are evicted beyond it.
    pub max_size: u64,
    /// Bytes of hot variant bodies kept in memory in front of the files (0: none). Every hit
    /// still reads the index once, so purges (also from `imgd invalidate`) apply at once.
    pub memory_size: u64,
    /// Variants larger than this are always read from their file.
    pub memory_max_item: u64,
}

impl Default for CacheConfig {
    fn default() -> Self {
        CacheConfig {
            enabled: true,
            dir: "imgd-cache".into(),
            max_size: 10 * 1024 * 1024 * 1024,
            memory_size: 32 * 1024 * 1024,
            memory_max_item: 512 * 1024,
        }
    }
}

impl Config {
    /// The cache directory, resolved against the config's base directory.
    pub fn cache_dir(&self) -> PathBuf {
        self.base_dir.join(&self.cache.dir)
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TokenConfig {
    /// "v7" (the /v7/ prefix is required), "none" (no prefix) or "optional".
    pub url_version: String,
    /// Scheme for scheme-less origins: "https" or "http".
    pub default_scheme: String,
    /// "_name_" → "https://host/base", or a directory ("./dir", "/abs/dir", "file:dir").
    pub aliases: BTreeMap<String, String>,
    /// Base URL for relative paths (empty: none).
    pub origin_prefix: String,
    /// Allowed origin domains, subdomains included (empty: any).
    pub whitelist: Vec<String>,
    /// Preset name → parameters (`w=200&h=200&func=crop`) the URL cannot override.
    pub presets: BTreeMap<String, String>,
    /// Path patterns → parameters the URL overrides.
    pub rules: Vec<RuleConfig>,
    /// Host names that select this token.
    pub custom_domains: Vec<String>,
    /// Formats negotiated by `Accept` when the URL forces none: `["webp"]`.
    pub auto_format: Vec<String>,
    /// Browser cache lifetime, seconds (`Cache-Control: max-age`).
    pub max_age: u32,
    /// Shared cache lifetime, seconds (`s-maxage`).
    pub s_maxage: u32,
    /// "placeholder_404" (default), "placeholder_200", "transparent_gif_200" or "empty_404".
    pub missing_origin: String,
    /// Seconds after which a cached original is revalidated with the origin (0: never).
    pub cache_ttl: u64,
    /// Keys accepted in `X-Client-Key` by `POST /invalidate` for this token.
    pub api_keys: Vec<String>,
    /// Salt(s) for `ci_sign`: when set, unsigned or wrongly signed URLs get 403. A list
    /// accepts several salts at once, for rotation.
    pub sign_salt: Salts,
    /// Salt(s) for `ci_seal` (URL sealing of `ci_eqs`): when set, every URL must be sealed.
    pub seal_salt: Salts,
}

/// One salt or a list of salts.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
pub enum Salts {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Salts {
    pub fn to_vec(&self) -> Vec<String> {
        match self {
            Salts::None => Vec::new(),
            Salts::One(s) => vec![s.clone()],
            Salts::Many(v) => v.clone(),
        }
        .into_iter()
        .filter(|s| !s.is_empty())
        .collect()
    }
}

impl Default for TokenConfig {
    fn default() -> Self {
        TokenConfig {
            url_version: "v7".into(),
            default_scheme: "https".into(),
            aliases: BTreeMap::new(),
            origin_prefix: String::new(),
            whitelist: Vec::new(),
            presets: BTreeMap::new(),
            rules: Vec::new(),
            custom_domains: Vec::new(),
            auto_format: Vec::new(),
            max_age: 2_592_000,
            s_maxage: 31_536_000,
            missing_origin: "placeholder_404".into(),
            cache_ttl: 0,
            api_keys: Vec::new(),
            sign_salt: Salts::None,
            seal_salt: Salts::None,
        }
    }
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuleConfig {
    pub pattern: String,
    pub params: String,
}
