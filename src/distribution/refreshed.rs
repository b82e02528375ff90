//! A value read from the database and kept for a while (the organisation tree, the working-day
//! calendar): every process sees another's changes within the time it is kept, without a query
//! on every request.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// A value with the time it was read.
pub struct Refreshed<T> {
    slot: RwLock<(Instant, Arc<T>)>,
    keep_for: Duration,
}

impl<T> Refreshed<T> {
    pub fn new(value: T, keep_for: Duration) -> Refreshed<T> {
        Refreshed {
            slot: RwLock::new((Instant::now(), Arc::new(value))),
            keep_for,
        }
    }

    /// The value in hand while it is younger than the time it is kept for.
    pub fn fresh(&self) -> Option<Arc<T>> {
        let guard = self.slot.read().unwrap_or_else(|p| p.into_inner());
        (guard.0.elapsed() < self.keep_for).then(|| guard.1.clone())
    }

    /// Puts a value just read in hand.
    pub fn store(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        *self.slot.write().unwrap_or_else(|p| p.into_inner()) = (Instant::now(), value.clone());
        value
    }

    /// The value in hand, whatever its age, kept for another while: what a failed read falls
    /// back to, so one failure does not become a query per request.
    pub fn keep(&self) -> Arc<T> {
        let mut guard = self.slot.write().unwrap_or_else(|p| p.into_inner());
        guard.0 = Instant::now();
        guard.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_value_is_fresh_until_its_time_runs_out() {
        let kept = Refreshed::new(1, Duration::from_millis(50));
        assert_eq!(kept.fresh().as_deref(), Some(&1));
        std::thread::sleep(Duration::from_millis(60));
        assert!(kept.fresh().is_none());
        assert_eq!(*kept.keep(), 1);
        assert_eq!(kept.fresh().as_deref(), Some(&1), "kept for another while");
        assert_eq!(*kept.store(2), 2);
        assert_eq!(kept.fresh().as_deref(), Some(&2));
    }
}
