//! The inputs and outputs of attach/check/detach, as plain Rust values (the FFI layer converts
//! iSulad's C structs to and from these).

/// A network a container joins besides (or instead of) the default one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ExtraNet {
    pub name: String,
    pub interface: String,
}

/// The annotations the network module understands (JSON texts, as iSulad passes them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Annotations {
    pub port_mappings: Option<String>,
    pub bandwidth: Option<String>,
    pub ip_ranges: Option<String>,
    pub aliases: Option<String>,
}

/// `network_api_conf`: who is attached, where, to which networks, with which arguments.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AttachRequest {
    pub name: String,
    pub namespace: String,
    pub pod_id: String,
    pub netns_path: String,
    pub default_interface: String,
    pub extra_nets: Vec<ExtraNet>,
    pub args: Vec<(String, String)>,
    pub annotations: Annotations,
}

/// `network_api_result`: one attached network. `ips` are "address/prefix"; `gateways` is
/// parallel to `ips` ("" when the plugin gave none).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ApiResult {
    pub name: String,
    pub interface: String,
    pub ips: Vec<String>,
    pub gateways: Vec<String>,
    pub mac: Option<String>,
}
