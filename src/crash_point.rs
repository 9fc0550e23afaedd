//! Crash points, for the crash tests only (feature `crash-points`, off in every real build): the places in the
//! writers where a process killed there leaves a state on disk of its own, e.g. a complete temp file not yet
//! renamed. `examples/crash_victim.rs` installs a hook that stops the process at the point a test names, so the
//! test kills it exactly there instead of at a guessed time. Without the feature `crash_point!` expands to
//! nothing: production code carries no trace of it.

/// Marks a crash point in a writer: `crash_point!(CacheTempWritten)`.
#[cfg(feature = "crash-points")]
macro_rules! crash_point {
    ($point:ident) => {
        $crate::crash_point::reach($crate::crash_point::CrashPoint::$point)
    };
}

#[cfg(not(feature = "crash-points"))]
macro_rules! crash_point {
    ($point:ident) => {};
}

#[cfg(feature = "crash-points")]
pub use hook::*;

#[cfg(feature = "crash-points")]
mod hook {
    use std::sync::OnceLock;

    /// The crash points, each named after the state a kill there leaves.
    #[derive(Clone, Copy, Debug, PartialEq, Eq)]
    pub enum CrashPoint {
        /// A cache entry's temp file is complete; the entry is not renamed into place yet.
        CacheTempWritten,
        /// The cache entry is renamed into place.
        CacheRenamed,
        /// A native conflist's temp file is complete and fsynced; the conflist is not linked into place yet.
        ConflistTempWritten,
        /// The conflist is linked into place; its temp file is still there.
        ConflistLinked,
        /// The conflist's temp file is removed; the directory is not fsynced yet.
        ConflistTempRemoved,
    }

    impl CrashPoint {
        pub const ALL: [CrashPoint; 5] = [
            CrashPoint::CacheTempWritten,
            CrashPoint::CacheRenamed,
            CrashPoint::ConflistTempWritten,
            CrashPoint::ConflistLinked,
            CrashPoint::ConflistTempRemoved,
        ];

        pub fn name(self) -> &'static str {
            match self {
                CrashPoint::CacheTempWritten => "cache-temp-written",
                CrashPoint::CacheRenamed => "cache-renamed",
                CrashPoint::ConflistTempWritten => "conflist-temp-written",
                CrashPoint::ConflistLinked => "conflist-linked",
                CrashPoint::ConflistTempRemoved => "conflist-temp-removed",
            }
        }
    }

    static HOOK: OnceLock<fn(CrashPoint)> = OnceLock::new();

    /// Installs the function every crash point calls; false when one is installed already.
    pub fn set_hook(hook: fn(CrashPoint)) -> bool {
        HOOK.set(hook).is_ok()
    }

    /// Called by `crash_point!`.
    pub fn reach(point: CrashPoint) {
        if let Some(hook) = HOOK.get() {
            hook(point);
        }
    }
}
