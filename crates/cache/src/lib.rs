//! # imgd-cache: persistent originals and variants, indexed for instant invalidation
//!
//! Files live under `DIR/objects/` with names derived from SHA-256 keys of canonical text
//! (never URL text); `DIR/index.redb` (redb, transactional) maps keys to records, each original
//! to its variants, access order to entries (LRU), and counts sizes.
//!
//! Invariants: a file is complete before the index names it (temporary name, rename, then
//! commit); the index never names a file that was unlinked (unlink after the commit that
//! forgot it); files the index does not name are swept at server start; a hit reads the index
//! once, and its body comes from memory only when the index still names the file it was read
//! from. No HTTP types, no async: callers run these blocking calls off the async runtime
//! (except [`Cache::lookup`], which touches no file and may run inline).

mod bulk;
mod epoch;
mod error;
mod hits;
mod hot;
mod index;
mod key;
mod purge;
mod store;
mod tables;

pub use error::CacheError;
pub use hits::{CachedVariant, Lookup, OnDisk, Touch};
pub use hot::HotBudget;
pub use key::{OriginalRef, VariantRef};
pub use purge::{OriginalPattern, Purged};
pub use store::{now, Audit, Cache, CachedOriginal, Validators};
