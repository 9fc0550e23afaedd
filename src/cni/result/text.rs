//! Addresses as text in a stack buffer, IPv4 without `core::fmt`: a result is encoded several times per plugin
//! call (the next request, the cache file, CHECK's and DEL's requests), and formatting its addresses through
//! `Display`, one formatter call per octet and one escaping pass per piece, cost more than the rest of the encoding.
//! The text is exactly what `Display` of std's and ipnet's types prints.

use std::fmt::{self, Write};
use std::net::{IpAddr, Ipv4Addr};

use ipnet::IpNet;

/// Room for the longest address with a prefix: 39 bytes of IPv6 and "/128".
const CAPACITY: usize = 48;

pub struct Text {
    bytes: [u8; CAPACITY],
    len: usize,
}

impl Text {
    pub fn addr(addr: IpAddr) -> Text {
        let mut text = Text::empty();
        text.push_addr(addr);
        text
    }

    /// `addr/prefix`, as ipnet prints it.
    pub(super) fn net(net: &IpNet) -> Text {
        Text::prefixed(net.addr(), net.prefix_len())
    }

    /// `addr/prefix`.
    pub fn prefixed(addr: IpAddr, prefix_len: u8) -> Text {
        let mut text = Text::empty();
        text.push_addr(addr);
        text.push(b'/');
        text.push_decimal(prefix_len);
        text
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits, dots, colons, hex letters and '/' are ever pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }

    fn empty() -> Text {
        Text {
            bytes: [0; CAPACITY],
            len: 0,
        }
    }

    fn push_addr(&mut self, addr: IpAddr) {
        match addr {
            IpAddr::V4(v4) => self.push_v4(v4),
            // RFC 5952 compression is std's to get right; IPv6 results are the rarer case.
            IpAddr::V6(v6) => {
                let _ = write!(self, "{v6}");
            }
        }
    }

    fn push_v4(&mut self, v4: Ipv4Addr) {
        for (at, octet) in v4.octets().into_iter().enumerate() {
            if at > 0 {
                self.push(b'.');
            }
            self.push_decimal(octet);
        }
    }

    fn push_decimal(&mut self, n: u8) {
        if n >= 100 {
            self.push(b'0' + n / 100);
        }
        if n >= 10 {
            self.push(b'0' + n / 10 % 10);
        }
        self.push(b'0' + n % 10);
    }

    fn push(&mut self, byte: u8) {
        if let Some(slot) = self.bytes.get_mut(self.len) {
            *slot = byte;
            self.len += 1;
        }
    }
}

impl Write for Text {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let end = self.len + s.len();
        let slot = self.bytes.get_mut(self.len..end).ok_or(fmt::Error)?;
        slot.copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv6Addr;

    use super::*;

    #[test]
    fn prints_what_display_prints() {
        let mut v4: Vec<Ipv4Addr> = (0..=255u8)
            .map(|n| Ipv4Addr::new(n, 255 - n, n / 7, 9))
            .collect();
        v4.extend([
            Ipv4Addr::UNSPECIFIED,
            Ipv4Addr::BROADCAST,
            Ipv4Addr::new(10, 0, 100, 99),
        ]);
        let v6: Vec<Ipv6Addr> = [
            "::",
            "::1",
            "fe80::1",
            "2001:db8::8:800:200c:417a",
            "::ffff:10.1.2.3",
            "::10.1.2.3",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
            "1:0:0:1:0:0:0:1",
            "abcd:1234:ffff::cdde",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let addrs = v4
            .into_iter()
            .map(IpAddr::V4)
            .chain(v6.into_iter().map(IpAddr::V6));
        for addr in addrs {
            assert_eq!(Text::addr(addr).as_str(), addr.to_string());
            let max = if addr.is_ipv4() { 32 } else { 128 };
            for prefix in [0, 1, 9, 10, 99, 100, max] {
                if let Ok(net) = IpNet::new(addr, prefix) {
                    assert_eq!(Text::net(&net).as_str(), net.to_string());
                }
            }
        }
    }
}
