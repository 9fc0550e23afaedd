//! Writing a result as the JSON of its own version's encoding (key order and omitted fields as
//! libcni writes them).

use serde_json::{Map, Value};

use super::{ip_family, CniResult, Dns, Interface, IpConfig, Route, LEGACY_SLOTS};
use crate::cni::version::{Family, Version};

impl CniResult {
    /// The JSON of this result in its own version's encoding. Empty arrays and an empty `dns` are omitted;
    /// key order: cniVersion, interfaces, ips, routes, dns (0.1.0/0.2.0: cniVersion, ip4, ip6, dns).
    pub fn to_value(&self) -> Value {
        let mut map = Map::new();
        map.insert("cniVersion".into(), self.cni_version.to_string().into());
        match self.cni_version.family() {
            Family::V020 => {
                for (key, family) in LEGACY_SLOTS {
                    if let Some(ip) = self.first_ip(family) {
                        map.insert(key.into(), self.legacy_ip_value(ip, family));
                    }
                }
            }
            family => {
                let extras = self.cni_version >= Version::V1_1_0;
                let with_ip_version = family == Family::V040;
                put_array(
                    &mut map,
                    "interfaces",
                    self.interfaces.iter().map(|i| interface_value(i, extras)),
                );
                put_array(
                    &mut map,
                    "ips",
                    self.ips.iter().map(|ip| ip_value(ip, with_ip_version)),
                );
                put_array(
                    &mut map,
                    "routes",
                    self.routes.iter().map(|r| route_value(r, extras)),
                );
            }
        }
        if !self.dns.is_empty() {
            map.insert("dns".into(), dns_value(&self.dns));
        }
        Value::Object(map)
    }

    /// Compact JSON of [`CniResult::to_value`].
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    fn legacy_ip_value(&self, ip: &IpConfig, family: u8) -> Value {
        let mut map = Map::new();
        map.insert("ip".into(), ip.address.to_string().into());
        put(&mut map, "gateway", ip.gateway.map(|g| g.to_string()));
        put_array(
            &mut map,
            "routes",
            self.routes_of(family).map(|r| route_value(r, false)),
        );
        Value::Object(map)
    }
}

fn put(map: &mut Map<String, Value>, key: &str, value: Option<impl Into<Value>>) {
    if let Some(value) = value {
        map.insert(key.into(), value.into());
    }
}

fn put_array(map: &mut Map<String, Value>, key: &str, items: impl Iterator<Item = Value>) {
    let items: Vec<Value> = items.collect();
    if !items.is_empty() {
        map.insert(key.into(), Value::Array(items));
    }
}

fn put_strings(map: &mut Map<String, Value>, key: &str, items: &[String]) {
    put_array(map, key, items.iter().map(|s| Value::from(s.as_str())));
}

fn interface_value(iface: &Interface, extras: bool) -> Value {
    let mut map = Map::new();
    map.insert("name".into(), iface.name.as_str().into());
    put(&mut map, "mac", iface.mac.as_deref());
    if extras {
        put(&mut map, "mtu", iface.mtu);
    }
    put(&mut map, "sandbox", iface.sandbox.as_deref());
    if extras {
        put(&mut map, "socketPath", iface.socket_path.as_deref());
        put(&mut map, "pciID", iface.pci_id.as_deref());
    }
    Value::Object(map)
}

fn ip_value(ip: &IpConfig, with_version: bool) -> Value {
    let mut map = Map::new();
    if with_version {
        map.insert("version".into(), ip_family(&ip.address).to_string().into());
    }
    put(&mut map, "interface", ip.interface);
    map.insert("address".into(), ip.address.to_string().into());
    put(&mut map, "gateway", ip.gateway.map(|g| g.to_string()));
    Value::Object(map)
}

fn route_value(route: &Route, extras: bool) -> Value {
    let mut map = Map::new();
    map.insert("dst".into(), route.dst.to_string().into());
    put(&mut map, "gw", route.gw.map(|g| g.to_string()));
    if extras {
        put(&mut map, "mtu", route.mtu);
        put(&mut map, "advmss", route.advmss);
        put(&mut map, "priority", route.priority);
        put(&mut map, "table", route.table);
        put(&mut map, "scope", route.scope);
    }
    Value::Object(map)
}

fn dns_value(dns: &Dns) -> Value {
    let mut map = Map::new();
    put_strings(&mut map, "nameservers", &dns.nameservers);
    put(&mut map, "domain", dns.domain.as_deref());
    put_strings(&mut map, "search", &dns.search);
    put_strings(&mut map, "options", &dns.options);
    Value::Object(map)
}
