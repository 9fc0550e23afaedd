//! Writing a result as the JSON of its own version's encoding (key order and omitted fields as
//! libcni writes them), serialised straight from the typed result: requests and cache files get
//! it without an intermediate `serde_json::Value`.

use std::net::IpAddr;

use ipnet::IpNet;

use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::text::Text;
use super::{ip_family, plain_route, CniResult, Dns, Interface, IpConfig, Route, LEGACY_SLOTS};
use crate::cni::version::{Family, Version};

impl CniResult {
    /// The JSON of this result in its own version's encoding (see its `Serialize`).
    pub fn to_value(&self) -> Value {
        // Only maps with string keys, strings and integers: serialising into a Value cannot fail.
        serde_json::to_value(self).unwrap_or(Value::Null)
    }

    /// Compact JSON of this result in its own version's encoding.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// This result as decoding its own JSON gives it back: without what its version's encoding leaves out, which it
    /// may hold after a conversion (see the `result` module's documentation). A cache memo keeps this form, so that
    /// what it hands out is what reading the file would give.
    pub fn as_written(self) -> CniResult {
        match self.cni_version.family() {
            Family::V020 => self.legacy_parts(),
            _ if self.cni_version >= Version::V1_1_0 => self,
            _ => {
                let mut out = self.without_interface_extras();
                for route in &mut out.routes {
                    *route = plain_route(route.dst, route.gw);
                }
                out
            }
        }
    }
}

/// Empty arrays and an empty `dns` are omitted; key order: cniVersion, interfaces, ips, routes,
/// dns (0.1.0/0.2.0: cniVersion, ip4, ip6, dns).
impl Serialize for CniResult {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("cniVersion", &Spelled(self.cni_version))?;
        match self.cni_version.family() {
            Family::V020 => {
                for (key, family) in LEGACY_SLOTS {
                    if let Some(ip) = self.first_ip(family) {
                        let legacy = LegacyIp {
                            result: self,
                            ip,
                            family,
                        };
                        map.serialize_entry(key, &legacy)?;
                    }
                }
            }
            family => {
                let extras = self.cni_version >= Version::V1_1_0;
                let with_version = family == Family::V040;
                let interfaces = self
                    .interfaces
                    .iter()
                    .map(|iface| InterfaceJson(iface, extras));
                put_seq(&mut map, "interfaces", interfaces)?;
                put_seq(
                    &mut map,
                    "ips",
                    self.ips.iter().map(|ip| IpJson(ip, with_version)),
                )?;
                put_seq(
                    &mut map,
                    "routes",
                    self.routes.iter().map(|r| RouteJson(r, extras)),
                )?;
            }
        }
        if !self.dns.is_empty() {
            map.serialize_entry("dns", &DnsJson(&self.dns))?;
        }
        map.end()
    }
}

/// A version as its spelling.
struct Spelled(Version);

impl Serialize for Spelled {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0.spelling() {
            Some(spelling) => serializer.serialize_str(spelling),
            None => serializer.collect_str(&self.0),
        }
    }
}

/// An address, or an address with its prefix, as a JSON string (see `text`).
enum Address<'a> {
    Addr(IpAddr),
    Net(&'a IpNet),
}

impl Serialize for Address<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let text = match self {
            Address::Addr(addr) => Text::addr(*addr),
            Address::Net(net) => Text::net(net),
        };
        serializer.serialize_str(text.as_str())
    }
}

/// The items of an iterator as a JSON array.
struct Seq<I>(I);

impl<I: Iterator<Item: Serialize> + Clone> Serialize for Seq<I> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_seq(self.0.clone())
    }
}

fn put<M: SerializeMap>(
    map: &mut M,
    key: &str,
    value: Option<impl Serialize>,
) -> Result<(), M::Error> {
    match value {
        Some(value) => map.serialize_entry(key, &value),
        None => Ok(()),
    }
}

/// `key` with the items as an array, left out when there are none.
fn put_seq<M: SerializeMap>(
    map: &mut M,
    key: &str,
    items: impl Iterator<Item: Serialize> + Clone,
) -> Result<(), M::Error> {
    if items.clone().next().is_none() {
        return Ok(());
    }
    map.serialize_entry(key, &Seq(items))
}

/// The `ip4`/`ip6` object of a 0.1.0/0.2.0 result: its first address of the family, and the
/// result's routes of that family.
struct LegacyIp<'a> {
    result: &'a CniResult,
    ip: &'a IpConfig,
    family: u8,
}

impl Serialize for LegacyIp<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("ip", &Address::Net(&self.ip.address))?;
        put(&mut map, "gateway", self.ip.gateway.map(Address::Addr))?;
        let routes = self
            .result
            .routes_of(self.family)
            .map(|r| RouteJson(r, false));
        put_seq(&mut map, "routes", routes)?;
        map.end()
    }
}

/// An interface; `extras` (1.1.0) adds mtu, socketPath and pciID.
struct InterfaceJson<'a>(&'a Interface, bool);

impl Serialize for InterfaceJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let InterfaceJson(iface, extras) = *self;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("name", &iface.name)?;
        put(&mut map, "mac", iface.mac.as_deref())?;
        if extras {
            put(&mut map, "mtu", iface.mtu)?;
        }
        put(&mut map, "sandbox", iface.sandbox.as_deref())?;
        if extras {
            put(&mut map, "socketPath", iface.socket_path.as_deref())?;
            put(&mut map, "pciID", iface.pci_id.as_deref())?;
        }
        map.end()
    }
}

/// An address; `with_version` (0.3.x/0.4.0) adds the family as "4" or "6".
struct IpJson<'a>(&'a IpConfig, bool);

impl Serialize for IpJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let IpJson(ip, with_version) = *self;
        let mut map = serializer.serialize_map(None)?;
        if with_version {
            let family = if ip_family(&ip.address) == 4 {
                "4"
            } else {
                "6"
            };
            map.serialize_entry("version", family)?;
        }
        put(&mut map, "interface", ip.interface)?;
        map.serialize_entry("address", &Address::Net(&ip.address))?;
        put(&mut map, "gateway", ip.gateway.map(Address::Addr))?;
        map.end()
    }
}

/// A route; `extras` (1.1.0) adds mtu, advmss, priority, table and scope.
struct RouteJson<'a>(&'a Route, bool);

impl Serialize for RouteJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let RouteJson(route, extras) = *self;
        let mut map = serializer.serialize_map(None)?;
        map.serialize_entry("dst", &Address::Net(&route.dst))?;
        put(&mut map, "gw", route.gw.map(Address::Addr))?;
        if extras {
            for (key, value) in [
                ("mtu", route.mtu),
                ("advmss", route.advmss),
                ("priority", route.priority),
                ("table", route.table),
                ("scope", route.scope),
            ] {
                put(&mut map, key, value)?;
            }
        }
        map.end()
    }
}

struct DnsJson<'a>(&'a Dns);

impl Serialize for DnsJson<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let dns = self.0;
        let mut map = serializer.serialize_map(None)?;
        put_seq(&mut map, "nameservers", dns.nameservers.iter())?;
        put(&mut map, "domain", dns.domain.as_deref())?;
        put_seq(&mut map, "search", dns.search.iter())?;
        put_seq(&mut map, "options", dns.options.iter())?;
        map.end()
    }
}
