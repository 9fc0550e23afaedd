//! Serialises operations on the same key (a container) while letting different keys run in
//! parallel. The spec forbids parallel operations on one container, across all its attachments.

use std::collections::BTreeSet;
use std::sync::{Condvar, Mutex, MutexGuard};

use crate::cni::sync::Recover;

pub struct KeyedLock<K> {
    state: Mutex<State<K>>,
    freed: Condvar,
}

struct State<K> {
    busy: BTreeSet<K>,
    /// Lockers waiting for a key: a release with none wakes nobody (no futex call).
    waiting: usize,
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
            state: Mutex::new(State {
                busy: BTreeSet::new(),
                waiting: 0,
            }),
            freed: Condvar::new(),
        }
    }

    /// Waits until no other guard holds `key`, then holds it.
    pub fn lock(&self, key: K) -> KeyGuard<'_, K> {
        let mut state = self.state();
        while state.busy.contains(&key) {
            state.waiting += 1;
            state = self.freed.wait(state).recover();
            state.waiting -= 1;
        }
        state.busy.insert(key.clone());
        KeyGuard { owner: self, key }
    }
}

impl<K: Ord> KeyedLock<K> {
    fn state(&self) -> MutexGuard<'_, State<K>> {
        // The state stays consistent even if a holder panicked: guards still remove their key.
        self.state.lock().recover()
    }
}

impl<K: Ord> Drop for KeyGuard<'_, K> {
    fn drop(&mut self) {
        let mut state = self.owner.state();
        state.busy.remove(&self.key);
        if state.waiting > 0 {
            drop(state);
            self.owner.freed.notify_all();
        }
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
        let state = lock.state();
        assert!(state.busy.is_empty());
        assert_eq!(state.waiting, 0, "every waiter was woken and left");
    }
}
