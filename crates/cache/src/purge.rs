//! Invalidation: removing entries by exact variant, by original (exact or prefix wildcard,
//! optionally only variants whose spec contains given parameters), or everything of a token.
//! Each purge is one durable transaction; it is in effect when the call returns. Files are
//! unlinked after the commit (by the caller, possibly in the background).

use redb::ReadableTable;

use crate::error::CacheError;
use crate::index::*;
use crate::key::{url_key, OriginalRef};
use crate::store::Cache;
use crate::tables::Tables;

/// Which originals a purge names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OriginalPattern {
    /// One canonical origin URL.
    Exact(String),
    /// Every canonical origin URL starting with this text (`.../avatars/*`).
    Prefix(String),
}

/// What a purge removed. `files` are to be unlinked (see [`Cache::unlink`]).
#[derive(Debug, Default)]
pub struct Purged {
    pub removed: u64,
    pub files: Vec<String>,
}

impl Cache {
    /// Removes the variants of `(original URL, canonical spec)` pairs, in every output class.
    pub fn purge_variants(
        &self,
        token: &str,
        items: &[(String, String)],
    ) -> Result<Purged, CacheError> {
        let mut p = Purged::default();
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            for (url, spec) in items {
                let okey = OriginalRef { token, url }.key();
                p.removed += t.remove_variants_where(&okey, |r| &r.spec == spec, &mut p.files)?;
            }
            t.flush()?;
        }
        txn.commit()?;
        self.epoch.bump();
        Ok(p)
    }

    /// Removes originals matching `patterns` with all their variants; or, with `filters`,
    /// only the variants whose canonical spec contains every `name=value` pair of at least one
    /// filter (and the originals stay).
    pub fn purge_originals(
        &self,
        token: &str,
        patterns: &[OriginalPattern],
        filters: Option<&[Vec<(String, String)>]>,
    ) -> Result<Purged, CacheError> {
        let mut p = Purged::default();
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            let mut originals = Vec::new();
            for pattern in patterns {
                match pattern {
                    OriginalPattern::Exact(url) => originals.push(OriginalRef { token, url }.key()),
                    OriginalPattern::Prefix(prefix) => {
                        let start = url_key(token, prefix);
                        for row in t.by_url.range(start.as_str()..)? {
                            let (k, v) = row?;
                            if !k.value().starts_with(start.as_str()) {
                                break;
                            }
                            originals.push(v.value().to_string());
                        }
                    }
                }
            }
            originals.sort();
            originals.dedup();
            for okey in originals {
                p.removed += t.remove_variants_where(
                    &okey,
                    |r| filters.is_none_or(|fs| fs.iter().any(|f| spec_contains(&r.spec, f))),
                    &mut p.files,
                )?;
                if filters.is_none() && t.remove_original(&okey, &mut p.files)? {
                    p.removed += 1;
                }
            }
            t.flush()?;
        }
        txn.commit()?;
        self.epoch.bump();
        Ok(p)
    }

    /// Makes every entry of `token` unreachable in O(1) by bumping its generation; returns
    /// how many entries that dropped. [`Cache::collect_stale`] removes them afterwards.
    pub fn purge_all(&self, token: &str) -> Result<u64, CacheError> {
        let txn = self.write_txn()?;
        let removed;
        {
            let mut t = Tables::open(&txn)?;
            removed = read_counter(&t.meta, &entries_key(token))?;
            t.add(&gen_key(token), 1)?;
            t.meta.insert(entries_key(token).as_str(), 0)?;
            t.flush()?;
        }
        txn.commit()?;
        self.epoch.bump();
        Ok(removed)
    }

    /// Deletes the entries of `token` left behind by [`Cache::purge_all`], in batches so that
    /// writers are not held up. Returns the files to unlink.
    pub fn collect_stale(&self, token: &str) -> Result<Vec<String>, CacheError> {
        const BATCH: usize = 1000;
        let mut files = Vec::new();
        let mut after = url_key(token, "");
        loop {
            let txn = self.write_txn()?;
            let done;
            {
                let mut t = Tables::open(&txn)?;
                let gen = t.generation(token)?;
                let prefix = url_key(token, "");
                let mut batch = Vec::new();
                for row in t.by_url.range(after.as_str()..)? {
                    let (k, v) = row?;
                    if !k.value().starts_with(prefix.as_str()) || batch.len() == BATCH {
                        break;
                    }
                    if k.value() != after {
                        batch.push((k.value().to_string(), v.value().to_string()));
                    }
                }
                done = batch.len() < BATCH;
                for (url, okey) in &batch {
                    t.remove_variants_where(okey, |r| r.gen < gen, &mut files)?;
                    if t.original(okey)?.is_some_and(|r| r.gen < gen) {
                        t.remove_original(okey, &mut files)?;
                    }
                    after = url.clone();
                }
                t.flush()?;
            }
            txn.commit()?;
            if done {
                return Ok(files);
            }
        }
    }
}

/// Whether a canonical spec (`a=1&b=2`) contains every pair of `filter`.
fn spec_contains(spec: &str, filter: &[(String, String)]) -> bool {
    filter.iter().all(|(k, v)| {
        spec.split('&')
            .filter_map(|p| p.split_once('='))
            .any(|(sk, sv)| sk == k && sv == v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_filters() {
        let f = |s: &[(&str, &str)]| -> Vec<(String, String)> {
            s.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        assert!(spec_contains("h=100&w=200", &f(&[("w", "200")])));
        assert!(spec_contains(
            "force_format=jpeg&w=1",
            &f(&[("force_format", "jpeg"), ("w", "1")])
        ));
        assert!(!spec_contains("w=2000", &f(&[("w", "200")])));
        assert!(!spec_contains("", &f(&[("w", "200")])));
    }
}
