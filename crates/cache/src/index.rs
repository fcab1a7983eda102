//! The index: redb tables and the records in them.
//!
//! - `originals`: original key → [`OriginalRecord`]
//! - `variants`: variant key (`ORIGINAL_KEY:HASH`) → [`VariantRecord`]; the variants of an
//!   original are one key range, which is the index from each original to its variants
//! - `by_url`: "token NUL canonical URL" → original key (ordered: wildcard purges are range scans)
//! - `lru`: (last access, key) → size, oldest first, for eviction. Purges leave their rows
//!   behind (a row is live only while its record has the same access time); eviction drops
//!   stale rows as it meets them, so a purge touches only the purged records.
//! - `meta`: counters: `size` (bytes on disk), `gen NUL token` (bumped by purge-all),
//!   `entries NUL token` (current-generation entries)

use redb::{ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};

use crate::error::CacheError;

pub const ORIGINALS: TableDefinition<&str, &[u8]> = TableDefinition::new("originals");
pub const VARIANTS: TableDefinition<&str, &[u8]> = TableDefinition::new("variants");
pub const BY_URL: TableDefinition<&str, &str> = TableDefinition::new("by_url");
pub const LRU: TableDefinition<(u64, &str), u64> = TableDefinition::new("lru");
pub const META: TableDefinition<&str, u64> = TableDefinition::new("meta");

pub const SIZE: &str = "size";

pub fn gen_key(token: &str) -> String {
    format!("gen\0{token}")
}

pub fn entries_key(token: &str) -> String {
    format!("entries\0{token}")
}

/// An original's record. It outlives the original's bytes (evicted, or never stored for file
/// aliases) while variants point at it, so invalidation always finds them.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct OriginalRecord {
    pub token: String,
    pub url: String,
    /// File holding the bytes, when stored.
    pub file: Option<String>,
    pub size: u64,
    /// When the bytes were fetched or last revalidated (Unix seconds).
    pub fetched: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
    pub accessed: u64,
    pub gen: u64,
}

impl OriginalRecord {
    /// The record of an original whose bytes are not (or not yet) cached: file origins, and
    /// originals named by their variants only.
    pub fn without_bytes(token: &str, url: &str, fetched: u64, now: u64, gen: u64) -> Self {
        OriginalRecord {
            token: token.to_string(),
            url: url.to_string(),
            file: None,
            size: 0,
            fetched,
            etag: None,
            last_modified: None,
            accessed: now,
            gen,
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VariantRecord {
    pub token: String,
    pub original: String,
    /// Canonical spec (query form); `urls` purges and `transformations` filters match on it.
    pub spec: String,
    pub class: String,
    pub format: String,
    pub etag: String,
    pub file: String,
    pub size: u64,
    pub created: u64,
    pub accessed: u64,
    pub gen: u64,
}

pub fn decode<T: for<'de> Deserialize<'de>>(bytes: &[u8]) -> Result<T, CacheError> {
    Ok(serde_json::from_slice(bytes)?)
}

pub fn encode<T: Serialize>(record: &T) -> Result<Vec<u8>, CacheError> {
    Ok(serde_json::to_vec(record)?)
}

pub fn read_counter(
    table: &impl ReadableTable<&'static str, u64>,
    key: &str,
) -> Result<u64, CacheError> {
    Ok(table.get(key)?.map_or(0, |v| v.value()))
}
