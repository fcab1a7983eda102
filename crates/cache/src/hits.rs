//! Serving hits: at most one index read per request (none for a hot body validated at the
//! current change epoch), the body from memory (the hot tier) or from its file.
//!
//! Owns: the hit path and when a hit moves its entry up the LRU. Must not: write on the hit
//! path. A hit that is due for an LRU touch hands back a [`Touch`] for the caller to run off
//! the request, and only one touch per entry is outstanding at a time.

use bytes::Bytes;
use redb::{ReadableDatabase, ReadableTable};

use crate::error::CacheError;
use crate::hot::{Entry, Served};
use crate::index::*;
use crate::key::VariantRef;
use crate::store::{now, touch_due, Cache};

#[derive(Debug, Clone)]
pub struct CachedVariant {
    pub bytes: Bytes,
    pub format: String,
    pub etag: String,
    /// When the original was last fetched or revalidated; `None` for file origins.
    pub original_fetched: Option<u64>,
    /// Set when the entry should move up the LRU: run [`Cache::touch`] off the request.
    pub touch: Option<Touch>,
}

/// A pending LRU move of one variant.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Touch {
    key: String,
    accessed: u64,
}

/// A live index entry whose body must be read from its file ([`Cache::load`], blocking).
#[derive(Debug, Clone)]
pub struct OnDisk {
    key: String,
    file: String,
    format: String,
    etag: String,
    original_fetched: Option<u64>,
    accessed: u64,
    /// The change epoch read before the index was.
    epoch: u64,
    touch: Option<Touch>,
}

/// What one index read says about a variant.
#[derive(Debug, Clone)]
pub enum Lookup {
    Miss,
    /// Live, and its body was in memory.
    Hit(CachedVariant),
    /// Live, body on disk.
    OnDisk(OnDisk),
}

impl Cache {
    /// Whether `v` is cached and not purged, with its body when it is hot: no index read when
    /// the hot body was validated at the current change epoch, else one. Reads no file, so it
    /// is cheap enough to run on the request's own thread.
    pub fn lookup(&self, v: VariantRef<'_>) -> Result<Lookup, CacheError> {
        self.lookup_keyed(v.original.token, &v.key())
    }

    /// [`Cache::lookup`] with the variant's key already computed (`VariantRef::key`).
    pub fn lookup_keyed(&self, token: &str, key: &str) -> Result<Lookup, CacheError> {
        // Read before the index: a change committed after this read bumps the epoch, so an
        // entry validated now is re-read next time.
        let epoch = self.epoch.current();
        if let Some(e) = self.hot.fresh(key, epoch) {
            let touch = self.schedule_touch(key, e.accessed);
            return Ok(Lookup::Hit(hit(e, touch)));
        }
        let txn = self.db.begin_read()?;
        let variants = txn.open_table(VARIANTS)?;
        let Some(rec) = variants
            .get(key)?
            .map(|r| decode::<VariantRecord>(r.value()))
            .transpose()?
        else {
            self.hot.forget(key);
            return Ok(Lookup::Miss);
        };
        let meta = txn.open_table(META)?;
        if rec.gen != read_counter(&meta, &gen_key(token))? {
            self.hot.forget(key);
            return Ok(Lookup::Miss);
        }
        let originals = txn.open_table(ORIGINALS)?;
        let original_fetched = originals
            .get(rec.original.as_str())?
            .map(|r| decode::<OriginalRecord>(r.value()))
            .transpose()?
            // File origins are never fetched (0): they have no revalidation time.
            .filter(|o| o.fetched > 0)
            .map(|o| o.fetched);
        drop((variants, originals, meta, txn));
        let touch = self.schedule_touch(key, rec.accessed);
        Ok(
            match self
                .hot
                .revalidate(key, &rec.file, epoch, original_fetched, rec.accessed)
            {
                Some(e) => Lookup::Hit(hit(e, touch)),
                None => Lookup::OnDisk(OnDisk {
                    key: key.to_string(),
                    file: rec.file,
                    format: rec.format,
                    etag: rec.etag,
                    original_fetched,
                    accessed: rec.accessed,
                    epoch,
                    touch,
                }),
            },
        )
    }

    /// Reads an [`OnDisk`] entry's body (keeping it in memory when it is small). `None` when
    /// the file went away since the lookup (purged or evicted meanwhile): a miss.
    pub fn load(&self, d: OnDisk) -> Result<Option<CachedVariant>, CacheError> {
        let Some(bytes) = self.read(&d.file)? else {
            if let Some(t) = d.touch {
                self.cancel_touch(&t);
            }
            return Ok(None);
        };
        let bytes = Bytes::from(bytes);
        self.hot.put(
            &d.key,
            Entry {
                file: d.file,
                body: bytes.clone(),
                format: d.format.clone(),
                etag: d.etag.clone(),
                original_fetched: d.original_fetched,
                accessed: d.accessed,
                validated: d.epoch,
            },
        );
        Ok(Some(CachedVariant {
            bytes,
            format: d.format,
            etag: d.etag,
            original_fetched: d.original_fetched,
            touch: d.touch,
        }))
    }

    /// A cached variant, if present and not purged ([`Cache::lookup`] then [`Cache::load`]).
    pub fn variant(&self, v: VariantRef<'_>) -> Result<Option<CachedVariant>, CacheError> {
        match self.lookup(v)? {
            Lookup::Miss => Ok(None),
            Lookup::Hit(hit) => Ok(Some(hit)),
            Lookup::OnDisk(d) => self.load(d),
        }
    }

    /// Moves a hit entry to the young end of the LRU (a write transaction).
    pub fn touch(&self, t: &Touch) -> Result<(), CacheError> {
        let result = self.touch_entry(&t.key, t.accessed, true);
        if result.is_ok() {
            self.hot.accessed(&t.key, now());
        }
        self.cancel_touch(t);
        result
    }

    fn schedule_touch(&self, key: &str, accessed: u64) -> Option<Touch> {
        if !touch_due(accessed, now()) {
            return None;
        }
        let mut touching = self.touching.lock().unwrap_or_else(|p| p.into_inner());
        touching.insert(key.to_string()).then(|| Touch {
            key: key.to_string(),
            accessed,
        })
    }

    fn cancel_touch(&self, t: &Touch) {
        let mut touching = self.touching.lock().unwrap_or_else(|p| p.into_inner());
        touching.remove(&t.key);
    }

    /// Forgets every hot body (memory only; the index is the truth either way).
    pub fn clear_hot(&self) {
        self.hot.clear();
    }
}

fn hit(e: Served, touch: Option<Touch>) -> CachedVariant {
    CachedVariant {
        bytes: e.body,
        format: e.format,
        etag: e.etag,
        original_fetched: e.original_fetched,
        touch,
    }
}
