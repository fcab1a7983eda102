//! The change epoch: one counter in a small memory-mapped file (`DIR/epoch`) shared by every
//! process that opens the cache (the server, `imgd invalidate`, other servers on the host).
//!
//! Owns: the counter. Every write that can make a cached answer wrong (a purge, an eviction,
//! a replaced entry, a revalidated original) bumps it after its commit. A hot body validated
//! against the index at epoch E may be served without reading the index again while the
//! epoch is still E: nothing that could change the answer has committed since. Must not:
//! be relied on for anything but skipping a re-read; the index stays the truth.

use std::fs::OpenOptions;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};

use memmap2::MmapMut;

use crate::error::CacheError;

pub(crate) struct Epoch {
    map: MmapMut,
}

impl Epoch {
    pub fn open(dir: &Path) -> Result<Epoch, CacheError> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(dir.join("epoch"))?;
        // Idempotent when several processes race to create it; never shrinks it.
        if file.metadata()?.len() < 8 {
            file.set_len(8)?;
        }
        // SAFETY: the file is only ever accessed through this mapping's atomic cell (in this
        // and other processes); it is 8 bytes long and never truncated while mapped.
        let map = unsafe { MmapMut::map_mut(&file)? };
        Ok(Epoch { map })
    }

    pub fn current(&self) -> u64 {
        self.cell().load(Ordering::Acquire)
    }

    /// Called after a commit that changed what a lookup would answer.
    pub fn bump(&self) {
        self.cell().fetch_add(1, Ordering::AcqRel);
    }

    fn cell(&self) -> &AtomicU64 {
        // SAFETY: the mapping is page-aligned (so aligned for u64), at least 8 bytes long,
        // lives as long as `self`, and is only accessed atomically.
        unsafe { &*self.map.as_ptr().cast::<AtomicU64>() }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_mappings_share_one_counter() {
        let dir = tempfile::tempdir().unwrap();
        let a = Epoch::open(dir.path()).unwrap();
        let b = Epoch::open(dir.path()).unwrap();
        let start = a.current();
        b.bump();
        assert_eq!(a.current(), start + 1);
        assert_eq!(
            std::fs::metadata(dir.path().join("epoch")).unwrap().len(),
            8
        );
    }
}
