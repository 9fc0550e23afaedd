//! `attach` and `detach`: what iSulad does for a container on native networks, one CNI list
//! operation at a time so that each is timed and each failure keeps its CNI error code.
//!
//! The network module's own detach tears a whole container down; here only the named networks
//! go, with the configuration and arguments cached when they were attached, and loopback goes
//! with the container's last network.

use std::collections::HashSet;

use clibcni::cni::cache::CachedAttachment;
use clibcni::cni::conf::NetworkConfigList;
use clibcni::cni::runtime::{CniConfig, RuntimeConf};
use clibcni::network::annotations::PORT_MAPPINGS;
use clibcni::network::attach::{api_result, LOOPBACK_CONFLIST, LOOPBACK_IFNAME};
use clibcni::network::types::ApiResult;
use clibcni::network::{NetworkType, MAX_EXTRA_NETWORKS};
use serde_json::{json, Map, Value};

use crate::args::{AttachArgs, DetachArgs};
use crate::cnitool;
use crate::context::{warn, Context};
use crate::fail::Failure;
use crate::output;

/// Container interfaces are `eth0`, `eth1`, …
const IFNAME_PREFIX: &str = "eth";

/// The container being attached or detached.
struct Target {
    id: String,
    netns: String,
}

impl Target {
    /// `id` is the --id option.
    fn new(netns: &str, id: Option<&str>) -> Result<Target, Failure> {
        let netns = cnitool::absolute(netns)?;
        let id = id.map_or_else(|| cnitool::container_id(&netns), str::to_string);
        Ok(Target { id, netns })
    }

    fn runtime_conf(
        &self,
        ifname: &str,
        args: Vec<(String, String)>,
        capability_args: Map<String, Value>,
    ) -> RuntimeConf {
        RuntimeConf {
            container_id: self.id.clone(),
            netns: self.netns.clone(),
            ifname: ifname.to_string(),
            args,
            capability_args,
        }
    }
}

pub fn attach(ctx: &Context, args: &AttachArgs) -> Result<(), Failure> {
    let names = network_names(&args.networks)?;
    let ports = args
        .port
        .iter()
        .map(|p| port_mapping(p))
        .collect::<Result<Vec<_>, _>>()?;
    let target = Target::new(&args.netns, args.id.as_deref())?;
    let module = ctx.module()?;
    let lists = names
        .iter()
        .map(|name| {
            let text = module.inspect(NetworkType::Native, name)?;
            NetworkConfigList::from_bytes(text.as_bytes())
                .map_err(|e| Failure::cni(&format!("network {name:?}"), &e))
        })
        .collect::<Result<Vec<_>, Failure>>()?;
    let cni = module.cni();
    let cached = cached(cni, &target.id)?;
    if let Some(att) = cached.iter().find(|a| names.contains(&a.network_name)) {
        return Err(Failure::error(format!(
            "network {:?} is already attached to container {} on {}",
            att.network_name, target.id, att.if_name
        )));
    }
    let ifnames = free_ifnames(&cached, lists.len());
    let loopback = loopback()?;
    let mut caps = Map::new();
    if !ports.is_empty() {
        caps.insert(PORT_MAPPINGS.into(), Value::Array(ports));
    }
    add(
        ctx,
        cni,
        &loopback,
        &target.runtime_conf(LOOPBACK_IFNAME, Vec::new(), Map::new()),
    )?;
    let mut attached: Vec<(ApiResult, Value)> = Vec::new();
    for (i, (list, ifname)) in lists.iter().zip(&ifnames).enumerate() {
        // Port mappings go to the first network only, as in iSulad.
        let caps = if i == 0 { caps.clone() } else { Map::new() };
        let rt = target.runtime_conf(ifname, Vec::new(), caps);
        match add(ctx, cni, list, &rt) {
            Ok(result) => attached.push((
                api_result(&list.name, ifname, result.as_ref()),
                result.map_or(Value::Null, |r| r.to_value()),
            )),
            Err(failure) => {
                // The failed network may be half set up: DEL is idempotent, so it is undone too.
                roll_back(
                    ctx,
                    cni,
                    &target,
                    &lists[..=i],
                    &ifnames,
                    cached.is_empty(),
                    &loopback,
                );
                return Err(failure);
            }
        }
    }
    print_attached(&target, &attached, args.json);
    Ok(())
}

pub fn detach(ctx: &Context, args: &DetachArgs) -> Result<(), Failure> {
    let names = network_names(&args.networks)?;
    let target = Target::new(&args.netns, args.id.as_deref())?;
    let cni = ctx.cni();
    let loopback = loopback()?;
    let before = cached(&cni, &target.id)?;
    let mut failed = 0;
    for name in &names {
        let atts: Vec<&CachedAttachment> =
            before.iter().filter(|a| &a.network_name == name).collect();
        if atts.is_empty() {
            eprintln!(
                "clibcni: network {name:?} is not attached to container {} (nothing cached)",
                target.id
            );
            failed += 1;
        }
        for att in atts {
            match del_cached(ctx, &cni, &target, att) {
                Ok(()) => println!("{name}"),
                Err(e) => {
                    eprintln!("clibcni: {e}");
                    failed += 1;
                }
            }
        }
    }
    let remaining = cached(&cni, &target.id)?;
    let only_loopback_left = remaining.iter().all(|a| a.network_name == loopback.name);
    if only_loopback_left && remaining.iter().any(|a| a.network_name == loopback.name) {
        del(
            ctx,
            &cni,
            &loopback,
            &target.runtime_conf(LOOPBACK_IFNAME, Vec::new(), Map::new()),
        )?;
    }
    match failed {
        0 => Ok(()),
        n => Err(Failure::error(format!(
            "{n} of {} networks not detached",
            names.len()
        ))),
    }
}

/// `NET1,NET2`: non-empty, distinct names.
fn network_names(text: &str) -> Result<Vec<String>, Failure> {
    let names: Vec<String> = text.split(',').map(str::to_string).collect();
    if names.iter().any(String::is_empty) {
        return Err(Failure::usage(format!(
            "invalid network list {text:?}: empty name"
        )));
    }
    if names.iter().collect::<HashSet<_>>().len() != names.len() {
        return Err(Failure::usage(format!(
            "invalid network list {text:?}: a network is named twice"
        )));
    }
    if names.len() > MAX_EXTRA_NETWORKS {
        return Err(Failure::usage(format!(
            "too many networks: {} (at most {MAX_EXTRA_NETWORKS})",
            names.len()
        )));
    }
    Ok(names)
}

/// `HOST:CONTAINER[/PROTO]` as a CNI `portMappings` entry.
fn port_mapping(text: &str) -> Result<Value, Failure> {
    let invalid = || {
        Failure::usage(format!(
            "invalid --port {text:?}: expected HOST:CONTAINER[/tcp|udp|sctp]"
        ))
    };
    let (ports, protocol) = text.split_once('/').unwrap_or((text, "tcp"));
    let (host, container) = ports.split_once(':').ok_or_else(invalid)?;
    let port = |p: &str| {
        p.parse::<u16>()
            .ok()
            .filter(|p| *p != 0)
            .ok_or_else(invalid)
    };
    let protocol = protocol.to_ascii_lowercase();
    if !["tcp", "udp", "sctp"].contains(&protocol.as_str()) {
        return Err(invalid());
    }
    Ok(json!({"hostPort": port(host)?, "containerPort": port(container)?, "protocol": protocol}))
}

fn loopback() -> Result<NetworkConfigList, Failure> {
    NetworkConfigList::from_bytes(LOOPBACK_CONFLIST.as_bytes())
        .map_err(|e| Failure::cni("loopback network", &e))
}

fn cached(cni: &CniConfig, id: &str) -> Result<Vec<CachedAttachment>, Failure> {
    cni.cached_attachments(Some(id))
        .map_err(|e| Failure::cni("cannot read the result cache", &e))
}

/// The first `n` of eth0, eth1, … that no cached attachment of the container uses.
fn free_ifnames(cached: &[CachedAttachment], n: usize) -> Vec<String> {
    let used: HashSet<&str> = cached.iter().map(|a| a.if_name.as_str()).collect();
    (0..)
        .map(|i| format!("{IFNAME_PREFIX}{i}"))
        .filter(|name| !used.contains(name.as_str()))
        .take(n)
        .collect()
}

fn add(
    ctx: &Context,
    cni: &CniConfig,
    list: &NetworkConfigList,
    rt: &RuntimeConf,
) -> Result<Option<clibcni::cni::result::CniResult>, Failure> {
    let label = format!("ADD {:?} on {}", list.name, rt.ifname);
    ctx.progress
        .run(&label, || cni.add_network_list(list, rt))
        .map_err(|e| Failure::cni(&format!("{label} failed"), &e))
}

fn del(
    ctx: &Context,
    cni: &CniConfig,
    list: &NetworkConfigList,
    rt: &RuntimeConf,
) -> Result<(), Failure> {
    let label = format!("DEL {:?} on {}", list.name, rt.ifname);
    ctx.progress
        .run(&label, || cni.del_network_list(list, rt))
        .map_err(|e| Failure::cni(&format!("{label} failed"), &e))
}

/// DEL with what ADD used: the cached configuration (the file may be gone), args and capability args.
fn del_cached(
    ctx: &Context,
    cni: &CniConfig,
    target: &Target,
    att: &CachedAttachment,
) -> Result<(), Failure> {
    let list = NetworkConfigList::from_bytes(att.config.as_bytes()).map_err(|e| {
        Failure::cni(
            &format!("cached configuration of network {:?}", att.network_name),
            &e,
        )
    })?;
    del(
        ctx,
        cni,
        &list,
        &target.runtime_conf(
            &att.if_name,
            att.cni_args.clone(),
            att.capability_args.clone(),
        ),
    )
}

/// Undoes a failed attach: the networks it touched, and loopback if the container had nothing before.
fn roll_back(
    ctx: &Context,
    cni: &CniConfig,
    target: &Target,
    lists: &[NetworkConfigList],
    ifnames: &[String],
    was_new: bool,
    loopback: &NetworkConfigList,
) {
    let mut undo: Vec<(&NetworkConfigList, &str)> = lists
        .iter()
        .zip(ifnames.iter().map(String::as_str))
        .collect();
    if was_new {
        undo.insert(0, (loopback, LOOPBACK_IFNAME));
    }
    for (list, ifname) in undo.into_iter().rev() {
        if let Err(e) = del(
            ctx,
            cni,
            list,
            &target.runtime_conf(ifname, Vec::new(), Map::new()),
        ) {
            warn(&format!("rollback: {e}"));
        }
    }
}

fn print_attached(target: &Target, attached: &[(ApiResult, Value)], json: bool) {
    if json {
        let networks: Vec<Value> = attached
            .iter()
            .map(|(r, result)| {
                json!({"name": r.name, "interface": r.interface, "ips": r.ips, "gateways": r.gateways, "mac": r.mac, "result": result})
            })
            .collect();
        output::print_json(
            &json!({"containerId": target.id, "netns": target.netns, "networks": networks}),
            true,
        );
        return;
    }
    let rows: Vec<Vec<String>> = attached
        .iter()
        .map(|(r, _)| {
            let gateways: Vec<String> = r
                .gateways
                .iter()
                .filter(|g| !g.is_empty())
                .cloned()
                .collect();
            vec![
                r.name.clone(),
                r.interface.clone(),
                output::joined(&r.ips),
                output::joined(&gateways),
                r.mac.clone().unwrap_or_else(|| "-".into()),
            ]
        })
        .collect();
    print!(
        "{}",
        output::table(
            &["NETWORK", "INTERFACE", "ADDRESSES", "GATEWAYS", "MAC"],
            &rows
        )
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_lists() {
        assert_eq!(network_names("a,b").unwrap(), ["a", "b"]);
        assert_eq!(
            network_names("a,,b").unwrap_err(),
            Failure::usage("invalid network list \"a,,b\": empty name")
        );
        assert_eq!(
            network_names("a,b,a").unwrap_err(),
            Failure::usage("invalid network list \"a,b,a\": a network is named twice")
        );
    }

    #[test]
    fn port_mappings() {
        assert_eq!(
            port_mapping("8080:80").unwrap(),
            json!({"hostPort": 8080, "containerPort": 80, "protocol": "tcp"})
        );
        assert_eq!(
            port_mapping("53:53/UDP").unwrap(),
            json!({"hostPort": 53, "containerPort": 53, "protocol": "udp"})
        );
        for bad in [
            "80",
            "0:80",
            "80:0",
            "70000:80",
            "a:80",
            "80:80/icmp",
            "80:80/",
            ":80",
        ] {
            assert_eq!(
                port_mapping(bad).unwrap_err(),
                Failure::usage(format!(
                    "invalid --port {bad:?}: expected HOST:CONTAINER[/tcp|udp|sctp]"
                ))
            );
        }
    }

    #[test]
    fn interfaces_skip_the_ones_in_use() {
        let att = |ifname: &str| CachedAttachment {
            if_name: ifname.into(),
            ..CachedAttachment::default()
        };
        assert_eq!(free_ifnames(&[], 2), ["eth0", "eth1"]);
        assert_eq!(
            free_ifnames(&[att("lo"), att("eth0"), att("eth2")], 2),
            ["eth1", "eth3"]
        );
    }
}
