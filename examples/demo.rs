//! The main job, end to end: create a native bridge network, attach two network namespaces to
//! it with the distribution's CNI plugins, show what they got, ping across, tear everything down.
//!
//! Run as root: `cargo run --example demo` (or `bash scripts/demo.sh`, which also installs the
//! plugins). Everything it creates lives in a temporary conf/cache dir and two fresh namespaces.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clibcni::network::native::plan::CreateRequest;
use clibcni::network::types::{AttachRequest, ExtraNet};
use clibcni::network::{ModuleConfig, NetworkModule, NetworkType};

const PLUGIN_DIR: &str = "/usr/lib/cni";

/// A network namespace removed when dropped.
struct Netns(String);

impl Netns {
    fn create(name: &str) -> Result<Netns, String> {
        run(&["ip", "netns", "add", name])?;
        Ok(Netns(name.to_string()))
    }
    fn path(&self) -> String {
        format!("/run/netns/{}", self.0)
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = run(&["ip", "netns", "delete", &self.0]);
    }
}

fn run(args: &[&str]) -> Result<String, String> {
    let out = Command::new(args[0])
        .args(&args[1..])
        .output()
        .map_err(|e| format!("{}: {e}", args[0]))?;
    if !out.status.success() {
        return Err(format!(
            "`{}` failed: {}",
            args.join(" "),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn attach_request(id: &str, netns: &Netns, network: &str) -> AttachRequest {
    AttachRequest {
        name: id.to_string(),
        pod_id: id.to_string(),
        netns_path: netns.path(),
        extra_nets: vec![ExtraNet {
            name: network.to_string(),
            interface: "eth0".into(),
        }],
        args: vec![
            ("IgnoreUnknown".into(), "1".into()),
            ("K8S_POD_NAME".into(), id.into()),
        ],
        ..AttachRequest::default()
    }
}

fn demo(work: &Path) -> Result<(), String> {
    let module = NetworkModule::init(ModuleConfig {
        conf_dir: Some(work.join("net.d")),
        cache_dir: Some(work.join("cache")),
        bin_path: Some(PLUGIN_DIR.into()),
        ..ModuleConfig::default()
    })
    .map_err(|e| e.msg)?;
    let native = NetworkType::Native;
    let name = format!("demo{}", std::process::id());
    let created = module
        .create(
            native,
            &CreateRequest {
                name: Some(name.clone()),
                ..CreateRequest::default()
            },
        )
        .map_err(|e| e.msg)?;
    if let Some(warning) = &created.warning {
        println!("note: {warning}");
    }
    println!(
        "== created network {name}:\n{}",
        module.inspect(native, &name).map_err(|e| e.msg)?
    );

    let ids = [
        format!("{:064x}", u128::from(std::process::id()) << 8 | 1),
        format!("{:064x}", u128::from(std::process::id()) << 8 | 2),
    ];
    let namespaces = [
        Netns::create(&format!("clibcni-demo-a{}", std::process::id()))?,
        Netns::create(&format!("clibcni-demo-b{}", std::process::id()))?,
    ];
    let mut addresses = Vec::new();
    let result = (|| -> Result<(), String> {
        for (id, ns) in ids.iter().zip(&namespaces) {
            let results = module
                .attach(native, &attach_request(id, ns, &name))
                .map_err(|e| e.msg)?;
            for r in &results {
                println!(
                    "== {} attached: network {} on {}: ips {:?} gateways {:?} mac {}",
                    ns.0,
                    r.name,
                    r.interface,
                    r.ips,
                    r.gateways,
                    r.mac.as_deref().unwrap_or("-")
                );
                addresses.extend(
                    r.ips
                        .iter()
                        .map(|ip| ip.split('/').next().unwrap_or_default().to_string()),
                );
            }
            print!(
                "{}",
                run(&["ip", "netns", "exec", &ns.0, "ip", "-brief", "address", "show", "eth0"])?
            );
        }
        let target = addresses.get(1).ok_or("second namespace got no address")?;
        println!("== ping {} -> {target}", namespaces[0].0);
        print!(
            "{}",
            run(&[
                "ip",
                "netns",
                "exec",
                &namespaces[0].0,
                "ping",
                "-c",
                "2",
                "-W",
                "2",
                target
            ])?
        );
        Ok(())
    })();
    for (id, ns) in ids.iter().zip(&namespaces) {
        if let Err(e) = module.detach(native, &attach_request(id, ns, &name)) {
            eprintln!("detach {}: {}", ns.0, e.msg);
        }
    }
    module.remove(native, &name).map_err(|e| e.msg)?;
    println!("== detached both namespaces and removed network {name} (bridge and file)");
    result
}

fn main() -> ExitCode {
    if !Path::new(PLUGIN_DIR).join("bridge").exists() {
        eprintln!("demo: the CNI plugins are missing: apt-get install containernetworking-plugins");
        return ExitCode::FAILURE;
    }
    let work = std::env::temp_dir().join(format!("clibcni-demo-{}", std::process::id()));
    let outcome = demo(&work);
    let _ = std::fs::remove_dir_all::<PathBuf>(work);
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("demo failed: {e}");
            ExitCode::FAILURE
        }
    }
}
