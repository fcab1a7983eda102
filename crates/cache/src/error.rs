//! Cache failures. Index and file-system errors are kept apart so the server can tell a
//! broken disk from a bug.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum CacheError {
    /// The index database failed (open, transaction, table, storage or commit).
    #[error("cache index: {0}")]
    Index(String),
    /// A cache file could not be written or read.
    #[error("cache file: {0}")]
    Io(#[from] std::io::Error),
    /// An index record could not be decoded (a bug or a foreign file).
    #[error("cache record: {0}")]
    Record(#[from] serde_json::Error),
}

macro_rules! index_error {
    ($($t:ty),*) => {$(
        impl From<$t> for CacheError {
            fn from(e: $t) -> Self {
                CacheError::Index(e.to_string())
            }
        }
    )*};
}

index_error!(
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
    redb::SetDurabilityError
);
