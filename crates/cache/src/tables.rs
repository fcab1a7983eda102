//! Write-side helpers over one transaction's open tables: the only code that removes index
//! entries, so size and entry counters stay consistent with the records.

use std::collections::HashMap;

use redb::{ReadableTable, Table, WriteTransaction};

use crate::error::CacheError;
use crate::index::*;

pub struct Tables<'txn> {
    pub originals: Table<'txn, &'static str, &'static [u8]>,
    pub variants: Table<'txn, &'static str, &'static [u8]>,
    pub by_url: Table<'txn, &'static str, &'static str>,
    pub lru: Table<'txn, (u64, &'static str), u64>,
    pub meta: Table<'txn, &'static str, u64>,
    /// Counter changes, applied once by [`Tables::flush`] rather than per entry (a purge of
    /// 10⁵ entries would otherwise rewrite the same counters 10⁵ times).
    size_delta: i64,
    entries_delta: HashMap<String, i64>,
    gens: HashMap<String, u64>,
}

impl<'txn> Tables<'txn> {
    pub fn open(txn: &'txn WriteTransaction) -> Result<Tables<'txn>, CacheError> {
        Ok(Tables {
            originals: txn.open_table(ORIGINALS)?,
            variants: txn.open_table(VARIANTS)?,
            by_url: txn.open_table(BY_URL)?,
            lru: txn.open_table(LRU)?,
            meta: txn.open_table(META)?,
            size_delta: 0,
            entries_delta: HashMap::new(),
            gens: HashMap::new(),
        })
    }

    /// The token's generation (bumped by purge-all), read once per transaction.
    pub fn generation(&mut self, token: &str) -> Result<u64, CacheError> {
        if let Some(g) = self.gens.get(token) {
            return Ok(*g);
        }
        let g = read_counter(&self.meta, &gen_key(token))?;
        self.gens.insert(token.to_string(), g);
        Ok(g)
    }

    pub fn add_size(&mut self, delta: i64) {
        self.size_delta += delta;
    }

    /// Counts current-generation entries of `token` coming (+) or going (−).
    pub fn count(&mut self, token: &str, delta: i64) {
        *self.entries_delta.entry(token.to_string()).or_default() += delta;
    }

    /// Writes the pending counter changes. Every write transaction calls it before commit.
    pub fn flush(&mut self) -> Result<(), CacheError> {
        let size = std::mem::take(&mut self.size_delta);
        if size != 0 {
            self.add(SIZE, size)?;
        }
        for (token, delta) in std::mem::take(&mut self.entries_delta) {
            if delta != 0 {
                self.add(&entries_key(&token), delta)?;
            }
        }
        Ok(())
    }

    pub fn add(&mut self, key: &str, delta: i64) -> Result<(), CacheError> {
        let v = read_counter(&self.meta, key)?;
        let next = if delta < 0 {
            v.saturating_sub(delta.unsigned_abs())
        } else {
            v + delta as u64
        };
        self.meta.insert(key, next)?;
        Ok(())
    }

    pub fn original(&self, key: &str) -> Result<Option<OriginalRecord>, CacheError> {
        self.originals
            .get(key)?
            .map(|v| decode(v.value()))
            .transpose()
    }

    pub fn variant(&self, key: &str) -> Result<Option<VariantRecord>, CacheError> {
        self.variants
            .get(key)?
            .map(|v| decode(v.value()))
            .transpose()
    }

    /// Counts an entry leaving (only current-generation entries are counted).
    fn uncount(&mut self, token: &str, gen: u64) -> Result<(), CacheError> {
        if gen == self.generation(token)? {
            self.count(token, -1);
        }
        Ok(())
    }

    /// Removes a variant's record (its LRU row goes stale). Its file is pushed to `files` for
    /// unlinking after commit.
    pub fn remove_variant(
        &mut self,
        key: &str,
        files: &mut Vec<String>,
    ) -> Result<bool, CacheError> {
        let Some(rec) = self.variant(key)? else {
            return Ok(false);
        };
        self.variants.remove(key)?;
        self.forget_variant(rec, files)?;
        Ok(true)
    }

    fn forget_variant(
        &mut self,
        rec: VariantRecord,
        files: &mut Vec<String>,
    ) -> Result<(), CacheError> {
        self.add_size(-(rec.size as i64));
        self.uncount(&rec.token, rec.gen)?;
        files.push(rec.file);
        Ok(())
    }

    /// Removes the variants of `original` whose record satisfies `pred`, in one pass over their
    /// key range. Returns how many were removed.
    pub fn remove_variants_where(
        &mut self,
        original: &str,
        mut pred: impl FnMut(&VariantRecord) -> bool,
        files: &mut Vec<String>,
    ) -> Result<u64, CacheError> {
        let (start, end) = crate::key::variants_of(original);
        let mut removed = Vec::new();
        for row in self
            .variants
            .extract_if(start.as_str()..end.as_str(), |_, v| {
                decode::<VariantRecord>(v).is_ok_and(|r| pred(&r))
            })?
        {
            let (_, v) = row?;
            removed.push(decode::<VariantRecord>(v.value())?);
        }
        let n = removed.len() as u64;
        for rec in removed {
            self.forget_variant(rec, files)?;
        }
        Ok(n)
    }

    /// Removes an original's record, bytes and URL entry (not its variants).
    pub fn remove_original(
        &mut self,
        key: &str,
        files: &mut Vec<String>,
    ) -> Result<bool, CacheError> {
        let Some(rec) = self.original(key)? else {
            return Ok(false);
        };
        self.originals.remove(key)?;
        let url_key = crate::key::url_key(&rec.token, &rec.url);
        if self
            .by_url
            .get(url_key.as_str())?
            .is_some_and(|v| v.value() == key)
        {
            self.by_url.remove(url_key.as_str())?;
        }
        if let Some(f) = rec.file {
            self.lru.remove((rec.accessed, key))?;
            self.add_size(-(rec.size as i64));
            files.push(f);
        }
        self.uncount(&rec.token, rec.gen)?;
        Ok(true)
    }

    /// Whether an original has any variant.
    pub fn has_variants(&self, original: &str) -> Result<bool, CacheError> {
        let (start, end) = crate::key::variants_of(original);
        Ok(self
            .variants
            .range(start.as_str()..end.as_str())?
            .next()
            .is_some())
    }
}
