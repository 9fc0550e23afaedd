//! Turns iSulad's annotations (JSON texts) into CNI capability args, validating them first.

use serde_json::{Map, Value};

use crate::network::error::{NetError, NetResult};
use crate::network::types::Annotations;

pub const PORT_MAPPINGS: &str = "portMappings";
pub const BANDWIDTH: &str = "bandwidth";
pub const IP_RANGES: &str = "ipRanges";
pub const ALIASES: &str = "aliases";

/// The capability args for a set of annotations. A malformed annotation is an error with
/// iSulad's message; empty ones (no ports, no ranges, all-zero bandwidth) add nothing.
pub fn capability_args(annotations: &Annotations) -> NetResult<Map<String, Value>> {
    let mut caps = Map::new();
    if let Some(text) = &annotations.port_mappings {
        let mappings = port_mappings(&parse(PORT_MAPPINGS, text)?)?;
        if !mappings.is_empty() {
            caps.insert(PORT_MAPPINGS.into(), Value::Array(mappings));
        }
    }
    if let Some(text) = &annotations.bandwidth {
        if let Some(bw) = bandwidth(&parse(BANDWIDTH, text)?)? {
            caps.insert(BANDWIDTH.into(), bw);
        }
    }
    if let Some(text) = &annotations.ip_ranges {
        let ranges = ip_ranges(&parse(IP_RANGES, text)?)?;
        if !ranges.is_empty() {
            caps.insert(IP_RANGES.into(), Value::Array(ranges));
        }
    }
    if let Some(text) = &annotations.aliases {
        let aliases = parse(ALIASES, text)?;
        let non_empty = match &aliases {
            Value::Array(a) => !a.is_empty(),
            Value::Object(o) => !o.is_empty(),
            _ => return Err(malformed(ALIASES)),
        };
        if non_empty {
            caps.insert(ALIASES.into(), aliases);
        }
    }
    Ok(caps)
}

fn malformed(key: &str) -> NetError {
    NetError::input(format!(
        "The format of annotation is not right with key:{key}"
    ))
}

fn parse(key: &str, text: &str) -> NetResult<Value> {
    serde_json::from_str(text).map_err(|_| malformed(key))
}

fn int_field(obj: &Map<String, Value>, name: &str) -> Option<i64> {
    obj.get(name).and_then(Value::as_i64)
}

/// `[{"hostPort":8080,"containerPort":80,"protocol":"tcp","hostIP":"…"}]`: ports must be in
/// 1..65535 (entries with hostPort <= 0 are skipped, as iSulad does), protocol tcp/udp/sctp.
fn port_mappings(value: &Value) -> NetResult<Vec<Value>> {
    let items = value.as_array().ok_or_else(|| malformed(PORT_MAPPINGS))?;
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        let obj = item.as_object().ok_or_else(|| malformed(PORT_MAPPINGS))?;
        let host_port = int_field(obj, "hostPort").unwrap_or(0);
        if host_port <= 0 {
            continue;
        }
        let container_port =
            int_field(obj, "containerPort").ok_or_else(|| malformed(PORT_MAPPINGS))?;
        if host_port > 65535 || !(1..=65535).contains(&container_port) {
            return Err(malformed(PORT_MAPPINGS));
        }
        let protocol = match obj.get("protocol") {
            None | Some(Value::Null) => "tcp".to_string(),
            Some(Value::String(p))
                if ["tcp", "udp", "sctp"].contains(&p.to_ascii_lowercase().as_str()) =>
            {
                p.to_ascii_lowercase()
            }
            Some(_) => return Err(malformed(PORT_MAPPINGS)),
        };
        let mut mapping = Map::new();
        mapping.insert("hostPort".into(), host_port.into());
        mapping.insert("containerPort".into(), container_port.into());
        mapping.insert("protocol".into(), protocol.into());
        match obj.get("hostIP") {
            None | Some(Value::Null) => {}
            Some(Value::String(ip)) if ip.is_empty() => {}
            Some(Value::String(ip)) if ip.parse::<std::net::IpAddr>().is_ok() => {
                mapping.insert("hostIP".into(), ip.clone().into());
            }
            Some(_) => return Err(malformed(PORT_MAPPINGS)),
        }
        out.push(Value::Object(mapping));
    }
    Ok(out)
}

/// `{"ingressRate":…,"ingressBurst":…,"egressRate":…,"egressBurst":…}` (integers, not
/// negative). All zero means "no limit" and adds nothing (iSulad always sent zeros).
fn bandwidth(value: &Value) -> NetResult<Option<Value>> {
    let obj = value.as_object().ok_or_else(|| malformed(BANDWIDTH))?;
    let mut out = Map::new();
    for key in ["ingressRate", "ingressBurst", "egressRate", "egressBurst"] {
        match obj.get(key) {
            None | Some(Value::Null) => {}
            Some(v) => {
                let n = v
                    .as_i64()
                    .filter(|n| *n >= 0)
                    .ok_or_else(|| malformed(BANDWIDTH))?;
                if n > 0 {
                    out.insert(key.into(), n.into());
                }
            }
        }
    }
    Ok((!out.is_empty()).then_some(Value::Object(out)))
}

/// `[[{"subnet":"…","rangeStart":"…","rangeEnd":"…","gateway":"…"}]]`: every range needs a
/// valid subnet; the optional addresses must be valid IPs.
fn ip_ranges(value: &Value) -> NetResult<Vec<Value>> {
    let sets = value.as_array().ok_or_else(|| malformed(IP_RANGES))?;
    for set in sets {
        for range in set.as_array().ok_or_else(|| malformed(IP_RANGES))? {
            let obj = range.as_object().ok_or_else(|| malformed(IP_RANGES))?;
            let subnet = obj
                .get("subnet")
                .and_then(Value::as_str)
                .ok_or_else(|| malformed(IP_RANGES))?;
            subnet
                .parse::<ipnet::IpNet>()
                .map_err(|_| malformed(IP_RANGES))?;
            for key in ["rangeStart", "rangeEnd", "gateway"] {
                if let Some(v) = obj.get(key) {
                    let ok = v
                        .as_str()
                        .is_some_and(|s| s.parse::<std::net::IpAddr>().is_ok());
                    if !ok {
                        return Err(malformed(IP_RANGES));
                    }
                }
            }
        }
    }
    Ok(sets
        .iter()
        .filter(|s| s.as_array().is_some_and(|a| !a.is_empty()))
        .cloned()
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ann(pm: Option<&str>, bw: Option<&str>, ipr: Option<&str>) -> Annotations {
        Annotations {
            port_mappings: pm.map(String::from),
            bandwidth: bw.map(String::from),
            ip_ranges: ipr.map(String::from),
            aliases: None,
        }
    }

    #[test]
    fn valid_annotations_become_capability_args() {
        let caps = capability_args(&ann(
            Some(r#"[{"hostPort":8080,"containerPort":80,"protocol":"TCP"},{"hostPort":0,"containerPort":81}]"#),
            Some(r#"{"ingressRate":10240,"ingressBurst":2147483647,"egressRate":0,"egressBurst":0}"#),
            Some(r#"[[{"subnet":"10.1.0.0/16","rangeStart":"10.1.2.10"}]]"#),
        ))
        .unwrap();
        assert_eq!(
            Value::Object(caps),
            json!({
                "portMappings": [{"hostPort":8080,"containerPort":80,"protocol":"tcp"}],
                "bandwidth": {"ingressRate":10240,"ingressBurst":2147483647},
                "ipRanges": [[{"subnet":"10.1.0.0/16","rangeStart":"10.1.2.10"}]]
            })
        );
    }

    #[test]
    fn empty_annotations_add_nothing() {
        let caps = capability_args(&ann(
            Some("[]"),
            Some(r#"{"ingressRate":0,"ingressBurst":0,"egressRate":0,"egressBurst":0}"#),
            Some("[]"),
        ))
        .unwrap();
        assert!(caps.is_empty());
        assert!(capability_args(&Annotations::default()).unwrap().is_empty());
    }

    #[test]
    fn malformed_annotations_are_refused_with_isulad_message() {
        let cases = [
            ann(Some("{"), None, None),
            ann(Some(r#"{"hostPort":1}"#), None, None),
            ann(
                Some(r#"[{"hostPort":70000,"containerPort":80}]"#),
                None,
                None,
            ),
            ann(Some(r#"[{"hostPort":80,"containerPort":0}]"#), None, None),
            ann(
                Some(r#"[{"hostPort":80,"containerPort":80,"protocol":"icmp"}]"#),
                None,
                None,
            ),
            ann(
                Some(r#"[{"hostPort":80,"containerPort":80,"hostIP":"nope"}]"#),
                None,
                None,
            ),
            ann(None, Some("[]"), None),
            ann(None, Some(r#"{"ingressRate":-1}"#), None),
            ann(None, Some(r#"{"ingressRate":"1k"}"#), None),
            ann(None, None, Some(r#"[{"subnet":"10.0.0.0/8"}]"#)),
            ann(None, None, Some(r#"[[{"subnet":"10.0.0.0/33"}]]"#)),
            ann(
                None,
                None,
                Some(r#"[[{"subnet":"10.0.0.0/8","gateway":"x"}]]"#),
            ),
        ];
        for a in cases {
            let err = capability_args(&a).unwrap_err();
            assert!(
                err.msg
                    .starts_with("The format of annotation is not right with key:"),
                "{a:?}: {err}"
            );
        }
        let aliases = Annotations {
            aliases: Some("3".into()),
            ..Annotations::default()
        };
        assert_eq!(
            capability_args(&aliases).unwrap_err().msg,
            "The format of annotation is not right with key:aliases"
        );
    }
}
