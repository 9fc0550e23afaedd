//! What the host has: interface names and addresses (getifaddrs), and removing a bridge
//! through rtnetlink (RTM_DELLINK) instead of running `ip link delete`.

use std::collections::HashSet;
use std::io;
use std::net::IpAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use nix::ifaddrs::getifaddrs;
use nix::net::if_::if_nametoindex;
use nix::sys::socket::{
    bind, recv, sendto, setsockopt, socket, sockopt, AddressFamily, MsgFlags, NetlinkAddr,
    SockFlag, SockProtocol, SockType,
};
use nix::sys::time::TimeVal;

/// Names of all host interfaces and every address configured on them.
pub fn interfaces_and_addresses() -> io::Result<(HashSet<String>, Vec<IpAddr>)> {
    let mut names = HashSet::new();
    let mut addrs = Vec::new();
    for ifa in getifaddrs().map_err(io::Error::from)? {
        if let Some(addr) = ifa.address {
            if let Some(v4) = addr.as_sockaddr_in() {
                addrs.push(IpAddr::V4(v4.ip()));
            } else if let Some(v6) = addr.as_sockaddr_in6() {
                addrs.push(IpAddr::V6(v6.ip()));
            }
        }
        names.insert(ifa.interface_name);
    }
    Ok((names, addrs))
}

const RTM_DELLINK: u16 = 17;
const NLM_F_REQUEST: u16 = 0x1;
const NLM_F_ACK: u16 = 0x4;
const NLMSG_ERROR: u16 = 0x2;
const NLMSG_HEADER_LEN: usize = 16;
const IFINFOMSG_LEN: usize = 16;
/// How long the kernel may take to answer a link deletion (it normally answers at once; a bridge waits for
/// the RTNL lock, which another process may hold).
const NETLINK_TIMEOUT: Duration = Duration::from_secs(10);

/// Deletes a link by name; a link that does not exist is fine (`Ok(false)`).
pub fn delete_link(name: &str) -> io::Result<bool> {
    let index = match if_nametoindex(name) {
        Ok(index) => index,
        Err(nix::errno::Errno::ENODEV) => return Ok(false),
        Err(e) => return Err(io::Error::from(e)),
    };
    let fd = socket(
        AddressFamily::Netlink,
        SockType::Raw,
        SockFlag::SOCK_CLOEXEC,
        SockProtocol::NetlinkRoute,
    )
    .map_err(io::Error::from)?;
    let kernel = NetlinkAddr::new(0, 0);
    bind(fd.as_raw_fd(), &kernel).map_err(io::Error::from)?;
    let timeout = TimeVal::new(NETLINK_TIMEOUT.as_secs() as _, 0);
    setsockopt(&fd, sockopt::ReceiveTimeout, &timeout).map_err(io::Error::from)?;
    let seq: u32 = 1;
    let mut msg = Vec::with_capacity(NLMSG_HEADER_LEN + IFINFOMSG_LEN);
    msg.extend_from_slice(&((NLMSG_HEADER_LEN + IFINFOMSG_LEN) as u32).to_ne_bytes());
    msg.extend_from_slice(&RTM_DELLINK.to_ne_bytes());
    msg.extend_from_slice(&(NLM_F_REQUEST | NLM_F_ACK).to_ne_bytes());
    msg.extend_from_slice(&seq.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel fills it in
                                                // ifinfomsg: family AF_UNSPEC, pad, type, index, flags, change
    msg.extend_from_slice(&[0u8, 0u8]);
    msg.extend_from_slice(&0u16.to_ne_bytes());
    msg.extend_from_slice(&(index as i32).to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    msg.extend_from_slice(&0u32.to_ne_bytes());
    sendto(fd.as_raw_fd(), &msg, &kernel, MsgFlags::empty()).map_err(io::Error::from)?;
    let mut buf = [0u8; 4096];
    loop {
        let n = match recv(fd.as_raw_fd(), &mut buf, MsgFlags::empty()) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!("the kernel did not answer within {NETLINK_TIMEOUT:?}"),
                ))
            }
            Err(e) => return Err(io::Error::from(e)),
        };
        if let Some(result) = ack_of(&buf[..n], seq) {
            return match result {
                0 => Ok(true),
                errno if errno == -(nix::errno::Errno::ENODEV as i32) => Ok(false),
                errno => Err(io::Error::from_raw_os_error(-errno)),
            };
        }
    }
}

/// The error code of the NLMSG_ERROR answering `seq`, if this datagram holds it.
fn ack_of(data: &[u8], seq: u32) -> Option<i32> {
    let mut rest = data;
    while rest.len() >= NLMSG_HEADER_LEN + 4 {
        let word =
            |at: usize| u32::from_ne_bytes([rest[at], rest[at + 1], rest[at + 2], rest[at + 3]]);
        let len = word(0) as usize;
        let kind = u16::from_ne_bytes([rest[4], rest[5]]);
        if kind == NLMSG_ERROR && word(8) == seq {
            return Some(word(NLMSG_HEADER_LEN) as i32);
        }
        let aligned = (len + 3) & !3;
        if len < NLMSG_HEADER_LEN || aligned > rest.len() {
            return None;
        }
        rest = &rest[aligned..];
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_has_loopback() {
        let (names, addrs) = interfaces_and_addresses().unwrap();
        assert!(names.contains("lo"));
        assert!(addrs.contains(&"127.0.0.1".parse().unwrap()));
    }

    #[test]
    fn deleting_a_missing_link_is_fine() {
        assert!(!delete_link("clibcni-nope0").unwrap());
    }

    #[test]
    fn ack_parsing() {
        let mut msg = Vec::new();
        msg.extend_from_slice(&36u32.to_ne_bytes());
        msg.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        msg.extend_from_slice(&0u16.to_ne_bytes());
        msg.extend_from_slice(&7u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&(-1i32).to_ne_bytes());
        msg.extend_from_slice(&[0u8; 16]);
        assert_eq!(ack_of(&msg, 7), Some(-1));
        assert_eq!(ack_of(&msg, 8), None);
        assert_eq!(ack_of(&msg[..10], 7), None);
    }
}
