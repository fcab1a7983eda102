//! Hot variants in memory: a byte-budgeted LRU of small variant bodies in front of their files.
//!
//! Owns: which bodies stay in memory and for how long. Must not: decide whether an entry is
//! valid. Every hit still reads the variant's index row (one read transaction), and a body is
//! served from memory only when that row names the same file the body was read from. File
//! names are never reused, so a purge or a replacement by this process or by another one
//! (`imgd invalidate` beside a running server) takes effect on the next request, with no
//! message between processes.

use std::sync::Mutex;

use bytes::Bytes;
use lru::LruCache;

/// Bounds of the hot tier.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HotBudget {
    /// Total bytes of bodies kept in memory (0 turns the tier off).
    pub bytes: usize,
    /// Larger bodies are always read from their file.
    pub max_item: usize,
}

/// A hot body and what its index row said when it was last validated.
#[derive(Debug)]
pub(crate) struct Entry {
    /// The file the body was read from (relative to `objects/`).
    pub file: String,
    pub body: Bytes,
    pub format: String,
    pub etag: String,
    pub original_fetched: Option<u64>,
    /// The row's last LRU move.
    pub accessed: u64,
    /// The change epoch at which the row was read.
    pub validated: u64,
}

/// What a hit needs from an entry (not its file name: no copy of that per hit).
#[derive(Debug, Clone)]
pub(crate) struct Served {
    pub body: Bytes,
    pub format: String,
    pub etag: String,
    pub original_fetched: Option<u64>,
    pub accessed: u64,
}

impl Entry {
    fn served(&self) -> Served {
        Served {
            body: self.body.clone(),
            format: self.format.clone(),
            etag: self.etag.clone(),
            original_fetched: self.original_fetched,
            accessed: self.accessed,
        }
    }
}

struct Inner {
    map: LruCache<String, Entry>,
    used: usize,
}

pub(crate) struct Hot {
    budget: HotBudget,
    inner: Mutex<Inner>,
}

impl Hot {
    pub fn new(budget: HotBudget) -> Hot {
        Hot {
            budget,
            inner: Mutex::new(Inner {
                map: LruCache::unbounded(),
                used: 0,
            }),
        }
    }

    /// The entry of `key` if it was validated at `epoch`: still exactly what the index says.
    pub fn fresh(&self, key: &str, epoch: u64) -> Option<Served> {
        if self.budget.bytes == 0 {
            return None;
        }
        let mut inner = self.lock();
        let entry = inner.map.get(key)?;
        (entry.validated == epoch).then(|| entry.served())
    }

    /// After an index read at `epoch` found the row naming `file`: the entry, marked valid at
    /// `epoch`, if its body was read from that file. A body from another file (the entry was
    /// purged and made again) is dropped.
    pub fn revalidate(
        &self,
        key: &str,
        file: &str,
        epoch: u64,
        original_fetched: Option<u64>,
        accessed: u64,
    ) -> Option<Served> {
        if self.budget.bytes == 0 {
            return None;
        }
        let mut inner = self.lock();
        let entry = inner.map.get_mut(key)?;
        if entry.file == file {
            entry.validated = epoch;
            entry.original_fetched = original_fetched;
            entry.accessed = accessed;
            return Some(entry.served());
        }
        if let Some(old) = inner.map.pop(key) {
            inner.used -= old.body.len();
        }
        None
    }

    /// Records an LRU move of `key`'s row.
    pub fn accessed(&self, key: &str, at: u64) {
        if let Some(e) = self.lock().map.peek_mut(key) {
            e.accessed = at;
        }
    }

    /// Keeps `entry` in memory when it fits, evicting the least recently used bodies beyond
    /// the budget.
    pub fn put(&self, key: &str, entry: Entry) {
        let len = entry.body.len();
        if len > self.budget.max_item || len > self.budget.bytes {
            return;
        }
        let mut inner = self.lock();
        if let Some(old) = inner.map.put(key.to_string(), entry) {
            inner.used -= old.body.len();
        }
        inner.used += len;
        while inner.used > self.budget.bytes {
            match inner.map.pop_lru() {
                Some((_, old)) => inner.used -= old.body.len(),
                None => break,
            }
        }
    }

    /// Drops the body of `key` (its entry is gone from the index).
    pub fn forget(&self, key: &str) {
        if self.budget.bytes == 0 {
            return;
        }
        let mut inner = self.lock();
        if let Some(old) = inner.map.pop(key) {
            inner.used -= old.body.len();
        }
    }

    /// Drops every body (after `all` purges, to give the memory back at once).
    pub fn clear(&self) {
        let mut inner = self.lock();
        inner.map.clear();
        inner.used = 0;
    }

    /// Bytes of bodies held.
    pub fn used(&self) -> usize {
        self.lock().used
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        // A panic while holding the lock cannot leave `Inner` inconsistent in a way that
        // matters (at worst `used` is off until entries are dropped), so poisoning is ignored.
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl HotBudget {
    pub const OFF: HotBudget = HotBudget {
        bytes: 0,
        max_item: 0,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file: &str, n: usize) -> Entry {
        Entry {
            file: file.into(),
            body: Bytes::from(vec![7u8; n]),
            format: "jpeg".into(),
            etag: "e".into(),
            original_fetched: None,
            accessed: 0,
            validated: 1,
        }
    }

    fn hot() -> Hot {
        Hot::new(HotBudget {
            bytes: 100,
            max_item: 50,
        })
    }

    #[test]
    fn fresh_only_at_the_epoch_it_was_validated() {
        let hot = hot();
        hot.put("k", entry("f1", 10));
        assert_eq!(hot.fresh("k", 1).map(|e| e.body.len()), Some(10));
        assert!(hot.fresh("k", 2).is_none(), "something committed since");
        // The index still names f1: valid again, at the new epoch.
        assert!(hot.revalidate("k", "f1", 2, Some(5), 9).is_some());
        let e = hot.fresh("k", 2).unwrap();
        assert_eq!((e.original_fetched, e.accessed), (Some(5), 9));
    }

    #[test]
    fn a_body_from_another_file_is_dropped() {
        let hot = hot();
        hot.put("k", entry("f1", 10));
        assert!(hot.revalidate("k", "f2", 2, None, 0).is_none());
        assert!(hot.fresh("k", 1).is_none());
        assert_eq!(hot.used(), 0);
    }

    #[test]
    fn stays_within_its_budget_dropping_the_least_recent() {
        let hot = hot();
        hot.put("a", entry("fa", 40));
        hot.put("b", entry("fb", 40));
        assert!(hot.fresh("a", 1).is_some(), "a is now the most recent");
        hot.put("c", entry("fc", 40));
        assert!(hot.fresh("b", 1).is_none(), "b was the least recent");
        assert!(hot.fresh("a", 1).is_some() && hot.fresh("c", 1).is_some());
        assert_eq!(hot.used(), 80);
        hot.put("big", entry("fbig", 51));
        assert!(hot.fresh("big", 1).is_none(), "over max_item");
        hot.forget("a");
        assert_eq!(hot.used(), 40);
        hot.clear();
        assert_eq!(hot.used(), 0);
    }

    #[test]
    fn off_keeps_nothing() {
        let hot = Hot::new(HotBudget::OFF);
        hot.put("k", entry("f", 1));
        assert!(hot.fresh("k", 1).is_none());
    }
}
