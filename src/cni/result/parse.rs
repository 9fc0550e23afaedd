//! Parsing results: a plugin's ADD output or an already-parsed value (prevResult, cache) into a
//! [`CniResult`] in its version's family, with Go's decoder rules and messages.

use std::borrow::Cow;
use std::fmt;
use std::net::IpAddr;

use ipnet::IpNet;
use serde_json::Value;

use super::json::{lookup, Json};
use super::{ip_family, plain_route, CniResult, Dns, Interface, IpConfig, Route, LEGACY_SLOTS};
use crate::cni::error::{Error, Result};
use crate::cni::version::{Family, Version};

impl CniResult {
    /// ADD stdout of a plugin: must be a JSON object or `null` (null => empty result of config_version);
    /// missing/empty/non-string "cniVersion" => config_version (libcni quirk cni#895); unknown version => error
    /// `unsupported CNI result version "x"`; then parsed in that version's family.
    pub fn from_plugin_output(stdout: &[u8], config_version: Version) -> Result<CniResult> {
        let doc = Json::parse(stdout).map_err(|e| {
            // Go's wording for truncated input, which callers and users already know.
            let reason = if e.is_eof() {
                "unexpected end of JSON input".to_owned()
            } else {
                e.to_string()
            };
            Error::result(format!("failed to unmarshal raw result: {reason}"))
        })?;
        from_json(&doc, config_version)
    }

    /// Same rules for an already-parsed value (prevResult, cache); `default_version` fills a missing cniVersion.
    pub fn from_value(value: &Value, default_version: Version) -> Result<CniResult> {
        from_json(&Json::of_value(value), default_version)
    }
}

fn from_json(doc: &Json, default_version: Version) -> Result<CniResult> {
    let map: &[_] = match doc {
        // libcni turns `null` into `{}`, which then takes the default version.
        Json::Null => &[],
        Json::Object(entries) => entries,
        other => {
            return Err(Error::result(format!(
                "failed to unmarshal raw result: expected a JSON object, got {}",
                kind(other)
            )))
        }
    };
    let version = match lookup(map, "cniVersion") {
        Some(Json::String(text)) if !text.is_empty() => known_version(text)?,
        _ if default_version.is_known() => default_version,
        _ => known_version(&default_version.to_string())?,
    };
    parse_result(
        &Fields {
            map,
            path: FieldPath::ROOT,
        },
        version,
    )
}

/// A result version must be spelled exactly as one of the spec versions (libcni matches strings).
fn known_version(text: &str) -> Result<Version> {
    Version::from_spelling(text)
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

/// Where a value sits in a result (e.g. `ips[0].address`), for error messages: kept as its parts and only written
/// out for an error. A result nests at most three levels (`ip4.routes[0].dst`).
#[derive(Clone, Copy)]
struct FieldPath {
    parts: [(&'static str, Option<usize>); 3],
    len: usize,
}

impl FieldPath {
    const ROOT: FieldPath = FieldPath {
        parts: [("", None); 3],
        len: 0,
    };

    /// The path one level down; a deeper one keeps its first three levels (no result has one).
    fn child(self, key: &'static str) -> FieldPath {
        let mut path = self;
        if let Some(part) = path.parts.get_mut(path.len) {
            *part = (key, None);
            path.len += 1;
        }
        path
    }

    /// The path of item `index` of the array this path names.
    fn item(self, index: usize) -> FieldPath {
        let mut path = self;
        if let Some(last) = path.len.checked_sub(1) {
            path.parts[last].1 = Some(index);
        }
        path
    }
}

impl fmt::Display for FieldPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (n, (key, index)) in self.parts[..self.len].iter().enumerate() {
            if n > 0 {
                f.write_str(".")?;
            }
            f.write_str(key)?;
            if let Some(index) = index {
                write!(f, "[{index}]")?;
            }
        }
        Ok(())
    }
}

/// Typed access to one JSON object of a result; `path` names it in error messages.
struct Fields<'a> {
    map: &'a [(Cow<'a, str>, Json<'a>)],
    path: FieldPath,
}

impl<'a> Fields<'a> {
    fn path_of(&self, key: &'static str) -> FieldPath {
        self.path.child(key)
    }

    /// JSON `null` counts as absent, as it does for Go's decoder.
    fn get(&self, key: &str) -> Option<&'a Json<'a>> {
        lookup(self.map, key).filter(|v| **v != Json::Null)
    }

    fn string(&self, key: &'static str) -> Result<Option<&'a str>> {
        match self.get(key) {
            None => Ok(None),
            Some(Json::String(s)) => Ok(Some(s)),
            Some(other) => Err(type_error(other, self.path_of(key), "string")),
        }
    }

    /// An optional string where `""` means absent (Go `omitempty`).
    fn text(&self, key: &'static str) -> Result<Option<String>> {
        Ok(self
            .string(key)?
            .filter(|s| !s.is_empty())
            .map(str::to_owned))
    }

    fn int(&self, key: &'static str) -> Result<Option<i64>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => match value.as_i64() {
                Some(n) => Ok(Some(n)),
                None => Err(type_error(value, self.path_of(key), "int")),
            },
        }
    }

    /// An optional int where 0 means absent (Go `omitempty` on a plain int).
    fn nonzero_int(&self, key: &'static str) -> Result<Option<i64>> {
        Ok(self.int(key)?.filter(|n| *n != 0))
    }

    fn object(&self, key: &'static str) -> Result<Option<Fields<'a>>> {
        match self.get(key) {
            None => Ok(None),
            Some(value) => object_at(value, self.path_of(key)).map(Some),
        }
    }

    fn array(&self, key: &'static str) -> Result<&'a [Json<'a>]> {
        match self.get(key) {
            None => Ok(&[]),
            Some(Json::Array(items)) => Ok(items),
            Some(other) => Err(type_error(other, self.path_of(key), "array")),
        }
    }

    /// An array of objects; a `null` entry is an error (it panics libcni's converters).
    fn objects(&self, key: &'static str) -> Result<Vec<Fields<'a>>> {
        let path = self.path_of(key);
        let items = self.array(key)?.iter().enumerate();
        items
            .map(|(i, item)| object_at(item, path.item(i)))
            .collect()
    }

    fn strings(&self, key: &'static str) -> Result<Vec<String>> {
        let path = self.path_of(key);
        let items = self.array(key)?.iter().enumerate();
        items
            .map(|(i, item)| match item {
                Json::String(s) => Ok(s.to_string()),
                other => Err(type_error(other, path.item(i), "string")),
            })
            .collect()
    }

    /// A required CIDR keeping host bits (Go `types.ParseCIDR`).
    fn cidr(&self, key: &'static str) -> Result<IpNet> {
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
    fn ip(&self, key: &'static str) -> Result<Option<IpAddr>> {
        match self.string(key)? {
            None | Some("") => Ok(None),
            Some(text) => text
                .parse()
                .map(Some)
                .map_err(|_| Error::result(format!("invalid IP address: {text}"))),
        }
    }
}

fn object_at<'a>(value: &'a Json<'a>, path: FieldPath) -> Result<Fields<'a>> {
    match value {
        Json::Object(map) => Ok(Fields { map, path }),
        other => Err(type_error(other, path, "object")),
    }
}

/// Go's wording (`json: cannot unmarshal number into … of type string`), naming the offending key.
fn type_error(value: &Json, path: FieldPath, expected: &str) -> Error {
    Error::result(format!(
        "json: cannot unmarshal {} into result field {path} of type {expected}",
        kind(value)
    ))
}

fn kind(value: &Json) -> String {
    match value {
        Json::Null => "null".into(),
        Json::Bool(_) => "bool".into(),
        Json::Number(n) => format!("number {n}"),
        Json::String(_) => "string".into(),
        Json::Array(_) => "array".into(),
        Json::Object(_) => "object".into(),
    }
}
