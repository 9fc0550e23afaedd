//! A process the reliability tests run the library in and then SIGKILL, or run under a chosen umask.
//!
//! Every mode uses the library's Rust API only (CniConfig, NetworkModule with native networks); plugins are the
//! recording test plugin installed under real names, so no real network is touched. Built with the library's
//! test-only feature `crash-points` (src/crash_point.rs). Usage:
//!
//! ```text
//! crash_victim add     <bin_dir> <cache_dir> <conflist> <container_id>   one ADD
//! crash_victim create  <bin_dir> <conf_dir> <cache_dir> <name>           one native network create
//! crash_victim cycle   <bin_dir> <conf_dir> <cache_dir> <name> [<point>] create, ADD, DEL, rm of one network
//! crash_victim points                                                    the names of the crash points
//! crash_victim hygiene <umask> <bin_dir> <conf_dir> <cache_dir> <name>   umask, create, ADD (file modes)
//! crash_victim fds     <bin_dir> <cache_dir> <conflist> <leak_file>      ADD with fds open without O_CLOEXEC
//! ```
//!
//! A line `started` on stdout says the library is initialised, `done` that `cycle` completed. Given a crash point,
//! `cycle` stops there: it prints `at <point>` and stops itself with SIGSTOP, so the test kills it exactly there.
//! Failures go to stderr with exit status 1.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};
use std::sync::OnceLock;

use clibcni::cni::conf::NetworkConfigList;
use clibcni::cni::runtime::{CniConfig, RuntimeConf};
use clibcni::crash_point::{self, CrashPoint};
use clibcni::network::native::plan::CreateRequest;
use clibcni::network::{ModuleConfig, NetworkModule, NetworkType};
use nix::fcntl::{open, OFlag};
use nix::sys::signal::{raise, Signal};
use nix::sys::stat::{umask, Mode};

/// The interface every attachment of the victim uses.
const IFNAME: &str = "eth0";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let outcome = match words.as_slice() {
        ["add", bin, cache, conflist, container] => add(bin, cache, conflist, container),
        ["create", bin, conf, cache, name] => create(bin, conf, cache, name),
        ["cycle", bin, conf, cache, name] => cycle(bin, conf, cache, name),
        ["cycle", bin, conf, cache, name, point] => {
            stop_at(point).and_then(|()| cycle(bin, conf, cache, name))
        }
        ["points"] => CrashPoint::ALL.iter().try_for_each(|p| say(p.name())),
        ["hygiene", mask, bin, conf, cache, name] => hygiene(mask, bin, conf, cache, name),
        ["fds", bin, cache, conflist, leak] => fds(bin, cache, conflist, leak),
        _ => Err(format!(
            "usage: crash_victim add|create|cycle|points|hygiene|fds ARGS… (got {args:?})"
        )),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(msg) => {
            eprintln!("crash_victim: {msg}");
            ExitCode::FAILURE
        }
    }
}

/// Tells the test how far the victim got; flushed at once, since the victim dies by SIGKILL.
fn say(line: &str) -> Result<(), String> {
    let mut out = std::io::stdout().lock();
    writeln!(out, "{line}")
        .and_then(|()| out.flush())
        .map_err(|e| format!("cannot write stdout: {e}"))
}

/// An attachment of `container` on the victim's interface.
fn attachment(container: &str) -> RuntimeConf {
    RuntimeConf {
        container_id: container.into(),
        netns: format!("/var/run/netns/{container}"),
        ifname: IFNAME.into(),
        ..RuntimeConf::default()
    }
}

fn add(bin: &str, cache: &str, conflist: &str, container: &str) -> Result<(), String> {
    let list = NetworkConfigList::from_file(Path::new(conflist)).map_err(|e| e.to_string())?;
    let cni = CniConfig::new(vec![PathBuf::from(bin)], cache);
    say("started")?;
    cni.add_network_list(&list, &attachment(container))
        .map_err(|e| format!("ADD: {e}"))?;
    say("added")
}

fn module(bin: &str, conf: &str, cache: &str) -> Result<NetworkModule, String> {
    NetworkModule::init(ModuleConfig {
        conf_dir: Some(conf.into()),
        cache_dir: Some(cache.into()),
        bin_path: Some(bin.into()),
        ..ModuleConfig::default()
    })
    .map_err(|e| format!("init: {e}"))
}

/// Creates native network `name` and returns its configuration as loaded by the module.
fn create_network(module: &NetworkModule, name: &str) -> Result<NetworkConfigList, String> {
    let request = CreateRequest {
        name: Some(name.into()),
        driver: Some("bridge".into()),
        ..CreateRequest::default()
    };
    module
        .create(NetworkType::Native, &request)
        .map_err(|e| format!("create {name}: {e}"))?;
    let text = module
        .inspect(NetworkType::Native, name)
        .map_err(|e| format!("inspect {name}: {e}"))?;
    NetworkConfigList::from_bytes(text.as_bytes()).map_err(|e| format!("parse {name}: {e}"))
}

fn create(bin: &str, conf: &str, cache: &str, name: &str) -> Result<(), String> {
    let module = module(bin, conf, cache)?;
    say("started")?;
    create_network(&module, name)?;
    say("created")
}

/// The crash point `cycle` stops at.
static STOP_AT: OnceLock<CrashPoint> = OnceLock::new();

/// Makes the process stop at crash point `name`.
fn stop_at(name: &str) -> Result<(), String> {
    let point = CrashPoint::ALL
        .into_iter()
        .find(|p| p.name() == name)
        .ok_or_else(|| format!("no crash point {name:?}"))?;
    if STOP_AT.set(point).is_err() || !crash_point::set_hook(stop_if_chosen) {
        return Err("crash point hook set twice".into());
    }
    Ok(())
}

/// The crash point hook: at the chosen point, tell the test and stop until it kills the process.
fn stop_if_chosen(point: CrashPoint) {
    if STOP_AT.get() == Some(&point) {
        // A failed line or raise leaves the test without its line, which it reports.
        let _ = say(&format!("at {}", point.name()));
        let _ = raise(Signal::SIGSTOP);
    }
}

/// Native network `name` is created, attached (container id = network name), detached and removed.
fn cycle(bin: &str, conf: &str, cache: &str, name: &str) -> Result<(), String> {
    let module = module(bin, conf, cache)?;
    say("started")?;
    let list = create_network(&module, name)?;
    let rt = attachment(name);
    module
        .cni()
        .add_network_list(&list, &rt)
        .map_err(|e| format!("ADD {name}: {e}"))?;
    module
        .cni()
        .del_network_list(&list, &rt)
        .map_err(|e| format!("DEL {name}: {e}"))?;
    let warnings = module
        .remove(NetworkType::Native, name)
        .map_err(|e| format!("rm {name}: {e}"))?;
    if !warnings.is_empty() {
        return Err(format!("rm {name} warned: {warnings:?}"));
    }
    say("done")
}

/// Under `umask <mask>` (octal): the module creates its conf dir, a native network and, by an ADD on it, the
/// cache directory and file.
fn hygiene(mask: &str, bin: &str, conf: &str, cache: &str, name: &str) -> Result<(), String> {
    let bits = u32::from_str_radix(mask, 8).map_err(|e| format!("bad umask {mask:?}: {e}"))?;
    umask(Mode::from_bits_truncate(bits));
    let module = module(bin, conf, cache)?;
    say("started")?;
    let list = create_network(&module, name)?;
    module
        .cni()
        .add_network_list(&list, &attachment(name))
        .map_err(|e| format!("ADD: {e}"))?;
    say("done")
}

/// Runs an ADD while this process holds a file and a pipe open without O_CLOEXEC: a leak-free spawn must not
/// hand them to the plugin. As a control, `<leak_file>.control` gets the fd listing of an `ls` started the usual
/// way (std::process::Command), which does inherit them.
fn fds(bin: &str, cache: &str, conflist: &str, leak: &str) -> Result<(), String> {
    let flags = OFlag::O_RDWR | OFlag::O_CREAT;
    let _file = open(leak, flags, Mode::from_bits_truncate(0o600))
        .map_err(|e| format!("open {leak}: {e}"))?;
    let _pipe = nix::unistd::pipe().map_err(|e| format!("pipe: {e}"))?;
    let control = Command::new("ls")
        .args(["-l", "/proc/self/fd"])
        .output()
        .map_err(|e| format!("run ls: {e}"))?;
    std::fs::write(format!("{leak}.control"), control.stdout)
        .map_err(|e| format!("write control listing: {e}"))?;
    let list = NetworkConfigList::from_file(Path::new(conflist)).map_err(|e| e.to_string())?;
    let cni = CniConfig::new(vec![PathBuf::from(bin)], cache);
    say("started")?;
    cni.add_network_list(&list, &attachment("fds"))
        .map_err(|e| format!("ADD: {e}"))?;
    say("added")
}
