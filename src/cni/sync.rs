//! Locks that outlive a panic elsewhere. Every critical section of the library leaves its data
//! valid, so a lock poisoned by a panicking thread (caught by the export guard) still holds good
//! data: it is used as it is instead of failing every later call.

use std::sync::{LockResult, PoisonError};

pub trait Recover<G> {
    /// The guard, poisoned or not.
    fn recover(self) -> G;
}

impl<G> Recover<G> for LockResult<G> {
    fn recover(self) -> G {
        self.unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn a_poisoned_lock_still_gives_its_data() {
        let lock = Mutex::new(1);
        let _ = std::panic::catch_unwind(|| {
            let _guard = lock.lock().unwrap();
            panic!("poison it");
        });
        assert!(lock.is_poisoned());
        *lock.lock().recover() += 1;
        assert_eq!(*lock.lock().recover(), 2);
    }
}
