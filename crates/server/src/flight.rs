//! Coalescing of identical concurrent work ("single flight"): the first caller for a key runs
//! the work; callers arriving while it runs wait for and share its result.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

use tokio::sync::OnceCell;

pub struct Flights<T> {
    running: Mutex<HashMap<String, Arc<OnceCell<T>>>>,
}

impl<T> Default for Flights<T> {
    fn default() -> Self {
        Flights {
            running: Mutex::new(HashMap::new()),
        }
    }
}

impl<T: Clone> Flights<T> {
    /// Runs `work` unless a flight for `key` is already running, in which case its result is
    /// awaited. Returns the result and whether this caller ran the work. If the running caller
    /// is cancelled (client gone), a waiting caller takes the work over.
    pub async fn run<F, Fut>(&self, key: &str, work: F) -> (T, bool)
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = T>,
    {
        let cell = {
            let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
            running.entry(key.to_string()).or_default().clone()
        };
        let mut ran = false;
        let value = cell
            .get_or_init(|| {
                ran = true;
                work()
            })
            .await
            .clone();
        let mut running = self.running.lock().unwrap_or_else(|e| e.into_inner());
        if running.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            running.remove(key);
        }
        (value, ran)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test]
    async fn concurrent_callers_share_one_run() {
        let flights = Arc::new(Flights::<usize>::default());
        let runs = Arc::new(AtomicUsize::new(0));
        let mut tasks = Vec::new();
        for _ in 0..20 {
            let (f, r) = (flights.clone(), runs.clone());
            tasks.push(tokio::spawn(async move {
                f.run("k", || async {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    r.fetch_add(1, Ordering::SeqCst) + 7
                })
                .await
            }));
        }
        let mut leaders = 0;
        for t in tasks {
            let (v, ran) = t.await.unwrap();
            assert_eq!(v, 7);
            leaders += usize::from(ran);
        }
        assert_eq!(runs.load(Ordering::SeqCst), 1);
        assert_eq!(leaders, 1);
        // Finished flights are forgotten: the next call runs again.
        let (v, ran) = flights.run("k", || async { 1 }).await;
        assert_eq!((v, ran), (1, true));
    }
}
