//! Attaching a container to a planned set of networks, shared by the "cri" and "native"
//! adaptors: loopback first, then each network on its interface; teardown that tries
//! everything and reports every failure.

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;

use serde_json::{Map, Value};

use crate::cni::conf::NetworkConfigList;
use crate::cni::result::{CniResult, Text};
use crate::cni::runtime::{CniConfig, RuntimeConf};
use crate::network::annotations;
use crate::network::error::{NetError, NetErrors, NetResult};
use crate::network::types::{ApiResult, AttachRequest};

/// The loopback network every container gets on `lo` (the list iSulad uses, verbatim).
pub const LOOPBACK_CONFLIST: &str =
    r#"{"cniVersion": "0.3.1", "name": "cni-loopback","plugins":[{"type": "loopback" }]}"#;
pub const LOOPBACK_IFNAME: &str = "lo";

/// One network of a container, on one interface.
#[derive(Clone, Debug)]
pub struct Planned {
    pub list: Arc<NetworkConfigList>,
    pub ifname: String,
    /// Whether the request's annotations (port mappings, bandwidth, …) apply to this network.
    pub with_annotations: bool,
}

pub struct Attacher<'a> {
    pub cni: &'a CniConfig,
    pub loopback: &'a NetworkConfigList,
}

impl Attacher<'_> {
    /// ADD of loopback, then of every planned network in order. Stops at the first failure;
    /// the caller's detach cleans up what was attached.
    pub fn attach(&self, req: &AttachRequest, plan: &[Planned]) -> NetResult<Vec<ApiResult>> {
        let caps = annotations::capability_args(&req.annotations)?;
        self.cni
            .add_network_list(self.loopback, &loopback_conf(req))
            .map_err(|e| failure("attach", self.loopback, LOOPBACK_IFNAME, e))?;
        let mut results = Vec::with_capacity(plan.len());
        for net in plan {
            let rt = runtime_conf(req, net, &caps);
            let result = self
                .cni
                .add_network_list(&net.list, &rt)
                .map_err(|e| failure("attach", &net.list, &net.ifname, e))?;
            results.push(api_result(&net.list.name, &net.ifname, result.as_ref()));
        }
        Ok(results)
    }

    /// CHECK of every planned network; the results come from the cache.
    pub fn check(&self, req: &AttachRequest, plan: &[Planned]) -> NetResult<Vec<ApiResult>> {
        let caps = annotations::capability_args(&req.annotations)?;
        let mut results = Vec::with_capacity(plan.len());
        for net in plan {
            let rt = runtime_conf(req, net, &caps);
            let cached = self
                .cni
                .check_network_list(&net.list, &rt)
                .map_err(|e| failure("check", &net.list, &net.ifname, e))?;
            results.push(api_result(&net.list.name, &net.ifname, cached.as_ref()));
        }
        Ok(results)
    }

    /// DEL of loopback, every planned network and every other network the cache says this
    /// container is attached to (with the cached configuration, in case the file is gone).
    /// Every step is attempted; every failure is reported, with the first one's class.
    pub fn detach(&self, req: &AttachRequest, plan: &[Planned]) -> NetResult<()> {
        // A malformed annotation must not block cleanup: DEL then replays the cached args.
        let caps = annotations::capability_args(&req.annotations).unwrap_or_default();
        let mut errors = NetErrors::default();
        let mut record = |r: NetResult<()>| errors.record(r);
        let mut done: HashSet<(String, String)> = HashSet::new();
        record(
            self.cni
                .del_network_list(self.loopback, &loopback_conf(req))
                .map_err(|e| failure("detach", self.loopback, LOOPBACK_IFNAME, e)),
        );
        done.insert((self.loopback.name.clone(), LOOPBACK_IFNAME.to_string()));
        for net in plan {
            let rt = runtime_conf(req, net, &caps);
            record(
                self.cni
                    .del_network_list(&net.list, &rt)
                    .map_err(|e| failure("detach", &net.list, &net.ifname, e)),
            );
            done.insert((net.list.name.clone(), net.ifname.clone()));
        }
        match self.cni.cached_attachments(Some(&req.pod_id)) {
            Ok(cached) => {
                for att in cached
                    .into_iter()
                    .filter(|a| !done.contains(&(a.network_name.clone(), a.if_name.clone())))
                {
                    let list = match NetworkConfigList::from_bytes(att.config.as_bytes()) {
                        Ok(list) => list,
                        Err(e) => {
                            record(Err(NetError::exec(format!(
                                "cannot detach network {:?} on {}: cached configuration is invalid: {e}",
                                att.network_name, att.if_name
                            ))));
                            continue;
                        }
                    };
                    let net = Planned {
                        list: Arc::new(list),
                        ifname: att.if_name.clone(),
                        with_annotations: false,
                    };
                    let rt = runtime_conf(req, &net, &Map::new());
                    record(
                        self.cni
                            .del_network_list(&net.list, &rt)
                            .map_err(|e| failure("detach", &net.list, &net.ifname, e)),
                    );
                }
            }
            Err(e) => record(Err(NetError::exec(format!(
                "cannot list cached attachments: {e}"
            )))),
        }
        errors.into_result()
    }
}

fn loopback_conf(req: &AttachRequest) -> RuntimeConf {
    RuntimeConf {
        container_id: req.pod_id.clone(),
        netns: req.netns_path.clone(),
        ifname: LOOPBACK_IFNAME.to_string(),
        ..RuntimeConf::default()
    }
}

fn runtime_conf(req: &AttachRequest, net: &Planned, caps: &Map<String, Value>) -> RuntimeConf {
    RuntimeConf {
        container_id: req.pod_id.clone(),
        netns: req.netns_path.clone(),
        ifname: net.ifname.clone(),
        args: req.args.clone(),
        capability_args: if net.with_annotations {
            caps.clone()
        } else {
            Map::new()
        },
    }
}

fn failure(op: &str, list: &NetworkConfigList, ifname: &str, e: crate::cni::Error) -> NetError {
    NetError::exec(format!(
        "{op} network {:?} on {ifname} failed: {e}",
        list.name
    ))
}

/// `network_api_result` of one network: the addresses of its interface ("addr/prefix"), the
/// parallel gateways ("" for none, never Go's "<nil>") and the interface's MAC.
pub fn api_result(name: &str, ifname: &str, result: Option<&CniResult>) -> ApiResult {
    let mut out = ApiResult {
        name: name.to_string(),
        interface: ifname.to_string(),
        ..ApiResult::default()
    };
    if let Some(result) = result {
        for ip in result.ips_of_interface(ifname) {
            let address = Text::prefixed(go_ip(ip.address.addr()), ip.address.prefix_len());
            out.ips.push(address.as_str().to_owned());
            out.gateways
                .push(ip.gateway.map(ip_string).unwrap_or_default());
        }
        out.mac = result.mac_of_interface(ifname).map(str::to_string);
    }
    out
}

/// Addresses printed as Go prints them: IPv4-mapped IPv6 addresses as IPv4.
pub fn ip_string(ip: IpAddr) -> String {
    Text::addr(go_ip(ip)).as_str().to_owned()
}

/// The address Go prints for `ip`: an IPv4-mapped IPv6 address is the IPv4 one.
fn go_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cni::version::Version;

    #[test]
    fn api_result_has_parallel_gateways_and_mac() {
        let raw = br#"{"cniVersion":"1.0.0","interfaces":[{"name":"br0","mac":"aa:aa:aa:aa:aa:aa"},{"name":"eth0","mac":"0a:58:0a:01:00:02","sandbox":"/run/netns/x"}],
            "ips":[{"interface":1,"address":"10.1.0.2/24","gateway":"10.1.0.1"},{"interface":1,"address":"fd00::2/64"}],"routes":[{"dst":"0.0.0.0/0"}]}"#;
        let result = CniResult::from_plugin_output(raw, Version::V1_0_0).unwrap();
        let api = api_result("net", "eth0", Some(&result));
        assert_eq!(api.ips, ["10.1.0.2/24", "fd00::2/64"]);
        assert_eq!(api.gateways, ["10.1.0.1", ""]);
        assert_eq!(api.mac.as_deref(), Some("0a:58:0a:01:00:02"));
        let none = api_result("net", "eth1", None);
        assert!(none.ips.is_empty() && none.mac.is_none());
    }

    #[test]
    fn mapped_addresses_print_as_ipv4() {
        assert_eq!(ip_string("::ffff:10.1.2.3".parse().unwrap()), "10.1.2.3");
        assert_eq!(ip_string("fd00::1".parse().unwrap()), "fd00::1");
    }
}
