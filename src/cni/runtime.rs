//! The CNI operations on network lists (ADD, CHECK, DEL, GC, STATUS, VERSION, validation), with
//! the result cache and per-container serialisation.

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use serde_json::{Map, Value};

use crate::cni::cache::{CacheEntry, CachedAttachment, CachedResult, Found, ResultCache};
use crate::cni::conf::{FileStamp, NetworkConfigList, PluginConf};
use crate::cni::error::{codes, CniError, Error, Result};
use crate::cni::exec::{self, BaseEnv, CniVars, ExecOptions, ExecOutput};
use crate::cni::keyed_lock::{KeyGuard, KeyedLock};
use crate::cni::log::{self, log, Context, Level};
use crate::cni::request::{self, GcAttachment};
use crate::cni::result::CniResult;
use crate::cni::sync::Recover;
use crate::cni::validate;
use crate::cni::version::Version;

/// Receives warnings (tolerated problems such as a corrupt cache file) for the caller's log.
pub type WarningSink = Arc<dyn Fn(&str) + Send + Sync>;

/// One finished plugin call, as reported to an observer.
#[derive(Clone, Debug)]
pub struct PluginCall<'a> {
    pub plugin_type: &'a str,
    pub command: &'a str,
    /// Wall time from spawning the plugin to reaping it.
    pub elapsed: Duration,
    pub ok: bool,
}

/// Sees every plugin call (timings for `-v` output and benchmarks).
pub type CallObserver = Arc<dyn Fn(&PluginCall<'_>) + Send + Sync>;

/// One attachment of a container to a network.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RuntimeConf {
    pub container_id: String,
    pub netns: String,
    pub ifname: String,
    /// `CNI_ARGS` pairs, in order.
    pub args: Vec<(String, String)>,
    /// Capability args; each plugin receives those it declares in `capabilities`.
    pub capability_args: Map<String, Value>,
}

/// A plugin's VERSION answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PluginInfo {
    pub cni_version: String,
    pub supported_versions: Vec<String>,
}

/// The default per-call plugin timeout: generous, since plugins wait for iptables locks and a
/// daemon may run under valgrind.
pub const DEFAULT_PLUGIN_TIMEOUT: Duration = Duration::from_secs(120);

/// ADD, CHECK and DEL of one container, one at a time in the whole process. The key is the container id and the
/// cache dir (the state those operations share): every `CniConfig` on that dir shares the table, so a daemon that
/// re-initialises its module while calls are still running on the old one never runs two operations on one
/// container at once, while runtimes on different cache dirs stay independent.
static CONTAINERS: KeyedLock<ContainerKey> = KeyedLock::new();

/// A container of one cache dir; shared parts, so that the lock's copy of a key costs no allocation.
type ContainerKey = (Arc<Path>, Arc<str>);

/// A CNI runtime: where plugins and the cache live, and how plugins are run.
pub struct CniConfig {
    bin_dirs: Vec<PathBuf>,
    cni_path: String,
    cache: ResultCache,
    /// The cache dir as [`lock_container`](Self::lock_container) compares it.
    lock_dir: Arc<Path>,
    /// Per-call timeout in milliseconds; 0 means none.
    timeout_ms: AtomicU64,
    warnings: Option<WarningSink>,
    observer: Option<CallObserver>,
    /// The caller's environment as plugins inherit it, captured once (see [`CniConfig::new`]).
    base_env: BaseEnv,
    /// ADD/CHECK/DEL hold it shared, GC exclusively (the spec makes GC exclusive with ADD/DEL).
    gc: RwLock<()>,
    versions: Mutex<HashMap<PathBuf, (FileStamp, PluginInfo)>>,
}

/// The plugin calls of one operation: the CNI command, the plugins' environment (the caller's plus the six
/// CNI variables), built once for every plugin of the operation, and what the log says they are about.
struct Call<'a> {
    command: &'static str,
    env: exec::PluginEnv,
    network: &'a str,
    container_id: &'a str,
    ifname: &'a str,
}

impl CniConfig {
    /// Plugins inherit the process environment as it is now (filtered: [`BaseEnv`]): it is captured here, once,
    /// not re-read per operation, since a `setenv` from a C thread of the host is not covered by Rust's
    /// environment lock.
    pub fn new(bin_dirs: Vec<PathBuf>, cache_dir: impl Into<PathBuf>) -> CniConfig {
        let cni_path = bin_dirs
            .iter()
            .map(|d| d.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        let cache = ResultCache::new(cache_dir);
        CniConfig {
            bin_dirs,
            cni_path,
            lock_dir: cache.dir().components().collect::<PathBuf>().into(),
            cache,
            timeout_ms: AtomicU64::new(DEFAULT_PLUGIN_TIMEOUT.as_millis() as u64),
            warnings: None,
            observer: None,
            base_env: BaseEnv::capture(),
            gc: RwLock::new(()),
            versions: Mutex::new(HashMap::new()),
        }
    }

    pub fn with_warning_sink(mut self, sink: WarningSink) -> CniConfig {
        self.warnings = Some(sink);
        self
    }

    pub fn with_call_observer(mut self, observer: CallObserver) -> CniConfig {
        self.observer = Some(observer);
        self
    }

    /// Sets the per-call timeout (`None`: plugins may run forever).
    pub fn set_timeout(&self, timeout: Option<Duration>) {
        let ms = timeout.map_or(0, |t| t.as_millis().clamp(1, u64::MAX as u128) as u64);
        self.timeout_ms.store(ms, Ordering::Relaxed);
    }

    pub fn timeout(&self) -> Option<Duration> {
        match self.timeout_ms.load(Ordering::Relaxed) {
            0 => None,
            ms => Some(Duration::from_millis(ms)),
        }
    }

    pub fn bin_dirs(&self) -> &[PathBuf] {
        &self.bin_dirs
    }

    pub fn cache(&self) -> &ResultCache {
        &self.cache
    }

    /// ADD: runs the plugins in order, each with the previous result (converted to the list's
    /// version) as `prevResult`; caches and returns the final result.
    pub fn add_network_list(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<CniResult>> {
        let version = known_version(list)?;
        validate_attachment(list, rt)?;
        let cni_args = cni_args_string(&rt.args)?;
        let _gc = self.gc.read().recover();
        let _container = self.lock_container(&rt.container_id);
        let call = self.call("ADD", &list.name, Some(rt), &cni_args);
        let result = self.run_attachment_plugins(
            list,
            list.plugins.iter(),
            &call,
            rt,
            None,
            |plugin, out| {
                let parsed = CniResult::from_plugin_output(&out.stdout, version)
                    .and_then(|r| r.convert_to(version))
                    .map_err(|e| plugin_context(plugin, "add", e))?;
                Ok(Some(parsed))
            },
        )?;
        // The last plugin's result is what the cache keeps.
        let entry = Arc::new(CachedAttachment {
            container_id: rt.container_id.clone(),
            network_name: list.name.clone(),
            if_name: rt.ifname.clone(),
            netns: Some(rt.netns.clone()).filter(|n| !n.is_empty()),
            config: list.bytes.clone(),
            cni_args: rt.args.clone(),
            capability_args: rt.capability_args.clone(),
            result: result.clone().map(|r| CachedResult::Typed(r.as_written())),
        });
        self.cache.write_shared(entry).map_err(|e| {
            Error::cache(format!(
                "failed to set network {:?} cached result: {e}",
                list.name
            ))
        })?;
        Ok(result)
    }

    /// CHECK (0.4.0 and later, unless `disableCheck`): every plugin in order with the cached
    /// result as `prevResult`. Args missing or empty in the request come from the ones cached at ADD.
    /// Returns that cached result in the list's version (None when nothing is cached), so a caller
    /// that reports it does not read the cache a second time.
    pub fn check_network_list(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<CniResult>> {
        let version = known_version(list)?;
        if !version.supports_check() {
            return Err(Error::NotSupported(format!(
                "configuration version {:?} does not support the CHECK command",
                list.cni_version
            )));
        }
        if list.disable_check {
            return self.cached_result(list, rt);
        }
        validate_attachment(list, rt)?;
        let _gc = self.gc.read().recover();
        let _container = self.lock_container(&rt.container_id);
        let cache_error = |e: Error| {
            Error::cache(format!(
                "failed to get network {:?} cached result: {e}",
                list.name
            ))
        };
        let cached = self.recall(&list.name, rt).map_err(cache_error)?;
        let prev = match cached.as_deref().and_then(|c| c.result.as_ref()) {
            Some(result) => Some(result.in_version(version).map_err(cache_error)?),
            None => None,
        };
        let rt = with_cached_args(rt, cached.as_deref());
        let cni_args = cni_args_string(&rt.args)?;
        let call = self.call("CHECK", &list.name, Some(&rt), &cni_args);
        let plugins = list.plugins.iter();
        self.run_attachment_plugins(list, plugins, &call, &rt, prev.as_deref(), |_, _| Ok(None))?;
        Ok(prev.map(Cow::into_owned))
    }

    /// DEL: plugins in reverse order with the cached result as `prevResult` (0.4.0 and later);
    /// idempotent; a corrupt cache is dropped with a warning; the cache entry goes on success.
    pub fn del_network_list(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
        let _gc = self.gc.read().recover();
        self.del_unguarded(list, rt)
    }

    /// DEL without the GC lock (GC itself deletes stale attachments while holding it).
    fn del_unguarded(&self, list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
        let version = known_version(list)?;
        validate_attachment(list, rt)?;
        let _container = self.lock_container(&rt.container_id);
        let context = Context {
            network: Some(&list.name),
            container_id: Some(&rt.container_id),
            ..Context::default()
        };
        let cached = match self.recall(&list.name, rt) {
            Ok(cached) => cached,
            Err(e) => {
                self.warn(
                    context,
                    &format!("ignoring unreadable cache of network {:?}: {e}", list.name),
                );
                None
            }
        };
        let prev = cached
            .as_deref()
            .and_then(|c| c.result.as_ref())
            .filter(|_| version.supports_check())
            .and_then(|result| match result.in_version(version) {
                Ok(prev) => Some(prev),
                Err(e) => {
                    self.warn(
                        context,
                        &format!("ignoring cached result of network {:?}: {e}", list.name),
                    );
                    None
                }
            });
        let rt = with_cached_args(rt, cached.as_deref());
        let cni_args = cni_args_string(&rt.args)?;
        let call = self.call("DEL", &list.name, Some(&rt), &cni_args);
        let plugins = list.plugins.iter().rev();
        self.run_attachment_plugins(list, plugins, &call, &rt, prev.as_deref(), |_, _| Ok(None))?;
        if let Err(e) = self.cache.remove(&list.name, &rt.container_id, &rt.ifname) {
            self.warn(
                context,
                &format!("cannot remove cache of network {:?}: {e}", list.name),
            );
        }
        Ok(())
    }

    /// GC (unless `disableGC`): DEL of every cached attachment of this network that is not in
    /// `valid` (None: none is valid), then, for 1.1.0 lists, GC of every plugin. Every error is
    /// collected; the operation runs exclusively of ADD/DEL.
    pub fn gc_network_list(
        &self,
        list: &NetworkConfigList,
        valid: Option<&[GcAttachment]>,
    ) -> Result<()> {
        if list.disable_gc {
            return Ok(());
        }
        let valid = valid.unwrap_or(&[]);
        let keep: HashSet<(&str, &str)> = valid
            .iter()
            .map(|a| (a.container_id.as_str(), a.ifname.as_str()))
            .collect();
        let is_valid =
            |a: &CachedAttachment| keep.contains(&(a.container_id.as_str(), a.if_name.as_str()));
        self.release_stale(list, &is_valid, Some(valid)).map(drop)
    }

    /// Releases every cached attachment of `list` that `keep` refuses (DEL with its cached args and
    /// capability args, as GC does), then, for 1.1.0 lists that allow GC, GC of every plugin with
    /// `valid` (None: the attachments kept). `keep` is asked while ADD and DEL wait, so an attachment
    /// made meanwhile is never half-seen. Returns how many were released; every error is collected.
    pub fn release_stale(
        &self,
        list: &NetworkConfigList,
        keep: &dyn Fn(&CachedAttachment) -> bool,
        valid: Option<&[GcAttachment]>,
    ) -> Result<usize> {
        let _gc = self.gc.write().recover();
        let mut errors = Vec::new();
        let mut released = 0;
        let mut kept = Vec::new();
        match self.cache.network_attachments(&list.name) {
            Ok(attachments) => {
                for att in &attachments {
                    if keep(att) {
                        kept.push(GcAttachment {
                            container_id: att.container_id.clone(),
                            ifname: att.if_name.clone(),
                        });
                        continue;
                    }
                    let rt = RuntimeConf {
                        container_id: att.container_id.clone(),
                        netns: att.netns.clone().unwrap_or_default(),
                        ifname: att.if_name.clone(),
                        args: att.cni_args.clone(),
                        capability_args: att.capability_args.clone(),
                    };
                    match self.del_unguarded(list, &rt) {
                        Ok(()) => released += 1,
                        Err(e) => errors.push(Error::cache(format!(
                            "failed to delete stale attachment {} {}: {e}",
                            att.container_id, att.if_name
                        ))),
                    }
                }
            }
            Err(e) => errors.push(e),
        }
        if !list.disable_gc && list.version().is_ok_and(Version::supports_gc_and_status) {
            let valid = valid.unwrap_or(&kept);
            let call = self.call("GC", &list.name, None, "");
            for plugin in &list.plugins {
                let stdin = request::gc_request(&list.name, &list.cni_version, plugin, valid);
                if let Err(e) = self.run(plugin, &call, &stdin) {
                    errors.push(e);
                }
            }
        }
        Error::join(errors).map(|()| released)
    }

    /// STATUS (1.1.0 lists only): every plugin in order; the first error is returned with its
    /// code (50/51 tell why the network is not ready).
    pub fn status_network_list(&self, list: &NetworkConfigList) -> Result<()> {
        if !list.version().is_ok_and(Version::supports_gc_and_status) {
            return Ok(());
        }
        let call = self.call("STATUS", &list.name, None, "");
        for plugin in &list.plugins {
            self.run(
                plugin,
                &call,
                &request::status_request(&list.name, &list.cni_version, plugin),
            )?;
        }
        Ok(())
    }

    /// VERSION of one plugin, remembered while its binary is unchanged.
    pub fn get_version_info(&self, plugin_type: &str) -> Result<PluginInfo> {
        let path = exec::find_plugin(plugin_type, &self.bin_dirs)?;
        let stamp = std::fs::metadata(&path)
            .ok()
            .map(|m| FileStamp::from_metadata(&m));
        let remembered = self.versions.lock().recover().get(&path).cloned();
        if let (Some(stamp), Some((seen, info))) = (stamp, remembered) {
            if stamp == seen {
                return Ok(info);
            }
        }
        let vars = CniVars {
            command: "VERSION",
            container_id: "",
            netns: "dummy",
            ifname: "dummy",
            args: "",
            path: "dummy",
        };
        let call = Call {
            command: "VERSION",
            env: exec::build_env(&self.base_env, &vars),
            network: "",
            container_id: "",
            ifname: "",
        };
        let started = std::time::Instant::now();
        let finished = exec::run_plugin(
            &path,
            call.command,
            &request::version_request(),
            &call.env,
            &self.exec_options(),
        );
        log_plugin_run(&call, plugin_type, &finished, started.elapsed());
        let info = match finished.and_then(exec::Finished::into_output) {
            Ok(out) => decode_version_info(&out.stdout)?,
            // Plugins older than spec 0.2.0 know no VERSION command.
            Err(Error::Plugin { error, .. }) if error.msg == "unknown CNI_COMMAND: VERSION" => {
                PluginInfo {
                    cni_version: "0.1.0".into(),
                    supported_versions: vec!["0.1.0".into()],
                }
            }
            Err(e) => return Err(e),
        };
        if let Some(stamp) = stamp {
            self.versions
                .lock()
                .recover()
                .insert(path, (stamp, info.clone()));
        }
        Ok(info)
    }

    /// The versions every plugin of the list supports (known versions only), oldest first.
    pub fn supported_versions(&self, list: &NetworkConfigList) -> Result<Vec<Version>> {
        let mut common: Vec<Version> = Version::ALL.to_vec();
        for plugin in &list.plugins {
            let info = self.get_version_info(&plugin.plugin_type)?;
            common.retain(|v| {
                info.supported_versions
                    .iter()
                    .any(|s| Version::parse(s).ok() == Some(*v))
            });
        }
        Ok(common)
    }

    /// Checks that every plugin exists and supports the list's version; returns the
    /// capabilities the plugins enable. All problems are reported together.
    pub fn validate_network_list(&self, list: &NetworkConfigList) -> Result<Vec<String>> {
        let wanted = if list.cni_version.is_empty() {
            "0.1.0"
        } else {
            list.cni_version.as_str()
        };
        let mut errors = Vec::new();
        let mut caps: Vec<String> = Vec::new();
        for plugin in &list.plugins {
            match self.get_version_info(&plugin.plugin_type) {
                Ok(info) if info.supported_versions.iter().any(|v| v == wanted) => {}
                Ok(_) => errors.push(Error::Version(format!(
                    "plugin {} does not support config version {wanted:?}",
                    plugin.plugin_type
                ))),
                Err(e) => errors.push(e),
            }
            for cap in plugin.enabled_capabilities() {
                if !caps.iter().any(|c| c == cap) {
                    caps.push(cap.to_string());
                }
            }
        }
        Error::join(errors).map(|()| caps)
    }

    /// The cached ADD result of an attachment, in the list's version; None when nothing is cached.
    pub fn cached_result(
        &self,
        list: &NetworkConfigList,
        rt: &RuntimeConf,
    ) -> Result<Option<CniResult>> {
        let version = known_version(list)?;
        let cached = self.recall(&list.name, rt)?;
        cached
            .as_deref()
            .and_then(|c| c.result.as_ref())
            .map(|result| result.in_version(version).map(Cow::into_owned))
            .transpose()
    }

    /// The cached attachment (config, args, capability args, result); a legacy result-only file
    /// yields an attachment with only the result.
    pub fn cached_attachment(
        &self,
        network: &str,
        rt: &RuntimeConf,
    ) -> Result<Option<CachedAttachment>> {
        Ok(self.recall(network, rt)?.map(Arc::unwrap_or_clone))
    }

    /// [`cached_attachment`](Self::cached_attachment), sharing the cache memo's copy of what this process wrote.
    fn recall(&self, network: &str, rt: &RuntimeConf) -> Result<Option<Arc<CachedAttachment>>> {
        let found = self.cache.find(network, &rt.container_id, &rt.ifname)?;
        Ok(found.map(|found| match found {
            Found::Written(attachment) => attachment,
            Found::File(CacheEntry::V1(attachment)) => Arc::new(attachment),
            Found::File(CacheEntry::Legacy(result)) => Arc::new(CachedAttachment {
                container_id: rt.container_id.clone(),
                network_name: network.to_string(),
                if_name: rt.ifname.clone(),
                result: Some(CachedResult::Json(result)),
                ..CachedAttachment::default()
            }),
        }))
    }

    /// Every cached attachment (of one container, if given).
    pub fn cached_attachments(&self, container_id: Option<&str>) -> Result<Vec<CachedAttachment>> {
        self.cache.attachments(container_id)
    }

    /// Removes the cache's temp files of writers killed mid-write (a daemon calls this when it starts); what cannot
    /// be removed goes to the warning sink.
    pub fn remove_abandoned_cache_temps(&self) {
        for problem in self.cache.remove_abandoned_temps() {
            self.warn(Context::default(), &problem);
        }
    }

    /// Holds the container (see [`CONTAINERS`]); the cache dir is compared as written, without `.` parts or a
    /// trailing slash.
    fn lock_container(&self, container_id: &str) -> KeyGuard<'static, ContainerKey> {
        CONTAINERS.lock((Arc::clone(&self.lock_dir), container_id.into()))
    }

    fn exec_options(&self) -> ExecOptions {
        ExecOptions {
            timeout: self.timeout(),
            ..ExecOptions::default()
        }
    }

    /// The calls of one operation of `network` on the attachment `rt` (None for GC and STATUS).
    fn call<'a>(
        &self,
        command: &'static str,
        network: &'a str,
        rt: Option<&'a RuntimeConf>,
        cni_args: &str,
    ) -> Call<'a> {
        let vars = CniVars {
            command,
            container_id: rt.map_or("", |r| r.container_id.as_str()),
            netns: rt.map_or("", |r| r.netns.as_str()),
            ifname: rt.map_or("", |r| r.ifname.as_str()),
            args: cni_args,
            path: &self.cni_path,
        };
        Call {
            command,
            env: exec::build_env(&self.base_env, &vars),
            network,
            container_id: rt.map_or("", |r| r.container_id.as_str()),
            ifname: rt.map_or("", |r| r.ifname.as_str()),
        }
    }

    /// ADD, CHECK and DEL: each plugin, in the order given, gets the attachment request with the previous
    /// plugin's result as `prevResult` where `step` gives one for its output (ADD chains results), else `prev`
    /// (CHECK and DEL send the cached one to every plugin). Stops at the first failure; returns the last result `step`
    /// gave.
    fn run_attachment_plugins<'p>(
        &self,
        list: &NetworkConfigList,
        plugins: impl Iterator<Item = &'p PluginConf>,
        call: &Call<'_>,
        rt: &RuntimeConf,
        prev: Option<&CniResult>,
        mut step: impl FnMut(&PluginConf, ExecOutput) -> Result<Option<CniResult>>,
    ) -> Result<Option<CniResult>> {
        let mut chained: Option<CniResult> = None;
        // The prevResult's JSON, encoded when a plugin first needs it: CHECK and DEL send the same one to every
        // plugin, ADD a new one after each plugin that returned a result.
        let mut prev_json: Option<String> = None;
        for plugin in plugins {
            if prev_json.is_none() {
                prev_json = chained.as_ref().or(prev).map(CniResult::to_json);
            }
            let stdin = request::attachment_request(
                &list.name,
                &list.cni_version,
                plugin,
                prev_json.as_deref(),
                &rt.capability_args,
            );
            let out = self.run(plugin, call, &stdin)?;
            if let Some(next) = step(plugin, out)? {
                chained = Some(next);
                prev_json = None;
            }
        }
        Ok(chained)
    }

    fn run(&self, plugin: &PluginConf, call: &Call<'_>, stdin: &[u8]) -> Result<ExecOutput> {
        let path = exec::find_plugin(&plugin.plugin_type, &self.bin_dirs)?;
        let started = std::time::Instant::now();
        let finished =
            exec::run_plugin(&path, call.command, stdin, &call.env, &self.exec_options());
        log_plugin_run(call, &plugin.plugin_type, &finished, started.elapsed());
        let outcome = finished.and_then(exec::Finished::into_output);
        if let Some(observer) = &self.observer {
            observer(&PluginCall {
                plugin_type: &plugin.plugin_type,
                command: call.command,
                elapsed: outcome
                    .as_ref()
                    .map_or_else(|_| started.elapsed(), |out| out.elapsed),
                ok: outcome.is_ok(),
            });
        }
        outcome
    }

    /// A tolerated problem: to the log, and to the warning sink when there is one.
    fn warn(&self, context: Context<'_>, msg: &str) {
        log!(Level::Warn, context, "{msg}");
        if let Some(sink) = &self.warnings {
            sink(msg);
        }
    }
}

/// Stderr lines a failed plugin run's log record quotes.
const LOGGED_STDERR_LINES: usize = 5;

/// One DEBUG record per plugin run: what ran for whom, how long, how it ended, and on failure the head of stderr.
fn log_plugin_run(
    call: &Call<'_>,
    plugin_type: &str,
    finished: &Result<exec::Finished>,
    elapsed: Duration,
) {
    if !log::enabled(Level::Debug) {
        return;
    }
    let context = Context {
        network: Some(call.network).filter(|n| !n.is_empty()),
        container_id: Some(call.container_id).filter(|c| !c.is_empty()),
        plugin: Some(plugin_type),
        command: Some(call.command),
    };
    let mut what = format!("{} {plugin_type}", call.command);
    for (key, value) in [
        ("network", call.network),
        ("container", call.container_id),
        ("ifname", call.ifname),
    ] {
        if !value.is_empty() {
            what.push_str(&format!(" {key}={value}"));
        }
    }
    let ms = elapsed.as_secs_f64() * 1000.0;
    match finished {
        Ok(done) if done.exit == exec::Exit::Code(0) => {
            log!(Level::Debug, context, "{what}: ok in {ms:.1} ms")
        }
        Ok(done) => {
            let stderr = String::from_utf8_lossy(&done.output.stderr);
            let head: Vec<&str> = stderr
                .lines()
                .filter(|l| !l.trim().is_empty())
                .take(LOGGED_STDERR_LINES)
                .collect();
            if head.is_empty() {
                log!(
                    Level::Debug,
                    context,
                    "{what}: {} after {ms:.1} ms, no stderr",
                    done.exit
                )
            } else {
                log!(
                    Level::Debug,
                    context,
                    "{what}: {} after {ms:.1} ms, stderr: {}",
                    done.exit,
                    head.join(" | ")
                )
            }
        }
        Err(e) => log!(
            Level::Debug,
            context,
            "{what}: failed after {ms:.1} ms: {e}"
        ),
    }
}

/// The list's version, which must be one this library speaks.
fn known_version(list: &NetworkConfigList) -> Result<Version> {
    let version = list.version()?;
    if version.is_known() {
        Ok(version)
    } else {
        Err(Error::Version(format!(
            "network {:?}: CNI version {:?} is not supported (supported: 0.1.0 to {})",
            list.name,
            list.cni_version,
            Version::CURRENT
        )))
    }
}

/// The container id, network name and interface name must be valid: they name the cache file
/// and are handed to plugins. The netns path must be a clean string.
fn validate_attachment(list: &NetworkConfigList, rt: &RuntimeConf) -> Result<()> {
    validate::container_id(&rt.container_id).map_err(Error::Invalid)?;
    validate::network_name(&list.name).map_err(Error::Invalid)?;
    validate::interface_name(&rt.ifname).map_err(Error::Invalid)?;
    if rt.netns.contains('\0') {
        return Err(Error::Invalid(CniError::new(
            codes::INVALID_ENVIRONMENT,
            "invalid netns path",
            "contains NUL",
        )));
    }
    Ok(())
}

/// `CNI_ARGS` is `K=V;K=V`: keys and values that would change its meaning are refused.
fn cni_args_string(args: &[(String, String)]) -> Result<String> {
    let mut out = String::new();
    for (key, value) in args {
        // Plugins split each pair on its only '=' (Go's LoadArgs refuses "K=a=b").
        if key.is_empty() || key.contains(['=', ';', '\0']) || value.contains(['=', ';', '\0']) {
            return Err(Error::Invalid(CniError::new(
                codes::INVALID_ENVIRONMENT,
                "invalid CNI_ARGS pair",
                format!("{key:?}={value:?}"),
            )));
        }
        if !out.is_empty() {
            out.push(';');
        }
        out.push_str(key);
        out.push('=');
        out.push_str(value);
    }
    Ok(out)
}

/// DEL and CHECK repeat ADD's parameters. Args are merged per key: a key the caller omits or
/// leaves empty takes its value from the cache (iSulad passes `K8S_POD_UID=` empty on teardown,
/// and plugins such as multus key on it); a non-empty value from the caller wins; keys only the
/// caller has come last. Capability args come from the cache when the caller gives none (portmap,
/// for one, removes its rules only when it gets the same port mappings again).
fn with_cached_args(rt: &RuntimeConf, cached: Option<&CachedAttachment>) -> RuntimeConf {
    let mut merged = rt.clone();
    if let Some(cached) = cached {
        merged.args = merge_args(&cached.cni_args, &rt.args);
        if merged.capability_args.is_empty() {
            merged.capability_args = cached.capability_args.clone();
        }
    }
    merged
}

/// The cached pairs in their order, each overridden by the caller's non-empty value for its key,
/// then the caller's pairs whose keys the cache does not have.
fn merge_args(cached: &[(String, String)], own: &[(String, String)]) -> Vec<(String, String)> {
    let own_value = |key: &str| {
        own.iter()
            .rev()
            .find(|(k, v)| k == key && !v.is_empty())
            .map(|(_, v)| v)
    };
    let mut out: Vec<(String, String)> = cached
        .iter()
        .map(|(k, v)| (k.clone(), own_value(k).unwrap_or(v).clone()))
        .collect();
    for (k, v) in own {
        if !cached.iter().any(|(ck, _)| ck == k) {
            out.push((k.clone(), v.clone()));
        }
    }
    out
}

fn plugin_context(plugin: &PluginConf, command: &str, error: Error) -> Error {
    Error::result(format!(
        "plugin type={:?} failed ({command}): {error}",
        plugin.plugin_type
    ))
}

/// Decodes a VERSION answer like libcni: `cniVersion` is required; `supportedVersions` may be
/// missing (or null) only for 0.2.0 plugins, which support 0.1.0 and 0.2.0.
pub fn decode_version_info(stdout: &[u8]) -> Result<PluginInfo> {
    let bad = |why: String| Error::result(format!("decoding version info: {why}"));
    let value: Value = serde_json::from_slice(stdout).map_err(|e| bad(e.to_string()))?;
    let cni_version = match value.get("cniVersion") {
        Some(Value::String(v)) if !v.is_empty() => v.clone(),
        _ => return Err(bad("missing field cniVersion".into())),
    };
    let supported_versions = match value.get("supportedVersions") {
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| bad("supportedVersions must hold strings".into()))
            })
            .collect::<Result<Vec<_>>>()?,
        None | Some(Value::Null | Value::Array(_)) if cni_version == "0.2.0" => {
            vec!["0.1.0".into(), "0.2.0".into()]
        }
        _ => return Err(bad("missing field supportedVersions".into())),
    };
    Ok(PluginInfo {
        cni_version,
        supported_versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cni_args_are_joined_and_checked() {
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            cni_args_string(&pairs(&[("IgnoreUnknown", "1"), ("K8S_POD_NAME", "p")])).unwrap(),
            "IgnoreUnknown=1;K8S_POD_NAME=p"
        );
        assert_eq!(cni_args_string(&[]).unwrap(), "");
        for bad in [
            ("", "v"),
            ("a=b", "v"),
            ("a;b", "v"),
            ("a", "v;w"),
            ("a\0", "v"),
            ("A", "b=c"),
        ] {
            let e = cni_args_string(&pairs(&[bad])).unwrap_err();
            assert_eq!(e.code(), codes::INVALID_ENVIRONMENT, "{bad:?}");
        }
    }

    #[test]
    fn version_info_decoding() {
        let info =
            decode_version_info(br#"{"cniVersion":"1.0.0","supportedVersions":["0.1.0","1.0.0"]}"#)
                .unwrap();
        assert_eq!(info.supported_versions, ["0.1.0", "1.0.0"]);
        let old = decode_version_info(br#"{"cniVersion":"0.2.0"}"#).unwrap();
        assert_eq!(old.supported_versions, ["0.1.0", "0.2.0"]);
        assert_eq!(
            decode_version_info(br#"{"cniVersion":"0.3.0"}"#)
                .unwrap_err()
                .to_string(),
            "decoding version info: missing field supportedVersions"
        );
        assert_eq!(
            decode_version_info(br#"{"supportedVersions":["0.1.0"]}"#)
                .unwrap_err()
                .to_string(),
            "decoding version info: missing field cniVersion"
        );
        assert!(decode_version_info(b"{")
            .unwrap_err()
            .to_string()
            .starts_with("decoding version info: "));
    }

    #[test]
    fn cached_args_fill_only_what_is_missing() {
        let pairs = |v: &[(&str, &str)]| {
            v.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<Vec<_>>()
        };
        let cached = CachedAttachment {
            cni_args: pairs(&[("IgnoreUnknown", "1"), ("K8S_POD_UID", "u-1")]),
            capability_args: serde_json::json!({"portMappings": []})
                .as_object()
                .unwrap()
                .clone(),
            ..CachedAttachment::default()
        };
        let rt = RuntimeConf {
            container_id: "c".into(),
            ..RuntimeConf::default()
        };
        let merged = with_cached_args(&rt, Some(&cached));
        assert_eq!(merged.args, cached.cni_args);
        assert_eq!(merged.capability_args, cached.capability_args);
        // An empty value is filled from the cache; a non-empty one wins; extra keys come last.
        let own = RuntimeConf {
            args: pairs(&[("K8S_POD_UID", ""), ("IgnoreUnknown", "0"), ("X", "y")]),
            ..rt.clone()
        };
        assert_eq!(
            with_cached_args(&own, Some(&cached)).args,
            pairs(&[("IgnoreUnknown", "0"), ("K8S_POD_UID", "u-1"), ("X", "y")])
        );
        // Nothing cached: the caller's args as given, empty values included.
        assert_eq!(with_cached_args(&own, None).args, own.args);
        let uncached_key = RuntimeConf {
            args: pairs(&[("Z", "")]),
            ..rt
        };
        assert_eq!(
            with_cached_args(&uncached_key, Some(&cached)).args,
            pairs(&[("IgnoreUnknown", "1"), ("K8S_POD_UID", "u-1"), ("Z", "")])
        );
    }
}
