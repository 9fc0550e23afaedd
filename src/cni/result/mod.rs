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

use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::{Map, Value};

use crate::cni::error::{Error, Result};
use crate::cni::version::{Family, Version};

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

    /// ADD stdout of a plugin: must be a JSON object or `null` (null => empty result of config_version);
    /// missing/empty/non-string "cniVersion" => config_version (libcni quirk cni#895); unknown version => error
    /// `unsupported CNI result version "x"`; then parsed in that version's family.
    pub fn from_plugin_output(stdout: &[u8], config_version: Version) -> Result<CniResult> {
        let value: Value = serde_json::from_slice(stdout).map_err(|e| {
            // Go's wording for truncated input, which callers and users already know.
            let reason = if e.is_eof() {
                "unexpected end of JSON input".to_owned()
            } else {
                e.to_string()
            };
            Error::result(format!("failed to unmarshal raw result: {reason}"))
        })?;
        CniResult::from_value(&value, config_version)
    }

    /// Same rules for an already-parsed value (prevResult, cache); `default_version` fills a missing cniVersion.
    pub fn from_value(value: &Value, default_version: Version) -> Result<CniResult> {
        let no_keys = Map::new();
        let map = match value {
            // libcni turns `null` into `{}`, which then takes the default version.
            Value::Null => &no_keys,
            Value::Object(map) => map,
            other => {
                return Err(Error::result(format!(
                    "failed to unmarshal raw result: expected a JSON object, got {}",
                    kind(other)
                )))
            }
        };
        let version = match map.get("cniVersion") {
            Some(Value::String(text)) if !text.is_empty() => text.clone(),
            _ => default_version.to_string(),
        };
        parse_result(
            &Fields {
                map,
                path: String::new(),
            },
            known_version(&version)?,
        )
    }

    /// Version conversion as libcni does it (see the module documentation for what each target drops).
    /// Down-conversion to 0.1.0/0.2.0 from a newer family fails with `cannot convert: no valid IP addresses`
    /// when there is no address at all.
    pub fn convert_to(&self, version: Version) -> Result<CniResult> {
        if !version.is_known() {
            return Err(Error::result(format!(
                "no converter for CNI result version {} to {version}",
                self.cni_version
            )));
        }
        let mut out = match (self.cni_version.family(), version.family()) {
            (Family::V020, Family::V020) => self.clone(),
            (_, Family::V020) => self.legacy_subset()?,
            (_, Family::V040) => self.without_interface_extras(),
            _ => self.clone(),
        };
        out.cni_version = version;
        Ok(out)
    }

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

    fn routes_of(&self, family: u8) -> impl Iterator<Item = &Route> {
        self.routes
            .iter()
            .filter(move |r| ip_family(&r.dst) == family)
    }

    /// What a 0.1.0/0.2.0 result can hold (libcni `convertTo02x`).
    fn legacy_subset(&self) -> Result<CniResult> {
        let mut out = CniResult {
            dns: self.dns.clone(),
            ..CniResult::empty(self.cni_version)
        };
        for (_, family) in LEGACY_SLOTS {
            if let Some(ip) = self.first_ip(family) {
                out.ips.push(IpConfig {
                    interface: None,
                    ..ip.clone()
                });
                out.routes
                    .extend(self.routes_of(family).map(|r| plain_route(r.dst, r.gw)));
            }
        }
        if out.ips.is_empty() {
            return Err(Error::result("cannot convert: no valid IP addresses"));
        }
        Ok(out)
    }

    fn without_interface_extras(&self) -> CniResult {
        let mut out = self.clone();
        for iface in &mut out.interfaces {
            iface.mtu = None;
            iface.socket_path = None;
            iface.pci_id = None;
        }
        out
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

impl Dns {
    fn is_empty(&self) -> bool {
        self.nameservers.is_empty()
            && self.domain.is_none()
            && self.search.is_empty()
            && self.options.is_empty()
    }
}

/// A result version must be spelled exactly as one of the spec versions (libcni matches strings).
fn known_version(text: &str) -> Result<Version> {
    Version::ALL
        .into_iter()
        .find(|v| v.to_string() == text)
        .ok_or_else(|| Error::result(format!("unsupported CNI result version {text:?}")))
}

fn parse_result(root: &Fields, version: Version) -> Result<CniResult> {
    let mut result = CniResult::empty(version);
    if let Some(dns) = root.object("dns")? {
        result.dns = parse_dns(&dns)?;
    }
    match version.family() {
        Family::V020 => parse_legacy_slots(root, &mut result)?,
        family => {
            let extras = family == Family::V100;
            let check_ip_version = family == Family::V040;
            result.interfaces =
                parse_each(root.objects("interfaces")?, |f| parse_interface(f, extras))?;
            result.ips = parse_each(root.objects("ips")?, |f| {
                parse_ip_config(f, check_ip_version)
            })?;
            result.routes = parse_each(root.objects("routes")?, parse_route)?;
        }
    }
    Ok(result)
}

fn parse_each<T>(items: Vec<Fields>, parse: impl Fn(&Fields) -> Result<T>) -> Result<Vec<T>> {
    items.iter().map(parse).collect()
}

/// `ip4`/`ip6` objects: each becomes an address; their routes are concatenated, ip4's first (libcni order).
fn parse_legacy_slots(root: &Fields, result: &mut CniResult) -> Result<()> {
    for (key, family) in LEGACY_SLOTS {
        let Some(slot) = root.object(key)? else {
            continue;
        };
        let address = slot.cidr("ip")?;
        if ip_family(&address) != family {
            return Err(Error::result(format!(
                "{}.ip {address} is not an IPv{family} address",
                slot.path
            )));
        }
        result.ips.push(IpConfig {
            address,
            gateway: slot.ip("gateway")?,
            interface: None,
        });
        result
            .routes
            .extend(parse_each(slot.objects("routes")?, parse_route)?);
    }
    Ok(())
}

fn parse_interface(f: &Fields, extras: bool) -> Result<Interface> {
    let mut iface = Interface {
        name: f.string("name")?.unwrap_or_default().to_owned(),
        mac: f.text("mac")?,
        sandbox: f.text("sandbox")?,
        ..Interface::default()
    };
    if extras {
        iface.mtu = f.nonzero_int("mtu")?;
        iface.socket_path = f.text("socketPath")?;
        iface.pci_id = f.text("pciID")?;
    }
    Ok(iface)
}

/// `check_ip_version`: 0.3.x/0.4.0 carry `"version": "4"|"6"`, which must agree with the address.
fn parse_ip_config(f: &Fields, check_ip_version: bool) -> Result<IpConfig> {
    let address = f.cidr("address")?;
    if check_ip_version {
        let family = ip_family(&address).to_string();
        if let Some(stated) = f
            .string("version")?
            .filter(|v| !v.is_empty() && *v != family)
        {
            return Err(Error::result(format!(
                "{}.version is {stated:?} but address {address} is IPv{family}",
                f.path
            )));
        }
    }
    Ok(IpConfig {
        address,
        gateway: f.ip("gateway")?,
        interface: f.int("interface")?,
    })
}

fn parse_route(f: &Fields) -> Result<Route> {
    let (dst, gw) = (f.cidr("dst")?, f.ip("gw")?);
    Ok(Route {
        mtu: f.nonzero_int("mtu")?,
        advmss: f.nonzero_int("advmss")?,
        priority: f.nonzero_int("priority")?,
        table: f.int("table")?,
        scope: f.int("scope")?,
        ..plain_route(dst, gw)
    })
}

fn parse_dns(f: &Fields) -> Result<Dns> {
    Ok(Dns {
        nameservers: f.strings("nameservers")?,
        domain: f.text("domain")?,
        search: f.strings("search")?,
        options: f.strings("options")?,
    })
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

/// Typed access to one JSON object of a result; `path` (e.g. `ips[0]`) names it in error messages.
struct Fields<'a> {
    map: &'a Map<String, Value>,
    path: String,
}

impl<'a> Fields<'a> {
    fn path_of(&self, key: &str) -> String {
        if self.path.is_empty() {
            key.to_owned()
        } else {
            format!("{}.{key}", self.path)
        }
    }

    /// JSON `null` counts as absent, as it does for Go's decoder.
    fn get(&self, key: &str) -> Option<&'a Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    fn string(&self, key: &str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(other) => Err(type_error(other, &self.path_of(key), "string")),
        }
    }

    /// An optional string where `""` means absent (Go `omitempty`).
    fn text(&self, key: &str) -> Result<Option<String>> {
        Ok(self
            .string(key)?
            .filter(|s| !s.is_empty())
            .map(str::to_owned))
    }

    fn int(&self, key: &str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => match value.as_i64() {
                Some(n) => Ok(Some(n)),
                None => Err(type_error(value, &self.path_of(key), "int")),
            },
        }
    }

    /// An optional int where 0 means absent (Go `omitempty` on a plain int).
    fn nonzero_int(&self, key: &str) -> Result<Option<i64>> {
        Ok(self.int(key)?.filter(|n| *n != 0))
    }

    fn object(&self, key: &str) -> Result<Option<Fields<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => object_at(value, self.path_of(key)).map(Some),
        }
    }

    fn array(&self, key: &str) -> Result<&'a [Value]> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Value::Array(items)) => Ok(items),
            Some(other) => Err(type_error(other, &self.path_of(key), "array")),
        }
    }

    /// An array of objects; a `null` entry is an error (it panics libcni's converters).
    fn objects(&self, key: &str) -> Result<Vec<Fields<'a>>> {
        let path = self.path_of(key);
        let items = self.array(key)?.iter().enumerate();
        items
            .map(|(i, item)| object_at(item, format!("{path}[{i}]")))
            .collect()
    }

    fn strings(&self, key: &str) -> Result<Vec<String>> {
        let path = self.path_of(key);
        let items = self.array(key)?.iter().enumerate();
        items
            .map(|(i, item)| match item {
                Value::String(s) => Ok(s.clone()),
                other => Err(type_error(other, &format!("{path}[{i}]"), "string")),
            })
            .collect()
    }

    /// A required CIDR keeping host bits (Go `types.ParseCIDR`).
    fn cidr(&self, key: &str) -> Result<IpNet> {
        let text = self.string(key)?.ok_or_else(|| {
            Error::result(format!(
                "missing required result field {}",
                self.path_of(key)
            ))
        })?;
        text.parse()
            .map_err(|_| Error::result(format!("invalid CIDR address: {text}")))
    }

    /// An optional plain IP; `""` means absent, as for Go's `net.IP`.
    fn ip(&self, key: &str) -> Result<Option<IpAddr>> {
        match self.string(key)? {
            None | Some("") => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| Error::result(format!("invalid IP address: {text}"))),
        }
    }
}

fn object_at(value: &Value, path: String) -> Result<Fields<'_>> {
    match value {
        Value::Object(map) => Ok(Fields { map, path }),
        other => Err(type_error(other, &path, "object")),
    }
}

/// Go's wording (`json: cannot unmarshal number into … of type string`), naming the offending key.
fn type_error(value: &Value, path: &str, expected: &str) -> Error {
    Error::result(format!(
        "json: cannot unmarshal {} into result field {path} of type {expected}",
        kind(value)
    ))
}

fn kind(value: &Value) -> String {
    match value {
        Value::Null => "null".into(),
        Value::Bool(_) => "bool".into(),
        Value::Number(n) => format!("number {n}"),
        Value::String(_) => "string".into(),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
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

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn v(text: &str) -> Version {
        Version::parse(text).unwrap()
    }

    fn parse(value: Value) -> Result<CniResult> {
        CniResult::from_value(&value, Version::V1_0_0)
    }

    fn err_text(value: Value) -> String {
        parse(value).unwrap_err().to_string()
    }

    fn net(text: &str) -> IpNet {
        text.parse().unwrap()
    }

    fn ip(text: &str) -> Option<IpAddr> {
        Some(text.parse().unwrap())
    }

    fn route(dst: &str, gw: Option<&str>) -> Route {
        plain_route(net(dst), gw.and_then(ip))
    }

    fn full_dns() -> Dns {
        Dns {
            nameservers: vec!["1.2.3.4".into(), "1::cafe".into()],
            domain: Some("acompany.com".into()),
            search: vec!["somedomain.com".into(), "otherdomain.net".into()],
            options: vec!["foo".into(), "bar".into()],
        }
    }

    fn dns_json() -> Value {
        json!({"nameservers": ["1.2.3.4", "1::cafe"], "domain": "acompany.com",
               "search": ["somedomain.com", "otherdomain.net"], "options": ["foo", "bar"]})
    }

    /// `testResult()` of pkg/types/100/types_test.go.
    fn test_result() -> CniResult {
        CniResult {
            cni_version: Version::V1_1_0,
            interfaces: vec![Interface {
                name: "eth0".into(),
                mac: Some("00:11:22:33:44:55".into()),
                mtu: Some(1500),
                sandbox: Some("/proc/3553/ns/net".into()),
                pci_id: Some("8086:9a01".into()),
                socket_path: Some("/path/to/vhost/fd".into()),
            }],
            ips: vec![
                IpConfig {
                    interface: Some(0),
                    address: net("1.2.3.30/24"),
                    gateway: ip("1.2.3.1"),
                },
                IpConfig {
                    interface: Some(0),
                    address: net("abcd:1234:ffff::cdde/64"),
                    gateway: ip("abcd:1234:ffff::1"),
                },
            ],
            routes: vec![
                route("15.5.6.0/24", Some("15.5.6.8")),
                route("1111:dddd::/80", Some("1111:dddd::aaaa")),
            ],
            dns: full_dns(),
        }
    }

    fn legacy_json(version: &str) -> Value {
        json!({
            "cniVersion": version,
            "ip4": {"ip": "1.2.3.30/24", "gateway": "1.2.3.1", "routes": [{"dst": "15.5.6.0/24", "gw": "15.5.6.8"}]},
            "ip6": {"ip": "abcd:1234:ffff::cdde/64", "gateway": "abcd:1234:ffff::1",
                    "routes": [{"dst": "1111:dddd::/80", "gw": "1111:dddd::aaaa"}]},
            "dns": dns_json()
        })
    }

    fn v040_json(version: &str) -> Value {
        json!({
            "cniVersion": version,
            "interfaces": [{"name": "eth0", "mac": "00:11:22:33:44:55", "sandbox": "/proc/3553/ns/net"}],
            "ips": [
                {"version": "4", "interface": 0, "address": "1.2.3.30/24", "gateway": "1.2.3.1"},
                {"version": "6", "interface": 0, "address": "abcd:1234:ffff::cdde/64", "gateway": "abcd:1234:ffff::1"}
            ],
            "routes": [{"dst": "15.5.6.0/24", "gw": "15.5.6.8"}, {"dst": "1111:dddd::/80", "gw": "1111:dddd::aaaa"}],
            "dns": dns_json()
        })
    }

    // ---- pkg/types/100/types_test.go ----

    #[test]
    fn encodes_a_1_1_0_result() {
        let expected = json!({
            "cniVersion": "1.1.0",
            "interfaces": [{"name": "eth0", "mac": "00:11:22:33:44:55", "mtu": 1500, "sandbox": "/proc/3553/ns/net",
                            "pciID": "8086:9a01", "socketPath": "/path/to/vhost/fd"}],
            "ips": [
                {"interface": 0, "address": "1.2.3.30/24", "gateway": "1.2.3.1"},
                {"interface": 0, "address": "abcd:1234:ffff::cdde/64", "gateway": "abcd:1234:ffff::1"}
            ],
            "routes": [{"dst": "15.5.6.0/24", "gw": "15.5.6.8"}, {"dst": "1111:dddd::/80", "gw": "1111:dddd::aaaa"}],
            "dns": dns_json()
        });
        assert_eq!(test_result().to_value(), expected);
        assert_eq!(parse(expected).unwrap(), test_result());
        // Exact text: key order and compactness.
        assert_eq!(
            test_result().to_json(),
            concat!(
                r#"{"cniVersion":"1.1.0","interfaces":[{"name":"eth0","mac":"00:11:22:33:44:55","mtu":1500,"#,
                r#""sandbox":"/proc/3553/ns/net","socketPath":"/path/to/vhost/fd","pciID":"8086:9a01"}],"#,
                r#""ips":[{"interface":0,"address":"1.2.3.30/24","gateway":"1.2.3.1"},"#,
                r#"{"interface":0,"address":"abcd:1234:ffff::cdde/64","gateway":"abcd:1234:ffff::1"}],"#,
                r#""routes":[{"dst":"15.5.6.0/24","gw":"15.5.6.8"},{"dst":"1111:dddd::/80","gw":"1111:dddd::aaaa"}],"#,
                r#""dns":{"nameservers":["1.2.3.4","1::cafe"],"domain":"acompany.com","#,
                r#""search":["somedomain.com","otherdomain.net"],"options":["foo","bar"]}}"#
            )
        );
    }

    #[test]
    fn converts_1_1_0_to_1_0_0_and_back_identically() {
        let r100 = test_result().convert_to(Version::V1_0_0).unwrap();
        assert_eq!(r100.cni_version, Version::V1_0_0);
        assert_eq!(r100.convert_to(Version::V1_1_0).unwrap(), test_result());
        // The 1.0.0 encoding has no 1.1.0 interface fields.
        assert_eq!(
            r100.to_value()["interfaces"],
            json!([{"name": "eth0", "mac": "00:11:22:33:44:55", "sandbox": "/proc/3553/ns/net"}])
        );
    }

    #[test]
    fn encodes_1_1_0_converted_to_0_1_0() {
        let r010 = test_result().convert_to(Version::V0_1_0).unwrap();
        assert_eq!(r010.to_value(), legacy_json("0.1.0"));
    }

    #[test]
    fn encodes_1_1_0_converted_to_0_4_0() {
        let r040 = test_result().convert_to(Version::V0_4_0).unwrap();
        assert_eq!(r040.to_value(), v040_json("0.4.0"));
        assert_eq!(r040.interfaces[0].mtu, None);
        assert_eq!(r040.interfaces[0].pci_id, None);
        assert_eq!(r040.interfaces[0].socket_path, None);
    }

    #[test]
    fn interface_index_zero_round_trips_and_missing_index_is_omitted() {
        let mut r = CniResult::empty(Version::V1_0_0);
        r.ips.push(IpConfig {
            interface: Some(0),
            address: net("10.1.2.3/24"),
            gateway: None,
        });
        assert_eq!(
            r.to_value(),
            json!({"cniVersion": "1.0.0", "ips": [{"interface": 0, "address": "10.1.2.3/24"}]})
        );
        assert_eq!(parse(r.to_value()).unwrap(), r);

        r.ips[0].interface = None;
        assert_eq!(r.to_value()["ips"], json!([{"address": "10.1.2.3/24"}]));
        let r040 = r.convert_to(Version::V0_4_0).unwrap();
        assert_eq!(
            r040.to_value()["ips"],
            json!([{"version": "4", "address": "10.1.2.3/24"}])
        );
    }

    #[test]
    fn address_of_wrong_type_is_an_unmarshal_error() {
        let e = err_text(json!({"ips": [{"address": 5}]}));
        assert!(e.starts_with("json: cannot unmarshal"), "{e}");
        assert_eq!(
            e,
            "json: cannot unmarshal number 5 into result field ips[0].address of type string"
        );
    }

    // ---- pkg/types/040/types_test.go ----

    #[test]
    fn encodes_a_0_3_x_result() {
        let r = parse(v040_json("0.3.1")).unwrap();
        assert_eq!(r.cni_version, Version::V0_3_1);
        assert_eq!(r.to_value(), v040_json("0.3.1"));
        assert_eq!(
            r.convert_to(Version::V1_1_0).unwrap().interfaces,
            test_result().without_interface_extras().interfaces
        );
    }

    #[test]
    fn encodes_0_3_1_converted_to_0_1_0() {
        let r = parse(v040_json("0.3.1")).unwrap();
        assert_eq!(
            r.convert_to(Version::V0_1_0).unwrap().to_value(),
            legacy_json("0.1.0")
        );
    }

    #[test]
    fn round_trips_0_2_0_through_0_4_0_with_and_without_route_gateways() {
        let mut without_gw = legacy_json("0.2.0");
        without_gw["ip4"]["routes"] = json!([{"dst": "15.5.6.0/24"}]);
        without_gw["ip6"]["routes"] = json!([{"dst": "1111:dddd::/80"}]);
        for original in [legacy_json("0.2.0"), without_gw] {
            let r020 = parse(original.clone()).unwrap();
            let r040 = r020.convert_to(Version::V0_4_0).unwrap();
            assert_eq!(r040.ips.len(), 2);
            assert_eq!(r040.routes.len(), 2);
            assert_eq!(
                r040.convert_to(Version::V0_2_0).unwrap().to_value(),
                original
            );
        }
    }

    #[test]
    fn down_conversion_without_ips_fails() {
        let mut r = parse(v040_json("0.3.1")).unwrap();
        r.ips.clear();
        r.routes.clear();
        for target in [Version::V0_2_0, Version::V0_1_0] {
            assert_eq!(
                r.convert_to(target).unwrap_err().to_string(),
                "cannot convert: no valid IP addresses"
            );
        }
        // plugins#381: loopback's empty result under a 0.2.0 config.
        let empty = CniResult::from_plugin_output(b"{}", Version::V0_4_0).unwrap();
        assert!(empty.convert_to(Version::V0_2_0).is_err());
        // Between 0.1.0 and 0.2.0 results are copied, so an empty one converts.
        let empty020 = CniResult::empty(Version::V0_2_0);
        assert_eq!(
            empty020.convert_to(Version::V0_1_0).unwrap(),
            CniResult::empty(Version::V0_1_0)
        );
        assert_eq!(empty020.to_json(), r#"{"cniVersion":"0.2.0"}"#);
    }

    // ---- pkg/types/020/types_test.go ----

    #[test]
    fn encodes_0_2_0_and_0_1_0_results() {
        for version in ["0.2.0", "0.1.0"] {
            let r = parse(legacy_json(version)).unwrap();
            assert_eq!(r.cni_version, v(version));
            assert_eq!(r.interfaces, vec![]);
            assert_eq!(r.ips[0].interface, None);
            assert_eq!(r.dns, full_dns());
            assert_eq!(r.to_value(), legacy_json(version));
        }
    }

    #[test]
    fn converts_between_0_2_0_and_0_1_0() {
        let r020 = parse(legacy_json("0.2.0")).unwrap();
        assert_eq!(
            r020.convert_to(Version::V0_1_0).unwrap().to_value(),
            legacy_json("0.1.0")
        );
        let r010 = parse(legacy_json("0.1.0")).unwrap();
        assert_eq!(
            r010.convert_to(Version::V0_2_0).unwrap().to_value(),
            legacy_json("0.2.0")
        );
    }

    #[test]
    fn empty_cni_version_means_0_1_0() {
        // create.Create("", …) with cniVersion "": the default version of an unversioned config is 0.1.0.
        let r = CniResult::from_value(&legacy_json(""), v("")).unwrap();
        assert_eq!(r.cni_version, Version::V0_1_0);
        assert_eq!(r.to_value(), legacy_json("0.1.0"));
        // GetAsVersion("") => 0.1.0
        assert_eq!(
            test_result().convert_to(v("")).unwrap().cni_version,
            Version::V0_1_0
        );
    }

    // ---- pkg/types/types_test.go ----

    #[test]
    fn bad_cidrs_and_ips_use_go_messages() {
        for bad in ["1.2.3/45", "1.2.3.4/99", "1.2.3.4", ""] {
            let e = err_text(json!({"ips": [{"address": bad}]}));
            assert_eq!(e, format!("invalid CIDR address: {bad}"));
        }
        let e = err_text(json!({"routes": [{"dst": "1.2.3.0/24", "gw": "1.2.3.x"}]}));
        assert_eq!(e, "invalid IP address: 1.2.3.x");
        let e = err_text(json!({"ips": [{"address": "1.2.3.4/24", "gateway": "1.2.3.x"}]}));
        assert_eq!(e, "invalid IP address: 1.2.3.x");
        // Host bits are kept.
        let r = parse(
            json!({"ips": [{"address": "1.2.3.4/24"}], "routes": [{"dst": "2001:db8::/32"}]}),
        )
        .unwrap();
        assert_eq!(r.ips[0].address.to_string(), "1.2.3.4/24");
        assert_eq!(r.routes[0].dst.to_string(), "2001:db8::/32");
    }

    #[test]
    fn route_extras_parse_and_are_written_only_for_1_1_0() {
        let rt = json!({"dst": "1.2.3.0/24", "gw": "1.2.3.1", "mtu": 1500, "advmss": 1340, "priority": 100,
                        "table": 50, "scope": 253});
        let r = CniResult::from_value(
            &json!({"cniVersion": "1.1.0", "routes": [rt.clone()]}),
            Version::V1_1_0,
        )
        .unwrap();
        let expected = Route {
            mtu: Some(1500),
            advmss: Some(1340),
            priority: Some(100),
            table: Some(50),
            scope: Some(253),
            ..route("1.2.3.0/24", Some("1.2.3.1"))
        };
        assert_eq!(r.routes, vec![expected.clone()]);
        assert_eq!(r.to_value()["routes"], json!([rt]));
        // Kept across 0.4.0 / 1.0.0 (Go's shared Route type), not written there.
        let r040 = r.convert_to(Version::V0_4_0).unwrap();
        assert_eq!(r040.routes, vec![expected.clone()]);
        assert_eq!(
            r040.to_value()["routes"],
            json!([{"dst": "1.2.3.0/24", "gw": "1.2.3.1"}])
        );
        assert_eq!(
            r.convert_to(Version::V1_0_0).unwrap().to_value()["routes"],
            r040.to_value()["routes"]
        );
        assert_eq!(r040.convert_to(Version::V1_1_0).unwrap(), r);
        // Dropped by the lossy 0.2.0 conversion (only dst/gw).
        let mut with_ip = r.clone();
        with_ip.ips.push(IpConfig {
            address: net("1.2.3.9/24"),
            gateway: None,
            interface: None,
        });
        assert_eq!(
            with_ip.convert_to(Version::V0_2_0).unwrap().routes,
            vec![route("1.2.3.0/24", Some("1.2.3.1"))]
        );
        // Zero mtu/advmss/priority are Go's "unset"; zero table/scope are real values.
        let zero = json!({"dst": "0.0.0.0/0", "mtu": 0, "advmss": 0, "priority": 0, "table": 0, "scope": 0});
        let r = CniResult::from_value(
            &json!({"cniVersion": "1.1.0", "routes": [zero]}),
            Version::V1_1_0,
        )
        .unwrap();
        assert_eq!(
            r.routes[0],
            Route {
                table: Some(0),
                scope: Some(0),
                ..route("0.0.0.0/0", None)
            }
        );
        assert_eq!(
            r.to_value()["routes"],
            json!([{"dst": "0.0.0.0/0", "table": 0, "scope": 0}])
        );
    }

    // ---- result version quirks (pkg/invoke fixupResultVersion) ----

    #[test]
    fn missing_empty_or_non_string_version_takes_the_config_version() {
        let body = r#""ips":[{"version":"4","address":"10.1.2.3/24"}]"#;
        for version_part in [
            "",
            r#""cniVersion":"","#,
            r#""cniVersion":5,"#,
            r#""cniVersion":null,"#,
        ] {
            let out = format!("{{{version_part}{body}}}");
            let r = CniResult::from_plugin_output(out.as_bytes(), Version::V0_3_1).unwrap();
            assert_eq!(r.cni_version, Version::V0_3_1, "{out}");
            assert_eq!(r.ips.len(), 1);
        }
        // Config without cniVersion and result without one => 0.1.0.
        let r = CniResult::from_plugin_output(br#"{"ip4":{"ip":"10.1.2.3/24"}}"#, v("")).unwrap();
        assert_eq!(r.cni_version, Version::V0_1_0);
        // A result that states its version keeps it (no conversion).
        let r =
            CniResult::from_plugin_output(br#"{"cniVersion":"0.3.1"}"#, Version::V1_0_0).unwrap();
        assert_eq!(r.cni_version, Version::V0_3_1);
    }

    #[test]
    fn null_output_is_an_empty_result_of_the_config_version() {
        let r = CniResult::from_plugin_output(b" null\n", Version::V0_4_0).unwrap();
        assert_eq!(r, CniResult::empty(Version::V0_4_0));
        let e = CniResult::from_plugin_output(b"null", v("1.2.0")).unwrap_err();
        assert_eq!(e.to_string(), r#"unsupported CNI result version "1.2.0""#);
    }

    #[test]
    fn unparsable_or_non_object_output_is_an_error() {
        for empty in [&b""[..], b"  \n", br#"{"cniVersion":"1.0.0""#] {
            let e = CniResult::from_plugin_output(empty, Version::V1_0_0).unwrap_err();
            assert_eq!(
                e.to_string(),
                "failed to unmarshal raw result: unexpected end of JSON input"
            );
            assert!(matches!(e, Error::Result(_)));
        }
        let e = CniResult::from_plugin_output(b"{x}", Version::V1_0_0)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("failed to unmarshal raw result: key must be a string"),
            "{e}"
        );
        let e = CniResult::from_plugin_output(b"{} {}", Version::V1_0_0)
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("failed to unmarshal raw result: trailing characters"),
            "{e}"
        );
        for (text, kind) in [
            ("[]", "array"),
            ("\"x\"", "string"),
            ("1", "number 1"),
            ("true", "bool"),
        ] {
            let e = CniResult::from_plugin_output(text.as_bytes(), Version::V1_0_0).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("failed to unmarshal raw result: expected a JSON object, got {kind}")
            );
        }
    }

    #[test]
    fn unknown_result_versions_are_rejected() {
        for bad in ["1.2.0", "1.0", "0.5.0", "x"] {
            let e = parse(json!({"cniVersion": bad})).unwrap_err();
            assert_eq!(
                e.to_string(),
                format!("unsupported CNI result version {bad:?}")
            );
        }
        let e = test_result().convert_to(v("1.2.0")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "no converter for CNI result version 1.1.0 to 1.2.0"
        );
    }

    // ---- malformed input classes ----

    #[test]
    fn wrong_json_types_name_the_key() {
        let cases = [
            (
                json!({"ips": {}}),
                "object into result field ips of type array",
            ),
            (
                json!({"ips": [null]}),
                "null into result field ips[0] of type object",
            ),
            (
                json!({"routes": [{"dst": "0.0.0.0/0"}, null]}),
                "null into result field routes[1] of type object",
            ),
            (
                json!({"interfaces": [null]}),
                "null into result field interfaces[0] of type object",
            ),
            (
                json!({"interfaces": [{"name": 1}]}),
                "number 1 into result field interfaces[0].name of type string",
            ),
            (
                json!({"interfaces": [{"name": "a", "mtu": "9000"}]}),
                "string into result field interfaces[0].mtu of type int",
            ),
            (
                json!({"ips": [{"address": "10.0.0.1/8", "interface": 1.5}]}),
                "number 1.5 into result field ips[0].interface of type int",
            ),
            (
                json!({"ips": [{"address": "10.0.0.1/8", "interface": "0"}]}),
                "string into result field ips[0].interface of type int",
            ),
            (
                json!({"ips": [{"address": "10.0.0.1/8", "gateway": []}]}),
                "array into result field ips[0].gateway of type string",
            ),
            (
                json!({"routes": [{"dst": "0.0.0.0/0", "table": true}]}),
                "bool into result field routes[0].table of type int",
            ),
            (
                json!({"dns": []}),
                "array into result field dns of type object",
            ),
            (
                json!({"dns": {"nameservers": "8.8.8.8"}}),
                "string into result field dns.nameservers of type array",
            ),
            (
                json!({"dns": {"search": ["a", 2]}}),
                "number 2 into result field dns.search[1] of type string",
            ),
            (
                json!({"dns": {"domain": {}}}),
                "object into result field dns.domain of type string",
            ),
            (
                json!({"cniVersion": "0.2.0", "ip4": "1.2.3.4/24"}),
                "string into result field ip4 of type object",
            ),
            (
                json!({"cniVersion": "0.2.0", "ip4": {"ip": "1.2.3.4/24", "routes": [7]}}),
                "number 7 into result field ip4.routes[0] of type object",
            ),
            (
                json!({"cniVersion": "0.4.0", "ips": [{"address": "10.0.0.1/8", "version": 4}]}),
                "number 4 into result field ips[0].version of type string",
            ),
        ];
        for (value, tail) in cases {
            let e = parse(value.clone()).unwrap_err();
            assert!(matches!(e, Error::Result(_)));
            assert_eq!(
                e.to_string(),
                format!("json: cannot unmarshal {tail}"),
                "{value}"
            );
        }
    }

    #[test]
    fn missing_required_fields_and_family_mismatches() {
        assert_eq!(
            err_text(json!({"ips": [{"gateway": "1.2.3.4"}]})),
            "missing required result field ips[0].address"
        );
        assert_eq!(
            err_text(json!({"ips": [{"address": null}]})),
            "missing required result field ips[0].address"
        );
        assert_eq!(
            err_text(json!({"routes": [{}]})),
            "missing required result field routes[0].dst"
        );
        assert_eq!(
            err_text(json!({"cniVersion": "0.1.0", "ip6": {"gateway": "::1"}})),
            "missing required result field ip6.ip"
        );
        assert_eq!(
            err_text(json!({"cniVersion": "0.2.0", "ip4": {"ip": "1::2/64"}})),
            "ip4.ip 1::2/64 is not an IPv4 address"
        );
        assert_eq!(
            err_text(
                json!({"cniVersion": "0.4.0", "ips": [{"version": "6", "address": "10.1.0.2/24"}]})
            ),
            r#"ips[0].version is "6" but address 10.1.0.2/24 is IPv4"#
        );
        assert_eq!(
            err_text(
                json!({"cniVersion": "0.3.0", "ips": [{"version": "5", "address": "::1/128"}]})
            ),
            r#"ips[0].version is "5" but address ::1/128 is IPv6"#
        );
        // 1.x has no `version` key: it is ignored like any unknown key.
        assert!(parse(
            json!({"cniVersion": "1.0.0", "ips": [{"version": "6", "address": "10.1.0.2/24"}]})
        )
        .is_ok());
    }

    #[test]
    fn nulls_empty_strings_and_unknown_keys_mean_absent() {
        let r = parse(json!({
            "cniVersion": "0.4.0", "extra": {"x": 1},
            "interfaces": [{"name": "eth0", "mac": "", "sandbox": null, "mtu": 1400, "pciID": "x", "other": 1}],
            "ips": [{"version": "", "address": "10.0.0.2/8", "gateway": "", "interface": null}],
            "routes": null, "dns": {"domain": "", "nameservers": null}
        }))
        .unwrap();
        let mut expected = CniResult::empty(Version::V0_4_0);
        // 0.4.0 interfaces have no mtu/pciID: dropped while parsing, as Go's 040 type does.
        expected.interfaces.push(Interface {
            name: "eth0".into(),
            ..Interface::default()
        });
        expected.ips.push(IpConfig {
            address: net("10.0.0.2/8"),
            gateway: None,
            interface: None,
        });
        assert_eq!(r, expected);
        assert_eq!(
            r.to_json(),
            r#"{"cniVersion":"0.4.0","interfaces":[{"name":"eth0"}],"ips":[{"version":"4","address":"10.0.0.2/8"}]}"#
        );
    }

    #[test]
    fn legacy_encoding_keeps_first_address_per_family_and_matching_routes() {
        let mut r = CniResult::empty(Version::V1_0_0);
        r.interfaces.push(Interface {
            name: "eth0".into(),
            ..Interface::default()
        });
        r.ips = vec![
            IpConfig {
                address: net("10.0.0.2/8"),
                gateway: ip("10.0.0.1"),
                interface: Some(0),
            },
            IpConfig {
                address: net("10.0.0.3/8"),
                gateway: None,
                interface: Some(0),
            },
        ];
        r.routes = vec![
            route("0.0.0.0/0", Some("10.0.0.1")),
            route("::/0", Some("fe80::1")),
        ];
        r.dns.nameservers.push("10.0.0.53".into());
        let r020 = r.convert_to(Version::V0_2_0).unwrap();
        assert_eq!(
            r020.ips,
            vec![IpConfig {
                interface: None,
                ..r.ips[0].clone()
            }]
        );
        assert_eq!(r020.routes, vec![r.routes[0].clone()]);
        assert_eq!(r020.interfaces, vec![]);
        let expected = json!({"cniVersion": "0.2.0",
            "ip4": {"ip": "10.0.0.2/8", "gateway": "10.0.0.1", "routes": [{"dst": "0.0.0.0/0", "gw": "10.0.0.1"}]},
            "dns": {"nameservers": ["10.0.0.53"]}});
        assert_eq!(r020.to_value(), expected);
        // Serialising a 0.2.0 value built in Rust applies the same layout.
        r.cni_version = Version::V0_2_0;
        assert_eq!(r.to_value(), expected);
    }

    // ---- real-world output and lookups ----

    #[test]
    fn debian_bridge_plugin_output() {
        let out = concat!(
            r#"{"cniVersion":"1.0.0","interfaces":[{"name":"br0","mac":"aa:bb:cc:dd:ee:01"},"#,
            r#"{"name":"veth1","mac":"aa:bb:cc:dd:ee:02"},"#,
            r#"{"name":"eth0","mac":"aa:bb:cc:dd:ee:03","sandbox":"/run/netns/x"}],"#,
            r#""ips":[{"interface":2,"address":"10.1.0.2/24","gateway":"10.1.0.1"}],"#,
            r#""routes":[{"dst":"0.0.0.0/0"}],"dns":{}}"#
        )
        .as_bytes();
        let r = CniResult::from_plugin_output(out, Version::V1_0_0).unwrap();
        assert_eq!(r.interfaces.len(), 3);
        assert_eq!(r.dns, Dns::default());
        let ips = r.ips_of_interface("eth0");
        assert_eq!(ips.len(), 1);
        assert_eq!(ips[0].address.to_string(), "10.1.0.2/24");
        assert_eq!(ips[0].gateway, ip("10.1.0.1"));
        assert!(r.ips_of_interface("br0").is_empty());
        assert_eq!(r.mac_of_interface("eth0"), Some("aa:bb:cc:dd:ee:03"));
        assert_eq!(r.mac_of_interface("br0"), Some("aa:bb:cc:dd:ee:01"));
        assert_eq!(r.mac_of_interface("eth1"), None);
        // Re-encoding drops only the empty dns object.
        let mut expected: Value = serde_json::from_slice(out).unwrap();
        expected.as_object_mut().unwrap().remove("dns");
        assert_eq!(r.to_value(), expected);
    }

    #[test]
    fn ips_without_a_resolvable_interface_belong_to_any_interface() {
        // IPAM-style: no interfaces at all.
        let r =
            parse(json!({"ips": [{"address": "10.0.0.2/8"}, {"address": "fd00::2/64"}]})).unwrap();
        assert_eq!(r.ips_of_interface("eth0").len(), 2);
        assert_eq!(r.mac_of_interface("eth0"), None);
        // Index -1, out of range, or absent next to indexed addresses.
        let r = parse(json!({
            "interfaces": [{"name": "eth0", "mac": "m0"}, {"name": "eth1"}],
            "ips": [{"address": "10.0.0.1/8", "interface": 1}, {"address": "10.0.0.2/8", "interface": -1},
                    {"address": "10.0.0.3/8", "interface": 7}, {"address": "10.0.0.4/8"},
                    {"address": "10.0.0.5/8", "interface": 0}]
        }))
        .unwrap();
        let addrs: Vec<String> = r
            .ips_of_interface("eth0")
            .iter()
            .map(|i| i.address.to_string())
            .collect();
        assert_eq!(
            addrs,
            ["10.0.0.2/8", "10.0.0.3/8", "10.0.0.4/8", "10.0.0.5/8"]
        );
        assert_eq!(r.mac_of_interface("eth1"), None);
    }

    #[test]
    fn mac_lookup_prefers_the_sandboxed_interface() {
        let r = parse(json!({"interfaces": [{"name": "eth0", "mac": "host"},
                                           {"name": "eth0", "mac": "container", "sandbox": "/run/netns/x"}]}))
        .unwrap();
        assert_eq!(r.mac_of_interface("eth0"), Some("container"));
    }
}
