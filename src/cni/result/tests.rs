//! Tests of parsing, converting and encoding results (many follow libcni's `pkg/types` tests).

use serde_json::{json, Value};

use super::*;
use crate::cni::error::{Error, Result};

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
    let r =
        parse(json!({"ips": [{"address": "1.2.3.4/24"}], "routes": [{"dst": "2001:db8::/32"}]}))
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
    let zero =
        json!({"dst": "0.0.0.0/0", "mtu": 0, "advmss": 0, "priority": 0, "table": 0, "scope": 0});
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
    let r = CniResult::from_plugin_output(br#"{"cniVersion":"0.3.1"}"#, Version::V1_0_0).unwrap();
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
    // Output that is not UTF-8 is parsed as bytes, so the error names the string and its place.
    let e = CniResult::from_plugin_output(
        b"{\"cniVersion\":\"1.0.0\",\"x\":\"\xff\"}",
        Version::V1_0_0,
    )
    .unwrap_err()
    .to_string();
    assert_eq!(
        e,
        "failed to unmarshal raw result: invalid unicode code point at line 1 column 28"
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
            json!({"cniVersion": "0.2.0", "ip4": {"ip": "1.2.3.4/24", "routes": [{"dst": 7}]}}),
            "number 7 into result field ip4.routes[0].dst of type string",
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
        err_text(json!({"cniVersion": "0.3.0", "ips": [{"version": "5", "address": "::1/128"}]})),
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
    let r = parse(json!({"ips": [{"address": "10.0.0.2/8"}, {"address": "fd00::2/64"}]})).unwrap();
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

#[test]
fn as_written_is_what_decoding_the_encoding_gives() {
    let mut with_route_extras = test_result();
    with_route_extras.routes[0].mtu = Some(1400);
    with_route_extras.routes[1].priority = Some(7);
    // A second IPv4 address: the legacy encoding keeps only the first of each family.
    with_route_extras.ips.push(IpConfig {
        interface: Some(0),
        address: net("1.2.3.31/24"),
        gateway: None,
    });
    for version in Version::ALL {
        let converted = with_route_extras.convert_to(version).unwrap();
        let decoded = CniResult::from_value(&converted.to_value(), version).unwrap();
        let written = converted.clone().as_written();
        assert_eq!(written, decoded, "{version}");
        assert_eq!(written.to_value(), converted.to_value(), "{version}");
    }
    // In memory a 1.0.0 conversion keeps what only 1.1.0 writes; as written it does not.
    let kept = with_route_extras.convert_to(Version::V1_0_0).unwrap();
    assert_eq!(kept.interfaces[0].mtu, Some(1500));
    assert_eq!(kept.clone().as_written().interfaces[0].mtu, None);
    assert_eq!(kept.as_written().routes[0].mtu, None);
}
