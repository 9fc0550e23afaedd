//! Benchmark #7 (run by `scripts/bench.sh`, see README "Benchmarks"): ADD and DEL of the chain a native
//! network uses (bridge with host-local, portmap, firewall: the distribution's plugins), through the Rust API,
//! and the library's own share of each operation: the operation's wall time minus the time its plugins ran
//! (spawn to reap, as `CniConfig::with_call_observer` reports it).
//!
//! Run as root inside a network namespace of its own (bench.sh does): it creates a bridge, iptables rules and one
//! network namespace per iteration, and removes them again.
//!
//! Usage: `bench_real --work <dir> [--iterations N] [--plugins <dir>]`. Prints one markdown table row.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clibcni::cni::conf::NetworkConfigList;
use clibcni::cni::runtime::{CniConfig, RuntimeConf};
use clibcni::network::native::plan::CreateRequest;
use clibcni::network::{ModuleConfig, NetworkModule, NetworkType};

const WARM_UP: usize = 2;

struct Options {
    work: PathBuf,
    iterations: usize,
    plugins: PathBuf,
}

fn options() -> Result<Options, String> {
    let usage = "usage: bench_real --work <dir> [--iterations N] [--plugins <dir>]";
    let mut opts = Options {
        work: PathBuf::new(),
        iterations: 30,
        plugins: PathBuf::from("/usr/lib/cni"),
    };
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        let value = args.next().ok_or(usage)?;
        match arg.as_str() {
            "--work" => opts.work = PathBuf::from(value),
            "--iterations" => opts.iterations = value.parse().map_err(|_| usage)?,
            "--plugins" => opts.plugins = PathBuf::from(value),
            _ => return Err(usage.into()),
        }
    }
    if opts.work.as_os_str().is_empty() || opts.iterations == 0 {
        return Err(usage.into());
    }
    Ok(opts)
}

/// A network namespace, deleted when dropped.
struct Netns(String);

impl Netns {
    fn create(name: String) -> Result<Netns, String> {
        ip(&["netns", "add", &name])?;
        Ok(Netns(name))
    }

    fn path(&self) -> String {
        format!("/run/netns/{}", self.0)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = ip(&["netns", "delete", &self.0]);
    }
}

fn ip(args: &[&str]) -> Result<(), String> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| format!("ip: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`ip {}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(())
}

/// One measured operation: its wall time and the part of it its plugins ran.
#[derive(Clone, Copy)]
struct Sample {
    op: Duration,
    plugins: Duration,
}

impl Sample {
    fn library(&self) -> Duration {
        self.op.saturating_sub(self.plugins)
    }

    fn share(&self) -> f64 {
        self.library().as_secs_f64() / self.op.as_secs_f64()
    }
}

/// The nearest-rank percentile `p` (0–100) of `values`.
fn percentile(values: &[f64], p: f64) -> f64 {
    let mut sorted = values.to_vec();
    sorted.sort_by(f64::total_cmp);
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// "p50 X ms, p95 Y ms; library A µs = B % (p5–p95 C–D %)".
fn describe(samples: &[Sample]) -> String {
    let ms: Vec<f64> = samples.iter().map(|s| s.op.as_secs_f64() * 1e3).collect();
    let lib_us: Vec<f64> = samples
        .iter()
        .map(|s| s.library().as_secs_f64() * 1e6)
        .collect();
    let share: Vec<f64> = samples.iter().map(|s| s.share() * 100.0).collect();
    format!(
        "p50 {:.1} ms, p95 {:.1} ms; library {:.0} µs = **{:.2} %** (p5–p95 {:.2}–{:.2} %)",
        percentile(&ms, 50.0),
        percentile(&ms, 95.0),
        percentile(&lib_us, 50.0),
        percentile(&share, 50.0),
        percentile(&share, 5.0),
        percentile(&share, 95.0)
    )
}

/// Times `op`, with `plugin_time` reset before and read after it.
fn measure(
    plugin_time: &Mutex<Duration>,
    op: impl FnOnce() -> Result<(), String>,
) -> Result<Sample, String> {
    *plugin_time.lock().map_err(|_| "poisoned")? = Duration::ZERO;
    let started = Instant::now();
    op()?;
    let op = started.elapsed();
    let plugins = *plugin_time.lock().map_err(|_| "poisoned")?;
    Ok(Sample { op, plugins })
}

/// The native network's conflist, as `network create` writes it (bridge name and subnet allocated by the module).
fn native_conflist(module: &NetworkModule, name: &str) -> Result<NetworkConfigList, String> {
    let request = CreateRequest {
        name: Some(name.to_string()),
        ..CreateRequest::default()
    };
    let created = module
        .create(NetworkType::Native, &request)
        .map_err(|e| e.msg)?;
    if let Some(warning) = created.warning {
        return Err(format!("the native chain is incomplete: {warning}"));
    }
    let text = module
        .inspect(NetworkType::Native, name)
        .map_err(|e| e.msg)?;
    NetworkConfigList::from_bytes(text.as_bytes()).map_err(|e| e.to_string())
}

fn run_iterations(
    opts: &Options,
    list: &NetworkConfigList,
) -> Result<(Vec<Sample>, Vec<Sample>), String> {
    let plugin_time = Arc::new(Mutex::new(Duration::ZERO));
    let observed = plugin_time.clone();
    let cni = CniConfig::new(vec![opts.plugins.clone()], opts.work.join("cache"))
        .with_call_observer(Arc::new(move |call| {
            if let Ok(mut total) = observed.lock() {
                *total += call.elapsed;
            }
        }));
    let (mut adds, mut dels) = (Vec::new(), Vec::new());
    let pid = std::process::id();
    for i in 0..WARM_UP + opts.iterations {
        let netns = Netns::create(format!("clibcni-benchr-{pid}-{i}"))?;
        let rt = RuntimeConf {
            container_id: format!("benchreal{pid}x{i}"),
            netns: netns.path(),
            ifname: "eth0".into(),
            args: vec![("IgnoreUnknown".into(), "1".into())],
            ..RuntimeConf::default()
        };
        let add = measure(&plugin_time, || {
            cni.add_network_list(list, &rt)
                .map(drop)
                .map_err(|e| e.to_string())
        })?;
        let del = measure(&plugin_time, || {
            cni.del_network_list(list, &rt).map_err(|e| e.to_string())
        })?;
        if i >= WARM_UP {
            adds.push(add);
            dels.push(del);
        }
    }
    Ok((adds, dels))
}

fn bench(opts: &Options) -> Result<(), String> {
    let module = NetworkModule::init(ModuleConfig {
        conf_dir: Some(opts.work.join("net.d")),
        cache_dir: Some(opts.work.join("module-cache")),
        bin_path: Some(opts.plugins.display().to_string()),
        ..ModuleConfig::default()
    })
    .map_err(|e| e.msg)?;
    let name = format!("benchreal{}", std::process::id());
    let list = native_conflist(&module, &name)?;
    let measured = run_iterations(opts, &list);
    let removed = module.remove(NetworkType::Native, &name).map_err(|e| e.msg);
    let (adds, dels) = measured?;
    removed?;
    let median_share = |samples: &[Sample]| {
        percentile(&samples.iter().map(Sample::share).collect::<Vec<_>>(), 50.0)
    };
    let met = median_share(&adds) <= 0.03 && median_share(&dels) <= 0.03;
    let plugins: Vec<&str> = list
        .plugins
        .iter()
        .map(|p| p.plugin_type.as_str())
        .collect();
    println!(
        "| 7 | real chain {} (the native network's conflist, cniVersion {}), Rust API, {} iterations | ADD {}; DEL {} \
         | share ≤ 3 % | {} |",
        plugins.join(" + "),
        list.cni_version,
        adds.len(),
        describe(&adds),
        describe(&dels),
        if met { "yes" } else { "**no**" }
    );
    Ok(())
}

fn main() -> ExitCode {
    let opts = match options() {
        Ok(opts) => opts,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    if !Path::new(&opts.plugins).join("bridge").exists() {
        let dir = opts.plugins.display();
        eprintln!(
            "bench_real: no CNI plugins in {dir} (apt-get install containernetworking-plugins)"
        );
        return ExitCode::FAILURE;
    }
    let outcome = std::fs::create_dir_all(&opts.work)
        .map_err(|e| e.to_string())
        .and_then(|()| bench(&opts));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("bench_real: {e}");
            ExitCode::FAILURE
        }
    }
}
