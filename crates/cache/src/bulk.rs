//! Bulk loading of index records without files, for benchmarks that need 10⁶ entries: one
//! transaction per batch instead of one per entry. Not used by the server.

use crate::error::CacheError;
use crate::index::*;
use crate::key::{OriginalRef, VariantRef};
use crate::store::{now, Cache};
use crate::tables::Tables;

impl Cache {
    /// Inserts, for each `(url, specs)`, an original record and one variant record per spec
    /// (class "source"), all in one transaction. The records name files that do not exist.
    #[doc(hidden)]
    pub fn bulk_load(
        &self,
        token: &str,
        originals: &[(String, Vec<String>)],
    ) -> Result<(), CacheError> {
        let txn = self.write_txn()?;
        {
            let mut t = Tables::open(&txn)?;
            let gen = t.generation(token)?;
            let now = now();
            let mut entries = 0i64;
            for (url, specs) in originals {
                let o = OriginalRef { token, url };
                let okey = o.key();
                let rec = OriginalRecord::without_bytes(token, url, now, now, gen);
                t.originals
                    .insert(okey.as_str(), encode(&rec)?.as_slice())?;
                t.by_url.insert(o.url_key().as_str(), okey.as_str())?;
                entries += 1;
                for spec in specs {
                    let vkey = VariantRef {
                        original: o,
                        spec,
                        class: "source",
                    }
                    .key();
                    let rec = VariantRecord {
                        token: token.to_string(),
                        original: okey.clone(),
                        spec: spec.clone(),
                        class: "source".into(),
                        format: "jpeg".into(),
                        etag: String::new(),
                        file: format!("{}/bench-{}", &vkey[..2], &vkey[65..]),
                        size: 1,
                        created: now,
                        accessed: now,
                        gen,
                    };
                    t.variants.insert(vkey.as_str(), encode(&rec)?.as_slice())?;
                    t.lru.insert((now, vkey.as_str()), 1)?;
                    entries += 1;
                }
                t.add_size(specs.len() as i64);
            }
            t.count(token, entries);
            t.flush()?;
        }
        txn.commit()?;
        Ok(())
    }
}
