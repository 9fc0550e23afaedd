//! The CNI result model: parsing every result encoding (0.1.0 … 1.1.0), validating it, converting between
//! versions the way libcni does, and serialising it back.
//!
//! One Rust type holds every version, like Go's shared `types.Route`. Fields a version's JSON cannot carry are
//! dropped by [`CniResult::convert_to`] exactly where libcni's converters drop them, and otherwise only left out
//! of [`CniResult::to_value`]:
//! - interface `mtu`/`socketPath`/`pciID` and route `mtu`/`advmss`/`priority`/`table`/`scope` are written only
//!   for 1.1.0 (the spec version that introduced them); a 1.0.0 result keeps them in memory so that
//!   1.1.0 → 1.0.0 → 1.1.0 is the identity, as in Go;
//! - conversion to 0.3.x/0.4.0 drops the interface extras and keeps the route extras (Go's route type is shared);
//! - conversion to 0.1.0/0.2.0 keeps the first IPv4 and first IPv6 address and the routes of those families
//!   (only `dst`/`gw`), and drops interfaces.
//!
//! Parsing follows Go's decoder: unknown keys are dropped, `null` means absent, an empty optional string and a
//! zero `mtu`/`advmss`/`priority` (Go `omitempty` ints) mean absent. Interface indexes are not range-checked
//! (plugins send `-1`); [`CniResult::ips_of_interface`] copes with any value.
//!
//! This file owns the model shared by every version and the lookups on it; `parse` reads plugin output and
//! cached values into it, `convert` converts between versions, `encode` writes a version's JSON.

mod convert;
mod encode;
mod json;
mod parse;
#[cfg(test)]
mod tests;
mod text;

use std::net::IpAddr;

use ipnet::IpNet;

use crate::cni::version::Version;

pub use text::Text;

/// A plugin result, in any spec version.
#[derive(Clone, Debug, PartialEq)]
pub struct CniResult {
    pub cni_version: Version,
    pub interfaces: Vec<Interface>,
    pub ips: Vec<IpConfig>,
    pub routes: Vec<Route>,
    pub dns: Dns,
}

/// An interface created by a plugin (0.3.0+). `mtu`, `socket_path` and `pci_id` exist from 1.1.0 on.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Interface {
    pub name: String,
    pub mac: Option<String>,
    pub sandbox: Option<String>,
    pub mtu: Option<i64>,
    pub socket_path: Option<String>,
    pub pci_id: Option<String>,
}

/// An address assigned by a plugin.
#[derive(Clone, Debug, PartialEq)]
pub struct IpConfig {
    /// The address with its prefix, keeping host bits (`10.1.2.3/24`).
    pub address: IpNet,
    pub gateway: Option<IpAddr>,
    /// Index into the result's `interfaces`; plugins may send `-1` or omit it (IPAM results).
    pub interface: Option<i64>,
}

/// A route. Everything but `dst` and `gw` exists from 1.1.0 on.
#[derive(Clone, Debug, PartialEq)]
pub struct Route {
    pub dst: IpNet,
    pub gw: Option<IpAddr>,
    pub mtu: Option<i64>,
    pub advmss: Option<i64>,
    pub priority: Option<i64>,
    pub table: Option<i64>,
    pub scope: Option<i64>,
}

/// DNS settings for resolvers.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct Dns {
    pub nameservers: Vec<String>,
    pub domain: Option<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

/// The two address slots of a 0.1.0/0.2.0 result: key and IP family.
const LEGACY_SLOTS: [(&str, u8); 2] = [("ip4", 4), ("ip6", 6)];

impl CniResult {
    /// A result with nothing in it: what a plugin's `null` output means.
    pub fn empty(version: Version) -> CniResult {
        CniResult {
            cni_version: version,
            interfaces: Vec::new(),
            ips: Vec::new(),
            routes: Vec::new(),
            dns: Dns::default(),
        }
    }

    /// Addresses of the given interface name: every ip whose `interface` index points at an interface with that
    /// name, plus every ip whose index is absent or points nowhere (`-1`, out of range, no interface list): those
    /// come from IPAM-style results and belong to the interface the plugin was asked to configure.
    pub fn ips_of_interface(&self, ifname: &str) -> Vec<&IpConfig> {
        self.ips
            .iter()
            .filter(|ip| {
                self.interface_at(ip.interface)
                    .is_none_or(|i| i.name == ifname)
            })
            .collect()
    }

    /// MAC of the interface with that name. A host-side interface may share the name of the container's, so
    /// the one inside a sandbox wins.
    pub fn mac_of_interface(&self, ifname: &str) -> Option<&str> {
        let named = |i: &&Interface| i.name == ifname;
        let iface = self
            .interfaces
            .iter()
            .filter(named)
            .find(|i| i.sandbox.is_some())
            .or_else(|| self.interfaces.iter().find(named))?;
        iface.mac.as_deref()
    }

    fn interface_at(&self, index: Option<i64>) -> Option<&Interface> {
        self.interfaces.get(usize::try_from(index?).ok()?)
    }

    fn first_ip(&self, family: u8) -> Option<&IpConfig> {
        self.ips.iter().find(|ip| ip_family(&ip.address) == family)
    }

    fn routes_of(&self, family: u8) -> impl Iterator<Item = &Route> + Clone {
        self.routes
            .iter()
            .filter(move |r| ip_family(&r.dst) == family)
    }
}

impl Dns {
    fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.is_none()
            && self.search.is_empty()
            && self.options.is_empty()
    }
}

fn plain_route(dst: IpNet, gw: Option<IpAddr>) -> Route {
    Route {
        dst,
        gw,
        mtu: None,
        advmss: None,
        priority: None,
        table: None,
        scope: None,
    }
}

fn ip_family(net: &IpNet) -> u8 {
    match net {
        IpNet::V4(_) => 4,
        IpNet::V6(_) => 6,
    }
}
