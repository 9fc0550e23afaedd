//! Native network creation as a pure function: from the request and what is already in use
//! (network names, subnets of every loaded conflist, bridge and host interface names, host
//! addresses) to the complete conflist. Probing the host and writing the file live elsewhere.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net};
use serde_json::{json, Map, Value};

use crate::cni::conf::MAX_NETWORK_NAME_LEN;
use crate::cni::validate;
use crate::network::error::{NetError, NetResult};

/// Bridge names are `isula-br0` … `isula-br1023`.
pub const BRIDGE_PREFIX: &str = "isula-br";
pub const MAX_BRIDGES: usize = 1024;
/// The domain the dnsname plugin serves.
pub const DNS_DOMAIN: &str = "dns.isulad";

/// `network create` as the daemon hands it over.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateRequest {
    pub name: Option<String>,
    pub driver: Option<String>,
    pub gateway: Option<String>,
    pub internal: bool,
    pub subnet: Option<String>,
}

/// What is taken already.
#[derive(Clone, Debug, Default)]
pub struct Used {
    /// Names of native networks.
    pub names: HashSet<String>,
    /// Bridge names in conflists and names of host interfaces.
    pub interfaces: HashSet<String>,
    /// Every IPAM subnet of every loaded conflist (native and cri).
    pub subnets: Vec<IpNet>,
    /// Addresses configured on host interfaces.
    pub host_addrs: Vec<IpAddr>,
}

/// The plugins a native network can chain, in order; `dnsname` only when installed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plugins {
    pub dnsname: bool,
}

/// The network to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewNetwork {
    pub name: String,
    pub bridge: String,
    pub subnet: IpNet,
    pub gateway: IpAddr,
    /// The conflist text, formatted as iSulad writes it (4-space indent, final newline).
    pub conflist: String,
}

/// Validates the request and allocates subnet, gateway and bridge.
pub fn plan(
    req: &CreateRequest,
    used: &Used,
    cni_version: &str,
    plugins: &Plugins,
) -> NetResult<NewNetwork> {
    if let Some(driver) = req.driver.as_deref().filter(|d| *d != "bridge") {
        return Err(NetError::input(format!("Cannot support driver: {driver}")));
    }
    let requested_name = req.name.as_deref().filter(|n| !n.is_empty());
    if let Some(name) = requested_name {
        check_name(name)?;
        if used.names.contains(name) {
            return Err(NetError::input(format!(
                "Network name \"{name}\" has been used"
            )));
        }
    }
    let subnet = match req.subnet.as_deref().filter(|s| !s.is_empty()) {
        Some(text) => {
            let subnet = parse_subnet(text)?;
            if conflicts(&subnet, used) {
                return Err(NetError::input(format!(
                    "Subnet \"{subnet}\" conflict with CNI config or host network"
                )));
            }
            subnet
        }
        None => {
            if req.gateway.as_deref().is_some_and(|g| !g.is_empty()) {
                return Err(NetError::input("Cannot specify gateway without subnet"));
            }
            free_subnet(used)
                .ok_or_else(|| NetError::exec("Cannot find avaliable subnet by default"))?
        }
    };
    let gateway = match req.gateway.as_deref().filter(|g| !g.is_empty()) {
        Some(text) => parse_gateway(text, &subnet)?,
        None => default_gateway(&subnet)?,
    };
    let bridge = free_bridge(used)?;
    let name = requested_name.map_or_else(|| bridge.clone(), str::to_string);
    if requested_name.is_none() && used.names.contains(&name) {
        return Err(NetError::input(format!(
            "Network name \"{name}\" has been used"
        )));
    }
    let conflist = conflist_text(
        &name,
        cni_version,
        &bridge,
        &subnet,
        &gateway,
        req.internal,
        plugins,
    );
    Ok(NewNetwork {
        name,
        bridge,
        subnet,
        gateway,
        conflist,
    })
}

/// iSulad's network name rule: the CNI identifier rule, at most 200 characters.
pub fn check_name(name: &str) -> NetResult<()> {
    if name.len() > MAX_NETWORK_NAME_LEN || validate::network_name(name).is_err() {
        return Err(NetError::input(format!("Invalid network name {name}")));
    }
    Ok(())
}

/// A subnet reduced to its network address (`192.168.2.5/16` is `192.168.0.0/16`).
fn parse_subnet(text: &str) -> NetResult<IpNet> {
    let net: IpNet = text
        .parse()
        .map_err(|_| NetError::input(format!("Invalid subnet {text}")))?;
    Ok(net.trunc())
}

/// An explicit gateway must lie strictly inside the subnet (not its network or broadcast
/// address); it is kept as written.
fn parse_gateway(text: &str, subnet: &IpNet) -> NetResult<IpAddr> {
    let gw: IpAddr = text
        .parse()
        .map_err(|_| NetError::input(format!("Invalid gateway {text}")))?;
    let usable = subnet.contains(&gw)
        && gw != subnet.network()
        && (subnet.addr().is_ipv6() || gw != subnet.broadcast());
    if !usable {
        return Err(NetError::input(format!(
            "subnet \"{subnet}\" and gateway \"{text}\" not match"
        )));
    }
    Ok(gw)
}

/// The first address of the subnet (network address with the last byte's low bit set).
fn default_gateway(subnet: &IpNet) -> NetResult<IpAddr> {
    let no_gateway = || NetError::exec(format!("No avaliable gateway in {subnet}"));
    match subnet {
        IpNet::V4(n) => {
            let mut octets = n.network().octets();
            if n.netmask().octets()[3] == 0xff {
                return Err(no_gateway());
            }
            octets[3] |= 1;
            Ok(IpAddr::V4(Ipv4Addr::from(octets)))
        }
        IpNet::V6(n) => {
            let mut octets = n.network().octets();
            if n.netmask().octets()[15] == 0xff {
                return Err(no_gateway());
            }
            octets[15] |= 1;
            Ok(IpAddr::V6(Ipv6Addr::from(octets)))
        }
    }
}

/// A subnet conflicts when it overlaps a used subnet (either contains the other) or contains
/// a host address.
fn conflicts(subnet: &IpNet, used: &Used) -> bool {
    used.subnets
        .iter()
        .any(|u| u.contains(subnet) || subnet.contains(u))
        || used.host_addrs.iter().any(|a| subnet.contains(a))
}

/// The first free /24 of 192.168.0.0/16, then 172.16.0.0/12, then 10.0.0.0/8. Taken ranges
/// are merged into sorted intervals, so the scan skips over them instead of testing every
/// candidate against every subnet.
fn free_subnet(used: &Used) -> Option<IpNet> {
    let mut taken: Vec<(u32, u32)> = used
        .subnets
        .iter()
        .filter_map(|n| match n {
            IpNet::V4(v4) => Some((u32::from(v4.network()), u32::from(v4.broadcast()))),
            IpNet::V6(_) => None,
        })
        .chain(used.host_addrs.iter().filter_map(|a| match a {
            IpAddr::V4(v4) => Some((u32::from(*v4), u32::from(*v4))),
            IpAddr::V6(_) => None,
        }))
        .collect();
    taken.sort_unstable();
    let merged = merge(taken);
    let pools = [
        (Ipv4Addr::new(192, 168, 0, 0), 16u8),
        (Ipv4Addr::new(172, 16, 0, 0), 12),
        (Ipv4Addr::new(10, 0, 0, 0), 8),
    ];
    for (base, prefix) in pools {
        let pool = Ipv4Net::new(base, prefix).ok()?;
        let (first, last) = (u32::from(pool.network()), u32::from(pool.broadcast()));
        let mut candidate = first;
        while candidate <= last {
            let end = candidate | 0xff;
            // The first taken interval that ends at or after the candidate's start.
            let idx = merged.partition_point(|&(_, hi)| hi < candidate);
            match merged.get(idx) {
                Some(&(lo, hi)) if lo <= end => {
                    // Overlap: continue with the first /24 after this interval.
                    candidate = match (hi | 0xff).checked_add(1) {
                        Some(next) => next,
                        None => break,
                    };
                }
                _ => {
                    return Ipv4Net::new(Ipv4Addr::from(candidate), 24)
                        .ok()
                        .map(IpNet::V4)
                }
            }
        }
    }
    None
}

fn merge(sorted: Vec<(u32, u32)>) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::with_capacity(sorted.len());
    for (lo, hi) in sorted {
        match out.last_mut() {
            Some(last) if lo <= last.1.saturating_add(1) => last.1 = last.1.max(hi),
            _ => out.push((lo, hi)),
        }
    }
    out
}

fn free_bridge(used: &Used) -> NetResult<String> {
    (0..MAX_BRIDGES)
        .map(|i| format!("{BRIDGE_PREFIX}{i}"))
        .find(|b| !used.names.contains(b) && !used.interfaces.contains(b))
        .ok_or_else(|| NetError::exec("Too many network bridges"))
}

/// The conflist iSulad writes: bridge (+host-local), portmap, firewall and, if installed,
/// dnsname. An internal network has no gateway role and no masquerading.
fn conflist_text(
    name: &str,
    cni_version: &str,
    bridge: &str,
    subnet: &IpNet,
    gateway: &IpAddr,
    internal: bool,
    plugins: &Plugins,
) -> String {
    let default_route = if subnet.addr().is_ipv4() {
        "0.0.0.0/0"
    } else {
        "::/0"
    };
    let mut bridge_plugin = Map::new();
    bridge_plugin.insert("type".into(), "bridge".into());
    bridge_plugin.insert("bridge".into(), bridge.into());
    if !internal {
        bridge_plugin.insert("isGateway".into(), true.into());
        bridge_plugin.insert("ipMasq".into(), true.into());
    }
    bridge_plugin.insert("hairpinMode".into(), true.into());
    bridge_plugin.insert(
        "ipam".into(),
        json!({
            "type": "host-local",
            "routes": [{"dst": default_route}],
            "ranges": [[{"subnet": subnet.to_string(), "gateway": gateway.to_string()}]]
        }),
    );
    let mut list = vec![
        Value::Object(bridge_plugin),
        json!({"type": "portmap", "capabilities": {"portMappings": true}}),
        json!({"type": "firewall"}),
    ];
    if plugins.dnsname {
        list.push(
            json!({"type": "dnsname", "domainName": DNS_DOMAIN, "capabilities": {"aliases": true}}),
        );
    }
    let conf = json!({"cniVersion": cni_version, "name": name, "plugins": list});
    let mut text = pretty(&conf);
    text.push('\n');
    text
}

/// JSON with 4-space indentation, as iSulad's generator writes it.
pub fn pretty(value: &Value) -> String {
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"    ");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    // Serialising a Value into memory cannot fail.
    let _ = serde::Serialize::serialize(value, &mut ser);
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(name: Option<&str>, subnet: Option<&str>, gateway: Option<&str>) -> CreateRequest {
        CreateRequest {
            name: name.map(String::from),
            subnet: subnet.map(String::from),
            gateway: gateway.map(String::from),
            ..CreateRequest::default()
        }
    }

    fn used(subnets: &[&str], addrs: &[&str], names: &[&str], ifaces: &[&str]) -> Used {
        Used {
            names: names.iter().map(|s| s.to_string()).collect(),
            interfaces: ifaces.iter().map(|s| s.to_string()).collect(),
            subnets: subnets.iter().map(|s| s.parse().unwrap()).collect(),
            host_addrs: addrs.iter().map(|s| s.parse().unwrap()).collect(),
        }
    }

    const NO_DNS: Plugins = Plugins { dnsname: false };

    #[test]
    fn allocation_table() {
        // (request, used, expected subnet, gateway, bridge, name) or expected error
        type Case<'a> = (
            CreateRequest,
            Used,
            Result<(&'a str, &'a str, &'a str, &'a str), &'a str>,
        );
        let cases: Vec<Case> = vec![
            (
                req(Some("n1"), None, None),
                Used::default(),
                Ok(("192.168.0.0/24", "192.168.0.1", "isula-br0", "n1")),
            ),
            (
                req(None, None, None),
                Used::default(),
                Ok(("192.168.0.0/24", "192.168.0.1", "isula-br0", "isula-br0")),
            ),
            (
                req(Some("n"), None, None),
                used(
                    &["192.168.0.0/24", "192.168.1.0/25"],
                    &["192.168.2.7"],
                    &["isula-br0"],
                    &["isula-br1"],
                ),
                Ok(("192.168.3.0/24", "192.168.3.1", "isula-br2", "n")),
            ),
            (
                req(Some("n"), None, None),
                used(&["192.168.0.0/16"], &[], &[], &[]),
                Ok(("172.16.0.0/24", "172.16.0.1", "isula-br0", "n")),
            ),
            (
                req(Some("n"), None, None),
                used(
                    &["192.168.0.0/16", "172.16.0.0/12"],
                    &["10.0.0.1"],
                    &[],
                    &[],
                ),
                Ok(("10.0.1.0/24", "10.0.1.1", "isula-br0", "n")),
            ),
            (
                req(Some("n"), Some("192.168.2.5/16"), None),
                Used::default(),
                Ok(("192.168.0.0/16", "192.168.0.1", "isula-br0", "n")),
            ),
            (
                req(Some("n"), Some("192.172.58.156/24"), None),
                Used::default(),
                Ok(("192.172.58.0/24", "192.172.58.1", "isula-br0", "n")),
            ),
            (
                req(Some("n"), Some("fff0:0003::0003/64"), None),
                Used::default(),
                Ok(("fff0:3::/64", "fff0:3::1", "isula-br0", "n")),
            ),
            (
                req(Some("n"), Some("10.9.0.0/16"), Some("10.9.8.7")),
                Used::default(),
                Ok(("10.9.0.0/16", "10.9.8.7", "isula-br0", "n")),
            ),
            (
                req(Some("n"), Some("10.1.0.0/16"), None),
                used(&["10.1.2.0/24"], &[], &[], &[]),
                Err("Subnet \"10.1.0.0/16\" conflict with CNI config or host network"),
            ),
            (
                req(Some("n"), Some("10.1.2.0/24"), None),
                used(&["10.0.0.0/8"], &[], &[], &[]),
                Err("Subnet \"10.1.2.0/24\" conflict with CNI config or host network"),
            ),
            (
                req(Some("n"), Some("10.1.2.0/24"), None),
                used(&[], &["10.1.2.3"], &[], &[]),
                Err("Subnet \"10.1.2.0/24\" conflict with CNI config or host network"),
            ),
            (
                req(Some("n"), None, Some("10.1.2.1")),
                Used::default(),
                Err("Cannot specify gateway without subnet"),
            ),
            (
                req(Some("n"), Some("10.1.2.0/33"), None),
                Used::default(),
                Err("Invalid subnet 10.1.2.0/33"),
            ),
            (
                req(Some("n"), Some("10.1.2.0/24"), Some("x")),
                Used::default(),
                Err("Invalid gateway x"),
            ),
            (
                req(Some("n"), Some("10.1.2.0/24"), Some("10.1.3.1")),
                Used::default(),
                Err("subnet \"10.1.2.0/24\" and gateway \"10.1.3.1\" not match"),
            ),
            (
                req(Some("n"), Some("10.1.2.0/24"), Some("10.1.2.255")),
                Used::default(),
                Err("subnet \"10.1.2.0/24\" and gateway \"10.1.2.255\" not match"),
            ),
            (
                req(Some("n"), Some("10.1.2.0/24"), Some("10.1.2.0")),
                Used::default(),
                Err("subnet \"10.1.2.0/24\" and gateway \"10.1.2.0\" not match"),
            ),
            (
                req(Some("n"), Some("10.1.2.3/32"), None),
                Used::default(),
                Err("No avaliable gateway in 10.1.2.3/32"),
            ),
            (
                req(Some("used"), None, None),
                used(&[], &[], &["used"], &[]),
                Err("Network name \"used\" has been used"),
            ),
            (
                req(Some("-bad"), None, None),
                Used::default(),
                Err("Invalid network name -bad"),
            ),
            (
                req(Some("../x"), None, None),
                Used::default(),
                Err("Invalid network name ../x"),
            ),
            (
                req(Some("n"), None, None),
                used(
                    &["192.168.0.0/16", "172.16.0.0/12", "10.0.0.0/8"],
                    &[],
                    &[],
                    &[],
                ),
                Err("Cannot find avaliable subnet by default"),
            ),
        ];
        for (request, used, expected) in cases {
            let got = plan(&request, &used, "1.0.0", &NO_DNS);
            match (got, expected) {
                (Ok(net), Ok((subnet, gw, bridge, name))) => {
                    assert_eq!(
                        (
                            net.subnet.to_string().as_str(),
                            net.gateway.to_string().as_str(),
                            net.bridge.as_str(),
                            net.name.as_str()
                        ),
                        (subnet, gw, bridge, name),
                        "{request:?}"
                    );
                }
                (Err(e), Err(msg)) => assert_eq!(e.msg, msg, "{request:?}"),
                (got, expected) => panic!("{request:?}: got {got:?}, expected {expected:?}"),
            }
        }
    }

    #[test]
    fn driver_and_bridge_errors_have_input_and_exec_classes() {
        let mut r = req(Some("n"), None, None);
        r.driver = Some("macvlan".into());
        let e = plan(&r, &Used::default(), "1.0.0", &NO_DNS).unwrap_err();
        assert_eq!(
            (e.msg.as_str(), e.cc),
            (
                "Cannot support driver: macvlan",
                crate::network::error::cc::ERR_INPUT
            )
        );
        let all: Vec<String> = (0..MAX_BRIDGES).map(|i| format!("isula-br{i}")).collect();
        let full = Used {
            interfaces: all.into_iter().collect(),
            ..Used::default()
        };
        let e = plan(&req(Some("n"), None, None), &full, "1.0.0", &NO_DNS).unwrap_err();
        assert_eq!(
            (e.msg.as_str(), e.cc),
            (
                "Too many network bridges",
                crate::network::error::cc::ERR_EXEC
            )
        );
    }

    #[test]
    fn conflist_is_byte_identical_to_isulad() {
        let expected = r#"{
    "cniVersion": "1.0.0",
    "name": "mynet1",
    "plugins": [
        {
            "type": "bridge",
            "bridge": "isula-br2",
            "isGateway": true,
            "ipMasq": true,
            "hairpinMode": true,
            "ipam": {
                "type": "host-local",
                "routes": [
                    {
                        "dst": "0.0.0.0/0"
                    }
                ],
                "ranges": [
                    [
                        {
                            "subnet": "192.168.2.0/24",
                            "gateway": "192.168.2.1"
                        }
                    ]
                ]
            }
        },
        {
            "type": "portmap",
            "capabilities": {
                "portMappings": true
            }
        },
        {
            "type": "firewall"
        },
        {
            "type": "dnsname",
            "domainName": "dns.isulad",
            "capabilities": {
                "aliases": true
            }
        }
    ]
}
"#;
        let used = used(
            &["192.168.0.0/24", "192.168.1.0/24"],
            &[],
            &["a", "b"],
            &["isula-br0", "isula-br1"],
        );
        let net = plan(
            &req(Some("mynet1"), None, None),
            &used,
            "1.0.0",
            &Plugins { dnsname: true },
        )
        .unwrap();
        assert_eq!(net.conflist, expected);
    }

    #[test]
    fn internal_network_has_no_gateway_role() {
        let mut r = req(Some("in"), Some("fff0:3::/64"), None);
        r.internal = true;
        let net = plan(&r, &Used::default(), "1.0.0", &NO_DNS).unwrap();
        assert!(!net.conflist.contains("isGateway") && !net.conflist.contains("ipMasq"));
        assert!(net.conflist.contains("\"dst\": \"::/0\""));
        assert!(net.conflist.contains("\"gateway\": \"fff0:3::1\""));
    }

    #[test]
    fn scan_skips_over_many_taken_ranges() {
        let base = u32::from(Ipv4Addr::new(172, 16, 0, 0));
        let nth = |i: u32| Ipv4Addr::from(base + i * 256);
        let mut u = used(&["192.168.0.0/16"], &[], &[], &[]);
        u.subnets
            .extend((0..999).map(|i| IpNet::V4(Ipv4Net::new(nth(i), 24).unwrap())));
        u.host_addrs
            .extend((999..1099).map(|i| IpAddr::V4(Ipv4Addr::from(u32::from(nth(i)) + 9))));
        let net = plan(&req(Some("n"), None, None), &u, "1.0.0", &NO_DNS).unwrap();
        assert_eq!(net.subnet, IpNet::V4(Ipv4Net::new(nth(1099), 24).unwrap()));
    }
}
