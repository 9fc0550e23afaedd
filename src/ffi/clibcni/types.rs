//! `clibcni/types.h`: the result types of the legacy API (`struct result` and its parts), their
//! `free_*` functions and the address helpers.
//!
//! Addresses are raw bytes as in the original: 4 for IPv4, 16 for IPv6; an `ipnet` keeps the
//! address as written (host bits included) with a mask of the same length.

#![allow(non_camel_case_types)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::raw::{c_char, c_int};
use std::{ptr, slice};

use ::ipnet::IpNet;

use crate::cni::result::{CniResult, Dns, Interface, IpConfig, Route};
use crate::ffi::alloc::{c_calloc, c_strdup, c_string_array, free, free_string_array, req_str};
use crate::ffi::clibcni::with_err;
use crate::ffi::guard::{guard, guard_keeping_error};

/// An interface created by a plugin.
#[repr(C)]
pub struct interface {
    pub name: *mut c_char,
    pub mac: *mut c_char,
    pub sandbox: *mut c_char,
}

/// An address with its mask, both `ip_len` bytes long.
#[repr(C)]
pub struct ipnet {
    pub ip: *mut u8,
    pub ip_len: usize,
    pub ip_mask: *mut u8,
    pub ip_mask_len: usize,
}

/// An assigned address: `version` is "4" or "6"; `interface` (an index into the result's
/// interfaces) and `gateway` may be NULL.
#[repr(C)]
pub struct ipconfig {
    pub version: *mut c_char,
    pub interface: *mut i32,
    pub address: *mut ipnet,
    pub gateway: *mut u8,
    pub gateway_len: usize,
}

#[repr(C)]
pub struct route {
    pub dst: *mut ipnet,
    pub gw: *mut u8,
    pub gw_len: usize,
}

#[repr(C)]
pub struct dns {
    pub name_servers: *mut *mut c_char,
    pub name_servers_len: usize,
    pub domain: *mut c_char,
    pub search: *mut *mut c_char,
    pub search_len: usize,
    pub options: *mut *mut c_char,
    pub options_len: usize,
}

/// A plugin result. `my_dns` is always set (possibly empty) by this library.
#[repr(C)]
pub struct result {
    pub cniversion: *mut c_char,
    pub interfaces: *mut *mut interface,
    pub interfaces_len: usize,
    pub ips: *mut *mut ipconfig,
    pub ips_len: usize,
    pub routes: *mut *mut route,
    pub routes_len: usize,
    pub my_dns: *mut dns,
}

const IPV4LEN: usize = 4;
const IPV6LEN: usize = 16;

// --- freeing ------------------------------------------------------------------------------------

/// # Safety
/// `p` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
unsafe fn drop_ipnet(p: *mut ipnet) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return;
        }
        free((*p).ip);
        free((*p).ip_mask);
        free(p);
    }
}

/// # Safety
/// `p` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
unsafe fn drop_ipconfig(p: *mut ipconfig) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return;
        }
        free((*p).version);
        free((*p).interface);
        drop_ipnet((*p).address);
        free((*p).gateway);
        free(p);
    }
}

/// # Safety
/// `p` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
unsafe fn drop_route(p: *mut route) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return;
        }
        drop_ipnet((*p).dst);
        free((*p).gw);
        free(p);
    }
}

/// # Safety
/// `p` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
unsafe fn drop_interface(p: *mut interface) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return;
        }
        free((*p).name);
        free((*p).mac);
        free((*p).sandbox);
        free(p);
    }
}

/// # Safety
/// `p` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
unsafe fn drop_dns(p: *mut dns) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return;
        }
        let d = &*p;
        free_string_array(d.name_servers, d.name_servers_len);
        free(d.domain);
        free_string_array(d.search, d.search_len);
        free_string_array(d.options, d.options_len);
        free(p);
    }
}

/// Frees `len` items of an array with `drop_item`, then the array (NULL-safe).
///
/// # Safety
/// `items` is NULL or a malloc'd array of at least `len` items, each of which `drop_item` may free; none is used afterwards.
unsafe fn drop_array<T>(items: *mut *mut T, len: usize, drop_item: unsafe fn(*mut T)) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if items.is_null() {
            return;
        }
        for i in 0..len {
            drop_item(*items.add(i));
        }
        free(items);
    }
}

/// # Safety
/// `p` is NULL or a struct allocated as this library allocates it (libc; members NULL or owned by it), not used afterwards.
pub(super) unsafe fn drop_result(p: *mut result) {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        if p.is_null() {
            return;
        }
        let r = &*p;
        free(r.cniversion);
        drop_array(r.interfaces, r.interfaces_len, drop_interface);
        drop_array(r.ips, r.ips_len, drop_ipconfig);
        drop_array(r.routes, r.routes_len, drop_route);
        drop_dns(r.my_dns);
        free(p);
    }
}

// The exported `free_*`: NULL-safe, for values this library (or the caller, with libc) allocated.

#[no_mangle]
pub extern "C" fn free_ipnet_type(val: *mut ipnet) {
    guard_keeping_error("free_ipnet_type", || {
        // SAFETY: val is NULL or a value whose members were all allocated with libc.
        unsafe { drop_ipnet(val) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn free_ipconfig_type(val: *mut ipconfig) {
    guard_keeping_error("free_ipconfig_type", || {
        // SAFETY: val is NULL or a value whose members were all allocated with libc.
        unsafe { drop_ipconfig(val) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn free_route_type(val: *mut route) {
    guard_keeping_error("free_route_type", || {
        // SAFETY: val is NULL or a value whose members were all allocated with libc.
        unsafe { drop_route(val) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn free_interface_type(val: *mut interface) {
    guard_keeping_error("free_interface_type", || {
        // SAFETY: val is NULL or a value whose members were all allocated with libc.
        unsafe { drop_interface(val) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn free_dns_type(val: *mut dns) {
    guard_keeping_error("free_dns_type", || {
        // SAFETY: val is NULL or a value whose members were all allocated with libc.
        unsafe { drop_dns(val) };
        Ok(())
    })
}

#[no_mangle]
pub extern "C" fn free_result(val: *mut result) {
    guard_keeping_error("free_result", || {
        // SAFETY: val is NULL or a value whose members were all allocated with libc.
        unsafe { drop_result(val) };
        Ok(())
    })
}

// --- building -----------------------------------------------------------------------------------

/// A calloc'd `T` filled by `fill`; on failure it is released with `drop`, which copes with a
/// half-filled value (members are set before the lengths that describe them).
pub(super) fn build<T>(
    fill: impl FnOnce(&mut T) -> Result<(), String>,
    drop: unsafe fn(*mut T),
) -> Result<*mut T, String> {
    let p = c_calloc::<T>(1)?;
    // SAFETY: p is a fresh zeroed T: NULL pointers and zero lengths, a valid empty value.
    if let Err(e) = fill(unsafe { &mut *p }) {
        // SAFETY: p holds only what fill allocated.
        unsafe { drop(p) };
        return Err(e);
    }
    Ok(p)
}

/// A calloc'd array of `make(item)` for each item (NULL when there are none); nothing stays
/// allocated on failure.
fn c_array<T, U>(
    items: &[T],
    make: impl Fn(&T) -> Result<*mut U, String>,
    drop_item: unsafe fn(*mut U),
) -> Result<*mut *mut U, String> {
    if items.is_empty() {
        return Ok(ptr::null_mut());
    }
    let array = c_calloc::<*mut U>(items.len())?;
    for (i, item) in items.iter().enumerate() {
        match make(item) {
            // SAFETY: i < items.len(), the array's length.
            Ok(p) => unsafe { *array.add(i) = p },
            Err(e) => {
                // SAFETY: the first i entries were made here, the rest are NULL.
                unsafe { drop_array(array, i, drop_item) };
                return Err(e);
            }
        }
    }
    Ok(array)
}

/// A string array as the original has it: NULL when empty.
fn c_strings(items: &[String]) -> Result<*mut *mut c_char, String> {
    if items.is_empty() {
        Ok(ptr::null_mut())
    } else {
        c_string_array(items)
    }
}

pub(super) fn c_opt_strdup(s: Option<&str>) -> Result<*mut c_char, String> {
    s.map_or(Ok(ptr::null_mut()), c_strdup)
}

/// A malloc'd copy of the bytes (NULL when empty).
fn c_bytes(bytes: &[u8]) -> Result<*mut u8, String> {
    if bytes.is_empty() {
        return Ok(ptr::null_mut());
    }
    let p = c_calloc::<u8>(bytes.len())?;
    // SAFETY: p has room for bytes.len() bytes.
    unsafe { ptr::copy_nonoverlapping(bytes.as_ptr(), p, bytes.len()) };
    Ok(p)
}

fn octets(addr: IpAddr) -> Vec<u8> {
    match addr {
        IpAddr::V4(a) => a.octets().to_vec(),
        IpAddr::V6(a) => a.octets().to_vec(),
    }
}

fn new_ipnet(net: &IpNet) -> Result<*mut ipnet, String> {
    let (ip, mask) = (octets(net.addr()), octets(net.netmask()));
    build(
        |n: &mut ipnet| {
            n.ip = c_bytes(&ip)?;
            n.ip_len = ip.len();
            n.ip_mask = c_bytes(&mask)?;
            n.ip_mask_len = mask.len();
            Ok(())
        },
        drop_ipnet,
    )
}

fn c_interface(i: &Interface) -> Result<*mut interface, String> {
    build(
        |c: &mut interface| {
            c.name = c_strdup(&i.name)?;
            c.mac = c_opt_strdup(i.mac.as_deref())?;
            c.sandbox = c_opt_strdup(i.sandbox.as_deref())?;
            Ok(())
        },
        drop_interface,
    )
}

fn c_ipconfig(ip: &IpConfig) -> Result<*mut ipconfig, String> {
    build(
        |c: &mut ipconfig| {
            c.version = c_strdup(if ip.address.addr().is_ipv4() {
                "4"
            } else {
                "6"
            })?;
            if let Some(index) = ip.interface {
                let index = i32::try_from(index)
                    .map_err(|_| format!("interface index {index} is out of range"))?;
                c.interface = c_calloc::<i32>(1)?;
                // SAFETY: just allocated.
                unsafe { *c.interface = index };
            }
            c.address = new_ipnet(&ip.address)?;
            let gateway = ip.gateway.map(octets).unwrap_or_default();
            c.gateway = c_bytes(&gateway)?;
            c.gateway_len = gateway.len();
            Ok(())
        },
        drop_ipconfig,
    )
}

fn c_route(r: &Route) -> Result<*mut route, String> {
    build(
        |c: &mut route| {
            c.dst = new_ipnet(&r.dst)?;
            let gw = r.gw.map(octets).unwrap_or_default();
            c.gw = c_bytes(&gw)?;
            c.gw_len = gw.len();
            Ok(())
        },
        drop_route,
    )
}

fn c_dns(d: &Dns) -> Result<*mut dns, String> {
    build(
        |c: &mut dns| {
            c.name_servers = c_strings(&d.nameservers)?;
            c.name_servers_len = d.nameservers.len();
            c.domain = c_opt_strdup(d.domain.as_deref())?;
            c.search = c_strings(&d.search)?;
            c.search_len = d.search.len();
            c.options = c_strings(&d.options)?;
            c.options_len = d.options.len();
            Ok(())
        },
        drop_dns,
    )
}

/// The C form of a result, in the result's own version.
pub(super) fn c_result(r: &CniResult) -> Result<*mut result, String> {
    build(
        |c: &mut result| {
            c.cniversion = c_strdup(&r.cni_version.to_string())?;
            c.interfaces = c_array(&r.interfaces, c_interface, drop_interface)?;
            c.interfaces_len = r.interfaces.len();
            c.ips = c_array(&r.ips, c_ipconfig, drop_ipconfig)?;
            c.ips_len = r.ips.len();
            c.routes = c_array(&r.routes, c_route, drop_route)?;
            c.routes_len = r.routes.len();
            c.my_dns = c_dns(&r.dns)?;
            Ok(())
        },
        drop_result,
    )
}

// --- address helpers ----------------------------------------------------------------------------

/// `len` bytes at `p` (NULL is fine when `len` is 0).
///
/// # Safety
/// `p` is NULL or points to at least `len` readable bytes that outlive the slice.
unsafe fn byte_slice<'a>(p: *const u8, len: usize, field: &str) -> Result<&'a [u8], String> {
    // SAFETY: the caller keeps this function's contract (# Safety above).
    unsafe {
        match (p.is_null(), len) {
            (_, 0) => Ok(&[]),
            (true, _) => Err(format!("{field} is NULL but its length is {len}")),
            (false, _) => Ok(slice::from_raw_parts(p, len)),
        }
    }
}

/// The address in 4 or 16 bytes; an IPv4-mapped IPv6 address counts as IPv4 (as Go's `net.IP`).
fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    if let Ok(v4) = <[u8; IPV4LEN]>::try_from(bytes) {
        return Some(IpAddr::V4(Ipv4Addr::from(v4)));
    }
    let v6 = Ipv6Addr::from(<[u8; IPV6LEN]>::try_from(bytes).ok()?);
    Some(v6.to_ipv4_mapped().map_or(IpAddr::V6(v6), IpAddr::V4))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Go's `net.IP.String`: "<nil>" for no bytes, "?<hex>" for a length that is no address.
fn ip_text(bytes: &[u8]) -> String {
    if bytes.is_empty() {
        return "<nil>".into();
    }
    ip_from_bytes(bytes).map_or_else(|| format!("?{}", hex(bytes)), |ip| ip.to_string())
}

/// The prefix length of a canonical mask (ones then zeros), else None.
fn prefix_len(mask: &[u8]) -> Option<u32> {
    let packed = mask
        .iter()
        .fold(0u128, |acc, b| (acc << 8) | u128::from(*b));
    let bits = packed
        .checked_shl(128u32.saturating_sub(8 * mask.len() as u32))
        .unwrap_or(0);
    let ones = bits.leading_ones();
    (bits.checked_shl(ones).unwrap_or(0) == 0).then_some(ones)
}

/// Go's `net.IPNet.String`: "ip/prefix", or "ip/<hex mask>" for a non-canonical mask.
fn ipnet_text(ip: &[u8], mask: &[u8]) -> Result<String, String> {
    let addr = ip_from_bytes(ip).ok_or_else(|| format!("Invalid ip, len={}", ip.len()))?;
    let mask = match (addr, mask.len()) {
        (IpAddr::V4(_), IPV4LEN) | (IpAddr::V6(_), IPV6LEN) => mask,
        (IpAddr::V4(_), IPV6LEN) => &mask[IPV6LEN - IPV4LEN..],
        (IpAddr::V6(_), IPV4LEN) => {
            return Err(format!(
                "len of IP: {IPV6LEN} different to len of mask: {IPV4LEN}"
            ))
        }
        (_, n) => return Err(format!("Invalid mask len: {n}")),
    };
    Ok(match prefix_len(mask) {
        Some(n) => format!("{addr}/{n}"),
        None => format!("{addr}/{}", hex(mask)),
    })
}

fn parse_ip(text: &str) -> Result<IpAddr, String> {
    text.parse()
        .map_err(|_| format!("Invalid ip address: {text}"))
}

/// "addr/prefix" with a decimal prefix no longer than the address.
fn parse_cidr_text(cidr: &str) -> Result<IpNet, String> {
    let invalid = || format!("Invalid CIDR address {cidr}");
    let (addr, prefix) = cidr.split_once('/').ok_or_else(invalid)?;
    let addr = parse_ip(addr)?;
    if prefix.is_empty() || !prefix.bytes().all(|b| b.is_ascii_digit()) {
        return Err(invalid());
    }
    let prefix = prefix.parse::<u8>().map_err(|_| invalid())?;
    IpNet::new(addr, prefix).map_err(|_| invalid())
}

/// `*ips` = the address's bytes (4 for IPv4, 16 for IPv6), `*len` their number.
#[no_mangle]
pub extern "C" fn parse_ip_from_str(
    addr: *const c_char,
    ips: *mut *mut u8,
    len: *mut usize,
    err: *mut *mut c_char,
) -> c_int {
    with_err("parse_ip_from_str", err, || {
        if ips.is_null() || len.is_null() {
            return Err("ips and len must not be NULL".into());
        }
        // SAFETY: addr is NULL or a C string.
        let ip = octets(parse_ip(unsafe { req_str(addr, "addr") }?)?);
        let bytes = c_bytes(&ip)?;
        // SAFETY: both are valid out-pointers (checked above).
        unsafe {
            *ips = bytes;
            *len = ip.len();
        }
        Ok(0)
    })
}

/// `*ipnet_val` = the address of "addr/prefix" as written (host bits kept) and its mask.
#[no_mangle]
pub extern "C" fn parse_cidr(
    cidr_str: *const c_char,
    ipnet_val: *mut *mut ipnet,
    err: *mut *mut c_char,
) -> c_int {
    with_err("parse_cidr", err, || {
        if ipnet_val.is_null() {
            return Err("ipnet_val must not be NULL".into());
        }
        // SAFETY: cidr_str is NULL or a C string.
        let net = parse_cidr_text(unsafe { req_str(cidr_str, "cidr_str") }?)?;
        let value = new_ipnet(&net)?;
        // SAFETY: a valid out-pointer (checked above).
        unsafe { *ipnet_val = value };
        Ok(0)
    })
}

/// "ip/prefix" (or "ip/<hex mask>" for a mask that is not a prefix); NULL and `*err` on failure.
#[no_mangle]
pub extern "C" fn ipnet_to_string(value: *const ipnet, err: *mut *mut c_char) -> *mut c_char {
    with_err("ipnet_to_string", err, || {
        if value.is_null() {
            return Err("value must not be NULL".into());
        }
        // SAFETY: value is a valid ipnet whose pointers hold the lengths it states.
        let text = unsafe {
            let v = &*value;
            ipnet_text(
                byte_slice(v.ip, v.ip_len, "ip")?,
                byte_slice(v.ip_mask, v.ip_mask_len, "ip_mask")?,
            )?
        };
        c_strdup(&text)
    })
}

/// The address as text (IPv4 dotted, IPv6 as RFC 5952); "<nil>" for `len` 0, "?<hex>" for a
/// length that is neither 4 nor 16. NULL only when `ip` is NULL with a non-zero `len`.
#[no_mangle]
pub extern "C" fn ip_to_string(ip: *const u8, len: usize) -> *mut c_char {
    guard("ip_to_string", || {
        // SAFETY: ip is NULL or points to len bytes.
        c_strdup(&ip_text(unsafe { byte_slice(ip, len, "ip") }?))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_text_forms() {
        assert_eq!(ip_text(&[]), "<nil>");
        assert_eq!(ip_text(&[10, 1, 2, 3]), "10.1.2.3");
        let mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 1, 2];
        assert_eq!(ip_text(&mapped), "192.168.1.2");
        let v6: Ipv6Addr = "fe80::1".parse().unwrap();
        assert_eq!(ip_text(&v6.octets()), "fe80::1");
        let one_zero_group: Ipv6Addr = "2001:db8:0:1:1:1:1:1".parse().unwrap();
        assert_eq!(ip_text(&one_zero_group.octets()), "2001:db8:0:1:1:1:1:1");
        assert_eq!(ip_text(&[1, 2, 0xab]), "?0102ab");
    }

    #[test]
    fn masks_and_prefixes() {
        assert_eq!(prefix_len(&[255, 255, 255, 0]), Some(24));
        assert_eq!(prefix_len(&[0, 0, 0, 0]), Some(0));
        assert_eq!(prefix_len(&[255; 16]), Some(128));
        assert_eq!(prefix_len(&[255, 0, 255, 0]), None);
        assert_eq!(prefix_len(&[255, 255, 254, 0]), Some(23));
        assert_eq!(
            ipnet_text(&[10, 1, 2, 3], &[255, 255, 255, 0]).unwrap(),
            "10.1.2.3/24"
        );
        assert_eq!(
            ipnet_text(&[10, 1, 2, 3], &[255, 0, 255, 0]).unwrap(),
            "10.1.2.3/ff00ff00"
        );
        let mut mapped_mask = [255u8; 16];
        mapped_mask[15] = 0;
        let mapped = [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1];
        assert_eq!(ipnet_text(&mapped, &mapped_mask).unwrap(), "10.0.0.1/24");
        let v6: Ipv6Addr = "fd00::5".parse().unwrap();
        let mut mask = [0u8; 16];
        mask[..8].fill(255);
        assert_eq!(ipnet_text(&v6.octets(), &mask).unwrap(), "fd00::5/64");
    }

    #[test]
    fn malformed_ipnets() {
        assert_eq!(
            ipnet_text(&[1, 2, 3], &[255; 3]).unwrap_err(),
            "Invalid ip, len=3"
        );
        assert_eq!(
            ipnet_text(&[10, 0, 0, 1], &[255; 3]).unwrap_err(),
            "Invalid mask len: 3"
        );
        let v6: Ipv6Addr = "fd00::5".parse().unwrap();
        assert_eq!(
            ipnet_text(&v6.octets(), &[255; 4]).unwrap_err(),
            "len of IP: 16 different to len of mask: 4"
        );
    }

    #[test]
    fn cidrs() {
        let net = parse_cidr_text("10.1.2.3/24").unwrap();
        assert_eq!(
            (net.addr().to_string(), net.prefix_len()),
            ("10.1.2.3".to_string(), 24)
        );
        assert_eq!(parse_cidr_text("fd00::1/64").unwrap().prefix_len(), 64);
        for bad in [
            "10.1.2.3",
            "10.1.2.3/33",
            "10.1.2.3/",
            "10.1.2.3/+8",
            "10.1.2.3/x",
            "fd00::/129",
            "10.1.2.3/999",
        ] {
            assert_eq!(
                parse_cidr_text(bad).unwrap_err(),
                format!("Invalid CIDR address {bad}"),
                "{bad}"
            );
        }
        assert_eq!(
            parse_cidr_text("10.1.2/24").unwrap_err(),
            "Invalid ip address: 10.1.2"
        );
        assert_eq!(
            parse_ip("01.2.3.4").unwrap_err(),
            "Invalid ip address: 01.2.3.4"
        );
    }

    #[test]
    fn results_are_built_and_freed() {
        let json = br#"{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","mac":"aa:bb:cc:dd:ee:ff"}],
            "ips":[{"address":"10.0.0.2/24","gateway":"10.0.0.1","interface":0},{"address":"fd00::2/64"}],
            "routes":[{"dst":"0.0.0.0/0"}],"dns":{"nameservers":["10.0.0.1"],"search":["a"]}}"#;
        let r = CniResult::from_plugin_output(json, crate::cni::Version::V1_0_0).unwrap();
        let c = c_result(&r).unwrap();
        // SAFETY: c is a complete result made above.
        unsafe {
            let res = &*c;
            assert_eq!((res.interfaces_len, res.ips_len, res.routes_len), (1, 2, 1));
            let ip0 = &**res.ips;
            assert_eq!(*ip0.interface, 0);
            assert_eq!(
                slice::from_raw_parts(ip0.gateway, ip0.gateway_len),
                &[10, 0, 0, 1]
            );
            let ip1 = &**res.ips.add(1);
            assert!(ip1.interface.is_null() && ip1.gateway.is_null());
            assert_eq!((*ip1.address).ip_len, 16);
            let d = &*res.my_dns;
            assert_eq!((d.name_servers_len, d.search_len, d.options_len), (1, 1, 0));
            assert!(d.options.is_null() && d.domain.is_null());
            drop_result(c);
        }
    }

    #[test]
    fn out_of_range_interface_index_fails() {
        let json = br#"{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.0.0.2/24","interface":4294967296}]}"#;
        let r = CniResult::from_plugin_output(json, crate::cni::Version::V0_3_1).unwrap();
        assert_eq!(
            c_result(&r).unwrap_err(),
            "interface index 4294967296 is out of range"
        );
    }
}
