//! Serialises operations on the same key (a container) while letting different keys run in
//! parallel. The spec forbids parallel operations on one container, across all its attachments.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::cni::sync::Recover;

pub struct KeyedLock<K> {
    busy: Mutex<BTreeSet<K>>,
    freed: Condvar,
}

/// Holds a key until dropped.
pub struct KeyGuard<'a, K: Ord> {
    owner: &'a KeyedLock<K>,
    key: K,
}

impl<K: Ord + Clone> Default for KeyedLock<K> {
    fn default() -> KeyedLock<K> {
        KeyedLock::new()
    }
}

impl<K: Ord + Clone> KeyedLock<K> {
    /// Const, so that a process-wide table can be a plain static.
    pub const fn new() -> KeyedLock<K> {
        KeyedLock {
            busy: Mutex::new(BTreeSet::new()),
            freed: Condvar::new(),
        }
    }

    /// Waits until no other guard holds `key`, then holds it.
    pub fn lock(&self, key: K) -> KeyGuard<'_, K> {
        let mut busy = self.busy_set();
        while busy.contains(&key) {
            busy = self.freed.wait(busy).recover();
        }
        busy.insert(key.clone());
        KeyGuard { owner: self, key }
    }
}

impl<K: Ord> KeyedLock<K> {
    fn busy_set(&self) -> MutexGuard<'_, BTreeSet<K>> {
        // The set stays consistent even if a holder panicked: guards still remove their key.
        self.busy.lock().recover()
    }
}

impl<K: Ord> Drop for KeyGuard<'_, K> {
    fn drop(&mut self) {
        self.owner.busy_set().remove(&self.key);
        self.owner.freed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn same_key_is_exclusive_other_keys_are_not() {
        let lock = Arc::new(KeyedLock::<&str>::new());
        let inside = Arc::new(AtomicUsize::new(0));
        let max_inside = Arc::new(AtomicUsize::new(0));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (lock, inside, max_inside) = (lock.clone(), inside.clone(), max_inside.clone());
                std::thread::spawn(move || {
                    for _ in 0..20 {
                        let _g = lock.lock("same");
                        let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                        max_inside.fetch_max(now, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_micros(200));
                        inside.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(max_inside.load(Ordering::SeqCst), 1);

        let a = lock.lock("a");
        let b = lock.lock("b"); // would deadlock if keys were not independent
        drop((a, b));
        assert!(lock.busy_set().is_empty());
    }
}
