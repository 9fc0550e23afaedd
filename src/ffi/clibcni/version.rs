//! `clibcni/version.h`: plugin version information, version decoding and result construction.
//! `CURRENT_VERSION` ("0.3.1", the original's) and the static inline `current()` are header text.

#![allow(non_camel_case_types)]

use std::os::raw::c_char;

use serde_json::Value;

use crate::cni::result::CniResult;
use crate::cni::runtime::{decode_version_info, PluginInfo};
use crate::cni::version::Version;
use crate::ffi::alloc::{c_strdup, c_string_array, free, free_string_array, req_str};
use crate::ffi::clibcni::types::{build, c_result, result};
use crate::ffi::clibcni::with_err;
use crate::ffi::guard::guard_keeping_error;

/// The spec version the original implemented; what `plugin_supports` reports as `cniversion`.
const CURRENT_VERSION: &str = "0.3.1";

/// A plugin's VERSION answer.
#[repr(C)]
pub struct plugin_info {
    pub cniversion: *mut c_char,
    pub supported_versions: *mut *mut c_char,
    pub supported_versions_len: usize,
}

/// The original's result constructor type (kept for source compatibility).
pub type new_result_t =
    Option<unsafe extern "C" fn(json_data: *const c_char, err: *mut *mut c_char) -> *mut result>;

/// The original's table of result constructors (kept for source compatibility).
#[repr(C)]
pub struct result_factories {
    pub supported_versions: *mut *const c_char,
    pub new_result_op: new_result_t,
}

/// # Safety
/// `p` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
unsafe fn drop_plugin_info(p: *mut plugin_info) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return;
        }
        free((*p).cniversion);
        free_string_array((*p).supported_versions, (*p).supported_versions_len);
        free(p);
    }
}

#[no_mangle]
pub extern "C" fn free_plugin_info(pinfo: *mut plugin_info) {
    guard_keeping_error("free_plugin_info", || {
        // SAFETY: pinfo is NULL or a plugin_info whose members were allocated with libc.
        unsafe { drop_plugin_info(pinfo) };
        Ok(())
    })
}

fn c_plugin_info_parts(
    cni_version: &str,
    supported: &[String],
) -> Result<*mut plugin_info, String> {
    build(
        |p: &mut plugin_info| {
            p.cniversion = c_strdup(cni_version)?;
            p.supported_versions = c_string_array(supported)?;
            p.supported_versions_len = supported.len();
            Ok(())
        },
        drop_plugin_info,
    )
}

/// The C form of a plugin's VERSION answer.
pub(super) fn c_plugin_info(info: &PluginInfo) -> Result<*mut plugin_info, String> {
    c_plugin_info_parts(&info.cni_version, &info.supported_versions)
}

/// A plugin_info with `cniversion` "0.3.1" and a copy of the `len` versions given.
#[no_mangle]
pub extern "C" fn plugin_supports(
    supported_versions: *const *const c_char,
    len: usize,
    errmsg: *mut *mut c_char,
) -> *mut plugin_info {
    with_err("plugin_supports", errmsg, || {
        if supported_versions.is_null() || len < 1 {
            return Err("Invalid version argument".into());
        }
        let versions = (0..len)
            .map(|i| {
                // SAFETY: supported_versions holds len entries, each NULL or a C string.
                unsafe {
                    req_str(
                        *supported_versions.add(i),
                        &format!("supported_versions[{i}]"),
                    )
                }
                .map(str::to_string)
            })
            .collect::<Result<Vec<_>, _>>()?;
        c_plugin_info_parts(CURRENT_VERSION, &versions)
    })
}

/// Decodes a plugin's VERSION answer.
#[no_mangle]
pub extern "C" fn plugin_info_decode(
    jsonstr: *const c_char,
    errmsg: *mut *mut c_char,
) -> *mut plugin_info {
    with_err("plugin_info_decode", errmsg, || {
        // SAFETY: jsonstr is NULL or a C string.
        let json = unsafe { req_str(jsonstr, "jsonstr") }?;
        c_plugin_info(&decode_version_info(json.as_bytes()).map_err(|e| e.to_string())?)
    })
}

/// The `cniVersion` of a configuration ("0.1.0" when missing or empty).
fn config_version(json: &str) -> Result<String, String> {
    let failed = |why: &str| format!("decoding config \"{json}\", failed: {why}");
    let value: Value = serde_json::from_str(json).map_err(|e| failed(&e.to_string()))?;
    let Value::Object(map) = value else {
        return Err(failed("not a JSON object"));
    };
    match map.get("cniVersion") {
        None | Some(Value::Null) => Ok("0.1.0".into()),
        Some(Value::String(v)) if v.is_empty() => Ok("0.1.0".into()),
        Some(Value::String(v)) => Ok(v.clone()),
        Some(_) => Err(failed("cniVersion is not a string")),
    }
}

/// The `cniVersion` of a configuration, malloc'd ("0.1.0" when missing or empty).
#[no_mangle]
pub extern "C" fn cniversion_decode(
    jsonstr: *const c_char,
    errmsg: *mut *mut c_char,
) -> *mut c_char {
    with_err("cniversion_decode", errmsg, || {
        // SAFETY: jsonstr is NULL or a C string.
        let json = unsafe { req_str(jsonstr, "jsonstr") }?;
        c_strdup(&config_version(json)?)
    })
}

/// A plugin result in the requested spec version: the JSON may be of any version from 0.1.0 to
/// 1.1.0 (a missing `cniVersion` means `version`) and is converted to `version`.
fn parse_result(version: &str, json: &str) -> Result<CniResult, String> {
    let wanted = Version::ALL
        .into_iter()
        .find(|v| v.to_string() == version)
        .ok_or_else(|| format!("unsupported CNI result version \"{version}\""))?;
    CniResult::from_plugin_output(json.as_bytes(), wanted)
        .and_then(|r| r.convert_to(wanted))
        .map_err(|e| e.to_string())
}

/// Parses a plugin result into a `struct result` of `version` (freed with `free_result`).
#[no_mangle]
pub extern "C" fn new_result(
    version: *const c_char,
    jsonstr: *const c_char,
    err: *mut *mut c_char,
) -> *mut result {
    with_err("new_result", err, || {
        // SAFETY: both are NULL or C strings.
        let (version, json) =
            unsafe { (req_str(version, "version")?, req_str(jsonstr, "jsonstr")?) };
        c_result(&parse_result(version, json)?)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plugin_info_decoding() {
        let info =
            decode_version_info(br#"{"cniVersion":"0.4.0","supportedVersions":["0.3.1","0.4.0"]}"#)
                .unwrap();
        assert_eq!(
            (info.cni_version.as_str(), info.supported_versions.len()),
            ("0.4.0", 2)
        );
        let old = decode_version_info(br#"{"cniVersion":"0.2.0"}"#).unwrap();
        assert_eq!(old.supported_versions, ["0.1.0", "0.2.0"]);
        let cases = [
            (
                r#"{"cniVersion":"0.3.1"}"#,
                "decoding version info: missing field supportedVersions",
            ),
            (
                r#"{"supportedVersions":["0.1.0"]}"#,
                "decoding version info: missing field cniVersion",
            ),
            (
                r#"{"cniVersion":"","supportedVersions":["0.1.0"]}"#,
                "decoding version info: missing field cniVersion",
            ),
            (
                r#"{"cniVersion":"0.4.0","supportedVersions":[1]}"#,
                "decoding version info: supportedVersions must hold strings",
            ),
        ];
        for (json, msg) in cases {
            assert_eq!(
                decode_version_info(json.as_bytes())
                    .unwrap_err()
                    .to_string(),
                msg,
                "{json}"
            );
        }
        assert!(decode_version_info(b"{")
            .unwrap_err()
            .to_string()
            .starts_with("decoding version info: "));
    }

    #[test]
    fn config_versions() {
        assert_eq!(
            config_version(r#"{"cniVersion":"0.4.0"}"#).unwrap(),
            "0.4.0"
        );
        assert_eq!(config_version(r#"{"cniVersion":""}"#).unwrap(), "0.1.0");
        assert_eq!(config_version(r#"{"name":"x"}"#).unwrap(), "0.1.0");
        assert_eq!(
            config_version(r#"{"cniVersion":1}"#).unwrap_err(),
            r#"decoding config "{"cniVersion":1}", failed: cniVersion is not a string"#
        );
        assert_eq!(
            config_version("[]").unwrap_err(),
            r#"decoding config "[]", failed: not a JSON object"#
        );
        assert!(config_version("{")
            .unwrap_err()
            .starts_with(r#"decoding config "{", failed: "#));
    }

    #[test]
    fn results_in_every_version() {
        let v031 = r#"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/24"}]}"#;
        assert_eq!(parse_result("0.3.1", v031).unwrap().ips.len(), 1);
        let v100 = r#"{"cniVersion":"1.0.0","ips":[{"address":"10.0.0.2/24"}]}"#;
        assert_eq!(
            parse_result("1.0.0", v100).unwrap().cni_version,
            Version::V1_0_0
        );
        // Converted to the requested version.
        assert_eq!(
            parse_result("0.3.1", v100).unwrap().cni_version,
            Version::V0_3_1
        );
        let v020 = r#"{"ip4":{"ip":"10.0.0.2/24"}}"#;
        assert_eq!(parse_result("0.2.0", v020).unwrap().ips.len(), 1);
        assert_eq!(
            parse_result("0.5.0", v031).unwrap_err(),
            r#"unsupported CNI result version "0.5.0""#
        );
        assert_eq!(
            parse_result("1.0", v031).unwrap_err(),
            r#"unsupported CNI result version "1.0""#
        );
        assert!(parse_result("0.3.1", "{")
            .unwrap_err()
            .starts_with("failed to unmarshal raw result: "));
    }
}
