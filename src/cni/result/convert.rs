//! Converting a result between spec versions as libcni's converters do, dropping what the target
//! version cannot hold.

use super::{plain_route, CniResult, IpConfig, LEGACY_SLOTS};
use crate::cni::error::{Error, Result};
use crate::cni::version::{Family, Version};

impl CniResult {
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
            (_, Family::V040) => self.clone().without_interface_extras(),
            _ => self.clone(),
        };
        out.cni_version = version;
        Ok(out)
    }

    /// What a 0.1.0/0.2.0 result can hold (libcni `convertTo02x`).
    fn legacy_subset(&self) -> Result<CniResult> {
        let out = self.legacy_parts();
        if out.ips.is_empty() {
            return Err(Error::result("cannot convert: no valid IP addresses"));
        }
        Ok(out)
    }

    /// The first address of each family, without its interface index, the routes of those families (only `dst` and
    /// `gw`), and the DNS settings: what a 0.1.0/0.2.0 result's `ip4`/`ip6` objects hold.
    pub(super) fn legacy_parts(&self) -> CniResult {
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
        out
    }

    pub(super) fn without_interface_extras(mut self) -> CniResult {
        for iface in &mut self.interfaces {
            iface.mtu = None;
            iface.socket_path = None;
            iface.pci_id = None;
        }
        self
    }
}
