//! Write-side helpers over one transaction's open tables: the only code that removes index
//! entries, so size and entry counters stay consistent with the records.

use redb::{MultimapTable, ReadableMultimapTable, ReadableTable, Table, WriteTransaction};

use crate::error::CacheError;
use crate::index::*;

pub struct Tables<'txn> {
    pub originals: Table<'txn, &'static str, &'static [u8]>,
    pub variants: Table<'txn, &'static str, &'static [u8]>,
    pub by_url: Table<'txn, &'static str, &'static str>,
    pub children: MultimapTable<'txn, &'static str, &'static str>,
    pub lru: Table<'txn, (u64, &'static str), u64>,
    pub meta: Table<'txn, &'static str, u64>,
}

impl<'txn> Tables<'txn> {
    pub fn open(txn: &'txn WriteTransaction) -> Result<Tables<'txn>, CacheError> {
        Ok(Tables {
            originals: txn.open_table(ORIGINALS)?,
            variants: txn.open_table(VARIANTS)?,
            by_url: txn.open_table(BY_URL)?,
            children: txn.open_multimap_table(CHILDREN)?,
            lru: txn.open_table(LRU)?,
            meta: txn.open_table(META)?,
        })
    }

    pub fn generation(&self, token: &str) -> Result<u64, CacheError> {
        read_counter(&self.meta, &gen_key(token))
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
            self.add(&entries_key(token), -1)?;
        }
        Ok(())
    }

    /// Removes a variant's record, its link from its original and its LRU slot. Its file is
    /// pushed to `files` for unlinking after commit.
    pub fn remove_variant(
        &mut self,
        key: &str,
        files: &mut Vec<String>,
    ) -> Result<bool, CacheError> {
        let Some(rec) = self.variant(key)? else {
            return Ok(false);
        };
        self.variants.remove(key)?;
        self.children.remove(rec.original.as_str(), key)?;
        self.lru.remove((rec.accessed, key))?;
        self.add(SIZE, -(rec.size as i64))?;
        self.uncount(&rec.token, rec.gen)?;
        files.push(rec.file);
        Ok(true)
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
            self.add(SIZE, -(rec.size as i64))?;
            files.push(f);
        }
        self.uncount(&rec.token, rec.gen)?;
        Ok(true)
    }

    /// Variant keys of an original.
    pub fn children_of(&self, original: &str) -> Result<Vec<String>, CacheError> {
        let mut out = Vec::new();
        for v in self.children.get(original)? {
            out.push(v?.value().to_string());
        }
        Ok(out)
    }
}
