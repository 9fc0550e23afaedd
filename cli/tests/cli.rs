//! The `clibcni` binary driven as an operator would: native networks with the real plugins in
//! /usr/lib/cni and real namespaces, cnitool-style flows, usage errors and exit statuses.
//!
//! Every test works in its own temporary conf/cache/IPAM directories with unique names, subnets
//! and bridges; guards tear down attachments, networks and namespaces even when a test fails.

#[path = "../../tests/support/mod.rs"]
mod support;

use std::io::Write;
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{json, Value};
use support::{real_plugins_dir, require_root, unique_subnet, unique_suffix, Netns, PluginDir};

const BIN: &str = env!("CARGO_BIN_EXE_clibcni");
/// Variables the binary reads; each run starts without them.
const CLI_ENV: [&str; 6] = [
    "NETCONFPATH",
    "CNI_PATH",
    "CNI_CACHE_DIR",
    "CNI_ARGS",
    "CAP_ARGS",
    "CNI_IFNAME",
];

struct Output {
    status: i32,
    stdout: String,
    stderr: String,
}

/// A private conf dir, cache dir and host-local data dir.
struct Work {
    dir: tempfile::TempDir,
}

impl Work {
    fn new() -> Work {
        Work {
            dir: tempfile::Builder::new()
                .prefix("clibcni-cli-")
                .tempdir()
                .expect("cannot create a temp dir"),
        }
    }

    fn conf_dir(&self) -> PathBuf {
        self.dir.path().join("net.d")
    }

    fn cache_dir(&self) -> PathBuf {
        self.dir.path().join("cache")
    }

    fn ipam_dir(&self) -> PathBuf {
        self.dir.path().join("ipam")
    }

    /// Runs the binary with this workspace as cnitool's environment, plus `env`.
    fn run_in(&self, cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new(BIN);
        for var in CLI_ENV {
            cmd.env_remove(var);
        }
        cmd.env("NETCONFPATH", self.conf_dir())
            .env("CNI_PATH", real_plugins_dir())
            .env("CNI_CACHE_DIR", self.cache_dir())
            .envs(env.iter().copied())
            .args(args)
            .current_dir(cwd);
        let out = cmd
            .output()
            .unwrap_or_else(|e| panic!("cannot run {BIN}: {e}"));
        Output {
            status: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        self.run_in(self.dir.path(), args, env)
    }

    /// Runs and requires success; returns stdout.
    fn ok(&self, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(args, env);
        assert_eq!(
            out.status, 0,
            "clibcni {args:?} failed:\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        out.stdout
    }

    /// Runs and requires the exit status; returns stderr.
    fn fails(&self, status: i32, args: &[&str], env: &[(&str, &str)]) -> String {
        let out = self.run(args, env);
        assert_eq!(
            out.status, status,
            "clibcni {args:?}:\nstdout: {}\nstderr: {}",
            out.stdout, out.stderr
        );
        out.stderr
    }

    fn write_conf(&self, file: &str, conf: &Value) {
        std::fs::create_dir_all(self.conf_dir()).expect("cannot create the conf dir");
        std::fs::write(self.conf_dir().join(file), conf.to_string())
            .expect("cannot write a conf file");
    }

    fn cached_attachments(&self) -> Vec<Value> {
        let listed: Value = serde_json::from_str(&self.ok(&["cache", "ls", "--json"], &[]))
            .expect("cache ls --json");
        listed.as_array().cloned().unwrap_or_default()
    }
}

/// A native network: removed (with its bridge and IPAM state) when dropped.
struct NativeNet<'a> {
    work: &'a Work,
    name: String,
    bridge: String,
}

impl<'a> NativeNet<'a> {
    fn create(work: &'a Work, name: &str, extra: &[&str]) -> NativeNet<'a> {
        let mut args = vec!["--bin-dir", "/usr/lib/cni", "network", "create"];
        args.extend_from_slice(extra);
        args.push(name);
        assert_eq!(work.ok(&args, &[("CNI_PATH", "")]), format!("{name}\n"));
        let mut net = NativeNet {
            work,
            name: name.to_string(),
            bridge: String::new(),
        };
        net.bridge = net.conf()["plugins"][0]["bridge"]
            .as_str()
            .expect("bridge name")
            .to_string();
        net
    }

    fn file(&self) -> PathBuf {
        self.work
            .conf_dir()
            .join(format!("isulacni-{}.conflist", self.name))
    }

    fn conf(&self) -> Value {
        let text = std::fs::read_to_string(self.file()).expect("network file");
        serde_json::from_str(&text).expect("network file is JSON")
    }
}

impl Drop for NativeNet<'_> {
    fn drop(&mut self) {
        let _ = self.work.run(&["network", "rm", &self.name], &[]);
        let _ = Command::new("ip")
            .args(["link", "del", &self.bridge])
            .output();
        let _ = std::fs::remove_dir_all(Path::new("/var/lib/cni/networks").join(&self.name));
    }
}

/// Runs `clibcni ARGS` when dropped (a detach or del), ignoring the outcome.
struct Undo<'a> {
    work: &'a Work,
    args: Vec<String>,
    env: Vec<(String, String)>,
}

impl Drop for Undo<'_> {
    fn drop(&mut self) {
        let args: Vec<&str> = self.args.iter().map(String::as_str).collect();
        let env: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        let _ = self.work.run(&args, &env);
    }
}

fn undo<'a>(work: &'a Work, args: &[&str], env: &[(&str, &str)]) -> Undo<'a> {
    Undo {
        work,
        args: args.iter().map(|a| a.to_string()).collect(),
        env: env
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    }
}

/// A bridge deleted when dropped (cnitool flows create theirs on ADD).
struct Bridge(String);

impl Drop for Bridge {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["link", "del", &self.0]).output();
    }
}

fn unique_bridge() -> Bridge {
    Bridge(format!("clb{}", unique_suffix()))
}

/// cnitool's container id for a netns path, computed independently with coreutils' sha512sum.
fn cnitool_id(netns: &str) -> String {
    let mut child = Command::new("sha512sum")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("cannot run sha512sum");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(netns.as_bytes())
        .expect("write to sha512sum");
    let out = child.wait_with_output().expect("sha512sum output");
    format!("cnitool-{}", &String::from_utf8_lossy(&out.stdout)[..20])
}

fn link_exists(name: &str) -> bool {
    Command::new("ip")
        .args(["link", "show", name])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// `10.1.2.3/24` → `10.1.2.3`, checked to lie in `subnet`.
fn address_in(cidr: &str, subnet: &str) -> Ipv4Addr {
    let addr: Ipv4Addr = cidr
        .split('/')
        .next()
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("bad address {cidr}"));
    let prefix = subnet.trim_end_matches("0/24");
    assert!(
        addr.to_string().starts_with(prefix),
        "{addr} is not in {subnet}"
    );
    addr
}

/// The table's rows split on whitespace, with every column aligned under its header.
fn table_rows(text: &str, headers: &[&str]) -> Vec<Vec<String>> {
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0].split_whitespace().collect::<Vec<_>>(),
        headers,
        "{text}"
    );
    let starts: Vec<usize> = headers
        .iter()
        .map(|h| lines[0].find(h).expect("header"))
        .collect();
    lines[1..]
        .iter()
        .map(|line| {
            let cells: Vec<String> = line.split_whitespace().map(str::to_string).collect();
            for (cell, start) in cells.iter().zip(&starts) {
                assert_eq!(
                    line[*start..].split_whitespace().next(),
                    Some(cell.as_str()),
                    "misaligned:\n{text}"
                );
            }
            cells
        })
        .collect()
}

fn bridge_conf(name: &str, bridge: &str, subnet: &str, work: &Work) -> Value {
    json!({"type": "bridge", "bridge": bridge, "isGateway": true,
           "ipam": {"type": "host-local", "dataDir": work.ipam_dir(), "ranges": [[{"subnet": subnet}]],
                    "routes": [{"dst": "0.0.0.0/0"}]}, "name": name})
}

#[test]
fn native_network_lifecycle() {
    require_root();
    let work = Work::new();
    let suffix = unique_suffix();
    let (subnet, gateway) = unique_subnet();
    let (subnet2, _) = unique_subnet();
    let net = NativeNet::create(
        &work,
        &format!("cli-a{suffix}"),
        &["--subnet", &subnet, "--gateway", &gateway],
    );
    let other = NativeNet::create(
        &work,
        &format!("cli-b{suffix}"),
        &["--internal", "--subnet", &subnet2],
    );
    let conf = net.conf();
    let version = conf["cniVersion"].as_str().expect("cniVersion").to_string();
    let plugins: Vec<String> = conf["plugins"]
        .as_array()
        .expect("plugins")
        .iter()
        .map(|p| p["type"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(
        conf["plugins"][0]["ipam"]["ranges"],
        json!([[{"subnet": subnet, "gateway": gateway}]])
    );
    assert_eq!(
        other.conf()["plugins"][0].get("isGateway"),
        None,
        "--internal"
    );

    // ls: table, names only, JSON, filters.
    let rows = table_rows(
        &work.ok(&["network", "ls"], &[]),
        &["NAME", "VERSION", "PLUGIN"],
    );
    let row = |name: &str| vec![name.to_string(), version.clone(), plugins.join(",")];
    assert_eq!(rows, [row(&net.name), row(&other.name)]);
    assert_eq!(
        work.ok(&["network", "ls", "-q"], &[]),
        format!("{}\n{}\n", net.name, other.name)
    );
    let listed: Value =
        serde_json::from_str(&work.ok(&["network", "ls", "--json"], &[])).expect("ls --json");
    let entry = |name: &str| json!({"name": name, "version": version, "plugins": plugins});
    assert_eq!(listed, json!([entry(&net.name), entry(&other.name)]));
    let names = |filters: &[&str]| {
        let mut args = vec!["network", "ls", "-q"];
        for filter in filters {
            args.extend(["--filter", filter]);
        }
        work.ok(&args, &[])
            .lines()
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        names(&[&format!("name={}", net.name)]),
        [net.name.as_str()],
        "exact"
    );
    assert_eq!(names(&["name=^cli-a"]), [net.name.as_str()], "anchored");
    assert_eq!(
        names(&[&format!("name=b{suffix}$")]),
        [other.name.as_str()],
        "end anchor"
    );
    assert_eq!(
        names(&["name=^cli-.*", "plugin=^fire"]),
        [net.name.clone(), other.name.clone()]
    );
    assert_eq!(
        names(&["name=^cli-a", "name=^cli-b"]),
        [net.name.clone(), other.name.clone()],
        "same key: any"
    );
    assert_eq!(
        names(&["plugin=br.dge", "name=^cli-b"]),
        [other.name.as_str()]
    );
    assert!(names(&["plugin=^dhcp$"]).is_empty());
    assert_eq!(
        names(&["name=^cli-[ab]", "plugin=^(firewall|tuning)$"]),
        [net.name.clone(), other.name.clone()],
        "extended regular expressions"
    );
    assert!(names(&["name=^cli-[cd]"]).is_empty());
    let stderr = work.fails(2, &["network", "ls", "--filter", "name=cli[ab"], &[]);
    assert!(
        stderr
            .starts_with("clibcni: invalid filter pattern \"cli[ab\": unclosed character class\n"),
        "{stderr}"
    );
    let stderr = work.fails(2, &["network", "ls", "--filter", "driver=bridge"], &[]);
    assert!(stderr.contains("the keys are name and plugin"), "{stderr}");

    // inspect prints the file exactly.
    let text = std::fs::read_to_string(net.file()).expect("network file");
    assert_eq!(work.ok(&["network", "inspect", &net.name], &[]), text);
    assert_eq!(
        work.ok(&["network", "inspect", "--json", &net.name], &[]),
        text
    );

    // attach two namespaces; each gets an address; they reach each other.
    let (a, b) = (Netns::new(), Netns::new());
    let (a_path, b_path) = (
        a.path().display().to_string(),
        b.path().display().to_string(),
    );
    let b_id = format!("cli-b-{suffix}");
    let _detach_a = undo(
        &work,
        &["--bin-dir", "/usr/lib/cni", "detach", &net.name, &a_path],
        &[],
    );
    let _detach_b = undo(
        &work,
        &[
            "--bin-dir",
            "/usr/lib/cni",
            "detach",
            &net.name,
            &b_path,
            "--id",
            &b_id,
        ],
        &[],
    );
    let attached_a = work.run(&["-v", "attach", &net.name, &a_path], &[]);
    assert_eq!(attached_a.status, 0, "attach A: {}", attached_a.stderr);
    let rows = table_rows(
        &attached_a.stdout,
        &["NETWORK", "INTERFACE", "ADDRESSES", "GATEWAYS", "MAC"],
    );
    assert_eq!(rows.len(), 1, "{}", attached_a.stdout);
    assert_eq!(rows[0][..2], [net.name.clone(), "eth0".to_string()]);
    assert_eq!(rows[0][3], gateway);
    let a_ip = address_in(&rows[0][2], &subnet);
    assert!(
        attached_a
            .stderr
            .contains(&format!("ADD \"{}\" on eth0 took ", net.name)),
        "-v: {}",
        attached_a.stderr
    );
    assert!(
        !attached_a.stderr.contains('\r'),
        "no spinner without a terminal: {:?}",
        attached_a.stderr
    );
    let attached_b: Value = serde_json::from_str(&work.ok(
        &[
            "attach", &net.name, &b_path, "--id", &b_id, "--port", "18080:80", "--json",
        ],
        &[],
    ))
    .expect("attach --json");
    assert_eq!(attached_b["containerId"], b_id.as_str());
    assert_eq!(attached_b["netns"], b_path.as_str());
    assert_eq!(attached_b["networks"][0]["interface"], "eth0");
    let b_ip = address_in(
        attached_b["networks"][0]["ips"][0].as_str().expect("ip"),
        &subnet,
    );
    assert_ne!(a_ip, b_ip);
    assert!(a
        .exec(&["ip", "-4", "-o", "addr", "show", "eth0"])
        .contains(&format!("{a_ip}/24")));
    a.exec(&["ping", "-c1", "-W2", &b_ip.to_string()]);

    // the cache shows both attachments (and their loopbacks) with their addresses.
    let a_id = cnitool_id(&a_path);
    let cached = work.cached_attachments();
    let find = |id: &str, network: &str| {
        cached
            .iter()
            .find(|c| c["containerId"] == id && c["network"] == network)
            .cloned()
            .unwrap_or_else(|| panic!("{id} {network}: {cached:?}"))
    };
    assert_eq!(find(&a_id, &net.name)["ips"], json!([format!("{a_ip}/24")]));
    assert_eq!(find(&a_id, &net.name)["netns"], a_path.as_str());
    assert_eq!(find(&b_id, &net.name)["ifname"], "eth0");
    assert_eq!(find(&b_id, "cni-loopback")["ifname"], "lo");
    let table = work.ok(&["cache", "ls"], &[]);
    assert_eq!(
        table
            .lines()
            .next()
            .map(|l| l.split_whitespace().collect::<Vec<_>>()),
        Some(vec!["NETWORK", "CONTAINER", "ID", "IFNAME", "NETNS", "IPS"])
    );
    let a_row = [
        net.name.clone(),
        a_id.clone(),
        "eth0".into(),
        a_path.clone(),
        format!("{a_ip}/24"),
    ];
    assert!(
        table
            .lines()
            .any(|l| l.split_whitespace().eq(a_row.iter().map(String::as_str))),
        "{table}"
    );

    // a network in use is not removed.
    let stderr = work.fails(1, &["network", "rm", &net.name], &[]);
    assert!(
        stderr.contains(&format!("network {} has connected containers", net.name)),
        "{stderr}"
    );

    // detach both, then remove: the bridge, the file and the cache entries are gone.
    assert_eq!(
        work.ok(&["detach", &net.name, &a_path], &[]),
        format!("{}\n", net.name)
    );
    assert_eq!(
        work.ok(&["detach", &net.name, &b_path, "--id", &b_id], &[]),
        format!("{}\n", net.name)
    );
    assert!(
        work.cached_attachments().is_empty(),
        "{:?}",
        work.cached_attachments()
    );
    let stderr = work.fails(1, &["detach", &net.name, &a_path], &[]);
    assert!(stderr.contains("is not attached to container"), "{stderr}");
    assert!(link_exists(&net.bridge));
    assert_eq!(
        work.ok(&["network", "rm", &net.name, &other.name], &[]),
        format!("{}\n{}\n", net.name, other.name)
    );
    assert!(
        !link_exists(&net.bridge),
        "bridge {} still exists",
        net.bridge
    );
    assert!(!net.file().exists() && !other.file().exists());
    assert_eq!(work.ok(&["network", "ls", "-q"], &[]), "");
    let stderr = work.fails(1, &["network", "inspect", &net.name], &[]);
    assert!(
        stderr.contains(&format!("No such network {}", net.name)),
        "{stderr}"
    );
}

#[test]
fn cnitool_flow_on_a_conflist() {
    require_root();
    let work = Work::new();
    let name = format!("clitool{}", unique_suffix());
    let bridge = unique_bridge();
    let (subnet, _) = unique_subnet();
    let mut plugin = bridge_conf(&name, &bridge.0, &subnet, &work);
    plugin.as_object_mut().expect("object").remove("name");
    work.write_conf(
        "10-net.conflist",
        &json!({"cniVersion": "1.0.0", "name": name, "plugins": [plugin]}),
    );
    let ns = Netns::new();
    let netns = ns.path().display().to_string();
    let env = [("CNI_ARGS", "IgnoreUnknown=1")];
    let _del = undo(&work, &["del", &name, &netns], &env);

    let added = work.run(&["-v", "add", &name, &netns], &env);
    assert_eq!(added.status, 0, "add: {}", added.stderr);
    assert!(
        added
            .stdout
            .starts_with("{\n    \"cniVersion\": \"1.0.0\",\n"),
        "cnitool prints indented JSON: {}",
        added.stdout
    );
    assert!(
        added.stderr.contains(&format!("ADD \"{name}\" took ")),
        "-v: {}",
        added.stderr
    );
    assert!(
        added.stderr.contains("plugin bridge ADD took ") && added.stderr.contains(" ms (ok)"),
        "-v per plugin: {}",
        added.stderr
    );
    let result: Value = serde_json::from_str(&added.stdout).expect("result JSON");
    let ip = address_in(
        result["ips"][0]["address"].as_str().expect("address"),
        &subnet,
    );
    assert!(ns
        .exec(&["ip", "-4", "-o", "addr", "show", "eth0"])
        .contains(&format!("{ip}/24")));

    assert_eq!(work.ok(&["check", &name, &netns], &env), "");
    let checked: Value = serde_json::from_str(&work.ok(&["check", "--json", &name, &netns], &env))
        .expect("check --json");
    assert_eq!(checked, result);

    let id = cnitool_id(&netns);
    assert_eq!(id.len(), "cnitool-".len() + 20);
    let cache_file = work
        .cache_dir()
        .join("results")
        .join(format!("{name}-{id}-eth0"));
    let cached: Value =
        serde_json::from_str(&std::fs::read_to_string(&cache_file).expect("cache file"))
            .expect("cache JSON");
    assert_eq!(cached["containerId"], id.as_str());
    assert_eq!(cached["ifName"], "eth0");

    assert_eq!(work.ok(&["del", &name, &netns], &env), "");
    assert!(!cache_file.exists(), "DEL removes the cache entry");
    let links = ns.exec(&["ip", "-o", "link"]);
    assert!(!links.contains("eth0"), "{links}");
    assert_eq!(work.ok(&["status", &name], &[]), "");
}

/// cnitool's gc on a 1.1.0 list: the attachment ADD left in the cache is stale (cnitool names no
/// valid one), so it gets DEL with the arguments cached at ADD and its entry goes; then every
/// plugin gets GC with an empty cni.dev/valid-attachments.
#[test]
fn cnitool_gc_releases_the_cached_attachment() {
    let work = Work::new();
    let plugins = PluginDir::new();
    plugins.install("rec");
    let name = format!("cligc{}", unique_suffix());
    work.write_conf(
        "10-rec.conflist",
        &json!({"cniVersion": "1.1.0", "name": name, "plugins": [{"type": "rec"}]}),
    );
    let netns = format!("/run/netns/clibcni-fake-{}", unique_suffix());
    let bins = plugins.path().display().to_string();
    let env = [("CNI_PATH", bins.as_str())];
    work.ok(
        &["add", &name, &netns],
        &[("CNI_PATH", bins.as_str()), ("CNI_ARGS", "IgnoreUnknown=1")],
    );
    let id = cnitool_id(&netns);
    let cache_file = work
        .cache_dir()
        .join("results")
        .join(format!("{name}-{id}-eth0"));
    assert!(cache_file.exists());

    assert_eq!(work.ok(&["gc", &name, &netns], &env), "");
    let calls = plugins.calls("rec");
    let commands: Vec<&str> = calls.iter().map(|c| c.command.as_str()).collect();
    assert_eq!(commands, ["ADD", "DEL", "GC"]);
    let del = &calls[1];
    assert_eq!(del.env["CNI_CONTAINERID"], id);
    assert_eq!(del.env["CNI_NETNS"], netns);
    assert_eq!(
        del.env["CNI_ARGS"], "IgnoreUnknown=1",
        "the args cached at ADD"
    );
    assert_eq!(
        calls[2].stdin,
        json!({"type": "rec", "name": name, "cniVersion": "1.1.0",
               "cni.dev/valid-attachments": [], "cni.dev/attachments": []})
    );
    assert!(!cache_file.exists(), "GC removes the stale entry");
}

#[test]
fn cnitool_flow_on_a_single_json_conf_with_a_relative_netns() {
    require_root();
    let work = Work::new();
    let name = format!("clijson{}", unique_suffix());
    let bridge = unique_bridge();
    let (subnet, _) = unique_subnet();
    let mut conf = bridge_conf(&name, &bridge.0, &subnet, &work);
    conf["cniVersion"] = json!("0.4.0");
    work.write_conf("20-net.json", &conf);
    let ns = Netns::new();
    // cnitool makes the path absolute before hashing it.
    let relative = format!("netns/{}", ns.name());
    let absolute = ns.path().display().to_string();
    let run = |args: &[&str], env: &[(&str, &str)]| work.run_in(Path::new("/run"), args, env);
    let _del = undo(&work, &["del", &name, &absolute], &[]);

    let added = run(
        &["add", "--json", &name, &relative],
        &[("CNI_IFNAME", "net1")],
    );
    assert_eq!(added.status, 0, "add: {}", added.stderr);
    assert_eq!(
        added.stdout.lines().count(),
        1,
        "--json prints one line: {}",
        added.stdout
    );
    let result: Value = serde_json::from_str(&added.stdout).expect("result JSON");
    assert_eq!(result["cniVersion"], "0.4.0");
    address_in(
        result["ips"][0]["address"].as_str().expect("address"),
        &subnet,
    );
    assert!(ns.exec(&["ip", "-o", "link"]).contains("net1"));

    let id = cnitool_id(&absolute);
    let cache_file = work
        .cache_dir()
        .join("results")
        .join(format!("{name}-{id}-net1"));
    let cached: Value =
        serde_json::from_str(&std::fs::read_to_string(&cache_file).expect("cache file"))
            .expect("cache JSON");
    assert_eq!(cached["containerId"], id.as_str());

    let checked = run(&["check", &name, &relative], &[("CNI_IFNAME", "net1")]);
    assert_eq!(
        (checked.status, checked.stdout.as_str()),
        (0, ""),
        "check: {}",
        checked.stderr
    );
    let deleted = run(&["del", &name, &relative], &[("CNI_IFNAME", "net1")]);
    assert_eq!(deleted.status, 0, "del: {}", deleted.stderr);
    assert!(!cache_file.exists());
    assert!(!ns.exec(&["ip", "-o", "link"]).contains("net1"));
}

#[test]
fn plugin_errors_carry_their_cni_code() {
    require_root();
    let work = Work::new();
    let name = format!("clierr{}", unique_suffix());
    let bridge = unique_bridge();
    let (subnet, _) = unique_subnet();
    work.write_conf("10-net.conflist", &json!({"cniVersion": "1.0.0", "name": name, "plugins": [bridge_conf(&name, &bridge.0, &subnet, &work)]}));
    // The bridge plugin itself refuses a netns that does not exist.
    let missing = format!("/run/netns/clibcni-missing-{}", unique_suffix());
    let stderr = work.fails(1, &["add", &name, &missing], &[]);
    assert!(
        stderr.starts_with(&format!(
            "clibcni: ADD \"{name}\" failed: plugin type=\"bridge\" failed (add): "
        )),
        "{stderr}"
    );
    assert!(
        stderr.trim_end().ends_with(')') && stderr.contains("(CNI error code "),
        "{stderr}"
    );
    // The library's own checks keep their codes too (4: invalid environment).
    let stderr = work.fails(1, &["add", &name, &missing], &[("CNI_IFNAME", "a b")]);
    assert!(stderr.contains("(CNI error code 4)"), "{stderr}");
    // A plugin missing from the path: code 5, with a hint at Debian's directory.
    let stderr = work.fails(
        1,
        &["add", &name, &missing],
        &[("CNI_PATH", "/nonexistent")],
    );
    assert!(
        stderr.contains("failed to find plugin \"bridge\"")
            && stderr.contains("(CNI error code 5)"),
        "{stderr}"
    );
    assert!(stderr.contains("it is in /usr/lib/cni"), "{stderr}");
}

#[test]
fn usage_errors_and_unknown_networks() {
    let work = Work::new();
    for (args, env, message) in [
        (&[][..], &[][..], "missing command"),
        (&["frob"][..], &[][..], "unknown command 'frob'"),
        (
            &["network"][..],
            &[][..],
            "'network' needs a subcommand: create, ls, inspect, rm",
        ),
        (
            &["add", "net"][..],
            &[][..],
            "missing arguments; usage: clibcni add [OPTIONS] NETWORK NETNS",
        ),
        (
            &["del", "net", "/x", "more"][..],
            &[][..],
            "too many arguments",
        ),
        (
            &["network", "ls", "--bogus"][..],
            &[][..],
            "unknown option '--bogus' for 'network ls'",
        ),
        (
            &["network", "create", "--subnet"][..],
            &[][..],
            "option --subnet needs a value (SUBNET)",
        ),
        (
            &["attach", "n", "/x", "--port", "99999:80"][..],
            &[][..],
            "invalid --port \"99999:80\"",
        ),
        (
            &["attach", "a,,b", "/x"][..],
            &[][..],
            "invalid network list \"a,,b\": empty name",
        ),
        (
            &["add", "net", "/x"][..],
            &[("CNI_ARGS", "a=1;;b=2")][..],
            "invalid CNI_ARGS pair \"\"",
        ),
        (
            &["add", "net", "/x"][..],
            &[("CAP_ARGS", "[]")][..],
            "invalid CAP_ARGS: expected a JSON object",
        ),
    ] {
        let stderr = work.fails(2, args, env);
        assert!(
            stderr.starts_with(&format!("clibcni: {message}")),
            "{args:?}: {stderr}"
        );
        assert!(
            stderr.ends_with("Run 'clibcni help' for usage.\n"),
            "{args:?}: {stderr}"
        );
    }
    let stderr = work.fails(1, &["add", "nope", "/run/netns/nope"], &[]);
    assert_eq!(
        stderr,
        format!(
            "clibcni: no net configuration with name \"nope\" in {}\n",
            work.conf_dir().display()
        )
    );
    let stderr = work.fails(1, &["del", "nope", "/run/netns/nope"], &[]);
    assert!(
        stderr.contains("no net configuration with name \"nope\""),
        "{stderr}"
    );
}

#[test]
fn help_for_every_command() {
    let work = Work::new();
    let top = work.ok(&["help"], &[]);
    assert_eq!(work.ok(&["--help"], &[]), top);
    assert!(
        top.contains("NETCONFPATH")
            && top.contains("CNI_CACHE_DIR")
            && top.contains("/usr/lib/cni"),
        "{top}"
    );
    for words in [
        &["add"][..],
        &["check"],
        &["del"],
        &["gc"],
        &["status"],
        &["network", "create"],
        &["network", "ls"],
        &["network", "inspect"],
        &["network", "rm"],
        &["attach"],
        &["detach"],
        &["cache", "ls"],
        &["help"],
        &["completions"],
        &["man"],
    ] {
        let mut args = words.to_vec();
        args.push("--help");
        let text = work.ok(&args, &[]);
        assert!(
            text.starts_with(&format!("Usage: clibcni {}", words.join(" "))),
            "{words:?}: {text}"
        );
        let mut via_help = vec!["help"];
        via_help.extend_from_slice(words);
        assert_eq!(work.ok(&via_help, &[]), text, "{words:?}");
    }
    let group = work.ok(&["network", "-h"], &[]);
    assert!(
        group.starts_with("Usage: clibcni network COMMAND")
            && group.contains("\n  inspect  Print a native network's configuration file\n"),
        "{group}"
    );
    assert!(work
        .ok(&["help", "network", "ls"], &[])
        .contains("extended\nregular expression"));
    let stderr = work.fails(2, &["help", "frob"], &[]);
    assert!(stderr.starts_with("clibcni: no command 'frob'"), "{stderr}");
}

/// The completion scripts and man pages come from the same definitions as the parser: the
/// commands are in them, and bash really completes with its script.
#[test]
fn completions_and_man_pages() {
    let work = Work::new();
    let bash = work.ok(&["completions", "bash"], &[]);
    let script = work.dir.path().join("clibcni.bash");
    std::fs::write(&script, &bash).expect("cannot write the bash script");
    // Completing "clibcni net" and "clibcni network l" the way bash calls the function.
    let complete = |words: &str, cword: usize| {
        let probe = format!(
            "source {}; COMP_WORDS=({words}); COMP_CWORD={cword}; COMP_LINE='{words}'; COMP_POINT=${{#COMP_LINE}}; \
             _clibcni clibcni \"${{COMP_WORDS[$COMP_CWORD]}}\" \"${{COMP_WORDS[$COMP_CWORD-1]}}\"; \
             printf '%s\\n' \"${{COMPREPLY[@]}}\"",
            script.display()
        );
        let out = Command::new("bash")
            .args(["--norc", "-c", &probe])
            .output()
            .expect("cannot run bash");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    assert_eq!(complete("clibcni net", 1), "network\n");
    assert_eq!(complete("clibcni network l", 2), "ls\n");
    assert!(complete("clibcni network ls --fi", 3).contains("--filter"));

    let zsh = work.ok(&["completions", "zsh"], &[]);
    assert!(
        zsh.starts_with("#compdef clibcni\n") && zsh.contains("'*--filter=[name=PATTERN"),
        "{zsh}"
    );
    let fish = work.ok(&["completions", "fish"], &[]);
    assert!(
        fish.contains("complete -c clibcni") && fish.contains("-l conf-dir"),
        "{fish}"
    );
    let stderr = work.fails(2, &["completions", "tcsh"], &[]);
    assert!(
        stderr.starts_with("clibcni: invalid value 'tcsh' for SHELL"),
        "{stderr}"
    );

    let page = work.ok(&["man"], &[]);
    assert!(page.contains(".TH clibcni 1 "), "{page}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH \"GLOBAL OPTIONS\"",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.contains(section), "{section}: {page}");
    }
    assert!(page.contains("clibcni\\-network(1)") && page.contains("CNI_CACHE_DIR"));
    let pages = work.dir.path().join("man1");
    assert_eq!(work.ok(&["man", pages.to_str().unwrap()], &[]), "");
    let mut written: Vec<String> = std::fs::read_dir(&pages)
        .expect("man dir")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    written.sort();
    assert_eq!(written.len(), 19, "{written:?}");
    assert!(
        written.contains(&"clibcni-network-ls.1".to_string()),
        "{written:?}"
    );
    let ls = std::fs::read_to_string(pages.join("clibcni-network-ls.1")).expect("ls page");
    assert!(
        ls.contains("\\fBclibcni network ls\\fR [OPTIONS]")
            && ls.contains("extended regular expression"),
        "{ls}"
    );
    assert_eq!(
        std::fs::read_to_string(pages.join("clibcni.1")).expect("top page"),
        page
    );
}

/// The pathological filter of the old backtracking matcher (six '.*' and an 'x' against a
/// 60-character name: 6 s in release, 114 s in debug) answers at once through the CLI.
#[test]
fn filters_answer_in_linear_time() {
    let work = Work::new();
    let name = "a".repeat(60);
    work.write_conf(
        &format!("isulacni-{name}.conflist"),
        &json!({"cniVersion": "1.0.0", "name": name, "plugins": [{"type": "bridge", "bridge": "isula-br9"}]}),
    );
    let ls = |filter: &str| work.ok(&["network", "ls", "-q", "--filter", filter], &[]);
    assert_eq!(
        ls("name=^a{60}$"),
        format!("{name}\n"),
        "the network is listed"
    );
    let start = std::time::Instant::now();
    assert_eq!(ls("name=.*.*.*.*.*.*x"), "");
    let took = start.elapsed();
    assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
}

#[test]
fn cache_gc_releases_what_is_not_kept() {
    require_root();
    let work = Work::new();
    let suffix = unique_suffix();
    let (subnet, gateway) = unique_subnet();
    let net = NativeNet::create(
        &work,
        &format!("cli-gc{suffix}"),
        &["--subnet", &subnet, "--gateway", &gateway],
    );
    let (dead, live) = (Netns::new(), Netns::new());
    let dead_path = dead.path().display().to_string();
    let live_path = live.path().display().to_string();
    let (dead_id, live_id) = (
        format!("cli-gc-dead-{suffix}"),
        format!("cli-gc-live-{suffix}"),
    );
    let mut undos = Vec::new();
    for (path, id) in [(&dead_path, &dead_id), (&live_path, &live_id)] {
        undos.push(undo(&work, &["detach", &net.name, path, "--id", id], &[]));
        work.ok(&["attach", &net.name, path, "--id", id], &[]);
    }
    let dead_ip = work
        .cached_attachments()
        .iter()
        .find(|a| a["containerId"] == dead_id.as_str() && a["network"] == net.name.as_str())
        .and_then(|a| a["ips"][0].as_str().map(str::to_string))
        .expect("the dead container's cached address");

    // Dry run: the table names the dead container's attachment; nothing changes.
    let out = work.run(&["cache", "gc", "--keep", &live_id], &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    let rows: Vec<Vec<&str>> = out
        .stdout
        .lines()
        .skip(1)
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows,
        [vec![
            net.name.as_str(),
            dead_id.as_str(),
            "eth0",
            dead_path.as_str(),
            dead_ip.as_str()
        ]],
        "{}",
        out.stdout
    );
    assert!(
        out.stderr
            .contains("1 stale attachment(s) would be released"),
        "{}",
        out.stderr
    );
    assert_eq!(
        work.cached_attachments().len(),
        4,
        "two networks and two loopbacks"
    );

    // --apply: the dead container's veth and address go with its cache entries.
    let out = work.run(&["cache", "gc", "--keep", &live_id, "--apply"], &[]);
    assert_eq!(out.status, 0, "{}", out.stderr);
    assert!(
        out.stderr.contains("released 1 stale attachment(s)"),
        "{}",
        out.stderr
    );
    let left: Vec<(String, String)> = work
        .cached_attachments()
        .iter()
        .map(|a| {
            (
                a["containerId"].as_str().unwrap_or("").to_string(),
                a["network"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    let mut expected = vec![
        (live_id.clone(), "cni-loopback".to_string()),
        (live_id.clone(), net.name.clone()),
    ];
    let mut sorted = left.clone();
    sorted.sort();
    expected.sort();
    assert_eq!(sorted, expected);
    let dead_links = dead.exec(&["ip", "-o", "link", "show"]);
    assert!(!dead_links.contains("eth0"), "{dead_links}");
    live.exec(&["ping", "-c1", "-W2", &gateway]);
    let ipam = std::fs::read_dir(Path::new("/var/lib/cni/networks").join(&net.name))
        .map(|d| {
            d.filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect::<Vec<_>>()
        })
        .unwrap_or_default();
    let dead_addr = dead_ip.split('/').next().unwrap_or_default().to_string();
    assert!(
        !ipam.contains(&dead_addr),
        "{dead_addr} is still allocated: {ipam:?}"
    );

    // Nothing more to release.
    let out = work.run(&["cache", "gc", "--keep", &live_id], &[]);
    assert!(
        out.stdout.lines().count() <= 1 && out.stderr.contains("0 stale"),
        "{}{}",
        out.stdout,
        out.stderr
    );
    drop(undos);
}
