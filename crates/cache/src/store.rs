//! The cache itself: files on disk plus the index, written so that a crash at any moment
//! leaves no half-written entry (file to a temporary name, renamed into place, then the index
//! transaction commits; unlinks happen only after the commit that forgot the file).

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{Builder, ConcurrencyMode, Database, Durability, ReadableDatabase, ReadableTable};

use crate::epoch::Epoch;
use crate::error::CacheError;
use crate::hot::{Hot, HotBudget};
use crate::index::*;
use crate::key::{OriginalRef, VariantRef};
use crate::tables::Tables;

/// Last-access times are written at most this often per entry (seconds): a hit then costs no
/// write transaction, and LRU order stays good enough.
const ACCESS_GRANULARITY: u64 = 60;

/// Whether an entry last moved up the LRU at `accessed` should move again at `now`.
pub(crate) fn touch_due(accessed: u64, now: u64) -> bool {
    now >= accessed + ACCESS_GRANULARITY
}

/// Eviction frees space down to this share of `max_size`, so that it does not run on every put.
const EVICT_TO: f64 = 0.9;

pub struct Cache {
    pub(crate) db: Database,
    dir: PathBuf,
    max_size: u64,
    seq: AtomicU64,
    /// Bodies of hot variants (see `hot`).
    pub(crate) hot: Hot,
    /// Bumped after every commit that changes what a lookup answers (see `epoch`).
    pub(crate) epoch: Epoch,
    /// Keys whose LRU touch is scheduled, so that a burst of hits schedules one.
    pub(crate) touching: Mutex<HashSet<String>>,
}

/// An original's bytes and how to revalidate them.
#[derive(Debug, Clone)]
pub struct CachedOriginal {
    pub bytes: Vec<u8>,
    /// Unix seconds of the last fetch or successful revalidation.
    pub fetched: u64,
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// Origin validators stored with an original.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

pub fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

impl Cache {
    /// Opens (or creates) the cache in `dir`. Several processes may open one cache (the server
    /// and `imgd invalidate`); only the server should call [`Cache::sweep`].
    pub fn open(dir: &Path, max_size: u64) -> Result<Cache, CacheError> {
        std::fs::create_dir_all(dir.join("objects"))?;
        std::fs::create_dir_all(dir.join("tmp"))?;
        let db = Builder::new()
            .set_concurrency_mode(ConcurrencyMode::MultiWriter)
            .create(dir.join("index.redb"))?;
        let txn = db.begin_write()?;
        drop(Tables::open(&txn)?);
        txn.commit()?;
        Ok(Cache {
            db,
            dir: dir.to_path_buf(),
            max_size,
            seq: AtomicU64::new(0),
            hot: Hot::new(HotBudget::OFF),
            epoch: Epoch::open(dir)?,
            touching: Mutex::default(),
        })
    }

    /// Keeps hot variant bodies in memory within `budget` (off by default).
    pub fn with_hot_tier(mut self, budget: HotBudget) -> Cache {
        self.hot = Hot::new(budget);
        self
    }

    /// Bytes of variant bodies held in memory.
    pub fn hot_bytes(&self) -> usize {
        self.hot.used()
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.join("objects").join(rel)
    }

    /// Writes `bytes` under a fresh name (never reused, so a late unlink of an old file cannot
    /// hit a new one) and returns its path relative to `objects/`.
    fn write_file(&self, key: &str, bytes: &[u8]) -> Result<String, CacheError> {
        let nonce = format!(
            "{}-{}-{}",
            std::process::id(),
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos()),
            self.seq.fetch_add(1, Ordering::Relaxed)
        );
        let tmp = self.dir.join("tmp").join(&nonce);
        std::fs::write(&tmp, bytes)?;
        let name = key.rsplit(':').next().unwrap_or(key);
        let rel = format!("{}/{name}-{nonce}", &key[..2]);
        let dest = self.path(&rel);
        if let Some(parent) = dest.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&tmp, &dest)?;
        Ok(rel)
    }

    /// Unlinks files whose index entries are gone. Missing files are fine.
    pub fn unlink(&self, files: &[String]) {
        for f in files {
            let _ = std::fs::remove_file(self.path(f));
        }
    }

    pub(crate) fn read(&self, rel: &str) -> Result<Option<Vec<u8>>, CacheError> {
        match std::fs::read(self.path(rel)) {
            Ok(b) => Ok(Some(b)),
            // Purged (or evicted) between the index read and the file read: a miss.
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// The cached bytes of an original, if present and not purged.
    pub fn original(&self, o: OriginalRef<'_>) -> Result<Option<CachedOriginal>, CacheError> {
        let key = o.key();
        let txn = self.db.begin_read()?;
        let originals = txn.open_table(ORIGINALS)?;
        let meta = txn.open_table(META)?;
        let Some(rec) = originals
            .get(key.as_str())?
            .map(|v| decode::<OriginalRecord>(v.value()))
            .transpose()?
        else {
            return Ok(None);
        };
        if rec.gen != read_counter(&meta, &gen_key(o.token))? {
            return Ok(None);
        }
        let Some(file) = &rec.file else {
            return Ok(None);
        };
        let Some(bytes) = self.read(file)? else {
            return Ok(None);
        };
        drop((originals, meta, txn));
        self.touch_entry(&key, rec.accessed, false)?;
        Ok(Some(CachedOriginal {
            bytes,
            fetched: rec.fetched,
            etag: rec.etag,
            last_modified: rec.last_modified,
        }))
    }

    /// Stores an original's bytes, replacing any previous copy.
    pub fn put_original(
        &self,
        o: OriginalRef<'_>,
        bytes: &[u8],
        validators: Validators,
    ) -> Result<(), CacheError> {
        let key = o.key();
        let rel = self.write_file(&key, bytes)?;
        let mut files = Vec::new();
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            let gen = t.generation(o.token)?;
            let now = now();
            let old = t.original(&key)?;
            if let Some(old) = &old {
                if let Some(f) = &old.file {
                    t.lru.remove((old.accessed, key.as_str()))?;
                    t.add_size(-(old.size as i64));
                    files.push(f.clone());
                }
            }
            if old.as_ref().is_none_or(|old| old.gen != gen) {
                t.count(o.token, 1);
            }
            let rec = OriginalRecord {
                token: o.token.to_string(),
                url: o.url.to_string(),
                file: Some(rel),
                size: bytes.len() as u64,
                fetched: now,
                etag: validators.etag,
                last_modified: validators.last_modified,
                accessed: now,
                gen,
            };
            t.originals.insert(key.as_str(), encode(&rec)?.as_slice())?;
            t.by_url.insert(o.url_key().as_str(), key.as_str())?;
            t.lru.insert((now, key.as_str()), rec.size)?;
            t.add_size(rec.size as i64);
            t.flush()?;
        }
        txn.commit()?;
        // Hot variants carry their original's fetch time (for revalidation): re-read it.
        self.epoch.bump();
        self.unlink(&files);
        self.evict_if_needed()
    }

    /// Records a successful revalidation (origin answered 304).
    pub fn revalidated(&self, o: OriginalRef<'_>) -> Result<(), CacheError> {
        let key = o.key();
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            if let Some(mut rec) = t.original(&key)? {
                rec.fetched = now();
                t.originals.insert(key.as_str(), encode(&rec)?.as_slice())?;
            }
            t.flush()?;
        }
        txn.commit()?;
        self.epoch.bump();
        Ok(())
    }

    /// Stores a variant and links it to its original (creating the original's record when
    /// its bytes are not cached, as for file origins).
    pub fn put_variant(
        &self,
        v: VariantRef<'_>,
        format: &str,
        etag: &str,
        bytes: &[u8],
        original_fetched: Option<u64>,
    ) -> Result<(), CacheError> {
        let key = v.key();
        let okey = v.original.key();
        let rel = self.write_file(&key, bytes)?;
        let mut files = Vec::new();
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            let gen = t.generation(v.original.token)?;
            let now = now();
            let original = t.original(&okey)?;
            if original.as_ref().is_none_or(|o| o.gen != gen) {
                if original.is_some() {
                    t.remove_original(&okey, &mut files)?;
                }
                let rec = OriginalRecord::without_bytes(
                    v.original.token,
                    v.original.url,
                    original_fetched.unwrap_or(0),
                    now,
                    gen,
                );
                t.originals
                    .insert(okey.as_str(), encode(&rec)?.as_slice())?;
                t.by_url
                    .insert(v.original.url_key().as_str(), okey.as_str())?;
                t.count(v.original.token, 1);
            }
            t.remove_variant(&key, &mut files)?;
            let rec = VariantRecord {
                token: v.original.token.to_string(),
                original: okey.clone(),
                spec: v.spec.to_string(),
                class: v.class.to_string(),
                format: format.to_string(),
                etag: etag.to_string(),
                file: rel,
                size: bytes.len() as u64,
                created: now,
                accessed: now,
                gen,
            };
            t.variants.insert(key.as_str(), encode(&rec)?.as_slice())?;
            t.lru.insert((now, key.as_str()), rec.size)?;
            t.add_size(rec.size as i64);
            t.count(v.original.token, 1);
            t.flush()?;
        }
        txn.commit()?;
        if !files.is_empty() {
            // An entry was replaced: hot copies of it must be re-read.
            self.epoch.bump();
        }
        self.unlink(&files);
        self.evict_if_needed()
    }

    /// Moves an entry to the young end of the LRU, at most once per `ACCESS_GRANULARITY`.
    pub(crate) fn touch_entry(
        &self,
        key: &str,
        accessed: u64,
        variant: bool,
    ) -> Result<(), CacheError> {
        let now = now();
        if !touch_due(accessed, now) {
            return Ok(());
        }
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            if variant {
                if let Some(mut rec) = t.variant(key)? {
                    t.lru.remove((rec.accessed, key))?;
                    rec.accessed = now;
                    t.lru.insert((now, key), rec.size)?;
                    t.variants.insert(key, encode(&rec)?.as_slice())?;
                }
            } else if let Some(mut rec) = t.original(key)? {
                if rec.file.is_some() {
                    t.lru.remove((rec.accessed, key))?;
                    t.lru.insert((now, key), rec.size)?;
                }
                rec.accessed = now;
                t.originals.insert(key, encode(&rec)?.as_slice())?;
            }
            t.flush()?;
        }
        txn.commit()?;
        Ok(())
    }

    /// Total bytes of cached files.
    pub fn size(&self) -> Result<u64, CacheError> {
        let txn = self.db.begin_read()?;
        let meta = txn.open_table(META)?;
        read_counter(&meta, SIZE)
    }

    /// Evicts least-recently-used entries until the cache is under `EVICT_TO` of its bound.
    /// Evicting an original drops its bytes but keeps its record while variants point at it.
    fn evict_if_needed(&self) -> Result<(), CacheError> {
        if self.size()? <= self.max_size {
            return Ok(());
        }
        let target = (self.max_size as f64 * EVICT_TO) as u64;
        let mut files = Vec::new();
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            let mut size = read_counter(&t.meta, SIZE)?;
            // (access time, key, whether the row is live). Rows left by purges or by
            // replaced entries are stale: their record is gone or has another access time.
            let mut rows = Vec::new();
            for entry in t.lru.iter()? {
                if size <= target {
                    break;
                }
                let (k, v) = entry?;
                let (accessed, key) = k.value();
                let live = if key.contains(':') {
                    t.variant(key)?.is_some_and(|r| r.accessed == accessed)
                } else {
                    t.original(key)?
                        .is_some_and(|r| r.file.is_some() && r.accessed == accessed)
                };
                if live {
                    size = size.saturating_sub(v.value());
                }
                rows.push((accessed, key.to_string(), live));
            }
            for (accessed, key, live) in rows {
                t.lru.remove((accessed, key.as_str()))?;
                if !live {
                    continue;
                }
                if key.contains(':') {
                    t.remove_variant(&key, &mut files)?;
                } else if let Some(mut rec) = t.original(&key)? {
                    // The original's bytes go; its record stays while variants point at it.
                    t.add_size(-(rec.size as i64));
                    if let Some(f) = rec.file.take() {
                        files.push(f);
                    }
                    rec.size = 0;
                    if t.has_variants(&key)? {
                        t.originals.insert(key.as_str(), encode(&rec)?.as_slice())?;
                    } else {
                        t.remove_original(&key, &mut files)?;
                    }
                }
            }
            t.flush()?;
        }
        txn.commit()?;
        self.epoch.bump();
        self.unlink(&files);
        Ok(())
    }

    pub(crate) fn write_txn(&self) -> Result<redb::WriteTransaction, CacheError> {
        let mut txn = self.db.begin_write()?;
        txn.set_durability(Durability::Immediate)?;
        Ok(txn)
    }

    pub(crate) fn read_txn(&self) -> Result<redb::ReadTransaction, CacheError> {
        Ok(self.db.begin_read()?)
    }

    /// Deletes temporary files and files the index does not name: what a crash between
    /// writing a file and committing its index entry leaves. Returns how many were removed.
    pub fn sweep(&self) -> Result<usize, CacheError> {
        let mut removed = 0;
        for entry in std::fs::read_dir(self.dir.join("tmp"))? {
            std::fs::remove_file(entry?.path())?;
            removed += 1;
        }
        let mut known = std::collections::HashSet::new();
        {
            let txn = self.read_txn()?;
            for row in txn.open_table(VARIANTS)?.iter()? {
                let (_, v) = row?;
                known.insert(decode::<VariantRecord>(v.value())?.file);
            }
            for row in txn.open_table(ORIGINALS)?.iter()? {
                let (_, v) = row?;
                if let Some(f) = decode::<OriginalRecord>(v.value())?.file {
                    known.insert(f);
                }
            }
        }
        let objects = self.dir.join("objects");
        for shard in std::fs::read_dir(&objects)? {
            let shard = shard?;
            if !shard.file_type()?.is_dir() {
                continue;
            }
            let shard_name = shard.file_name().to_string_lossy().into_owned();
            for f in std::fs::read_dir(shard.path())? {
                let f = f?;
                let rel = format!("{shard_name}/{}", f.file_name().to_string_lossy());
                if !known.contains(&rel) {
                    std::fs::remove_file(f.path())?;
                    removed += 1;
                }
            }
        }
        Ok(removed)
    }

    /// Files on disk and files the index names, for consistency checks.
    pub fn audit(&self) -> Result<Audit, CacheError> {
        let txn = self.read_txn()?;
        let mut audit = Audit::default();
        for row in txn.open_table(VARIANTS)?.iter()? {
            let (_, v) = row?;
            let rec: VariantRecord = decode(v.value())?;
            audit.variants += 1;
            if !self.path(&rec.file).is_file() {
                audit.missing_files += 1;
            }
        }
        for row in txn.open_table(ORIGINALS)?.iter()? {
            let (_, v) = row?;
            let rec: OriginalRecord = decode(v.value())?;
            audit.originals += 1;
            if let Some(f) = rec.file {
                audit.stored_originals += 1;
                if !self.path(&f).is_file() {
                    audit.missing_files += 1;
                }
            }
        }
        for shard in std::fs::read_dir(self.dir.join("objects"))? {
            let shard = shard?;
            if shard.file_type()?.is_dir() {
                audit.files += std::fs::read_dir(shard.path())?.count();
            }
        }
        Ok(audit)
    }
}

/// What is in the cache, as the index and the disk see it.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Audit {
    pub variants: usize,
    pub originals: usize,
    pub stored_originals: usize,
    /// Index entries whose file is missing (must be 0).
    pub missing_files: usize,
    /// Files under `objects/`.
    pub files: usize,
}
