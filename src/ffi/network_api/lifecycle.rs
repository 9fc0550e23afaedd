//! The module's life and state: `network_module_init`/`exit`, readiness and reloads, restore and GC
//! after a restart, the last error and the plugin timeout.

use std::os::raw::{c_char, c_int, c_uint};
use std::path::PathBuf;
use std::ptr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use crate::cni::sync::Recover;
use crate::ffi::alloc::{opt_str, req_str};
use crate::ffi::guard::{guard, guard_keeping_error, last_error, report_reason};
use crate::network::{ModuleConfig, NetworkModule, NetworkType};

/// The module set up by `network_module_init`.
static MODULE: RwLock<Option<Arc<NetworkModule>>> = RwLock::new(None);

/// The default per-call plugin timeout in seconds; see `network_module_set_plugin_timeout`.
pub const CLIBCNI_DEFAULT_PLUGIN_TIMEOUT: c_uint = 120;
/// Timeout set by the caller (seconds + 1; 0 = never set).
static TIMEOUT_OVERRIDE: AtomicU64 = AtomicU64::new(0);

pub(super) fn module() -> Result<Arc<NetworkModule>, String> {
    let guard = MODULE.read().recover();
    guard.clone().ok_or_else(|| {
        "network module is not initialized (call network_module_init first)".to_string()
    })
}

/// The plugin timeout: set by the caller, else `CLIBCNI_PLUGIN_TIMEOUT` read at init, else the default.
pub(super) fn plugin_timeout() -> Option<Duration> {
    let seconds = match TIMEOUT_OVERRIDE.load(Ordering::Relaxed) {
        0 => std::env::var("CLIBCNI_PLUGIN_TIMEOUT")
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .unwrap_or(u64::from(CLIBCNI_DEFAULT_PLUGIN_TIMEOUT)),
        n => n - 1,
    };
    (seconds > 0).then(|| Duration::from_secs(seconds))
}

pub(super) fn network_type(ty: *const c_char) -> Result<NetworkType, String> {
    // SAFETY: the caller passes NULL or a C string.
    let name = unsafe { req_str(ty, "type") }?;
    NetworkType::parse(name).map_err(|e| e.msg)
}

/// Sets up the module: `conf_dir` defaults to /etc/cni/net.d, `bin_path` (';'-separated) to
/// /opt/cni/bin, `cache_dir` to /var/lib/cni. The "cri" type is enabled only when
/// `network_plugin` is not NULL. Calling it again replaces the module; calls still running on the
/// old one finish, and two calls on the same container never overlap, across modules too.
///
/// Plugins inherit the process environment as it is now (without proxy variables and the
/// caller's own CNI_*): it is captured here, once, so a later setenv/unsetenv in the daemon is
/// seen by plugins only after the next network_module_init.
#[no_mangle]
pub extern "C" fn network_module_init(
    network_plugin: *const c_char,
    cache_dir: *const c_char,
    conf_dir: *const c_char,
    bin_path: *const c_char,
) -> bool {
    guard("network_module_init", || {
        // SAFETY: each argument is NULL or a C string.
        let (plugin, cache, conf, bins) = unsafe {
            (
                opt_str(network_plugin, "network_plugin")?,
                opt_str(cache_dir, "cache_dir")?,
                opt_str(conf_dir, "conf_dir")?,
                opt_str(bin_path, "bin_path")?,
            )
        };
        let config = ModuleConfig {
            network_plugin: plugin.map(str::to_string),
            cache_dir: cache.filter(|s| !s.is_empty()).map(PathBuf::from),
            conf_dir: conf.filter(|s| !s.is_empty()).map(PathBuf::from),
            bin_path: bins.filter(|s| !s.is_empty()).map(str::to_string),
            warnings: None,
            observer: None,
        };
        let module = NetworkModule::init(config).map_err(|e| e.msg)?;
        module.cni().set_timeout(plugin_timeout());
        *MODULE.write().recover() = Some(Arc::new(module));
        Ok(true)
    })
}

/// Whether the type is ready: "native" has a network; "cri" has a default network whose plugins
/// answered STATUS at the last update (1.1.0 lists). When not, this thread's last error says why
/// (the daemon's error message is left alone). An unknown type is not ready.
#[no_mangle]
pub extern "C" fn network_module_ready(r#type: *const c_char) -> bool {
    guard("network_module_ready", || {
        let ty = network_type(r#type)?;
        match module()?.readiness(ty) {
            Ok(()) => Ok(true),
            Err(reason) => {
                report_reason(&reason);
                Ok(false)
            }
        }
    })
}

/// Reloads the conf dir ("cri"); cheap when nothing changed.
#[no_mangle]
pub extern "C" fn network_module_update(r#type: *const c_char) -> c_int {
    guard("network_module_update", || {
        let ty = network_type(r#type)?;
        module()?.update(ty).map_err(|e| e.msg)?;
        Ok(0)
    })
}

/// Releases the module; `network_module_init` may be called again afterwards. Keeps this
/// thread's last error.
#[no_mangle]
pub extern "C" fn network_module_exit() {
    guard_keeping_error("network_module_exit", || {
        *MODULE.write().recover() = None;
        Ok(())
    })
}

/// Records that a container is attached to a native network (daemon restore).
#[no_mangle]
pub extern "C" fn network_module_container_list_add(
    r#type: *const c_char,
    network_name: *const c_char,
    cont_id: *const c_char,
) -> c_int {
    guard("network_module_container_list_add", || {
        // SAFETY: both are NULL or C strings.
        let (network, container) = unsafe {
            (
                req_str(network_name, "network_name")?,
                req_str(cont_id, "cont_id")?,
            )
        };
        let ty = network_type(r#type)?;
        module()?
            .add_container(ty, network, container)
            .map_err(|e| e.msg)?;
        Ok(0)
    })
}

/// Releases the cached attachments of `type`'s networks ("native" or "cri") whose container is
/// not in `live_container_ids[0..len)` and was not attached since `network_module_init`: the
/// daemon calls it once after restoring its containers, so addresses, links and rules of
/// containers that died with the daemon are given back. For each: DEL with the cached
/// configuration, args and capability args (and CNI GC for 1.1.0 lists), then its cache entry
/// goes. Returns the number of attachments released, or -1 with every failure in the last error
/// (each is also logged at WARN); one failing network does not stop the others.
/// `live_container_ids` may be NULL only when `len` is 0.
#[no_mangle]
pub extern "C" fn network_module_gc(
    r#type: *const c_char,
    live_container_ids: *mut *const c_char,
    len: usize,
) -> c_int {
    guard("network_module_gc", || {
        let ty = network_type(r#type)?;
        if len > 0 && live_container_ids.is_null() {
            return Err("live_container_ids is NULL but len is not 0".into());
        }
        let mut live = Vec::with_capacity(len);
        for i in 0..len {
            // SAFETY: the caller passes `len` valid entries, each NULL or a C string.
            let id = unsafe {
                req_str(
                    *live_container_ids.add(i),
                    &format!("live_container_ids[{i}]"),
                )
            }?;
            live.push(id.to_string());
        }
        let released = module()?.gc(ty, &live).map_err(|e| e.msg)?;
        Ok(c_int::try_from(released).unwrap_or(c_int::MAX))
    })
}

/// This thread's last error message, or NULL. Every call that can fail clears it on entry and
/// sets it (with the daemon's message) when it fails or succeeds with a warning; the `free_*`
/// functions, `network_module_exit` and `network_module_set_plugin_timeout` leave it alone, so
/// it stays valid across them until the next call that can fail.
#[no_mangle]
pub extern "C" fn network_module_last_error() -> *const c_char {
    std::panic::catch_unwind(last_error).unwrap_or(ptr::null())
}

/// The per-call plugin timeout in seconds (0: none). Default `CLIBCNI_DEFAULT_PLUGIN_TIMEOUT`,
/// or `CLIBCNI_PLUGIN_TIMEOUT` from the environment at init. Keeps this thread's last error.
#[no_mangle]
pub extern "C" fn network_module_set_plugin_timeout(seconds: c_uint) {
    guard_keeping_error("network_module_set_plugin_timeout", || {
        TIMEOUT_OVERRIDE.store(u64::from(seconds) + 1, Ordering::Relaxed);
        if let Ok(m) = module() {
            m.cni().set_timeout(plugin_timeout());
        }
        Ok(())
    })
}
